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

#include "pdu.h"
#include "util.h"

struct iscsi_task;

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
	struct conn_tx *next;
};

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
	/* A PDU that references a task has been written out entirely. */
	void (*tx_done)(void *owner, struct iscsi_task *task);
	/* Optional: where the next PDU's data most likely goes, so that the
	 * read that takes its header takes the payload in place too: *len
	 * bytes at *dst, or *len = 0 for no guess. Asked before each read
	 * that waits for a header. The range may receive other stream bytes
	 * before its data arrives, so it must belong to a read that is still
	 * waiting for exactly those bytes (whose content is undefined until
	 * then); header() giving the same *dst is what confirms the guess. */
	void (*expect_data)(void *owner, uint8_t **dst, uint32_t *len);
};

enum conn_rx_state { RX_HEADER, RX_DATA, RX_TRAILER };

struct conn {
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
	uint8_t *rx_spec;        /* rx_spec_len bytes read after the header */
	uint32_t rx_spec_len;    /* into a predicted payload (expect_data),
				  * before rbuf's in stream order */
	uint8_t *rx_internal;    /* max_recv_dsl bytes, for non-task data */
	uint8_t *rbuf;           /* read-ahead buffer */
	size_t rpos, rend;
	bool rx_large;           /* the last data segment was large: read
				  * ahead only to the next header, so that
				  * the next payload is read in place */
	unsigned generation;     /* bumped on close: callbacks detect it */

	struct conn_tx *txq_head, *txq_tail;
	struct conn_tx *tx_free; /* recycled entries */
};

int conn_init(struct conn *c, struct ev_loop *loop, const struct conn_ops *ops,
	      void *owner);
void conn_destroy(struct conn *c);
/* Starts a non-blocking connect; ops->connected or ops->failed follows. */
int conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t salen);
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
void conn_queue(struct conn *c, struct conn_tx *tx);
/* Writes what the socket takes now. */
void conn_flush(struct conn *c);

#endif
