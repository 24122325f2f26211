/* SPDX-License-Identifier: MIT */
/* The login state machine against canned target responses: AuthMethod
 * None, one-way and mutual CHAP, failures by RFC name, redirection,
 * responses split over PDUs, keys we must answer NotUnderstood. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chap.h"
#include "login.h"
#include "test.h"
#include "util.h"

static uint8_t req_bhs[ISCSI_BHS_LEN];
static uint8_t req_data[8192];
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
	RSP(&l, 0, 0, 1, "CHAP_A=5\0CHAP_I=1\0CHAP_C=0x00112233\0");
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
	return test_report("login");
}
