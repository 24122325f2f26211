/* SPDX-License-Identifier: MIT */
/*
 * One iSCSI TCP connection: non-blocking connect, the receive framing
 * machine (BHS → AHS → header digest → data → padding → data digest) and
 * the transmit queue. It knows framing only; meaning is the owner's.
 */
#ifndef ISCSIROOT_CONN_H
#define ISCSIROOT_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "pdu.h"
#include "util.h"

struct iscsi_task;

/* Payloads predicted per read (struct conn_ops.expect_data). */
#define CONN_PREDICT_MAX 16

/* One PDU waiting to be sent: header (+digest), optional data that stays
 * owned by its caller until sent, then padding (+digest). */
struct conn_tx {
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	const uint8_t *data;
	uint32_t data_len;
	uint8_t trailer[3 + ISCSI_DIGEST_LEN];
	uint8_t hdr_len;
	uint8_t trailer_len;
	size_t sent;
	struct iscsi_task *task;  /* counted in task's tx_refs while queued */
	uint8_t *owned;           /* freed after sending (text payloads) */
	uint8_t mark;             /* the owner's; given back to tx_done */
	struct conn_tx *next;
};

/* The most PDUs of the owner's own (no task: NOP-Out, Text, Logout,
 * Login) that may wait to be sent at once. A peer that makes us answer
 * faster than it reads fills it; conn_queue() then refuses. */
#define CONN_OWN_TX_MAX 16
/* Recycled entries kept for reuse; the rest go back to the allocator. */
#define CONN_TX_FREE_MAX 256

struct conn_ops {
	/* The connection is established (non-blocking connect finished). */
	void (*connected)(void *owner);
	/* A header arrived. Returns 0 and sets *dst to where the data segment
	 * goes (NULL: an internal buffer), or a negative errno for a
	 * protocol error that closes the connection. */
	int (*header)(void *owner, const struct iscsi_hdr *h, uint8_t **dst);
	/* A whole PDU arrived; data is *dst or the internal buffer. */
	void (*pdu)(void *owner, const struct iscsi_hdr *h, uint8_t *data);
	/* The connection failed or closed; it is already shut. */
	void (*failed)(void *owner, int err, const char *why);
	/* A PDU that references a task has been written out entirely (or
	 * dropped with the connection); mark is the entry's. */
	void (*tx_done)(void *owner, struct iscsi_task *task, uint8_t mark);
	/* Optional: where the data of the next PDUs most likely goes, so
	 * that the read that takes a header takes the payloads behind it in
	 * place too: at most max ranges, in the order expected, returning
	 * how many. Asked before each read that waits for a header. A range
	 * may receive other stream bytes before its data arrives, so it must
	 * belong to a read that is still waiting for exactly those bytes
	 * (whose content is undefined until then), one range per read (a PDU
	 * taken in place may complete its read, whose buffer must then hold
	 * no other parked bytes); ranges that overlap an earlier one are not
	 * used. header() giving the range's start as a PDU's destination is
	 * what confirms a guess. */
	unsigned (*expect_data)(void *owner, struct iovec *ranges, unsigned max);
};

enum conn_rx_state { RX_HEADER, RX_DATA, RX_TRAILER };

struct conn {
	struct ev_loop *loop;
	int fd;
	bool connecting;
	bool header_digest;
	bool data_digest;
	uint32_t max_recv_dsl;   /* cap on any incoming data segment */
	const struct conn_ops *ops;
	void *owner;
	struct ev_source io;
	struct ev_source flush;  /* deferred flush: batches PDUs per round */

	enum conn_rx_state rx_state;
	uint8_t rx_hdr[ISCSI_BHS_LEN + ISCSI_MAX_AHS_LEN + ISCSI_DIGEST_LEN];
	uint32_t rx_hdr_need, rx_hdr_got;
	struct iscsi_hdr rx_cur;
	uint8_t *rx_dst;
	uint32_t rx_data_got;
	uint8_t rx_trailer[3 + ISCSI_DIGEST_LEN];
	uint32_t rx_trailer_need, rx_trailer_got;
	/* Stream bytes a read put after the header, in stream order before
	 * rbuf's: predicted payloads (expect_data) and the gaps between
	 * them (rx_gap: a trailer and the next header). */
	struct rx_park {
		uint8_t *p;
		size_t len, off, want; /* read, consumed, expected */
		bool payload;
	} rx_park[2 * CONN_PREDICT_MAX - 1];
	unsigned rx_park_head, rx_park_n;
	uint8_t rx_gap[CONN_PREDICT_MAX - 1][3 + ISCSI_DIGEST_LEN + ISCSI_BHS_LEN +
					      ISCSI_DIGEST_LEN];
	bool rx_inplace;         /* this PDU's payload was read in place */
	uint8_t *rx_internal;    /* max_recv_dsl bytes, for non-task data */
	uint8_t *rbuf;           /* read-ahead buffer */
	size_t rpos, rend;
	bool rx_large;           /* the last data segment was large: read
				  * ahead only to the next header, so that
				  * the next payload is read in place */
	unsigned generation;     /* bumped on close: callbacks detect it */

	struct conn_tx *txq_head, *txq_tail;
	struct conn_tx *tx_free; /* recycled entries */
	unsigned tx_free_n;
	unsigned tx_own;         /* queued entries with no task */
	int64_t tx_progress_at;  /* last byte written, or the queue filled
				  * from empty; -1 while the queue is empty */
};

int conn_init(struct conn *c, struct ev_loop *loop, const struct conn_ops *ops,
	      void *owner);
void conn_destroy(struct conn *c);
/* Starts a non-blocking connect; ops->connected or ops->failed follows. */
/* Starts a non-blocking connect; ifname (NULL or empty: any) binds the
 * socket to that interface (SO_BINDTODEVICE). */
int conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t salen,
		 const char *ifname);
/* Closes the socket and drops queued PDUs (calling tx_done for each task
 * reference) without calling ops->failed. */
void conn_close(struct conn *c);
/* Takes over a socket that is already connected (a socketpair in the
 * tests): sets it non-blocking and starts receiving. */
int conn_adopt(struct conn *c, int fd);
bool conn_is_open(const struct conn *c);
void conn_set_digests(struct conn *c, bool header, bool data);

/* Takes an entry for a PDU; the header is encoded into tx->hdr by the
 * caller, then conn_queue() adds digests and padding and queues it. */
struct conn_tx *conn_tx_get(struct conn *c);
/* Queues tx. An entry with no task is refused (-ENOBUFS, the entry and
 * its owned data released) when CONN_OWN_TX_MAX of them already wait:
 * the peer does not read, and the owner must treat the connection as
 * dead rather than grow. */
int conn_queue(struct conn *c, struct conn_tx *tx);
/* Drops every queued entry with this mark that no byte has been sent of
 * (an answer superseded by a newer one, which the caller queues at once:
 * the stall clock, conn_tx_stalled_since, keeps running). Returns how
 * many. */
unsigned conn_cancel_unsent(struct conn *c, uint8_t mark);
/* Since when bytes have waited to be sent without any going out (the
 * loop's time, ev_now), or -1 when nothing waits. */
int64_t conn_tx_stalled_since(const struct conn *c);
/* Writes what the socket takes now. */
void conn_flush(struct conn *c);

#endif
