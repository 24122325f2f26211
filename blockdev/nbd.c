/* SPDX-License-Identifier: MIT */
/*
 * NBD backend: the kernel's nbd driver talks to us over socketpairs, one
 * per queue. Requests wait here for as long as the consumer needs: while
 * the iSCSI session recovers, the sockets stay up and nothing times out
 * (the kernel-side request timeout is set to 30 days by nbd-genl.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blockdev.h"
#include "nbd-genl.h"
#include "nbd-proto.h"

#define NBD_DEFAULT_MAX_IO (32u << 20)
#define NBD_QUEUES_MAX 16

struct bdev;

struct nbd_queue {
	struct bdev *dev;
	int fd;
	struct ev_source src;
	uint8_t hdr[NBD_REQUEST_LEN];
	size_t hdr_got;
	struct bdev_io *rx_io;          /* WRITE whose payload is arriving */
	uint32_t rx_got;
	struct bdev_io *tx_head, *tx_tail;
	size_t tx_sent;                 /* of the head reply */
	bool closed;
};

struct bdev {
	struct ev_loop *loop;
	struct bdev_config cfg;
	struct bdev_consumer consumer;
	struct nbd_queue queues[NBD_QUEUES_MAX];
	unsigned nqueues;
	unsigned pending;
	int index;                      /* -1: not a netlink device */
	bool destroyed;                 /* freed when the last io returns */
	char path[32];
};

/* The reply error travels with the io once it completes. */
struct nbd_io {
	struct bdev_io io;
	struct nbd_queue *q;
	uint32_t error;
	uint8_t reply[NBD_REPLY_LEN];
};

static void queue_on_io(struct ev_source *src, uint32_t revents);

static void queue_close(struct nbd_queue *q)
{
	if (q->closed)
		return;
	q->closed = true;
	ev_del(&q->src);
	close(q->fd);
	q->fd = -1;
}

static void io_free(struct nbd_io *n)
{
	free(n->io.buf);
	free(n);
}

static struct nbd_io *io_new(struct nbd_queue *q, const struct nbd_req *req,
			     enum bdev_op op, bool with_buffer)
{
	struct nbd_io *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->q = q;
	n->io.op = op;
	n->io.fua = req->flags & NBD_REQ_FLAG_FUA;
	n->io.offset = req->from;
	n->io.len = req->len;
	n->io.owner = n;
	memcpy(n->io.handle, req->handle, 8);
	if (with_buffer && req->len) {
		n->io.buf = malloc(req->len);
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
			queue_close(q);
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

static void reply(struct nbd_queue *q, struct nbd_io *n, uint32_t error)
{
	n->error = error;
	nbd_reply_encode(n->reply, n->io.handle, error);
	n->io.next = NULL;
	if (q->tx_tail)
		q->tx_tail->next = &n->io;
	else
		q->tx_head = &n->io;
	q->tx_tail = &n->io;
	tx_flush(q);
}

void bdev_io_complete(struct bdev_io *io, int err)
{
	struct nbd_io *n = io->owner;
	struct nbd_queue *q = n->q;
	struct bdev *d = q->dev;

	d->pending--;
	if (q->closed) {
		io_free(n);
		if (d->destroyed && d->pending == 0)
			free(d);
		return;
	}
	reply(q, n, err < 0 ? (uint32_t)-err : 0);
}

/* ---- Requests */

static void submit(struct nbd_queue *q, struct nbd_io *n)
{
	q->dev->pending++;
	q->dev->consumer.submit(q->dev->consumer.ctx, &n->io);
}

static bool request_fits(const struct bdev *d, const struct nbd_req *r)
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

/* A whole request header arrived. Returns -1 when the queue must close. */
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
		return -1;
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
		q->dev->pending++;
		bdev_io_complete(&n->io, -EINVAL);
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
		q->dev->pending++;
		bdev_io_complete(&n->io, -(int)n->error);
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
			queue_close(q);
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
		if (handle_request(q) < 0) {
			queue_close(q);
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

/* ---- Setup */

int bdev_nbd_serve(struct ev_loop *loop, const struct bdev_config *cfg,
		   const struct bdev_consumer *consumer, const int *fds,
		   unsigned nfds, struct bdev **out)
{
	struct bdev *d;

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
	d->nqueues = nfds;
	for (unsigned i = 0; i < nfds; i++) {
		struct nbd_queue *q = &d->queues[i];
		int r;

		q->dev = d;
		q->fd = fds[i];
		q->src = (struct ev_source){ .fd = fds[i], .events = EPOLLIN,
					     .deadline = -1, .on_io = queue_on_io,
					     .ctx = q };
		r = ev_add(loop, &q->src);
		if (r < 0) {
			d->nqueues = i;
			bdev_destroy(d);
			return r;
		}
	}
	*out = d;
	return 0;
}

int bdev_nbd_create(struct ev_loop *loop, const struct bdev_config *cfg,
		    const struct bdev_consumer *consumer, struct bdev **out,
		    char *err, size_t errlen)
{
	int ours[NBD_QUEUES_MAX], theirs[NBD_QUEUES_MAX];
	unsigned n = MAX(1u, MIN(cfg->queues, (unsigned)NBD_QUEUES_MAX));
	int index = cfg->index, r;

	for (unsigned i = 0; i < n; i++) {
		int sv[2];
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
	r = cfg->nbd_ioctl ? -ENOENT : nbd_genl_connect(cfg, theirs, n, &index, err, errlen);
	if (r == -ENOENT) {
		log_info("setting NBD up through ioctls%s",
			 cfg->nbd_ioctl ? "" : " (no netlink family)");
		r = nbd_ioctl_connect(cfg, theirs, n, &index, err, errlen);
	}
	/* The kernel holds its own references to its ends now. */
	for (unsigned i = 0; i < n; i++)
		close(theirs[i]);
	if (r == 0)
		r = bdev_nbd_serve(loop, cfg, consumer, ours, n, out);
	if (r < 0) {
		for (unsigned i = 0; i < n; i++)
			close(ours[i]);
		if (index >= 0)
			nbd_genl_disconnect(index);
		return r;
	}
	(*out)->index = index;
	snprintf((*out)->path, sizeof((*out)->path), "/dev/nbd%d", index);
	return 0;
}

const char *bdev_path(const struct bdev *b)
{
	return b->path;
}

unsigned bdev_pending(const struct bdev *b)
{
	return b->pending;
}

bool bdev_closed(const struct bdev *b)
{
	for (unsigned i = 0; i < b->nqueues; i++)
		if (!b->queues[i].closed)
			return false;
	return true;
}

void bdev_destroy(struct bdev *b)
{
	if (!b)
		return;
	if (b->index >= 0)
		nbd_genl_disconnect(b->index);
	for (unsigned i = 0; i < b->nqueues; i++) {
		struct nbd_queue *q = &b->queues[i];
		queue_close(q);
		while (q->tx_head) {
			struct nbd_io *n = q->tx_head->owner;
			q->tx_head = n->io.next;
			io_free(n);
		}
		if (q->rx_io)
			io_free(q->rx_io->owner);
	}
	/* Requests the consumer still holds come back to a closed queue. */
	b->destroyed = true;
	if (b->pending == 0)
		free(b);
}
