/* SPDX-License-Identifier: MIT */
/* Login phase state machine (RFC 7143 §6.3, §11.12, §11.13, §12.1.3).
 *
 * Every response is handled in one place, which also prepares the keys
 * and stage bits of the next request; login_build_request() only encodes.
 * Keys we send (operational ones: see params_add_offer()):
 *   InitiatorName, SessionType, TargetName (normal sessions), AuthMethod;
 *   CHAP_A offered as SHA3-256, SHA-256, SHA-1, MD5 (or the configured
 *   node.session.auth.chap_algs), or MD5 alone on the retry for targets
 *   that reject a list (pre-3.15 LIO, Synology);
 *   CHAP_N, CHAP_R and, for mutual CHAP, CHAP_I and CHAP_C.
 * Text longer than one PDU travels in parts with the C bit, both ways
 * (RFC 7143 §6.1); each part is answered by an empty PDU. The whole text
 * of one exchange is capped at TEXT_MAX_TOTAL either way. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chap.h"
#include "login.h"
#include "util.h"

static const char *step_name(enum login_step s)
{
	static const char *const names[] = { "security", "CHAP algorithm",
					     "CHAP response", "operational",
					     "done" };
	return names[s];
}

static void set_step(struct login *l, enum login_step s)
{
	log_debug("login: %s -> %s", step_name(l->step), step_name(s));
	l->step = s;
}

static const uint8_t default_chap_algs[] = { CHAP_ALG_SHA3_256, CHAP_ALG_SHA256,
					       CHAP_ALG_SHA1, CHAP_ALG_MD5 };
static const uint8_t md5_alone[] = { CHAP_ALG_MD5 };

/* The CHAP_A list we offer: MD5 alone on the retry, else the configured
 * list (node.session.auth.chap_algs), else every algorithm we have. */
static size_t offered_chap_algs(const struct login *l, const uint8_t **algs)
{
	const struct login_config *c = l->cfg;

	if (l->md5_only) {
		*algs = md5_alone;
		return 1;
	}
	if (c->nchap_algs) {
		*algs = c->chap_algs;
		return c->nchap_algs;
	}
	*algs = default_chap_algs;
	return ARRAY_SIZE(default_chap_algs);
}

static bool chap_alg_offered(const struct login *l, int alg)
{
	const uint8_t *algs;
	size_t n = offered_chap_algs(l, &algs);

	return alg >= 0 && alg <= 255 && memchr(algs, alg, n) != NULL;
}

static bool want_chap(const struct login_config *c)
{
	return c->user && *c->user;
}

static bool want_mutual(const struct login_config *c)
{
	return want_chap(c) && c->ruser && *c->ruser;
}

static int fail(struct login *l, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct login *l, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->error, sizeof(l->error), fmt, ap);
	va_end(ap);
	return err;
}

static void next_request(struct login *l, uint8_t csg, uint8_t nsg, bool transit)
{
	l->next_csg = csg;
	l->next_nsg = nsg;
	l->next_transit = transit;
}

static void prepare_security(struct login *l)
{
	const struct login_config *c = l->cfg;

	text_add(&l->out, "InitiatorName", c->initiator_name);
	text_add(&l->out, "SessionType", c->target_name ? "Normal" : "Discovery");
	if (c->target_name)
		text_add(&l->out, "TargetName", c->target_name);
	/* With mutual CHAP, None is not offered: a target choosing it would
	 * skip the check of its own identity. */
	if (!want_chap(c))
		text_add(&l->out, "AuthMethod", "None");
	else
		text_add(&l->out, "AuthMethod", want_mutual(c) ? "CHAP" : "CHAP,None");
	next_request(l, ISCSI_STAGE_SECURITY, ISCSI_STAGE_OPERATIONAL, !want_chap(c));
}

static void prepare_operational(struct login *l)
{
	set_step(l, LOGIN_OPERATIONAL);
	params_add_offer(l->cfg->offer, &l->out);
	next_request(l, ISCSI_STAGE_OPERATIONAL, ISCSI_STAGE_FULL_FEATURE, true);
}

int login_config_check(const struct login_config *cfg, char *err, size_t errlen)
{
	/* One secret for both directions would let a rogue target reflect
	 * our own challenge back to us in another login, and pass off our
	 * answer as its own. */
	if (want_mutual(cfg) && cfg->secret_len == cfg->rsecret_len &&
	    (cfg->secret_len == 0 ||
	     ct_memcmp(cfg->secret, cfg->rsecret, cfg->secret_len) == 0)) {
		snprintf(err, errlen, "the target's secret must differ from the "
			 "initiator's (RFC 7143 §12.1.3)");
		return -EINVAL;
	}
	return 0;
}

void login_init(struct login *l, const struct login_config *cfg, uint64_t isid,
		uint16_t tsih, uint32_t cmdsn, uint32_t expstatsn)
{
	memset(l, 0, sizeof(*l));
	l->cfg = cfg;
	l->step = LOGIN_SECURITY;
	l->isid = isid;
	l->tsih = tsih;
	l->cmdsn = cmdsn;
	l->expstatsn = expstatsn;
	/* Copied: the caller may clear the flag at once, so that the MD5
	 * retry holds for this attempt only. */
	l->md5_only = cfg->md5_only;
	l->config_error = login_config_check(cfg, l->error, sizeof(l->error));
	params_rfc_defaults(&l->result);
	text_out_init(&l->out, l->out_keys, sizeof(l->out_keys));
	prepare_security(l);
}

void login_free(struct login *l)
{
	free(l->rx_text);
	l->rx_text = NULL;
	secure_zero(l->out_keys, sizeof(l->out_keys));
	secure_zero(l->mutual_challenge, sizeof(l->mutual_challenge));
}

bool login_failed_at_chap_list(const struct login *l)
{
	const uint8_t *algs;

	/* Offering MD5 alone is a retry only if the list had more, and MD5. */
	if (offered_chap_algs(l, &algs) < 2 || !chap_alg_offered(l, CHAP_ALG_MD5))
		return false;
	/* Set only by a Login Response that refused the list: a connection
	 * that drops or a target that stays silent never downgrades. */
	return l->chap_refused;
}

/* Where the part of our text that starts at text ends: after the last
 * whole pair within limit bytes, so that targets see a pair split across
 * PDUs only when one pair alone is longer than a PDU (RFC 7143 §6.1
 * allows any split). */
static size_t part_length(const uint8_t *text, size_t limit)
{
	for (size_t n = limit; n > 0; n--)
		if (text[n - 1] == '\0')
			return n;
	return limit;
}

static void reset_out(struct login *l)
{
	secure_zero(l->out_keys, l->out.len);
	text_out_init(&l->out, l->out_keys, sizeof(l->out_keys));
	l->out_sent = 0;
}

int login_build_request(struct login *l, uint8_t *bhs, uint8_t *data, size_t cap)
{
	struct iscsi_login_req req = {
		.csg = l->next_csg,
		.nsg = l->next_nsg,
		.isid = l->isid,
		.tsih = l->tsih,
		.itt = l->itt,
		.cid = l->cid,
		.cmdsn = l->cmdsn,
		.expstatsn = l->expstatsn,
	};
	size_t limit = MIN(cap, (size_t)LOGIN_PDU_DATA_MAX);
	size_t left = l->out.len - l->out_sent, len = left;

	if (l->config_error)
		return l->config_error;
	/* Handling the response that made this text checked its length. */
	if (l->out.overflow)
		return fail(l, -EMSGSIZE, "login text longer than %d bytes", TEXT_MAX_TOTAL);
	if (limit == 0)
		return fail(l, -EINVAL, "no room for a Login Request's text");
	/* A part with the C bit must not have the T bit (RFC 7143 §11.12). */
	req.cont = left > limit;
	if (req.cont)
		len = part_length(l->out_keys + l->out_sent, limit);
	req.transit = !req.cont && l->next_transit;
	memcpy(data, l->out_keys + l->out_sent, len);
	l->out_sent += len;
	l->part_pending = req.cont;
	if (!req.cont)
		reset_out(l);
	req.data_len = (uint32_t)len;
	pdu_encode_login(bhs, &req);
	return (int)len;
}

/* ---- Responses */

static int status_errno(uint8_t cls, uint8_t detail)
{
	if (cls == 3)
		return -EAGAIN;         /* target error: try again later */
	switch (cls << 8 | detail) {
	case 0x0201: return -EACCES;
	case 0x0202: return -EPERM;
	case 0x0203:
	case 0x0204: return -ENOENT;
	default: return -EPROTO;
	}
}

static int handle_redirect(struct login *l, struct text_pair *p, size_t n)
{
	char hp[HOST_PORT_LEN];

	for (size_t i = 0; i < n; i++) {
		uint16_t tpgt;
		if (strcmp(p[i].key, "TargetAddress"))
			continue;
		if (text_parse_address(p[i].value, l->redirect_host,
				       sizeof(l->redirect_host), &l->redirect_port,
				       &tpgt) < 0)
			return fail(l, -EPROTO, "bad redirect TargetAddress=%.64s",
				    p[i].value);
		log_info("login redirected to %s",
			 host_port(hp, l->redirect_host, l->redirect_port));
		return LOGIN_REDIRECTED;
	}
	return fail(l, -EPROTO, "redirect without a TargetAddress");
}

static const char *find_key(struct text_pair *p, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(p[i].key, key))
			return p[i].value;
	return NULL;
}

/* Keys any stage may carry: declarations and operational answers. Keys we
 * do not know are answered NotUnderstood (RFC 7143 §6.2). */
static int handle_common_keys(struct login *l, struct text_pair *p, size_t n)
{
	static const char *const security_keys[] = {
		"AuthMethod", "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R",
		"TargetAddress",
	};
	char err[160];

	for (size_t i = 0; i < n; i++) {
		const char *k = p[i].key, *v = p[i].value;
		bool known = false;
		int r;

		if (!strcmp(k, "TargetPortalGroupTag")) {
			uint64_t t;
			if (parse_u64(v, 0, 65535, &t) < 0)
				return fail(l, -EPROTO, "bad TargetPortalGroupTag=%.32s", v);
			l->tpgt = (uint16_t)t;
			continue;
		}
		if (!strcmp(k, "TargetAlias")) {
			snprintf(l->target_alias, sizeof(l->target_alias), "%s", v);
			continue;
		}
		for (size_t j = 0; j < ARRAY_SIZE(security_keys); j++)
			known |= !strcmp(k, security_keys[j]);
		if (known)
			continue;
		r = params_apply(&l->result, l->cfg->offer, k, v, err, sizeof(err));
		if (r < 0)
			return fail(l, r, "%s", err);
		if (r == 0 && strcmp(v, "NotUnderstood") && strcmp(v, "Irrelevant") &&
		    strcmp(v, "Reject"))
			text_add(&l->out, k, "NotUnderstood");
	}
	return 0;
}

static void add_chap_algs(struct login *l)
{
	const uint8_t *algs;
	size_t n = offered_chap_algs(l, &algs), len = 0;
	char list[4 * 8];

	for (size_t i = 0; i < n && len + 5 < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u",
					i ? "," : "", algs[i]);
	text_add(&l->out, "CHAP_A", list);
}

static int handle_security(struct login *l, const struct iscsi_hdr *h,
			   struct text_pair *p, size_t n)
{
	const char *method = find_key(p, n, "AuthMethod");
	bool transit = h->flags & ISCSI_FLAG_LOGIN_TRANSIT;

	if (method && !strcmp(method, "CHAP")) {
		if (!want_chap(l->cfg))
			return fail(l, -EPROTO, "target chose CHAP, which was not offered");
		l->chap = true;
		set_step(l, LOGIN_CHAP_ALGORITHM);
		add_chap_algs(l);
		next_request(l, ISCSI_STAGE_SECURITY, ISCSI_STAGE_OPERATIONAL, false);
		return LOGIN_SEND_NEXT;
	}
	if (method && strcmp(method, "None"))
		return fail(l, -EPROTO, "target chose unsupported AuthMethod=%.32s", method);
	if (want_mutual(l->cfg))
		return fail(l, -EACCES, "target refused CHAP; mutual CHAP requires it");
	if (transit && h->u.login.nsg == ISCSI_STAGE_OPERATIONAL) {
		prepare_operational(l);
		return LOGIN_SEND_NEXT;
	}
	if (transit && h->u.login.nsg == ISCSI_STAGE_FULL_FEATURE)
		return LOGIN_COMPLETE;
	/* The target wants another round before it lets us leave: ask again. */
	next_request(l, ISCSI_STAGE_SECURITY, ISCSI_STAGE_OPERATIONAL, true);
	return LOGIN_SEND_NEXT;
}

static int add_chap_answer(struct login *l, int alg, uint8_t id,
			   const uint8_t *challenge, size_t clen)
{
	uint8_t digest[CHAP_DIGEST_MAX];
	char hex[2 + 2 * CHAP_DIGEST_MAX + 1];
	int dlen;

	dlen = chap_response(alg, id, l->cfg->secret, l->cfg->secret_len,
			     challenge, clen, digest);
	if (dlen < 0)
		return fail(l, dlen, "CHAP computation failed");
	chap_encode_hex(digest, (size_t)dlen, hex, sizeof(hex));
	text_add(&l->out, "CHAP_N", l->cfg->user);
	text_add(&l->out, "CHAP_R", hex);
	secure_zero(digest, sizeof(digest));
	return 0;
}

static int add_mutual_challenge(struct login *l, const uint8_t *theirs, size_t tlen)
{
	char hex[2 + 2 * sizeof(l->mutual_challenge) + 1];
	int r;

	do {
		r = chap_random(&l->mutual_id, 1);
		if (r == 0)
			r = chap_random(l->mutual_challenge, sizeof(l->mutual_challenge));
		if (r < 0)
			return fail(l, r, "no random bytes for the CHAP challenge");
		/* RFC 7143 §12.1.3: never send back the target's own challenge. */
	} while (tlen == sizeof(l->mutual_challenge) &&
		 !memcmp(theirs, l->mutual_challenge, tlen));
	chap_encode_hex(l->mutual_challenge, sizeof(l->mutual_challenge), hex,
			sizeof(hex));
	text_addf(&l->out, "CHAP_I", "%u", l->mutual_id);
	text_add(&l->out, "CHAP_C", hex);
	return 0;
}

/* The target's CHAP_A answer to our list: one of ours, or a refusal
 * (Reject, NotUnderstood, None, a value we did not offer, nothing). */
static int check_chap_choice(struct login *l, const char *a, uint64_t *alg)
{
	if (a && parse_u64(a, 0, 255, alg) == 0 && chap_alg_offered(l, (int)*alg))
		return 0;
	l->chap_refused = true;
	return fail(l, -EPROTO, "target rejected our CHAP_A list (answered %.32s)",
		    a ? a : "nothing");
}

static int decode_challenge(struct login *l, const char *c, uint8_t *challenge,
			    size_t *clen)
{
	if (!c || chap_decode_binary(c, challenge, CHAP_CHALLENGE_MAX, clen) < 0)
		return fail(l, -EPROTO, "missing or bad CHAP_C (up to %d bytes accepted)",
			    CHAP_CHALLENGE_MAX);
	if (*clen < CHAP_CHALLENGE_MIN)
		return fail(l, -EPROTO, "target sent a %zu-byte CHAP challenge; at "
			    "least %d bytes are required", *clen, CHAP_CHALLENGE_MIN);
	return 0;
}

static int handle_chap_challenge(struct login *l, struct text_pair *p, size_t n)
{
	const char *a = find_key(p, n, "CHAP_A"), *i = find_key(p, n, "CHAP_I");
	uint8_t challenge[CHAP_CHALLENGE_MAX];
	uint64_t alg, id;
	size_t clen;
	int r;

	r = check_chap_choice(l, a, &alg);
	if (r < 0)
		return r;
	if (!i || parse_u64(i, 0, 255, &id) < 0)
		return fail(l, -EPROTO, "missing or bad CHAP_I");
	r = decode_challenge(l, find_key(p, n, "CHAP_C"), challenge, &clen);
	if (r < 0)
		return r;
	l->chap_alg = (int)alg;
	log_debug("login: CHAP with %s, %zu-byte challenge", chap_alg_name((int)alg), clen);
	r = add_chap_answer(l, (int)alg, (uint8_t)id, challenge, clen);
	if (r == 0 && want_mutual(l->cfg))
		r = add_mutual_challenge(l, challenge, clen);
	if (r < 0)
		return r;
	set_step(l, LOGIN_CHAP_RESPONSE);
	next_request(l, ISCSI_STAGE_SECURITY, ISCSI_STAGE_OPERATIONAL, true);
	return LOGIN_SEND_NEXT;
}

static int verify_target(struct login *l, struct text_pair *p, size_t n)
{
	const char *name = find_key(p, n, "CHAP_N"), *resp = find_key(p, n, "CHAP_R");
	uint8_t answer[CHAP_DIGEST_MAX];
	size_t alen;

	if (!name || !resp)
		return fail(l, -EACCES, "target did not answer our CHAP challenge");
	if (strcmp(name, l->cfg->ruser))
		return fail(l, -EACCES, "target identified itself as an unexpected CHAP user");
	if (chap_decode_binary(resp, answer, sizeof(answer), &alen) < 0 ||
	    chap_verify(l->chap_alg, l->mutual_id, l->cfg->rsecret, l->cfg->rsecret_len,
			l->mutual_challenge, sizeof(l->mutual_challenge), answer,
			alen) < 0)
		return fail(l, -EACCES, "target failed mutual CHAP authentication");
	return 0;
}

static int handle_chap_result(struct login *l, const struct iscsi_hdr *h,
			      struct text_pair *p, size_t n)
{
	bool transit = h->flags & ISCSI_FLAG_LOGIN_TRANSIT;

	if (want_mutual(l->cfg) && transit) {
		int r = verify_target(l, p, n);
		if (r < 0)
			return r;
	}
	if (!transit) {
		next_request(l, ISCSI_STAGE_SECURITY, ISCSI_STAGE_OPERATIONAL, true);
		return LOGIN_SEND_NEXT;
	}
	if (h->u.login.nsg == ISCSI_STAGE_FULL_FEATURE)
		return LOGIN_COMPLETE;
	prepare_operational(l);
	return LOGIN_SEND_NEXT;
}

static int handle_operational(struct login *l, const struct iscsi_hdr *h)
{
	if ((h->flags & ISCSI_FLAG_LOGIN_TRANSIT) &&
	    h->u.login.nsg == ISCSI_STAGE_FULL_FEATURE)
		return LOGIN_COMPLETE;
	next_request(l, ISCSI_STAGE_OPERATIONAL, ISCSI_STAGE_FULL_FEATURE, true);
	return LOGIN_SEND_NEXT;
}

static int collect_text(struct login *l, const uint8_t *data, size_t len)
{
	char *grown;

	if (len > TEXT_MAX_TOTAL - l->rx_len)
		return fail(l, -EPROTO, "target's login text is longer than %d bytes",
			    TEXT_MAX_TOTAL);
	grown = realloc(l->rx_text, l->rx_len + len + 1);
	if (!grown)
		return fail(l, -ENOMEM, "out of memory");
	l->rx_text = grown;
	memcpy(l->rx_text + l->rx_len, data, len);
	l->rx_len += len;
	return 0;
}

static int dispatch_step(struct login *l, const struct iscsi_hdr *h,
			 struct text_pair *p, size_t n)
{
	switch (l->step) {
	case LOGIN_SECURITY:
		return handle_security(l, h, p, n);
	case LOGIN_CHAP_ALGORITHM:
		return handle_chap_challenge(l, p, n);
	case LOGIN_CHAP_RESPONSE:
		return handle_chap_result(l, h, p, n);
	case LOGIN_OPERATIONAL:
		return handle_operational(l, h);
	case LOGIN_DONE:
		break;
	}
	return fail(l, -EPROTO, "login response after the login completed");
}

static int finish(struct login *l, const struct iscsi_hdr *h)
{
	params_finish(&l->result, l->cfg->offer);
	l->tsih = h->u.login.tsih;
	set_step(l, LOGIN_DONE);
	return LOGIN_COMPLETE;
}

/* The target's answer to a part of our text with the C bit: an empty
 * Login Response that asks for the next part. */
static int part_acknowledged(struct login *l, const struct iscsi_hdr *h, size_t len)
{
	if (len || (h->flags & (ISCSI_FLAG_LOGIN_CONTINUE | ISCSI_FLAG_LOGIN_TRANSIT)))
		return fail(l, -EPROTO, "target answered a Login Request with the C "
			    "bit with%s%s%s", len ? " text" : "",
			    h->flags & ISCSI_FLAG_LOGIN_CONTINUE ? " the C bit" : "",
			    h->flags & ISCSI_FLAG_LOGIN_TRANSIT ? " the T bit" : "");
	return LOGIN_SEND_NEXT;
}

/* A part of the target's text with more to come: an empty request, in
 * our current stage and without the T bit, asks for the next. */
static int part_received(struct login *l, const struct iscsi_hdr *h, size_t len)
{
	if (h->flags & ISCSI_FLAG_LOGIN_TRANSIT)
		return fail(l, -EPROTO, "Login Response with both the C and the T bit");
	/* Empty parts would let a target keep us busy without end. */
	if (len == 0)
		return fail(l, -EPROTO, "Login Response with the C bit and no text");
	next_request(l, l->next_csg, l->next_nsg, false);
	return LOGIN_SEND_NEXT;
}

/* A failure status: class 2 (initiator error), 3 (target error) or any
 * other but 0 (success) and 1 (redirection). */
static int login_refused(struct login *l, bool whole_request_seen)
{
	uint16_t status = (uint16_t)(l->status_class << 8 | l->status_detail);

	/* Targets that cannot take a CHAP_A list (pre-3.15 LIO, Synology)
	 * answer it 0x0201 or 0x0200. tgt 1.0.85 picks SHA-256 but decodes
	 * the initiator's CHAP_R into a 20-byte buffer, so it fails the
	 * answer with 0x0200 ("initiator error"; a wrong secret is 0x0201). */
	if (whole_request_seen && l->step == LOGIN_CHAP_ALGORITHM &&
	    (status == 0x0200 || status == 0x0201))
		l->chap_refused = true;
	if (whole_request_seen && l->step == LOGIN_CHAP_RESPONSE && status == 0x0200 &&
	    l->chap_alg != CHAP_ALG_MD5)
		l->chap_refused = true;
	return fail(l, status_errno(l->status_class, l->status_detail),
		    "login failed: %s (0x%04x)",
		    iscsi_login_status_name(l->status_class, l->status_detail), status);
}

/* Our answer, built while handling the response, must fit the cap. */
static int check_answer_length(struct login *l, int r)
{
	if (r == LOGIN_SEND_NEXT && l->out.overflow)
		return fail(l, -EPROTO, "our answer to the target's login text would "
			    "exceed %d bytes", TEXT_MAX_TOTAL);
	return r;
}

static size_t count_nuls(const char *text, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\0';
	return n;
}

/* What the whole text of a response says, parsed into p. */
static int act_on_response(struct login *l, const struct iscsi_hdr *h,
			   struct text_pair *p, size_t n, bool whole_request_seen)
{
	int r;

	if (l->status_class == 1)
		return handle_redirect(l, p, n);
	if (l->status_class != 0)
		return login_refused(l, whole_request_seen);
	if (h->u.login.version_active != 0)
		return fail(l, -EPROTO, "target speaks iSCSI version %u, not 0",
			    h->u.login.version_active);
	r = handle_common_keys(l, p, n);
	if (r < 0)
		return r;
	r = check_answer_length(l, dispatch_step(l, h, p, n));
	return r == LOGIN_COMPLETE ? finish(l, h) : r;
}

/* The whole text of a response has come: parse it and act on it. */
static int handle_whole_response(struct login *l, const struct iscsi_hdr *h,
				 bool whole_request_seen)
{
	/* Every pair ends in a NUL, so there are no more pairs than NULs. */
	size_t max = count_nuls(l->rx_text, l->rx_len) + 1, n;
	struct text_pair *pairs = calloc(max, sizeof(*pairs));
	int r;

	if (!pairs)
		return fail(l, -ENOMEM, "out of memory");
	r = text_parse(l->rx_text, l->rx_len, pairs, max, &n);
	l->rx_len = 0;
	if (r < 0)
		r = fail(l, -EPROTO, "malformed login response text");
	else
		r = act_on_response(l, h, pairs, n, whole_request_seen);
	free(pairs);
	return r;
}

int login_handle_response(struct login *l, const struct iscsi_hdr *h,
			  const uint8_t *data, size_t len)
{
	bool whole_request_seen = !l->part_pending;
	int r;

	if (h->opcode != ISCSI_OP_LOGIN_RSP)
		return fail(l, -EPROTO, "expected a Login Response, got %s",
			    iscsi_opcode_name(h->opcode));
	if (l->config_error)
		return l->config_error;
	l->status_class = h->u.login.status_class;
	l->status_detail = h->u.login.status_detail;
	l->expstatsn = h->statsn + 1;
	l->part_pending = false;
	if (!whole_request_seen && l->status_class == 0)
		return part_acknowledged(l, h, len);
	/* Any other status cut our text short: its rest is never sent. */
	if (!whole_request_seen)
		reset_out(l);
	r = collect_text(l, data, len);
	if (r < 0)
		return r;
	if (h->flags & ISCSI_FLAG_LOGIN_CONTINUE)
		return part_received(l, h, len);
	return handle_whole_response(l, h, whole_request_seen);
}
