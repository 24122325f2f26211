/* SPDX-License-Identifier: MIT */
/* The one event loop: epoll for fds, a deadline per source for timers. */
#include <errno.h>
#include <limits.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util.h"

int ev_loop_init(struct ev_loop *loop)
{
	loop->sources = NULL;
	loop->clock = NULL;
	loop->clock_ctx = NULL;
	loop->npending = 0;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epfd < 0 ? -errno : 0;
}

void ev_loop_close(struct ev_loop *loop)
{
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->epfd = -1;
	loop->sources = NULL;
}

static int register_fd(struct ev_source *src)
{
	struct epoll_event ev = { .events = src->events, .data.ptr = src };

	if (epoll_ctl(src->loop->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0)
		return -errno;
	src->fd_registered = true;
	return 0;
}

static void unregister_fd(struct ev_source *src)
{
	if (src->fd_registered)
		epoll_ctl(src->loop->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	src->fd_registered = false;
}

int ev_add(struct ev_loop *loop, struct ev_source *src)
{
	src->loop = loop;
	src->fd_registered = false;
	if (src->fd >= 0) {
		int r = register_fd(src);
		if (r < 0)
			return r;
	}
	src->next = loop->sources;
	loop->sources = src;
	return 0;
}

void ev_del(struct ev_source *src)
{
	struct ev_source **pp;

	if (!src->loop)
		return;
	unregister_fd(src);
	for (int i = 0; i < src->loop->npending; i++)
		if (src->loop->pending[i] == src)
			src->loop->pending[i] = NULL;
	for (pp = &src->loop->sources; *pp; pp = &(*pp)->next) {
		if (*pp == src) {
			*pp = src->next;
			break;
		}
	}
	src->loop = NULL;
}

int ev_set_events(struct ev_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (src->events == events && src->fd_registered)
		return 0;
	src->events = events;
	if (!src->fd_registered)
		return src->fd >= 0 ? register_fd(src) : 0;
	if (epoll_ctl(src->loop->epfd, EPOLL_CTL_MOD, src->fd, &ev) < 0)
		return -errno;
	return 0;
}

int ev_set_fd(struct ev_source *src, int fd, uint32_t events)
{
	unregister_fd(src);
	src->fd = fd;
	src->events = events;
	return fd >= 0 ? register_fd(src) : 0;
}

static int64_t earliest_deadline(const struct ev_loop *loop)
{
	int64_t best = -1;

	for (const struct ev_source *s = loop->sources; s; s = s->next)
		if (s->deadline >= 0 && (best < 0 || s->deadline < best))
			best = s->deadline;
	return best;
}

/* Runs every expired timer once. A callback may add or remove sources,
 * so the walk restarts after each one. */
static int fire_timers(struct ev_loop *loop)
{
	int fired = 0;
	bool again = true;

	while (again) {
		int64_t now = ev_now(loop);
		again = false;
		for (struct ev_source *s = loop->sources; s; s = s->next) {
			if (s->deadline >= 0 && s->deadline <= now) {
				s->deadline = -1;
				if (s->on_timer)
					s->on_timer(s);
				fired++;
				again = true;
				break;
			}
		}
	}
	return fired;
}

void ev_set_clock(struct ev_loop *loop, int64_t (*clock)(void *ctx), void *ctx)
{
	loop->clock = clock;
	loop->clock_ctx = ctx;
}

int64_t ev_now(const struct ev_loop *loop)
{
	return loop->clock ? loop->clock(loop->clock_ctx) : now_ms();
}

int ev_run_once(struct ev_loop *loop, int max_wait_ms)
{
	struct epoll_event events[ARRAY_SIZE(loop->pending)];
	int64_t deadline = earliest_deadline(loop);
	int wait = max_wait_ms, n, handled;

	if (deadline >= 0) {
		int64_t until = deadline - ev_now(loop);
		if (until < 0)
			until = 0;
		if (wait < 0 || until < wait)
			wait = (int)until;
	}
	n = epoll_wait(loop->epfd, events, ARRAY_SIZE(events), wait);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++)
		loop->pending[i] = events[i].data.ptr;
	loop->npending = n;
	for (int i = 0; i < n; i++) {
		struct ev_source *s = loop->pending[i];
		if (s && s->on_io)
			s->on_io(s, events[i].events);
	}
	loop->npending = 0;
	handled = n + fire_timers(loop);
	return handled;
}

/* How long the next round may wait: until the deadline, or for ever
 * (-1). -ETIMEDOUT once the deadline has come. */
static int wait_before(const struct ev_loop *loop, int64_t deadline_ms, int *wait)
{
	int64_t left;

	*wait = -1;
	if (deadline_ms < 0)
		return 0;
	left = deadline_ms - ev_now(loop);
	if (left <= 0)
		return -ETIMEDOUT;
	*wait = left > INT_MAX ? INT_MAX : (int)left;
	return 0;
}

int ev_run_until(struct ev_loop *loop, bool (*done)(void *ctx), void *ctx,
		 int64_t deadline_ms)
{
	while (!done || !done(ctx)) {
		int wait, r = wait_before(loop, deadline_ms, &wait);

		if (r == 0)
			r = ev_run_once(loop, wait);
		if (r < 0)
			return r;
	}
	return 0;
}

bool ev_flag_done(void *flag)
{
	return *(const bool *)flag;
}
