/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the whole session and task layer (session.c, task.c, conn.c,
 * the gate) with a hostile target over a socketpair and a fake clock.
 * The harness logs the session in, then plays the input as a script of
 * target actions: well-formed PDUs with hostile fields for the commands
 * it has seen (Data-In, SCSI Response, R2T, NOP-In, Async, Reject, Text,
 * Logout Response), raw bytes, clock steps, reading or not reading, and
 * new READs and WRITEs. After every step it asserts the invariants:
 *   - a command completes as a success only when every byte moved (a
 *     GOOD READ has received all of its length);
 *   - what waits to be sent of our own stays under CONN_OWN_TX_MAX, and
 *     the recycled entries under CONN_TX_FREE_MAX;
 *   - the loop goes idle at each instant of the clock (no busy loop).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NTASKS 8
#define TASK_MAX 65536
#define BUSY_MAX 2000

struct harness {
	struct ev_loop loop;
	int64_t now;
	struct iscsi_session *s;
	int fd;                 /* the target's end of the connection */
	int listen_fd;          /* where reconnects come (loopback) */
	bool reading;
	uint32_t statsn;
	uint32_t seen_itt[32];  /* of commands the initiator sent */
	uint32_t seen_edtl[32];
	unsigned nseen;
	struct fuzz_task {
		struct iscsi_task t;
		uint8_t buf[TASK_MAX];
		bool busy;
	} tasks[NTASKS];
	const uint8_t *in;
	size_t left;
	uint8_t rbuf[1 << 18];  /* what the initiator sent, not yet parsed */
	size_t rlen;
};

static int64_t clock_of(void *ctx)
{
	return ((struct harness *)ctx)->now;
}

static uint8_t take(struct harness *h)
{
	if (!h->left)
		return 0;
	h->left--;
	return *h->in++;
}

static uint32_t take32(struct harness *h)
{
	return (uint32_t)take(h) << 24 | (uint32_t)take(h) << 16 |
	       (uint32_t)take(h) << 8 | take(h);
}

static void task_done(struct iscsi_task *t)
{
	struct fuzz_task *ft = t->ctx;
	char msg[200];

	/* Never a success with bytes missing. */
	if (t->dir == ISCSI_DIR_READ && iscsi_task_status(t, msg, sizeof(msg)) == 0 &&
	    t->priv.received != t->len)
		abort();
	ft->busy = false;
}

static void submit(struct harness *h, uint8_t how)
{
	struct fuzz_task *ft = &h->tasks[how % NTASKS];
	uint32_t blocks = (uint32_t)(how >> 3) % 16 + 1;

	if (ft->busy)
		return;
	memset(&ft->t, 0, sizeof(ft->t));
	ft->t.dir = how & 0x80 ? ISCSI_DIR_WRITE : ISCSI_DIR_READ;
	ft->t.cdb_len = (uint8_t)(ft->t.dir == ISCSI_DIR_WRITE
				  ? scsi_cdb_write(ft->t.cdb, how, blocks * 8, false, false)
				  : scsi_cdb_read(ft->t.cdb, how, blocks * 8, false));
	ft->t.buf = ft->buf;
	ft->t.len = blocks * 4096;
	ft->t.done = task_done;
	ft->t.ctx = ft;
	if (iscsi_submit(h->s, &ft->t) == 0)
		ft->busy = true;
}

static void send_all(struct harness *h, const void *p, size_t len)
{
	/* The socketpair's buffer takes what one step sends; a full one
	 * drops the rest, which is just another hostile stream. */
	(void)!send(h->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void login_answer(struct harness *h, const uint8_t *req)
{
	static const char sec[] = "AuthMethod=None";
	static const char op[] = "TargetPortalGroupTag=1\0MaxRecvDataSegmentLength=65536\0"
				 "MaxBurstLength=65536\0FirstBurstLength=16384\0"
				 "InitialR2T=No\0ImmediateData=Yes\0MaxOutstandingR2T=2";
	uint8_t b[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_RSP };
	uint8_t csg = (req[1] >> 2) & 3;
	const char *text = csg ? op : sec;
	uint32_t len = csg ? sizeof(op) : sizeof(sec);
	uint8_t pad[4] = { 0 };

	b[1] = (uint8_t)(ISCSI_FLAG_LOGIN_TRANSIT | csg << 2 | (csg ? 3 : 1));
	memcpy(b + 8, req + 8, 6);
	b[15] = csg ? 7 : 0;
	memcpy(b + 16, req + 16, 4);
	put_be32(b + 24, h->statsn++);
	put_be32(b + 28, 1);
	put_be32(b + 32, 64);
	put_be24(b + 5, len);
	send_all(h, b, sizeof(b));
	send_all(h, text, len);
	send_all(h, pad, (4 - (len & 3)) & 3);
}

/* A reconnect: the new connection replaces the old one. */
static void accept_reconnect(struct harness *h)
{
	int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	close(h->fd);
	h->fd = fd;
	h->rlen = 0;
}

/* Reads what the initiator sent: answers logins, notes commands. */
static void drain(struct harness *h)
{
	uint8_t *buf;
	size_t have;
	ssize_t n;

	accept_reconnect(h);
	buf = h->rbuf;
	have = h->rlen;
	if (!h->reading)
		return;
	while ((n = recv(h->fd, buf + have, sizeof(h->rbuf) - have, MSG_DONTWAIT)) > 0) {
		have += (size_t)n;
		while (have >= ISCSI_BHS_LEN) {
			uint32_t dlen = get_be24(buf + 5);
			size_t total = ISCSI_BHS_LEN + ((dlen + 3) & ~3u);
			uint8_t op = buf[0] & 0x3f;
			if (total > sizeof(h->rbuf)) {
				have = 0;
				break;
			}
			if (have < total)
				break;
			if (op == ISCSI_OP_LOGIN_REQ)
				login_answer(h, buf);
			if (op == ISCSI_OP_SCSI_CMD) {
				unsigned i = h->nseen++ % 32;
				h->seen_itt[i] = get_be32(buf + 16);
				h->seen_edtl[i] = get_be32(buf + 20);
			}
			memmove(buf, buf + total, have - total);
			have -= total;
		}
	}
	h->rlen = n == 0 ? 0 : have;
}

static void check_bounds(struct harness *h)
{
	if (h->s->conn.tx_own > CONN_OWN_TX_MAX || h->s->conn.tx_free_n > CONN_TX_FREE_MAX)
		abort();
}

/* Runs the loop at this instant of the clock until it is idle. */
static void settle(struct harness *h)
{
	int busy = 0;

	for (int idle = 0; idle < 2;) {
		drain(h);
		if (ev_run_once(&h->loop, 0) > 0) {
			idle = 0;
			if (++busy > BUSY_MAX)
				abort();
		} else {
			idle++;
		}
		check_bounds(h);
	}
}

static const uint8_t opcodes[] = {
	ISCSI_OP_DATA_IN, ISCSI_OP_SCSI_RSP, ISCSI_OP_R2T, ISCSI_OP_NOP_IN,
	ISCSI_OP_ASYNC_MSG, ISCSI_OP_REJECT, ISCSI_OP_TEXT_RSP, ISCSI_OP_LOGOUT_RSP,
};

/* A PDU of a kind the target sends, fields from the input, for one of
 * the commands seen (or any ITT), payload from the input. */
static void send_pdu(struct harness *h)
{
	uint8_t b[ISCSI_BHS_LEN] = { 0 }, payload[4096];
	uint8_t sel = take(h);
	uint32_t len = take(h) % 16 * 256 + take(h) % 4 * 8;
	uint32_t itt = ISCSI_RESERVED_TAG, edtl = 4096;

	if (h->nseen && !(sel & 0x80)) {
		unsigned i = (h->nseen - 1 - take(h) % 4) % 32;
		itt = h->seen_itt[i];
		edtl = h->seen_edtl[i];
	} else {
		itt = take32(h);
	}
	b[0] = opcodes[sel % sizeof(opcodes)];
	b[1] = take(h);
	b[2] = take(h) % 4 ? 0 : take(h);
	b[3] = take(h) % 4 ? 0 : take(h);
	put_be32(b + 16, itt);
	put_be32(b + 20, take(h) % 2 ? ISCSI_RESERVED_TAG : take32(h));
	put_be32(b + 24, h->statsn++);
	put_be32(b + 28, 1);
	put_be32(b + 32, take(h) % 8 ? 1000 : take32(h));
	put_be32(b + 36, take(h) % 4);                     /* DataSN, R2TSN, ExpDataSN */
	put_be32(b + 40, (take(h) % 8) * (edtl / 8));      /* offset */
	put_be32(b + 44, take(h) % 2 ? 0 : take(h) * 64u); /* residual, desired len */
	if (b[0] == ISCSI_OP_R2T)
		put_be32(b + 44, (take(h) % 8 + 1) * (edtl / 8));
	put_be24(b + 5, len);
	for (uint32_t i = 0; i < len; i++)
		payload[i] = take(h);
	send_all(h, b, sizeof(b));
	send_all(h, payload, len);
}

static void step(struct harness *h)
{
	uint8_t kind = take(h);

	switch (kind % 6) {
	case 0:
		send_pdu(h);
		break;
	case 1: {               /* raw bytes */
		uint8_t raw[64];
		uint8_t n = take(h) % sizeof(raw);
		for (uint8_t i = 0; i < n; i++)
			raw[i] = take(h);
		send_all(h, raw, n);
		break;
	}
	case 2:
		h->now += (int64_t)take(h) * 100;
		break;
	case 3:
		h->reading = !h->reading;
		break;
	case 4:
		submit(h, take(h));
		break;
	default:
		send_pdu(h);
		break;
	}
	settle(h);
}

/* One listening socket on 127.0.0.1 for the whole run. */
static int listener(uint16_t *port)
{
	static int fd = -1;
	static uint16_t bound;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	if (fd < 0) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(fd, 64) < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
			abort();
		bound = ntohs(sa.sin_port);
	}
	*port = bound;
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct iscsi_config cfg;
	int sv[2];
	uint16_t port;

	memset(&h, 0, sizeof(h));
	h.now = 1000000;
	h.reading = true;
	h.statsn = 1;
	h.in = data;
	h.left = size;
	log_set_level(getenv("FUZZ_DEBUG") ? LOG_DEBUG : LOG_ERR);
	if (ev_loop_init(&h.loop) < 0)
		return 0;
	ev_set_clock(&h.loop, clock_of, &h);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ev_loop_close(&h.loop);
		return 0;
	}
	h.fd = sv[1];
	iscsi_config_defaults(&cfg);
	snprintf(cfg.target_name, sizeof(cfg.target_name), "iqn.2025-01.fuzz:t");
	h.listen_fd = listener(&port);
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	cfg.port = port;
	h.s = iscsi_session_new(&h.loop, &cfg);
	if (h.s && session_start_adopted(h.s, sv[0]) == 0) {
		settle(&h);
		for (unsigned i = 0; i < 4; i++)
			submit(&h, (uint8_t)(i * 0x29));
		settle(&h);
		while (h.left)
			step(&h);
	} else {
		close(sv[0]);
	}
	iscsi_session_free(h.s);
	for (unsigned i = 0; i < NTASKS; i++)
		if (h.tasks[i].busy)
			abort(); /* the session's end completes every command */
	close(h.fd);
	ev_loop_close(&h.loop);
	/* Connections the session started but nobody took. */
	while ((h.fd = accept4(h.listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(h.fd);
	return 0;
}
