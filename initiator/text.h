/* SPDX-License-Identifier: MIT */
/*
 * Text key=value lists (RFC 7143 §6.1) used by Login and Text PDUs, and
 * the negotiation of the operational keys (§13).
 */
#ifndef ISCSIROOT_TEXT_H
#define ISCSIROOT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 7143 §6.1: key names are at most 63 bytes. Values are usually at
 * most 255 bytes, but CHAP challenges in hex reach 2 + 2 * 1024. */
#define TEXT_KEY_MAX 63
#define TEXT_VALUE_MAX 8192
/* What we accept as one whole (possibly multi-PDU) text exchange. */
#define TEXT_MAX_TOTAL (64 * 1024)

struct text_pair {
	const char *key;
	const char *value;
};

/* Splits a NUL-separated "key=value" list in place (the '=' of each pair
 * becomes NUL). Returns -EBADMSG for a pair with no '=', an empty or
 * over-long key, a bad key character, an over-long value, or a last pair
 * with no terminating NUL; -E2BIG when there are more than max pairs. */
int text_parse(char *buf, size_t len, struct text_pair *pairs, size_t max,
	       size_t *n);

/* A fixed-size output buffer for a key list. */
struct text_out {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool overflow;
};

void text_out_init(struct text_out *t, uint8_t *buf, size_t cap);
/* Appends "key=value\0"; remembers an overflow instead of failing, so a
 * builder can add many keys and check once. */
void text_add(struct text_out *t, const char *key, const char *value);
void text_addf(struct text_out *t, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parses a TargetAddress value, "host[:port][,tpgt]" with IPv6 hosts in
 * brackets (RFC 7143 §13.8). Missing port: 3260; missing tpgt: 0. */
int text_parse_address(const char *value, char *host, size_t host_len,
		       uint16_t *port, uint16_t *tpgt);

/* ---- Operational parameters. Every value is a uint32_t so one table can
 * drive offering, answering and checking (RFC 7143 §13). */

enum iscsi_digest_pref {
	DIGEST_NONE,            /* offer "None" */
	DIGEST_CRC32C,          /* offer "CRC32C": required */
	DIGEST_PREFER_CRC32C,   /* offer "CRC32C,None" */
	DIGEST_PREFER_NONE,     /* offer "None,CRC32C" */
};

struct iscsi_params {
	uint32_t header_digest;      /* offer: enum iscsi_digest_pref; result: 0/1 */
	uint32_t data_digest;
	uint32_t max_recv_dsl;       /* what we receive (we declare it) */
	uint32_t max_xmit_dsl;       /* what the target receives (it declares) */
	uint32_t max_burst;
	uint32_t first_burst;
	uint32_t initial_r2t;
	uint32_t immediate_data;
	uint32_t max_outstanding_r2t;
	uint32_t data_pdu_in_order;
	uint32_t data_seq_in_order;
	uint32_t erl;
	uint32_t time2wait;
	uint32_t time2retain;
	uint32_t max_connections;
};

/* The values RFC 7143 assumes when a key was never negotiated. */
void params_rfc_defaults(struct iscsi_params *p);
/* What iscsiroot offers: large PDUs and bursts, immediate and unsolicited
 * data, and the digests the caller chose. */
void params_our_offer(struct iscsi_params *p, enum iscsi_digest_pref header,
		      enum iscsi_digest_pref data);

/* Adds every operational key of `offer`, defaults included, since some
 * targets need them spelled out. */
void params_add_offer(const struct iscsi_params *offer, struct text_out *t);

/* Applies one key from the target. Returns 1 if the key was operational and
 * is now in `result`, 0 if it is not an operational key, or -EPROTO with
 * a message in err for a value that breaks the negotiation rules. */
int params_apply(struct iscsi_params *result, const struct iscsi_params *offer,
		 const char *key, const char *value, char *err, size_t errlen);

/* Final consistency step after the operational stage (FirstBurstLength
 * not above MaxBurstLength, the DataDigest/HeaderDigest 0/1 results). */
void params_finish(struct iscsi_params *result,
		   const struct iscsi_params *offer);

#endif
