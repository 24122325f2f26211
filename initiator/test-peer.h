/* SPDX-License-Identifier: MIT */
/* The scripted target of test-session and test-mpath (test-peer.c), its
 * fake clock, and helpers to drive the loop and build READs. */
#ifndef ISCSIROOT_TEST_PEER_H
#define ISCSIROOT_TEST_PEER_H

#include "session.h"

#define LUN_BYTES 8192
#define BS 512

/* The clock every test loop runs on (ev_set_clock(loop, fake_clock, NULL)). */
extern int64_t fake_now;
int64_t fake_clock(void *ctx);

enum script {
	SCRIPT_NORMAL,          /* answers everything right */
	SCRIPT_REDIRECT,        /* every login: temporary redirect to itself */
	SCRIPT_DROP_ON_CMD,     /* logs in, closes on every SCSI command */
	SCRIPT_SHORT_READ_ONCE, /* first READ: half its data, then GOOD */
	SCRIPT_SHORT_READ,      /* every READ so */
	SCRIPT_SILENT,          /* logs in, then reads nothing and answers nothing */
};

struct peer {
	struct ev_loop *loop;
	int listen_fd;
	uint16_t port;
	struct ev_source accept_src;
	int fd;
	struct ev_source io;
	uint8_t rbuf[1 << 17];
	size_t rlen;
	bool reading;           /* false: the target stops reading its socket */
	enum script script;
	unsigned connections, commands, reads;
	uint32_t statsn;
	uint32_t expcmdsn;      /* after the last command seen */
	bool window_fixed;      /* MaxCmdSN stays at maxcmdsn */
	uint32_t maxcmdsn;
	bool answer_logout;
	uint16_t logout_time2wait;
	unsigned logouts;
	unsigned refuse_logins; /* answered with refuse_status, then accepted */
	uint16_t refuse_status;
	int64_t accepted_at[16];
	uint8_t lun[LUN_BYTES];
	char serial[16];
	/* the probe's other commands (test-disk) */
	bool cap16_bad;         /* READ CAPACITY(16) says block size 0 */
	bool write_protect;     /* MODE SENSE says so */
	unsigned burst, max_burst; /* SCSI commands one read brought, most */
};

void peer_start(struct peer *p, struct ev_loop *loop, enum script script);
void peer_stop(struct peer *p);
/* Sends one PDU whole, with the peer's ExpCmdSN and MaxCmdSN. */
void peer_send(struct peer *p, uint8_t *bhs, const void *data, uint32_t len);
void peer_close(struct peer *p);
void send_async(struct peer *p, uint8_t event, uint16_t param2, uint16_t param3);

/* Runs the loop until nothing happens for three rounds of 2 ms (real
 * time: the sockets' bytes in flight), the fake clock standing still;
 * false when it keeps busy at one instant of the clock. */
bool settle_loop(struct ev_loop *loop);
/* Moves the fake clock forward by ms in steps, settling at each; false
 * as soon as one step keeps busy. */
bool advance_loop(struct ev_loop *loop, int64_t ms, int64_t step);

struct read_check {
	uint8_t buf[2 * BS];
	int done;
};
/* A READ(10) of blocks at lba into rc->buf; done counts in rc->done. */
void read_task(struct iscsi_task *t, struct read_check *rc, uint32_t lba,
	       uint32_t blocks);
/* A done callback that counts in the int at t->ctx. */
void mark_done(struct iscsi_task *t);

#endif
