/* SPDX-License-Identifier: MIT */
/* The session's timers and recovery paths, driven by a fake clock and a
 * scripted target in the same event loop (a listening socket on
 * 127.0.0.1, test-peer.c): backoff after logins that drop at once, redirect loops,
 * capped target waits, the replacement timeout on every path, a ping
 * flood from a target that does not read, a READ answered short, and the
 * gate that keeps I/O from another disk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "test-peer.h"
#include "test.h"

/* ---- The initiator under test */

struct rig {
	struct ev_loop loop;
	struct peer peer;
	struct iscsi_session *s;
	struct iscsi_config cfg;
};

static void rig_start(struct rig *r, enum script script)
{
	CHECK_EQ(ev_loop_init(&r->loop), 0);
	ev_set_clock(&r->loop, fake_clock, NULL);
	peer_start(&r->peer, &r->loop, script);
	iscsi_config_defaults(&r->cfg);
	snprintf(r->cfg.host, sizeof(r->cfg.host), "127.0.0.1");
	r->cfg.port = r->peer.port;
	snprintf(r->cfg.target_name, sizeof(r->cfg.target_name), "iqn.2025-01.test:t");
}

static void rig_new_session(struct rig *r)
{
	r->s = iscsi_session_new(&r->loop, &r->cfg);
	CHECK(r->s != NULL);
	CHECK_EQ(iscsi_session_start(r->s), 0);
}

static void rig_stop(struct rig *r)
{
	iscsi_session_free(r->s);
	peer_stop(&r->peer);
	ev_loop_close(&r->loop);
}

static void settle(struct rig *r)
{
	if (!settle_loop(&r->loop))
		CHECK(!"the loop kept busy at one instant of the clock");
}

/* Moves the clock forward in steps, settling at each. */
static void advance(struct rig *r, int64_t ms, int64_t step)
{
	if (!advance_loop(&r->loop, ms, step))
		CHECK(!"the loop kept busy at one instant of the clock");
}

static void rig_login(struct rig *r)
{
	rig_new_session(r);
	settle(r);
	CHECK(iscsi_session_ready(r->s));
}

/* ---- Tests */

/* Logins that succeed but drop at the first command back off as failed
 * ones do: in 20 s of the clock, a handful of connections, not
 * thousands, with the delays growing. */
static void test_backoff_after_login_drops(void)
{
	struct rig r;
	struct read_check rc = { .done = 0 };
	struct iscsi_task t;

	rig_start(&r, SCRIPT_DROP_ON_CMD);
	r.cfg.reconnect_delay_max_ms = 8000;
	rig_login(&r);
	read_task(&t, &rc, 0, 1);
	CHECK_EQ(iscsi_submit(r.s, &t), 0);
	advance(&r, 20000, 50);
	/* 0, 0.25, 0.5, 1, 2, 4, 8, 8 s, each anywhere in its upper half
	 * (jitter_ms): 8 to 12 connections, never hundreds */
	CHECK(r.peer.connections >= 5);
	CHECK(r.peer.connections <= 12);
	CHECK(r.s->attempt >= 5);
	CHECK_EQ(rc.done, 0);
	r.peer.script = SCRIPT_NORMAL;  /* and then it works */
	advance(&r, 10000, 100);
	CHECK_EQ(rc.done, 1);
	CHECK_EQ(t.result, 0);
	CHECK_EQ(r.s->attempt, 0);
	rig_stop(&r);
}

/* A target that redirects every login to itself: at most
 * SESSION_REDIRECTS_MAX redirects per attempt, and the first login
 * fails at its deadline. */
static void test_redirect_loop(void)
{
	struct rig r;

	rig_start(&r, SCRIPT_REDIRECT);
	r.cfg.first_login_timeout_ms = 3000;
	r.cfg.login_timeout_ms = 2000;
	rig_new_session(&r);
	advance(&r, 5000, 20);
	CHECK_EQ(r.s->state, S_FAILED);
	CHECK(r.peer.connections >= SESSION_REDIRECTS_MAX);
	/* attempts at 0, 0, then 0.25, 0.5, 1 s of backoff (each at least
	 * half that), the last pulled in to 1 s before the deadline: at most
	 * 7, each followed up to SESSION_REDIRECTS_MAX times */
	CHECK(r.peer.connections <= 7 * (SESSION_REDIRECTS_MAX + 1));
	rig_stop(&r);
}


/* Time2Wait 65535 s is capped at SESSION_TARGET_WAIT_MAX_MS; the
 * replacement timeout runs on this path too and fails the waiting I/O. */
static void test_async_drop_capped_and_replacement(void)
{
	struct rig r;
	struct iscsi_task t;
	uint8_t buf[BS];
	int done = 0;

	rig_start(&r, SCRIPT_NORMAL);
	r.cfg.replacement_timeout_ms = 5000;
	rig_login(&r);
	send_async(&r.peer, 2, 65535, 0);       /* dropping the connection */
	settle(&r);
	CHECK_EQ(r.s->state, S_WAIT);
	CHECK(r.s->reconnect_at - fake_now <= SESSION_TARGET_WAIT_MAX_MS);
	CHECK(r.s->replacement_at >= 0);
	memset(&t, 0, sizeof(t));
	t.cdb_len = (uint8_t)scsi_cdb_read(t.cdb, 0, 1, false);
	t.dir = ISCSI_DIR_READ;
	t.buf = buf;
	t.len = BS;
	t.done = mark_done;
	t.ctx = &done;
	CHECK_EQ(iscsi_submit(r.s, &t), 0);
	advance(&r, 6000, 100);
	CHECK_EQ(done, 1);
	CHECK_EQ(t.result, -EIO);
	/* It does reconnect within the cap. */
	advance(&r, SESSION_TARGET_WAIT_MAX_MS, 500);
	CHECK(iscsi_session_ready(r.s));
	rig_stop(&r);
}

/* A target that pings as fast as it can and never reads: what waits to
 * be sent stays bounded (one ping answer at a time), and the connection
 * is declared dead within the NOP timeout of the last progress. */
static void note_recovering(void *ctx, enum iscsi_event ev)
{
	int64_t *at = ctx;

	if (ev == ISCSI_EVENT_RECOVERING && *at < 0)
		*at = fake_now;
}

static void ping_flood_without_reading(int nop_interval_ms)
{
	struct rig r;
	uint8_t ping[4096], b[ISCSI_BHS_LEN];
	unsigned max_own = 0, sent = 0;
	int64_t start, lost_at = -1, stalled_since = -1;

	rig_start(&r, SCRIPT_NORMAL);
	r.cfg.nop_interval_ms = nop_interval_ms;
	r.cfg.nop_timeout_ms = 3000;
	rig_login(&r);
	iscsi_session_on_event(r.s, note_recovering, &lost_at);
	start = fake_now;
	r.peer.reading = false;
	ev_set_events(&r.peer.io, 0);
	memset(ping, 0x5a, sizeof(ping));
	for (int round = 0; round < 2000 && lost_at < 0; round++) {
		for (int i = 0; i < 10; i++) {
			memset(b, 0, sizeof(b));
			b[0] = ISCSI_OP_NOP_IN;
			b[1] = ISCSI_FLAG_FINAL;
			put_be32(b + 16, ISCSI_RESERVED_TAG);
			put_be32(b + 20, 0x100 + sent++);  /* TTT: a ping */
			put_be32(b + 24, r.peer.statsn);
			peer_send(&r.peer, b, ping, sizeof(ping));
		}
		fake_now += 10;
		settle(&r);
		max_own = MAX(max_own, r.s->conn.tx_own);
		if (conn_tx_stalled_since(&r.s->conn) >= 0)
			stalled_since = conn_tx_stalled_since(&r.s->conn);
	}
	/* The target's pings do not delay our NOP-Out, which it never reads
	 * nor answers; and once the socket takes nothing more (loopback's
	 * buffers hold many MiB), one NOP timeout is the most it waits. */
	CHECK(lost_at >= 0);
	if (nop_interval_ms)
		CHECK(lost_at - start <= nop_interval_ms + r.cfg.nop_timeout_ms + 20);
	else
		CHECK(stalled_since >= 0);
	CHECK(stalled_since < 0 || lost_at - stalled_since <= r.cfg.nop_timeout_ms + 20);
	CHECK(max_own <= 2);
	CHECK(sent > 500);
	rig_stop(&r);
}

/* With keepalive off, the send side stalling is what says so. */
static void test_ping_flood_stalls_send(void)
{
	ping_flood_without_reading(0);
}

static void test_ping_flood_nop_goes_out(void)
{
	ping_flood_without_reading(5000);
}

/* A READ answered with half its data and GOOD is never a success: the
 * connection goes, the READ is issued again and completes with the
 * right bytes. */
static void test_short_read_is_retried(void)
{
	struct rig r;
	struct read_check rc = { .done = 0 };
	struct iscsi_task t;

	rig_start(&r, SCRIPT_SHORT_READ_ONCE);
	rig_login(&r);
	read_task(&t, &rc, 2, 2);
	CHECK_EQ(iscsi_submit(r.s, &t), 0);
	advance(&r, 3000, 50);
	CHECK_EQ(rc.done, 1);
	CHECK_EQ(t.result, 0);
	CHECK_EQ(t.status, 0);
	CHECK_EQ(r.peer.reads, 2);
	CHECK_EQ(r.peer.connections, 2);
	CHECK(!memcmp(rc.buf, r.peer.lun + 2 * BS, sizeof(rc.buf)));
	rig_stop(&r);
}

/* A target that logs in fine and lies on every READ: each login is no
 * progress, so the replacement timeout runs on from the first loss and
 * the READ fails when it passes, never with the lie's bytes. */
static void test_lies_forever_hit_replacement(void)
{
	struct rig r;
	struct read_check rc = { .done = 0 };
	struct iscsi_task t;

	rig_start(&r, SCRIPT_SHORT_READ);
	r.cfg.replacement_timeout_ms = 8000;
	rig_login(&r);
	read_task(&t, &rc, 0, 2);
	CHECK_EQ(iscsi_submit(r.s, &t), 0);
	advance(&r, 8000 + r.cfg.reconnect_delay_max_ms + 1000, 100);
	CHECK_EQ(rc.done, 1);
	CHECK_EQ(t.result, -EIO);
	CHECK(r.peer.reads >= 3);
	rig_stop(&r);
}

/* A target that takes a command and then reads nothing, answering
 * nothing: our NOP-Out goes unanswered, and the connection is dead
 * within the NOP interval and timeout. */
static void test_silent_target(void)
{
	struct rig r;
	struct read_check rc = { .done = 0 };
	struct iscsi_task t;

	rig_start(&r, SCRIPT_SILENT);
	r.cfg.nop_interval_ms = 1000;
	r.cfg.nop_timeout_ms = 2000;
	rig_login(&r);
	read_task(&t, &rc, 0, 1);
	CHECK_EQ(iscsi_submit(r.s, &t), 0);
	settle(&r);
	advance(&r, 3100, 100);
	CHECK(r.peer.connections >= 2);
	CHECK_EQ(rc.done, 0);
	r.peer.script = SCRIPT_NORMAL;
	advance(&r, 5000, 100);
	CHECK_EQ(rc.done, 1);
	CHECK_EQ(t.result, 0);
	CHECK(!memcmp(rc.buf, r.peer.lun, BS));
	rig_stop(&r);
}

/* The gate: after a reconnect the LUN's serial number is read again;
 * another disk keeps I/O waiting, the right one lets it through. */
static void test_gate_refuses_another_disk(void)
{
	struct rig r;
	struct iscsi_disk disk;
	struct iscsi_disk_guard *g;
	struct read_check rc = { .done = 0 };
	struct iscsi_task t;
	char err[200];

	rig_start(&r, SCRIPT_NORMAL);
	rig_login(&r);
	memset(&disk, 0, sizeof(disk));
	snprintf(disk.serial, sizeof(disk.serial), "disk-A");
	disk.capacity.block_size = BS;
	disk.capacity.blocks = LUN_BYTES / BS;
	g = iscsi_disk_guard_new(&r.loop, r.s, &disk);
	CHECK(g != NULL);
	snprintf(r.peer.serial, sizeof(r.peer.serial), "disk-B");
	iscsi_session_drop(r.s);
	advance(&r, 1000, 50);
	CHECK(iscsi_session_ready(r.s));
	CHECK(iscsi_session_gate_shut(r.s));
	CHECK_EQ(iscsi_disk_guard_mismatches(g), 1);
	read_task(&t, &rc, 0, 2);
	CHECK_EQ(iscsi_submit(r.s, &t), 0);
	advance(&r, 5000, 100);
	CHECK_EQ(rc.done, 0);           /* nothing went to the other disk */
	CHECK_EQ(r.peer.reads, 0);
	snprintf(r.peer.serial, sizeof(r.peer.serial), "disk-A");
	advance(&r, 30000, 500);        /* the recheck finds the right disk */
	CHECK(!iscsi_session_gate_shut(r.s));
	CHECK_EQ(rc.done, 1);
	CHECK_EQ(iscsi_task_status(&t, err, sizeof(err)), 0);
	CHECK(!memcmp(rc.buf, r.peer.lun, sizeof(rc.buf)));
	rig_stop(&r);
	iscsi_disk_guard_free(g);
}

/* A target that keeps its command window shut (MaxCmdSN stays while
 * ExpCmdSN moves on) holds commands back, with no loop at one instant
 * and nothing beyond the window sent; a ping that opens it lets them go
 * at once, with no timer to wait for. */
static void test_window_closed(void)
{
	struct rig r;
	struct read_check rc[4];
	struct iscsi_task t[4];
	uint8_t b[ISCSI_BHS_LEN] = { ISCSI_OP_NOP_IN, ISCSI_FLAG_FINAL };

	rig_start(&r, SCRIPT_NORMAL);
	r.peer.window_fixed = true;
	r.peer.maxcmdsn = 1;            /* room for one command */
	rig_login(&r);
	for (int i = 0; i < 4; i++) {
		rc[i].done = 0;
		read_task(&t[i], &rc[i], (uint32_t)i, 1);
		CHECK_EQ(iscsi_submit(r.s, &t[i]), 0);
	}
	advance(&r, 12000, 100);        /* keepalives come and go */
	CHECK_EQ(r.peer.reads, 1);
	CHECK_EQ(rc[0].done, 1);
	CHECK_EQ(iscsi_session_cmd_window(r.s), 0);
	CHECK(r.s->timer.deadline > fake_now);
	r.peer.maxcmdsn = r.peer.expcmdsn + 7;
	put_be32(b + 16, ISCSI_RESERVED_TAG);
	put_be32(b + 20, 0x77);         /* a ping, carrying the new window */
	put_be32(b + 24, r.peer.statsn);
	peer_send(&r.peer, b, NULL, 0);
	settle(&r);
	CHECK_EQ(r.peer.reads, 4);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(rc[i].done, 1);
		CHECK_EQ(t[i].result, 0);
		CHECK(!memcmp(rc[i].buf, r.peer.lun + i * BS, BS));
	}
	rig_stop(&r);
}

/* The first login against a target that answers "out of resources"
 * (0x0301) a number of times: retried with backoff until it logs in; the
 * times of the attempts are written to at[]. */
static unsigned login_through_refusals(int64_t *at, unsigned max, unsigned refusals)
{
	struct rig r;
	unsigned n;

	rig_start(&r, SCRIPT_NORMAL);
	r.peer.refuse_logins = refusals;
	r.peer.refuse_status = 0x0301;
	r.cfg.first_login_timeout_ms = 30000;
	rig_new_session(&r);
	/* From one timer of the session to the next: each attempt at the
	 * instant its backoff ends. */
	settle(&r);
	for (int i = 0; i < 100 && !iscsi_session_ready(r.s); i++) {
		fake_now = MAX(fake_now + 1, r.s->timer.deadline);
		settle(&r);
	}
	CHECK(iscsi_session_ready(r.s));
	n = MIN(max, r.peer.connections);
	for (unsigned i = 0; i < n; i++)
		at[i] = r.peer.accepted_at[i] - r.peer.accepted_at[0];
	rig_stop(&r);
	return r.peer.connections;
}

/* A storm: target errors (status class 3) are retried within the first
 * login's deadline, with gaps that grow to the backoff cap; and 16
 * machines refused at the same instant do not come back in step: their
 * later attempts spread over many instants. */
static void test_login_out_of_resources(void)
{
	enum { MACHINES = 16, REFUSALS = 8 };
	int64_t at[MACHINES][REFUSALS + 1];
	unsigned distinct = 0;

	for (int m = 0; m < MACHINES; m++) {
		fake_now = 2000000;
		CHECK_EQ(login_through_refusals(at[m], REFUSALS + 1, REFUSALS),
			 REFUSALS + 1);
		for (int k = 1; k <= REFUSALS; k++) {
			int64_t gap = at[m][k] - at[m][k - 1];
			CHECK(gap <= 5000 + 10);        /* never past the cap */
			CHECK(k < 4 || gap >= 500);     /* backing off */
		}
	}
	/* The 6th attempt: after 0 + 0.25 + 0.5 + 1 + 2 s of backoff, each
	 * anywhere in its upper half: 16 machines at 16 instants, or nearly. */
	for (int m = 0; m < MACHINES; m++) {
		bool seen = false;
		for (int o = 0; o < m; o++)
			seen |= at[o][5] == at[m][5];
		distinct += !seen;
	}
	CHECK(distinct >= MACHINES / 2);
}

/* Wrong credentials end the first login at once, with the target's
 * word; during recovery they are retried (a restarting target may refuse
 * them for a moment), and the session comes back when it accepts. */
static void test_auth_failure(void)
{
	struct rig r;
	struct read_check rc = { .done = 0 };
	struct iscsi_task t;

	rig_start(&r, SCRIPT_NORMAL);
	r.peer.refuse_logins = 1;
	r.peer.refuse_status = 0x0201;
	rig_new_session(&r);
	settle(&r);
	CHECK_EQ(r.s->state, S_FAILED);
	CHECK_EQ(iscsi_session_errno(r.s), -EACCES);
	CHECK(strstr(iscsi_session_error(r.s), "authentication failure") != NULL);
	CHECK_EQ(r.peer.connections, 1);
	iscsi_session_free(r.s);

	rig_login(&r);
	r.peer.refuse_logins = 3;
	iscsi_session_drop(r.s);
	read_task(&t, &rc, 1, 1);
	CHECK_EQ(iscsi_submit(r.s, &t), 0);
	advance(&r, 5000, 50);
	CHECK_EQ(r.peer.refuse_logins, 0);
	CHECK(iscsi_session_ready(r.s));
	CHECK_EQ(rc.done, 1);
	CHECK_EQ(t.result, 0);
	rig_stop(&r);
}

/* A target asks for a logout: we log out at once (nothing in flight)
 * and reconnect after its Time2Wait, capped; a target that does not
 * answer the Logout costs 5 s. A logout the caller asks for ends the
 * session, and a new start logs in again. */
static void test_logout_paths(void)
{
	struct rig r;

	rig_start(&r, SCRIPT_NORMAL);
	r.peer.answer_logout = true;
	r.peer.logout_time2wait = 65535;
	rig_login(&r);
	send_async(&r.peer, 1, 0, 65535);       /* logout requested */
	settle(&r);
	CHECK_EQ(r.peer.logouts, 1);
	CHECK_EQ(r.s->state, S_WAIT);
	CHECK_EQ(r.s->reconnect_at - fake_now, SESSION_TARGET_WAIT_MAX_MS);
	advance(&r, SESSION_TARGET_WAIT_MAX_MS, 500);
	CHECK(iscsi_session_ready(r.s));
	CHECK_EQ(r.peer.connections, 2);

	r.peer.answer_logout = false;
	send_async(&r.peer, 1, 0, 2);
	settle(&r);
	CHECK_EQ(r.peer.logouts, 2);
	CHECK_EQ(r.s->state, S_LOGOUT);
	advance(&r, 5000, 100);
	CHECK(r.s->state == S_WAIT || iscsi_session_ready(r.s));
	advance(&r, 2000, 100);
	CHECK(iscsi_session_ready(r.s));
	CHECK_EQ(r.peer.connections, 3);

	r.peer.answer_logout = true;
	CHECK_EQ(iscsi_session_logout(r.s), 0);
	settle(&r);
	CHECK(iscsi_session_closed(r.s));
	CHECK_EQ(iscsi_session_start(r.s), 0);
	settle(&r);
	CHECK(iscsi_session_ready(r.s));
	CHECK_EQ(r.peer.connections, 4);
	rig_stop(&r);
}

/* A path bound to its NIC goes through it only: through lo it logs in;
 * bound to an interface that does not exist, it does not, and says which
 * one is missing. */
static void test_bound_to_interface(void)
{
	struct rig r;

	rig_start(&r, SCRIPT_NORMAL);
	snprintf(r.cfg.ifname, sizeof(r.cfg.ifname), "lo");
	rig_login(&r);
	CHECK_EQ(r.peer.connections, 1);
	iscsi_session_free(r.s);

	snprintf(r.cfg.ifname, sizeof(r.cfg.ifname), "nosuch0");
	r.cfg.first_login_timeout_ms = 2000;
	rig_new_session(&r);
	advance(&r, 3000, 100);
	CHECK_EQ(r.s->state, S_FAILED);
	CHECK_EQ(iscsi_session_errno(r.s), -ENODEV);
	CHECK(strstr(iscsi_session_error(r.s), "no interface nosuch0") != NULL);
	CHECK_EQ(r.peer.connections, 1);
	rig_stop(&r);
}

/* A state the machine does not know is a bug: it stops there, loudly,
 * rather than guess. */
static void test_impossible_state_aborts(void)
{
	struct rig r;
	int status = 0;
	pid_t pid;

	rig_start(&r, SCRIPT_NORMAL);
	rig_login(&r);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		r.s->state = (enum session_state)99;
		iscsi_session_logout(r.s);
		_exit(0);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	rig_stop(&r);
}

static const struct test_case tests[] = {
	{ "backoff", test_backoff_after_login_drops },
	{ "redirect", test_redirect_loop },
	{ "async-drop", test_async_drop_capped_and_replacement },
	{ "ping-flood-stall", test_ping_flood_stalls_send },
	{ "ping-flood-nop", test_ping_flood_nop_goes_out },
	{ "short-read", test_short_read_is_retried },
	{ "silent", test_silent_target },
	{ "lies-forever", test_lies_forever_hit_replacement },
	{ "gate", test_gate_refuses_another_disk },
	{ "window", test_window_closed },
	{ "out-of-resources", test_login_out_of_resources },
	{ "auth", test_auth_failure },
	{ "logout", test_logout_paths },
	{ "ifname", test_bound_to_interface },
	{ "impossible-state", test_impossible_state_aborts },
};

int main(void)
{
	return test_run_cases("session", tests, ARRAY_SIZE(tests));
}
