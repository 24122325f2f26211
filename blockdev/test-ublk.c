/* SPDX-License-Identifier: MIT */
/* ublk without the kernel's ublk_drv: the SET_PARAMS computation, and the
 * raw io_uring with NOPs, woken through the event loop as ublk.c is. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "test.h"
#include "ublk.h"

#define PAGE 4096u

static struct bdev_config lun(uint32_t bs, uint64_t size)
{
	return (struct bdev_config){ .size = size, .block_size = bs, .index = -1 };
}

static void test_io_buf(void)
{
	struct bdev_config c = lun(512, 1u << 30);

	CHECK_EQ(ublk_io_buf_bytes(&c, PAGE), 1u << 20);      /* default and cap */
	c.max_io_bytes = 262144;                               /* MaxBurstLength */
	CHECK_EQ(ublk_io_buf_bytes(&c, PAGE), 262144);
	c.max_io_bytes = 8u << 20;
	CHECK_EQ(ublk_io_buf_bytes(&c, PAGE), 1u << 20);
	c.max_io_bytes = 10000;                                /* down to pages */
	CHECK_EQ(ublk_io_buf_bytes(&c, PAGE), 8192);
	c.max_io_bytes = 512;                                  /* at least one */
	CHECK_EQ(ublk_io_buf_bytes(&c, PAGE), PAGE);
}

static void test_basic(void)
{
	struct bdev_config c = lun(512, 64ull << 20);
	struct ublk_params p;

	c.physical_block_size = 4096;
	c.can_flush = c.can_fua = true;
	CHECK_EQ(ublk_params_fill(&c, 262144, PAGE, &p), 0);
	CHECK_EQ(p.len, sizeof(p));
	CHECK_EQ(p.types, UBLK_PARAM_TYPE_BASIC);
	CHECK_EQ(p.basic.logical_bs_shift, 9);
	CHECK_EQ(p.basic.physical_bs_shift, 12);
	CHECK_EQ(p.basic.io_min_shift, 12);
	CHECK_EQ(p.basic.io_opt_shift, 12);
	CHECK_EQ(p.basic.max_sectors, 512);
	CHECK_EQ(p.basic.dev_sectors, 131072);
	CHECK_EQ(p.basic.attrs, UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA);

	c = lun(4096, 1ull << 40);
	c.read_only = true;
	c.opt_io_bytes = 1u << 20;
	c.physical_block_size = 1000;          /* nonsense: ignored */
	CHECK_EQ(ublk_params_fill(&c, 1u << 20, PAGE, &p), 0);
	CHECK_EQ(p.basic.logical_bs_shift, 12);
	CHECK_EQ(p.basic.physical_bs_shift, 12);
	CHECK_EQ(p.basic.io_opt_shift, 20);
	CHECK_EQ(p.basic.dev_sectors, 1ull << 31);
	CHECK_EQ(p.basic.attrs, UBLK_ATTR_READ_ONLY);
}

static void test_bad_geometry(void)
{
	struct bdev_config c = lun(520, 1u << 20);
	struct ublk_params p;

	CHECK_EQ(ublk_params_fill(&c, 1u << 20, PAGE, &p), -EINVAL);
	c.block_size = 8192;                   /* above the page */
	CHECK_EQ(ublk_params_fill(&c, 1u << 20, PAGE, &p), -EINVAL);
	c.block_size = 256;
	CHECK_EQ(ublk_params_fill(&c, 1u << 20, PAGE, &p), -EINVAL);
	c.block_size = 512;
	CHECK_EQ(ublk_params_fill(&c, 2048, PAGE, &p), -EINVAL);
}

static void test_discard(void)
{
	struct bdev_config c = lun(512, 1u << 30);
	struct ublk_params p;

	c.can_discard = true;
	c.discard_granularity = 4096;
	c.discard_alignment = 0;
	c.max_discard_bytes = 4194304ull * 512;   /* tgtd: 4 Mi blocks per UNMAP */
	CHECK_EQ(ublk_params_fill(&c, 1u << 20, PAGE, &p), 0);
	CHECK_EQ(p.types, UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD);
	CHECK_EQ(p.discard.discard_granularity, 4096);
	CHECK_EQ(p.discard.max_discard_sectors, 4194304);
	CHECK_EQ(p.discard.max_discard_segments, 1);
	CHECK_EQ(p.discard.max_write_zeroes_sectors, 0);

	c.discard_granularity = 0;             /* unknown: the physical block */
	c.max_discard_bytes = 0;               /* unknown: no limit of ours */
	CHECK_EQ(ublk_params_fill(&c, 1u << 20, PAGE, &p), 0);
	CHECK_EQ(p.discard.discard_granularity, 512);
	CHECK_EQ(p.discard.max_discard_sectors, UINT32_MAX);

	c.read_only = true;                    /* nothing to discard on */
	CHECK_EQ(ublk_params_fill(&c, 1u << 20, PAGE, &p), 0);
	CHECK_EQ(p.types, UBLK_PARAM_TYPE_BASIC);
}

static unsigned ring_wakeups;

static void on_ring(struct ev_source *src, uint32_t revents)
{
	(void)src;
	(void)revents;
	ring_wakeups++;
}

/* The ring as ublk.c drives it: fill, submit, wait in epoll, reap. */
static void test_uring_nops(void)
{
	struct uring r;
	struct ev_loop loop;
	struct ev_source src;
	struct io_uring_cqe cqe;
	unsigned n = 0, seen = 0;
	int e = uring_init(&r, 8);

	if (e == -ENOSYS || e == -EPERM) {
		printf("test-ublk: io_uring unavailable here (%s), ring test skipped\n",
		       strerror(-e));
		return;
	}
	CHECK_EQ(e, 0);
	if (e < 0)
		return;
	CHECK_EQ(ev_loop_init(&loop), 0);
	src = (struct ev_source){ .fd = r.fd, .events = EPOLLIN, .deadline = -1,
				  .on_io = on_ring };
	CHECK_EQ(ev_add(&loop, &src), 0);
	/* More than the ring holds: get_sqe says full, a submit frees it. */
	for (unsigned i = 0; i < 12; i++) {
		struct io_uring_sqe *sqe = uring_get_sqe(&r);
		if (!sqe) {
			CHECK_EQ(i, r.sq_entries);
			CHECK(uring_submit(&r, 0) > 0);
			sqe = uring_get_sqe(&r);
		}
		CHECK(sqe != NULL);
		if (!sqe)
			break;
		sqe->opcode = IORING_OP_NOP;
		sqe->user_data = 100 + i;
		n++;
	}
	CHECK(uring_submit(&r, 0) > 0);
	for (int round = 0; round < 10 && !ring_wakeups; round++)
		ev_run_once(&loop, 100);
	CHECK(ring_wakeups > 0);
	while (uring_next_cqe(&r, &cqe)) {
		CHECK_EQ(cqe.user_data, 100 + seen);
		CHECK_EQ(cqe.res, 0);
		seen++;
	}
	CHECK_EQ(seen, n);
	CHECK(!uring_next_cqe(&r, &cqe));
	ev_del(&src);
	ev_loop_close(&loop);
	uring_exit(&r);
}

int main(void)
{
	test_io_buf();
	test_basic();
	test_bad_geometry();
	test_discard();
	test_uring_nops();
	return test_report("test-ublk");
}
