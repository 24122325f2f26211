/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the receive framing machine (conn.c) with a hostile target's
 * byte stream over a socketpair: any header, length, AHS, digest or
 * padding, in any chunking, while the owner predicts where payloads go
 * (expect_data). Payloads may only land inside the buffers the owner
 * names: ASan catches any byte written elsewhere.
 *
 * Input: byte 0 = digests (bit 0 header, bit 1 data) and prediction mode
 * (bits 2-3: none, the tasks in order, reversed, 100-byte ranges);
 * byte 1 = chunking seed; the rest is the stream.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NTASKS 2
#define TASK_LEN 65536

struct fuzz_owner {
	uint8_t *buf[NTASKS];
	uint32_t received[NTASKS];
	unsigned mode;
	bool failed;
};

/* As task.c: Data-In for a known task at an offset inside its buffer. */
static int on_header(void *owner, const struct iscsi_hdr *h, uint8_t **dst)
{
	struct fuzz_owner *o = owner;
	uint32_t off;

	if (h->opcode != ISCSI_OP_DATA_IN || !h->data_len)
		return 0;
	if (h->itt >= NTASKS)
		return -EPROTO;
	off = h->u.data_in.offset;
	if (off > TASK_LEN || h->data_len > TASK_LEN - off)
		return -EPROTO;
	*dst = o->buf[h->itt] + off;
	return 0;
}

static void on_pdu(void *owner, const struct iscsi_hdr *h, uint8_t *data)
{
	struct fuzz_owner *o = owner;

	(void)data;
	if (h->opcode == ISCSI_OP_DATA_IN && h->itt < NTASKS &&
	    h->u.data_in.offset + h->data_len > o->received[h->itt])
		o->received[h->itt] = h->u.data_in.offset + h->data_len;
}

static void on_failed(void *owner, int err, const char *why)
{
	struct fuzz_owner *o = owner;

	(void)err;
	(void)why;
	o->failed = true;
}

static void on_connected(void *owner)
{
	(void)owner;
}

static unsigned on_expect_data(void *owner, struct iovec *ranges, unsigned max)
{
	struct fuzz_owner *o = owner;
	unsigned n = 0;

	for (unsigned i = 0; i < NTASKS && n < max; i++) {
		unsigned t = o->mode == 2 ? NTASKS - 1 - i : i;
		uint32_t rem;

		if (o->received[t] >= TASK_LEN)
			continue;
		rem = TASK_LEN - o->received[t];
		if (o->mode == 3)
			rem = MIN(rem, 100u);
		ranges[n++] = (struct iovec){ o->buf[t] + o->received[t], rem };
	}
	return n;
}

static const struct conn_ops ops = {
	.connected = on_connected,
	.header = on_header,
	.pdu = on_pdu,
	.failed = on_failed,
	.expect_data = on_expect_data,
};

static const struct conn_ops ops_no_prediction = {
	.connected = on_connected,
	.header = on_header,
	.pdu = on_pdu,
	.failed = on_failed,
};

/* Writes the stream in chunks of 1..64 bytes or whole, as the seed says,
 * letting the connection run after each. */
static void feed(struct ev_loop *loop, struct fuzz_owner *o, int fd, const uint8_t *p,
		 size_t len, unsigned seed)
{
	size_t at = 0;

	while (at < len && !o->failed) {
		size_t n = seed & 1 ? len - at : MIN(len - at, (size_t)(seed % 64) + 1);
		ssize_t w = write(fd, p + at, n);

		if (w <= 0)
			break;
		at += (size_t)w;
		seed = seed * 1103515245u + 12345u;
		ev_run_once(loop, 0);
	}
	for (int i = 0; i < 4 && !o->failed; i++)
		ev_run_once(loop, 0);
}

static void run(const uint8_t *data, size_t size, struct fuzz_owner *o, int sv[2])
{
	struct ev_loop loop;
	struct conn c;

	if (ev_loop_init(&loop) < 0)
		return;
	if (conn_init(&c, &loop, o->mode ? &ops : &ops_no_prediction, o) == 0) {
		int r = conn_adopt(&c, sv[0]);
		if (c.fd == sv[0])
			sv[0] = -1;     /* the connection's now: it closes it */
		if (r == 0) {
			conn_set_digests(&c, data[0] & 1, data[0] & 2);
			feed(&loop, o, sv[1], data + 2, size - 2, data[1]);
		}
		conn_destroy(&c);
	}
	ev_loop_close(&loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_owner o = { .mode = size ? (data[0] >> 2) & 3 : 0 };
	int sv[2];

	if (size < 2 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return 0;
	for (unsigned i = 0; i < NTASKS; i++)
		o.buf[i] = malloc(TASK_LEN);
	if (o.buf[0] && o.buf[1])
		run(data, size, &o, sv);
	for (unsigned i = 0; i < NTASKS; i++)
		free(o.buf[i]);
	if (sv[0] >= 0)
		close(sv[0]);
	close(sv[1]);
	return 0;
}
