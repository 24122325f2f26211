/* SPDX-License-Identifier: MIT */
/*
 * A minimal io_uring over raw syscalls, for ublk's uring_cmds only: one
 * ring with 128-byte SQEs (ublk's control commands need the big ones),
 * submitted from and reaped on the daemon's one thread.
 *
 * Why not liburing: we use three syscalls and two shared rings, with one
 * opcode (IORING_OP_URING_CMD). liburing.a would add ~30 KiB to the static
 * binary (whose goal is 256 KiB), and would have to be built against musl
 * in scripts/deps.sh like nettle and libkmod; this file is smaller than
 * that build recipe.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ublk.h"

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	long r = syscall(__NR_io_uring_setup, entries, p);

	return r < 0 ? -errno : (int)r;
}

static int sys_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags)
{
	long r = syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);

	return r < 0 ? -errno : (int)r;
}

static void *map_ring(int fd, size_t len, off_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

int uring_init(struct uring *r, unsigned entries)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 };
	uint8_t *sq, *cq;
	int fd;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	fd = sys_setup(entries, &p);
	if (fd < 0)
		return fd;
	r->fd = fd;
	/* One mapping for both rings (IORING_FEAT_SINGLE_MMAP, 5.4+). */
	r->ring_len = MAX(p.sq_off.array + p.sq_entries * sizeof(uint32_t),
			  p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe));
	r->sqes_len = (size_t)p.sq_entries * URING_SQE_SIZE;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		uring_exit(r);
		return -EOPNOTSUPP;
	}
	r->ring = map_ring(fd, r->ring_len, IORING_OFF_SQ_RING);
	r->sqes = map_ring(fd, r->sqes_len, IORING_OFF_SQES);
	if (!r->ring || !r->sqes) {
		uring_exit(r);
		return -ENOMEM;
	}
	sq = cq = r->ring;
	r->sq_head = (uint32_t *)(sq + p.sq_off.head);
	r->sq_tail = (uint32_t *)(sq + p.sq_off.tail);
	r->sq_mask = *(uint32_t *)(sq + p.sq_off.ring_mask);
	r->sq_entries = p.sq_entries;
	r->sq_array = (uint32_t *)(sq + p.sq_off.array);
	r->cq_head = (uint32_t *)(cq + p.cq_off.head);
	r->cq_tail = (uint32_t *)(cq + p.cq_off.tail);
	r->cq_mask = *(uint32_t *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	r->local_tail = *r->sq_tail;
	return 0;
}

void uring_exit(struct uring *r)
{
	if (r->sqes)
		munmap(r->sqes, r->sqes_len);
	if (r->ring)
		munmap(r->ring, r->ring_len);
	if (r->fd >= 0)
		close(r->fd);
	r->sqes = r->ring = NULL;
	r->fd = -1;
}

struct io_uring_sqe *uring_get_sqe(struct uring *r)
{
	uint32_t head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	struct io_uring_sqe *sqe;
	uint32_t idx;

	if (r->local_tail - head >= r->sq_entries)
		return NULL;
	idx = r->local_tail & r->sq_mask;
	sqe = (struct io_uring_sqe *)((uint8_t *)r->sqes + (size_t)idx * URING_SQE_SIZE);
	memset(sqe, 0, URING_SQE_SIZE);
	r->sq_array[idx] = idx;
	r->local_tail++;
	return sqe;
}

int uring_submit(struct uring *r, unsigned wait_nr)
{
	/* Everything the kernel has not consumed: also entries an earlier
	 * enter left behind (it stops at an SQE it cannot take now). */
	uint32_t pending = r->local_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	int n;

	if (!pending && !wait_nr)
		return 0;
	__atomic_store_n(r->sq_tail, r->local_tail, __ATOMIC_RELEASE);
	for (int tries = 0; tries < 100; tries++) {
		n = sys_enter(r->fd, pending, wait_nr, wait_nr ? IORING_ENTER_GETEVENTS : 0);
		if (n != -EINTR)
			return n;
	}
	return -EINTR;
}

bool uring_next_cqe(struct uring *r, struct io_uring_cqe *out)
{
	uint32_t head = *r->cq_head;

	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return false;
	*out = r->cqes[head & r->cq_mask];
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return true;
}
