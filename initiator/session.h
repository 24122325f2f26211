/* SPDX-License-Identifier: MIT */
/* Private to initiator/: the session's state, shared by session.c
 * (connection, login, recovery, keepalive: the state machine) and task.c
 * (commands). Calls go one way: session.c calls task.c, and task.c says
 * what it found in a struct task_outcome, never by calling back. */
#ifndef ISCSIROOT_SESSION_H
#define ISCSIROOT_SESSION_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "conn.h"
#include "iscsi.h"
#include "login.h"

#define SESSION_SLOTS 256
/* ITT = generation << 16 | slot. Slots above SESSION_SLOTS tag the
 * session's own PDUs. */
#define ITT_SLOT_NOP 0xfffe
#define ITT_SLOT_TEXT 0xfffd
#define ITT_SLOT_LOGOUT 0xfffc

/* conn_tx.mark values: the last Data-Out answering an R2T (task.c), and
 * our answer to a target's ping, of which only the newest is sent. */
#define TX_MARK_R2T_END 1
#define TX_MARK_PING_ANSWER 2
/* The longest a target may make us wait before reconnecting or before
 * logging out (Async Message Time2Wait / Parameter3, Logout Response
 * Time2Wait): RFC 7143 allows up to an hour. */
#define SESSION_TARGET_WAIT_MAX_MS 30000
/* Redirects followed within one login attempt. */
#define SESSION_REDIRECTS_MAX 8

enum session_state {
	S_IDLE,         /* not started */
	S_CONNECTING,   /* TCP connect in progress */
	S_LOGIN,        /* login PDUs being exchanged */
	S_READY,        /* full feature phase */
	S_DRAINING,     /* target asked for logout: let commands finish */
	S_LOGOUT,       /* Logout sent */
	S_WAIT,         /* connection lost: reconnect when the timer fires */
	S_CLOSED,       /* logged out on request */
	S_FAILED,       /* gave up */
};

struct task_list {
	struct iscsi_task *head, *tail;
	unsigned count;
};

struct iscsi_session {
	struct ev_loop *loop;
	struct iscsi_config cfg;
	enum session_state state;
	struct conn conn;
	struct ev_source timer;

	struct sockaddr_storage portal;     /* resolved configured portal */
	socklen_t portal_len;
	struct sockaddr_storage target;     /* where the next connect goes */
	socklen_t target_len;
	bool redirect_permanent;

	struct login login;
	struct login_config login_cfg;
	struct iscsi_params offer;
	struct iscsi_params params;
	uint64_t isid;
	uint16_t tsih;
	uint16_t tpgt;
	bool ever_ready;
	unsigned recoveries;
	uint64_t ncompleted;                /* commands (not the gate's) done */

	struct iscsi_seq seq;

	struct iscsi_task *slots[SESSION_SLOTS];
	uint16_t slot_gen[SESSION_SLOTS];
	unsigned next_slot;
	struct task_list waiting;           /* not sent yet, in order */
	struct task_list urgent;            /* not sent yet, ahead of waiting */
	struct task_list inflight;          /* sent, in CmdSN order */
	struct task_list completed;         /* answered, caller not told yet */
	unsigned reads_inflight;            /* of them READs: none, no guess
					     * of where Data-In goes */
	unsigned max_inflight;
	uint16_t own_gen;

	int64_t login_deadline;             /* current attempt */
	int64_t first_login_deadline;
	int64_t reconnect_at;
	int64_t replacement_at;             /* -1: none pending */
	bool failfast;                      /* replacement timeout passed */
	unsigned attempt;                   /* reconnect attempts in a row: reset
					     * only once a command completes or
					     * a NOP-Out is answered after login */
	unsigned redirects;                 /* in this login attempt */
	int64_t last_rx;
	int64_t nop_sent_at;                /* -1: none outstanding */
	uint32_t nop_itt;                   /* of that NOP-Out */
	int64_t drain_deadline;
	int64_t logout_deadline;
	bool reconnect_after_logout;

	void (*text_cb)(void *ctx, int err, char *text, size_t len);
	void *text_ctx;
	char *text_buf;
	size_t text_len;

	void (*gate)(void *ctx);            /* see iscsi_session_set_gate() */
	void *gate_ctx;
	bool gate_shut;

	void (*event_cb)(void *ctx, enum iscsi_event ev);
	void *event_ctx;
	int error_code;
	char error[256];
};

/* What a call into task.c found; session.c acts on it (in that order:
 * the gate, the replacement timeout, the connection, then the callers of
 * the completed tasks). */
struct task_outcome {
	int err;                /* < 0: the connection must go, for why */
	char why[200];
	bool answered;          /* the target answered a command */
	bool progress;          /* a command (not one of the gate's) completed */
	bool stalled;           /* a command was put back to be retried */
	bool lun_changed;       /* a UNIT ATTENTION says the LUN may have changed */
};

/* For the multipath layer (mpath.c): hands over, in order, every command
 * the session holds and has not sent on a live connection: the waiting
 * ones, which once the connection is gone (reset: nothing unsent goes out
 * later) include the unanswered ones. The gate's own checks stay. */
void session_take_tasks(struct iscsi_session *s, struct task_list *out);
/* Whether the session can carry commands now: logged in, gate open, not
 * past its replacement timeout. */
bool session_usable(const struct iscsi_session *s);
/* Its first login is retried for as long as the system runs, and its own
 * replacement timeout is off (the multipath layer keeps one for all). */
void session_make_path(struct iscsi_session *s);
const char *session_state_name(const struct iscsi_session *s);

/* The I/O seam for fuzzers and tests: starts the login on a socket that
 * is already connected (a socketpair); reconnects go to the configured
 * portal as usual. */
int session_start_adopted(struct iscsi_session *s, int fd);

/* task.c */
void tasks_pump(struct iscsi_session *s, struct task_outcome *out);
/* conn_ops.header for Data-In: where its payload goes, or -EPROTO. */
int tasks_header(struct iscsi_session *s, const struct iscsi_hdr *h, uint8_t **dst);
/* Data-In, SCSI Response and R2T. */
void tasks_pdu(struct iscsi_session *s, const struct iscsi_hdr *h, uint8_t *data,
	       struct task_outcome *out);
/* conn_ops.expect_data: the next data range of each read in flight. */
unsigned tasks_expect_data(struct iscsi_session *s, struct iovec *ranges, unsigned max);
void tasks_tx_done(struct iscsi_session *s, struct iscsi_task *t, uint8_t mark,
		   struct task_outcome *out);
/* Tells the callers of the tasks answered so far. */
void tasks_complete(struct iscsi_session *s);
/* Moves every sent but unanswered task back to the head of the queue. */
void tasks_requeue_inflight(struct iscsi_session *s);
/* Completes every held task (waiting and in flight) with err. */
void tasks_fail_all(struct iscsi_session *s, int err);
int64_t tasks_next_retry(const struct iscsi_session *s);
void task_list_push(struct task_list *l, struct iscsi_task *t);
void task_list_remove(struct task_list *l, struct iscsi_task *t);

#endif
