/* SPDX-License-Identifier: MIT */
/* bench: keeps a fixed number of READ or WRITE commands in flight for a
 * while, then reports throughput, latency percentiles and the CPU time
 * each I/O cost this process. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "common.h"

#define BENCH_QD_MAX 256                /* the session's task slots */
#define BENCH_BS_MAX (16u << 20)
#define BENCH_MEM_MAX (1ull << 30)      /* read buffers: qd x bs */
#define NS_PER_S 1000000000ll
#define DRAIN_TIMEOUT_MS 30000

/* Latencies go into a log-linear histogram: exact below 64 ns, then 64
 * buckets per power of two (under 1.6 % error), fixed size, no malloc. */
#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t n;
	uint64_t sum_ns;
};

struct pattern {
	const char *name;
	bool write;
	bool random;
};

static const struct pattern patterns[] = {
	{ "read", false, false },
	{ "write", true, false },
	{ "randread", false, true },
	{ "randwrite", true, true },
};

struct bench_opts {
	const struct pattern *pattern;
	uint64_t bs;
	uint64_t qd;
	uint64_t seconds;
	uint64_t ramp;
	uint64_t size;                  /* 0: the whole LUN */
	const char *replay;             /* --replay TRACE, bench_replay.c */
};

enum bench_phase { PHASE_RAMP, PHASE_MEASURE, PHASE_STOP };

struct bench;

struct bench_slot {
	struct iscsi_task task;
	struct bench *b;
	uint8_t *buf;                   /* reads land here; writes share one */
	int64_t started_ns;
};

struct bench {
	struct cli_iscsi *c;
	struct iscsi_disk disk;
	const struct pattern *pattern;
	uint32_t io_blocks;             /* logical blocks per command */
	uint64_t positions;             /* I/O-sized positions in the range */
	uint64_t next_seq;
	uint64_t rng;
	unsigned qd, inflight;
	enum bench_phase phase;
	int error;                      /* an exit code once something failed */
	struct bench_slot *slots;
	uint8_t *write_buf;
	struct hist hist;
	uint64_t ios;
};

struct bench_result {
	uint64_t ios;
	double seconds;
	double cpu_us;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* User plus system time of this process, in microseconds. */
static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* ---- Histogram */

static unsigned hist_index(uint64_t v)
{
	unsigned shift;

	if (v < HIST_SUB)
		return (unsigned)v;
	shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
}

/* The middle of a bucket, as the value it stands for. */
static double hist_value(unsigned idx)
{
	unsigned shift;

	if (idx < HIST_SUB)
		return idx;
	shift = idx / HIST_SUB - 1;
	return (double)((uint64_t)(HIST_SUB + idx % HIST_SUB) << shift) +
	       (double)(1ull << shift) / 2;
}

static void hist_add(struct hist *h, uint64_t ns)
{
	h->count[hist_index(ns)]++;
	h->n++;
	h->sum_ns += ns;
}

/* The value below which a fraction q of the samples fall, in µs. */
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

/* ---- The I/O loop */

/* xorshift64*: cheap, and the same sequence on every run. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void slot_done(struct iscsi_task *t);

static void slot_issue(struct bench *b, struct bench_slot *sl)
{
	uint64_t pos = b->pattern->random ? rng_next(&b->rng) % b->positions
					  : b->next_seq++ % b->positions;
	bool write = b->pattern->write;
	int r;

	iscsi_disk_rw(&b->disk, &sl->task, write, pos * b->io_blocks, b->io_blocks,
		      write ? b->write_buf : sl->buf, false);
	sl->task.done = slot_done;
	sl->task.ctx = sl;
	sl->started_ns = mono_ns();
	r = iscsi_submit(b->c->session, &sl->task);
	if (r < 0) {
		log_err("cannot submit: %s", strerror(-r));
		b->error = EXIT_IO;
		b->phase = PHASE_STOP;
		return;
	}
	b->inflight++;
}

/* Counts the answer and sends the next command from the same slot, so
 * exactly qd commands stay in flight. */
static void slot_done(struct iscsi_task *t)
{
	struct bench_slot *sl = t->ctx;
	struct bench *b = sl->b;
	int64_t now = mono_ns();
	char msg[240];

	b->inflight--;
	if (iscsi_task_status(t, msg, sizeof(msg)) < 0) {
		if (!b->error)
			log_err("%s failed: %s", b->pattern->write ? "WRITE" : "READ", msg);
		b->error = EXIT_IO;
		b->phase = PHASE_STOP;
		return;
	}
	if (b->phase == PHASE_MEASURE) {
		hist_add(&b->hist, (uint64_t)(now - sl->started_ns));
		b->ios++;
	}
	if (b->phase != PHASE_STOP)
		slot_issue(b, sl);
}

static bool bench_failed(void *ctx)
{
	return ((const struct bench *)ctx)->error != 0;
}

static bool bench_drained(void *ctx)
{
	return ((const struct bench *)ctx)->inflight == 0;
}

/* Runs the loop until end_ms (the loop's clock) or a failed command. A
 * loop that fails ends the run like a failed command does. */
static void run_phase(struct bench *b, int64_t end_ms)
{
	int r = ev_run_until(&b->c->loop, bench_failed, b, end_ms);

	if (r < 0 && r != -ETIMEDOUT) {
		log_err("the event loop failed: %s", strerror(-r));
		b->error = EXIT_IO;
		b->phase = PHASE_STOP;
	}
}

/* Waits for the commands still in flight. Ones the target sits on past
 * the timeout do not void what was measured; a failed loop does. */
static void drain(struct bench *b)
{
	int r;

	b->phase = PHASE_STOP;
	r = ev_run_until(&b->c->loop, bench_drained, b,
			 ev_now(&b->c->loop) + DRAIN_TIMEOUT_MS);
	if (r == -ETIMEDOUT) {
		log_warn("%u commands still in flight after %d s", b->inflight,
			 DRAIN_TIMEOUT_MS / 1000);
	} else if (r < 0 && !b->error) {
		log_err("the event loop failed: %s", strerror(-r));
		b->error = EXIT_IO;
	}
}

static int bench_run(struct bench *b, const struct bench_opts *o,
		     struct bench_result *res)
{
	int64_t start_ms = ev_now(&b->c->loop), t0, now;
	int64_t measure_at = start_ms + (int64_t)o->ramp * 1000;
	double cpu0;

	b->phase = o->ramp ? PHASE_RAMP : PHASE_MEASURE;
	for (unsigned i = 0; i < b->qd && !b->error; i++)
		slot_issue(b, &b->slots[i]);
	if (o->ramp)
		run_phase(b, measure_at);
	if (!b->error)
		b->phase = PHASE_MEASURE;
	t0 = mono_ns();
	cpu0 = cpu_us();
	run_phase(b, measure_at + (int64_t)o->seconds * 1000);
	now = mono_ns();
	res->seconds = (double)(now - t0) / NS_PER_S;
	res->cpu_us = cpu_us() - cpu0;
	res->ios = b->ios;
	drain(b);
	return b->error;
}

/* ---- Setup */

static int check_geometry(struct bench *b, const struct bench_opts *o)
{
	uint32_t lbs = b->disk.capacity.block_size;
	uint64_t lun_bytes = b->disk.capacity.blocks * lbs;
	uint64_t size = o->size ? o->size : lun_bytes;

	if (o->bs % lbs) {
		log_err("--bs %" PRIu64 " is not a multiple of the block size (%u)", o->bs, lbs);
		return EXIT_USAGE;
	}
	if (b->disk.max_xfer_bytes && o->bs > b->disk.max_xfer_bytes) {
		log_err("--bs %" PRIu64 " is above the LUN's largest transfer (%u bytes)",
			o->bs, b->disk.max_xfer_bytes);
		return EXIT_USAGE;
	}
	if (size > lun_bytes || size < o->bs) {
		log_err("--size %" PRIu64 " must hold one I/O and fit the LUN (%" PRIu64
			" bytes)", size, lun_bytes);
		return EXIT_USAGE;
	}
	if (o->pattern->write && b->disk.write_protected) {
		log_err("the LUN is write-protected");
		return EXIT_IO;
	}
	b->io_blocks = (uint32_t)(o->bs / lbs);
	b->positions = size / o->bs;
	return EXIT_OK;
}

static void fill_pattern(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + (i >> 12) * 7 + 0x5a);
}

/* Page-aligned, like a block device's buffers; aligned_alloc wants the
 * size to be a multiple of the alignment. */
static uint8_t *alloc_io_buffer(size_t bs)
{
	return aligned_alloc(4096, (bs + 4095) / 4096 * 4096);
}

static int alloc_buffers(struct bench *b, size_t bs)
{
	b->slots = calloc(b->qd, sizeof(*b->slots));
	if (!b->slots)
		return -ENOMEM;
	if (b->pattern->write) {
		b->write_buf = alloc_io_buffer(bs);
		if (!b->write_buf)
			return -ENOMEM;
		fill_pattern(b->write_buf, bs);
	}
	for (unsigned i = 0; i < b->qd; i++) {
		b->slots[i].b = b;
		if (b->pattern->write)
			continue;
		b->slots[i].buf = alloc_io_buffer(bs);
		if (!b->slots[i].buf)
			return -ENOMEM;
	}
	return 0;
}

static void free_buffers(struct bench *b)
{
	for (unsigned i = 0; b->slots && i < b->qd; i++)
		free(b->slots[i].buf);
	free(b->slots);
	free(b->write_buf);
}

static int bench_setup(struct bench *b, struct cli_iscsi *c, const struct bench_opts *o)
{
	int r = cli_connect(c, &b->disk);

	if (r != EXIT_OK)
		return r;
	r = check_geometry(b, o);
	if (r != EXIT_OK)
		return r;
	if (alloc_buffers(b, o->bs) < 0) {
		log_err("out of memory for %u buffers of %" PRIu64 " bytes", b->qd, o->bs);
		return EXIT_IO;
	}
	return EXIT_OK;
}

/* ---- Report */

static void report(const struct bench *b, const struct bench_opts *o,
		   const struct bench_result *res)
{
	double secs = res->seconds > 0 ? res->seconds : 1e-9;
	double iops = (double)res->ios / secs;
	double mib_s = iops * (double)o->bs / (1 << 20);
	double avg = b->hist.n ? (double)b->hist.sum_ns / (double)b->hist.n / 1000 : 0;
	double p50 = hist_quantile_us(&b->hist, 0.50);
	double p99 = hist_quantile_us(&b->hist, 0.99);
	double p999 = hist_quantile_us(&b->hist, 0.999);
	double cpu_io = res->ios ? res->cpu_us / (double)res->ios : 0;
	double cpu_pct = res->cpu_us / 1e4 / secs;
	unsigned recoveries = iscsi_session_recoveries(b->c->session);

	printf("%s %" PRIu64 " B x QD%u, %.2f s: %.0f IOPS, %.1f MiB/s; latency "
	       "avg %.1f, p50 %.1f, p99 %.1f, p99.9 %.1f us; CPU %.2f us per I/O "
	       "(%.0f%% of a core)\n", o->pattern->name, o->bs, b->qd, secs, iops,
	       mib_s, avg, p50, p99, p999, cpu_io, cpu_pct);
	if (recoveries)
		printf("note: the connection was lost and the session reinstated %u "
		       "time(s) during the run\n", recoveries);
	printf("bench: pattern=%s bs=%" PRIu64 " qd=%u ios=%" PRIu64 " seconds=%.3f "
	       "iops=%.0f mib_s=%.1f lat_us_avg=%.1f lat_us_p50=%.1f lat_us_p99=%.1f "
	       "lat_us_p999=%.1f cpu_us_per_io=%.2f cpu_pct=%.1f recoveries=%u\n",
	       o->pattern->name, o->bs, b->qd, res->ios, secs, iops, mib_s, avg, p50,
	       p99, p999, cpu_io, cpu_pct, recoveries);
	fflush(stdout);
}

/* ---- Options */

enum { OPT_PATTERN = OPT_COMMAND_SPECIFIC, OPT_BS, OPT_QD, OPT_TIME, OPT_SIZE,
       OPT_RAMP, OPT_REPLAY };

static const struct option bench_options[] = {
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "bs", required_argument, NULL, OPT_BS },
	{ "qd", required_argument, NULL, OPT_QD },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "ramp", required_argument, NULL, OPT_RAMP },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ 0 },
};

static const char bench_help[] =
	"usage: iscsiroot bench [OPTIONS] --portal HOST --target IQN [--lun N]\n"
	"Keeps --qd READ or WRITE commands of --bs bytes in flight for --time\n"
	"seconds (each answer sends the next), then prints one line for people\n"
	"and one for scripts:\n"
	"  bench: pattern=P bs=B qd=N ios=N seconds=S iops=N mib_s=N lat_us_avg=N\n"
	"         lat_us_p50=N lat_us_p99=N lat_us_p999=N cpu_us_per_io=N cpu_pct=N\n"
	"         recoveries=N (session reinstatements during the run)\n"
	"Latency is per command (CLOCK_MONOTONIC, submit to answer); CPU is this\n"
	"process's user+system time (getrusage) over the measured seconds,\n"
	"divided by the I/Os. Writes send a fixed pattern: WRITE TESTS DESTROY\n"
	"THE DATA in the range.\n"
	"\noptions:\n" CLI_COMMON_HELP
	"      --pattern P            read | write | randread | randwrite\n"
	"\t(default read)\n"
	"      --bs SIZE              bytes per command, a multiple of the block\n"
	"\tsize; k/M suffixes (default 4k)\n"
	"      --qd N                 commands in flight, 1 to 256 (1)\n"
	"      --time SEC             measured seconds (5)\n"
	"      --ramp SEC             unmeasured seconds first (0)\n"
	"      --size BYTES           use the first BYTES of the LUN (all)\n"
	"      --replay TRACE         instead: the reads of a recorded boot\n"
	"\t(bench/storm-trace.txt, \"T_US OFFSET LEN\n"
	"\tDEPTH\" a line, '#' comments), in order, each\n"
	"\tsent once fewer than DEPTH are in flight;\n"
	"\tafter login and the daemon's probe, prints\n"
	"  replay: reads=N bytes=N depth_max=N login_ms=N probe_ms=N replay_ms=N\n"
	"          total_ms=N (login to the last read) cpu_ms=N recoveries=N\n"
	"\n" CLI_EXIT_CODES_HELP;

static int bench_option(void *ctx, int opt, const char *arg)
{
	struct bench_opts *o = ctx;

	switch (opt) {
	case OPT_PATTERN:
		for (size_t i = 0; i < ARRAY_SIZE(patterns); i++)
			if (!strcmp(arg, patterns[i].name)) {
				o->pattern = &patterns[i];
				return 0;
			}
		return -EINVAL;
	case OPT_BS:
		return cli_parse_size(arg, &o->bs) < 0 || o->bs == 0 ||
		       o->bs > BENCH_BS_MAX ? -EINVAL : 0;
	case OPT_QD: return parse_u64(arg, 1, BENCH_QD_MAX, &o->qd);
	case OPT_TIME: return parse_u64(arg, 1, 86400, &o->seconds);
	case OPT_RAMP: return parse_u64(arg, 0, 3600, &o->ramp);
	case OPT_SIZE: return cli_parse_size(arg, &o->size) < 0 || o->size == 0 ? -EINVAL : 0;
	case OPT_REPLAY: o->replay = arg; return 0;
	default: return -EINVAL;
	}
}

/* Returns -1 for a usage error, 1 after --help, else 0. */
static int parse(int argc, char **argv, struct cli_iscsi *c, struct bench_opts *o)
{
	if (cli_parse_options(argc, argv, c, bench_options, bench_option, o) < 0)
		return -1;
	if (c->help) {
		cli_print_help(stdout, bench_help);
		return 1;
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if ((uint64_t)o->qd * o->bs > BENCH_MEM_MAX) {
		log_err("--qd x --bs is over %llu bytes of buffers", BENCH_MEM_MAX);
		return -1;
	}
	return cli_finish_options(c, true) < 0 ? -1 : 0;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = { .pattern = &patterns[0], .bs = 4096, .qd = 1,
				.seconds = 5 };
	struct cli_iscsi c;
	struct bench_result res = { 0 };
	struct bench *b = calloc(1, sizeof(*b));
	int r;

	cli_iscsi_init(&c);
	if (!b)
		return EXIT_IO;
	r = parse(argc, argv, &c, &o);
	if (r != 0) {
		if (r < 0)
			fprintf(stderr, "try 'iscsiroot bench --help'\n");
		free(b);
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	}
	if (o.replay) {
		free(b);
		return bench_replay(&c, o.replay);
	}
	b->c = &c;
	b->pattern = o.pattern;
	b->qd = (unsigned)o.qd;
	b->rng = 0x9e3779b97f4a7c15ull;
	r = bench_setup(b, &c, &o);
	if (r == EXIT_OK)
		r = bench_run(b, &o, &res);
	if (r == EXIT_OK)
		report(b, &o, &res);
	cli_close(&c);
	free_buffers(b);
	free(b);
	return r;
}
