/* SPDX-License-Identifier: MIT */
/* bench --replay: the reads of a recorded boot (bench/storm-trace.txt, as
 * the daemon's iscsiroot.trace= writes them: "T_US OFFSET LEN DEPTH" a
 * line) over one session, in order, each sent once fewer than its DEPTH
 * reads are in flight: the boot's queue depth without its think time.
 * Logs in and probes the LUN as the daemon does, then reports the times
 * in one line. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common.h"

#define REPLAY_READS_MAX (1u << 20)
#define REPLAY_LEN_MAX (16u << 20)      /* one command's most */
#define REPLAY_DEPTH_MAX 256            /* the session's task slots */

struct replay_read {
	uint64_t offset;
	uint32_t len;
	uint32_t depth;
};

struct replay;

struct replay_slot {
	struct iscsi_task task;
	struct replay *rp;
	uint8_t *buf;
	struct replay_slot *next_free;
};

struct replay {
	struct cli_iscsi *c;
	struct iscsi_disk disk;
	struct replay_read *reads;
	size_t n, next, done;
	uint64_t bytes;
	uint32_t len_max;
	unsigned depth_max, inflight;
	struct replay_slot *slots, *free_slots;
	int error;                      /* an exit code once something failed */
};

#define mono_us cli_mono_us

static int64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ll +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* ---- The trace */

/* "T_US OFFSET LEN DEPTH": four decimal numbers, nothing after. */
static int parse_line(const char *p, struct replay_read *out)
{
	uint64_t v[4];
	char *end;

	for (int i = 0; i < 4; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (errno)
			return -EINVAL;
		p = end;
	}
	if (*p && *p != '\n')
		return -EINVAL;
	if (v[2] == 0 || v[2] > REPLAY_LEN_MAX || v[3] == 0 || v[3] > REPLAY_DEPTH_MAX)
		return -ERANGE;
	*out = (struct replay_read){ .offset = v[1], .len = (uint32_t)v[2],
				     .depth = (uint32_t)v[3] };
	return 0;
}

static int add_read(struct replay *rp, const struct replay_read *r, size_t *cap)
{
	if (rp->n == *cap) {
		size_t grow = *cap ? *cap * 2 : 1024;
		struct replay_read *p;
		if (grow > REPLAY_READS_MAX)
			return -E2BIG;
		p = realloc(rp->reads, grow * sizeof(*p));
		if (!p)
			return -ENOMEM;
		rp->reads = p;
		*cap = grow;
	}
	rp->reads[rp->n++] = *r;
	rp->bytes += r->len;
	rp->len_max = MAX(rp->len_max, r->len);
	rp->depth_max = MAX(rp->depth_max, r->depth);
	return 0;
}

/* Reads the whole trace; one line on failure. '#' lines are comments. */
static int load_trace(struct replay *rp, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[256];
	size_t cap = 0, lineno = 0;
	int r = 0;

	if (!f) {
		log_err("cannot open the trace %s: %s", path, strerror(errno));
		return -errno;
	}
	while (r == 0 && fgets(line, sizeof(line), f)) {
		struct replay_read rd;
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		r = parse_line(line, &rd);
		if (r == 0)
			r = add_read(rp, &rd, &cap);
	}
	fclose(f);
	if (r < 0)
		log_err("%s line %zu: %s", path, lineno, r == -ENOMEM || r == -E2BIG
			? "too many reads" : "not \"T_US OFFSET LEN DEPTH\" with a "
			"length up to 16 MiB and a depth from 1 to 256");
	else if (rp->n == 0)
		log_err("%s holds no reads", path);
	return r < 0 ? r : rp->n ? 0 : -ENODATA;
}

/* Every read must be whole blocks inside the LUN, and one command. */
static int check_reads(const struct replay *rp)
{
	uint32_t bs = rp->disk.capacity.block_size;
	uint64_t size = rp->disk.capacity.blocks * bs;
	uint32_t max = rp->disk.max_xfer_bytes ? rp->disk.max_xfer_bytes : REPLAY_LEN_MAX;

	for (size_t i = 0; i < rp->n; i++) {
		const struct replay_read *r = &rp->reads[i];
		if (r->offset % bs || r->len % bs || r->offset > size ||
		    r->len > size - r->offset || r->len > max) {
			log_err("the trace's read %zu (%u bytes at %" PRIu64 ") does not fit "
				"the LUN (%" PRIu64 " bytes of %u-byte blocks, at most %u "
				"bytes a command)", i + 1, r->len, r->offset, size, bs, max);
			return -ERANGE;
		}
	}
	return 0;
}

static int alloc_slots(struct replay *rp)
{
	size_t buf_len = (rp->len_max + 4095u) / 4096u * 4096u;

	rp->slots = calloc(rp->depth_max, sizeof(*rp->slots));
	if (!rp->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < rp->depth_max; i++) {
		struct replay_slot *sl = &rp->slots[i];
		sl->rp = rp;
		sl->buf = aligned_alloc(4096, buf_len);
		if (!sl->buf)
			return -ENOMEM;
		sl->next_free = rp->free_slots;
		rp->free_slots = sl;
	}
	return 0;
}

/* ---- The replay */

static void pump(struct replay *rp);

static void read_done(struct iscsi_task *t)
{
	struct replay_slot *sl = t->ctx;
	struct replay *rp = sl->rp;
	char msg[240];

	rp->inflight--;
	rp->done++;
	sl->next_free = rp->free_slots;
	rp->free_slots = sl;
	if (iscsi_task_status(t, msg, sizeof(msg)) < 0) {
		if (!rp->error)
			log_err("READ failed: %s", msg);
		rp->error = EXIT_IO;
		return;
	}
	pump(rp);
}

/* Sends reads while the next one's recorded depth allows it. */
static void pump(struct replay *rp)
{
	uint32_t bs = rp->disk.capacity.block_size;

	while (!rp->error && rp->next < rp->n && rp->free_slots &&
	       rp->inflight < rp->reads[rp->next].depth) {
		const struct replay_read *r = &rp->reads[rp->next++];
		struct replay_slot *sl = rp->free_slots;
		int e;

		rp->free_slots = sl->next_free;
		iscsi_disk_rw(&rp->disk, &sl->task, false, r->offset / bs, r->len / bs,
			      sl->buf, false);
		sl->task.done = read_done;
		sl->task.ctx = sl;
		e = iscsi_submit(rp->c->session, &sl->task);
		if (e < 0) {
			log_err("cannot submit: %s", strerror(-e));
			rp->error = EXIT_IO;
			return;
		}
		rp->inflight++;
	}
}

static bool replay_settled(void *ctx)
{
	const struct replay *rp = ctx;

	return rp->done == rp->n || (rp->error && rp->inflight == 0);
}

static int run(struct replay *rp)
{
	int r;

	pump(rp);
	r = ev_run_until(&rp->c->loop, replay_settled, rp, -1);
	if (r < 0 && !rp->error) {
		log_err("the event loop failed: %s", strerror(-r));
		rp->error = EXIT_IO;
	}
	return rp->error;
}

/* Logs in and probes the LUN as the daemon does (with the guard that
 * holds I/O to the same disk after a reconnect), through the first
 * portal that does both; *login_us: from t0 to that portal's login. */
static int connect_disk(struct replay *rp, int64_t t0, int64_t *login_us)
{
	int r = cli_connect(rp->c, &rp->disk);

	*login_us = rp->c->logged_in_us - t0;
	return r;
}

static void report(const struct replay *rp, int64_t login_us, int64_t probe_us,
		   int64_t replay_us, int64_t total_us, int64_t cpu)
{
	printf("replay: reads=%zu bytes=%" PRIu64 " depth_max=%u login_ms=%.1f "
	       "probe_ms=%.1f replay_ms=%.1f total_ms=%.1f cpu_ms=%.1f recoveries=%u\n",
	       rp->n, rp->bytes, rp->depth_max, (double)login_us / 1000,
	       (double)probe_us / 1000, (double)replay_us / 1000, (double)total_us / 1000,
	       (double)cpu / 1000, iscsi_session_recoveries(rp->c->session));
	fflush(stdout);
}

static int replay_session(struct replay *rp)
{
	int64_t t0 = mono_us(), cpu0 = cpu_us(), login_us, t_probe, t_run;
	int r = connect_disk(rp, t0, &login_us);

	if (r != EXIT_OK)
		return r;
	t_probe = mono_us();
	if (check_reads(rp) < 0)
		return EXIT_USAGE;
	if (alloc_slots(rp) < 0) {
		log_err("out of memory for %u buffers of %u bytes", rp->depth_max, rp->len_max);
		return EXIT_IO;
	}
	t_run = mono_us();
	r = run(rp);
	if (r == EXIT_OK)
		report(rp, login_us, t_probe - t0 - login_us, mono_us() - t_run,
		       mono_us() - t0, cpu_us() - cpu0);
	return r;
}

int bench_replay(struct cli_iscsi *c, const char *path)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	int r;

	if (!rp) {
		log_err("out of memory");
		return EXIT_IO;
	}
	rp->c = c;
	r = load_trace(rp, path) < 0 ? EXIT_USAGE : replay_session(rp);
	cli_close(c);
	for (unsigned i = 0; rp->slots && i < rp->depth_max; i++)
		free(rp->slots[i].buf);
	free(rp->slots);
	free(rp->reads);
	free(rp);
	return r;
}
