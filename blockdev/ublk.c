/* SPDX-License-Identifier: MIT */
/*
 * ublk backend (Linux 6.0+, ublk_drv): the kernel hands block requests to
 * us through io_uring commands on /dev/ublkcN; we answer each with
 * COMMIT_AND_FETCH, which also asks for the next request on that tag.
 *
 * One queue, driven by the daemon's one event loop: the ring's fd is an
 * ev_source, readable when completions wait (no second loop, no thread).
 * The ring is raw syscalls (ublk-uring.c says why not liburing).
 *
 * Buffers: one locked arena (cfg->buffer_bytes, 2 MiB by default) that
 * the requests in flight share, each taking a run of pages its size. The
 * largest request (max_io_buf_bytes, one MaxBurstLength) is then not paid
 * for by every tag: 32 tags of 1 MiB would lock 32 MiB. A READ gets its
 * run when it arrives and hands it to the kernel at COMMIT, which copies
 * the data out of it then. A WRITE arrives first without its data
 * (UBLK_F_NEED_GET_DATA); we answer NEED_GET_DATA with its run and the
 * kernel copies the data in. The consumer gets the run as bdev_io.buf, so
 * Data-In lands in it and Data-Out leaves from it with no copy of ours.
 * A request that does not fit yet waits, in arrival order, for runs to
 * be freed (each is at most half the arena, so it always fits in time).
 *
 * Requests never time out here: a privileged server's ublk device has no
 * request timeout of its own (the block layer's timer just re-arms), so a
 * request waits as long as the consumer takes, e.g. while the iSCSI
 * session reconnects. With UBLK_F_USER_RECOVERY(_REISSUE) the disk also
 * outlives this process: the kernel holds requests until a new server
 * recovers the device, and re-issues those we had not answered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ublk.h"

#define UBLK_CONTROL "/dev/ublk-control"
/* Without a queue depth from the caller (serve.c gives the target's
 * command window, capped by its buffer budget), 64 tags. */
#define UBLK_DEPTH_DEFAULT 64
#define UBLK_START_TIMEOUT_MS 120000    /* START_DEV reads the partition table */
#define UBLK_CTRL_TIMEOUT_MS 10000
/* How long a new server waits for the kernel to notice that the old one
 * died and quiesce the disk (6.12 checks every 5 s). */
#define UBLK_RECOVER_WAIT_MS 30000
#define UDATA_CTRL (1ull << 63)
/* 6.9+: DEL_DEV that does not wait for the last reference to go. */
#define UBLK_U_CMD_DEL_DEV_ASYNC _IOR('u', 0x14, struct ublksrv_ctrl_cmd)

/* The arena's pages, tracked in a bitmap. */
#define ARENA_PAGE 4096u
#define ARENA_PAGES_MAX 4096u           /* 16 MiB */
#define ARENA_DEFAULT (2u << 20)

struct ublk_io {
	struct bdev_io io;
	struct bdev_ublk *dev;
	uint16_t tag;
	uint16_t npages;                /* the run held, from first_page */
	uint16_t first_page;
	bool get_data;                  /* a WRITE waiting for its data */
	struct ublk_io *next_wait;
};

struct bdev_ublk {
	struct ev_loop *loop;
	struct bdev_config cfg;
	struct bdev_consumer consumer;
	struct uring ring;
	struct ev_source src;
	int ctrl_fd, cdev_fd;
	uint32_t dev_id;
	bool added, started;
	uint16_t depth;
	uint32_t buf_bytes;
	uint64_t flags;                 /* UBLK_F_* the kernel accepted */
	const struct ublksrv_io_desc *descs;
	size_t descs_len;
	uint8_t *bufs;                  /* the arena */
	size_t bufs_len;
	uint64_t used[ARENA_PAGES_MAX / 64];
	struct ublk_io *wait_head, *wait_tail;  /* for pages, in order */
	uint16_t *release;              /* tags whose run is freed once their
					 * COMMIT has been submitted */
	unsigned nrelease;
	struct ublk_io *ios;
	unsigned pending;               /* requests with the consumer */
	bool reaping;                   /* in a reap or a release: completions
					 * only queue, the caller submits */
	bool ctrl_busy;
	int ctrl_res;
	char path[32];
};

/* ---- Commands */

static struct io_uring_sqe *get_sqe(struct bdev_ublk *u)
{
	struct io_uring_sqe *sqe = uring_get_sqe(&u->ring);

	/* The ring holds a slot per tag plus control: never full unless
	 * the kernel is slow to consume; then push what is queued. */
	if (!sqe && uring_submit(&u->ring, 0) >= 0)
		sqe = uring_get_sqe(&u->ring);
	return sqe;
}

static int ctrl_queue(struct bdev_ublk *u, uint32_t op, const struct ublksrv_ctrl_cmd *cmd)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	int r;

	if (!sqe)
		return -EBUSY;
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = u->ctrl_fd;
	sqe->cmd_op = op;
	sqe->user_data = UDATA_CTRL;
	_Static_assert(sizeof(*cmd) <= URING_SQE_SIZE - offsetof(struct io_uring_sqe, cmd),
		       "control command fits a 128-byte SQE");
	memcpy(sqe->cmd, cmd, sizeof(*cmd));
	u->ctrl_busy = true;
	r = uring_submit(&u->ring, 0);
	if (r < 0)
		u->ctrl_busy = false;
	return r < 0 ? r : 0;
}

static bool ctrl_answered(void *ctx)
{
	return !((const struct bdev_ublk *)ctx)->ctrl_busy;
}

/* Runs one control command while the loop keeps serving: the kernel does
 * control work in an io-wq thread (it refuses the inline attempt), and
 * START_DEV waits for reads of the partition table that we must answer. */
static int ctrl_run(struct bdev_ublk *u, uint32_t op, struct ublksrv_ctrl_cmd cmd,
		    int timeout_ms)
{
	int r = ctrl_queue(u, op, &cmd);

	if (r == 0)
		r = ev_run_until(u->loop, ctrl_answered, u, ev_now(u->loop) + timeout_ms);
	return r < 0 ? r : u->ctrl_res;
}

static void queue_io_cmd(struct bdev_ublk *u, uint16_t tag, uint32_t op, int32_t result,
			 const uint8_t *buf)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	struct ublksrv_io_cmd *c;

	if (!sqe) {
		log_err("ublk: no room in the ring for tag %u", tag);
		return;
	}
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = u->cdev_fd;
	sqe->cmd_op = op;
	sqe->user_data = tag;
	c = (struct ublksrv_io_cmd *)sqe->cmd;
	c->q_id = 0;
	c->tag = tag;
	c->result = result;
	c->addr = (uint64_t)(uintptr_t)buf;
}

/* ---- The arena */

static bool page_used(const struct bdev_ublk *u, unsigned p)
{
	return u->used[p / 64] >> (p % 64) & 1;
}

static void mark_pages(struct bdev_ublk *u, unsigned first, unsigned n, bool used)
{
	for (unsigned p = first; p < first + n; p++) {
		if (used)
			u->used[p / 64] |= 1ull << (p % 64);
		else
			u->used[p / 64] &= ~(1ull << (p % 64));
	}
}

/* First fit: a run of pages for uio->io.len bytes, or false. */
static bool take_run(struct bdev_ublk *u, struct ublk_io *uio)
{
	unsigned pages = (unsigned)(u->bufs_len / ARENA_PAGE);
	unsigned need = (uio->io.len + ARENA_PAGE - 1) / ARENA_PAGE, run = 0;

	if (need == 0)
		need = 1;
	for (unsigned p = 0; p < pages; p++) {
		run = page_used(u, p) ? 0 : run + 1;
		if (run == need) {
			unsigned first = p + 1 - need;
			mark_pages(u, first, need, true);
			uio->first_page = (uint16_t)first;
			uio->npages = (uint16_t)need;
			uio->io.buf = u->bufs + (size_t)first * ARENA_PAGE;
			return true;
		}
	}
	return false;
}

static void drop_run(struct bdev_ublk *u, struct ublk_io *uio)
{
	if (uio->npages)
		mark_pages(u, uio->first_page, uio->npages, false);
	uio->npages = 0;
}

/* ---- Requests */

static const enum bdev_op op_of_ublk[] = {
	[UBLK_IO_OP_READ] = BDEV_OP_READ,
	[UBLK_IO_OP_WRITE] = BDEV_OP_WRITE,
	[UBLK_IO_OP_FLUSH] = BDEV_OP_FLUSH,
	[UBLK_IO_OP_DISCARD] = BDEV_OP_DISCARD,
};

static bool request_fits(const struct bdev_ublk *u, const struct bdev_io *io)
{
	if (io->op == BDEV_OP_FLUSH)
		return true;
	if (io->offset > u->cfg.size || io->len > u->cfg.size - io->offset)
		return false;
	return io->op == BDEV_OP_DISCARD || io->len <= u->buf_bytes;
}

static bool needs_buffer(const struct bdev_io *io)
{
	return io->op == BDEV_OP_READ || io->op == BDEV_OP_WRITE;
}

/* The request has its run (or needs none): a WRITE asks for its data
 * first, the rest goes to the consumer. */
static void run_request(struct bdev_ublk *u, struct ublk_io *uio)
{
	if (uio->get_data)
		queue_io_cmd(u, uio->tag, UBLK_U_IO_NEED_GET_DATA, 0, uio->io.buf);
	else
		u->consumer.submit(u->consumer.ctx, &uio->io);
}

/* Requests waiting for pages start in arrival order while they fit. */
static void start_waiting(struct bdev_ublk *u)
{
	while (u->wait_head && take_run(u, u->wait_head)) {
		struct ublk_io *uio = u->wait_head;
		u->wait_head = uio->next_wait;
		if (!u->wait_head)
			u->wait_tail = NULL;
		run_request(u, uio);
	}
}

static void wait_for_pages(struct bdev_ublk *u, struct ublk_io *uio)
{
	uio->next_wait = NULL;
	if (u->wait_tail)
		u->wait_tail->next_wait = uio;
	else
		u->wait_head = uio;
	u->wait_tail = uio;
}

/* A request from the kernel: with its data (need_data false) or, a
 * WRITE under UBLK_F_NEED_GET_DATA, before it. */
static void start_request(struct bdev_ublk *u, uint16_t tag, bool need_data)
{
	const struct ublksrv_io_desc *d = &u->descs[tag];
	struct ublk_io *uio = &u->ios[tag];
	uint8_t op = ublksrv_get_op(d);
	bool known = op < ARRAY_SIZE(op_of_ublk);

	/* The data of a WRITE that asked for it is in its run now. */
	if (uio->get_data && !need_data) {
		uio->get_data = false;
		u->consumer.submit(u->consumer.ctx, &uio->io);
		return;
	}
	uio->io = (struct bdev_io){
		.op = known ? op_of_ublk[op] : BDEV_OP_FLUSH,
		.fua = ublksrv_get_flags(d) & UBLK_IO_F_FUA,
		.offset = d->start_sector << 9,
		.len = d->nr_sectors << 9,
		.owner = uio,
	};
	uio->get_data = need_data;
	if (uio->io.op == BDEV_OP_FLUSH)
		uio->io.len = 0;
	u->pending++;
	if (!known || !request_fits(u, &uio->io)) {
		log_warn("ublk: refusing request op %u, %u sectors at %llu", op, d->nr_sectors,
			 (unsigned long long)d->start_sector);
		uio->get_data = false;
		bdev_ublk_io_complete(&uio->io, known ? -EINVAL : -EOPNOTSUPP);
		return;
	}
	if (needs_buffer(&uio->io) && (u->wait_head || !take_run(u, uio))) {
		wait_for_pages(u, uio);
		return;
	}
	run_request(u, uio);
}

/* The one place that submits. Runs whose COMMIT went in are free then (the
 * kernel copies a READ's data while it takes the command, inline in
 * io_uring_enter); waiting requests take them, and what they queue (their
 * NEED_GET_DATA, an answer the consumer gives at once) goes in next round.
 * While it runs, and while CQEs are reaped, completions only queue. */
static void submit_and_release(struct bdev_ublk *u)
{
	for (;;) {
		int r = uring_submit(&u->ring, 0);

		if (r < 0) {
			log_err("ublk: submitting to the ring failed: %s", strerror(-r));
			return;
		}
		/* Not all taken yet, or nothing to free: the next call frees. */
		if (__atomic_load_n(u->ring.sq_head, __ATOMIC_ACQUIRE) != u->ring.local_tail ||
		    !u->nrelease)
			return;
		for (unsigned i = 0; i < u->nrelease; i++)
			drop_run(u, &u->ios[u->release[i]]);
		u->nrelease = 0;
		u->reaping = true;
		start_waiting(u);
		u->reaping = false;
	}
}

void bdev_ublk_io_complete(struct bdev_io *io, int err)
{
	struct ublk_io *uio = io->owner;
	struct bdev_ublk *u = uio->dev;
	bool data = io->op == BDEV_OP_READ || io->op == BDEV_OP_WRITE;

	u->pending--;
	/* READ and WRITE report the bytes done; the rest 0 or -errno. The
	 * address is where the kernel copies a READ's data from. */
	queue_io_cmd(u, uio->tag, UBLK_U_IO_COMMIT_AND_FETCH_REQ,
		     err < 0 ? err : (data ? (int32_t)io->len : 0), uio->npages ? io->buf : NULL);
	if (uio->npages)
		u->release[u->nrelease++] = uio->tag;
	if (!u->reaping)
		submit_and_release(u);
}

static void handle_cqe(struct bdev_ublk *u, const struct io_uring_cqe *cqe)
{
	uint64_t tag = cqe->user_data;

	if (tag & UDATA_CTRL) {
		u->ctrl_res = cqe->res;
		u->ctrl_busy = false;
		return;
	}
	if (tag >= u->depth)
		return;
	if (cqe->res == UBLK_IO_RES_OK || cqe->res == UBLK_IO_RES_NEED_GET_DATA) {
		start_request(u, (uint16_t)tag, cqe->res == UBLK_IO_RES_NEED_GET_DATA);
		return;
	}
	/* UBLK_IO_RES_ABORT: the device is stopping (or a new server will
	 * recover it); the tag is done. */
	if (cqe->res != UBLK_IO_RES_ABORT)
		log_warn("ublk: tag %u: %s", (unsigned)tag, strerror(-cqe->res));
}

static void on_ring(struct ev_source *src, uint32_t revents)
{
	struct bdev_ublk *u = src->ctx;
	struct io_uring_cqe cqe;

	(void)revents;
	u->reaping = true;
	for (unsigned budget = 4u * u->depth + 8; budget > 0 && uring_next_cqe(&u->ring, &cqe);
	     budget--)
		handle_cqe(u, &cqe);
	u->reaping = false;
	submit_and_release(u);
}

/* ---- Setup */

static int ctrl_features(struct bdev_ublk *u, uint64_t *features)
{
	struct ublksrv_ctrl_cmd cmd = { .dev_id = UINT32_MAX, .queue_id = UINT16_MAX,
					.addr = (uint64_t)(uintptr_t)features,
					.len = sizeof(*features) };

	*features = 0;
	return ctrl_run(u, UBLK_U_CMD_GET_FEATURES, cmd, UBLK_CTRL_TIMEOUT_MS);
}

static int ctrl_dev_info(struct bdev_ublk *u, uint32_t id, struct ublksrv_ctrl_dev_info *info)
{
	struct ublksrv_ctrl_cmd cmd = { .dev_id = id, .queue_id = UINT16_MAX,
					.addr = (uint64_t)(uintptr_t)info, .len = sizeof(*info) };

	memset(info, 0, sizeof(*info));
	return ctrl_run(u, UBLK_U_CMD_GET_DEV_INFO, cmd, UBLK_CTRL_TIMEOUT_MS);
}

static int ctrl_add(struct bdev_ublk *u, uint64_t features)
{
	uint32_t id = u->cfg.index >= 0 ? (uint32_t)u->cfg.index : UINT32_MAX;
	struct ublksrv_ctrl_dev_info info = {
		.nr_hw_queues = 1,
		.queue_depth = u->depth,
		.max_io_buf_bytes = u->buf_bytes,
		.dev_id = id,
		.ublksrv_pid = getpid(),
		.flags = UBLK_F_NEED_GET_DATA |
			 (features & (UBLK_F_USER_RECOVERY | UBLK_F_USER_RECOVERY_REISSUE |
				      UBLK_F_CMD_IOCTL_ENCODE)),
	};
	struct ublksrv_ctrl_cmd cmd = { .dev_id = id, .queue_id = UINT16_MAX,
					.addr = (uint64_t)(uintptr_t)&info, .len = sizeof(info) };
	int r = ctrl_run(u, UBLK_U_CMD_ADD_DEV, cmd, UBLK_CTRL_TIMEOUT_MS);

	if (r < 0)
		return r;
	u->added = true;
	u->dev_id = info.dev_id;
	u->flags = info.flags;
	u->buf_bytes = info.max_io_buf_bytes;
	return 0;
}

static int ctrl_set_params(struct bdev_ublk *u, char *err, size_t errlen)
{
	struct ublk_params p;
	struct ublksrv_ctrl_cmd cmd = { .dev_id = u->dev_id, .queue_id = UINT16_MAX,
					.addr = (uint64_t)(uintptr_t)&p, .len = sizeof(p) };
	int r = ublk_params_fill(&u->cfg, u->buf_bytes, (uint32_t)sysconf(_SC_PAGESIZE), &p);

	if (r < 0) {
		snprintf(err, errlen, "ublk cannot take %u-byte blocks", u->cfg.block_size);
		return r;
	}
	r = ctrl_run(u, UBLK_U_CMD_SET_PARAMS, cmd, UBLK_CTRL_TIMEOUT_MS);
	if (r < 0)
		snprintf(err, errlen, "ublk SET_PARAMS: %s", strerror(-r));
	return r;
}

/* /dev/ublkcN: devtmpfs makes it during ADD_DEV; allow it a moment. */
static int open_char_dev(struct bdev_ublk *u)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/ublkc%u", u->dev_id);
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			return fd < 0 ? -errno : fd;
		usleep(10000);
	}
	return -ENOENT;
}

/* The arena: the caller's budget, but room for two of the largest
 * requests (one may wait for the other, never for ever), and no more
 * than the bitmap covers. */
static size_t arena_bytes(const struct bdev_ublk *u)
{
	size_t bytes = u->cfg.buffer_bytes ? u->cfg.buffer_bytes : ARENA_DEFAULT;

	bytes = MAX(bytes, 2 * (size_t)u->buf_bytes);
	bytes = MIN(bytes, (size_t)ARENA_PAGES_MAX * ARENA_PAGE);
	return bytes / ARENA_PAGE * ARENA_PAGE;
}

static int map_queue(struct bdev_ublk *u)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	u->descs_len = ((size_t)u->depth * sizeof(struct ublksrv_io_desc) + page - 1) / page * page;
	p = mmap(NULL, u->descs_len, PROT_READ, MAP_SHARED | MAP_POPULATE, u->cdev_fd,
		 UBLKSRV_CMD_BUF_OFFSET);
	if (p == MAP_FAILED)
		return -errno;
	u->descs = p;
	u->bufs_len = arena_bytes(u);
	p = mmap(NULL, u->bufs_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		u->bufs = NULL;
		return -errno;
	}
	u->bufs = p;
	u->ios = calloc(u->depth, sizeof(*u->ios));
	u->release = calloc(u->depth, sizeof(*u->release));
	if (!u->ios || !u->release)
		return -ENOMEM;
	for (uint16_t t = 0; t < u->depth; t++)
		u->ios[t] = (struct ublk_io){ .dev = u, .tag = t };
	return 0;
}

static int fetch_all(struct bdev_ublk *u)
{
	int r;

	/* No buffer with a FETCH: each request gets its run when it comes. */
	for (uint16_t t = 0; t < u->depth; t++)
		queue_io_cmd(u, t, UBLK_U_IO_FETCH_REQ, 0, NULL);
	r = uring_submit(&u->ring, 0);
	return r < 0 ? r : 0;
}

static int start_or_recover(struct bdev_ublk *u, bool recover, char *err, size_t errlen)
{
	struct ublksrv_ctrl_cmd cmd = { .dev_id = u->dev_id, .queue_id = UINT16_MAX,
					.data = { (uint64_t)getpid() } };
	int r = recover ? ctrl_run(u, UBLK_U_CMD_START_USER_RECOVERY, cmd, UBLK_CTRL_TIMEOUT_MS)
			: 0;

	if (r < 0) {
		snprintf(err, errlen, "ublk START_USER_RECOVERY: %s", strerror(-r));
		return r;
	}
	r = open_char_dev(u);
	if (r < 0) {
		snprintf(err, errlen, "/dev/ublkc%u: %s", u->dev_id, strerror(-r));
		return r;
	}
	u->cdev_fd = r;
	r = map_queue(u);
	if (r == 0)
		r = fetch_all(u);
	if (r < 0) {
		snprintf(err, errlen, "ublk queue setup: %s", strerror(-r));
		return r;
	}
	r = ctrl_run(u, recover ? UBLK_U_CMD_END_USER_RECOVERY : UBLK_U_CMD_START_DEV, cmd,
		     UBLK_START_TIMEOUT_MS);
	if (r < 0) {
		snprintf(err, errlen, "ublk %s: %s", recover ? "END_USER_RECOVERY" : "START_DEV",
			 strerror(-r));
		return r;
	}
	u->started = true;
	return 0;
}

/* A device at cfg->index that lost its server and waits for a new one. */
static bool waits_for_recovery(struct bdev_ublk *u)
{
	struct ublksrv_ctrl_dev_info info;

	if (u->cfg.index < 0 || ctrl_dev_info(u, (uint32_t)u->cfg.index, &info) < 0)
		return false;
	if (info.state != UBLK_S_DEV_QUIESCED || !(info.flags & UBLK_F_USER_RECOVERY))
		return false;
	u->dev_id = info.dev_id;
	u->flags = info.flags;
	u->depth = info.queue_depth;
	u->buf_bytes = info.max_io_buf_bytes;
	return info.nr_hw_queues == 1;
}

/* cfg->recover: the old server was just killed, and the kernel may not
 * have noticed yet (the disk is still LIVE): wait for it to quiesce. */
static int wait_for_recovery(struct bdev_ublk *u, char *err, size_t errlen)
{
	for (int waited = 0; waited < UBLK_RECOVER_WAIT_MS; waited += 100) {
		struct ublksrv_ctrl_dev_info info;
		int r = ctrl_dev_info(u, (uint32_t)u->cfg.index, &info);

		if (r < 0) {
			snprintf(err, errlen, "ublk device %d is gone: %s", u->cfg.index,
				 strerror(-r));
			return -ENODEV;
		}
		if (info.state == UBLK_S_DEV_QUIESCED && waits_for_recovery(u))
			return 0;
		if (info.state != UBLK_S_DEV_LIVE || !(info.flags & UBLK_F_USER_RECOVERY)) {
			snprintf(err, errlen, "ublk device %d cannot be recovered (state %u)",
				 u->cfg.index, info.state);
			return -ENODEV;
		}
		usleep(100 * 1000);
	}
	snprintf(err, errlen, "ublk device %d still has a server after %d s", u->cfg.index,
		 UBLK_RECOVER_WAIT_MS / 1000);
	return -ETIMEDOUT;
}

static int ublk_open(struct bdev_ublk *u)
{
	int r;

	u->ctrl_fd = open(UBLK_CONTROL, O_RDWR | O_CLOEXEC);
	if (u->ctrl_fd < 0)
		return -errno;
	r = uring_init(&u->ring, u->depth + 2u);
	if (r < 0)
		return r;
	u->src = (struct ev_source){ .fd = u->ring.fd, .events = EPOLLIN, .deadline = -1,
				     .on_io = on_ring, .ctx = u };
	return ev_add(u->loop, &u->src);
}

int bdev_ublk_create(struct ev_loop *loop, const struct bdev_config *cfg,
		     const struct bdev_consumer *consumer, struct bdev_ublk **out,
		     char *err, size_t errlen)
{
	struct bdev_ublk *u = calloc(1, sizeof(*u));
	uint64_t features;
	bool recover;
	int r;

	if (!u)
		return -ENOMEM;
	*u = (struct bdev_ublk){ .loop = loop, .cfg = *cfg, .consumer = *consumer,
				 .ctrl_fd = -1, .cdev_fd = -1, .ring.fd = -1,
				 .depth = cfg->queue_depth ? cfg->queue_depth : UBLK_DEPTH_DEFAULT };
	u->depth = MIN(u->depth, (uint16_t)UBLK_MAX_QUEUE_DEPTH);
	u->buf_bytes = ublk_io_buf_bytes(cfg, (uint32_t)sysconf(_SC_PAGESIZE));
	r = ublk_open(u);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", UBLK_CONTROL, strerror(-r));
		goto fail;
	}
	/* GET_FEATURES is 6.5+; before it, no optional flag is asked for. */
	if (ctrl_features(u, &features) < 0)
		features = 0;
	if (cfg->recover) {
		r = wait_for_recovery(u, err, errlen);
		if (r < 0)
			goto fail;
		recover = true;
	} else {
		recover = waits_for_recovery(u);
	}
	if (!recover) {
		r = ctrl_add(u, features);
		if (r < 0) {
			snprintf(err, errlen, "ublk ADD_DEV: %s", strerror(-r));
			goto fail;
		}
		r = ctrl_set_params(u, err, errlen);
		if (r < 0)
			goto fail;
	}
	r = start_or_recover(u, recover, err, errlen);
	if (r < 0)
		goto fail;
	snprintf(u->path, sizeof(u->path), "/dev/ublkb%u", u->dev_id);
	log_info("%s: %s, %u tags, requests up to %u KiB from %zu KiB of buffers%s", u->path,
		 recover ? "recovered" : "started", u->depth, u->buf_bytes >> 10, u->bufs_len >> 10,
		 u->flags & UBLK_F_USER_RECOVERY ? ", survives a server restart" : "");
	*out = u;
	return 0;
fail:
	bdev_ublk_destroy(u);
	return r;
}

bool bdev_ublk_available(void)
{
	return access(UBLK_CONTROL, F_OK) == 0;
}

const char *bdev_ublk_path(const struct bdev_ublk *u)
{
	return u->path;
}

int bdev_ublk_recovery_index(const struct bdev_ublk *u)
{
	return u->flags & UBLK_F_USER_RECOVERY ? (int)u->dev_id : -1;
}

unsigned bdev_ublk_pending(const struct bdev_ublk *u)
{
	return u->pending;
}

static void ctrl_try(struct bdev_ublk *u, uint32_t op)
{
	struct ublksrv_ctrl_cmd cmd = { .dev_id = u->dev_id, .queue_id = UINT16_MAX };
	int r = ctrl_run(u, op, cmd, UBLK_CTRL_TIMEOUT_MS);

	if (r < 0)
		log_debug("ublk control command 0x%x on %u: %s", op, u->dev_id, strerror(-r));
}

void bdev_ublk_destroy(struct bdev_ublk *u)
{
	if (!u)
		return;
	/* STOP_DEV removes the disk and aborts the tags' FETCHes, which
	 * drops their references to the char device. */
	if (u->started)
		ctrl_try(u, UBLK_U_CMD_STOP_DEV);
	if (u->descs)
		munmap((void *)u->descs, u->descs_len);
	if (u->cdev_fd >= 0)
		close(u->cdev_fd);
	if (u->added) {
		struct ublksrv_ctrl_cmd cmd = { .dev_id = u->dev_id, .queue_id = UINT16_MAX };
		if (ctrl_run(u, UBLK_U_CMD_DEL_DEV_ASYNC, cmd, UBLK_CTRL_TIMEOUT_MS) < 0)
			ctrl_try(u, UBLK_U_CMD_DEL_DEV);
	}
	if (u->src.loop)
		ev_del(&u->src);
	uring_exit(&u->ring);
	if (u->ctrl_fd >= 0)
		close(u->ctrl_fd);
	if (u->bufs)
		munmap(u->bufs, u->bufs_len);
	free(u->ios);
	free(u->release);
	free(u);
}

/* ---- The ops row */

static int ops_create(struct ev_loop *loop, const struct bdev_config *cfg,
		      const struct bdev_consumer *consumer, void **dev, char *err, size_t errlen)
{
	struct bdev_ublk *u;
	int r = bdev_ublk_create(loop, cfg, consumer, &u, err, errlen);

	if (r == 0) {
		*dev = u;
		boot_step_end(BOOT_STEP_BLOCKDEV, ev_now(loop));
	}
	return r;
}

static const char *ops_path(const void *dev)
{
	return bdev_ublk_path(dev);
}

static unsigned ops_pending(const void *dev)
{
	return bdev_ublk_pending(dev);
}

static int ops_recovery_index(const void *dev)
{
	return bdev_ublk_recovery_index(dev);
}

static void ops_destroy(void *dev)
{
	bdev_ublk_destroy(dev);
}

const struct bdev_ops bdev_ublk_ops = {
	.name = "ublk",
	.create = ops_create,
	.path = ops_path,
	.pending = ops_pending,
	.complete = bdev_ublk_io_complete,
	.recovery_index = ops_recovery_index,
	.destroy = ops_destroy,
};
