/* SPDX-License-Identifier: MIT */
/* The login state machine against canned target responses: AuthMethod
 * None, one-way and mutual CHAP, failures by RFC name, redirection,
 * keys we must answer NotUnderstood, text split over PDUs with the C bit
 * in both directions and its cap, the CHAP hardening (short challenges,
 * one secret for both directions) and when the MD5-alone retry is
 * allowed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chap.h"
#include "login.h"
#include "test.h"
#include "util.h"

static uint8_t req_bhs[ISCSI_BHS_LEN];
static uint8_t req_data[LOGIN_PDU_DATA_MAX];
static int req_len;

static void next(struct login *l)
{
	req_len = login_build_request(l, req_bhs, req_data, sizeof(req_data));
	CHECK(req_len >= 0);
}

static bool req_has(const char *kv)
{
	return req_len > 0 && memmem(req_data, (size_t)req_len, kv, strlen(kv) + 1);
}

/* Value of key in the last request, or NULL. */
static const char *req_value(const char *key)
{
	static char v[4096];
	size_t klen = strlen(key);

	for (int i = 0; i < req_len;) {
		const char *p = (const char *)req_data + i;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(v, sizeof(v), "%s", p + klen + 1);
			return v;
		}
		i += (int)strlen(p) + 1;
	}
	return NULL;
}

static int respond(struct login *l, uint8_t flags, uint8_t csg, uint8_t nsg,
		   uint8_t cls, uint8_t detail, const char *text, size_t len)
{
	struct iscsi_hdr h = { .opcode = ISCSI_OP_LOGIN_RSP, .flags = flags,
			       .statsn = 1, .expcmdsn = 1, .maxcmdsn = 32,
			       .data_len = (uint32_t)len };

	h.u.login.csg = csg;
	h.u.login.nsg = nsg;
	h.u.login.status_class = cls;
	h.u.login.status_detail = detail;
	h.u.login.tsih = 0x1234;
	return login_handle_response(l, &h, (const uint8_t *)text, len);
}

#define T ISCSI_FLAG_LOGIN_TRANSIT
#define C ISCSI_FLAG_LOGIN_CONTINUE
#define RSP(l, flags, csg, nsg, text) \
	respond(l, flags, csg, nsg, 0, 0, text, sizeof(text) - 1)

static struct iscsi_params offer;
static const uint8_t secret[] = "secret123456";
static const uint8_t rsecret[] = "target-secret-99";

static struct login_config config(bool chap, bool mutual)
{
	return (struct login_config){
		.initiator_name = "iqn.2025-01.test:init",
		.target_name = "iqn.2025-01.test:target",
		.user = chap ? "alice" : NULL,
		.secret = secret, .secret_len = sizeof(secret) - 1,
		.ruser = mutual ? "tgt" : NULL,
		.rsecret = rsecret, .rsecret_len = sizeof(rsecret) - 1,
		.offer = &offer,
	};
}

static void test_no_auth(void)
{
	struct login_config cfg = config(false, false);
	struct login l;

	login_init(&l, &cfg, 0x800000000001ull, 0, 1, 0);
	next(&l);
	CHECK(req_has("InitiatorName=iqn.2025-01.test:init"));
	CHECK(req_has("TargetName=iqn.2025-01.test:target"));
	CHECK(req_has("SessionType=Normal"));
	CHECK(req_has("AuthMethod=None"));
	CHECK_EQ(req_bhs[1], T | (0 << 2) | 1);
	CHECK_EQ(RSP(&l, T, 0, 1, "AuthMethod=None\0TargetPortalGroupTag=7\0"),
		 LOGIN_SEND_NEXT);
	next(&l);
	CHECK(req_has("MaxRecvDataSegmentLength=262144"));
	CHECK(req_has("ImmediateData=Yes"));
	CHECK_EQ(req_bhs[1], T | (1 << 2) | 3);
	CHECK_EQ(RSP(&l, T, 1, 3,
		     "MaxRecvDataSegmentLength=65536\0MaxBurstLength=262144\0"
		     "FirstBurstLength=65536\0InitialR2T=Yes\0ImmediateData=Yes\0"
		     "X-com.example.Vendor=1\0"),
		 LOGIN_COMPLETE);
	CHECK_EQ(l.tpgt, 7);
	CHECK_EQ(l.tsih, 0x1234);
	CHECK_EQ(l.result.max_xmit_dsl, 65536);
	CHECK_EQ(l.result.max_recv_dsl, 262144);
	CHECK_EQ(l.result.initial_r2t, 1);
	CHECK_EQ(l.result.first_burst, 65536);
	login_free(&l);
}

static void test_unknown_key_answered(void)
{
	struct login_config cfg = config(false, false);
	struct login l;

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	RSP(&l, T, 0, 1, "");
	next(&l);
	/* T=0: the target wants another round, and asks something odd. */
	CHECK_EQ(RSP(&l, 0, 1, 3, "X-Custom=1\0"), LOGIN_SEND_NEXT);
	next(&l);
	CHECK(req_has("X-Custom=NotUnderstood"));
	CHECK(!req_has("MaxBurstLength=16776192"));     /* not repeated */
	CHECK_EQ(RSP(&l, T, 1, 3, ""), LOGIN_COMPLETE);
	login_free(&l);
}

static void test_continued_response(void)
{
	struct login_config cfg = config(false, false);
	struct login l;

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	RSP(&l, T, 0, 1, "");
	next(&l);
	/* "MaxBurstLength=131072" split across two PDUs. */
	CHECK_EQ(RSP(&l, ISCSI_FLAG_LOGIN_CONTINUE, 1, 3, "MaxBurst"), LOGIN_SEND_NEXT);
	next(&l);
	CHECK_EQ(req_len, 0);                           /* an empty request */
	CHECK_EQ(RSP(&l, T, 1, 3, "Length=131072\0"), LOGIN_COMPLETE);
	CHECK_EQ(l.result.max_burst, 131072);
	login_free(&l);
}

static void test_chap_md5(void)
{
	struct login_config cfg = config(true, false);
	struct login l;

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK(req_has("AuthMethod=CHAP,None"));
	CHECK_EQ(req_bhs[1] & T, 0);
	CHECK_EQ(RSP(&l, 0, 0, 1, "AuthMethod=CHAP\0"), LOGIN_SEND_NEXT);
	next(&l);
	CHECK(req_has("CHAP_A=8,7,6,5"));
	CHECK_EQ(RSP(&l, 0, 0, 1, "CHAP_A=5\0CHAP_I=17\0"
		     "CHAP_C=0x0102030405060708090a0b0c0d0e0f10\0"), LOGIN_SEND_NEXT);
	next(&l);
	CHECK(req_has("CHAP_N=alice"));
	/* MD5(0x11 || "secret123456" || 01..10), computed with Python's hashlib */
	CHECK(req_has("CHAP_R=0x4d05f7cdf1edc2c7882f423b953b5d94"));
	CHECK(!req_has("CHAP_C"));
	CHECK_EQ(req_bhs[1] & T, T);
	CHECK_EQ(RSP(&l, T, 0, 1, ""), LOGIN_SEND_NEXT);
	next(&l);
	CHECK(req_has("DataDigest=None"));
	login_free(&l);
}

static void test_chap_sha256_base64(void)
{
	struct login_config cfg = config(true, false);
	struct login l;

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	RSP(&l, 0, 0, 1, "AuthMethod=CHAP\0");
	next(&l);
	/* The same challenge in base64 (RFC 7143 §6.1 binary forms). */
	CHECK_EQ(RSP(&l, 0, 0, 1, "CHAP_A=7\0CHAP_I=17\0CHAP_C=0bAQIDBAUGBwgJCgsMDQ4PEA==\0"),
		 LOGIN_SEND_NEXT);
	next(&l);
	CHECK(req_has("CHAP_R=0x582ec03ef3a67b7e9c68b914b606936b4d0dea74cb9982a207d3853cc32b4b25"));
	login_free(&l);
}

static void test_chap_mutual(bool target_right)
{
	struct login_config cfg = config(true, true);
	uint8_t challenge[64], answer[CHAP_DIGEST_MAX];
	char hex[80], rsp[200];
	size_t clen;
	uint64_t id;
	struct login l;
	int n;

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK(req_has("AuthMethod=CHAP"));
	RSP(&l, 0, 0, 1, "AuthMethod=CHAP\0");
	next(&l);
	RSP(&l, 0, 0, 1, "CHAP_A=5\0CHAP_I=1\0CHAP_C=0x00112233445566778899aabbccddeeff\0");
	next(&l);
	CHECK(req_value("CHAP_I") && req_value("CHAP_C"));
	parse_u64(req_value("CHAP_I"), 0, 255, &id);
	CHECK_EQ(chap_decode_binary(req_value("CHAP_C"), challenge, sizeof(challenge), &clen), 0);
	CHECK(clen >= 16);
	n = chap_response(CHAP_ALG_MD5, (uint8_t)id, target_right ? rsecret : secret,
			  sizeof(rsecret) - 1 - (target_right ? 0 : 4), challenge, clen, answer);
	chap_encode_hex(answer, (size_t)n, hex, sizeof(hex));
	n = snprintf(rsp, sizeof(rsp), "CHAP_N=tgt%cCHAP_R=%s%c", 0, hex, 0);
	int r = respond(&l, T, 0, 1, 0, 0, rsp, (size_t)n);
	if (target_right) {
		CHECK_EQ(r, LOGIN_SEND_NEXT);
	} else {
		CHECK_EQ(r, -EACCES);
		CHECK_STR(l.error, "target failed mutual CHAP authentication");
	}
	login_free(&l);
}

static void test_mutual_refuses_none(void)
{
	struct login_config cfg = config(true, true);
	struct login l;

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK_EQ(RSP(&l, T, 0, 1, "AuthMethod=None\0"), -EACCES);
	login_free(&l);
}

static void test_login_failures(void)
{
	struct login_config cfg = config(true, false);
	struct login l;

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK_EQ(respond(&l, 0, 0, 1, 2, 1, "", 0), -EACCES);
	CHECK_STR(l.error, "login failed: authentication failure (0x0201)");
	login_free(&l);

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK_EQ(respond(&l, 0, 0, 1, 2, 3, "", 0), -ENOENT);
	CHECK_STR(l.error, "login failed: target not found (0x0203)");
	login_free(&l);

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK_EQ(respond(&l, 0, 0, 1, 3, 1, "", 0), -EAGAIN);
	CHECK_STR(l.error, "login failed: service unavailable (0x0301)");
	login_free(&l);

	/* A target that rejects the CHAP_A list: retry with MD5 alone. */
	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	RSP(&l, 0, 0, 1, "AuthMethod=CHAP\0");
	next(&l);
	CHECK_EQ(RSP(&l, 0, 0, 1, "CHAP_A=Reject\0"), -EPROTO);
	CHECK(login_failed_at_chap_list(&l));
	login_free(&l);
	cfg.md5_only = true;
	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	RSP(&l, 0, 0, 1, "AuthMethod=CHAP\0");
	next(&l);
	CHECK(req_has("CHAP_A=5"));
	CHECK_EQ(RSP(&l, 0, 0, 1, "CHAP_A=7\0CHAP_I=1\0CHAP_C=0x01\0"), -EPROTO);
	CHECK(!login_failed_at_chap_list(&l));
	login_free(&l);

	/* Malformed text. */
	cfg.md5_only = false;
	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK_EQ(respond(&l, 0, 0, 1, 0, 0, "AuthMethod", 10), -EPROTO);
	login_free(&l);
	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	RSP(&l, 0, 0, 1, "AuthMethod=CHAP\0");
	next(&l);
	CHECK_EQ(RSP(&l, 0, 0, 1, "CHAP_A=5\0CHAP_I=300\0CHAP_C=0x01\0"), -EPROTO);
	login_free(&l);
}

static void test_redirect(void)
{
	struct login_config cfg = config(false, false);
	struct login l;
	static const char text[] = "TargetAddress=[fd00::5]:3262,2\0";

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK_EQ(respond(&l, 0, 0, 1, 1, 1, text, sizeof(text) - 1), LOGIN_REDIRECTED);
	CHECK_STR(l.redirect_host, "fd00::5");
	CHECK_EQ(l.redirect_port, 3262);
	login_free(&l);
	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK_EQ(respond(&l, 0, 0, 1, 1, 2, "", 0), -EPROTO);
	login_free(&l);
}

static void test_discovery(void)
{
	struct login_config cfg = config(false, false);
	struct login l;

	cfg.target_name = NULL;
	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK(req_has("SessionType=Discovery"));
	CHECK(req_value("TargetName") == NULL);
	login_free(&l);
}

/* ---- Text over several PDUs (C bit, RFC 7143 §6.1) */

static const char op_answer[] =
	"MaxRecvDataSegmentLength=65536\0MaxBurstLength=131072\0"
	"X-com.example.Odd=1\0FirstBurstLength=65536\0";

/* A login that has sent its operational offer. */
static void to_operational(struct login *l, const struct login_config *cfg)
{
	login_init(l, cfg, 1, 0, 1, 0);
	next(l);
	CHECK_EQ(RSP(l, T, 0, 1, ""), LOGIN_SEND_NEXT);
	next(l);
	CHECK_EQ(req_bhs[1], T | (1 << 2) | 3);
}

/* The response text in parts cut at the given offsets (ascending, end
 * excluded); each part but the last has the C bit and gets an empty
 * request in the same stage, without T or C. Returns the last result. */
static int respond_in_parts(struct login *l, uint8_t last_flags, uint8_t csg,
			    uint8_t nsg, const char *text, size_t len,
			    const size_t *cuts, size_t ncuts)
{
	size_t start = 0;

	for (size_t i = 0; i < ncuts; i++) {
		int r = respond(l, C, csg, nsg, 0, 0, text + start, cuts[i] - start);
		if (r != LOGIN_SEND_NEXT)
			return r;
		next(l);
		CHECK_EQ(req_len, 0);
		/* C=0, T=0, our stage */
		CHECK_EQ(req_bhs[1] & (C | T | 0x0c), csg << 2);
		start = cuts[i];
	}
	return respond(l, last_flags, csg, nsg, 0, 0, text + start, len - start);
}

static void check_op_answer_applied(struct login *l)
{
	CHECK_EQ(l->result.max_xmit_dsl, 65536);
	CHECK_EQ(l->result.max_burst, 131072);
	CHECK_EQ(l->result.first_burst, 65536);
}

/* Every two-part split of a response, including inside a key, right at
 * the '=', inside a value and right after a NUL; then one byte per PDU. */
static void test_continued_response_every_split(void)
{
	struct login_config cfg = config(false, false);
	size_t len = sizeof(op_answer) - 1, ones[sizeof(op_answer)];
	struct login l;

	for (size_t cut = 1; cut < len; cut++) {
		to_operational(&l, &cfg);
		/* T=0 at the end: the target wants our answer to X-com...Odd. */
		CHECK_EQ(respond_in_parts(&l, 0, 1, 3, op_answer, len, &cut, 1),
			 LOGIN_SEND_NEXT);
		next(&l);
		CHECK(req_has("X-com.example.Odd=NotUnderstood"));
		CHECK_EQ(req_bhs[1], T | (1 << 2) | 3);
		CHECK_EQ(RSP(&l, T, 1, 3, ""), LOGIN_COMPLETE);
		check_op_answer_applied(&l);
		login_free(&l);
	}
	for (size_t i = 0; i + 1 < len; i++)
		ones[i] = i + 1;
	to_operational(&l, &cfg);
	CHECK_EQ(respond_in_parts(&l, T, 1, 3, op_answer, len, ones, len - 1), LOGIN_COMPLETE);
	check_op_answer_applied(&l);
	login_free(&l);
}

/* A continued response in the security stage: the empty request stays
 * there (CSG 0) and keeps T=0 even though the last request had T=1. */
static void test_continued_response_security(void)
{
	struct login_config cfg = config(false, false);
	static const char text[] = "AuthMethod=None\0TargetPortalGroupTag=3\0";
	size_t cut = 13;
	struct login l;

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK_EQ(respond_in_parts(&l, T, 0, 1, text, sizeof(text) - 1, &cut, 1),
		 LOGIN_SEND_NEXT);
	CHECK_EQ(l.tpgt, 3);
	next(&l);
	CHECK(req_has("MaxRecvDataSegmentLength=262144"));
	login_free(&l);
}

static void test_continued_response_errors(void)
{
	struct login_config cfg = config(false, false);
	struct login l;

	/* C and T together (RFC 7143 §11.13). */
	to_operational(&l, &cfg);
	CHECK_EQ(respond(&l, C | T, 1, 3, 0, 0, "A=1\0", 4), -EPROTO);
	CHECK_STR(l.error, "Login Response with both the C and the T bit");
	login_free(&l);
	/* An empty part: no progress. */
	to_operational(&l, &cfg);
	CHECK_EQ(respond(&l, C, 1, 3, 0, 0, "", 0), -EPROTO);
	CHECK_STR(l.error, "Login Response with the C bit and no text");
	login_free(&l);
	/* Parts cut mid-pair that never form a valid text. */
	to_operational(&l, &cfg);
	CHECK_EQ(respond(&l, C, 1, 3, 0, 0, "MaxBurst", 8), LOGIN_SEND_NEXT);
	next(&l);
	CHECK_EQ(respond(&l, T, 1, 3, 0, 0, "Length", 6), -EPROTO);
	CHECK_STR(l.error, "malformed login response text");
	login_free(&l);
}

/* "X-junk-<i>=<vlen bytes>\0" for i < count; returns the length. */
static size_t junk_keys(char *buf, size_t cap, int count, int vlen)
{
	size_t len = 0;

	for (int i = 0; i < count; i++) {
		int n = snprintf(buf + len, cap - len, "X-junk-%d=%0*d", i, vlen, 0);
		if (n < 0 || (size_t)n >= cap - len) {
			CHECK(!"junk_keys: buffer too small");
			break;
		}
		len += (size_t)n + 1;
	}
	return len;
}

/* The junk sent in parts of at most 8192 bytes, the last with T=0. */
static int send_junk(struct login *l, uint8_t csg, const char *text, size_t len)
{
	size_t cuts[TEXT_MAX_TOTAL / 8000 + 2], n = 0;

	for (size_t at = 8000; at < len; at += 8000)
		cuts[n++] = at;
	return respond_in_parts(l, 0, csg, csg ? 3 : 1, text, len, cuts, n);
}

/* 2000 unknown keys over several PDUs: 2000 NotUnderstood answers, more
 * than one PDU holds, go out in parts with the C bit, each cut after a
 * whole pair and sent once the target asked for it. */
static void test_long_answer_in_parts(void)
{
	struct login_config cfg = config(false, false);
	char *junk = malloc(TEXT_MAX_TOTAL), *answer = malloc(TEXT_MAX_TOTAL);
	size_t len = junk_keys(junk, TEXT_MAX_TOTAL, 2000, 10), got = 0;
	int parts = 0, r;
	struct login l;

	to_operational(&l, &cfg);
	CHECK_EQ(send_junk(&l, 1, junk, len), LOGIN_SEND_NEXT);
	for (;;) {
		next(&l);
		CHECK(req_len > 0 && req_len <= LOGIN_PDU_DATA_MAX);
		CHECK_EQ(req_data[req_len - 1], '\0');   /* whole pairs */
		CHECK_EQ(req_bhs[1] & 0x0c, 1 << 2);
		memcpy(answer + got, req_data, (size_t)req_len);
		got += (size_t)req_len;
		parts++;
		if (!(req_bhs[1] & C))
			break;
		CHECK_EQ(req_bhs[1] & T, 0);
		CHECK_EQ(RSP(&l, 0, 1, 3, ""), LOGIN_SEND_NEXT);
	}
	CHECK_EQ(req_bhs[1], T | (1 << 2) | 3);  /* the last part: T, no C */
	CHECK(parts >= 6);
	/* The parts make the whole answer, in order. */
	for (int i = 0, at = 0; i < 2000 && (size_t)at < got; i++) {
		char want[40];
		snprintf(want, sizeof(want), "X-junk-%d=NotUnderstood", i);
		CHECK_STR(answer + at, want);
		at += (int)strlen(answer + at) + 1;
	}
	r = RSP(&l, T, 1, 3, "");
	CHECK_EQ(r, LOGIN_COMPLETE);
	login_free(&l);
	free(junk);
	free(answer);
}

/* The target's text is capped at TEXT_MAX_TOTAL, and so is our answer. */
static void test_text_caps(void)
{
	struct login_config cfg = config(false, false);
	char *junk = malloc(2 * TEXT_MAX_TOTAL);
	size_t len;
	struct login l;

	/* 75 KiB of text in parts: refused once past the cap. */
	len = junk_keys(junk, 2 * TEXT_MAX_TOTAL, 3000, 12);
	CHECK(len > TEXT_MAX_TOTAL);
	to_operational(&l, &cfg);
	CHECK_EQ(send_junk(&l, 1, junk, len), -EPROTO);
	CHECK_STR(l.error, "target's login text is longer than 65536 bytes");
	login_free(&l);
	/* 4500 keys with empty values (57 KiB) fit, but their 4500
	 * NotUnderstood answers (~112 KiB) do not. */
	len = junk_keys(junk, TEXT_MAX_TOTAL, 4500, 0);
	CHECK(len <= TEXT_MAX_TOTAL);
	to_operational(&l, &cfg);
	CHECK_EQ(send_junk(&l, 1, junk, len), -EPROTO);
	CHECK_STR(l.error, "our answer to the target's login text would exceed 65536 bytes");
	login_free(&l);
	free(junk);
}

/* Our own text cut smaller than one pair: any byte may end a part. */
static void test_request_cut_mid_pair(void)
{
	struct login_config cfg = config(false, false);
	uint8_t whole[LOGIN_PDU_DATA_MAX], part[7];
	size_t got = 0;
	struct login l;
	int n, wlen;

	login_init(&l, &cfg, 1, 0, 1, 0);
	wlen = login_build_request(&l, req_bhs, whole, sizeof(whole));
	CHECK(wlen > 40);
	login_free(&l);
	login_init(&l, &cfg, 1, 0, 1, 0);
	for (;;) {
		n = login_build_request(&l, req_bhs, part, sizeof(part));
		CHECK(n > 0 && n <= (int)sizeof(part));
		if (n <= 0 || got + (size_t)n > sizeof(whole))
			break;
		memcpy(whole + got, part, (size_t)n);
		got += (size_t)n;
		if (!(req_bhs[1] & C))
			break;
		CHECK_EQ(req_bhs[1], C | 1);            /* CSG 0, NSG 1, no T */
		CHECK_EQ(RSP(&l, 0, 0, 1, ""), LOGIN_SEND_NEXT);
	}
	CHECK_EQ(req_bhs[1], T | 1);
	CHECK_EQ(got, wlen);
	CHECK_EQ(login_build_request(&l, req_bhs, part, 0), -EINVAL);
	login_free(&l);
}

/* The target must answer a part with the C bit by an empty response. */
static void test_part_answers(void)
{
	struct login_config cfg = config(false, false);
	uint8_t part[16];
	struct login l;

	login_init(&l, &cfg, 1, 0, 1, 0);
	CHECK_EQ(login_build_request(&l, req_bhs, part, sizeof(part)), 16);
	CHECK_EQ(RSP(&l, 0, 0, 1, "A=1\0"), -EPROTO);
	CHECK_STR(l.error, "target answered a Login Request with the C bit with text");
	login_free(&l);
	login_init(&l, &cfg, 1, 0, 1, 0);
	login_build_request(&l, req_bhs, part, sizeof(part));
	CHECK_EQ(RSP(&l, T, 0, 1, ""), -EPROTO);
	CHECK_STR(l.error, "target answered a Login Request with the C bit with the T bit");
	login_free(&l);
	/* A failure status ends the login as usual. */
	login_init(&l, &cfg, 1, 0, 1, 0);
	login_build_request(&l, req_bhs, part, sizeof(part));
	CHECK_EQ(respond(&l, 0, 0, 1, 2, 7, "", 0), -EPROTO);
	CHECK_STR(l.error, "login failed: missing parameter (0x0207)");
	login_free(&l);
	/* So does a redirection, even in parts: the rest of our text is
	 * dropped, and an empty request asks for the rest of the target's. */
	login_init(&l, &cfg, 1, 0, 1, 0);
	login_build_request(&l, req_bhs, part, sizeof(part));
	CHECK_EQ(respond(&l, C, 0, 1, 1, 1, "TargetAddress=", 14), LOGIN_SEND_NEXT);
	next(&l);
	CHECK_EQ(req_len, 0);
	CHECK_EQ(req_bhs[1] & (C | T), 0);
	CHECK_EQ(respond(&l, 0, 0, 1, 1, 1, "10.0.0.9\0", 9), LOGIN_REDIRECTED);
	CHECK_STR(l.redirect_host, "10.0.0.9");
	login_free(&l);
}

/* ---- CHAP hardening (RFC 7143 §12.1.3) */

static void test_same_secret_both_ways(void)
{
	struct login_config cfg = config(true, true);
	char err[128] = "";
	struct login l;

	CHECK_EQ(login_config_check(&cfg, err, sizeof(err)), 0);
	cfg.rsecret = (const uint8_t *)"secret123456";
	cfg.rsecret_len = 12;
	CHECK_EQ(login_config_check(&cfg, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "the target's secret must differ from the initiator's "
		  "(RFC 7143 §12.1.3)");
	login_init(&l, &cfg, 1, 0, 1, 0);
	CHECK_EQ(login_build_request(&l, req_bhs, req_data, sizeof(req_data)), -EINVAL);
	CHECK_STR(l.error, err);
	login_free(&l);
	/* A prefix is another secret; one-way CHAP has no target secret. */
	cfg.rsecret_len = 11;
	CHECK_EQ(login_config_check(&cfg, err, sizeof(err)), 0);
	cfg.rsecret_len = 12;
	cfg.ruser = NULL;
	CHECK_EQ(login_config_check(&cfg, err, sizeof(err)), 0);
}

/* Up to the target's CHAP challenge, with the given CHAP_C value. */
static int chap_with_challenge(struct login *l, const struct login_config *cfg,
			       const char *challenge)
{
	char text[2200];
	int n;

	login_init(l, cfg, 1, 0, 1, 0);
	next(l);
	RSP(l, 0, 0, 1, "AuthMethod=CHAP\0");
	next(l);
	n = snprintf(text, sizeof(text), "CHAP_A=5%cCHAP_I=3%cCHAP_C=%s%c", 0, 0,
		     challenge, 0);
	return respond(l, 0, 0, 1, 0, 0, text, (size_t)n);
}

static void test_short_challenge(void)
{
	struct login_config cfg = config(true, false);
	struct login l;

	CHECK_EQ(chap_with_challenge(&l, &cfg, "0x01"), -EPROTO);
	CHECK_STR(l.error, "target sent a 1-byte CHAP challenge; at least 16 bytes "
		  "are required");
	CHECK(!login_failed_at_chap_list(&l));
	login_free(&l);
	CHECK_EQ(chap_with_challenge(&l, &cfg, "0x0102030405060708090a0b0c0d0e0f"),
		 -EPROTO);
	CHECK_STR(l.error, "target sent a 15-byte CHAP challenge; at least 16 bytes "
		  "are required");
	login_free(&l);
	CHECK_EQ(chap_with_challenge(&l, &cfg, "0bAQIDBAUGBwgJCgsMDQ4PEA=="),
		 LOGIN_SEND_NEXT);
	login_free(&l);
}

/* Ours, in mutual CHAP: 16 random bytes, new for every login. */
static void test_our_challenge(void)
{
	struct login_config cfg = config(true, true);
	uint8_t first[CHAP_CHALLENGE_MAX], second[CHAP_CHALLENGE_MAX];
	size_t len1 = 0, len2 = 0;
	struct login l;

	CHECK_EQ(chap_with_challenge(&l, &cfg, "0x00112233445566778899aabbccddeeff"),
		 LOGIN_SEND_NEXT);
	next(&l);
	CHECK_EQ(chap_decode_binary(req_value("CHAP_C"), first, sizeof(first), &len1), 0);
	login_free(&l);
	chap_with_challenge(&l, &cfg, "0x00112233445566778899aabbccddeeff");
	next(&l);
	CHECK_EQ(chap_decode_binary(req_value("CHAP_C"), second, sizeof(second), &len2), 0);
	login_free(&l);
	CHECK_EQ(len1, CHAP_CHALLENGE_MIN);
	CHECK_EQ(len2, CHAP_CHALLENGE_MIN);
	CHECK(memcmp(first, second, CHAP_CHALLENGE_MIN) != 0);
}

/* ---- When the MD5-alone retry is allowed */

/* Up to our CHAP_A list, with a config of our choosing. */
static void to_chap_list(struct login *l, const struct login_config *cfg)
{
	login_init(l, cfg, 1, 0, 1, 0);
	next(l);
	CHECK_EQ(RSP(l, 0, 0, 1, "AuthMethod=CHAP\0"), LOGIN_SEND_NEXT);
	next(l);
}

/* The answer to our CHAP_A list is a failure status: retry or not. */
static bool retry_after_status(const struct login_config *cfg, uint8_t cls,
			       uint8_t detail)
{
	struct login l;
	bool retry;

	to_chap_list(&l, cfg);
	CHECK(respond(&l, 0, 0, 1, cls, detail, "", 0) < 0);
	retry = login_failed_at_chap_list(&l);
	login_free(&l);
	return retry;
}

/* The answer to our CHAP_A list is a CHAP_A value: retry or not. */
static bool retry_after_choice(const struct login_config *cfg, const char *text,
			       size_t len)
{
	struct login l;
	bool retry;

	to_chap_list(&l, cfg);
	CHECK_EQ(respond(&l, 0, 0, 1, 0, 0, text, len), -EPROTO);
	retry = login_failed_at_chap_list(&l);
	login_free(&l);
	return retry;
}

#define CHOICE(cfg, text) retry_after_choice(cfg, text, sizeof(text) - 1)

/* The target explicitly refused the list: allowed. */
static void test_md5_retry_on_refusal(void)
{
	struct login_config cfg = config(true, false);

	CHECK(retry_after_status(&cfg, 2, 0));          /* initiator error */
	CHECK(retry_after_status(&cfg, 2, 1));          /* authentication failure */
	CHECK(CHOICE(&cfg, "CHAP_A=Reject\0"));
	CHECK(CHOICE(&cfg, "CHAP_A=NotUnderstood\0"));
	CHECK(CHOICE(&cfg, "CHAP_A=None\0"));
	CHECK(CHOICE(&cfg, "CHAP_A=3\0CHAP_I=1\0CHAP_C=0x01\0")); /* not offered */
	CHECK(CHOICE(&cfg, "CHAP_I=1\0CHAP_C=0x01\0"));           /* no answer */
}

/* Anything else: not allowed. */
static void test_md5_retry_refused(void)
{
	struct login_config cfg = config(true, false);
	static const uint8_t no_md5[] = { CHAP_ALG_SHA256, CHAP_ALG_SHA1 };
	struct login l;

	/* Other statuses do not speak of the list. */
	CHECK(!retry_after_status(&cfg, 2, 2));         /* authorization */
	CHECK(!retry_after_status(&cfg, 2, 3));         /* not found */
	CHECK(!retry_after_status(&cfg, 3, 0));         /* target error */
	CHECK(!retry_after_status(&cfg, 3, 1));         /* service unavailable */
	/* The connection dropped, or the target stayed silent, while the
	 * answer to the list was awaited: no response was ever handled. */
	to_chap_list(&l, &cfg);
	CHECK(!login_failed_at_chap_list(&l));
	login_free(&l);
	/* Before the list went out. */
	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	CHECK(!login_failed_at_chap_list(&l));
	CHECK_EQ(respond(&l, 0, 0, 1, 2, 1, "", 0), -EACCES);
	CHECK(!login_failed_at_chap_list(&l));
	login_free(&l);
	/* The retry itself, and lists that are not a list of MD5 and more. */
	cfg.md5_only = true;
	CHECK(!retry_after_status(&cfg, 2, 1));
	CHECK(!CHOICE(&cfg, "CHAP_A=Reject\0"));
	cfg.md5_only = false;
	cfg.chap_algs = no_md5;
	cfg.nchap_algs = 2;
	CHECK(!retry_after_status(&cfg, 2, 1));
	cfg.chap_algs = no_md5 + 1;
	cfg.nchap_algs = 1;
	CHECK(!retry_after_status(&cfg, 2, 0));
}

/* The flag is read once: clearing it after login_init() (as the session
 * does, so that the retry holds for one attempt) keeps this attempt's. */
static void test_md5_only_for_one_attempt(void)
{
	struct login_config cfg = config(true, false);
	struct login l;

	cfg.md5_only = true;
	login_init(&l, &cfg, 1, 0, 1, 0);
	cfg.md5_only = false;
	next(&l);
	RSP(&l, 0, 0, 1, "AuthMethod=CHAP\0");
	next(&l);
	CHECK(req_has("CHAP_A=5"));
	login_free(&l);
	to_chap_list(&l, &cfg);
	CHECK(req_has("CHAP_A=8,7,6,5"));
	login_free(&l);
}

/* tgt 1.0.85 chooses SHA-256, then fails our answer with 0x0200 (it
 * decodes CHAP_R into a 20-byte buffer): allowed then, and only then. */
static int tgt_chap_response(const struct login_config *cfg, const char *alg,
			     uint8_t cls, uint8_t detail)
{
	char text[120];
	struct login l;
	int n, r;

	to_chap_list(&l, cfg);
	n = snprintf(text, sizeof(text), "CHAP_A=%s%cCHAP_I=1%c"
		     "CHAP_C=0x0102030405060708090a0b0c0d0e0f10%c", alg, 0, 0, 0);
	CHECK_EQ(respond(&l, 0, 0, 1, 0, 0, text, (size_t)n), LOGIN_SEND_NEXT);
	next(&l);
	CHECK(respond(&l, T, 0, 1, cls, detail, "", 0) < 0);
	r = login_failed_at_chap_list(&l);
	login_free(&l);
	return r;
}

static void test_md5_retry_tgt_sha256(void)
{
	struct login_config mutual = config(true, true), one_way = config(true, false);

	CHECK(tgt_chap_response(&one_way, "7", 2, 0));
	CHECK(tgt_chap_response(&one_way, "8", 2, 0));
	CHECK(tgt_chap_response(&mutual, "7", 2, 0));
	CHECK(!tgt_chap_response(&one_way, "7", 2, 1)); /* a wrong secret */
	CHECK(!tgt_chap_response(&one_way, "5", 2, 0)); /* MD5 already */
	CHECK(!tgt_chap_response(&one_way, "7", 2, 2));
	CHECK(!tgt_chap_response(&one_way, "7", 3, 0));
}

/* Our CHAP_A list travels in parts (the target sent many keys to answer
 * first): a failure before the last part never saw the list. */
static void test_md5_retry_needs_whole_list(void)
{
	struct login_config cfg = config(true, false);
	char *junk = malloc(TEXT_MAX_TOTAL);
	size_t len = junk_keys(junk, TEXT_MAX_TOTAL, 600, 0);
	struct login l;

	login_init(&l, &cfg, 1, 0, 1, 0);
	next(&l);
	memcpy(junk + len, "AuthMethod=CHAP", 16);
	CHECK_EQ(respond(&l, 0, 0, 1, 0, 0, junk, len + 16), LOGIN_SEND_NEXT);
	next(&l);
	CHECK_EQ(req_bhs[1] & C, C);
	CHECK_EQ(respond(&l, 0, 0, 1, 2, 1, "", 0), -EACCES);
	CHECK(!login_failed_at_chap_list(&l));
	login_free(&l);
	free(junk);
}

int main(void)
{
	params_our_offer(&offer, DIGEST_NONE, DIGEST_NONE);
	test_no_auth();
	test_unknown_key_answered();
	test_continued_response();
	test_chap_md5();
	test_chap_sha256_base64();
	test_chap_mutual(true);
	test_chap_mutual(false);
	test_mutual_refuses_none();
	test_login_failures();
	test_redirect();
	test_discovery();
	test_continued_response_every_split();
	test_continued_response_security();
	test_continued_response_errors();
	test_long_answer_in_parts();
	test_text_caps();
	test_request_cut_mid_pair();
	test_part_answers();
	test_same_secret_both_ways();
	test_short_challenge();
	test_our_challenge();
	test_md5_retry_on_refusal();
	test_md5_retry_refused();
	test_md5_only_for_one_attempt();
	test_md5_retry_tgt_sha256();
	test_md5_retry_needs_whole_list();
	return test_report("login");
}
