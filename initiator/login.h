/* SPDX-License-Identifier: MIT */
/*
 * The login phase (RFC 7143 §6): security stage (AuthMethod None or
 * CHAP, one-way or mutual, §12.1.3) then operational negotiation. Pure
 * logic: it builds requests and consumes responses, the caller moves
 * the bytes.
 */
#ifndef ISCSIROOT_LOGIN_H
#define ISCSIROOT_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chap.h"
#include "pdu.h"
#include "text.h"

#define ISCSI_NAME_MAX 224      /* RFC 7143 §4.2.7.1 */
#define CHAP_SECRET_MAX 256
/* Until the login ends, the target's MaxRecvDataSegmentLength is its
 * default (RFC 7143 §13.12): no Login Request carries more than this. */
#define LOGIN_PDU_DATA_MAX 8192

struct login_config {
	const char *initiator_name;
	const char *target_name;        /* NULL for a discovery session */
	const char *user;               /* NULL or "" for AuthMethod=None */
	const uint8_t *secret;
	size_t secret_len;
	const char *ruser;              /* mutual CHAP when set */
	const uint8_t *rsecret;
	size_t rsecret_len;
	const struct iscsi_params *offer;
	bool md5_only;                  /* offer CHAP_A=5 alone: the retry
					 * after login_failed_at_chap_list();
					 * read by login_init() only */
	const uint8_t *chap_algs;       /* CHAP_A values to offer, most
					 * preferred first (chap_algs=) */
	size_t nchap_algs;              /* 0: SHA3-256, SHA-256, SHA-1, MD5 */
};

enum login_step {
	LOGIN_SECURITY,         /* first PDU: names and AuthMethod */
	LOGIN_CHAP_ALGORITHM,   /* CHAP_A offered */
	LOGIN_CHAP_RESPONSE,    /* CHAP_N/CHAP_R sent */
	LOGIN_OPERATIONAL,
	LOGIN_DONE,
};

enum login_result {
	LOGIN_SEND_NEXT = 1,    /* call login_build_request() and send it */
	LOGIN_COMPLETE,         /* full feature phase */
	LOGIN_REDIRECTED,       /* reconnect to login.redirect_host/port */
};

struct login {
	const struct login_config *cfg;
	enum login_step step;
	uint64_t isid;
	uint16_t tsih;
	uint16_t cid;
	uint32_t itt;
	uint32_t cmdsn;
	uint32_t expstatsn;
	int config_error;       /* login_config_check() failed: no request */
	bool md5_only;          /* this attempt offers CHAP_A=5 alone */
	bool chap;              /* the target chose CHAP */
	bool chap_refused;      /* the target explicitly refused our CHAP_A
				 * list, or tgt's SHA-256 bug struck:
				 * login_failed_at_chap_list() */
	int chap_alg;
	uint8_t mutual_id;
	uint8_t mutual_challenge[CHAP_CHALLENGE_MIN];
	struct iscsi_params result;
	/* The target's text, collected over Login Responses with the C bit
	 * (RFC 7143 §6.1) and read when the last part has come. */
	char *rx_text;
	size_t rx_len;

	/* Our next text, prepared whole while handling a response, then
	 * sent in parts of at most LOGIN_PDU_DATA_MAX bytes: all but the
	 * last with the C bit, each awaiting the target's empty answer. */
	uint8_t next_csg, next_nsg;
	bool next_transit;
	uint8_t out_keys[TEXT_MAX_TOTAL];
	struct text_out out;
	size_t out_sent;        /* bytes of out already in a request */
	bool part_pending;      /* a part with the C bit awaits its answer */

	/* outcome */
	uint8_t status_class, status_detail;
	char error[256];
	char redirect_host[256];
	uint16_t redirect_port;
	uint16_t tpgt;
	char target_alias[256];
};

/* Refuses a configuration that CHAP must not run with: mutual CHAP with
 * the same secret in both directions (RFC 7143 §12.1.3). Returns 0 or
 * -EINVAL with the reason in err. */
int login_config_check(const struct login_config *cfg, char *err, size_t errlen);

/* Starts a login attempt. A configuration login_config_check() refuses
 * makes the first login_build_request() fail with its error. */
void login_init(struct login *l, const struct login_config *cfg, uint64_t isid,
		uint16_t tsih, uint32_t cmdsn, uint32_t expstatsn);
void login_free(struct login *l);
/* Encodes the next Login Request into bhs and up to cap bytes of its text
 * (at most LOGIN_PDU_DATA_MAX) into data: a part with the C bit when the
 * text is longer. Returns the data length, or a negative errno with
 * l->error set (a refused configuration, cap 0); never a length error
 * for text within TEXT_MAX_TOTAL. */
int login_build_request(struct login *l, uint8_t *bhs, uint8_t *data, size_t cap);
/* Consumes a Login Response. Returns an enum login_result, or a negative
 * errno with l->error describing the failure in one line. */
int login_handle_response(struct login *l, const struct iscsi_hdr *h,
			  const uint8_t *data, size_t len);
/* True when the failed attempt may be retried once offering CHAP_A=5
 * (MD5) alone: we offered a list holding MD5 and more, and the target
 * refused it explicitly (a Login Response with status 0x0200 or 0x0201
 * to the list, or a CHAP_A answer that is none of ours: Reject,
 * NotUnderstood, None...), or it failed our answer with 0x0200 after
 * choosing another algorithm (tgt 1.0.85 and SHA-256). Never for a
 * dropped connection or a timeout, which anyone on the path can cause. */
bool login_failed_at_chap_list(const struct login *l);

#endif
