/* SPDX-License-Identifier: MIT */
/* One iSCSI connection: framing only (RFC 7143 §11.1, digests §13.1). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"
#include "crc32c.h"

#define RBUF_SIZE (256 * 1024)
/* After a data segment at least this large, read ahead only up to the next
 * header, so that the next (likely as large) payload is read in place. */
#define LARGE_SEGMENT_MIN (32 * 1024)
/* Bytes handled per readiness event before yielding to the loop. */
#define RX_BUDGET (16 * 1024 * 1024)
/* rbuf's room beyond RBUF_SIZE: predicted payloads of up to RBUF_SIZE
 * bytes in all can go back into rbuf with the trailer and the next header
 * that were read behind them (at most 3 + 4 + 48 + 4 bytes). */
#define RBUF_CAP (RBUF_SIZE + 64)
#define TX_IOV_MAX 96

static void conn_on_io(struct ev_source *src, uint32_t revents);
static void conn_on_flush(struct ev_source *src);

int conn_init(struct conn *c, struct ev_loop *loop, const struct conn_ops *ops,
	      void *owner)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->loop = loop;
	c->tx_progress_at = -1;
	c->ops = ops;
	c->owner = owner;
	c->max_recv_dsl = 262144;
	c->rbuf = malloc(RBUF_CAP);
	c->rx_internal = malloc(c->max_recv_dsl);
	if (!c->rbuf || !c->rx_internal) {
		conn_destroy(c);
		return -ENOMEM;
	}
	c->io = (struct ev_source){ .fd = -1, .deadline = -1,
				    .on_io = conn_on_io, .ctx = c };
	c->flush = (struct ev_source){ .fd = -1, .deadline = -1,
				       .on_timer = conn_on_flush, .ctx = c };
	r = ev_add(loop, &c->io);
	if (r == 0)
		r = ev_add(loop, &c->flush);
	return r;
}

static void free_tx_list(struct conn_tx *tx)
{
	while (tx) {
		struct conn_tx *next = tx->next;
		free(tx->owned);
		free(tx);
		tx = next;
	}
}

void conn_destroy(struct conn *c)
{
	conn_close(c);
	ev_del(&c->io);
	ev_del(&c->flush);
	free_tx_list(c->tx_free);
	c->tx_free = NULL;
	c->tx_free_n = 0;
	free(c->rbuf);
	free(c->rx_internal);
	c->rbuf = c->rx_internal = NULL;
}

bool conn_is_open(const struct conn *c)
{
	return c->fd >= 0;
}

void conn_set_digests(struct conn *c, bool header, bool data)
{
	c->header_digest = header;
	c->data_digest = data;
}

static void rx_reset(struct conn *c)
{
	c->rx_state = RX_HEADER;
	c->rx_hdr_need = ISCSI_BHS_LEN;
	c->rx_hdr_got = 0;
	c->rpos = c->rend = 0;
	c->rx_park_head = c->rx_park_n = 0;
	c->rx_inplace = false;
	c->rx_large = false;
}

/* tx is off the queue (or never got on it): recycle it, then tell the
 * owner about its task, which may complete it. */
static void tx_release(struct conn *c, struct conn_tx *tx, bool queued)
{
	struct iscsi_task *task = tx->task;
	uint8_t mark = tx->mark;

	if (queued && !task)
		c->tx_own--;
	free(tx->owned);
	tx->owned = NULL;
	tx->task = NULL;
	if (c->tx_free_n < CONN_TX_FREE_MAX) {
		tx->next = c->tx_free;
		c->tx_free = tx;
		c->tx_free_n++;
	} else {
		free(tx);
	}
	if (task && c->ops->tx_done)
		c->ops->tx_done(c->owner, task, mark);
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		/* A reset, not a FIN after what is still unsent: no command
		 * of this connection reaches the target once we have given
		 * up on it (and, with several paths, sent it on another). */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
			   sizeof(struct linger));
		ev_set_fd(&c->io, -1, 0);
		close(c->fd);
		c->fd = -1;
	}
	c->connecting = false;
	/* Digests start only after a login negotiates them (RFC 7143 §13.1). */
	c->header_digest = c->data_digest = false;
	c->generation++;
	c->flush.deadline = -1;
	while (c->txq_head) {
		struct conn_tx *tx = c->txq_head;
		c->txq_head = tx->next;
		tx_release(c, tx, true);
	}
	c->txq_tail = NULL;
	c->tx_progress_at = -1;
	rx_reset(c);
}

static void conn_fail(struct conn *c, int err, const char *why)
{
	conn_close(c);
	c->ops->failed(c->owner, err, why);
}

int conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t salen,
		 const char *ifname)
{
	int one = 1, fd;

	conn_close(c);
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	/* PDUs are whole messages; Nagle would only add latency. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A path bound to its NIC: a route or address change on another NIC
	 * cannot move it there (multipath, one path a NIC). */
	if ((ifname && *ifname &&
	     setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0) ||
	    (connect(fd, sa, salen) < 0 && errno != EINPROGRESS)) {
		int r = -errno;
		close(fd);
		return r;
	}
	c->fd = fd;
	c->connecting = true;
	return ev_set_fd(&c->io, fd, EPOLLOUT);
}

int conn_adopt(struct conn *c, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	conn_close(c);
	c->fd = fd;
	return ev_set_fd(&c->io, fd, EPOLLIN);
}

/* ---- Receive */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void park_flush(struct conn *c);

static void deliver(struct conn *c)
{
	struct iscsi_hdr h = c->rx_cur;
	uint8_t *data = c->rx_dst;

	/* A delivered PDU may complete a task, whose owner may then reuse
	 * its buffer: parked bytes may stay only in ranges of tasks that
	 * still wait. A Data-In taken in place completes at most its own
	 * task, whose parked range is consumed by now. */
	if (c->rx_park_head < c->rx_park_n && !c->rx_inplace)
		park_flush(c);

	c->rx_state = RX_HEADER;
	c->rx_hdr_need = ISCSI_BHS_LEN;
	c->rx_hdr_got = 0;
	c->ops->pdu(c->owner, &h, data);
}

/* The whole header (BHS, AHS, digest) is in rx_hdr. */
static int header_complete(struct conn *c)
{
	uint32_t hlen = c->rx_hdr_need - (c->header_digest ? ISCSI_DIGEST_LEN : 0);
	int r;

	if (c->header_digest &&
	    crc32c(0, c->rx_hdr, hlen) != get_le32(c->rx_hdr + hlen))
		return -EBADMSG;
	r = pdu_decode(c->rx_hdr, hlen, &c->rx_cur);
	if (r < 0)
		return r;
	if (c->rx_cur.data_len > c->max_recv_dsl)
		return -EMSGSIZE;
	c->rx_dst = NULL;
	r = c->ops->header(c->owner, &c->rx_cur, &c->rx_dst);
	if (r < 0)
		return r;
	c->rx_large = c->rx_cur.data_len >= LARGE_SEGMENT_MIN && c->rx_dst;
	if (!c->rx_dst)
		c->rx_dst = c->rx_internal;
	c->rx_data_got = 0;
	c->rx_inplace = false;
	c->rx_trailer_got = 0;
	c->rx_trailer_need = c->rx_cur.data_len == 0 ? 0 :
		pdu_pad(c->rx_cur.data_len) + (c->data_digest ? ISCSI_DIGEST_LEN : 0);
	c->rx_state = c->rx_cur.data_len ? RX_DATA : RX_TRAILER;
	return 0;
}

static int trailer_complete(struct conn *c)
{
	uint32_t len = c->rx_cur.data_len, pad = pdu_pad(len);

	if (c->data_digest && len > 0) {
		uint32_t crc = crc32c(0, c->rx_dst, len);
		crc = crc32c(crc, c->rx_trailer, pad);
		if (crc != get_le32(c->rx_trailer + pad))
			return -EILSEQ;
	}
	return 0;
}

/* Header bytes arrived in rx_hdr: once the BHS is in, the header's full
 * length (AHS, digest) is known; once that is in, it is complete. */
static int header_step(struct conn *c)
{
	if (c->rx_hdr_got < ISCSI_BHS_LEN)
		return 0;
	if (c->rx_hdr_need == ISCSI_BHS_LEN)
		c->rx_hdr_need += (uint32_t)c->rx_hdr[4] * 4 +
				  (c->header_digest ? ISCSI_DIGEST_LEN : 0);
	if (c->rx_hdr_got < c->rx_hdr_need)
		return 0;
	return header_complete(c);
}

/* Moves stream bytes src[*pos..end) into the current stage, advancing
 * *pos (before a PDU is delivered). Returns a negative errno for a
 * protocol error, else 0. */
static int rx_take(struct conn *c, const uint8_t *src, size_t *pos, size_t end)
{
	size_t avail = end - *pos, n;
	int r;

	switch (c->rx_state) {
	case RX_HEADER:
		n = MIN(avail, c->rx_hdr_need - c->rx_hdr_got);
		memcpy(c->rx_hdr + c->rx_hdr_got, src + *pos, n);
		*pos += n;
		c->rx_hdr_got += (uint32_t)n;
		return header_step(c);
	case RX_DATA:
		n = MIN(avail, c->rx_cur.data_len - c->rx_data_got);
		memcpy(c->rx_dst + c->rx_data_got, src + *pos, n);
		*pos += n;
		c->rx_data_got += (uint32_t)n;
		if (c->rx_data_got == c->rx_cur.data_len)
			c->rx_state = RX_TRAILER;
		return 0;
	case RX_TRAILER:
		n = MIN(avail, c->rx_trailer_need - c->rx_trailer_got);
		memcpy(c->rx_trailer + c->rx_trailer_got, src + *pos, n);
		*pos += n;
		c->rx_trailer_got += (uint32_t)n;
		if (c->rx_trailer_got < c->rx_trailer_need)
			return 0;
		r = trailer_complete(c);
		if (r < 0)
			return r;
		deliver(c);
		return 0;
	}
	return -EINVAL;
}

/* Puts the parked bytes not yet consumed back in front of rbuf's, in
 * stream order (rx_read left room for them), and forgets the parking. */
static void park_flush(struct conn *c)
{
	size_t total = 0, at = 0, buffered = c->rend - c->rpos;

	for (unsigned i = c->rx_park_head; i < c->rx_park_n; i++)
		total += c->rx_park[i].len - c->rx_park[i].off;
	memmove(c->rbuf + total, c->rbuf + c->rpos, buffered);
	for (unsigned i = c->rx_park_head; i < c->rx_park_n; i++) {
		const struct rx_park *pk = &c->rx_park[i];
		memcpy(c->rbuf + at, pk->p + pk->off, pk->len - pk->off);
		at += pk->len - pk->off;
	}
	c->rpos = 0;
	c->rend = total + buffered;
	c->rx_park_head = c->rx_park_n = 0;
}

/* Consumes the oldest parked bytes. A predicted payload is taken where
 * it lies if it is this PDU's payload from its start; then, if the PDU
 * has the predicted length, the parked bytes after it (its trailer, the
 * next header and payload) are aligned as predicted and stay parked.
 * Anything else sends the parked bytes back to rbuf first: no byte is
 * ever copied into a payload destination while a predicted range (some
 * task's buffer) still holds stream bytes that have not been consumed. */
static int park_consume(struct conn *c)
{
	struct rx_park *pk = &c->rx_park[c->rx_park_head];
	uint32_t keep;
	int r;

	if (!pk->payload && c->rx_state != RX_DATA) {
		r = rx_take(c, pk->p, &pk->off, pk->len);
		if (pk->off == pk->len && c->rx_park_n)
			c->rx_park_head++;
		return r;
	}
	if (!pk->payload || c->rx_state != RX_DATA || c->rx_data_got ||
	    c->rx_dst != pk->p) {
		park_flush(c);
		return 0;
	}
	keep = MIN((uint32_t)pk->len, c->rx_cur.data_len);
	c->rx_data_got = keep;
	c->rx_inplace = true;
	if (keep == c->rx_cur.data_len)
		c->rx_state = RX_TRAILER;
	if (c->rx_cur.data_len == pk->want) {
		c->rx_park_head++;
	} else {
		pk->off = keep;
		park_flush(c);
	}
	return 0;
}

/* How much to read ahead into rbuf, behind the stage's own destination
 * (last: the length of the last predicted payload; parked: the bytes of
 * all predicted payloads and the gaps between them). After a large data
 * segment, only what is left of the current PDU and the next header (BHS
 * and digest; an AHS comes in a read of its own): more would take in the
 * start of the next large payload and cost a copy. Else as much as fits,
 * so that one read takes many small PDUs. */
static size_t rx_ahead(const struct conn *c, uint32_t last, size_t parked)
{
	uint32_t hdr = ISCSI_BHS_LEN + (c->header_digest ? ISCSI_DIGEST_LEN : 0);
	uint32_t digest = c->data_digest ? ISCSI_DIGEST_LEN : 0;
	size_t want = RBUF_SIZE;

	if (c->rx_large) {
		switch (c->rx_state) {
		case RX_HEADER:
			want = last ? pdu_pad(last) + digest + hdr : 0;
			break;
		case RX_DATA:
		case RX_TRAILER:
			want = c->rx_trailer_need - c->rx_trailer_got + hdr;
			break;
		}
	}
	/* Parked bytes that turn out not to be in place go back into rbuf
	 * ahead of what it holds: leave them room. */
	return MIN(want, RBUF_CAP - parked);
}

static bool overlaps(const struct iovec *r, unsigned n, const uint8_t *p, size_t len)
{
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *q = r[i].iov_base;
		if (p < q + r[i].iov_len && q < p + len)
			return true;
	}
	return false;
}

static void park_add(struct conn *c, struct iovec *iov, uint8_t *p, size_t len,
		     bool payload)
{
	*iov = (struct iovec){ p, len };
	c->rx_park[c->rx_park_n++] = (struct rx_park){ .p = p, .want = len,
						       .payload = payload };
}

/* Where a read waiting for a header puts what follows it: the predicted
 * payloads the owner expects next, in order, each followed by a gap slot
 * for its trailer and the next header. Returns the iovecs added; *last
 * and *parked as rx_ahead() takes them. */
static int rx_predict(struct conn *c, struct iovec *iov, uint32_t *last, size_t *parked)
{
	uint32_t hdr = ISCSI_BHS_LEN + (c->header_digest ? ISCSI_DIGEST_LEN : 0);
	uint32_t digest = c->data_digest ? ISCSI_DIGEST_LEN : 0;
	uint32_t cap = MIN(c->max_recv_dsl, (uint32_t)RBUF_SIZE), gap = 0;
	struct iovec r[CONN_PREDICT_MAX];
	unsigned k;
	int n = 0;

	if (!c->ops->expect_data)
		return 0;
	k = MIN(c->ops->expect_data(c->owner, r, CONN_PREDICT_MAX), CONN_PREDICT_MAX);
	for (unsigned i = 0; i < k; i++) {
		size_t len = MIN(r[i].iov_len, cap);
		/* Overlapping iovecs would overwrite each other's bytes; and all
		 * that is parked must fit back into rbuf. */
		if (len == 0 || overlaps(r, i, r[i].iov_base, len) ||
		    (i > 0 && *parked + gap + len > RBUF_SIZE))
			break;
		if (i > 0) {
			park_add(c, &iov[n++], c->rx_gap[i - 1], gap, false);
			*parked += gap;
		}
		park_add(c, &iov[n++], r[i].iov_base, len, true);
		*parked += len;
		*last = (uint32_t)len;
		gap = pdu_pad((uint32_t)len) + digest + hdr;
	}
	return n;
}

/* Reads from the socket with one system call, called only when nothing is
 * buffered. The current stage's bytes go straight to their place: the
 * rest of a payload to its destination; a header to rx_hdr, followed by
 * the predicted payloads (parked until their headers confirm them). What
 * comes after goes to rbuf. So a payload is not copied, whatever its
 * size, unless it came where it was not expected. *drained: the read got
 * less than it asked for, so the socket is (very likely) empty. */
static ssize_t rx_read(struct conn *c, bool *drained)
{
	struct iovec iov[2 * CONN_PREDICT_MAX + 1];
	size_t head = 0, parked = 0, want = 0, left;
	uint32_t last = 0;
	int niov = 0;
	ssize_t n;

	c->rx_park_head = c->rx_park_n = 0;
	if (c->rx_state == RX_DATA) {
		head = c->rx_cur.data_len - c->rx_data_got;
		iov[niov++] = (struct iovec){ c->rx_dst + c->rx_data_got, head };
	} else if (c->rx_state == RX_HEADER) {
		/* Until the BHS says otherwise, a header is the BHS and its
		 * digest (AHS bytes read here land at their place anyway). */
		uint32_t hdr = ISCSI_BHS_LEN + (c->header_digest ? ISCSI_DIGEST_LEN : 0);
		head = MAX(c->rx_hdr_need, hdr) - c->rx_hdr_got;
		iov[niov++] = (struct iovec){ c->rx_hdr + c->rx_hdr_got, head };
		niov += rx_predict(c, iov + niov, &last, &parked);
	}
	iov[niov++] = (struct iovec){ c->rbuf, rx_ahead(c, last, parked) };
	for (int i = 0; i < niov; i++)
		want += iov[i].iov_len;
	n = readv(c->fd, iov, niov);
	*drained = n >= 0 && (size_t)n < want;
	if (n <= 0) {
		c->rx_park_n = 0;
		return n;
	}
	left = (size_t)n - MIN((size_t)n, head);
	if (c->rx_state == RX_DATA) {
		c->rx_data_got += (uint32_t)MIN((size_t)n, head);
		if (c->rx_data_got == c->rx_cur.data_len)
			c->rx_state = RX_TRAILER;
	} else if (c->rx_state == RX_HEADER) {
		c->rx_hdr_got += (uint32_t)MIN((size_t)n, head);
	}
	/* Parked slots filled in order; the first short one is the last. */
	for (unsigned i = 0; i < c->rx_park_n; i++) {
		struct rx_park *pk = &c->rx_park[i];
		pk->len = MIN(left, pk->want);
		left -= pk->len;
		if (pk->len < pk->want) {
			c->rx_park_n = pk->len ? i + 1 : i;
			break;
		}
	}
	c->rpos = 0;
	c->rend = left;
	return n;
}

static const char *rx_error_text(int err)
{
	switch (err) {
	case -EBADMSG: return "bad PDU header (digest or opcode)";
	case -EILSEQ: return "data digest mismatch";
	case -EMSGSIZE: return "data segment longer than negotiated";
	default: return "protocol error";
	}
}

static void rx_run(struct conn *c)
{
	unsigned gen = c->generation;
	size_t budget = RX_BUDGET;
	bool drained = false;

	while (budget > 0 && gen == c->generation) {
		int r;
		/* A PDU with no data and no trailer completes on its own. */
		if (c->rx_state == RX_TRAILER && c->rx_trailer_need == 0) {
			deliver(c);
			continue;
		}
		if (c->rx_park_head < c->rx_park_n) {
			r = park_consume(c);
		} else if (c->rpos == c->rend) {
			/* After a short read, another would most likely just say
			 * EAGAIN: the level-triggered loop calls again if more
			 * came meanwhile. One system call per wake-up saved. */
			if (drained)
				return;
			ssize_t n = rx_read(c, &drained);
			if (n == 0) {
				conn_fail(c, -ECONNRESET, "connection closed by the target");
				return;
			}
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					conn_fail(c, -errno, "receive failed");
				return;
			}
			budget -= MIN(budget, (size_t)n);
			r = c->rx_state == RX_HEADER ? header_step(c) : 0;
		} else {
			r = rx_take(c, c->rbuf, &c->rpos, c->rend);
		}
		if (r < 0 && gen == c->generation) {
			conn_fail(c, r, rx_error_text(r));
			return;
		}
	}
}

/* ---- Transmit */

struct conn_tx *conn_tx_get(struct conn *c)
{
	struct conn_tx *tx = c->tx_free;

	if (tx) {
		c->tx_free = tx->next;
		c->tx_free_n--;
	} else {
		tx = malloc(sizeof(*tx));
	}
	if (tx) {
		tx->data = NULL;
		tx->data_len = 0;
		tx->task = NULL;
		tx->owned = NULL;
		tx->mark = 0;
		tx->next = NULL;
	}
	return tx;
}

int conn_queue(struct conn *c, struct conn_tx *tx)
{
	uint32_t pad = pdu_pad(tx->data_len);

	if (!tx->task && c->tx_own >= CONN_OWN_TX_MAX) {
		tx_release(c, tx, false);
		return -ENOBUFS;
	}
	tx->hdr_len = ISCSI_BHS_LEN;
	if (c->header_digest) {
		put_le32(tx->hdr + ISCSI_BHS_LEN, crc32c(0, tx->hdr, ISCSI_BHS_LEN));
		tx->hdr_len += ISCSI_DIGEST_LEN;
	}
	memset(tx->trailer, 0, pad);
	tx->trailer_len = (uint8_t)pad;
	if (c->data_digest && tx->data_len) {
		uint32_t crc = crc32c(0, tx->data, tx->data_len);
		put_le32(tx->trailer + pad, crc32c(crc, tx->trailer, pad));
		tx->trailer_len += ISCSI_DIGEST_LEN;
	}
	tx->sent = 0;
	tx->next = NULL;
	if (c->txq_tail) {
		c->txq_tail->next = tx;
	} else {
		c->txq_head = tx;
		if (c->tx_progress_at < 0)
			c->tx_progress_at = ev_now(c->loop);
	}
	c->txq_tail = tx;
	c->tx_own += !tx->task;
	/* Flush once per loop round, so PDUs queued together go in one write. */
	c->flush.deadline = 0;
	return 0;
}

unsigned conn_cancel_unsent(struct conn *c, uint8_t mark)
{
	struct conn_tx **link = &c->txq_head, *prev = NULL;
	unsigned n = 0;

	while (*link) {
		struct conn_tx *tx = *link;
		if (tx->mark != mark || tx->sent) {
			prev = tx;
			link = &tx->next;
			continue;
		}
		*link = tx->next;
		if (c->txq_tail == tx)
			c->txq_tail = prev;
		tx_release(c, tx, true);
		n++;
	}
	/* The stall clock keeps running: what replaces the answers goes on
	 * waiting behind the same unread bytes. */
	return n;
}

int64_t conn_tx_stalled_since(const struct conn *c)
{
	return c->txq_head ? c->tx_progress_at : -1;
}

static void add_iov(struct iovec *iov, int *n, const void *base, size_t len,
		    size_t *skip)
{
	if (*skip >= len) {
		*skip -= len;
		return;
	}
	iov[*n].iov_base = (uint8_t *)base + *skip;
	iov[*n].iov_len = len - *skip;
	*skip = 0;
	(*n)++;
}

static int build_iov(struct conn *c, struct iovec *iov)
{
	int n = 0;

	for (struct conn_tx *tx = c->txq_head; tx && n + 3 <= TX_IOV_MAX; tx = tx->next) {
		size_t skip = tx->sent;
		add_iov(iov, &n, tx->hdr, tx->hdr_len, &skip);
		if (tx->data_len)
			add_iov(iov, &n, tx->data, tx->data_len, &skip);
		if (tx->trailer_len)
			add_iov(iov, &n, tx->trailer, tx->trailer_len, &skip);
	}
	return n;
}

static void tx_advance(struct conn *c, size_t written)
{
	while (written > 0 && c->txq_head) {
		struct conn_tx *tx = c->txq_head;
		size_t total = (size_t)tx->hdr_len + tx->data_len + tx->trailer_len;
		size_t n = MIN(written, total - tx->sent);

		tx->sent += n;
		written -= n;
		if (tx->sent < total)
			break;
		c->txq_head = tx->next;
		if (!c->txq_head) {
			c->txq_tail = NULL;
			c->tx_progress_at = -1; /* all written: nothing stalls */
		}
		tx_release(c, tx, true);
	}
}

void conn_flush(struct conn *c)
{
	struct iovec iov[TX_IOV_MAX];
	unsigned gen = c->generation;

	c->flush.deadline = -1;
	if (c->fd < 0 || c->connecting)
		return;
	while (c->txq_head && gen == c->generation) {
		struct msghdr msg = { .msg_iov = iov };
		ssize_t n;

		msg.msg_iovlen = (size_t)build_iov(c, iov);
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_fail(c, -errno, "send failed");
			return;
		}
		if (n > 0)
			c->tx_progress_at = ev_now(c->loop);
		tx_advance(c, (size_t)n);
	}
	if (gen == c->generation && c->fd >= 0)
		ev_set_events(&c->io, EPOLLIN | (c->txq_head ? EPOLLOUT : 0));
}

static void conn_on_flush(struct ev_source *src)
{
	conn_flush(src->ctx);
}

static void connect_done(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_fail(c, -err, "connect failed");
		return;
	}
	c->connecting = false;
	ev_set_events(&c->io, EPOLLIN | (c->txq_head ? EPOLLOUT : 0));
	c->ops->connected(c->owner);
}

static void conn_on_io(struct ev_source *src, uint32_t revents)
{
	struct conn *c = src->ctx;
	unsigned gen = c->generation;

	if (c->connecting) {
		if (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			connect_done(c);
		return;
	}
	if (revents & (EPOLLIN | EPOLLERR | EPOLLHUP))
		rx_run(c);
	if (gen == c->generation && (revents & EPOLLOUT))
		conn_flush(c);
}
