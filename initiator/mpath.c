/* SPDX-License-Identifier: MIT */
/* One disk over several paths: a session (and a disk guard) per path,
 * each command on a path that can carry it now. A path is usable when
 * its session is logged in with the gate open, i.e. its LUN showed the
 * disk's identity. Commands held by a path that went down move to a
 * usable one, and commands that waited for every path move to the
 * first that comes up. The replacement timeout is the multipath
 * layer's: it runs only while no path is usable. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

struct mpath_path {
	struct iscsi_mpath *m;
	struct iscsi_session *s;
	struct iscsi_disk_guard *guard;
	unsigned index;
	uint64_t commands;
};

struct iscsi_mpath {
	struct ev_loop *loop;
	struct iscsi_disk disk;
	enum iscsi_mpath_policy policy;
	struct mpath_path paths[ISCSI_MPATH_MAX];
	unsigned npaths;
	unsigned active;                /* failover: the path in use */
	unsigned next;                  /* round-robin: where the next search starts */
	unsigned failovers;
	int64_t replacement_ms;         /* < 0: never */
	uint64_t stall_completed;       /* commands done when the timeout began */
	bool failfast;                  /* it passed, with no path since */
	struct ev_source timer;         /* the replacement timeout */
};

static bool usable(const struct mpath_path *p)
{
	return session_usable(p->s);
}

static const char *portal(const struct mpath_path *p)
{
	return p->s->cfg.host;
}

/* The path for the next command: the active one while it is usable
 * (failover), the next usable one in turn (round-robin). NULL when none
 * is usable. */
static struct mpath_path *pick(struct iscsi_mpath *m)
{
	if (m->policy == ISCSI_MPATH_FAILOVER && usable(&m->paths[m->active]))
		return &m->paths[m->active];
	for (unsigned i = 0; i < m->npaths; i++) {
		unsigned k = (m->next + i) % m->npaths;

		if (!usable(&m->paths[k]))
			continue;
		if (m->policy == ISCSI_MPATH_ROUND_ROBIN)
			m->next = (k + 1) % m->npaths;
		else
			m->active = k;
		return &m->paths[k];
	}
	return NULL;
}

static void fail_task(struct iscsi_task *t, int err)
{
	t->result = err;
	t->status = 0;
	t->sense_len = 0;
	t->residual = 0;
	t->underflow = t->overflow = false;
	t->done(t);
}

/* Moves what path from holds (see session_take_tasks) to path to, in
 * order; returns how many. */
static unsigned move_tasks(struct mpath_path *from, struct mpath_path *to)
{
	struct task_list held = { 0 };
	unsigned n = 0;

	session_take_tasks(from->s, &held);
	while (held.head) {
		struct iscsi_task *t = held.head;

		task_list_remove(&held, t);
		to->commands++;
		if (iscsi_submit(to->s, t) < 0)
			fail_task(t, -EIO);
		n++;
	}
	return n;
}

/* A path went down: what it held goes to a usable path, if there is one;
 * otherwise it waits there for the first path to come back. */
static void path_down(struct iscsi_mpath *m, struct mpath_path *p)
{
	struct mpath_path *to = pick(m);
	unsigned n;

	if (!to)
		return;
	n = move_tasks(p, to);
	if (n == 0)
		return;
	m->failovers++;
	log_warn("path %u (%s) is down: %u command(s) go on path %u (%s)", p->index + 1,
		 portal(p), n, to->index + 1, portal(to));
}

/* A path can carry I/O: commands that waited on paths that cannot move
 * to it (or, in turn, to the others). */
static void path_up(struct iscsi_mpath *m, struct mpath_path *p)
{
	log_info("path %u (%s) carries I/O", p->index + 1, portal(p));
	m->failfast = false;
	for (unsigned i = 0; i < m->npaths; i++) {
		struct mpath_path *q = &m->paths[i];
		struct mpath_path *to;

		if (q == p || usable(q))
			continue;
		to = pick(m);
		if (to && move_tasks(q, to) > 0)
			log_info("commands that waited on path %u go on path %u", q->index + 1,
				 to->index + 1);
	}
}

static bool any_usable(const struct iscsi_mpath *m)
{
	for (unsigned i = 0; i < m->npaths; i++)
		if (usable(&m->paths[i]))
			return true;
	return false;
}

static uint64_t completions(const struct iscsi_mpath *m)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < m->npaths; i++)
		n += m->paths[i].s->ncompleted;
	return n;
}

static bool holds_commands(const struct iscsi_mpath *m)
{
	for (unsigned i = 0; i < m->npaths; i++) {
		const struct iscsi_session *s = m->paths[i].s;

		if (s->waiting.count || s->inflight.count)
			return true;
	}
	return false;
}

/* The replacement timeout runs from the first moment no path is usable.
 * A path coming back does not stop it (a target may log us in and then
 * drop every command): a command completing does, or nothing held. */
static void watch_replacement(struct iscsi_mpath *m)
{
	if (any_usable(m) || m->timer.deadline >= 0 || m->replacement_ms < 0)
		return;
	m->timer.deadline = ev_now(m->loop) + m->replacement_ms;
	m->stall_completed = completions(m);
}

static void on_replacement_timeout(struct ev_source *src)
{
	struct iscsi_mpath *m = src->ctx;

	src->deadline = -1;
	if (completions(m) != m->stall_completed || !holds_commands(m)) {
		watch_replacement(m);   /* progress: a new stall starts now, if any */
		return;
	}
	m->failfast = !any_usable(m);
	log_err("replacement timeout: the disk's I/O could not go on for %lld ms on "
		"any path; failing it", (long long)m->replacement_ms);
	for (unsigned i = 0; i < m->npaths; i++) {
		struct task_list held = { 0 };

		session_take_tasks(m->paths[i].s, &held);
		while (held.head) {
			struct iscsi_task *t = held.head;

			task_list_remove(&held, t);
			fail_task(t, -EIO);
		}
	}
}

static void on_path_event(void *ctx, enum iscsi_event ev)
{
	struct mpath_path *p = ctx;
	struct iscsi_mpath *m = p->m;

	switch (ev) {
	case ISCSI_EVENT_RECOVERING:
	case ISCSI_EVENT_FAILED:
	case ISCSI_EVENT_CLOSED:
	case ISCSI_EVENT_GATE_SHUT:
		path_down(m, p);
		break;
	case ISCSI_EVENT_READY:
	case ISCSI_EVENT_GATE_OPEN:
		if (usable(p))
			path_up(m, p);
		break;
	}
	watch_replacement(m);
}

struct iscsi_mpath *iscsi_mpath_new(struct ev_loop *loop, const struct iscsi_disk *d,
				    enum iscsi_mpath_policy policy,
				    int64_t replacement_timeout_ms)
{
	struct iscsi_mpath *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->loop = loop;
	m->disk = *d;
	m->policy = policy;
	m->replacement_ms = replacement_timeout_ms;
	m->timer = (struct ev_source){ .fd = -1, .deadline = -1,
				       .on_timer = on_replacement_timeout, .ctx = m };
	if (ev_add(loop, &m->timer) < 0) {
		free(m);
		return NULL;
	}
	return m;
}

int iscsi_mpath_add(struct iscsi_mpath *m, struct iscsi_session *s, bool verified)
{
	struct mpath_path *p;

	if (m->npaths >= ISCSI_MPATH_MAX)
		return -ENOSPC;
	p = &m->paths[m->npaths];
	*p = (struct mpath_path){ .m = m, .s = s, .index = m->npaths };
	p->guard = iscsi_disk_guard_new(m->loop, s, &m->disk);
	if (!p->guard)
		return -ENOMEM;
	m->npaths++;
	/* The path the disk was probed on is the one in use. */
	if (verified)
		m->active = p->index;
	session_make_path(s);
	iscsi_session_on_event(s, on_path_event, p);
	/* Not yet the disk: nothing but the guard's check goes on it. */
	if (!verified)
		iscsi_session_shut_gate(s);
	if (s->state == S_IDLE && iscsi_session_start(s) < 0)
		log_err("path %u (%s): %s", p->index + 1, portal(p), iscsi_session_error(s));
	watch_replacement(m);
	return 0;
}

int iscsi_mpath_submit(struct iscsi_mpath *m, struct iscsi_task *t)
{
	struct mpath_path *p = pick(m);

	if (!p) {
		if (m->failfast)
			return -EIO;
		/* No path now: the command waits on the active one, and goes
		 * on the first that comes up. */
		p = &m->paths[m->active];
	}
	p->commands++;
	return iscsi_submit(p->s, t);
}

void iscsi_mpath_logout(struct iscsi_mpath *m)
{
	for (unsigned i = 0; i < m->npaths; i++)
		iscsi_session_logout(m->paths[i].s);
}

bool iscsi_mpath_closed(const struct iscsi_mpath *m)
{
	for (unsigned i = 0; i < m->npaths; i++)
		if (m->paths[i].s->state != S_CLOSED && m->paths[i].s->state != S_FAILED)
			return false;
	return true;
}

void iscsi_mpath_start(struct iscsi_mpath *m)
{
	for (unsigned i = 0; i < m->npaths; i++)
		if (iscsi_session_closed(m->paths[i].s))
			iscsi_session_start(m->paths[i].s);
}

void iscsi_mpath_free(struct iscsi_mpath *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->npaths; i++) {
		iscsi_session_on_event(m->paths[i].s, NULL, NULL);
		iscsi_session_free(m->paths[i].s);
		iscsi_disk_guard_free(m->paths[i].guard);
	}
	ev_del(&m->timer);
	free(m);
}

unsigned iscsi_mpath_paths(const struct iscsi_mpath *m)
{
	return m->npaths;
}

struct iscsi_session *iscsi_mpath_session(const struct iscsi_mpath *m, unsigned i)
{
	return i < m->npaths ? m->paths[i].s : NULL;
}

static const char *path_state(const struct iscsi_mpath *m, const struct mpath_path *p)
{
	if (usable(p))
		return m->policy == ISCSI_MPATH_FAILOVER && p->index != m->active ? "standby"
										 : "active";
	if (p->s->state == S_FAILED)
		return "failed";
	if (iscsi_session_ready(p->s) && iscsi_disk_guard_mismatches(p->guard))
		return "other disk";
	return "down";
}

void iscsi_mpath_path_info(const struct iscsi_mpath *m, unsigned i,
			   struct iscsi_mpath_path_info *out)
{
	const struct mpath_path *p = &m->paths[i];

	*out = (struct iscsi_mpath_path_info){
		.state = path_state(m, p),
		.reconnects = iscsi_session_recoveries(p->s),
		.mismatches = iscsi_disk_guard_mismatches(p->guard),
		.commands = p->commands,
	};
}

unsigned iscsi_mpath_failovers(const struct iscsi_mpath *m)
{
	return m->failovers;
}

const char *iscsi_mpath_policy_name(enum iscsi_mpath_policy p)
{
	return p == ISCSI_MPATH_ROUND_ROBIN ? "round-robin" : "failover";
}

int iscsi_mpath_parse_policy(const char *s, enum iscsi_mpath_policy *out)
{
	if (!strcmp(s, "failover"))
		*out = ISCSI_MPATH_FAILOVER;
	else if (!strcmp(s, "round-robin"))
		*out = ISCSI_MPATH_ROUND_ROBIN;
	else
		return -EINVAL;
	return 0;
}
