/* SPDX-License-Identifier: MIT */
/* Blocking wrappers for command-line use: run the loop until done. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "session.h"

/* No deadline of our own: the session's timers (login, replacement,
 * logout) decide when an operation has failed. */

static bool login_settled(void *ctx)
{
	const struct iscsi_session *s = ctx;

	return s->state == S_READY || s->state == S_FAILED || s->state == S_CLOSED;
}

static bool logout_settled(void *ctx)
{
	const struct iscsi_session *s = ctx;

	return s->state == S_CLOSED || s->state == S_FAILED;
}

int iscsi_sync_login(struct ev_loop *loop, struct iscsi_session *s)
{
	int r = s->state == S_IDLE ? iscsi_session_start(s) : 0;

	if (r == 0)
		r = ev_run_until(loop, login_settled, s, -1);
	if (r < 0)
		return r;
	if (s->state == S_READY) {
		boot_step_end(BOOT_STEP_LOGIN, ev_now(loop));
		return 0;
	}
	return s->error_code ? s->error_code : -ENOTCONN;
}

static void mark_done(struct iscsi_task *t)
{
	*(bool *)t->ctx = true;
}

int iscsi_sync_task(struct ev_loop *loop, struct iscsi_session *s,
		    struct iscsi_task *t)
{
	bool done = false;
	int r;

	t->done = mark_done;
	t->ctx = &done;
	r = iscsi_submit(s, t);
	if (r < 0)
		return r;
	r = ev_run_until(loop, ev_flag_done, &done, -1);
	return r < 0 ? r : t->result;
}

int iscsi_sync_logout(struct ev_loop *loop, struct iscsi_session *s)
{
	int r = iscsi_session_logout(s);

	return r < 0 ? r : ev_run_until(loop, logout_settled, s, -1);
}

static void batch_done(struct iscsi_task *t)
{
	*(size_t *)t->ctx -= 1;
}

static bool batch_settled(void *ctx)
{
	return *(size_t *)ctx == 0;
}

int iscsi_sync_tasks(struct ev_loop *loop, struct iscsi_session *s, struct iscsi_task *t,
		     size_t n)
{
	size_t left = 0;

	for (size_t i = 0; i < n; i++) {
		int r;
		t[i].done = batch_done;
		t[i].ctx = &left;
		left++;
		r = iscsi_submit(s, &t[i]);
		if (r < 0) {
			t[i].result = r;
			left--;
		}
	}
	/* Every task sent must end before their buffers go. */
	return ev_run_until(loop, batch_settled, &left, -1);
}

int iscsi_task_outcome(const struct iscsi_session *s, const struct iscsi_task *t,
		       char *msg, size_t len)
{
	if (t->result >= 0)
		return iscsi_task_status(t, msg, len);
	snprintf(msg, len, "%s", t->result != -ECANCELED ? strerror(-t->result)
							 : iscsi_session_error(s));
	return t->result;
}

int iscsi_sync_command(struct ev_loop *loop, struct iscsi_session *s,
		       struct iscsi_task *t, char *msg, size_t len)
{
	int r = iscsi_sync_task(loop, s, t);

	if (r == 0)
		return iscsi_task_status(t, msg, len);
	snprintf(msg, len, "%s", t->result < 0 && t->result != -ECANCELED ?
		 strerror(-t->result) : iscsi_session_error(s));
	return r;
}
