/* SPDX-License-Identifier: MIT */
/*
 * NBD backend: the kernel's nbd driver talks to us over socketpairs, one
 * per queue. Requests wait here for as long as the consumer needs.
 *
 * A socket the kernel closes (not by a disconnect) is replaced: the driver
 * does that when a request stays unanswered for its timeout (nbd-genl.c),
 * as while the iSCSI session recovers, and sends that socket's requests
 * again once a new socket is there. The ones still running here become
 * stale: their answers are dropped, and until the last of them is done
 * no request is passed on and no socket replaced, so that a request sent
 * again never runs beside (or after a later write than) its first copy.
 * A new serving process takes a device over the same way (cfg->recover).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blockdev.h"
#include "nbd-genl.h"
#include "nbd-proto.h"

#define NBD_DEFAULT_MAX_IO (32u << 20)
#define NBD_QUEUES_MAX 16

/* Large request buffers are kept for the next requests: a new one is an
 * mmap whose pages the daemon's mlockall faults in and zeroes every time,
 * then a munmap. Smaller ones come from malloc's own pools. At most
 * NBD_SPARE_BYTES are kept, and none once the disk has been idle a while,
 * so that an idle daemon stays small. */
#define NBD_SPARE_MIN (128u << 10)
#define NBD_SPARE_SLOTS 32
#define NBD_SPARE_BYTES (16u << 20)
#define NBD_SPARE_IDLE_MS 2000

struct bdev_nbd;

struct nbd_queue {
	struct bdev_nbd *dev;
	int fd;
	struct ev_source src;
	uint8_t hdr[NBD_REQUEST_LEN];
	size_t hdr_got;
	struct bdev_io *rx_io;          /* WRITE whose payload is arriving */
	uint32_t rx_got;
	struct bdev_io *tx_head, *tx_tail;
	size_t tx_sent;                 /* of the head reply */
	unsigned gen;                   /* bumped when the socket goes */
	unsigned inflight;              /* this socket's requests not answered */
	bool closed;
	bool relink;                    /* closed; to be replaced */
};

struct bdev_nbd {
	struct ev_loop *loop;
	struct bdev_config cfg;
	struct bdev_consumer consumer;
	struct nbd_queue queues[NBD_QUEUES_MAX];
	unsigned nqueues;
	unsigned pending;
	int index;                      /* -1: not a netlink device */
	bool netlink;                   /* sockets can be replaced */
	bool destroyed;                 /* freed when the last io returns */
	unsigned stale;                 /* requests of closed sockets still running */
	struct bdev_io *held_head, *held_tail;  /* waiting for stale == 0 */
	struct ev_source relink;        /* replaces closed sockets */
	unsigned relink_delay_s;
	struct spare {
		uint8_t *p;
		uint32_t cap;
	} spares[NBD_SPARE_SLOTS];
	unsigned nspares;
	uint32_t spare_bytes;
	struct ev_source idle;          /* lets the spares go */
	char path[32];
};

/* The reply error travels with the io once it completes. */
struct nbd_io {
	struct bdev_io io;
	struct nbd_queue *q;
	unsigned gen;                   /* q->gen when it arrived */
	uint32_t cap;                   /* io.buf's size */
	uint32_t error;
	uint8_t reply[NBD_REPLY_LEN];
};

static void queue_on_io(struct ev_source *src, uint32_t revents);

/* Sizes in 64 KiB steps from NBD_SPARE_MIN, so that spares fit again. */
static uint32_t buf_cap(uint32_t len)
{
	return len < NBD_SPARE_MIN ? len : (len + 0xffffu) & ~0xffffu;
}

static uint8_t *buf_get(struct bdev_nbd *d, uint32_t len, uint32_t *cap)
{
	*cap = buf_cap(len);
	for (unsigned i = 0; *cap >= NBD_SPARE_MIN && i < d->nspares; i++) {
		if (d->spares[i].cap == *cap) {
			uint8_t *p = d->spares[i].p;
			d->spare_bytes -= *cap;
			d->spares[i] = d->spares[--d->nspares];
			return p;
		}
	}
	return malloc(*cap);
}

static void buf_put(struct bdev_nbd *d, uint8_t *p, uint32_t cap)
{
	if (p && !d->destroyed && cap >= NBD_SPARE_MIN && d->nspares < NBD_SPARE_SLOTS &&
	    d->spare_bytes + cap <= NBD_SPARE_BYTES) {
		d->spares[d->nspares++] = (struct spare){ p, cap };
		d->spare_bytes += cap;
		d->idle.deadline = now_ms() + NBD_SPARE_IDLE_MS;
		return;
	}
	free(p);
}

static void free_spares(struct bdev_nbd *d)
{
	while (d->nspares)
		free(d->spares[--d->nspares].p);
	d->spare_bytes = 0;
}

static void on_idle(struct ev_source *src)
{
	free_spares(src->ctx);
}

static void io_free(struct nbd_io *n)
{
	buf_put(n->q->dev, n->io.buf, n->cap);
	free(n);
}

static void schedule_relink(struct bdev_nbd *d, unsigned delay_s)
{
	d->relink.deadline = now_ms() + delay_s * 1000ll;
}

/* Drops the held requests that came through q: the kernel sends them
 * again on the socket that replaces it. */
static void drop_held(struct nbd_queue *q)
{
	struct bdev_nbd *d = q->dev;
	struct bdev_io **pp = &d->held_head, *io;

	d->held_tail = NULL;
	while ((io = *pp)) {
		struct nbd_io *n = io->owner;
		if (n->q != q) {
			d->held_tail = io;
			pp = &io->next;
			continue;
		}
		*pp = io->next;
		q->inflight--;
		d->pending--;
		io_free(n);
	}
}

static void free_replies(struct nbd_queue *q)
{
	while (q->tx_head) {
		struct nbd_io *n = q->tx_head->owner;
		q->tx_head = n->io.next;
		io_free(n);
	}
	q->tx_tail = NULL;
	q->tx_sent = 0;
	if (q->rx_io)
		io_free(q->rx_io->owner);
	q->rx_io = NULL;
	q->hdr_got = 0;
}

/* The socket is gone: what it brought in and still runs is stale. lost:
 * closed without a disconnect, so a netlink device gets a new one. */
static void queue_close(struct nbd_queue *q, bool lost)
{
	struct bdev_nbd *d = q->dev;

	if (q->closed)
		return;
	q->closed = true;
	ev_del(&q->src);
	close(q->fd);
	q->fd = -1;
	free_replies(q);
	drop_held(q);
	d->stale += q->inflight;
	q->inflight = 0;
	q->gen++;
	if (lost && d->netlink && !d->destroyed) {
		log_warn("%s: the kernel closed a socket%s; replacing it", d->path,
			 d->stale ? ", after the requests it brought are done" : "");
		q->relink = true;
		schedule_relink(d, 0);
	}
}

static struct nbd_io *io_new(struct nbd_queue *q, const struct nbd_req *req,
			     enum bdev_op op, bool with_buffer)
{
	struct nbd_io *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->q = q;
	n->gen = q->gen;
	n->io.op = op;
	n->io.fua = req->flags & NBD_REQ_FLAG_FUA;
	n->io.offset = req->from;
	n->io.len = req->len;
	n->io.owner = n;
	memcpy(n->io.handle, req->handle, 8);
	if (with_buffer && req->len) {
		n->io.buf = buf_get(q->dev, req->len, &n->cap);
		if (!n->io.buf) {
			free(n);
			return NULL;
		}
	}
	return n;
}

/* ---- Replies */

static void tx_flush(struct nbd_queue *q)
{
	while (q->tx_head && !q->closed) {
		struct nbd_io *n = q->tx_head->owner;
		bool data = n->io.op == BDEV_OP_READ && n->error == 0;
		struct iovec iov[2] = {
			{ n->reply, NBD_REPLY_LEN },
			{ n->io.buf, data ? n->io.len : 0 },
		};
		size_t total = NBD_REPLY_LEN + iov[1].iov_len, skip = q->tx_sent;
		int first = skip >= NBD_REPLY_LEN ? 1 : 0;
		ssize_t w;

		if (first) {
			iov[1].iov_base = (uint8_t *)iov[1].iov_base + (skip - NBD_REPLY_LEN);
			iov[1].iov_len -= skip - NBD_REPLY_LEN;
		} else {
			iov[0].iov_base = (uint8_t *)iov[0].iov_base + skip;
			iov[0].iov_len -= skip;
		}
		w = writev(q->fd, iov + first, iov[1].iov_len ? 2 - first : 1 - first);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0) {
			log_warn("nbd: sending a reply failed: %s", strerror(errno));
			queue_close(q, true);
			return;
		}
		q->tx_sent += (size_t)w;
		if (q->tx_sent < total)
			break;
		q->tx_sent = 0;
		q->tx_head = n->io.next;
		if (!q->tx_head)
			q->tx_tail = NULL;
		io_free(n);
	}
	if (!q->closed)
		ev_set_events(&q->src, EPOLLIN | (q->tx_head ? EPOLLOUT : 0));
}

/* The replies to send and the requests held back are both FIFO lists. */
static void append(struct bdev_io **head, struct bdev_io **tail, struct bdev_io *io)
{
	io->next = NULL;
	if (*tail)
		(*tail)->next = io;
	else
		*head = io;
	*tail = io;
}

static void reply(struct nbd_queue *q, struct nbd_io *n, uint32_t error)
{
	n->error = error;
	nbd_reply_encode(n->reply, n->io.handle, error);
	append(&q->tx_head, &q->tx_tail, &n->io);
	tx_flush(q);
}

static void release_held(struct bdev_nbd *d)
{
	while (d->held_head && d->stale == 0) {
		struct bdev_io *io = d->held_head;
		d->held_head = io->next;
		if (!d->held_head)
			d->held_tail = NULL;
		d->consumer.submit(d->consumer.ctx, io);
	}
}

void bdev_nbd_io_complete(struct bdev_io *io, int err)
{
	struct nbd_io *n = io->owner;
	struct nbd_queue *q = n->q;
	struct bdev_nbd *d = q->dev;

	d->pending--;
	if (n->gen != q->gen) {
		io_free(n);
		if (d->destroyed) {
			if (d->pending == 0)
				free(d);
			return;
		}
		if (--d->stale == 0) {
			schedule_relink(d, 0);
			release_held(d);
		}
		return;
	}
	q->inflight--;
	reply(q, n, err < 0 ? (uint32_t)-err : 0);
}

/* ---- Requests */

static void submit(struct nbd_queue *q, struct nbd_io *n)
{
	struct bdev_nbd *d = q->dev;

	d->pending++;
	q->inflight++;
	if (d->stale)
		append(&d->held_head, &d->held_tail, &n->io);
	else
		d->consumer.submit(d->consumer.ctx, &n->io);
}

/* A request refused without reaching the consumer. */
static void answer_now(struct nbd_queue *q, struct nbd_io *n, int err)
{
	q->dev->pending++;
	q->inflight++;
	bdev_nbd_io_complete(&n->io, err);
}

static bool request_fits(const struct bdev_nbd *d, const struct nbd_req *r)
{
	uint32_t bs = d->cfg.block_size;

	if (r->type == NBD_TYPE_FLUSH)
		return true;
	return r->from <= d->cfg.size && r->len <= d->cfg.size - r->from &&
	       r->from % bs == 0 && r->len % bs == 0 &&
	       (r->type == NBD_TYPE_TRIM || r->len <= d->cfg.max_io_bytes);
}

static const enum bdev_op op_of_type[] = {
	[NBD_TYPE_READ] = BDEV_OP_READ,
	[NBD_TYPE_WRITE] = BDEV_OP_WRITE,
	[NBD_TYPE_FLUSH] = BDEV_OP_FLUSH,
	[NBD_TYPE_TRIM] = BDEV_OP_DISCARD,
};

/* A whole request header arrived. Returns -1 when the queue must close,
 * 1 for the kernel's disconnect. */
static int handle_request(struct nbd_queue *q)
{
	struct nbd_req req;
	struct nbd_io *n;
	bool bad;

	if (nbd_req_decode(q->hdr, sizeof(q->hdr), &req) < 0) {
		log_warn("nbd: bad request magic; closing the queue");
		return -1;
	}
	if (req.type == NBD_TYPE_DISC)
		return 1;
	bad = req.type >= ARRAY_SIZE(op_of_type) || !request_fits(q->dev, &req);
	/* A bad WRITE still carries its payload: it must be read and dropped,
	 * or the stream loses its framing; beyond our limit we cannot. */
	if (bad && req.type == NBD_TYPE_WRITE && req.len > q->dev->cfg.max_io_bytes) {
		log_warn("nbd: write of %u bytes exceeds the limit; closing the queue", req.len);
		return -1;
	}
	/* Only a good READ, or any WRITE (whose payload must be drained),
	 * gets a buffer; a bad READ's length is not to be trusted. */
	n = io_new(q, &req, bad ? BDEV_OP_FLUSH : op_of_type[req.type],
		   req.type == NBD_TYPE_WRITE || (!bad && req.type == NBD_TYPE_READ));
	if (!n)
		return -1;
	if (req.type == NBD_TYPE_WRITE && req.len) {
		q->rx_io = &n->io;
		q->rx_got = 0;
		n->error = bad ? EINVAL : 0;
		return 0;
	}
	if (bad) {
		answer_now(q, n, -EINVAL);
		return 0;
	}
	submit(q, n);
	return 0;
}

static void payload_done(struct nbd_queue *q)
{
	struct nbd_io *n = q->rx_io->owner;

	q->rx_io = NULL;
	if (n->error) {
		answer_now(q, n, -(int)n->error);
		return;
	}
	submit(q, n);
}

static void rx_run(struct nbd_queue *q)
{
	for (int budget = 64; budget > 0 && !q->closed; budget--) {
		ssize_t r;

		if (q->rx_io) {
			r = read(q->fd, q->rx_io->buf + q->rx_got, q->rx_io->len - q->rx_got);
		} else {
			r = read(q->fd, q->hdr + q->hdr_got, sizeof(q->hdr) - q->hdr_got);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			if (r < 0)
				log_warn("nbd: receive failed: %s", strerror(errno));
			queue_close(q, true);
			return;
		}
		if (q->rx_io) {
			q->rx_got += (uint32_t)r;
			if (q->rx_got == q->rx_io->len)
				payload_done(q);
			continue;
		}
		q->hdr_got += (size_t)r;
		if (q->hdr_got < sizeof(q->hdr))
			continue;
		q->hdr_got = 0;
		r = handle_request(q);
		if (r != 0) {
			queue_close(q, r < 0);
			return;
		}
	}
}

static void queue_on_io(struct ev_source *src, uint32_t revents)
{
	struct nbd_queue *q = src->ctx;

	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		rx_run(q);
	if (!q->closed && (revents & EPOLLOUT))
		tx_flush(q);
}

/* ---- Replacing a socket the kernel closed */

static int open_socket(struct bdev_nbd *d, struct nbd_queue *q, int fd)
{
	q->fd = fd;
	q->closed = false;
	q->src = (struct ev_source){ .fd = fd, .events = EPOLLIN, .deadline = -1,
				     .on_io = queue_on_io, .ctx = q };
	return ev_add(d->loop, &q->src);
}

/* Hands the kernel its end of a new socket in place of a dead one and
 * closes ours of it. The driver answers "done" even when it had no dead
 * socket to replace (it then just drops the one given), so whether it
 * kept it shows on our end: no hang-up. */
static int give_socket(int index, int theirs, int ours)
{
	struct pollfd p = { .fd = ours, .events = POLLRDHUP };
	int r = nbd_genl_reconfigure(index, theirs);

	close(theirs);
	if (r == 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP)))
		r = -ENOSPC;
	return r;
}

static int relink_queue(struct bdev_nbd *d, struct nbd_queue *q)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	r = give_socket(d->index, sv[1], sv[0]);
	if (r == 0) {
		set_nonblocking(sv[0]);
		r = open_socket(d, q, sv[0]);
	}
	if (r < 0) {
		close(sv[0]);
		q->fd = -1;
		q->closed = true;
	}
	return r;
}

static void on_relink(struct ev_source *src)
{
	struct bdev_nbd *d = src->ctx;

	if (d->stale)
		return;         /* the last stale answer schedules us again */
	for (unsigned i = 0; i < d->nqueues; i++) {
		struct nbd_queue *q = &d->queues[i];
		int r;

		if (!q->relink)
			continue;
		r = relink_queue(d, q);
		if (r == 0) {
			q->relink = false;
			d->relink_delay_s = 0;
			log_info("%s: a new socket serves in place of the closed one", d->path);
		} else if (r == -EINVAL) {
			q->relink = false;
			log_err("%s: the kernel takes no new socket (%s): the device is gone",
				d->path, strerror(-r));
		} else {
			d->relink_delay_s = MIN(MAX(1u, d->relink_delay_s * 2), 30u);
			log_warn("%s: replacing a socket failed (%s); again in %u s", d->path,
				 strerror(-r), d->relink_delay_s);
			schedule_relink(d, d->relink_delay_s);
			return;
		}
	}
}

/* ---- Setup */

int bdev_nbd_serve(struct ev_loop *loop, const struct bdev_config *cfg,
		   const struct bdev_consumer *consumer, const int *fds,
		   unsigned nfds, struct bdev_nbd **out)
{
	struct bdev_nbd *d;

	if (nfds == 0 || nfds > NBD_QUEUES_MAX || !cfg->block_size)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->loop = loop;
	d->cfg = *cfg;
	if (!d->cfg.max_io_bytes)
		d->cfg.max_io_bytes = NBD_DEFAULT_MAX_IO;
	d->consumer = *consumer;
	d->index = -1;
	d->relink = (struct ev_source){ .fd = -1, .deadline = -1, .on_timer = on_relink,
					.ctx = d };
	ev_add(loop, &d->relink);
	d->idle = (struct ev_source){ .fd = -1, .deadline = -1, .on_timer = on_idle, .ctx = d };
	ev_add(loop, &d->idle);
	d->nqueues = nfds;
	for (unsigned i = 0; i < nfds; i++) {
		struct nbd_queue *q = &d->queues[i];
		int r;

		q->dev = d;
		r = open_socket(d, q, fds[i]);
		if (r < 0) {
			d->nqueues = i;
			bdev_nbd_destroy(d);
			return r;
		}
	}
	*out = d;
	return 0;
}

static int make_socketpairs(unsigned n, int *ours, int *theirs, char *err, size_t errlen)
{
	for (unsigned i = 0; i < n; i++) {
		int sv[2], r;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			r = -errno;
			snprintf(err, errlen, "socketpair: %s", strerror(errno));
			while (i--) {
				close(ours[i]);
				close(theirs[i]);
			}
			return r;
		}
		ours[i] = sv[0];
		theirs[i] = sv[1];
		set_nonblocking(ours[i]);
	}
	return 0;
}

/* A new server for a device whose sockets died with the old one: each of
 * ours replaces a dead one; *n becomes how many the kernel took. */
static int take_over(int index, int *theirs, const int *ours, unsigned *n, char *err,
		     size_t errlen)
{
	unsigned done = 0;

	for (; done < *n; done++) {
		int r = give_socket(index, theirs[done], ours[done]);
		theirs[done] = -1;
		if (r == -ENOSPC && done > 0)
			break;
		if (r < 0) {
			snprintf(err, errlen, "taking over /dev/nbd%d: %s", index,
				 r == -EINVAL ? "it is not connected" :
				 r == -ENOSPC ? "it still has its server" : strerror(-r));
			return r == -EINVAL ? -ENODEV : r;
		}
	}
	*n = done;
	return 0;
}

static int connect_kernel(const struct bdev_config *cfg, int *theirs, const int *ours,
			  unsigned *n, int *index, bool *netlink, char *err, size_t errlen)
{
	int r;

	if (cfg->recover)
		return take_over(cfg->index, theirs, ours, n, err, errlen);
	r = cfg->nbd_ioctl ? -ENOENT : nbd_genl_connect(cfg, theirs, *n, index, err, errlen);
	*netlink = r == 0;
	if (r == -ENOENT) {
		log_info("setting NBD up through ioctls%s",
			 cfg->nbd_ioctl ? "" : " (no netlink family)");
		r = nbd_ioctl_connect(cfg, theirs, *n, index, err, errlen);
	}
	return r;
}

int bdev_nbd_create(struct ev_loop *loop, const struct bdev_config *cfg,
		    const struct bdev_consumer *consumer, struct bdev_nbd **out,
		    char *err, size_t errlen)
{
	int ours[NBD_QUEUES_MAX], theirs[NBD_QUEUES_MAX];
	unsigned n = MAX(1u, MIN(cfg->queues, (unsigned)NBD_QUEUES_MAX)), made = n;
	int index = cfg->index, r;
	bool netlink = cfg->recover;

	r = make_socketpairs(n, ours, theirs, err, errlen);
	if (r < 0)
		return r;
	r = connect_kernel(cfg, theirs, ours, &n, &index, &netlink, err, errlen);
	/* The kernel holds its own references to its ends now. */
	for (unsigned i = 0; i < made; i++)
		if (theirs[i] >= 0)
			close(theirs[i]);
	for (unsigned i = n; i < made; i++)
		close(ours[i]);
	if (r == 0)
		r = bdev_nbd_serve(loop, cfg, consumer, ours, n, out);
	if (r < 0) {
		for (unsigned i = 0; i < n; i++)
			close(ours[i]);
		if (index >= 0 && !cfg->recover)
			nbd_genl_disconnect(index);
		return r;
	}
	(*out)->index = index;
	(*out)->netlink = netlink;
	snprintf((*out)->path, sizeof((*out)->path), "/dev/nbd%d", index);
	if (cfg->recover)
		log_info("%s: taken over with %u socket%s", (*out)->path, n, n == 1 ? "" : "s");
	boot_step_end(BOOT_STEP_BLOCKDEV, ev_now(loop));
	return 0;
}

const char *bdev_nbd_path(const struct bdev_nbd *b)
{
	return b->path;
}

unsigned bdev_nbd_pending(const struct bdev_nbd *b)
{
	return b->pending;
}

bool bdev_nbd_closed(const struct bdev_nbd *b)
{
	for (unsigned i = 0; i < b->nqueues; i++)
		if (!b->queues[i].closed || b->queues[i].relink)
			return false;
	return true;
}

int bdev_nbd_index(const struct bdev_nbd *b)
{
	return b->netlink ? b->index : -1;
}

void bdev_nbd_destroy(struct bdev_nbd *b)
{
	if (!b)
		return;
	if (b->index >= 0)
		nbd_genl_disconnect(b->index);
	ev_del(&b->relink);
	ev_del(&b->idle);
	/* Requests the consumer still holds come back to a closed queue. */
	b->destroyed = true;
	for (unsigned i = 0; i < b->nqueues; i++)
		queue_close(&b->queues[i], false);
	free_spares(b);
	if (b->pending == 0)
		free(b);
}

/* ---- The ops row */

static int ops_create(struct ev_loop *loop, const struct bdev_config *cfg,
		      const struct bdev_consumer *consumer, void **dev, char *err, size_t errlen)
{
	struct bdev_nbd *b;
	int r = bdev_nbd_create(loop, cfg, consumer, &b, err, errlen);

	if (r == 0)
		*dev = b;
	return r;
}

static const char *ops_path(const void *dev)
{
	return bdev_nbd_path(dev);
}

static unsigned ops_pending(const void *dev)
{
	return bdev_nbd_pending(dev);
}

static int ops_recovery_index(const void *dev)
{
	return bdev_nbd_index(dev);
}

static void ops_destroy(void *dev)
{
	bdev_nbd_destroy(dev);
}

const struct bdev_ops bdev_nbd_ops = {
	.name = "nbd",
	.create = ops_create,
	.path = ops_path,
	.pending = ops_pending,
	.complete = bdev_nbd_io_complete,
	.recovery_index = ops_recovery_index,
	.destroy = ops_destroy,
};
