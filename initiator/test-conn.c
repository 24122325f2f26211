/* SPDX-License-Identifier: MIT */
/*
 * The receive framing machine (conn.c) against crafted target streams on
 * a socketpair: every payload byte must arrive where the header says, in
 * any chunking of the stream (byte by byte, random splits, whole streams,
 * splits around every boundary), with and without digests, whatever the
 * owner predicts (expect_data: right, too long, too short, another task,
 * another offset, nothing); and a task's buffer may change only in ranges
 * that were delivered to it or predicted for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "crc32c.h"
#include "test.h"
#include "util.h"

#define NTASKS 2
#define TASK_LEN (1024 * 1024)
#define STREAM_MAX (TASK_LEN * 2 + 65536)
#define PDUS_MAX 64
#define SENTINEL 0xa5
#define REUSED 0x5a
#define ITT_BASE 0x10000

/* Where a test PDU's payload belongs: a task's buffer or nowhere. */
enum { TASK_A, TASK_B, NO_TASK };

struct pdu_spec {
	uint8_t opcode;
	uint8_t flags;
	uint8_t task;           /* TASK_A, TASK_B or NO_TASK */
	uint8_t ahs_words;      /* AHS length in 4-byte words */
	uint32_t offset;
	uint32_t len;
};

struct scenario {
	const char *name;
	uint32_t task_len[NTASKS];
	struct pdu_spec pdus[8];
	unsigned npdus;
	bool small;             /* cheap enough for byte-by-byte chunking */
};

struct task_buf {
	uint8_t buf[TASK_LEN];
	uint8_t want[TASK_LEN];
	uint8_t delivered[TASK_LEN];
	uint8_t predicted[TASK_LEN];
	uint32_t len;
	uint32_t received;      /* Data-In bytes delivered, as task.c counts */
	uint32_t watched;       /* bytes set up and checked: len and a margin */
	bool done;              /* answered: its caller may reuse buf */
};

/* What the owner's expect_data answers. */
enum pred {
	PRED_NONE,              /* no expect_data at all */
	PRED_NEXT,              /* as task.c: the tasks still waiting */
	PRED_EXACT,             /* the next PDU's own length, when it is Data-In */
	PRED_SHORT,             /* 100 bytes: shorter than most payloads */
	PRED_OTHER_TASK,        /* the tasks in the wrong order */
	PRED_OTHER_OFFSET,      /* 512 bytes further on */
	PRED_OVERLAP,           /* a range that overlaps an earlier one */
	PRED_COUNT,
};

struct owner {
	struct conn c;
	enum pred pred;
	struct task_buf task[NTASKS];
	/* the stream and what each PDU in it must deliver */
	uint8_t stream[STREAM_MAX];
	size_t stream_len;
	size_t bounds[PDUS_MAX * 5];
	unsigned nbounds;
	const struct pdu_spec *exp;
	uint8_t *internal_want[8];
	unsigned nexp, ndone;
	bool failed;
	int err;
};

static uint32_t rng_state = 1;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint32_t itt_of(unsigned task)
{
	return ITT_BASE + task;
}

static void put_le32_test(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- The owner: conn_ops as the session implements them */

static void on_connected(void *owner)
{
	(void)owner;
}

static int on_header(void *owner, const struct iscsi_hdr *h, uint8_t **dst)
{
	struct owner *o = owner;
	unsigned t = h->itt - ITT_BASE;

	if (h->opcode != ISCSI_OP_DATA_IN)
		return 0;
	if (t >= NTASKS || h->u.data_in.offset > o->task[t].len ||
	    h->data_len > o->task[t].len - h->u.data_in.offset)
		return -EPROTO;
	*dst = o->task[t].buf + h->u.data_in.offset;
	return 0;
}

/* The task is answered: its caller owns the buffer again and fills what
 * did not arrive with its own bytes, which nothing may overwrite now. */
static void task_done(struct task_buf *tb)
{
	tb->done = true;
	for (uint32_t i = 0; i < tb->watched; i++)
		if (!tb->delivered[i]) {
			tb->buf[i] = REUSED;
			tb->predicted[i] = 0;
			tb->want[i] = REUSED;
			tb->delivered[i] = 1;
		}
}

static void on_pdu(void *owner, const struct iscsi_hdr *h, uint8_t *data)
{
	struct owner *o = owner;
	const struct pdu_spec *e;

	CHECK(o->ndone < o->nexp);
	if (o->ndone >= o->nexp)
		return;
	e = &o->exp[o->ndone];
	CHECK_EQ(h->opcode, e->opcode);
	CHECK_EQ(h->data_len, e->len);
	if (e->task != NO_TASK && e->opcode == ISCSI_OP_DATA_IN) {
		struct task_buf *t = &o->task[e->task];
		CHECK_EQ(h->itt, itt_of(e->task));
		CHECK_EQ(h->u.data_in.offset, e->offset);
		CHECK(data == t->buf + e->offset);
		CHECK(memcmp(t->buf + e->offset, t->want + e->offset, e->len) == 0);
		memset(t->delivered + e->offset, 1, e->len);
		t->received += e->len;
	} else if (e->len) {
		CHECK(memcmp(data, o->internal_want[o->ndone], e->len) == 0);
	}
	if (e->task != NO_TASK && (e->opcode == ISCSI_OP_SCSI_RSP ||
				   (h->flags & ISCSI_FLAG_DATA_STATUS)))
		task_done(&o->task[e->task]);
	o->ndone++;
}

static void on_failed(void *owner, int err, const char *why)
{
	struct owner *o = owner;

	(void)why;
	o->failed = true;
	o->err = err;
}

/* One range for task t as the prediction mode says, or 0. */
static unsigned predict_task(struct owner *o, unsigned t, bool first, struct iovec *r)
{
	struct task_buf *tb = &o->task[t];
	uint32_t off = tb->received, rem = tb->len - off;

	switch (o->pred) {
	case PRED_EXACT:
		if (first && o->ndone < o->nexp && o->exp[o->ndone].opcode == ISCSI_OP_DATA_IN)
			rem = MIN(rem, o->exp[o->ndone].len);
		break;
	case PRED_SHORT:
		rem = MIN(rem, 100);
		break;
	case PRED_OTHER_OFFSET:
		if (rem <= 512)
			return 0;
		off += 512;
		rem -= 512;
		break;
	default:
		break;
	}
	rem = MIN(rem, 262144);
	if (rem == 0)
		return 0;
	*r = (struct iovec){ tb->buf + off, rem };
	memset(tb->predicted + off, 1, rem);
	return 1;
}

/* As task.c: the tasks still waiting for data, in order (reversed for
 * PRED_OTHER_TASK; PRED_OVERLAP gives the first range twice, which
 * conn.c must not use). */
static unsigned on_expect_data(void *owner, struct iovec *ranges, unsigned max)
{
	struct owner *o = owner;
	unsigned n = 0;

	for (unsigned i = 0; i < NTASKS && n < max; i++) {
		unsigned t = o->pred == PRED_OTHER_TASK ? NTASKS - 1 - i : i;
		struct task_buf *tb = &o->task[t];
		if (!tb->done && tb->received < tb->len)
			n += predict_task(o, t, n == 0, &ranges[n]);
	}
	if (o->pred == PRED_OVERLAP && n > 0 && n < max) {
		ranges[n] = ranges[0];
		ranges[n].iov_len = MAX(ranges[0].iov_len / 2, 1u);
		n++;
	}
	return n;
}

static const struct conn_ops test_ops = {
	.connected = on_connected,
	.header = on_header,
	.pdu = on_pdu,
	.failed = on_failed,
	.expect_data = on_expect_data,
};

static const struct conn_ops test_ops_no_prediction = {
	.connected = on_connected,
	.header = on_header,
	.pdu = on_pdu,
	.failed = on_failed,
};

/* ---- Crafting the stream (RFC 7143 §11.7 Data-In, §11.4 SCSI Response,
 * §11.19 NOP-In; only the fields conn.c and the owner look at) */

static void mark(struct owner *o)
{
	o->bounds[o->nbounds++] = o->stream_len;
}

static void append(struct owner *o, const void *p, size_t len)
{
	memcpy(o->stream + o->stream_len, p, len);
	o->stream_len += len;
}

static void add_pdu(struct owner *o, const struct pdu_spec *p, unsigned idx,
		    bool hd, bool dd)
{
	uint8_t bhs[ISCSI_BHS_LEN + ISCSI_MAX_AHS_LEN] = { 0 }, crc[4], pad[3] = { 0 };
	size_t hlen = ISCSI_BHS_LEN + p->ahs_words * 4u;
	const uint8_t *data = NULL;

	bhs[0] = p->opcode;
	bhs[1] = p->flags | ISCSI_FLAG_FINAL;
	bhs[4] = p->ahs_words;
	put_be24(bhs + 5, p->len);
	put_be32(bhs + 16, p->task == NO_TASK ? ISCSI_RESERVED_TAG : itt_of(p->task));
	put_be32(bhs + 20, ISCSI_RESERVED_TAG);
	put_be32(bhs + 40, p->offset);
	for (unsigned i = 0; i < p->ahs_words * 4u; i++)
		bhs[ISCSI_BHS_LEN + i] = (uint8_t)rng();
	mark(o);
	append(o, bhs, hlen);
	if (hd) {
		put_le32_test(crc, crc32c(0, bhs, hlen));
		mark(o);
		append(o, crc, 4);
	}
	if (p->len == 0)
		return;
	if (p->task != NO_TASK && p->opcode == ISCSI_OP_DATA_IN) {
		data = o->task[p->task].want + p->offset;
	} else {
		uint8_t *w = malloc(p->len);
		for (uint32_t i = 0; i < p->len; i++)
			w[i] = (uint8_t)rng();
		o->internal_want[idx] = w;
		data = w;
	}
	mark(o);
	append(o, data, p->len);
	mark(o);
	append(o, pad, pdu_pad(p->len));
	if (dd) {
		uint32_t c = crc32c(0, data, p->len);
		put_le32_test(crc, crc32c(c, pad, pdu_pad(p->len)));
		mark(o);
		append(o, crc, 4);
	}
}

static void free_internal(struct owner *o)
{
	for (unsigned i = 0; i < ARRAY_SIZE(o->internal_want); i++) {
		free(o->internal_want[i]);
		o->internal_want[i] = NULL;
	}
}

static void build(struct owner *o, const struct scenario *sc, bool hd, bool dd)
{
	free_internal(o);
	for (unsigned t = 0; t < NTASKS; t++) {
		struct task_buf *tb = &o->task[t];
		tb->len = sc->task_len[t];
		tb->watched = MIN(TASK_LEN, tb->len + 4096);
		memset(tb->buf, SENTINEL, tb->watched);
		memset(tb->delivered, 0, tb->watched);
		memset(tb->predicted, 0, tb->watched);
		tb->received = 0;
		tb->done = false;
		for (uint32_t i = 0; i < tb->len; i++)
			tb->want[i] = (uint8_t)rng();
	}
	o->stream_len = 0;
	o->nbounds = 0;
	for (unsigned i = 0; i < sc->npdus; i++)
		add_pdu(o, &sc->pdus[i], i, hd, dd);
	mark(o);
	o->exp = sc->pdus;
	o->nexp = sc->npdus;
	o->ndone = 0;
}

/* ---- Feeding it */

/* Lets the connection take everything written so far. */
static void drain(struct ev_loop *loop, struct owner *o, int fd)
{
	for (int i = 0; i < 10000 && !o->failed; i++) {
		int pending = 0;
		if (ioctl(fd, FIONREAD, &pending) < 0 || pending == 0)
			return;
		ev_run_once(loop, 0);
	}
}

static void send_chunk(struct ev_loop *loop, struct owner *o, int wfd, int rfd,
		       size_t from, size_t to)
{
	while (from < to && !o->failed) {
		ssize_t n = write(wfd, o->stream + from, to - from);
		if (n < 0) {
			CHECK(errno == EAGAIN);
			if (errno != EAGAIN)
				return;
			ev_run_once(loop, 0);
			continue;
		}
		from += (size_t)n;
	}
	drain(loop, o, rfd);
}

enum chunking { WHOLE, BYTES, RANDOM, SPLIT_AT };

static void feed(struct ev_loop *loop, struct owner *o, int wfd, int rfd,
		 enum chunking how, size_t split)
{
	size_t pos = 0;

	switch (how) {
	case WHOLE:
		send_chunk(loop, o, wfd, rfd, 0, o->stream_len);
		break;
	case BYTES:
		for (; pos < o->stream_len; pos++)
			send_chunk(loop, o, wfd, rfd, pos, pos + 1);
		break;
	case RANDOM:
		while (pos < o->stream_len) {
			size_t n = 1 + rng() % (rng() % 2 ? 64 : 9000);
			n = MIN(n, o->stream_len - pos);
			send_chunk(loop, o, wfd, rfd, pos, pos + n);
			pos += n;
		}
		break;
	case SPLIT_AT:
		send_chunk(loop, o, wfd, rfd, 0, split);
		send_chunk(loop, o, wfd, rfd, split, o->stream_len);
		break;
	}
}

/* Every delivered byte is right; every byte neither delivered nor
 * predicted is untouched. */
static void check_buffers(struct owner *o)
{
	for (unsigned t = 0; t < NTASKS; t++) {
		struct task_buf *tb = &o->task[t];
		size_t bad = 0;
		for (uint32_t i = 0; i < tb->watched; i++) {
			uint8_t want = tb->delivered[i] ? tb->want[i] : SENTINEL;
			if (tb->delivered[i] || !tb->predicted[i])
				bad += tb->buf[i] != want;
		}
		CHECK_EQ(bad, 0);
	}
}

/* Lets a whole 1 MiB stream wait in the socket, so that reads as large
 * as conn.c asks for happen (as root; else the default ~200 KiB). */
static void big_socket_buffer(int fd)
{
	int size = 4 * 1024 * 1024;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static struct owner *owner_new(void)
{
	struct owner *o = calloc(1, sizeof(*o));

	if (!o)
		abort();
	return o;
}

static void run_one(struct owner *o, const struct scenario *sc, bool hd, bool dd,
		    enum chunking how, size_t split)
{
	struct ev_loop loop;
	int sv[2];

	CHECK_EQ(ev_loop_init(&loop), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	big_socket_buffer(sv[1]);
	CHECK_EQ(conn_init(&o->c, &loop, o->pred == PRED_NONE ?
			   &test_ops_no_prediction : &test_ops, o), 0);
	CHECK_EQ(conn_adopt(&o->c, sv[0]), 0);
	conn_set_digests(&o->c, hd, dd);
	o->failed = false;
	build(o, sc, hd, dd);
	int failures = test_failures;
	feed(&loop, o, sv[1], sv[0], how, split);
	CHECK(!o->failed);
	CHECK_EQ(o->ndone, o->nexp);
	check_buffers(o);
	if (test_failures != failures)
		fprintf(stderr, "  in: %s, hd %d dd %d, prediction %d, chunking %d, split %zu: "
			"%u of %u PDUs, err %d\n", sc->name, hd, dd, o->pred, how, split,
			o->ndone, o->nexp, o->err);
	free_internal(o);
	conn_destroy(&o->c);
	close(sv[1]);
	ev_loop_close(&loop);
}

#define DATA_IN(t, off, n, fl) { .opcode = ISCSI_OP_DATA_IN, .flags = (fl), \
				  .task = (t), .offset = (off), .len = (n) }
#define S ISCSI_FLAG_DATA_STATUS

static const struct scenario scenarios[] = {
	{ "QD1 4 KiB read", { 4096, 0 }, { DATA_IN(TASK_A, 0, 4096, S) }, 1, true },
	{ "two Data-In, then a SCSI Response", { 8192, 0 },
	  { DATA_IN(TASK_A, 0, 4096, 0), DATA_IN(TASK_A, 4096, 4096, 0),
	    { .opcode = ISCSI_OP_SCSI_RSP, .task = TASK_A } }, 3, true },
	{ "NOP-In with ping data before the Data-In", { 4096, 0 },
	  { { .opcode = ISCSI_OP_NOP_IN, .task = NO_TASK, .len = 9 },
	    DATA_IN(TASK_A, 0, 4096, S) }, 2, true },
	{ "padded segments of two tasks, sense data", { 1001, 4096 },
	  { DATA_IN(TASK_A, 0, 1001, S), DATA_IN(TASK_B, 0, 37, 0),
	    { .opcode = ISCSI_OP_SCSI_RSP, .task = NO_TASK, .len = 22 } }, 3, true },
	{ "Data-In without data, then data", { 4096, 0 },
	  { DATA_IN(TASK_A, 0, 0, 0), DATA_IN(TASK_A, 0, 4093, S) }, 2, true },
	{ "AHS before the data", { 4096, 0 },
	  { { .opcode = ISCSI_OP_DATA_IN, .flags = S, .task = TASK_A, .ahs_words = 3,
	      .len = 4096 },
	    DATA_IN(TASK_B, 0, 0, S) }, 2, true },
	{ "QD2 in order", { 4096, 8192 },
	  { DATA_IN(TASK_A, 0, 4096, S), DATA_IN(TASK_B, 0, 8192, S) }, 2, true },
	{ "an answer without data completes a task whose range is predicted",
	  { 4096, 4096 },
	  { DATA_IN(TASK_A, 0, 2048, 0), { .opcode = ISCSI_OP_SCSI_RSP, .task = TASK_B },
	    { .opcode = ISCSI_OP_NOP_IN, .task = NO_TASK, .len = 5000 },
	    DATA_IN(TASK_A, 2048, 2048, S) }, 4, true },
	{ "a short final Data-In, then more", { 4096, 4096 },
	  { DATA_IN(TASK_A, 0, 1000, S), DATA_IN(TASK_B, 0, 4096, S) }, 2, true },
	{ "QD2: two reads answered back to back", { 4096, 4096 },
	  { DATA_IN(TASK_B, 0, 4096, S), DATA_IN(TASK_A, 0, 4096, S) }, 2, true },
	{ "64 KiB in one segment, then small ones", { 65536, 4096 },
	  { DATA_IN(TASK_A, 0, 65536, S), DATA_IN(TASK_B, 0, 512, 0),
	    DATA_IN(TASK_B, 512, 3584, S) }, 3, false },
	{ "two 256 KiB reads: more than rbuf holds", { 262144, 262144 },
	  { DATA_IN(TASK_A, 0, 262144, S), DATA_IN(TASK_B, 0, 262144, S) }, 2, false },
	{ "1 MiB in 256 KiB segments", { TASK_LEN, 0 },
	  { DATA_IN(TASK_A, 0, 262144, 0), DATA_IN(TASK_A, 262144, 262144, 0),
	    DATA_IN(TASK_A, 524288, 262144, 0), DATA_IN(TASK_A, 786432, 262144, S) },
	  4, false },
};

static void run_scenario(struct owner *o, const struct scenario *sc, bool hd, bool dd)
{
	run_one(o, sc, hd, dd, WHOLE, 0);
	for (int i = 0; i < (sc->small ? 4 : 1); i++)
		run_one(o, sc, hd, dd, RANDOM, 0);
	/* Every chunking for the predictions whose paths differ (none, in
	 * place, partly in place, all misplaced); whole and random streams
	 * for the rest, whose paths are among those. */
	if (!sc->small || o->pred == PRED_EXACT || o->pred == PRED_OTHER_OFFSET ||
	    o->pred == PRED_OVERLAP)
		return;
	/* Byte by byte and split around every boundary with no digests and
	 * with both: every kind of stage boundary, at half the time. */
	if (hd != dd)
		return;
	run_one(o, sc, hd, dd, BYTES, 0);
	/* the stream is rebuilt identically each time: same layout */
	build(o, sc, hd, dd);
	size_t nb = o->nbounds, bounds[PDUS_MAX * 5];
	memcpy(bounds, o->bounds, sizeof(bounds));
	for (size_t b = 0; b < nb; b++)
		for (int d = -2; d <= 2; d++) {
			long at = (long)bounds[b] + d;
			if (at > 0 && (size_t)at < o->stream_len)
				run_one(o, sc, hd, dd, SPLIT_AT, (size_t)at);
		}
}

static void test_streams(void)
{
	struct owner *o = owner_new();

	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++)
		for (int dig = 0; dig < 4; dig++)
			for (o->pred = 0; o->pred < PRED_COUNT; o->pred++)
				run_scenario(o, &scenarios[i], dig & 1, dig & 2);
	free(o);
}

/* A flipped bit in a payload or a header fails the connection. */
static void test_digest_errors(void)
{
	struct owner *o = owner_new();
	const struct scenario *sc = &scenarios[0];
	struct ev_loop loop;
	int sv[2];

	for (int which = 0; which < 2; which++) {
		CHECK_EQ(ev_loop_init(&loop), 0);
		CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
		o->pred = PRED_NEXT;
		CHECK_EQ(conn_init(&o->c, &loop, &test_ops, o), 0);
		CHECK_EQ(conn_adopt(&o->c, sv[0]), 0);
		conn_set_digests(&o->c, true, true);
		o->failed = false;
		build(o, sc, true, true);
		o->stream[which ? 5 : ISCSI_BHS_LEN + 4 + 100] ^= 0x10;
		feed(&loop, o, sv[1], sv[0], WHOLE, 0);
		CHECK(o->failed);
		CHECK_EQ(o->err, which ? -EBADMSG : -EILSEQ);
		CHECK_EQ(o->ndone, 0);
		conn_destroy(&o->c);
		close(sv[1]);
		ev_loop_close(&loop);
	}
	free(o);
}

int main(void)
{
	test_streams();
	test_digest_errors();
	return test_report("conn");
}
