/* SPDX-License-Identifier: MIT */
/* ev_run_until: done before any round, done once a timer fired, the
 * deadline on a fake clock, and a broken epoll that must not read as done. */
#include <errno.h>
#include <unistd.h>

#include "test.h"
#include "util.h"

/* A clock that moves CLOCK_STEP ms each time it is read, so a deadline
 * comes after a few short rounds whatever the real time does. */
#define CLOCK_STEP 10

static int64_t step_clock(void *ctx)
{
	int64_t *t = ctx;

	*t += CLOCK_STEP;
	return *t;
}

struct counted {
	int calls;
	bool answer;
};

static bool count_done(void *ctx)
{
	struct counted *c = ctx;

	c->calls++;
	return c->answer;
}

static void set_fired(struct ev_source *src)
{
	*(bool *)src->ctx = true;
}

/* A timer source, already due unless deadline says otherwise. */
static struct ev_source timer(bool *fired, int64_t deadline)
{
	return (struct ev_source){ .fd = -1, .deadline = deadline,
				   .on_timer = set_fired, .ctx = fired };
}

static void test_done_at_once(void)
{
	struct ev_loop loop;
	struct counted c = { 0, true };
	bool fired = false;
	struct ev_source t = timer(&fired, 0);

	CHECK_EQ(ev_loop_init(&loop), 0);
	CHECK_EQ(ev_add(&loop, &t), 0);
	/* done wins over a deadline long past, and no round runs: the due
	 * timer stays unfired. */
	CHECK_EQ(ev_run_until(&loop, count_done, &c, 0), 0);
	CHECK_EQ(c.calls, 1);
	CHECK(!fired);
	ev_del(&t);
	ev_loop_close(&loop);
}

static void test_done_after_timer(void)
{
	struct ev_loop loop;
	bool fired = false;
	struct ev_source t;

	CHECK_EQ(ev_loop_init(&loop), 0);
	t = timer(&fired, ev_now(&loop) + 5);
	CHECK_EQ(ev_add(&loop, &t), 0);
	CHECK_EQ(ev_run_until(&loop, ev_flag_done, &fired, -1), 0);
	CHECK(fired);
	ev_del(&t);
	ev_loop_close(&loop);
}

static void test_deadline_on_fake_clock(void)
{
	struct ev_loop loop;
	struct counted c = { 0, false };
	int64_t clock = 0;
	bool fired = false;
	struct ev_source late = timer(&fired, 1000);

	CHECK_EQ(ev_loop_init(&loop), 0);
	ev_set_clock(&loop, step_clock, &clock);
	CHECK_EQ(ev_add(&loop, &late), 0);
	CHECK_EQ(ev_run_until(&loop, count_done, &c, 3 * CLOCK_STEP), -ETIMEDOUT);
	/* Asked before each round; the deadline read on the fake clock. */
	CHECK(c.calls >= 2);
	CHECK(clock >= 3 * CLOCK_STEP);
	CHECK(clock < 1000);
	CHECK(!fired);
	/* Done at the deadline is done. */
	c.answer = true;
	CHECK_EQ(ev_run_until(&loop, count_done, &c, clock), 0);
	ev_del(&late);
	ev_loop_close(&loop);
}

static void test_broken_epoll(void)
{
	struct ev_loop loop;
	struct counted c = { 0, false };

	CHECK_EQ(ev_loop_init(&loop), 0);
	close(loop.epfd);
	CHECK_EQ(ev_run_until(&loop, count_done, &c, -1), -EBADF);
	CHECK_EQ(c.calls, 1);
	/* A serving loop (no done) ends the same way. */
	CHECK_EQ(ev_run_until(&loop, NULL, NULL, -1), -EBADF);
	loop.epfd = -1;
	ev_loop_close(&loop);
}

int main(void)
{
	test_done_at_once();
	test_done_after_timer();
	test_deadline_on_fake_clock();
	test_broken_epoll();
	return test_report("evloop");
}
