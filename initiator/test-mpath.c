/* SPDX-License-Identifier: MIT */
/* One disk over two paths (mpath.c), each a scripted target (test-peer.c)
 * on its own port, on the fake clock: failover of commands in flight on a
 * path that dies, round-robin over both, a path whose LUN is another disk
 * (never used), a path down at the start that joins later, and the
 * replacement timeout that runs only while no path carries I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-peer.h"
#include "test.h"

#define READS 6

struct rig {
	struct ev_loop loop;
	struct peer peer[2];
	struct iscsi_mpath *m;
	struct iscsi_disk disk;
};

static void settle(struct rig *r)
{
	if (!settle_loop(&r->loop))
		CHECK(!"the loop kept busy at one instant of the clock");
}

static void advance(struct rig *r, int64_t ms, int64_t step)
{
	if (!advance_loop(&r->loop, ms, step))
		CHECK(!"the loop kept busy at one instant of the clock");
}

static struct iscsi_session *new_session(struct rig *r, unsigned i)
{
	struct iscsi_config cfg;
	struct iscsi_session *s;

	iscsi_config_defaults(&cfg);
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	cfg.port = r->peer[i].port;
	snprintf(cfg.target_name, sizeof(cfg.target_name), "iqn.2025-01.test:t");
	cfg.nop_interval_ms = 1000;
	cfg.nop_timeout_ms = 2000;
	s = iscsi_session_new(&r->loop, &cfg);
	CHECK(s != NULL);
	return s;
}

/* Path 1 logs in and is "probed" (the disk is disk-A, as the peers
 * say); path 2 is added unverified and must pass the identity check. */
static void rig_start(struct rig *r, enum iscsi_mpath_policy policy,
		      int64_t replacement_ms)
{
	struct iscsi_session *first;

	CHECK_EQ(ev_loop_init(&r->loop), 0);
	ev_set_clock(&r->loop, fake_clock, NULL);
	for (unsigned i = 0; i < 2; i++)
		peer_start(&r->peer[i], &r->loop, SCRIPT_NORMAL);
	memset(&r->disk, 0, sizeof(r->disk));
	snprintf(r->disk.serial, sizeof(r->disk.serial), "disk-A");
	r->disk.capacity.block_size = BS;
	r->disk.capacity.blocks = LUN_BYTES / BS;
	first = new_session(r, 0);
	CHECK_EQ(iscsi_session_start(first), 0);
	settle(r);
	CHECK(iscsi_session_ready(first));
	r->m = iscsi_mpath_new(&r->loop, &r->disk, policy, replacement_ms);
	CHECK(r->m != NULL);
	CHECK_EQ(iscsi_mpath_add(r->m, first, true), 0);
}

static void add_second(struct rig *r)
{
	CHECK_EQ(iscsi_mpath_add(r->m, new_session(r, 1), false), 0);
	settle(r);
}

static void rig_stop(struct rig *r)
{
	iscsi_mpath_free(r->m);
	for (unsigned i = 0; i < 2; i++)
		peer_stop(&r->peer[i]);
	ev_loop_close(&r->loop);
}

static const char *state_of(struct rig *r, unsigned i)
{
	struct iscsi_mpath_path_info info;

	iscsi_mpath_path_info(r->m, i, &info);
	return info.state;
}

static void submit_reads(struct rig *r, struct iscsi_task *t, struct read_check *rc,
			 unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		rc[i].done = 0;
		read_task(&t[i], &rc[i], i, 1);
		CHECK_EQ(iscsi_mpath_submit(r->m, &t[i]), 0);
	}
}

/* Every READ done once, with GOOD and the LUN's bytes. */
static void check_reads(struct rig *r, struct iscsi_task *t, struct read_check *rc,
			unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(rc[i].done, 1);
		CHECK_EQ(t[i].result, 0);
		CHECK_EQ(t[i].status, 0);
		CHECK(!memcmp(rc[i].buf, r->peer[0].lun + i * BS, BS));
	}
}

/* Failover: all I/O on path 1 while it lives; the READs it holds when it
 * goes silent move to path 2 once its connection is declared dead, and
 * complete there with the right bytes. Path 1 comes back as standby. */
static void test_failover(void)
{
	struct rig r;
	struct iscsi_task t[READS];
	struct read_check rc[READS];

	rig_start(&r, ISCSI_MPATH_FAILOVER, -1);
	add_second(&r);
	CHECK_STR(state_of(&r, 0), "active");
	CHECK_STR(state_of(&r, 1), "standby");
	submit_reads(&r, t, rc, READS);
	settle(&r);
	check_reads(&r, t, rc, READS);
	CHECK_EQ(r.peer[0].reads, READS);
	CHECK_EQ(r.peer[1].reads, 0);

	r.peer[0].script = SCRIPT_SILENT;       /* takes a command, then nothing */
	submit_reads(&r, t, rc, READS);
	advance(&r, 4000, 100);                 /* NOP interval + timeout */
	check_reads(&r, t, rc, READS);
	CHECK_EQ(r.peer[1].reads, READS);
	CHECK_EQ(iscsi_mpath_failovers(r.m), 1);
	CHECK_STR(state_of(&r, 1), "active");

	r.peer[0].script = SCRIPT_NORMAL;
	advance(&r, 6000, 100);
	CHECK_STR(state_of(&r, 0), "standby");
	rig_stop(&r);
}

/* Round-robin: READs spread over both paths. */
static void test_round_robin(void)
{
	struct rig r;
	struct iscsi_task t[READS];
	struct read_check rc[READS];

	rig_start(&r, ISCSI_MPATH_ROUND_ROBIN, -1);
	add_second(&r);
	/* Two sessions, not one reinstating the other away on the target. */
	CHECK(iscsi_mpath_session(r.m, 0)->isid != iscsi_mpath_session(r.m, 1)->isid);
	submit_reads(&r, t, rc, READS);
	settle(&r);
	check_reads(&r, t, rc, READS);
	CHECK_EQ(r.peer[0].reads, READS / 2);
	CHECK_EQ(r.peer[1].reads, READS / 2);
	rig_stop(&r);
}

/* A second path whose LUN is another disk never carries a command, even
 * when the first one is down: the READs wait for the first path. */
static void test_other_disk_refused(void)
{
	struct rig r;
	struct iscsi_task t[READS];
	struct read_check rc[READS];

	rig_start(&r, ISCSI_MPATH_ROUND_ROBIN, -1);
	snprintf(r.peer[1].serial, sizeof(r.peer[1].serial), "disk-B");
	add_second(&r);
	CHECK_STR(state_of(&r, 1), "other disk");
	r.peer[0].script = SCRIPT_DROP_ON_CMD;
	submit_reads(&r, t, rc, READS);
	advance(&r, 5000, 100);
	CHECK_EQ(r.peer[1].reads, 0);
	for (unsigned i = 0; i < READS; i++)
		CHECK_EQ(rc[i].done, 0);
	r.peer[0].script = SCRIPT_NORMAL;
	advance(&r, 6000, 100);
	check_reads(&r, t, rc, READS);
	CHECK_EQ(r.peer[1].reads, 0);
	rig_stop(&r);
}

/* A path refused at the start (the target is out of resources) keeps
 * being retried past any first-login deadline, and joins once it logs
 * in and shows the disk. */
static void test_late_path_joins(void)
{
	struct rig r;
	struct iscsi_task t[READS];
	struct read_check rc[READS];

	rig_start(&r, ISCSI_MPATH_ROUND_ROBIN, -1);
	r.peer[1].refuse_logins = 12;
	r.peer[1].refuse_status = 0x0301;
	add_second(&r);
	advance(&r, 40000, 250);                /* past the 30 s first-login deadline */
	CHECK(r.peer[1].connections > 6);
	CHECK_EQ(r.peer[1].refuse_logins, 0);
	CHECK(!strcmp(state_of(&r, 1), "active"));
	submit_reads(&r, t, rc, READS);
	settle(&r);
	check_reads(&r, t, rc, READS);
	CHECK(r.peer[1].reads > 0);
	rig_stop(&r);
}

/* Both paths log in and drop every command: no command completes, so
 * the replacement timeout, running from the first moment no path could
 * carry I/O, fails the READs with -EIO; it does not restart each time a
 * path logs in again. */
static void test_replacement_all_paths(void)
{
	struct rig r;
	struct iscsi_task t[READS];
	struct read_check rc[READS];

	rig_start(&r, ISCSI_MPATH_FAILOVER, 6000);
	add_second(&r);
	r.peer[0].script = r.peer[1].script = SCRIPT_DROP_ON_CMD;
	submit_reads(&r, t, rc, READS);
	advance(&r, 6000 + 5000 + 1000, 100);
	for (unsigned i = 0; i < READS; i++) {
		CHECK_EQ(rc[i].done, 1);
		CHECK_EQ(t[i].result, -EIO);
	}
	CHECK(r.peer[0].commands + r.peer[1].commands >= 2);
	rig_stop(&r);
}

static const struct test_case tests[] = {
	{ "failover", test_failover },
	{ "round-robin", test_round_robin },
	{ "other-disk", test_other_disk_refused },
	{ "late-path", test_late_path_joins },
	{ "replacement", test_replacement_all_paths },
};

int main(void)
{
	return test_run_cases("mpath", tests, ARRAY_SIZE(tests));
}
