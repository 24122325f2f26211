/* SPDX-License-Identifier: MIT */
/*
 * Random reads and writes against a LUN with many commands in flight,
 * every byte checked against a shadow copy kept in memory. Offsets and
 * sizes are random, so transfers cross MaxRecvDataSegmentLength,
 * FirstBurstLength and MaxBurstLength. Commands in flight never overlap,
 * so the expected contents are always known. The test around it may kill
 * and restart the target meanwhile: the run must still end with no error
 * and no byte lost.
 *
 * usage: stress PORTAL TARGET LUN SECONDS QUEUE_DEPTH MAX_KIB SEED
 * Prints one line of counters; exits 1 on any error or mismatch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi.h"

struct stress;

struct op {
	struct iscsi_task task;
	struct stress *st;
	uint8_t *buf;
	uint64_t off;
	uint32_t len;
	bool write;
	bool busy;
};

struct stress {
	struct ev_loop loop;
	struct iscsi_session *s;
	struct iscsi_disk disk;
	struct iscsi_disk_guard *guard;
	uint8_t *shadow;
	uint64_t size;
	struct op *ops;
	unsigned depth;
	uint32_t max_len;
	unsigned inflight;
	uint64_t ops_done, bytes, errors;
	unsigned seed;
};

static uint32_t rnd(struct stress *st)
{
	return (uint32_t)rand_r(&st->seed) << 16 ^ (uint32_t)rand_r(&st->seed);
}

static bool overlaps_inflight(struct stress *st, uint64_t off, uint32_t len)
{
	for (unsigned i = 0; i < st->depth; i++) {
		struct op *o = &st->ops[i];
		if (o->busy && off < o->off + o->len && o->off < off + len)
			return true;
	}
	return false;
}

static void report_error(struct stress *st, struct op *o, const char *what)
{
	st->errors++;
	if (st->errors <= 5)
		fprintf(stderr, "stress: %s %s at %" PRIu64 " (+%u)\n", what,
			o->write ? "write" : "read", o->off, o->len);
}

static void check_read(struct stress *st, struct op *o)
{
	if (memcmp(o->buf, st->shadow + o->off, o->len) == 0)
		return;
	for (uint32_t i = 0; i < o->len; i++)
		if (o->buf[i] != st->shadow[o->off + i]) {
			fprintf(stderr, "stress: first differing byte at %" PRIu64 "\n",
				o->off + i);
			break;
		}
	report_error(st, o, "data mismatch on");
}

static void op_done(struct iscsi_task *t)
{
	struct op *o = t->ctx;
	struct stress *st = o->st;
	char msg[240];

	o->busy = false;
	st->inflight--;
	if (iscsi_task_status(t, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "stress: %s\n", msg);
		report_error(st, o, "error on");
		return;
	}
	if (!o->write)
		check_read(st, o);
	st->ops_done++;
	st->bytes += o->len;
}

static int issue(struct stress *st, struct op *o, bool write, uint64_t off,
		 uint32_t len)
{
	uint32_t bs = st->disk.capacity.block_size;

	o->write = write;
	o->off = off;
	o->len = len;
	o->busy = true;
	if (write) {
		for (uint32_t i = 0; i < len; i += 4) {
			uint32_t v = rnd(st);
			memcpy(o->buf + i, &v, MIN(4u, len - i));
		}
		/* Nothing else touches this range until this op completes. */
		memcpy(st->shadow + off, o->buf, len);
	}
	iscsi_disk_rw(&st->disk, &o->task, write, off / bs, len / bs, o->buf,
		      write && st->disk.dpofua && (rnd(st) & 7) == 0);
	o->task.done = op_done;
	o->task.ctx = o;
	st->inflight++;
	return iscsi_submit(st->s, &o->task);
}

static int issue_random(struct stress *st, struct op *o)
{
	uint32_t bs = st->disk.capacity.block_size;
	uint64_t blocks = st->size / bs;

	for (int tries = 0; tries < 100; tries++) {
		uint32_t len = (rnd(st) % (st->max_len / bs) + 1) * bs;
		uint64_t off = (rnd(st) % (blocks - len / bs + 1)) * bs;
		if (!overlaps_inflight(st, off, len))
			return issue(st, o, rnd(st) & 1, off, len);
	}
	return 0;
}

static bool idle(void *ctx)
{
	return ((const struct stress *)ctx)->inflight == 0;
}

static int run_until_idle(struct stress *st)
{
	int r = ev_run_until(&st->loop, idle, st, -1);

	if (r < 0)
		fprintf(stderr, "stress: the event loop failed: %s\n", strerror(-r));
	return r;
}

/* Reads the whole range back in max_len pieces and compares. */
static int verify_all(struct stress *st)
{
	for (uint64_t off = 0; off < st->size; off += st->max_len) {
		struct op *o = &st->ops[0];
		if (issue(st, o, false, off, (uint32_t)MIN(st->max_len, st->size - off)) < 0 ||
		    run_until_idle(st) < 0)
			return -1;
	}
	return 0;
}

static int initial_read(struct stress *st)
{
	/* Shadow starts as what the LUN holds now. */
	for (uint64_t off = 0; off < st->size; off += st->max_len) {
		struct op *o = &st->ops[0];
		uint32_t len = (uint32_t)MIN(st->max_len, st->size - off);
		struct iscsi_task *t = &o->task;
		iscsi_disk_rw(&st->disk, t, false, off / st->disk.capacity.block_size,
			      len / st->disk.capacity.block_size, st->shadow + off, false);
		if (iscsi_sync_task(&st->loop, st->s, t) < 0 || t->status) {
			fprintf(stderr, "stress: initial read at %" PRIu64 " failed (%d/%u)\n",
				off, t->result, t->status);
			return -1;
		}
	}
	return 0;
}

static int setup(struct stress *st, char **argv)
{
	struct iscsi_config cfg;
	char err[256];
	uint64_t lun = strtoull(argv[3], NULL, 0);

	iscsi_config_defaults(&cfg);
	cfg.replacement_timeout_ms = -1;
	cfg.nop_interval_ms = 1000;
	cfg.nop_timeout_ms = 3000;
	cfg.reconnect_delay_max_ms = 1000;
	if (text_parse_address(argv[1], cfg.host, sizeof(cfg.host), &cfg.port,
			       &(uint16_t){ 0 }) < 0)
		return -1;
	snprintf(cfg.target_name, sizeof(cfg.target_name), "%s", argv[2]);
	if (getenv("STRESS_DIGESTS"))
		cfg.header_digest = cfg.data_digest = DIGEST_CRC32C;
	if (getenv("STRESS_DEBUG"))
		log_set_level(LOG_DEBUG);
	if (ev_loop_init(&st->loop) < 0)
		return -1;
	st->s = iscsi_session_new(&st->loop, &cfg);
	if (!st->s || iscsi_sync_login(&st->loop, st->s) < 0) {
		fprintf(stderr, "stress: login: %s\n", st->s ? iscsi_session_error(st->s) : "");
		return -1;
	}
	scsi_lun_from_number(lun, &lun);
	if (iscsi_disk_probe(&st->loop, st->s, lun, &st->disk, err, sizeof(err)) < 0) {
		fprintf(stderr, "stress: probe: %s\n", err);
		return -1;
	}
	st->guard = iscsi_disk_guard_new(&st->loop, st->s, &st->disk);
	if (!st->guard)
		return -1;
	st->size = MIN(st->disk.capacity.blocks * st->disk.capacity.block_size,
		       (uint64_t)256 << 20);
	st->shadow = malloc(st->size);
	st->ops = calloc(st->depth, sizeof(*st->ops));
	if (!st->shadow || !st->ops) {
		fprintf(stderr, "stress: out of memory\n");
		return -1;
	}
	for (unsigned i = 0; i < st->depth; i++) {
		st->ops[i].st = st;
		st->ops[i].buf = malloc(st->max_len);
		if (!st->ops[i].buf)
			return -1;
	}
	return initial_read(st);
}

int main(int argc, char **argv)
{
	struct stress st = { 0 };
	int64_t end;
	int r;

	if (argc != 8) {
		fprintf(stderr, "usage: stress PORTAL TARGET LUN SECONDS QD MAX_KIB SEED\n");
		return 2;
	}
	st.depth = (unsigned)atoi(argv[5]);
	st.max_len = (uint32_t)atoi(argv[6]) * 1024;
	st.seed = (unsigned)atoi(argv[7]);
	if (st.depth < 1 || st.max_len < 4096 || setup(&st, argv) < 0)
		return 1;
	end = now_ms() + atoi(argv[4]) * 1000ll;
	/* A round at a time, not ev_run_until: the slots a round freed are
	 * filled again between rounds. */
	while (now_ms() < end && st.errors == 0) {
		for (unsigned i = 0; i < st.depth; i++)
			if (!st.ops[i].busy && issue_random(&st, &st.ops[i]) < 0) {
				fprintf(stderr, "stress: submit failed\n");
				return 1;
			}
		if ((r = ev_run_once(&st.loop, 100)) < 0) {
			fprintf(stderr, "stress: the event loop failed: %s\n", strerror(-r));
			return 1;
		}
	}
	if (run_until_idle(&st) < 0 || verify_all(&st) < 0) {
		fprintf(stderr, "stress: final verification could not run\n");
		return 1;
	}
	printf("stress: ops=%" PRIu64 " bytes=%" PRIu64 " errors=%" PRIu64
	       " max_inflight=%u recoveries=%u identity_checks=%u mismatches=%u\n",
	       st.ops_done, st.bytes, st.errors, iscsi_session_max_inflight(st.s),
	       iscsi_session_recoveries(st.s), iscsi_disk_guard_checks(st.guard),
	       iscsi_disk_guard_mismatches(st.guard));
	iscsi_sync_logout(&st.loop, st.s);
	iscsi_session_free(st.s);
	iscsi_disk_guard_free(st.guard);
	ev_loop_close(&st.loop);
	for (unsigned i = 0; i < st.depth; i++)
		free(st.ops[i].buf);
	free(st.ops);
	free(st.shadow);
	return st.errors ? 1 : 0;
}
