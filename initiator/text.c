/* SPDX-License-Identifier: MIT */
/* Text key=value lists and operational key negotiation (RFC 7143 §6, §13). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "util.h"

/* RFC 7143 §6.1: key names use letters, digits, '.', '-', '+', '@', '_'. */
static bool key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
	       c == '@' || c == '_';
}

static int split_pair(char *pair, size_t len, struct text_pair *out)
{
	char *eq = memchr(pair, '=', len);
	size_t key_len;

	if (!eq)
		return -EBADMSG;
	key_len = (size_t)(eq - pair);
	if (key_len == 0 || key_len > TEXT_KEY_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < key_len; i++)
		if (!key_char_ok(pair[i]))
			return -EBADMSG;
	if (len - key_len - 1 > TEXT_VALUE_MAX)
		return -EBADMSG;
	*eq = '\0';
	out->key = pair;
	out->value = eq + 1;
	return 0;
}

int text_parse(char *buf, size_t len, struct text_pair *pairs, size_t max,
	       size_t *n)
{
	size_t pos = 0;

	*n = 0;
	while (pos < len) {
		char *end = memchr(buf + pos, '\0', len - pos);
		size_t pair_len;
		int r;

		if (!end)
			return -EBADMSG;
		pair_len = (size_t)(end - (buf + pos));
		/* Some targets pad with extra NULs; an empty pair is skipped. */
		if (pair_len > 0) {
			if (*n == max)
				return -E2BIG;
			r = split_pair(buf + pos, pair_len, &pairs[*n]);
			if (r < 0)
				return r;
			(*n)++;
		}
		pos += pair_len + 1;
	}
	return 0;
}

void text_out_init(struct text_out *t, uint8_t *buf, size_t cap)
{
	t->buf = buf;
	t->len = 0;
	t->cap = cap;
	t->overflow = false;
}

void text_add(struct text_out *t, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);
	size_t need = klen + 1 + vlen + 1;

	if (t->overflow || need > t->cap - t->len) {
		t->overflow = true;
		return;
	}
	memcpy(t->buf + t->len, key, klen);
	t->buf[t->len + klen] = '=';
	memcpy(t->buf + t->len + klen + 1, value, vlen);
	t->buf[t->len + klen + 1 + vlen] = '\0';
	t->len += need;
}

void text_addf(struct text_out *t, const char *key, const char *fmt, ...)
{
	char value[TEXT_VALUE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(value)) {
		t->overflow = true;
		return;
	}
	text_add(t, key, value);
}

/* ---- Operational keys */

enum key_rule {
	RULE_DIGEST,    /* list: target picks one of ours */
	RULE_OR,        /* boolean, result is the OR */
	RULE_AND,       /* boolean, result is the AND */
	RULE_MIN,       /* numerical, result is the minimum */
	RULE_MAX,       /* numerical, result is the maximum */
	RULE_DECLARE,   /* declarative: the target's own value */
};

struct key_def {
	const char *name;
	enum key_rule rule;
	uint32_t lo, hi;        /* legal range for numbers */
	size_t offer_field;     /* what we send */
	size_t result_field;    /* where the target's answer lands */
};

#define FIELD(f) offsetof(struct iscsi_params, f)
#define KEY(name, rule, lo, hi, f) { name, rule, lo, hi, FIELD(f), FIELD(f) }

/* Sent in this order in the operational stage. Every key goes out even at
 * its default value: QNAP and OpenSolaris targets assume other defaults,
 * and LIO 4.11 requires FirstBurstLength (iPXE's interop notes).
 * IFMarker/OFMarker are not sent: RFC 7143 dropped them. */
static const struct key_def operational_keys[] = {
	KEY("HeaderDigest", RULE_DIGEST, 0, 1, header_digest),
	KEY("DataDigest", RULE_DIGEST, 0, 1, data_digest),
	{ "MaxRecvDataSegmentLength", RULE_DECLARE, 512, 16777215,
	  FIELD(max_recv_dsl), FIELD(max_xmit_dsl) },
	KEY("MaxBurstLength", RULE_MIN, 512, 16777215, max_burst),
	KEY("FirstBurstLength", RULE_MIN, 512, 16777215, first_burst),
	KEY("InitialR2T", RULE_OR, 0, 1, initial_r2t),
	KEY("ImmediateData", RULE_AND, 0, 1, immediate_data),
	KEY("MaxOutstandingR2T", RULE_MIN, 1, 65535, max_outstanding_r2t),
	KEY("DataPDUInOrder", RULE_OR, 0, 1, data_pdu_in_order),
	KEY("DataSequenceInOrder", RULE_OR, 0, 1, data_seq_in_order),
	KEY("ErrorRecoveryLevel", RULE_MIN, 0, 2, erl),
	KEY("DefaultTime2Wait", RULE_MAX, 0, 3600, time2wait),
	KEY("DefaultTime2Retain", RULE_MIN, 0, 3600, time2retain),
	KEY("MaxConnections", RULE_MIN, 1, 65535, max_connections),
};

static uint32_t *field(struct iscsi_params *p, size_t off)
{
	return (uint32_t *)((char *)p + off);
}

static uint32_t get_field(const struct iscsi_params *p, size_t off)
{
	return *(const uint32_t *)((const char *)p + off);
}

void params_rfc_defaults(struct iscsi_params *p)
{
	*p = (struct iscsi_params){
		.header_digest = 0,
		.data_digest = 0,
		.max_recv_dsl = 8192,
		.max_xmit_dsl = 8192,
		.max_burst = 262144,
		.first_burst = 65536,
		.initial_r2t = 1,
		.immediate_data = 1,
		.max_outstanding_r2t = 1,
		.data_pdu_in_order = 1,
		.data_seq_in_order = 1,
		.erl = 0,
		.time2wait = 2,
		.time2retain = 20,
		.max_connections = 1,
	};
}

void params_our_offer(struct iscsi_params *p, enum iscsi_digest_pref header,
		      enum iscsi_digest_pref data)
{
	*p = (struct iscsi_params){
		.header_digest = header,
		.data_digest = data,
		.max_recv_dsl = 262144,
		.max_xmit_dsl = 8192,
		.max_burst = 16776192,
		.first_burst = 262144,
		.initial_r2t = 0,
		.immediate_data = 1,
		.max_outstanding_r2t = 16,
		.data_pdu_in_order = 1,
		.data_seq_in_order = 1,
		/* ERL 0: recovery is by session reinstatement (§6.3.5). */
		.erl = 0,
		.time2wait = 2,
		/* Nothing is kept for us on the target: we re-issue. */
		.time2retain = 0,
		.max_connections = 1,
	};
}

static const char *digest_offer_text(uint32_t pref)
{
	static const char *const text[] = { "None", "CRC32C", "CRC32C,None",
					    "None,CRC32C" };
	return pref < ARRAY_SIZE(text) ? text[pref] : "None";
}

void params_add_offer(const struct iscsi_params *offer, struct text_out *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(operational_keys); i++) {
		const struct key_def *k = &operational_keys[i];
		uint32_t v = get_field(offer, k->offer_field);

		switch (k->rule) {
		case RULE_DIGEST:
			text_add(t, k->name, digest_offer_text(v));
			break;
		case RULE_OR:
		case RULE_AND:
			text_add(t, k->name, v ? "Yes" : "No");
			break;
		default:
			text_addf(t, k->name, "%u", v);
			break;
		}
	}
}

static int parse_bool(const char *v, uint32_t *out)
{
	if (!strcmp(v, "Yes"))
		*out = 1;
	else if (!strcmp(v, "No"))
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

static bool digest_allowed(uint32_t pref, uint32_t crc)
{
	return crc ? pref != DIGEST_NONE : pref != DIGEST_CRC32C;
}

static int parse_digest(const char *v, uint32_t *out)
{
	if (!strcmp(v, "None"))
		*out = 0;
	else if (!strcmp(v, "CRC32C"))
		*out = 1;
	else
		return -EINVAL;
	return 0;
}

/* Computes the result of one key from our offer and the target's answer. */
static int negotiate(const struct key_def *k, uint32_t ours, const char *value,
		     uint32_t *result)
{
	uint64_t n;
	uint32_t theirs;

	switch (k->rule) {
	case RULE_DIGEST:
		if (parse_digest(value, &theirs) < 0 || !digest_allowed(ours, theirs))
			return -EPROTO;
		*result = theirs;
		return 0;
	case RULE_OR:
	case RULE_AND:
		if (parse_bool(value, &theirs) < 0)
			return -EPROTO;
		*result = k->rule == RULE_OR ? (ours || theirs) : (ours && theirs);
		return 0;
	default:
		if (parse_u64(value, k->lo, k->hi, &n) < 0)
			return -EPROTO;
		theirs = (uint32_t)n;
		if (k->rule == RULE_MIN)
			*result = MIN(ours, theirs);
		else if (k->rule == RULE_MAX)
			*result = MAX(ours, theirs);
		else
			*result = theirs;
		return 0;
	}
}

int params_apply(struct iscsi_params *result, const struct iscsi_params *offer,
		 const char *key, const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_SIZE(operational_keys); i++) {
		const struct key_def *k = &operational_keys[i];

		if (strcmp(key, k->name))
			continue;
		/* The target may decline a key: the RFC default then holds,
		 * unless we cannot work without what we asked for. */
		if (!strcmp(value, "Irrelevant") || !strcmp(value, "NotUnderstood") ||
		    !strcmp(value, "Reject")) {
			if (k->rule == RULE_DIGEST &&
			    get_field(offer, k->offer_field) == DIGEST_CRC32C) {
				snprintf(err, errlen, "target answered %s=%s but CRC32C is required",
					 key, value);
				return -EPROTO;
			}
			return 1;
		}
		if (k->rule == RULE_DIGEST && !strcmp(value, "None") &&
		    get_field(offer, k->offer_field) == DIGEST_CRC32C) {
			snprintf(err, errlen, "target refused %s=CRC32C, which was required",
				 key);
			return -EPROTO;
		}
		if (negotiate(k, get_field(offer, k->offer_field), value,
			      field(result, k->result_field)) < 0) {
			snprintf(err, errlen, "target sent an invalid value %s=%.64s",
				 key, value);
			return -EPROTO;
		}
		return 1;
	}
	return 0;
}

void params_finish(struct iscsi_params *result, const struct iscsi_params *offer)
{
	/* Our own declaration needs no answer. */
	result->max_recv_dsl = offer->max_recv_dsl;
	if (result->first_burst > result->max_burst)
		result->first_burst = result->max_burst;
}

static int parse_u16(const char *s, size_t len, uint64_t min, uint16_t *out)
{
	char buf[8];
	uint64_t v;

	if (len == 0 || len >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (parse_u64(buf, min, 65535, &v) < 0)
		return -EBADMSG;
	*out = (uint16_t)v;
	return 0;
}

int text_parse_address(const char *value, char *host, size_t host_len,
		       uint16_t *port, uint16_t *tpgt)
{
	const char *comma = strchr(value, ',');
	const char *end = comma ? comma : value + strlen(value);
	const char *host_start = value, *host_end, *colon;

	*port = 3260;
	*tpgt = 0;
	if (comma && parse_u16(comma + 1, strlen(comma + 1), 0, tpgt) < 0)
		return -EBADMSG;
	if (*value == '[') {
		host_start = value + 1;
		host_end = memchr(host_start, ']', (size_t)(end - host_start));
		if (!host_end)
			return -EBADMSG;
		colon = host_end + 1 < end && host_end[1] == ':' ? host_end + 1 : NULL;
		if (!colon && host_end + 1 != end)
			return -EBADMSG;
	} else {
		colon = memchr(value, ':', (size_t)(end - value));
		host_end = colon ? colon : end;
	}
	if (colon && parse_u16(colon + 1, (size_t)(end - colon - 1), 1, port) < 0)
		return -EBADMSG;
	if (host_end == host_start || (size_t)(host_end - host_start) >= host_len)
		return -EBADMSG;
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';
	return 0;
}
