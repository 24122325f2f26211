/* SPDX-License-Identifier: MIT */
/* The scripted target for the session and multipath tests: one listening
 * socket on 127.0.0.1 in the test's own event loop, answering logins,
 * INQUIRY (VPD 0x80), READ CAPACITY(10) and READ(10) from an 8 KiB LUN,
 * with the faults a script or the test's fields ask for. Harness
 * failures (a socket that cannot be made) stop the test with a line;
 * what the tests assert stays in the tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "test-peer.h"

#define MUST(cond)                                                             \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: test harness: %s: %s\n",       \
				__FILE__, __LINE__, #cond, strerror(errno));   \
			exit(2);                                               \
		}                                                              \
	} while (0)
int64_t fake_now = 1000000;

int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

/* ---- The scripted target */



/* Sends one PDU whole (the socket buffer takes these small ones). */
void peer_send(struct peer *p, uint8_t *bhs, const void *data, uint32_t len)
{
	static const uint8_t zero[4];
	uint32_t pad = (4 - (len & 3)) & 3;

	put_be24(bhs + 5, len);
	put_be32(bhs + 28, p->expcmdsn);
	/* MaxCmdSN: the window stays wide open unless a test fixes it. */
	put_be32(bhs + 32, p->window_fixed ? p->maxcmdsn : p->expcmdsn + 1000000);
	struct iovec iov[3] = { { bhs, ISCSI_BHS_LEN }, { (void *)data, len },
				{ (void *)zero, pad } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };

	/* One write: no Nagle wait between a header and its data. */
	if (p->fd >= 0)
		(void)!sendmsg(p->fd, &msg, MSG_NOSIGNAL);
}

void peer_close(struct peer *p)
{
	if (p->fd < 0)
		return;
	ev_del(&p->io);
	close(p->fd);
	p->fd = -1;
	p->rlen = 0;
}

static void send_login_rsp(struct peer *p, const uint8_t *req, uint8_t cls,
			   uint8_t detail, const char *text, uint32_t len)
{
	uint8_t b[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_RSP };
	uint8_t csg = (req[1] >> 2) & 3;

	/* Security straight on to operational, operational to full feature. */
	b[1] = cls ? 0 : (uint8_t)(ISCSI_FLAG_LOGIN_TRANSIT | csg << 2 | (csg == 0 ? 1 : 3));
	memcpy(b + 8, req + 8, 6);      /* ISID */
	if (!cls && csg == 1)
		b[15] = 0x21;           /* TSIH */
	memcpy(b + 16, req + 16, 4);    /* ITT */
	put_be32(b + 24, p->statsn++);
	b[36] = cls;
	b[37] = detail;
	peer_send(p, b, text, len);
}

static void on_login(struct peer *p, const uint8_t *req)
{
	char text[64];

	if (p->refuse_logins > 0) {
		p->refuse_logins--;
		send_login_rsp(p, req, (uint8_t)(p->refuse_status >> 8),
			       (uint8_t)p->refuse_status, NULL, 0);
		return;
	}
	if (p->script == SCRIPT_REDIRECT) {
		snprintf(text, sizeof(text), "TargetAddress=127.0.0.1:%u,1", p->port);
		send_login_rsp(p, req, 1, 1, text, (uint32_t)strlen(text) + 1);
		return;
	}
	if (((req[1] >> 2) & 3) == 0)
		send_login_rsp(p, req, 0, 0, "AuthMethod=None", 16);
	else
		send_login_rsp(p, req, 0, 0, "TargetPortalGroupTag=1", 23);
}

/* GOOD (or status) after sent bytes of Data-In in expdatasn PDUs; less
 * than the command's length is said as underflow, as RFC 7143 §11.4.5
 * asks. */
static void send_status(struct peer *p, const uint8_t *cmd, uint8_t status,
			uint32_t expdatasn, uint32_t sent)
{
	uint8_t b[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_RSP, ISCSI_FLAG_FINAL };
	uint32_t edtl = get_be32(cmd + 20);

	if (sent < edtl && (cmd[1] & 0x40)) {
		b[1] |= 0x02;           /* U */
		put_be32(b + 44, edtl - sent);
	}
	b[3] = status;
	memcpy(b + 16, cmd + 16, 4);
	put_be32(b + 24, p->statsn++);
	put_be32(b + 36, expdatasn);
	peer_send(p, b, NULL, 0);
}

static void send_data_in(struct peer *p, const uint8_t *cmd, const uint8_t *data,
			 uint32_t len)
{
	uint8_t b[ISCSI_BHS_LEN] = { ISCSI_OP_DATA_IN, ISCSI_FLAG_FINAL };

	memcpy(b + 16, cmd + 16, 4);
	put_be32(b + 20, ISCSI_RESERVED_TAG);
	put_be32(b + 36, 0);               /* DataSN */
	put_be32(b + 40, 0);               /* offset */
	peer_send(p, b, data, len);
}

/* Data-In of len bytes of buf, then GOOD. */
static void answer(struct peer *p, const uint8_t *cmd, const uint8_t *buf, uint32_t len)
{
	send_data_in(p, cmd, buf, len);
	send_status(p, cmd, 0, 1, len);
}

/* CHECK CONDITION, ILLEGAL REQUEST, INVALID FIELD IN CDB (fixed sense),
 * nothing moved: how a target refuses a VPD page it does not have. */
static void send_illegal_request(struct peer *p, const uint8_t *cmd)
{
	uint8_t b[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_RSP, ISCSI_FLAG_FINAL | 0x02 };
	uint8_t sense[2 + 18] = { 0, 18, 0x70, 0, 0x05 };

	sense[2 + 7] = 10;
	sense[2 + 12] = 0x24;
	b[3] = 0x02;
	memcpy(b + 16, cmd + 16, 4);
	put_be32(b + 24, p->statsn++);
	put_be32(b + 44, get_be32(cmd + 20));
	peer_send(p, b, sense, sizeof(sense));
}

/* Standard INQUIRY, VPD 0x00 (it lists 0x00 and 0x80 only, though 0x83
 * is answered too; other pages are refused), READ CAPACITY(16), MODE
 * SENSE(6): what the probe asks besides. Returns false for any other
 * command. */
static bool on_probe_command(struct peer *p, const uint8_t *cmd)
{
	static const uint8_t devid[] = { 0, 0x83, 0, 12, 1, 3, 0, 8,
					 0x50, 1, 2, 3, 4, 5, 6, 7 };
	const uint8_t *cdb = cmd + 32;
	uint8_t buf[64] = { 0 };

	if (cdb[0] == 0x12 && !(cdb[1] & 1)) {
		buf[2] = 5;
		buf[4] = 31;
		memcpy(buf + 8, "PEER    TEST DISK       1.0 ", 28);
		answer(p, cmd, buf, 36);
	} else if (cdb[0] == 0x12 && cdb[2] == 0x00) {
		buf[3] = 2;
		buf[5] = 0x80;
		answer(p, cmd, buf, 6);
	} else if (cdb[0] == 0x12 && cdb[2] == 0x83) {
		answer(p, cmd, devid, sizeof(devid));
	} else if (cdb[0] == 0x12 && cdb[2] != 0x80) {
		send_illegal_request(p, cmd);
	} else if (cdb[0] == 0x9e) {
		put_be64(buf, LUN_BYTES / BS - 1);
		put_be32(buf + 8, p->cap16_bad ? 0 : BS);
		answer(p, cmd, buf, 32);
	} else if (cdb[0] == 0x1a) {
		buf[0] = 3;
		buf[2] = p->write_protect ? 0x80 : 0;
		answer(p, cmd, buf, 4);
	} else {
		return false;
	}
	return true;
}

/* INQUIRY VPD 0x80 (serial) and 0x00; READ CAPACITY(10); READ(10); the
 * probe's others. */
static void on_command(struct peer *p, const uint8_t *cmd)
{
	const uint8_t *cdb = cmd + 32;
	uint8_t buf[64] = { 0 };

	p->commands++;
	if (p->script == SCRIPT_DROP_ON_CMD) {
		peer_close(p);
		return;
	}
	if (on_probe_command(p, cmd))
		return;
	if (cdb[0] == 0x12 && (cdb[1] & 1) && cdb[2] == 0x80) {
		size_t n = strlen(p->serial);
		buf[1] = 0x80;
		buf[3] = (uint8_t)n;
		memcpy(buf + 4, p->serial, n);
		send_data_in(p, cmd, buf, (uint32_t)(4 + n));
		send_status(p, cmd, 0, 1, (uint32_t)(4 + n));
	} else if (cdb[0] == 0x25) {
		put_be32(buf, LUN_BYTES / BS - 1);
		put_be32(buf + 4, BS);
		send_data_in(p, cmd, buf, 8);
		send_status(p, cmd, 0, 1, 8);
	} else if (cdb[0] == 0x28) {
		uint32_t lba = get_be32(cdb + 2), len = (uint32_t)(cdb[7] << 8 | cdb[8]) * BS;
		bool shorten = p->script == SCRIPT_SHORT_READ ||
			       (p->script == SCRIPT_SHORT_READ_ONCE && p->reads == 0);
		p->reads++;
		/* The short answer lies: half the data, and no residual. */
		send_data_in(p, cmd, p->lun + lba * BS, shorten ? len / 2 : len);
		send_status(p, cmd, 0, 1, len);
	} else {
		send_status(p, cmd, 0, 0, get_be32(cmd + 20));
	}
}

static void on_peer_pdu(struct peer *p, const uint8_t *bhs)
{
	switch (bhs[0] & 0x3f) {
	case ISCSI_OP_LOGIN_REQ:
		on_login(p, bhs);
		break;
	case ISCSI_OP_SCSI_CMD:
		p->expcmdsn = get_be32(bhs + 24) + 1;
		p->burst++;
		p->max_burst = MAX(p->max_burst, p->burst);
		if (p->script != SCRIPT_SILENT)
			on_command(p, bhs);
		else
			p->reading = false;
		break;
	case ISCSI_OP_LOGOUT_REQ:
		p->logouts++;
		if (p->answer_logout) {
			uint8_t b[ISCSI_BHS_LEN] = { ISCSI_OP_LOGOUT_RSP, ISCSI_FLAG_FINAL };
			memcpy(b + 16, bhs + 16, 4);
			put_be32(b + 24, p->statsn++);
			b[40] = (uint8_t)(p->logout_time2wait >> 8);
			b[41] = (uint8_t)p->logout_time2wait;
			peer_send(p, b, NULL, 0);
		}
		break;
	case ISCSI_OP_NOP_OUT:
		if (get_be32(bhs + 16) != ISCSI_RESERVED_TAG) {
			uint8_t b[ISCSI_BHS_LEN] = { ISCSI_OP_NOP_IN, ISCSI_FLAG_FINAL };
			memcpy(b + 16, bhs + 16, 4);
			put_be32(b + 20, ISCSI_RESERVED_TAG);
			put_be32(b + 24, p->statsn++);
			peer_send(p, b, NULL, 0);
		}
		break;
	default:
		break;
	}
}

static void peer_on_io(struct ev_source *src, uint32_t revents)
{
	struct peer *p = src->ctx;
	ssize_t n;

	/* A reset (ours, as a connection is given up) is reported even to
	 * a peer that reads nothing. */
	if (revents & (EPOLLHUP | EPOLLERR)) {
		peer_close(p);
		return;
	}
	if (!p->reading)
		return;
	n = recv(p->fd, p->rbuf + p->rlen, sizeof(p->rbuf) - p->rlen, MSG_DONTWAIT);
	if (n <= 0) {
		peer_close(p);
		return;
	}
	p->rlen += (size_t)n;
	p->burst = 0;
	while (p->fd >= 0 && p->rlen >= ISCSI_BHS_LEN) {
		uint32_t dlen = get_be24(p->rbuf + 5);
		size_t total = ISCSI_BHS_LEN + ((dlen + 3) & ~3u);
		if (p->rlen < total)
			break;
		on_peer_pdu(p, p->rbuf);
		if (p->fd < 0)
			break;
		memmove(p->rbuf, p->rbuf + total, p->rlen - total);
		p->rlen -= total;
	}
	/* A target that stops reading: no more events for it. */
	if (p->fd >= 0 && !p->reading)
		ev_set_events(&p->io, 0);
}

static void peer_on_accept(struct ev_source *src, uint32_t revents)
{
	struct peer *p = src->ctx;
	/* Blocking for sends, so a PDU goes whole; reads never wait. */
	int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	(void)revents;
	if (fd < 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	peer_close(p);
	p->fd = fd;
	if (p->connections < ARRAY_SIZE(p->accepted_at))
		p->accepted_at[p->connections] = fake_now;
	p->connections++;
	p->reading = true;
	p->io = (struct ev_source){ .fd = fd, .events = EPOLLIN, .deadline = -1,
				    .on_io = peer_on_io, .ctx = p };
	MUST(ev_add(p->loop, &p->io) == 0);
}

void peer_start(struct peer *p, struct ev_loop *loop, enum script script)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->fd = -1;
	p->script = script;
	p->statsn = 1;
	p->expcmdsn = 1;
	snprintf(p->serial, sizeof(p->serial), "disk-A");
	for (size_t i = 0; i < sizeof(p->lun); i++)
		p->lun[i] = (uint8_t)(i * 7 + 3);
	p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	MUST(p->listen_fd >= 0);
	/* A small receive window (set before listen, so that the connection
	 * is made with it) makes a target that stops reading felt soon. */
	setsockopt(p->listen_fd, SOL_SOCKET, SO_RCVBUF, &(int){ 4096 }, sizeof(int));
	MUST(bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	MUST(listen(p->listen_fd, 16) == 0);
	MUST(getsockname(p->listen_fd, (struct sockaddr *)&sa, &len) == 0);
	p->port = ntohs(sa.sin_port);
	p->accept_src = (struct ev_source){ .fd = p->listen_fd, .events = EPOLLIN,
					    .deadline = -1, .on_io = peer_on_accept,
					    .ctx = p };
	MUST(ev_add(loop, &p->accept_src) == 0);
}

void peer_stop(struct peer *p)
{
	peer_close(p);
	ev_del(&p->accept_src);
	close(p->listen_fd);
}

/* ---- Driving the loop on the fake clock */

bool settle_loop(struct ev_loop *loop)
{
	int idle = 0;

	for (int i = 0; i < 20000; i++) {
		if (ev_run_once(loop, 2) > 0)
			idle = 0;
		else if (++idle == 3)
			return true;
	}
	return false;
}

bool advance_loop(struct ev_loop *loop, int64_t ms, int64_t step)
{
	for (int64_t t = 0; t < ms; t += step) {
		fake_now += step;
		if (!settle_loop(loop))
			return false;
	}
	return true;
}

/* ---- Commands */

static void read_done(struct iscsi_task *t)
{
	((struct read_check *)t->ctx)->done++;
}

void read_task(struct iscsi_task *t, struct read_check *rc, uint32_t lba,
		      uint32_t blocks)
{
	memset(rc->buf, 0xee, sizeof(rc->buf));
	memset(t, 0, sizeof(*t));
	t->cdb_len = (uint8_t)scsi_cdb_read(t->cdb, lba, blocks, false);
	t->dir = ISCSI_DIR_READ;
	t->buf = rc->buf;
	t->len = blocks * BS;
	t->done = read_done;
	t->ctx = rc;
}


void send_async(struct peer *p, uint8_t event, uint16_t param2, uint16_t param3)
{
	uint8_t b[ISCSI_BHS_LEN] = { ISCSI_OP_ASYNC_MSG, ISCSI_FLAG_FINAL };

	put_be32(b + 16, ISCSI_RESERVED_TAG);
	put_be32(b + 24, p->statsn++);
	b[36] = event;
	b[40] = (uint8_t)(param2 >> 8);
	b[41] = (uint8_t)param2;
	b[42] = (uint8_t)(param3 >> 8);
	b[43] = (uint8_t)param3;
	peer_send(p, b, NULL, 0);
}

void mark_done(struct iscsi_task *t)
{
	*(int *)t->ctx += 1;
}
