/* SPDX-License-Identifier: MIT */
/*
 * One disk over several portals (iscsi_mpath_*), driven with verified
 * writes and reads while the test around it breaks the network of one
 * path. Every block written holds its LBA, a generation and bytes derived
 * from both, so a read finds any stale, misplaced or torn block; the
 * expected generation of each block is kept here. Commands in flight
 * never overlap, so what a block holds is always known.
 *
 * The first portal is logged in and probed; the others join as the
 * daemon's paths do (once their LUN shows the same identity). Sessions
 * have the library's defaults but for a replacement timeout of never (a
 * root disk's) and reconnects backing off to 1 s, not 5 s. Each
 * change of a path's state is printed as it is seen, each failover with
 * the time from the last completion before it (I/O stopped there) to the
 * first completion after it, and the end one line of counters.
 *
 * usage: mpath-stress [-t SECONDS] [-q DEPTH] [-k MAX_KIB] [-z REGION_MIB]
 *        [-P failover|round-robin] [-n NOP_INTERVAL_S] [-N NOP_TIMEOUT_S]
 *        [-s SEED] TARGET LUN PORTAL...
 * SIGTERM or SIGINT ends the run early (then the same end: drain,
 * counters, read-back). Exits 0 when every command succeeded and every
 * byte read was right.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iscsi.h"

#define GEN_UNKNOWN UINT32_MAX  /* a write failed: the block's content is not known */
#define DRAIN_MS 120000         /* the end waits this long for commands in flight */

struct run;

struct op {
	struct iscsi_task task;
	struct run *run;
	uint8_t *buf;
	uint64_t lba;
	uint32_t blocks;
	bool write;
	bool busy;
	int64_t issued;
};

struct run {
	struct ev_loop loop;
	struct iscsi_disk disk;
	struct iscsi_mpath *m;
	uint32_t bs;
	uint64_t blocks;                /* the region tested, from LBA 0 */
	uint32_t *gen;                  /* per block: the generation it holds */
	struct op *ops;
	unsigned depth, inflight;
	uint32_t max_blocks;
	unsigned seed;
	int64_t start;
	uint64_t ios, bytes, errors, wrong_bytes;
	int64_t max_latency;
	int64_t last_done;              /* the last completion, before a failover */
	unsigned failovers_seen;
	unsigned active;                /* the path that carried the last completion */
	const char *states[ISCSI_MPATH_MAX];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t rnd(struct run *r)
{
	return (uint32_t)rand_r(&r->seed) << 16 ^ (uint32_t)rand_r(&r->seed);
}

/* A block's bytes: LBA and generation (big-endian), then a xorshift
 * stream seeded by both. */
static void fill_block(uint8_t *p, uint32_t bs, uint64_t lba, uint32_t gen)
{
	uint64_t x = lba * 0x9E3779B97F4A7C15ull ^ ((uint64_t)gen << 32 | gen) ^ 0x5bd1e995;

	put_be64(p, lba);
	put_be32(p + 8, gen);
	put_be32(p + 12, ~gen);
	for (uint32_t i = 16; i < bs; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		put_be64(p + i, x);
	}
}

/* Counts the bytes of a block read back that are not what it must hold. */
static uint64_t check_block(struct run *r, const uint8_t *p, uint64_t lba, uint8_t *want)
{
	uint64_t wrong = 0;

	if (r->gen[lba] == GEN_UNKNOWN)
		return 0;
	fill_block(want, r->bs, lba, r->gen[lba]);
	if (memcmp(p, want, r->bs) == 0)
		return 0;
	for (uint32_t i = 0; i < r->bs; i++)
		wrong += p[i] != want[i];
	if (r->wrong_bytes == 0)
		fprintf(stderr, "mpath-stress: block %" PRIu64 " holds LBA %" PRIu64
			" generation %u, expected generation %u\n", lba,
			get_be64(p), get_be32(p + 8),
			r->gen[lba]);
	return wrong;
}

static int64_t since_start(const struct run *r)
{
	return now_ms() - r->start;
}

/* Which path carries I/O now: the one shown active (failover), else the
 * first usable. */
static unsigned active_path(const struct run *r)
{
	for (unsigned i = 0; i < iscsi_mpath_paths(r->m); i++)
		if (!strcmp(r->states[i], "active"))
			return i;
	return r->active;
}

/* Prints every path whose state changed since the last look. */
static void watch_paths(struct run *r)
{
	for (unsigned i = 0; i < iscsi_mpath_paths(r->m); i++) {
		struct iscsi_mpath_path_info info;

		iscsi_mpath_path_info(r->m, i, &info);
		if (r->states[i] && !strcmp(r->states[i], info.state))
			continue;
		printf("event +%" PRId64 " ms: path %u (%s): %s -> %s\n", since_start(r), i + 1,
		       iscsi_session_host(iscsi_mpath_session(r->m, i)),
		       r->states[i] ? r->states[i] : "new", info.state);
		fflush(stdout);
		r->states[i] = info.state;
	}
}

/* The first completion after a failover: how long I/O stood still. */
static void note_completion(struct run *r, int64_t now)
{
	unsigned f = iscsi_mpath_failovers(r->m);

	watch_paths(r);
	if (f != r->failovers_seen) {
		unsigned to = active_path(r);

		printf("failover %u: path %u -> path %u: %" PRId64 " ms from the last "
		       "completion to the first after it (epoch_ms %" PRId64 ")\n", f,
		       r->active + 1, to + 1, now - r->last_done, epoch_ms());
		fflush(stdout);
		r->failovers_seen = f;
	}
	r->active = active_path(r);
	r->last_done = now;
}

static void op_done(struct iscsi_task *t)
{
	struct op *o = t->ctx;
	struct run *r = o->run;
	int64_t now = now_ms();
	char msg[240];

	o->busy = false;
	r->inflight--;
	r->max_latency = MAX(r->max_latency, now - o->issued);
	if (iscsi_task_status(t, msg, sizeof(msg)) < 0) {
		if (++r->errors <= 5)
			fprintf(stderr, "mpath-stress: %s of %u blocks at %" PRIu64 ": %s\n",
				o->write ? "write" : "read", o->blocks, o->lba, msg);
		if (o->write)
			for (uint32_t i = 0; i < o->blocks; i++)
				r->gen[o->lba + i] = GEN_UNKNOWN;
		return;
	}
	note_completion(r, now);
	if (!o->write) {
		uint8_t want[4096];

		for (uint32_t i = 0; i < o->blocks; i++)
			r->wrong_bytes += check_block(r, o->buf + (size_t)i * r->bs, o->lba + i, want);
	}
	r->ios++;
	r->bytes += (uint64_t)o->blocks * r->bs;
}

static void issue(struct run *r, struct op *o, bool write, uint64_t lba, uint32_t blocks)
{
	*o = (struct op){ .run = r, .buf = o->buf, .lba = lba, .blocks = blocks,
			  .write = write, .busy = true, .issued = now_ms() };
	if (write)
		for (uint32_t i = 0; i < blocks; i++) {
			/* Generations only grow: a stale copy never matches. */
			uint32_t g = r->gen[lba + i] == GEN_UNKNOWN ? 1 : r->gen[lba + i] + 1;

			r->gen[lba + i] = g;
			fill_block(o->buf + (size_t)i * r->bs, r->bs, lba + i, g);
		}
	iscsi_disk_rw(&r->disk, &o->task, write, lba, blocks, o->buf, false);
	o->task.done = op_done;
	o->task.ctx = o;
	r->inflight++;
	if (iscsi_mpath_submit(r->m, &o->task) < 0) {
		o->task.result = -EIO;
		op_done(&o->task);
	}
}

static bool overlaps_inflight(const struct run *r, uint64_t lba, uint32_t n)
{
	for (unsigned i = 0; i < r->depth; i++) {
		const struct op *o = &r->ops[i];

		if (o->busy && lba < o->lba + o->blocks && o->lba < lba + n)
			return true;
	}
	return false;
}

static void issue_random(struct run *r, struct op *o)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t n = rnd(r) % r->max_blocks + 1;
		uint64_t lba = rnd(r) % (r->blocks - n + 1);

		if (!overlaps_inflight(r, lba, n)) {
			issue(r, o, rnd(r) & 1, lba, n);
			return;
		}
	}
}

static bool idle(void *ctx)
{
	return ((const struct run *)ctx)->inflight == 0;
}

static int drain(struct run *r)
{
	int e = ev_run_until(&r->loop, idle, r, ev_now(&r->loop) + DRAIN_MS);

	if (e < 0)
		fprintf(stderr, "mpath-stress: %u command(s) still in flight after %d s: %s\n",
			r->inflight, DRAIN_MS / 1000, strerror(-e));
	return e;
}

/* Writes (fill) or reads back (verify) the whole region, a piece at a
 * time on every slot. */
static int sweep(struct run *r, bool write)
{
	uint64_t lba = 0;

	while (lba < r->blocks) {
		for (unsigned i = 0; i < r->depth && lba < r->blocks; i++) {
			uint32_t n = (uint32_t)MIN(r->max_blocks, r->blocks - lba);

			if (r->ops[i].busy)
				continue;
			issue(r, &r->ops[i], write, lba, n);
			lba += n;
		}
		if (ev_run_once(&r->loop, 100) < 0)
			return -1;
	}
	return drain(r);
}

static int login_first(struct run *r, const struct iscsi_config *cfg,
		       uint64_t lun, struct iscsi_session **out)
{
	struct iscsi_session *s = iscsi_session_new(&r->loop, cfg);
	char err[256];

	*out = s;
	if (!s || iscsi_sync_login(&r->loop, s) < 0) {
		fprintf(stderr, "mpath-stress: login at %s: %s\n", cfg->host,
			s ? iscsi_session_error(s) : "out of memory");
		return -1;
	}
	scsi_lun_from_number(lun, &lun);
	if (iscsi_disk_probe(&r->loop, s, lun, &r->disk, err, sizeof(err)) < 0) {
		fprintf(stderr, "mpath-stress: probe: %s\n", err);
		return -1;
	}
	return 0;
}

static int setup(struct run *r, struct iscsi_config *cfg, enum iscsi_mpath_policy policy,
		 uint64_t lun, char **portals, int nportals, uint64_t region)
{
	struct iscsi_session *first;

	if (ev_loop_init(&r->loop) < 0)
		return -1;
	for (int i = 0; i < nportals; i++)
		if (text_parse_address(portals[i], cfg[i].host, sizeof(cfg[i].host),
				       &cfg[i].port, &(uint16_t){ 0 }) < 0) {
			fprintf(stderr, "mpath-stress: bad portal %s\n", portals[i]);
			return -1;
		}
	if (login_first(r, &cfg[0], lun, &first) < 0)
		return -1;
	r->m = iscsi_mpath_new(&r->loop, &r->disk, policy, -1);
	if (!r->m || iscsi_mpath_add(r->m, first, true) < 0)
		return -1;
	for (int i = 1; i < nportals; i++) {
		struct iscsi_session *s = iscsi_session_new(&r->loop, &cfg[i]);

		if (!s || iscsi_mpath_add(r->m, s, false) < 0)
			return -1;
	}
	r->bs = r->disk.capacity.block_size;
	if (r->bs < 16 || r->bs > 4096 || r->bs % 8) {
		fprintf(stderr, "mpath-stress: block size %u not handled\n", r->bs);
		return -1;
	}
	r->blocks = MIN(r->disk.capacity.blocks, region / r->bs);
	r->max_blocks = MIN(r->max_blocks / r->bs, r->blocks);
	r->gen = calloc(r->blocks, sizeof(*r->gen));
	r->ops = calloc(r->depth, sizeof(*r->ops));
	if (!r->gen || !r->ops)
		return -1;
	for (unsigned i = 0; i < r->depth; i++)
		if (!(r->ops[i].buf = malloc((size_t)r->max_blocks * r->bs)))
			return -1;
	return 0;
}

static void report(struct run *r, enum iscsi_mpath_policy policy, int64_t ms)
{
	printf("mpath-stress: policy %s, %u paths: ios %" PRIu64 " bytes %" PRIu64
	       " errors %" PRIu64 " wrong_bytes %" PRIu64 " failovers %u max_latency_ms %"
	       PRId64 " mib_s %.1f\n", iscsi_mpath_policy_name(policy), iscsi_mpath_paths(r->m),
	       r->ios, r->bytes, r->errors, r->wrong_bytes, iscsi_mpath_failovers(r->m),
	       r->max_latency, ms > 0 ? (double)r->bytes / 1048576.0 * 1000.0 / (double)ms : 0.0);
	for (unsigned i = 0; i < iscsi_mpath_paths(r->m); i++) {
		struct iscsi_mpath_path_info info;
		const struct iscsi_session *s = iscsi_mpath_session(r->m, i);

		iscsi_mpath_path_info(r->m, i, &info);
		printf("path %u %s:%u: %s, reconnects %u, mismatches %u, commands %" PRIu64 "\n",
		       i + 1, iscsi_session_host(s), iscsi_session_port(s), info.state,
		       info.reconnects, info.mismatches, info.commands);
	}
}

static bool all_closed(void *m)
{
	return iscsi_mpath_closed(m);
}

static void usage(void)
{
	fprintf(stderr, "usage: mpath-stress [-t SECONDS] [-q DEPTH] [-k MAX_KIB] [-z REGION_MIB]\n"
		"       [-P failover|round-robin] [-n NOP_INTERVAL_S] [-N NOP_TIMEOUT_S]\n"
		"       [-s SEED] TARGET LUN PORTAL...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct run r = { .depth = 8, .max_blocks = 64 * 1024, .seed = 1 };
	struct iscsi_config cfg[ISCSI_MPATH_MAX], base;
	enum iscsi_mpath_policy policy = ISCSI_MPATH_FAILOVER;
	int seconds = 10, nportals, c;
	uint64_t region = 16u << 20;
	int64_t end, t0;

	iscsi_config_defaults(&base);
	base.replacement_timeout_ms = -1;
	base.reconnect_delay_max_ms = 1000;
	snprintf(base.initiator_name, sizeof(base.initiator_name),
		 "iqn.2025-01.org.iscsiroot:mpath-stress");
	while ((c = getopt(argc, argv, "t:q:k:z:P:n:N:s:")) != -1) {
		switch (c) {
		case 't': seconds = atoi(optarg); break;
		case 'q': r.depth = (unsigned)atoi(optarg); break;
		case 'k': r.max_blocks = (uint32_t)atoi(optarg) * 1024; break;
		case 'z': region = strtoull(optarg, NULL, 10) << 20; break;
		case 'P': if (iscsi_mpath_parse_policy(optarg, &policy) < 0) usage(); break;
		case 'n': base.nop_interval_ms = atoi(optarg) * 1000; break;
		case 'N': base.nop_timeout_ms = atoi(optarg) * 1000; break;
		case 's': r.seed = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	nportals = argc - optind - 2;
	if (nportals < 1 || nportals > ISCSI_MPATH_MAX || r.depth < 1 || r.depth > 256 ||
	    r.max_blocks < 4096 || region < (1u << 20) || seconds < 0)
		usage();
	for (int i = 0; i < nportals; i++) {
		cfg[i] = base;
		snprintf(cfg[i].target_name, sizeof(cfg[i].target_name), "%s", argv[optind]);
	}
	if (getenv("MPATH_STRESS_DEBUG"))
		log_set_level(LOG_DEBUG);
	if (setup(&r, cfg, policy, strtoull(argv[optind + 1], NULL, 0), argv + optind + 2,
		  nportals, region) < 0)
		return 1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	r.start = r.last_done = now_ms();
	watch_paths(&r);
	/* Every block gets a known content first. */
	if (sweep(&r, true) < 0)
		return 1;
	printf("filled %" PRIu64 " blocks of %u bytes in %" PRId64 " ms; running %d s\n",
	       r.blocks, r.bs, since_start(&r), seconds);
	fflush(stdout);
	t0 = now_ms();
	r.ios = r.bytes = 0;
	end = t0 + seconds * 1000ll;
	while (now_ms() < end && !stop) {
		for (unsigned i = 0; i < r.depth; i++)
			if (!r.ops[i].busy)
				issue_random(&r, &r.ops[i]);
		if (ev_run_once(&r.loop, 100) < 0)
			return 1;
		watch_paths(&r);
	}
	if (drain(&r) < 0)
		return 1;
	report(&r, policy, now_ms() - t0);
	/* Last, every block read back once more. */
	if (sweep(&r, false) < 0)
		return 1;
	printf("verified: %" PRIu64 " wrong bytes, %" PRIu64 " errors in all\n", r.wrong_bytes,
	       r.errors);
	iscsi_mpath_logout(r.m);
	ev_run_until(&r.loop, all_closed, r.m, ev_now(&r.loop) + 5000);
	iscsi_mpath_free(r.m);
	ev_loop_close(&r.loop);
	for (unsigned i = 0; i < r.depth; i++)
		free(r.ops[i].buf);
	free(r.ops);
	free(r.gen);
	return r.errors || r.wrong_bytes ? 1 : 0;
}
