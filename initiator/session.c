/* SPDX-License-Identifier: MIT */
/* The session: connect, login, full feature phase, keepalive, recovery by
 * session reinstatement (RFC 7143 §6.3.5) and logout. One state machine,
 * one timer; commands live in task.c. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chap.h"
#include "session.h"

#define RECONNECT_DELAY_MIN_MS 250

static const char *state_name(enum session_state st)
{
	static const char *const names[] = {
		"idle", "connecting", "login", "ready", "draining", "logout",
		"waiting to reconnect", "closed", "failed",
	};
	return names[st];
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

void session_set_error(struct iscsi_session *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	s->error_code = err;
}

void iscsi_config_defaults(struct iscsi_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->initiator_name, sizeof(cfg->initiator_name),
		 "iqn.2025-01.org.iscsiroot:initiator");
	cfg->port = ISCSI_DEFAULT_PORT;
	cfg->header_digest = DIGEST_NONE;
	cfg->data_digest = DIGEST_NONE;
	cfg->login_timeout_ms = 15000;
	cfg->first_login_timeout_ms = 30000;
	cfg->nop_interval_ms = 5000;
	cfg->nop_timeout_ms = 10000;
	cfg->replacement_timeout_ms = -1;
	cfg->reconnect_delay_max_ms = 5000;
	cfg->initial_login_retry_max = -1;
}

static int read_secret_file(const char *path, uint8_t *out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, ISCSI_SECRET_LEN);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	*len = (size_t)n;
	return 0;
}

int iscsi_config_set_secret(uint8_t *out, size_t *out_len, const char *spec)
{
	const char *text = spec;
	size_t n;

	if (!strncmp(spec, "file:", 5))
		return read_secret_file(spec + 5, out, out_len);
	if (!strncmp(spec, "env:", 4)) {
		text = getenv(spec + 4);
		if (!text)
			return -ENOENT;
	}
	n = strlen(text);
	if (n > ISCSI_SECRET_LEN)
		return -E2BIG;
	memcpy(out, text, n);
	*out_len = n;
	return 0;
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
 * the initiator and target names: the same host logging in again after a
 * reboot reinstates (and so cleans up) its old session on the target. */
static uint64_t make_isid(const struct iscsi_config *cfg)
{
	uint64_t h = 1469598103934665603ull;
	const char *parts[] = { cfg->initiator_name, cfg->target_name };

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return (2ull << 46) | ((h & 0xffffff) << 16);
}

uint32_t session_own_itt(struct iscsi_session *s, uint16_t slot)
{
	return (uint32_t)(++s->own_gen) << 16 | slot;
}

/* ---- Timer */

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

void session_arm_timer(struct iscsi_session *s)
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

static struct conn_tx *own_tx(struct iscsi_session *s)
{
	struct conn_tx *tx = conn_tx_get(&s->conn);

	if (!tx)
		session_connection_lost(s, -ENOMEM, "out of memory");
	return tx;
}

/* Queues one of our own PDUs. A peer that keeps asking for answers and
 * does not read them fills the connection's small queue for these: the
 * connection is then dead, and we recover instead of growing. */
static bool queue_own(struct iscsi_session *s, struct conn_tx *tx)
{
	if (conn_queue(&s->conn, tx) == 0)
		return true;
	session_connection_lost(s, -ENOBUFS, "the target sends requests but does "
				"not read our answers");
	return false;
}

/* ---- Connecting and login */

/* One connect and login attempt, to s->target. A redirect continues the
 * attempt it came in (same deadline), so a target that redirects
 * without end gets no more time than one that does not answer. */
static void start_connect(struct iscsi_session *s, bool redirected)
{
	int r;

	set_state(s, S_CONNECTING);
	if (!redirected) {
		s->login_deadline = ev_now(s->loop) + s->cfg.login_timeout_ms;
		s->redirects = 0;
	}
	r = conn_connect(&s->conn, (struct sockaddr *)&s->target, s->target_len);
	if (r < 0)
		session_connection_lost(s, r, "cannot connect");
	else
		session_arm_timer(s);
}

static int64_t backoff_ms(struct iscsi_session *s)
{
	int64_t delay;
	uint8_t rnd = 0;

	if (s->attempt == 0)
		delay = 0;
	else
		delay = (int64_t)RECONNECT_DELAY_MIN_MS << MIN(s->attempt - 1, 10u);
	delay = MIN(delay, s->cfg.reconnect_delay_max_ms);
	/* +-12% jitter keeps a fleet from reconnecting in lockstep. */
	if (delay > 0 && getentropy(&rnd, 1) == 0)
		delay += delay * ((int)rnd - 128) / 1024;
	s->attempt++;
	return delay;
}

static void schedule_reconnect(struct iscsi_session *s, int64_t delay_ms)
{
	set_state(s, S_WAIT);
	s->reconnect_at = ev_now(s->loop) + delay_ms;
	session_arm_timer(s);
}

static void fail_session(struct iscsi_session *s)
{
	conn_close(&s->conn);
	set_state(s, S_FAILED);
	log_debug("session failed: %s", s->error);
	tasks_fail_all(s, s->error_code ? s->error_code : -EIO);
	session_arm_timer(s);
	emit(s, ISCSI_EVENT_FAILED);
}

static bool fatal_login_error(int err)
{
	return err == -EACCES || err == -EPERM || err == -ENOENT || err == -EPROTO;
}

/* A connect or login attempt failed. Before the first success, errors
 * that retrying cannot fix end the session; afterwards this is a root
 * disk, so we keep trying (and say why, every time). */
static void login_attempt_failed(struct iscsi_session *s, int err, const char *why)
{
	bool first = !s->ever_ready;

	conn_close(&s->conn);
	/* The target refused our CHAP_A list: the next attempt, and only
	 * that one, offers MD5 alone (on_connected() clears the flag). */
	if (s->state == S_LOGIN && login_failed_at_chap_list(&s->login)) {
		log_debug("CHAP with %s failed; retrying with MD5 only",
			 s->login.chap_alg ? chap_alg_name(s->login.chap_alg) : "the CHAP_A list");
		s->login_cfg.md5_only = true;
		schedule_reconnect(s, 0);
		return;
	}
	int64_t delay = backoff_ms(s);

	session_set_error(s, err, "%s", why);
	/* The first login ends at its deadline: no attempt starts after it. */
	if (first && (fatal_login_error(err) ||
		      (s->first_login_deadline >= 0 &&
		       ev_now(s->loop) + delay >= s->first_login_deadline))) {
		fail_session(s);
		return;
	}
	/* Before the first login, the caller decides what to print. */
	if (first)
		log_debug("%s; retrying", why);
	else
		log_warn("%s; retrying", why);
	/* A redirect only holds for the attempt it was given for. */
	if (!s->redirect_permanent) {
		memcpy(&s->target, &s->portal, s->portal_len);
		s->target_len = s->portal_len;
	}
	schedule_reconnect(s, delay);
}

/* Sends the next Login Request: the whole text, or its next part with
 * the C bit (login.c cuts it at LOGIN_PDU_DATA_MAX). One that cannot be
 * built is a failed attempt like any other: retried, never the end of a
 * session that has I/O to do. */
static void send_login_request(struct iscsi_session *s)
{
	uint8_t hdr[ISCSI_BHS_LEN];
	uint8_t *data = malloc(LOGIN_PDU_DATA_MAX);
	struct conn_tx *tx;
	int n;

	if (!data) {
		session_connection_lost(s, -ENOMEM, "out of memory");
		return;
	}
	n = login_build_request(&s->login, hdr, data, LOGIN_PDU_DATA_MAX);
	if (n < 0) {
		free(data);
		session_connection_lost(s, n, s->login.error);
		return;
	}
	tx = own_tx(s);
	if (!tx) {
		free(data);
		return;
	}
	memcpy(tx->hdr, hdr, sizeof(hdr));
	tx->owned = data;
	tx->data = data;
	tx->data_len = (uint32_t)n;
	queue_own(s, tx);
}

static void on_connected(void *owner)
{
	struct iscsi_session *s = owner;

	set_state(s, S_LOGIN);
	/* TSIH 0 with our ISID: a new session that replaces any old one the
	 * target still holds for us (reinstatement, §6.3.5). */
	login_free(&s->login);
	login_init(&s->login, &s->login_cfg, s->isid, 0, s->cmdsn, s->expstatsn);
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
		session_io_progress(s);
	session_arm_timer(s);
	emit(s, ISCSI_EVENT_READY);
	tasks_pump(s);
}

static void on_login_pdu(struct iscsi_session *s, const struct iscsi_hdr *h,
			 const uint8_t *data)
{
	int r = login_handle_response(&s->login, h, data, h->data_len);

	s->expstatsn = s->login.expstatsn;
	if (r == LOGIN_COMPLETE) {
		s->expcmdsn = h->expcmdsn;
		s->maxcmdsn = h->maxcmdsn;
		login_complete(s);
	} else if (r == LOGIN_SEND_NEXT) {
		send_login_request(s);
	} else if (r == LOGIN_REDIRECTED) {
		r = follow_redirect(s);
		if (r == -ELOOP)
			session_connection_lost(s, -ELOOP, "too many redirects in one login");
		else if (r < 0)
			login_attempt_failed(s, -EHOSTUNREACH, "cannot resolve the redirect target");
	} else {
		login_attempt_failed(s, r, s->login.error);
	}
}

/* ---- Losing the connection */

/* I/O cannot make progress from here: the replacement timeout runs (from
 * the first such moment, whatever the reason) until a command completes
 * (session_io_progress). */
static void arm_replacement(struct iscsi_session *s)
{
	if (s->replacement_at < 0 && s->cfg.replacement_timeout_ms >= 0)
		s->replacement_at = ev_now(s->loop) + s->cfg.replacement_timeout_ms;
}

/* ---- The gate (iscsi_session_set_gate) */

static void shut_gate(struct iscsi_session *s)
{
	s->gate_shut = true;
	arm_replacement(s);
	s->gate(s->gate_ctx);
}

void session_lun_changed(struct iscsi_session *s)
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
		session_io_progress(s);
	session_arm_timer(s);
	tasks_pump(s);
}

void session_io_stalled(struct iscsi_session *s)
{
	arm_replacement(s);
}

void session_io_progress(struct iscsi_session *s)
{
	if (s->gate_shut || s->state != S_READY)
		return;
	s->replacement_at = -1;
	s->failfast = false;
}

void iscsi_session_shut_gate(struct iscsi_session *s)
{
	if (s->gate && !s->gate_shut)
		shut_gate(s);
}

bool iscsi_session_gate_shut(const struct iscsi_session *s)
{
	return s->gate_shut;
}

/* The connection is gone (or going): every command waits for the next
 * one, which is tried after delay_ms. */
static void recover(struct iscsi_session *s, int64_t delay_ms)
{
	conn_close(&s->conn);
	tasks_requeue_inflight(s);
	arm_replacement(s);
	emit(s, ISCSI_EVENT_RECOVERING);
	schedule_reconnect(s, delay_ms);
}

/* What a target asks us to wait, capped: it cannot park a root disk for
 * an hour. */
static int64_t target_wait_ms(unsigned seconds)
{
	return MIN((int64_t)seconds * 1000, SESSION_TARGET_WAIT_MAX_MS);
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

void session_connection_lost(struct iscsi_session *s, int err, const char *why)
{
	switch (s->state) {
	case S_CONNECTING:
	case S_LOGIN: {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s %s:%u: %s%s%s",
			 s->state == S_CONNECTING ? "connecting to" : "login to",
			 s->cfg.host, s->cfg.port, why, *errno_suffix(err) ? ": " : "",
			 errno_suffix(err));
		login_attempt_failed(s, err, msg);
		return;
	}
	case S_READY:
	case S_DRAINING:
		break;
	case S_LOGOUT:
		if (!s->reconnect_after_logout) {
			conn_close(&s->conn);
			set_state(s, S_CLOSED);
			emit(s, ISCSI_EVENT_CLOSED);
			return;
		}
		break;
	default:
		return;
	}
	log_warn("connection to %s:%u lost (%s%s%s); reconnecting", s->cfg.host,
		 s->cfg.port, why, *errno_suffix(err) ? ": " : "", errno_suffix(err));
	session_set_error(s, err, "connection lost: %s", why);
	recover(s, backoff_ms(s));
}

static void on_conn_failed(void *owner, int err, const char *why)
{
	session_connection_lost(owner, err, why);
}

void iscsi_session_drop(struct iscsi_session *s)
{
	session_connection_lost(s, -ECONNABORTED, "dropped on request");
}

/* ---- Full feature phase: sequence numbers, keepalive, target requests */

void session_update_sn(struct iscsi_session *s, const struct iscsi_hdr *h,
		       bool has_statsn)
{
	if (has_statsn && sn_le(s->expstatsn, h->statsn + 1))
		s->expstatsn = h->statsn + 1;
	/* RFC 7143 §4.2.2.1: a MaxCmdSN below ExpCmdSN - 1 is ignored. */
	if (sn_lt(h->maxcmdsn, h->expcmdsn - 1))
		return;
	if (sn_lt(s->expcmdsn, h->expcmdsn))
		s->expcmdsn = h->expcmdsn;
	if (sn_lt(s->maxcmdsn, h->maxcmdsn))
		s->maxcmdsn = h->maxcmdsn;
}

static void send_nop(struct iscsi_session *s, uint32_t itt, uint32_t ttt,
		     uint64_t lun, const uint8_t *ping, uint32_t len, uint8_t mark)
{
	struct iscsi_nop_out nop = { .lun = lun, .itt = itt, .ttt = ttt,
				     .cmdsn = s->cmdsn, .expstatsn = s->expstatsn,
				     .data_len = len };
	uint8_t *copy = NULL;
	struct conn_tx *tx;

	if (len && !(copy = malloc(len))) {
		session_connection_lost(s, -ENOMEM, "out of memory");
		return;
	}
	tx = own_tx(s);
	if (!tx) {
		free(copy);
		return;
	}
	if (len) {
		memcpy(copy, ping, len);
		tx->owned = copy;
		tx->data = copy;
		tx->data_len = len;
	}
	tx->mark = mark;
	pdu_encode_nop_out(tx->hdr, &nop);
	queue_own(s, tx);
}

static void on_nop_in(struct iscsi_session *s, const struct iscsi_hdr *h,
		      const uint8_t *data)
{
	session_update_sn(s, h, h->itt != ISCSI_RESERVED_TAG);
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
	if (s->cfg.nop_interval_ms <= 0 || (s->state != S_READY && s->state != S_DRAINING))
		return;
	if (s->nop_sent_at >= 0) {
		if (now - s->nop_sent_at >= s->cfg.nop_timeout_ms)
			session_connection_lost(s, -ETIMEDOUT, "no answer to NOP-Out");
		return;
	}
	if (now - s->last_rx >= s->cfg.nop_interval_ms) {
		s->nop_sent_at = now;
		s->nop_itt = session_own_itt(s, ITT_SLOT_NOP);
		send_nop(s, s->nop_itt, ISCSI_RESERVED_TAG, 0,
			 NULL, 0, 0);
	}
}

static void send_logout(struct iscsi_session *s)
{
	struct conn_tx *tx = own_tx(s);
	struct iscsi_logout_req req = {
		.reason = ISCSI_LOGOUT_CLOSE_SESSION,
		.itt = session_own_itt(s, ITT_SLOT_LOGOUT),
		.cmdsn = s->cmdsn, .expstatsn = s->expstatsn,
	};

	if (!tx)
		return;
	pdu_encode_logout(tx->hdr, &req);
	if (!queue_own(s, tx))
		return;
	set_state(s, S_LOGOUT);
	s->logout_deadline = ev_now(s->loop) + 5000;
	session_arm_timer(s);
}

void session_maybe_finish_drain(struct iscsi_session *s)
{
	if (s->state == S_DRAINING && s->inflight.count == 0)
		send_logout(s);
}

static void logout_done(struct iscsi_session *s, int64_t wait_ms)
{
	if (s->reconnect_after_logout) {
		s->reconnect_after_logout = false;
		recover(s, wait_ms);
		return;
	}
	conn_close(&s->conn);
	set_state(s, S_CLOSED);
	session_arm_timer(s);
	emit(s, ISCSI_EVENT_CLOSED);
}

static void start_drain(struct iscsi_session *s, int64_t deadline, bool reconnect)
{
	s->reconnect_after_logout = reconnect;
	if (reconnect)
		arm_replacement(s);
	s->drain_deadline = deadline;
	set_state(s, S_DRAINING);
	session_arm_timer(s);
	session_maybe_finish_drain(s);
}

void session_handle_async(struct iscsi_session *s, const struct iscsi_hdr *h,
			  const uint8_t *data)
{
	const struct iscsi_hdr *a = h;
	struct scsi_sense sense;

	session_update_sn(s, h, true);
	switch (a->u.async.event) {
	case 0: /* SCSI asynchronous event: sense data describes it */
		if (h->data_len >= 2 &&
		    scsi_sense_decode(data + 2, MIN(get_be16(data), h->data_len - 2),
				      &sense) == 0)
			log_info("target reported a SCSI event: %s, asc/ascq %02x/%02x",
				 scsi_sense_key_name(sense.key), sense.asc, sense.ascq);
		break;
	case 1: /* logout requested, within Parameter3 seconds */
		log_info("target requested logout; finishing commands, then reconnecting");
		start_drain(s, ev_now(s->loop) + target_wait_ms(a->u.async.param3 ? a->u.async.param3 : 10),
			    true);
		break;
	case 2: /* the target will drop this connection */
	case 3: /* ... or all of the session's connections */
		log_info("target is dropping the connection; reconnecting in %lld ms",
			 (long long)target_wait_ms(a->u.async.param2));
		recover(s, target_wait_ms(a->u.async.param2));
		break;
	case 4: /* renegotiation request: our parameters stand */
		log_debug("target asked for renegotiation; ignored");
		break;
	default:
		log_debug("ignoring async event %u", a->u.async.event);
		break;
	}
}

static void on_text_rsp(struct iscsi_session *s, const struct iscsi_hdr *h,
			const uint8_t *data)
{
	char *grown;

	session_update_sn(s, h, true);
	if (!s->text_cb)
		return;
	if (s->text_len + h->data_len > TEXT_MAX_TOTAL ||
	    !(grown = realloc(s->text_buf, s->text_len + h->data_len + 1))) {
		session_connection_lost(s, -EMSGSIZE, "text response too long");
		return;
	}
	s->text_buf = grown;
	memcpy(s->text_buf + s->text_len, data, h->data_len);
	s->text_len += h->data_len;
	if ((h->flags & ISCSI_FLAG_TEXT_CONTINUE) && h->ttt != ISCSI_RESERVED_TAG) {
		struct conn_tx *tx = own_tx(s);
		struct iscsi_text_req req = { .final = true, .itt = h->itt,
					      .ttt = h->ttt, .cmdsn = s->cmdsn++,
					      .expstatsn = s->expstatsn };
		if (tx) {
			pdu_encode_text(tx->hdr, &req);
			queue_own(s, tx);
		}
		return;
	}
	void (*cb)(void *, int, char *, size_t) = s->text_cb;
	s->text_cb = NULL;
	cb(s->text_ctx, 0, s->text_buf, s->text_len);
	free(s->text_buf);
	s->text_buf = NULL;
	s->text_len = 0;
}

int iscsi_send_targets(struct iscsi_session *s,
		       void (*cb)(void *ctx, int err, char *text, size_t len),
		       void *ctx)
{
	static const char query[] = "SendTargets=All";
	struct conn_tx *tx;
	struct iscsi_text_req req = { .final = true, .ttt = ISCSI_RESERVED_TAG,
				      .data_len = sizeof(query) };

	if (s->state != S_READY || s->text_cb)
		return -EBUSY;
	tx = conn_tx_get(&s->conn);
	if (!tx)
		return -ENOMEM;
	req.itt = session_own_itt(s, ITT_SLOT_TEXT);
	req.cmdsn = s->cmdsn++;
	req.expstatsn = s->expstatsn;
	pdu_encode_text(tx->hdr, &req);
	tx->data = (const uint8_t *)query;
	tx->data_len = sizeof(query);
	if (conn_queue(&s->conn, tx) < 0)
		return -ENOBUFS;
	s->text_cb = cb;
	s->text_ctx = ctx;
	return 0;
}

static void on_reject(struct iscsi_session *s, const struct iscsi_hdr *h,
		      const uint8_t *data)
{
	uint8_t opcode;
	uint32_t itt;
	char why[96];

	session_update_sn(s, h, true);
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
	session_connection_lost(s, -EPROTO, why);
}

/* ---- Connection callbacks */

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
	if (s->state == S_LOGIN) {
		on_login_pdu(s, h, data);
		return;
	}
	switch (h->opcode) {
	case ISCSI_OP_DATA_IN:
	case ISCSI_OP_SCSI_RSP:
	case ISCSI_OP_R2T:
		tasks_pdu(s, h, data);
		break;
	case ISCSI_OP_NOP_IN:
		on_nop_in(s, h, data);
		break;
	case ISCSI_OP_ASYNC_MSG:
		session_handle_async(s, h, data);
		break;
	case ISCSI_OP_TEXT_RSP:
		on_text_rsp(s, h, data);
		break;
	case ISCSI_OP_LOGOUT_RSP:
		session_update_sn(s, h, true);
		if (s->state == S_LOGOUT)
			logout_done(s, target_wait_ms(h->u.logout.time2wait));
		break;
	case ISCSI_OP_REJECT:
		on_reject(s, h, data);
		break;
	default:
		session_update_sn(s, h, true);
		break;
	}
	session_arm_timer(s);
}

static void on_tx_done(void *owner, struct iscsi_task *t, uint8_t mark)
{
	tasks_tx_done(owner, t, mark);
}

static const struct conn_ops session_conn_ops = {
	.connected = on_connected,
	.header = on_header,
	.pdu = on_pdu,
	.failed = on_conn_failed,
	.tx_done = on_tx_done,
	.expect_data = on_expect_data,
};

/* The peer has read nothing of what waits for it for the NOP timeout:
 * the connection is dead, however much it sends us. */
static bool send_stalled(struct iscsi_session *s, int64_t now)
{
	int64_t deadline = send_stall_deadline(s);

	if (deadline < 0 || now < deadline)
		return false;
	session_connection_lost(s, -ETIMEDOUT, "the target has read nothing we sent "
				"for the NOP timeout");
	return true;
}

static void on_timer(struct ev_source *src)
{
	struct iscsi_session *s = src->ctx;
	int64_t now = ev_now(s->loop);

	if (!s->failfast && s->replacement_at >= 0 && now >= s->replacement_at) {
		s->failfast = true;
		log_err("replacement timeout: I/O to %s could not go on for %lld ms (%s); "
			"failing it", s->cfg.host, (long long)s->cfg.replacement_timeout_ms,
			s->state == S_READY && s->gate_shut ? "the LUN is not the attached disk"
							    : "no connection");
		tasks_fail_all(s, -EIO);
	}
	switch (s->state) {
	case S_CONNECTING:
	case S_LOGIN:
		if (now >= s->login_deadline)
			session_connection_lost(s, -ETIMEDOUT, "no answer");
		else
			send_stalled(s, now);
		break;
	case S_WAIT:
		if (now >= s->reconnect_at)
			start_connect(s, false);
		break;
	case S_READY:
		if (send_stalled(s, now))
			break;
		keepalive(s, now);
		tasks_pump(s);
		break;
	case S_DRAINING:
		if (send_stalled(s, now))
			break;
		keepalive(s, now);
		if (s->state == S_DRAINING && now >= s->drain_deadline)
			send_logout(s);
		break;
	case S_LOGOUT:
		if (now >= s->logout_deadline)
			logout_done(s, target_wait_ms(s->params.time2wait));
		break;
	default:
		break;
	}
	session_arm_timer(s);
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
	s->cmdsn = s->expcmdsn = s->maxcmdsn = 1;
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
	if (s->text_cb)
		s->text_cb(s->text_ctx, -ECANCELED, NULL, 0);
	conn_destroy(&s->conn);
	ev_del(&s->timer);
	login_free(&s->login);
	free(s->text_buf);
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

int iscsi_session_start(struct iscsi_session *s)
{
	char why[160];
	int r;

	/* After a logout, a new start logs in again at the portal resolved
	 * the first time: no name lookups once the system runs. */
	if (s->state == S_CLOSED && s->portal_len) {
		s->error[0] = '\0';
		s->error_code = 0;
		start_connect(s, false);
		return 0;
	}
	if (s->state != S_IDLE)
		return -EALREADY;
	r = login_config_check(&s->login_cfg, why, sizeof(why));
	if (r < 0) {
		session_set_error(s, r, "%s", why);
		set_state(s, S_FAILED);
		return r;
	}
	r = resolve_portal(s);
	if (r < 0) {
		session_set_error(s, r, "cannot resolve %s", s->cfg.host);
		set_state(s, S_FAILED);
		return r;
	}
	if (s->cfg.first_login_timeout_ms >= 0)
		s->first_login_deadline = ev_now(s->loop) + s->cfg.first_login_timeout_ms;
	start_connect(s, false);
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
	on_connected(s);
	session_arm_timer(s);
	return 0;
}

bool iscsi_session_closed(const struct iscsi_session *s)
{
	return s->state == S_CLOSED;
}

int iscsi_session_logout(struct iscsi_session *s)
{
	switch (s->state) {
	case S_READY:
		start_drain(s, ev_now(s->loop) + 30000, false);
		return 0;
	case S_DRAINING:
		s->reconnect_after_logout = false;
		return 0;
	case S_CLOSED:
	case S_FAILED:
		return 0;
	default:
		conn_close(&s->conn);
		set_state(s, S_CLOSED);
		session_arm_timer(s);
		emit(s, ISCSI_EVENT_CLOSED);
		return 0;
	}
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
	tasks_pump(s);
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
	uint32_t w = s->maxcmdsn - s->expcmdsn + 1;

	return w > (1u << 31) ? 0 : w;
}

unsigned iscsi_session_max_inflight(const struct iscsi_session *s)
{
	return s->max_inflight;
}
