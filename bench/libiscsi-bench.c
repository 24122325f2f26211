/* SPDX-License-Identifier: MIT */
/*
 * The libiscsi side of bench/host.sh: the same workload as `iscsiroot
 * bench` on libiscsi's asynchronous API, with the same output line. Each
 * slot owns its buffer and hands it over as an iovec (READ16/WRITE16
 * _iov_task, as QEMU drives libiscsi), so libiscsi does no data copies of
 * its own; it still allocates a task and PDUs per command, as it always
 * does. Built by bench/host.sh with gcc; not part of the meson build.
 *
 * usage: libiscsi-bench --portal HOST:PORT --target IQN --lun N
 *        --pattern read|write|randread|randwrite --bs BYTES --qd N
 *        --time SEC [--ramp SEC] [--size BYTES] [--initiator IQN]
 *        libiscsi-bench --portal HOST:PORT --target IQN --lun N
 *        --replay TRACE [--initiator IQN]
 * --replay: `iscsiroot bench --replay`'s job (bench/storm.sh), see
 * replay_main() below; its line is "replay: ..." with login_retries=N.
 * exit: 0 ok, 1 I/O error, 2 bad arguments, 3 login failed
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define NS_PER_S 1000000000ll
#define QD_MAX 256

/* The same buckets as cli/cmd_bench.c, so the percentiles compare:
 * exact below 64 ns, then 64 buckets per power of two. */
#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t n, sum_ns;
};

struct opts {
	const char *portal, *target, *initiator, *pattern, *replay;
	int lun;
	bool write, random;
	uint64_t bs, qd, seconds, ramp, size;
};

enum phase { PHASE_RAMP, PHASE_MEASURE, PHASE_STOP };

struct bench;

struct slot {
	struct bench *b;
	struct scsi_iovec iov;
	int64_t started_ns;
};

struct bench {
	struct iscsi_context *iscsi;
	const struct opts *o;
	uint32_t block_size, io_blocks;
	uint64_t lun_bytes, positions, next_seq, rng;
	unsigned inflight;
	enum phase phase;
	int error;
	struct slot slots[QD_MAX];
	struct hist hist;
	uint64_t ios;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static unsigned hist_index(uint64_t v)
{
	unsigned shift;

	if (v < HIST_SUB)
		return (unsigned)v;
	shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
}

static double hist_value(unsigned idx)
{
	unsigned shift;

	if (idx < HIST_SUB)
		return idx;
	shift = idx / HIST_SUB - 1;
	return (double)((uint64_t)(HIST_SUB + idx % HIST_SUB) << shift) +
	       (double)(1ull << shift) / 2;
}

static double hist_quantile_us(const struct hist *h, double q)
{
	uint64_t rank = (uint64_t)(q * (double)h->n), seen = 0;

	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen > rank)
			return hist_value(i) / 1000;
	}
	return 0;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void slot_done(struct iscsi_context *iscsi, int status, void *data, void *priv);

static void slot_issue(struct bench *b, struct slot *sl)
{
	const struct opts *o = b->o;
	uint64_t pos = o->random ? rng_next(&b->rng) % b->positions
				 : b->next_seq++ % b->positions;
	uint64_t lba = pos * b->io_blocks;
	struct scsi_task *t;

	sl->started_ns = mono_ns();
	if (o->write)
		t = iscsi_write16_iov_task(b->iscsi, o->lun, lba, NULL, (uint32_t)o->bs,
					   (int)b->block_size, 0, 0, 0, 0, 0, slot_done,
					   sl, &sl->iov, 1);
	else
		t = iscsi_read16_iov_task(b->iscsi, o->lun, lba, (uint32_t)o->bs,
					  (int)b->block_size, 0, 0, 0, 0, 0, slot_done,
					  sl, &sl->iov, 1);
	if (!t) {
		fprintf(stderr, "libiscsi-bench: cannot submit: %s\n",
			iscsi_get_error(b->iscsi));
		b->error = 1;
		b->phase = PHASE_STOP;
		return;
	}
	b->inflight++;
}

static void slot_done(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
	struct slot *sl = priv;
	struct bench *b = sl->b;
	int64_t now = mono_ns();

	scsi_free_scsi_task(data);
	b->inflight--;
	if (status != SCSI_STATUS_GOOD) {
		if (!b->error)
			fprintf(stderr, "libiscsi-bench: I/O failed (status 0x%02x): %s\n",
				status, iscsi_get_error(iscsi));
		b->error = 1;
		b->phase = PHASE_STOP;
		return;
	}
	if (b->phase == PHASE_MEASURE) {
		uint64_t ns = (uint64_t)(now - sl->started_ns);
		b->hist.count[hist_index(ns)]++;
		b->hist.n++;
		b->hist.sum_ns += ns;
		b->ios++;
	}
	if (b->phase != PHASE_STOP)
		slot_issue(b, sl);
}

static int service_once(struct bench *b)
{
	struct pollfd pfd = { .fd = iscsi_get_fd(b->iscsi),
			      .events = (short)iscsi_which_events(b->iscsi) };
	int n = poll(&pfd, 1, 100);

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (iscsi_service(b->iscsi, n ? pfd.revents : 0) < 0) {
		fprintf(stderr, "libiscsi-bench: %s\n", iscsi_get_error(b->iscsi));
		return -1;
	}
	return 0;
}

struct result {
	uint64_t ios;
	double seconds, cpu_us;
};

static void run(struct bench *b, struct result *res)
{
	const struct opts *o = b->o;
	int64_t t0 = mono_ns(), now = t0;
	int64_t measure_at = t0 + (int64_t)o->ramp * NS_PER_S;
	int64_t end = measure_at + (int64_t)o->seconds * NS_PER_S;
	double cpu0 = cpu_us();

	b->phase = o->ramp ? PHASE_RAMP : PHASE_MEASURE;
	for (unsigned i = 0; i < o->qd && !b->error; i++)
		slot_issue(b, &b->slots[i]);
	while (!b->error && now < end) {
		if (service_once(b) < 0)
			b->error = 1;
		now = mono_ns();
		if (b->phase == PHASE_RAMP && now >= measure_at) {
			b->phase = PHASE_MEASURE;
			t0 = now;
			cpu0 = cpu_us();
		}
	}
	res->seconds = (double)(now - t0) / NS_PER_S;
	res->cpu_us = cpu_us() - cpu0;
	res->ios = b->ios;
	b->phase = PHASE_STOP;
	for (int64_t give_up = now + 30 * NS_PER_S; b->inflight && mono_ns() < give_up;)
		if (service_once(b) < 0)
			break;
}

static void report(const struct bench *b, const struct result *res)
{
	const struct opts *o = b->o;
	double secs = res->seconds > 0 ? res->seconds : 1e-9;
	double iops = (double)res->ios / secs;
	double avg = b->hist.n ? (double)b->hist.sum_ns / (double)b->hist.n / 1000 : 0;

	printf("bench: pattern=%s bs=%" PRIu64 " qd=%" PRIu64 " ios=%" PRIu64
	       " seconds=%.3f iops=%.0f mib_s=%.1f lat_us_avg=%.1f lat_us_p50=%.1f"
	       " lat_us_p99=%.1f lat_us_p999=%.1f cpu_us_per_io=%.2f cpu_pct=%.1f\n",
	       o->pattern, o->bs, o->qd, res->ios, secs, iops,
	       iops * (double)o->bs / (1 << 20), avg, hist_quantile_us(&b->hist, 0.5),
	       hist_quantile_us(&b->hist, 0.99), hist_quantile_us(&b->hist, 0.999),
	       res->ios ? res->cpu_us / (double)res->ios : 0, res->cpu_us / 1e4 / secs);
}

static int login(struct bench *b)
{
	const struct opts *o = b->o;
	struct scsi_task *t;
	struct scsi_readcapacity16 *rc;

	b->iscsi = iscsi_create_context(o->initiator);
	if (!b->iscsi)
		return -1;
	iscsi_set_targetname(b->iscsi, o->target);
	iscsi_set_session_type(b->iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(b->iscsi, ISCSI_HEADER_DIGEST_NONE);
	if (iscsi_full_connect_sync(b->iscsi, o->portal, o->lun) != 0) {
		fprintf(stderr, "libiscsi-bench: login: %s\n", iscsi_get_error(b->iscsi));
		return -1;
	}
	t = iscsi_readcapacity16_sync(b->iscsi, o->lun);
	rc = t && t->status == SCSI_STATUS_GOOD ? scsi_datain_unmarshall(t) : NULL;
	if (!rc) {
		fprintf(stderr, "libiscsi-bench: READ CAPACITY(16) failed\n");
		return -1;
	}
	b->block_size = rc->block_length;
	b->lun_bytes = (rc->returned_lba + 1) * rc->block_length;
	scsi_free_scsi_task(t);
	return 0;
}

/* Checks sizes against the LUN; allocates the buffers. */
static int setup(struct bench *b)
{
	const struct opts *o = b->o;
	uint64_t size = o->size ? o->size : b->lun_bytes;
	uint8_t *pattern = NULL;

	if (o->bs % b->block_size || size > b->lun_bytes || size < o->bs) {
		fprintf(stderr, "libiscsi-bench: bad --bs or --size for this LUN\n");
		return -1;
	}
	b->io_blocks = (uint32_t)(o->bs / b->block_size);
	b->positions = size / o->bs;
	b->rng = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < o->qd; i++) {
		uint8_t *buf = o->write ? pattern : NULL;
		if (!buf && !(buf = aligned_alloc(4096, (o->bs + 4095) / 4096 * 4096)))
			return -1;
		if (o->write && !pattern) {
			for (size_t j = 0; j < o->bs; j++)
				buf[j] = (uint8_t)(j * 31 + (j >> 12) * 7 + 0x5a);
			pattern = buf;
		}
		b->slots[i] = (struct slot){ .b = b, .iov = { buf, o->bs } };
	}
	return 0;
}

static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-' || v < min || v > max)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: return -1;
	}
	*out = v;
	return *end ? -1 : 0;
}

static int parse_pattern(struct opts *o, const char *arg)
{
	o->pattern = arg;
	o->write = !strcmp(arg, "write") || !strcmp(arg, "randwrite");
	o->random = !strncmp(arg, "rand", 4);
	return o->write || o->random || !strcmp(arg, "read") ? 0 : -1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "portal", 1, NULL, 'p' }, { "target", 1, NULL, 't' },
		{ "lun", 1, NULL, 'l' }, { "initiator", 1, NULL, 'i' },
		{ "pattern", 1, NULL, 'P' }, { "bs", 1, NULL, 'b' },
		{ "qd", 1, NULL, 'q' }, { "time", 1, NULL, 'T' },
		{ "ramp", 1, NULL, 'r' }, { "size", 1, NULL, 's' },
		{ "replay", 1, NULL, 'R' }, { 0 },
	};
	uint64_t lun = 0;
	int opt, r = 0;

	while (r == 0 && (opt = getopt_long(argc, argv, "p:t:l:i:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': o->portal = optarg; break;
		case 't': o->target = optarg; break;
		case 'i': o->initiator = optarg; break;
		case 'l': r = parse_num(optarg, 0, 255, &lun); break;
		case 'P': r = parse_pattern(o, optarg); break;
		case 'b': r = parse_num(optarg, 1, 16 << 20, &o->bs); break;
		case 'q': r = parse_num(optarg, 1, QD_MAX, &o->qd); break;
		case 'T': r = parse_num(optarg, 1, 86400, &o->seconds); break;
		case 'r': r = parse_num(optarg, 0, 3600, &o->ramp); break;
		case 's': r = parse_num(optarg, 1, UINT64_MAX >> 30, &o->size); break;
		case 'R': o->replay = optarg; break;
		default: r = -1;
		}
	}
	o->lun = (int)lun;
	if (r < 0 || optind != argc || !o->portal || !o->target)
		return -1;
	return 0;
}

/* ---- --replay: the reads of a recorded boot (bench/storm-trace.txt,
 * "T_US OFFSET LEN DEPTH" a line), as cli/bench_replay.c replays them:
 * in order, each sent once fewer than DEPTH are in flight. Login and
 * probe do what iscsiroot's daemon does: the first login is retried for
 * 30 s after 0, 250 ms doubling to 5 s (libiscsi has no retry of its
 * own); the probe is INQUIRY, the VPD pages the LUN lists, READ
 * CAPACITY(16) and MODE SENSE(6) (libiscsi's connect has sent the TEST
 * UNIT READY already). */

#define REPLAY_LEN_MAX (16u << 20)
#define LOGIN_RETRY_FOR_NS (30 * NS_PER_S)

struct replay_read {
	uint64_t lba;
	uint32_t len, depth;
};

struct replay {
	struct iscsi_context *iscsi;
	int lun;
	uint32_t block_size;
	uint64_t lun_bytes;
	struct replay_read *reads;
	size_t n, next, done;
	uint64_t bytes;
	uint32_t len_max, depth_max;
	unsigned inflight;
	struct scsi_iovec *bufs;        /* depth_max buffers... */
	unsigned *free_bufs, nfree;     /* ...and a stack of the idle ones */
	int error;
};

struct replay_cmd {
	struct replay *rp;
	unsigned buf;
};

/* The trace's lines as offsets; block size comes later from the LUN. */
static int replay_load(struct replay *rp, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[256];
	size_t cap = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long t, off, len, depth;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%llu %llu %llu %llu", &t, &off, &len, &depth) != 4 ||
		    len == 0 || len > REPLAY_LEN_MAX || depth == 0 || depth > QD_MAX)
			break;
		if (rp->n == cap) {
			cap = cap ? cap * 2 : 1024;
			rp->reads = realloc(rp->reads, cap * sizeof(*rp->reads));
			if (!rp->reads)
				break;
		}
		rp->reads[rp->n++] = (struct replay_read){ off, (uint32_t)len, (uint32_t)depth };
		rp->bytes += len;
		rp->len_max = len > rp->len_max ? (uint32_t)len : rp->len_max;
		rp->depth_max = depth > rp->depth_max ? (uint32_t)depth : rp->depth_max;
	}
	if (!feof(f) || rp->n == 0) {
		fprintf(stderr, "libiscsi-bench: %s: not a trace of \"T_US OFFSET LEN DEPTH\" "
			"lines\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { ns / NS_PER_S, ns % NS_PER_S };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A new context per attempt, as a failed connect leaves one unusable. */
static int replay_login(struct replay *rp, const struct opts *o, unsigned *retries)
{
	int64_t give_up = mono_ns() + LOGIN_RETRY_FOR_NS, delay = 0;

	for (;;) {
		rp->iscsi = iscsi_create_context(o->initiator);
		if (!rp->iscsi)
			return -1;
		iscsi_set_targetname(rp->iscsi, o->target);
		iscsi_set_session_type(rp->iscsi, ISCSI_SESSION_NORMAL);
		iscsi_set_header_digest(rp->iscsi, ISCSI_HEADER_DIGEST_NONE);
		if (iscsi_full_connect_sync(rp->iscsi, o->portal, o->lun) == 0)
			return 0;
		fprintf(stderr, "libiscsi-bench: login: %s\n", iscsi_get_error(rp->iscsi));
		iscsi_destroy_context(rp->iscsi);
		rp->iscsi = NULL;
		delay = delay ? delay * 2 : NS_PER_S / 4;
		delay = delay > 5 * NS_PER_S ? 5 * NS_PER_S : delay;
		if (mono_ns() + delay >= give_up)
			return -1;
		(*retries)++;
		sleep_ns(delay);
	}
}

static int replay_probe(struct replay *rp)
{
	struct scsi_task *t = iscsi_inquiry_sync(rp->iscsi, rp->lun, 0, 0, 96);
	struct scsi_inquiry_supported_pages *pages;
	struct scsi_readcapacity16 *rc;

	if (!t || t->status != SCSI_STATUS_GOOD)
		return -1;
	scsi_free_scsi_task(t);
	t = iscsi_inquiry_sync(rp->iscsi, rp->lun, 1, SCSI_INQUIRY_PAGECODE_SUPPORTED_VPD_PAGES,
			       255);
	pages = t && t->status == SCSI_STATUS_GOOD ? scsi_datain_unmarshall(t) : NULL;
	for (int i = 0; pages && i < pages->num_pages; i++) {
		struct scsi_task *p = iscsi_inquiry_sync(rp->iscsi, rp->lun, 1,
							 pages->pages[i], 255);
		if (p)
			scsi_free_scsi_task(p);
	}
	if (t)
		scsi_free_scsi_task(t);
	t = iscsi_readcapacity16_sync(rp->iscsi, rp->lun);
	rc = t && t->status == SCSI_STATUS_GOOD ? scsi_datain_unmarshall(t) : NULL;
	if (!rc)
		return -1;
	rp->block_size = rc->block_length;
	rp->lun_bytes = (rc->returned_lba + 1) * rc->block_length;
	scsi_free_scsi_task(t);
	t = iscsi_modesense6_sync(rp->iscsi, rp->lun, 0, SCSI_MODESENSE_PC_CURRENT,
				  SCSI_MODEPAGE_RETURN_ALL_PAGES, 0, 192);
	if (t)
		scsi_free_scsi_task(t);
	return 0;
}

/* Offsets to LBAs; every read whole blocks inside the LUN. */
static int replay_check(struct replay *rp)
{
	for (size_t i = 0; i < rp->n; i++) {
		struct replay_read *r = &rp->reads[i];
		if (r->lba % rp->block_size || r->len % rp->block_size ||
		    r->lba + r->len > rp->lun_bytes) {
			fprintf(stderr, "libiscsi-bench: read %zu does not fit the LUN\n", i + 1);
			return -1;
		}
		r->lba /= rp->block_size;
	}
	rp->bufs = calloc(rp->depth_max, sizeof(*rp->bufs));
	rp->free_bufs = calloc(rp->depth_max, sizeof(*rp->free_bufs));
	if (!rp->bufs || !rp->free_bufs)
		return -1;
	for (unsigned i = 0; i < rp->depth_max; i++) {
		rp->bufs[i].iov_base = aligned_alloc(4096, (rp->len_max + 4095u) / 4096u * 4096u);
		if (!rp->bufs[i].iov_base)
			return -1;
		rp->free_bufs[rp->nfree++] = i;
	}
	return 0;
}

static void replay_pump(struct replay *rp);

static void replay_done(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
	struct replay_cmd *cmd = priv;
	struct replay *rp = cmd->rp;

	scsi_free_scsi_task(data);
	rp->inflight--;
	rp->done++;
	rp->free_bufs[rp->nfree++] = cmd->buf;
	free(cmd);
	if (status != SCSI_STATUS_GOOD) {
		if (!rp->error)
			fprintf(stderr, "libiscsi-bench: READ failed (status 0x%02x): %s\n",
				status, iscsi_get_error(iscsi));
		rp->error = 1;
		return;
	}
	replay_pump(rp);
}

static void replay_pump(struct replay *rp)
{
	while (!rp->error && rp->next < rp->n && rp->nfree &&
	       rp->inflight < rp->reads[rp->next].depth) {
		const struct replay_read *r = &rp->reads[rp->next++];
		struct replay_cmd *cmd = malloc(sizeof(*cmd));
		struct scsi_iovec *iov;

		if (!cmd) {
			rp->error = 1;
			return;
		}
		*cmd = (struct replay_cmd){ rp, rp->free_bufs[--rp->nfree] };
		iov = &rp->bufs[cmd->buf];
		iov->iov_len = r->len;
		if (!iscsi_read10_iov_task(rp->iscsi, rp->lun, (uint32_t)r->lba, r->len,
					   (int)rp->block_size, 0, 0, 0, 0, 0, replay_done,
					   cmd, iov, 1)) {
			fprintf(stderr, "libiscsi-bench: cannot submit: %s\n",
				iscsi_get_error(rp->iscsi));
			free(cmd);
			rp->error = 1;
			return;
		}
		rp->inflight++;
	}
}

static int replay_service(struct replay *rp)
{
	struct pollfd pfd = { .fd = iscsi_get_fd(rp->iscsi),
			      .events = (short)iscsi_which_events(rp->iscsi) };
	int n = poll(&pfd, 1, 100);

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (iscsi_service(rp->iscsi, n ? pfd.revents : 0) < 0) {
		fprintf(stderr, "libiscsi-bench: %s\n", iscsi_get_error(rp->iscsi));
		return -1;
	}
	return 0;
}

static int replay_main(const struct opts *o)
{
	struct replay rp = { .lun = o->lun };
	unsigned retries = 0;
	int64_t t0, t_login, t_probe, t_run;
	double cpu0;

	if (replay_load(&rp, o->replay) < 0)
		return 2;
	t0 = mono_ns();
	cpu0 = cpu_us();
	if (replay_login(&rp, o, &retries) < 0) {
		fprintf(stderr, "libiscsi-bench: login failed after %u retries\n", retries);
		return 3;
	}
	t_login = mono_ns();
	if (replay_probe(&rp) < 0 || replay_check(&rp) < 0) {
		fprintf(stderr, "libiscsi-bench: the probe failed\n");
		return 1;
	}
	t_probe = t_run = mono_ns();
	replay_pump(&rp);
	while (rp.done < rp.n && !(rp.error && rp.inflight == 0))
		if (replay_service(&rp) < 0)
			rp.error = 1;
	if (!rp.error)
		printf("replay: reads=%zu bytes=%" PRIu64 " depth_max=%u login_ms=%.1f "
		       "probe_ms=%.1f replay_ms=%.1f total_ms=%.1f cpu_ms=%.1f "
		       "login_retries=%u\n", rp.n, rp.bytes, rp.depth_max,
		       (double)(t_login - t0) / 1e6, (double)(t_probe - t_login) / 1e6,
		       (double)(mono_ns() - t_run) / 1e6, (double)(mono_ns() - t0) / 1e6,
		       (cpu_us() - cpu0) / 1e3, retries);
	iscsi_logout_sync(rp.iscsi);
	iscsi_destroy_context(rp.iscsi);
	return rp.error;
}

int main(int argc, char **argv)
{
	struct opts o = { .initiator = "iqn.2025-01.org.iscsiroot:libiscsi-bench",
			  .pattern = "read", .bs = 4096, .qd = 1, .seconds = 5 };
	struct bench *b = calloc(1, sizeof(*b));
	struct result res = { 0 };

	if (!b)
		return 1;
	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: libiscsi-bench --portal HOST:PORT --target IQN "
			"--lun N --pattern P --bs BYTES --qd N --time SEC [--ramp SEC] "
			"[--size BYTES] [--initiator IQN]\n       libiscsi-bench --portal "
			"HOST:PORT --target IQN --lun N --replay TRACE [--initiator IQN]\n");
		return 2;
	}
	if (o.replay) {
		free(b);
		return replay_main(&o);
	}
	b->o = &o;
	if (login(b) < 0)
		return 3;
	if (setup(b) < 0)
		return 2;
	run(b, &res);
	if (!b->error)
		report(b, &res);
	iscsi_logout_sync(b->iscsi);
	iscsi_destroy_context(b->iscsi);
	return b->error;
}
