/* SPDX-License-Identifier: MIT */
/* The session: connect, login, full feature phase, keepalive, recovery by
 * session reinstatement (RFC 7143 §6.3.5) and logout. One state machine:
 * every input goes through step(), the one switch over the states; one
 * timer; time comes from the event loop's clock (ev_now), which tests
 * replace. Commands live in task.c, which this file calls and which
 * never calls back (struct task_outcome). */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chap.h"
#include "session.h"

#define RECONNECT_DELAY_MIN_MS 250
/* The shortest login attempt worth starting before the first login's
 * deadline: less than this is giving up in all but name. */
#define LAST_ATTEMPT_MIN_MS 1000
/* How long a logout waits for its answer. */
#define LOGOUT_WAIT_MS 5000
/* How long commands may take to finish before a logout the caller asked for. */
#define DRAIN_WAIT_MS 30000

/* What the state machine reacts to. */
enum session_input {
	IN_START,       /* the caller starts the session, or logs in again */
	IN_CONNECTED,   /* the TCP connection is up */
	IN_PDU,         /* a whole PDU from the target */
	IN_TIMER,       /* the session's timer fired */
	IN_LOST,        /* the connection failed or has to go */
	IN_LOGOUT,      /* the caller asks for a logout */
};

struct input {
	enum session_input kind;
	const struct iscsi_hdr *h;      /* IN_PDU */
	uint8_t *data;
	int err;                        /* IN_LOST */
	const char *why;
};

static void feed(struct iscsi_session *s, const struct input *in);

static const char *state_name(enum session_state st)
{
	static const char *const names[] = {
		"idle", "connecting", "login", "ready", "draining", "logout",
		"waiting to reconnect", "closed", "failed",
	};
	return (unsigned)st < ARRAY_SIZE(names) ? names[st] : "impossible";
}

static void set_state(struct iscsi_session *s, enum session_state st)
{
	if (s->state != st)
		log_debug("session: %s -> %s", state_name(s->state), state_name(st));
	s->state = st;
}

static void emit(struct iscsi_session *s, enum iscsi_event ev)
{
	if (s->event_cb)
		s->event_cb(s->event_ctx, ev);
}

static void set_error(struct iscsi_session *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_error(struct iscsi_session *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	s->error_code = err;
}

/* The connection failed or has to go: the state machine decides what
 * that means now. */
static void lose(struct iscsi_session *s, int err, const char *why)
{
	feed(s, &(struct input){ .kind = IN_LOST, .err = err, .why = why });
}

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char service[8];
	int r;

	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(host, service, &hints, &res);
	if (r != 0)
		return -EHOSTUNREACH;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* ISID in the "random" format (RFC 7143 §11.12.5, T=2), but derived from
 * the initiator and target names and the configured portal: the same
 * host logging in again after a reboot reinstates (and so cleans up) its
 * old session on the target, and the paths of one disk (mpath.c) are
 * sessions of their own, which a login on one does not reinstate away. */
static uint64_t make_isid(const struct iscsi_config *cfg)
{
	uint64_t h = 1469598103934665603ull;
	char port[8];
	const char *parts[] = { cfg->initiator_name, cfg->target_name, cfg->host, port };

	snprintf(port, sizeof(port), ":%u", cfg->port);
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return (2ull << 46) | ((h & 0xffffff) << 16);
}

static uint32_t own_itt(struct iscsi_session *s, uint16_t slot)
{
	return (uint32_t)(++s->own_gen) << 16 | slot;
}

/* ---- The timer: the next deadline of the current state */

static void consider(int64_t *best, int64_t t)
{
	if (t >= 0 && (*best < 0 || t < *best))
		*best = t;
}

/* When bytes that wait to be sent count as a dead connection: the peer
 * has read none of them for the NOP timeout, whatever it sends us. */
static int64_t send_stall_deadline(const struct iscsi_session *s)
{
	int64_t since = conn_tx_stalled_since(&s->conn);

	return since < 0 ? -1 : since + MAX(s->cfg.nop_timeout_ms, 1000);
}

static int64_t keepalive_deadline(const struct iscsi_session *s)
{
	if (s->cfg.nop_interval_ms <= 0)
		return -1;
	return s->nop_sent_at >= 0 ? s->nop_sent_at + s->cfg.nop_timeout_ms
				   : s->last_rx + s->cfg.nop_interval_ms;
}

static void arm_timer(struct iscsi_session *s)
{
	int64_t best = -1;

	switch (s->state) {
	case S_CONNECTING:
	case S_LOGIN:
		consider(&best, s->login_deadline);
		consider(&best, send_stall_deadline(s));
		break;
	case S_READY:
		consider(&best, keepalive_deadline(s));
		consider(&best, tasks_next_retry(s));
		consider(&best, send_stall_deadline(s));
		break;
	case S_DRAINING:
		consider(&best, s->drain_deadline);
		consider(&best, keepalive_deadline(s));
		consider(&best, send_stall_deadline(s));
		break;
	case S_LOGOUT:
		consider(&best, s->logout_deadline);
		break;
	case S_WAIT:
		consider(&best, s->reconnect_at);
		break;
	default:
		break;
	}
	if (!s->failfast)
		consider(&best, s->replacement_at);
	s->timer.deadline = best;
}

/* ---- Our own PDUs (no task) */

/* Queues one of our own PDUs. A peer that keeps asking for answers and
 * does not read them fills the connection's small queue for these: the
 * connection is then dead, and we recover instead of growing. */
static bool queue_own(struct iscsi_session *s, struct conn_tx *tx)
{
	if (conn_queue(&s->conn, tx) == 0)
		return true;
	lose(s, -ENOBUFS, "the target sends requests but does not read our answers");
	return false;
}

/* A PDU of ours with data we copy (NULL and 0: none); false when the
 * connection went instead. */
static bool send_own(struct iscsi_session *s, const uint8_t *hdr, const void *data,
		     uint32_t len, uint8_t mark)
{
	uint8_t *copy = NULL;
	struct conn_tx *tx;

	if (len && !(copy = malloc(len))) {
		lose(s, -ENOMEM, "out of memory");
		return false;
	}
	tx = conn_tx_get(&s->conn);
	if (!tx) {
		free(copy);
		lose(s, -ENOMEM, "out of memory");
		return false;
	}
	memcpy(tx->hdr, hdr, ISCSI_BHS_LEN);
	if (len) {
		memcpy(copy, data, len);
		tx->owned = copy;
		tx->data = copy;
		tx->data_len = len;
	}
	tx->mark = mark;
	return queue_own(s, tx);
}

/* ---- Commands: what task.c found, and sending what may go */

static void arm_replacement(struct iscsi_session *s);
static void lun_changed(struct iscsi_session *s);
static void io_progress(struct iscsi_session *s);

/* In this order: the gate shuts before a command retried after a UNIT
 * ATTENTION can go out again; the replacement timeout follows the
 * answers; the callers hear last, once a completed command has counted
 * as progress (their next request must not meet an old failfast). */
static void take_outcome(struct iscsi_session *s, struct task_outcome *out)
{
	if (out->answered)
		s->attempt = 0; /* the connection carries commands: back off afresh */
	if (out->lun_changed)
		lun_changed(s);
	if (out->stalled)
		arm_replacement(s);
	if (out->progress) {
		s->ncompleted++;
		io_progress(s);
	}
	if (out->err < 0)
		lose(s, out->err, out->why);
	tasks_complete(s);
}

static void pump(struct iscsi_session *s)
{
	struct task_outcome out = { 0 };

	tasks_pump(s, &out);
	take_outcome(s, &out);
}

/* ---- Connecting and login */

/* One connect and login attempt, to s->target. A redirect continues the
 * attempt it came in (same deadline), so a target that redirects
 * without end gets no more time than one that does not answer. The
 * first login's attempts end with its deadline. */
static void start_connect(struct iscsi_session *s, bool redirected)
{
	int r;

	set_state(s, S_CONNECTING);
	if (!redirected) {
		s->login_deadline = ev_now(s->loop) + s->cfg.login_timeout_ms;
		if (!s->ever_ready && s->first_login_deadline >= 0)
			s->login_deadline = MIN(s->login_deadline, s->first_login_deadline);
		s->redirects = 0;
	}
	r = conn_connect(&s->conn, (struct sockaddr *)&s->target, s->target_len,
			 s->cfg.ifname);
	if (r == -ENODEV) {
		char why[64];

		snprintf(why, sizeof(why), "no interface %s for this path", s->cfg.ifname);
		lose(s, r, why);
	} else if (r < 0) {
		lose(s, r, "cannot connect");
	}
}

/* 0 for the first retry after a working connection, then 250 ms doubling
 * to the configured cap, spread over its upper half (jitter_ms): after a
 * target restart, a fleet does not come back in one wave. */
static int64_t backoff_ms(struct iscsi_session *s)
{
	int64_t delay = 0;

	if (s->attempt > 0)
		delay = jitter_ms(MIN((int64_t)RECONNECT_DELAY_MIN_MS << MIN(s->attempt - 1, 10u),
				      (int64_t)s->cfg.reconnect_delay_max_ms));
	s->attempt++;
	return delay;
}

static void schedule_reconnect(struct iscsi_session *s, int64_t delay_ms)
{
	set_state(s, S_WAIT);
	s->reconnect_at = ev_now(s->loop) + delay_ms;
}

static void fail_session(struct iscsi_session *s)
{
	conn_close(&s->conn);
	set_state(s, S_FAILED);
	log_debug("session failed: %s", s->error);
	tasks_fail_all(s, s->error_code ? s->error_code : -EIO);
	emit(s, ISCSI_EVENT_FAILED);
}

/* Commands a logout left unanswered wait for the next start. */
static void close_session(struct iscsi_session *s)
{
	conn_close(&s->conn);
	tasks_requeue_inflight(s);
	set_state(s, S_CLOSED);
	emit(s, ISCSI_EVENT_CLOSED);
}

/* What the target (or we) said that retrying the first login cannot fix:
 * wrong credentials, no such target, a protocol we cannot speak. A target
 * out of resources (status class 3: -EAGAIN) is not among them. */
static bool fatal_login_error(int err)
{
	return err == -EACCES || err == -EPERM || err == -ENOENT || err == -EPROTO;
}

/* In how long the next attempt of the first login starts, or -1: none
 * does. An attempt the backoff would put too close to the deadline is
 * pulled in to leave it LAST_ATTEMPT_MIN_MS, not dropped; once that last
 * one has failed, no more than LAST_ATTEMPT_MIN_MS is left, and the
 * first login is over (so a target that fails at once cannot make this
 * a loop at one instant). */
static int64_t first_login_retry_in(struct iscsi_session *s, int64_t delay)
{
	int64_t left;

	if (s->first_login_deadline < 0)
		return delay;
	left = s->first_login_deadline - ev_now(s->loop);
	if (left <= LAST_ATTEMPT_MIN_MS)
		return -1;
	return MIN(delay, left - LAST_ATTEMPT_MIN_MS);
}

/* A connect or login attempt failed. Before the first success, errors
 * that retrying cannot fix end the session, and so does the first
 * login's deadline; afterwards this is a root disk, so we keep trying
 * (and say why, every time). Credentials the target refuses during
 * recovery are among the retried: a target being restarted can refuse
 * them until its accounts are back, and that must cost a pause, not the
 * root file system. The replacement timeout, when set, bounds it. */
static void login_attempt_failed(struct iscsi_session *s, int err, const char *why)
{
	bool first = !s->ever_ready;
	int64_t delay;

	conn_close(&s->conn);
	/* The target refused our CHAP_A list: the next attempt, and only
	 * that one, offers MD5 alone (begin_login() clears the flag). */
	if (s->state == S_LOGIN && login_failed_at_chap_list(&s->login)) {
		log_debug("CHAP with %s failed; retrying with MD5 only",
			  s->login.chap_alg ? chap_alg_name(s->login.chap_alg) : "the CHAP_A list");
		s->login_cfg.md5_only = true;
		schedule_reconnect(s, 0);
		return;
	}
	set_error(s, err, "%s", why);
	delay = backoff_ms(s);
	if (first) {
		delay = fatal_login_error(err) ? -1 : first_login_retry_in(s, delay);
		if (delay < 0) {
			fail_session(s);
			return;
		}
		/* Before the first login, the caller decides what to print. */
		log_debug("%s; retrying in %lld ms", why, (long long)delay);
	} else if (err == -EACCES || err == -EPERM) {
		log_err("%s; the target refuses our credentials: retrying in %lld ms",
			why, (long long)delay);
	} else {
		log_warn("%s; retrying in %lld ms", why, (long long)delay);
	}
	/* A redirect only holds for the attempt it was given for. */
	if (!s->redirect_permanent) {
		memcpy(&s->target, &s->portal, s->portal_len);
		s->target_len = s->portal_len;
	}
	schedule_reconnect(s, delay);
}

/* The errno's own text, where the reason does not already say it all. */
static const char *errno_suffix(int err)
{
	switch (err) {
	case 0: case -EPROTO: case -EBADMSG: case -EILSEQ: case -EMSGSIZE: case -ELOOP:
		return "";
	default:
		return strerror(-err);
	}
}

static void login_attempt_lost(struct iscsi_session *s, int err, const char *why)
{
	char msg[300], hp[HOST_PORT_LEN];

	snprintf(msg, sizeof(msg), "%s %s: %s%s%s",
		 s->state == S_CONNECTING ? "connecting to" : "login to",
		 host_port(hp, s->cfg.host, s->cfg.port), why,
		 *errno_suffix(err) ? ": " : "", errno_suffix(err));
	login_attempt_failed(s, err, msg);
}

/* Sends the next Login Request: the whole text, or its next part with
 * the C bit (login.c cuts it at LOGIN_PDU_DATA_MAX). One that cannot be
 * built is a failed attempt like any other: retried, never the end of a
 * session that has I/O to do. */
static void send_login_request(struct iscsi_session *s)
{
	uint8_t hdr[ISCSI_BHS_LEN];
	uint8_t *data = malloc(LOGIN_PDU_DATA_MAX);
	int n;

	if (!data) {
		lose(s, -ENOMEM, "out of memory");
		return;
	}
	n = login_build_request(&s->login, hdr, data, LOGIN_PDU_DATA_MAX);
	if (n < 0)
		lose(s, n, s->login.error);
	else
		send_own(s, hdr, data, (uint32_t)n, 0);
	free(data);
}

static void begin_login(struct iscsi_session *s)
{
	set_state(s, S_LOGIN);
	/* TSIH 0 with our ISID: a new session that replaces any old one the
	 * target still holds for us (reinstatement, §6.3.5). */
	login_free(&s->login);
	login_init(&s->login, &s->login_cfg, s->isid, 0, s->seq.cmdsn, s->seq.expstatsn);
	/* An MD5-alone retry holds for this attempt only (login_init()
	 * copied the flag). */
	s->login_cfg.md5_only = false;
	send_login_request(s);
}

static int follow_redirect(struct iscsi_session *s)
{
	int r;

	if (++s->redirects > SESSION_REDIRECTS_MAX)
		return -ELOOP;
	r = resolve(s->login.redirect_host, s->login.redirect_port, &s->target,
		    &s->target_len);
	if (r < 0)
		return r;
	s->redirect_permanent = s->login.status_detail == 0x02;
	if (s->redirect_permanent) {
		memcpy(&s->portal, &s->target, s->target_len);
		s->portal_len = s->target_len;
	}
	conn_close(&s->conn);
	start_connect(s, true);
	return 0;
}

static void shut_gate(struct iscsi_session *s);

static void login_complete(struct iscsi_session *s)
{
	bool recovered = s->ever_ready;

	s->params = s->login.result;
	s->tsih = s->login.tsih;
	s->tpgt = s->login.tpgt;
	conn_set_digests(&s->conn, s->params.header_digest, s->params.data_digest);
	set_state(s, S_READY);
	s->nop_sent_at = -1;
	s->last_rx = ev_now(s->loop);
	s->ever_ready = true;
	if (recovered) {
		s->recoveries++;
		log_info("session reinstated; %u command(s) to re-issue%s", s->waiting.count,
			 s->gate ? " once the LUN is checked" : "");
	}
	/* The replacement timeout stops once I/O makes progress: a command
	 * completes, or none waits (a target that logs us in and then fails
	 * every command is no progress). The gate may have to look first. */
	if (recovered && s->gate)
		shut_gate(s);
	else if (!s->waiting.head)
		io_progress(s);
	emit(s, ISCSI_EVENT_READY);
	if (s->state == S_READY)
		pump(s);
}

static void on_login_pdu(struct iscsi_session *s, const struct iscsi_hdr *h,
			 const uint8_t *data)
{
	int r = login_handle_response(&s->login, h, data, h->data_len);

	s->seq.expstatsn = s->login.expstatsn;
	if (r == LOGIN_COMPLETE) {
		s->seq.expcmdsn = h->expcmdsn;
		s->seq.maxcmdsn = h->maxcmdsn;
		login_complete(s);
	} else if (r == LOGIN_SEND_NEXT) {
		send_login_request(s);
	} else if (r == LOGIN_REDIRECTED) {
		r = follow_redirect(s);
		if (r == -ELOOP)
			lose(s, -ELOOP, "too many redirects in one login");
		else if (r < 0)
			login_attempt_failed(s, -EHOSTUNREACH, "cannot resolve the redirect target");
	} else {
		login_attempt_failed(s, r, s->login.error);
	}
}

static void login_timer(struct iscsi_session *s, int64_t now)
{
	if (now >= s->login_deadline)
		lose(s, -ETIMEDOUT, "no answer");
	else if (send_stall_deadline(s) >= 0 && now >= send_stall_deadline(s))
		lose(s, -ETIMEDOUT, "the target has read nothing we sent for the NOP timeout");
}

/* ---- The replacement timeout and the gate (iscsi_session_set_gate) */

/* I/O cannot make progress from here: the replacement timeout runs (from
 * the first such moment, whatever the reason) until a command completes
 * (io_progress). */
static void arm_replacement(struct iscsi_session *s)
{
	if (s->replacement_at < 0 && s->cfg.replacement_timeout_ms >= 0)
		s->replacement_at = ev_now(s->loop) + s->cfg.replacement_timeout_ms;
}

/* A command completed (not one of the gate's own): the replacement
 * timeout stops, unless the gate is shut. */
static void io_progress(struct iscsi_session *s)
{
	if (s->gate_shut || s->state != S_READY)
		return;
	s->replacement_at = -1;
	s->failfast = false;
}

static void check_replacement(struct iscsi_session *s, int64_t now)
{
	if (s->failfast || s->replacement_at < 0 || now < s->replacement_at)
		return;
	s->failfast = true;
	log_err("replacement timeout: I/O to %s could not go on for %lld ms (%s); "
		"failing it", s->cfg.host, (long long)s->cfg.replacement_timeout_ms,
		s->state == S_READY && s->gate_shut ? "the LUN is not the attached disk"
						    : "no connection");
	tasks_fail_all(s, -EIO);
}

static void shut_gate(struct iscsi_session *s)
{
	s->gate_shut = true;
	arm_replacement(s);
	s->gate(s->gate_ctx);
	emit(s, ISCSI_EVENT_GATE_SHUT);
}

/* A UNIT ATTENTION said the LUN may have changed. */
static void lun_changed(struct iscsi_session *s)
{
	if (!s->gate || s->gate_shut || s->state != S_READY)
		return;
	log_info("the LUN reports a change; checking that it is still the same disk");
	shut_gate(s);
}

void iscsi_session_set_gate(struct iscsi_session *s, void (*gate)(void *ctx),
			    void *ctx)
{
	s->gate = gate;
	s->gate_ctx = ctx;
	if (!gate)
		iscsi_session_open_gate(s);
}

void iscsi_session_open_gate(struct iscsi_session *s)
{
	if (!s->gate_shut)
		return;
	s->gate_shut = false;
	if (!s->waiting.head)
		io_progress(s);
	pump(s);
	arm_timer(s);
	emit(s, ISCSI_EVENT_GATE_OPEN);
}

void iscsi_session_shut_gate(struct iscsi_session *s)
{
	if (s->gate && !s->gate_shut)
		shut_gate(s);
	arm_timer(s);
}

bool iscsi_session_gate_shut(const struct iscsi_session *s)
{
	return s->gate_shut;
}

/* ---- Losing the connection, logout */

/* The connection is gone (or going): every command waits for the next
 * one, which is tried after delay_ms. */
static void recover(struct iscsi_session *s, int64_t delay_ms)
{
	conn_close(&s->conn);
	tasks_requeue_inflight(s);
	arm_replacement(s);
	schedule_reconnect(s, delay_ms);
	/* Last: the owner may take the commands elsewhere (mpath.c). */
	emit(s, ISCSI_EVENT_RECOVERING);
}

static void connection_lost(struct iscsi_session *s, int err, const char *why)
{
	char hp[HOST_PORT_LEN];

	log_warn("connection to %s lost (%s%s%s); reconnecting",
		 host_port(hp, s->cfg.host, s->cfg.port), why,
		 *errno_suffix(err) ? ": " : "", errno_suffix(err));
	set_error(s, err, "connection lost: %s", why);
	recover(s, backoff_ms(s));
}

/* What a target asks us to wait, capped: it cannot park a root disk for
 * an hour. */
static int64_t target_wait_ms(unsigned seconds)
{
	return MIN((int64_t)seconds * 1000, SESSION_TARGET_WAIT_MAX_MS);
}

static void send_logout(struct iscsi_session *s)
{
	uint8_t hdr[ISCSI_BHS_LEN];
	struct iscsi_logout_req req = {
		.reason = ISCSI_LOGOUT_CLOSE_SESSION,
		.itt = own_itt(s, ITT_SLOT_LOGOUT),
		.cmdsn = s->seq.cmdsn, .expstatsn = s->seq.expstatsn,
	};

	pdu_encode_logout(hdr, &req);
	if (!send_own(s, hdr, NULL, 0, 0))
		return;
	set_state(s, S_LOGOUT);
	s->logout_deadline = ev_now(s->loop) + LOGOUT_WAIT_MS;
}

/* The logout is over (answered, timed out, or its connection gone). */
static void logout_done(struct iscsi_session *s, int64_t wait_ms)
{
	if (s->reconnect_after_logout) {
		s->reconnect_after_logout = false;
		recover(s, wait_ms);
		return;
	}
	close_session(s);
}

/* Commands in flight finish (until the deadline), then the logout goes. */
static void start_drain(struct iscsi_session *s, int64_t deadline, bool reconnect)
{
	s->reconnect_after_logout = reconnect;
	if (reconnect)
		arm_replacement(s);
	s->drain_deadline = deadline;
	set_state(s, S_DRAINING);
}

/* ---- Full feature phase: keepalive and the target's own PDUs */

static void send_nop(struct iscsi_session *s, uint32_t itt, uint32_t ttt,
		     uint64_t lun, const uint8_t *ping, uint32_t len, uint8_t mark)
{
	struct iscsi_nop_out nop = { .lun = lun, .itt = itt, .ttt = ttt,
				     .cmdsn = s->seq.cmdsn, .expstatsn = s->seq.expstatsn,
				     .data_len = len };
	uint8_t hdr[ISCSI_BHS_LEN];

	pdu_encode_nop_out(hdr, &nop);
	send_own(s, hdr, ping, len, mark);
}

static void on_nop_in(struct iscsi_session *s, const struct iscsi_hdr *h,
		      const uint8_t *data)
{
	/* Only the answer to the NOP-Out we sent last (its whole ITT, with
	 * its generation) proves the target still serves us. */
	if (s->nop_sent_at >= 0 && h->itt == s->nop_itt) {
		s->nop_sent_at = -1;
		s->attempt = 0; /* a round trip works: back off afresh */
	}
	/* A ping from the target wants its data echoed (§11.19). Only the
	 * newest ping is answered: an answer not yet on its way is replaced,
	 * so a target that pings faster than it reads grows nothing. */
	if (h->ttt != ISCSI_RESERVED_TAG) {
		conn_cancel_unsent(&s->conn, TX_MARK_PING_ANSWER);
		send_nop(s, ISCSI_RESERVED_TAG, h->ttt, h->lun, data, h->data_len,
			 TX_MARK_PING_ANSWER);
	}
}

/* Our NOP-Out must be answered within the timeout of its sending: other
 * traffic from the target (its own pings, say) does not prove that it
 * still serves us. */
static void keepalive(struct iscsi_session *s, int64_t now)
{
	if (s->cfg.nop_interval_ms <= 0)
		return;
	if (s->nop_sent_at >= 0) {
		if (now - s->nop_sent_at >= s->cfg.nop_timeout_ms)
			lose(s, -ETIMEDOUT, "no answer to NOP-Out");
		return;
	}
	if (now - s->last_rx >= s->cfg.nop_interval_ms) {
		s->nop_sent_at = now;
		s->nop_itt = own_itt(s, ITT_SLOT_NOP);
		send_nop(s, s->nop_itt, ISCSI_RESERVED_TAG, 0, NULL, 0, 0);
	}
}

static void on_async(struct iscsi_session *s, const struct iscsi_hdr *h,
		     const uint8_t *data)
{
	struct scsi_sense sense;

	switch (h->u.async.event) {
	case 0: /* SCSI asynchronous event: sense data describes it */
		if (h->data_len >= 2 &&
		    scsi_sense_decode(data + 2, MIN(get_be16(data), h->data_len - 2),
				      &sense) == 0)
			log_info("target reported a SCSI event: %s, asc/ascq %02x/%02x",
				 scsi_sense_key_name(sense.key), sense.asc, sense.ascq);
		break;
	case 1: /* logout requested, within Parameter3 seconds */
		log_info("target requested logout; finishing commands, then reconnecting");
		start_drain(s, ev_now(s->loop) +
			       target_wait_ms(h->u.async.param3 ? h->u.async.param3 : 10),
			    true);
		break;
	case 2: /* the target will drop this connection */
	case 3: /* ... or all of the session's connections */
		log_info("target is dropping the connection; reconnecting in %lld ms",
			 (long long)target_wait_ms(h->u.async.param2));
		recover(s, target_wait_ms(h->u.async.param2));
		break;
	case 4: /* renegotiation request: our parameters stand */
		log_debug("target asked for renegotiation; ignored");
		break;
	default:
		log_debug("ignoring async event %u", h->u.async.event);
		break;
	}
}

static void finish_text(struct iscsi_session *s, int err)
{
	void (*cb)(void *, int, char *, size_t) = s->text_cb;

	s->text_cb = NULL;
	if (cb)
		cb(s->text_ctx, err, err ? NULL : s->text_buf, err ? 0 : s->text_len);
	free(s->text_buf);
	s->text_buf = NULL;
	s->text_len = 0;
}

static void on_text_rsp(struct iscsi_session *s, const struct iscsi_hdr *h,
			const uint8_t *data)
{
	char *grown;

	if (!s->text_cb)
		return;
	if (s->text_len + h->data_len > TEXT_MAX_TOTAL ||
	    !(grown = realloc(s->text_buf, s->text_len + h->data_len + 1))) {
		lose(s, -EMSGSIZE, "text response too long");
		return;
	}
	s->text_buf = grown;
	memcpy(s->text_buf + s->text_len, data, h->data_len);
	s->text_len += h->data_len;
	if ((h->flags & ISCSI_FLAG_TEXT_CONTINUE) && h->ttt != ISCSI_RESERVED_TAG) {
		uint8_t hdr[ISCSI_BHS_LEN];
		struct iscsi_text_req req = { .final = true, .itt = h->itt,
					      .ttt = h->ttt, .cmdsn = s->seq.cmdsn++,
					      .expstatsn = s->seq.expstatsn };

		pdu_encode_text(hdr, &req);
		send_own(s, hdr, NULL, 0, 0);
		return;
	}
	finish_text(s, 0);
}

static void on_reject(struct iscsi_session *s, const struct iscsi_hdr *h,
		      const uint8_t *data)
{
	uint8_t opcode;
	uint32_t itt;
	char why[96];

	/* A target may refuse our keepalive; the connection is fine. */
	if (pdu_request_tag(data, h->data_len, &opcode, &itt) == 0 &&
	    opcode == ISCSI_OP_NOP_OUT && (itt & 0xffff) == ITT_SLOT_NOP) {
		log_debug("target rejected our NOP-Out (%s)",
			  iscsi_reject_reason_name(h->u.reject.reason));
		s->nop_sent_at = -1;
		return;
	}
	snprintf(why, sizeof(why), "target rejected a PDU: %s",
		 iscsi_reject_reason_name(h->u.reject.reason));
	lose(s, -EPROTO, why);
}

/* Whether the PDU carries a StatSN for us to acknowledge: NOP-In only
 * when it answers a NOP-Out of ours, Data-In only with status, R2T never
 * (task.c updates its own). */
static bool has_statsn(const struct iscsi_hdr *h)
{
	return h->opcode != ISCSI_OP_NOP_IN || h->itt != ISCSI_RESERVED_TAG;
}

/* A PDU in the full feature phase (also while draining or logging out:
 * commands still complete). */
static void full_feature_pdu(struct iscsi_session *s, const struct iscsi_hdr *h,
			     uint8_t *data)
{
	struct task_outcome out = { 0 };

	switch (h->opcode) {
	case ISCSI_OP_DATA_IN:
	case ISCSI_OP_SCSI_RSP:
	case ISCSI_OP_R2T:
		tasks_pdu(s, h, data, &out);
		take_outcome(s, &out);
		break;
	case ISCSI_OP_NOP_IN:
		iscsi_seq_update(&s->seq, h, has_statsn(h));
		on_nop_in(s, h, data);
		break;
	case ISCSI_OP_ASYNC_MSG:
		iscsi_seq_update(&s->seq, h, true);
		on_async(s, h, data);
		break;
	case ISCSI_OP_TEXT_RSP:
		iscsi_seq_update(&s->seq, h, true);
		on_text_rsp(s, h, data);
		break;
	case ISCSI_OP_REJECT:
		iscsi_seq_update(&s->seq, h, true);
		on_reject(s, h, data);
		break;
	default: /* a Logout Response outside a logout, and the like */
		iscsi_seq_update(&s->seq, h, true);
		break;
	}
	/* Any of them may have opened the command window. */
	if (s->state == S_READY)
		pump(s);
}

/* The peer has read nothing of what waits for it for the NOP timeout:
 * the connection is dead, however much it sends us. */
static bool send_stalled(struct iscsi_session *s, int64_t now)
{
	int64_t deadline = send_stall_deadline(s);

	if (deadline < 0 || now < deadline)
		return false;
	lose(s, -ETIMEDOUT, "the target has read nothing we sent for the NOP timeout");
	return true;
}

static void full_feature_timer(struct iscsi_session *s, int64_t now)
{
	if (send_stalled(s, now))
		return;
	keepalive(s, now);
	if (s->state == S_READY)
		pump(s);
}

static void logout_pdu(struct iscsi_session *s, const struct iscsi_hdr *h,
		       uint8_t *data)
{
	if (h->opcode != ISCSI_OP_LOGOUT_RSP) {
		full_feature_pdu(s, h, data);
		return;
	}
	iscsi_seq_update(&s->seq, h, true);
	logout_done(s, target_wait_ms(h->u.logout.time2wait));
}

/* ---- The state machine */

/* The one switch: what each input does in each state. Transitions
 * happen only in the functions it calls. */
static void step(struct iscsi_session *s, const struct input *in)
{
	int64_t now = ev_now(s->loop);

	switch (s->state) {
	case S_IDLE:
	case S_CLOSED:
		if (in->kind == IN_START)
			start_connect(s, false);
		else if (in->kind == IN_LOGOUT && s->state == S_IDLE)
			close_session(s);
		break;
	case S_CONNECTING:
	case S_LOGIN:
		if (in->kind == IN_CONNECTED && s->state == S_CONNECTING)
			begin_login(s);
		else if (in->kind == IN_PDU && s->state == S_LOGIN)
			on_login_pdu(s, in->h, in->data);
		else if (in->kind == IN_TIMER)
			login_timer(s, now);
		else if (in->kind == IN_LOST)
			login_attempt_lost(s, in->err, in->why);
		else if (in->kind == IN_LOGOUT)
			close_session(s);
		break;
	case S_READY:
	case S_DRAINING:
		if (in->kind == IN_PDU)
			full_feature_pdu(s, in->h, in->data);
		else if (in->kind == IN_TIMER)
			full_feature_timer(s, now);
		else if (in->kind == IN_LOST)
			connection_lost(s, in->err, in->why);
		else if (in->kind == IN_LOGOUT && s->state == S_READY)
			start_drain(s, now + DRAIN_WAIT_MS, false);
		else if (in->kind == IN_LOGOUT)
			s->reconnect_after_logout = false;
		/* Draining (perhaps from just now): once drained, or out of
		 * time, the logout goes. */
		if (s->state == S_DRAINING &&
		    (s->inflight.count == 0 || now >= s->drain_deadline))
			send_logout(s);
		break;
	case S_LOGOUT:
		if (in->kind == IN_PDU)
			logout_pdu(s, in->h, in->data);
		else if (in->kind == IN_TIMER && now >= s->logout_deadline)
			logout_done(s, target_wait_ms(s->params.time2wait));
		else if (in->kind == IN_LOST && s->reconnect_after_logout)
			connection_lost(s, in->err, in->why);
		else if (in->kind == IN_LOST)
			close_session(s);
		else if (in->kind == IN_LOGOUT)
			s->reconnect_after_logout = false;
		break;
	case S_WAIT:
		if (in->kind == IN_TIMER && now >= s->reconnect_at)
			start_connect(s, false);
		else if (in->kind == IN_LOGOUT)
			close_session(s);
		break;
	case S_FAILED:
		break;
	default:
		log_err("session in impossible state %d", (int)s->state);
		abort();
	}
}

static void feed(struct iscsi_session *s, const struct input *in)
{
	step(s, in);
	arm_timer(s);
}

/* ---- Connection callbacks */

static void on_connected(void *owner)
{
	feed(owner, &(struct input){ .kind = IN_CONNECTED });
}

static int on_header(void *owner, const struct iscsi_hdr *h, uint8_t **dst)
{
	struct iscsi_session *s = owner;

	if (s->state == S_LOGIN)
		return h->opcode == ISCSI_OP_LOGIN_RSP ? 0 : -EPROTO;
	return tasks_header(s, h, dst);
}

static unsigned on_expect_data(void *owner, struct iovec *ranges, unsigned max)
{
	struct iscsi_session *s = owner;

	/* Commands are in flight only in the full feature phase. */
	if (s->state == S_READY || s->state == S_DRAINING || s->state == S_LOGOUT)
		return tasks_expect_data(s, ranges, max);
	return 0;
}

static void on_pdu(void *owner, const struct iscsi_hdr *h, uint8_t *data)
{
	struct iscsi_session *s = owner;

	/* The target's own pings do not show that it serves us: they must
	 * not keep our NOP-Out from going out. */
	if (h->opcode != ISCSI_OP_NOP_IN || h->ttt == ISCSI_RESERVED_TAG)
		s->last_rx = ev_now(s->loop);
	feed(s, &(struct input){ .kind = IN_PDU, .h = h, .data = data });
}

static void on_conn_failed(void *owner, int err, const char *why)
{
	lose(owner, err, why);
}

static void on_tx_done(void *owner, struct iscsi_task *t, uint8_t mark)
{
	struct iscsi_session *s = owner;
	struct task_outcome out = { 0 };

	tasks_tx_done(s, t, mark, &out);
	take_outcome(s, &out);
	if (s->state == S_READY)
		pump(s); /* a command put back to be retried may go */
	arm_timer(s);
}

static const struct conn_ops session_conn_ops = {
	.connected = on_connected,
	.header = on_header,
	.pdu = on_pdu,
	.failed = on_conn_failed,
	.tx_done = on_tx_done,
	.expect_data = on_expect_data,
};

static void on_timer(struct ev_source *src)
{
	struct iscsi_session *s = src->ctx;

	check_replacement(s, ev_now(s->loop));
	feed(s, &(struct input){ .kind = IN_TIMER });
}

/* ---- Public API */
struct iscsi_session *iscsi_session_new(struct ev_loop *loop,
					const struct iscsi_config *cfg)
{
	struct iscsi_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = loop;
	s->cfg = *cfg;
	s->state = S_IDLE;
	s->isid = make_isid(cfg);
	s->seq.cmdsn = s->seq.expcmdsn = s->seq.maxcmdsn = 1;
	s->replacement_at = -1;
	s->nop_sent_at = -1;
	s->first_login_deadline = -1;
	params_our_offer(&s->offer, cfg->header_digest, cfg->data_digest);
	s->login_cfg = (struct login_config){
		.initiator_name = s->cfg.initiator_name,
		.target_name = s->cfg.target_name[0] ? s->cfg.target_name : NULL,
		.user = s->cfg.user, .secret = s->cfg.secret,
		.secret_len = s->cfg.secret_len, .ruser = s->cfg.ruser,
		.rsecret = s->cfg.rsecret, .rsecret_len = s->cfg.rsecret_len,
		.offer = &s->offer,
		.chap_algs = s->cfg.chap_algs, .nchap_algs = s->cfg.nchap_algs,
	};
	s->timer = (struct ev_source){ .fd = -1, .deadline = -1,
				       .on_timer = on_timer, .ctx = s };
	if (conn_init(&s->conn, loop, &session_conn_ops, s) < 0 ||
	    ev_add(loop, &s->timer) < 0) {
		conn_destroy(&s->conn);
		free(s);
		return NULL;
	}
	return s;
}

void iscsi_session_free(struct iscsi_session *s)
{
	if (!s)
		return;
	conn_close(&s->conn);
	set_state(s, S_CLOSED);
	tasks_fail_all(s, -ECANCELED);
	tasks_complete(s);
	finish_text(s, -ECANCELED);
	conn_destroy(&s->conn);
	ev_del(&s->timer);
	login_free(&s->login);
	secure_zero(&s->cfg, sizeof(s->cfg));
	free(s);
}

void iscsi_session_on_event(struct iscsi_session *s,
			    void (*cb)(void *ctx, enum iscsi_event ev), void *ctx)
{
	s->event_cb = cb;
	s->event_ctx = ctx;
}

/* The configured portal, once: reconnects and logins after a logout go
 * there with no name lookup. */
static int resolve_portal(struct iscsi_session *s)
{
	int r = resolve(s->cfg.host, s->cfg.port, &s->portal, &s->portal_len);

	if (r < 0)
		return r;
	memcpy(&s->target, &s->portal, s->portal_len);
	s->target_len = s->portal_len;
	return 0;
}

static int start_failed(struct iscsi_session *s, int err, const char *why)
{
	set_error(s, err, "%s", why);
	set_state(s, S_FAILED);
	return err;
}

int iscsi_session_start(struct iscsi_session *s)
{
	char why[160];
	int r;

	/* After a logout, a new start logs in again at the portal resolved
	 * the first time: no name lookups once the system runs. */
	if (s->state == S_CLOSED && s->portal_len) {
		s->error[0] = '\0';
		s->error_code = 0;
	} else if (s->state != S_IDLE) {
		return -EALREADY;
	} else {
		r = login_config_check(&s->login_cfg, why, sizeof(why));
		if (r < 0)
			return start_failed(s, r, why);
		r = resolve_portal(s);
		if (r < 0) {
			snprintf(why, sizeof(why), "cannot resolve %s", s->cfg.host);
			return start_failed(s, r, why);
		}
		if (s->cfg.first_login_timeout_ms >= 0)
			s->first_login_deadline = ev_now(s->loop) + s->cfg.first_login_timeout_ms;
	}
	feed(s, &(struct input){ .kind = IN_START });
	return 0;
}

int session_start_adopted(struct iscsi_session *s, int fd)
{
	int r;

	if (s->state != S_IDLE)
		return -EALREADY;
	r = resolve_portal(s);
	if (r < 0)
		return r;
	r = conn_adopt(&s->conn, fd);
	if (r < 0)
		return r;
	set_state(s, S_CONNECTING);
	s->login_deadline = ev_now(s->loop) + s->cfg.login_timeout_ms;
	feed(s, &(struct input){ .kind = IN_CONNECTED });
	return 0;
}

/* Without a connection nothing is in flight: losing one puts every
 * unanswered command back in the waiting queue (recover(),
 * close_session()). */
void session_take_tasks(struct iscsi_session *s, struct task_list *out)
{
	while (s->waiting.head) {
		struct iscsi_task *t = s->waiting.head;

		task_list_remove(&s->waiting, t);
		t->priv.queued = false;
		task_list_push(out, t);
	}
	arm_timer(s);
}

bool session_usable(const struct iscsi_session *s)
{
	return s->state == S_READY && !s->gate_shut && !s->failfast;
}

void session_make_path(struct iscsi_session *s)
{
	s->cfg.first_login_timeout_ms = -1;
	s->first_login_deadline = -1;
	s->cfg.replacement_timeout_ms = -1;
	s->replacement_at = -1;
	s->failfast = false;
}

const char *session_state_name(const struct iscsi_session *s)
{
	return state_name(s->state);
}

bool iscsi_session_closed(const struct iscsi_session *s)
{
	return s->state == S_CLOSED;
}

int iscsi_session_logout(struct iscsi_session *s)
{
	feed(s, &(struct input){ .kind = IN_LOGOUT });
	return 0;
}

void iscsi_session_drop(struct iscsi_session *s)
{
	lose(s, -ECONNABORTED, "dropped on request");
}

int iscsi_send_targets(struct iscsi_session *s,
		       void (*cb)(void *ctx, int err, char *text, size_t len),
		       void *ctx)
{
	static const char query[] = "SendTargets=All";
	uint8_t hdr[ISCSI_BHS_LEN];
	struct iscsi_text_req req = { .final = true, .ttt = ISCSI_RESERVED_TAG,
				      .data_len = sizeof(query) };

	if (s->state != S_READY || s->text_cb)
		return -EBUSY;
	req.itt = own_itt(s, ITT_SLOT_TEXT);
	req.cmdsn = s->seq.cmdsn++;
	req.expstatsn = s->seq.expstatsn;
	pdu_encode_text(hdr, &req);
	if (!send_own(s, hdr, query, sizeof(query), 0)) {
		arm_timer(s);
		return -ENOBUFS;
	}
	s->text_cb = cb;
	s->text_ctx = ctx;
	return 0;
}

static int submit(struct iscsi_session *s, struct iscsi_task *t, bool urgent)
{
	if (t->cdb_len == 0 || t->cdb_len > SCSI_CDB_MAX ||
	    (t->dir != ISCSI_DIR_NONE && !t->buf && t->len))
		return -EINVAL;
	if (s->state == S_FAILED || s->state == S_CLOSED || (s->failfast && !urgent))
		return s->error_code ? s->error_code : -EIO;
	memset(&t->priv, 0, sizeof(t->priv));
	t->result = 0;
	t->priv.queued = true;
	t->priv.urgent = urgent;
	task_list_push(urgent ? &s->urgent : &s->waiting, t);
	pump(s);
	arm_timer(s);
	return 0;
}

int iscsi_submit(struct iscsi_session *s, struct iscsi_task *t)
{
	return submit(s, t, false);
}

int iscsi_submit_urgent(struct iscsi_session *s, struct iscsi_task *t)
{
	return submit(s, t, true);
}

bool iscsi_session_ready(const struct iscsi_session *s)
{
	return s->state == S_READY;
}

bool iscsi_session_failed(const struct iscsi_session *s)
{
	return s->state == S_FAILED;
}

const char *iscsi_session_host(const struct iscsi_session *s)
{
	return s->cfg.host;
}

const char *iscsi_session_target(const struct iscsi_session *s)
{
	return s->cfg.target_name;
}

uint16_t iscsi_session_port(const struct iscsi_session *s)
{
	return s->cfg.port;
}

const char *iscsi_session_error(const struct iscsi_session *s)
{
	return s->error[0] ? s->error : "no error";
}

int iscsi_session_errno(const struct iscsi_session *s)
{
	return s->error_code;
}

const struct iscsi_params *iscsi_session_params(const struct iscsi_session *s)
{
	return &s->params;
}

uint16_t iscsi_session_tpgt(const struct iscsi_session *s)
{
	return s->tpgt;
}

unsigned iscsi_session_recoveries(const struct iscsi_session *s)
{
	return s->recoveries;
}

unsigned iscsi_session_cmd_window(const struct iscsi_session *s)
{
	/* MaxCmdSN - ExpCmdSN + 1, serial arithmetic; 0 when closed. */
	uint32_t w = s->seq.maxcmdsn - s->seq.expcmdsn + 1;

	return w > (1u << 31) ? 0 : w;
}

unsigned iscsi_session_max_inflight(const struct iscsi_session *s)
{
	return s->max_inflight;
}
