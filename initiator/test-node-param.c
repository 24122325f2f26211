/* SPDX-License-Identifier: MIT */
/* open-iscsi node keys (-P, rd.iscsi.param=), table-driven. */
#include <errno.h>
#include <string.h>

#include "chap.h"
#include "iscsi.h"
#include "login.h"
#include "test.h"

enum field {
	F_NONE, F_HDIGEST, F_DDIGEST, F_REPLACEMENT, F_LOGIN, F_FIRST_LOGIN,
	F_NOP_INTERVAL, F_NOP_TIMEOUT, F_CHAP_ALGS, F_SECRET_LEN, F_RSECRET_LEN,
};

/* The CHAP_A list packed most preferred first, one byte each. */
static long long packed_algs(const struct iscsi_config *c)
{
	long long v = 0;

	for (unsigned i = 0; i < c->nchap_algs; i++)
		v = v << 8 | c->chap_algs[i];
	return v;
}

static long long get(const struct iscsi_config *c, enum field f)
{
	switch (f) {
	case F_HDIGEST: return c->header_digest;
	case F_DDIGEST: return c->data_digest;
	case F_REPLACEMENT: return c->replacement_timeout_ms;
	case F_LOGIN: return c->login_timeout_ms;
	case F_FIRST_LOGIN: return c->first_login_timeout_ms;
	case F_NOP_INTERVAL: return c->nop_interval_ms;
	case F_NOP_TIMEOUT: return c->nop_timeout_ms;
	case F_CHAP_ALGS: return packed_algs(c);
	case F_SECRET_LEN: return (long long)c->secret_len;
	case F_RSECRET_LEN: return (long long)c->rsecret_len;
	case F_NONE: return 0;
	}
	return 0;
}

#define HD "node.conn[0].iscsi.HeaderDigest"
#define DD "node.conn[0].iscsi.DataDigest"
#define RT "node.session.timeo.replacement_timeout"
#define LT "node.conn[0].timeo.login_timeout"
#define NI "node.conn[0].timeo.noop_out_interval"
#define NT "node.conn[0].timeo.noop_out_timeout"
#define RM "node.session.initial_login_retry_max"
#define CA "node.session.auth.chap_algs"

static const struct row {
	const char *key, *value;
	int rc;
	enum field field;
	long long expect;       /* of field, after a good value */
} rows[] = {
	{ HD, "None", 0, F_HDIGEST, DIGEST_NONE },
	{ HD, "CRC32C", 0, F_HDIGEST, DIGEST_CRC32C },
	{ HD, "CRC32C,None", 0, F_HDIGEST, DIGEST_PREFER_CRC32C },
	{ HD, "None,CRC32C", 0, F_HDIGEST, DIGEST_PREFER_NONE },
	{ HD, "crc32c", -EINVAL, F_NONE, 0 },
	{ HD, "", -EINVAL, F_NONE, 0 },
	{ HD, "CRC32C,None,", -EINVAL, F_NONE, 0 },
	{ DD, "CRC32C", 0, F_DDIGEST, DIGEST_CRC32C },
	{ DD, "None,CRC32C", 0, F_DDIGEST, DIGEST_PREFER_NONE },
	{ DD, "MD5", -EINVAL, F_NONE, 0 },
	{ RT, "120", 0, F_REPLACEMENT, 120000 },
	{ RT, "0", 0, F_REPLACEMENT, 0 },
	{ RT, "-1", 0, F_REPLACEMENT, -1 },
	{ RT, "-30", 0, F_REPLACEMENT, -1 },
	{ RT, "soon", -EINVAL, F_NONE, 0 },
	{ RT, "-", -EINVAL, F_NONE, 0 },
	{ RT, "99999999999999", -EINVAL, F_NONE, 0 },
	{ LT, "15", 0, F_LOGIN, 15000 },
	{ LT, "0", -EINVAL, F_NONE, 0 },
	{ LT, "3601", -EINVAL, F_NONE, 0 },
	{ LT, "1.5", -EINVAL, F_NONE, 0 },
	{ NI, "0", 0, F_NOP_INTERVAL, 0 },
	{ NI, "10", 0, F_NOP_INTERVAL, 10000 },
	{ NI, "-1", -EINVAL, F_NONE, 0 },
	{ NT, "0", 0, F_NOP_TIMEOUT, 0 },
	{ NT, "7", 0, F_NOP_TIMEOUT, 7000 },
	{ NT, "x", -EINVAL, F_NONE, 0 },
	/* default login timeout 15 s: "15 * 8 = 120 seconds" (iscsid.conf) */
	{ RM, "8", 0, F_FIRST_LOGIN, 120000 },
	{ RM, "0", 0, F_FIRST_LOGIN, 0 },
	{ RM, "10001", -EINVAL, F_NONE, 0 },
	{ CA, "MD5", 0, F_CHAP_ALGS, CHAP_ALG_MD5 },
	{ CA, "SHA3-256,SHA256,SHA1,MD5", 0, F_CHAP_ALGS, 0x08070605 },
	{ CA, "SHA256,MD5", 0, F_CHAP_ALGS, 0x0705 },
	{ CA, "SHA1,SHA1", -EINVAL, F_NONE, 0 },
	{ CA, "MD4", -EINVAL, F_NONE, 0 },
	{ CA, "MD5,", -EINVAL, F_NONE, 0 },
	{ CA, "", -EINVAL, F_NONE, 0 },
	{ CA, "sha1", -EINVAL, F_NONE, 0 },
	{ "node.session.auth.authmethod", "CHAP", 0, F_NONE, 0 },
	{ "node.session.auth.authmethod", "None", 0, F_SECRET_LEN, 0 },
	{ "node.session.auth.authmethod", "chap", -EINVAL, F_NONE, 0 },
	{ "node.session.auth.password", "s3cret-12chars", 0, F_SECRET_LEN, 14 },
	{ "node.session.auth.password_in", "other-secret", 0, F_RSECRET_LEN, 12 },
	/* open-iscsi has many more keys; ours are only those that matter here */
	{ "node.session.cmds_max", "128", -ENOENT, F_NONE, 0 },
	{ "node.conn[1].iscsi.HeaderDigest", "CRC32C", -ENOENT, F_NONE, 0 },
	{ "Node.conn[0].iscsi.HeaderDigest", "CRC32C", -ENOENT, F_NONE, 0 },
};

static void test_rows(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *t = &rows[i];
		struct iscsi_config c;
		int rc;

		iscsi_config_defaults(&c);
		rc = iscsi_config_set_node_param(&c, t->key, t->value);
		if (rc != t->rc || get(&c, t->field) != t->expect)
			fprintf(stderr, "row %zu: %s=%s\n", i, t->key, t->value);
		CHECK_EQ(rc, t->rc);
		CHECK_EQ(get(&c, t->field), t->expect);
	}
}

static void set(struct iscsi_config *c, const char *k, const char *v)
{
	CHECK_EQ(iscsi_config_set_node_param(c, k, v), 0);
}

static void test_credentials(void)
{
	struct iscsi_config c;
	char big[ISCSI_SECRET_LEN + 2];

	iscsi_config_defaults(&c);
	set(&c, "node.session.auth.username", "alice");
	set(&c, "node.session.auth.password", "file:not-a-path");
	set(&c, "node.session.auth.username_in", "target");
	set(&c, "node.session.auth.password_in", "mutual-secret");
	CHECK_STR(c.user, "alice");
	CHECK_EQ(c.secret_len, 15);
	CHECK(!memcmp(c.secret, "file:not-a-path", 15));   /* the text, not a file */
	CHECK_STR(c.ruser, "target");
	CHECK_EQ(c.rsecret_len, 13);
	set(&c, "node.session.auth.authmethod", "None");
	CHECK_STR(c.user, "");
	CHECK_STR(c.ruser, "");
	CHECK_EQ(c.secret_len + c.rsecret_len, 0);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(iscsi_config_set_node_param(&c, "node.session.auth.password", big), -EINVAL);
	CHECK_EQ(iscsi_config_set_node_param(&c, "node.session.auth.username", big), -EINVAL);
	big[ISCSI_SECRET_LEN] = '\0';
	CHECK_EQ(iscsi_config_set_node_param(&c, "node.session.auth.password", big), 0);
	CHECK_EQ(c.secret_len, ISCSI_SECRET_LEN);
}

/* login_timeout x initial_login_retry_max, in either order. */
static void test_first_login_either_order(void)
{
	struct iscsi_config a, b;

	iscsi_config_defaults(&a);
	set(&a, RM, "4");
	set(&a, LT, "10");
	iscsi_config_defaults(&b);
	set(&b, LT, "10");
	set(&b, RM, "4");
	CHECK_EQ(a.first_login_timeout_ms, 40000);
	CHECK_EQ(b.first_login_timeout_ms, 40000);
	/* without the retry key the login timeout leaves the first-login bound alone */
	iscsi_config_defaults(&a);
	set(&a, LT, "5");
	CHECK_EQ(a.first_login_timeout_ms, 30000);
}

/* ---- node.session.auth.chap_algs reaches the login: what it offers,
 * what it accepts, and whether the MD5-alone retry applies. */

static uint8_t req_bhs[ISCSI_BHS_LEN], req_data[8192];
static int req_len;

static bool request_has(const char *kv)
{
	return req_len > 0 && memmem(req_data, (size_t)req_len, kv, strlen(kv) + 1);
}

static int answer(struct login *l, const char *text, size_t len)
{
	struct iscsi_hdr h = { .opcode = ISCSI_OP_LOGIN_RSP, .statsn = 1,
			       .expcmdsn = 1, .maxcmdsn = 32, .data_len = (uint32_t)len };

	h.u.login.nsg = 1;
	return login_handle_response(l, &h, (const uint8_t *)text, len);
}

/* Logs in up to the target's CHAP_A choice; returns what that gave. */
static int chap_login(const char *algs, const char *chosen, const char *offer,
		      bool *retry_md5)
{
	static const char chap[] = "AuthMethod=CHAP";
	struct iscsi_params params;
	struct iscsi_config c;
	struct login_config lc;
	struct login l;
	char text[96];
	int r;

	iscsi_config_defaults(&c);
	if (algs)
		set(&c, CA, algs);
	params_our_offer(&params, c.header_digest, c.data_digest);
	lc = (struct login_config){ .initiator_name = "iqn.2025-01.test:i",
		.target_name = "iqn.2025-01.test:t", .user = "u",
		.secret = (const uint8_t *)"secret123456", .secret_len = 12,
		.offer = &params, .chap_algs = c.chap_algs, .nchap_algs = c.nchap_algs };
	login_init(&l, &lc, 1, 0, 1, 0);
	req_len = login_build_request(&l, req_bhs, req_data, sizeof(req_data));
	CHECK_EQ(answer(&l, chap, sizeof(chap)), LOGIN_SEND_NEXT);
	req_len = login_build_request(&l, req_bhs, req_data, sizeof(req_data));
	CHECK(request_has(offer));
	r = snprintf(text, sizeof(text), "CHAP_A=%s%cCHAP_I=1%c"
		     "CHAP_C=0x0102030405060708090a0b0c0d0e0f10", chosen, 0, 0);
	r = answer(&l, text, (size_t)r + 1);
	*retry_md5 = login_failed_at_chap_list(&l);
	login_free(&l);
	return r;
}

static void test_chap_algs_in_login(void)
{
	bool retry;

	CHECK_EQ(chap_login(NULL, "7", "CHAP_A=8,7,6,5", &retry), LOGIN_SEND_NEXT);
	CHECK_EQ(chap_login("SHA256,MD5", "7", "CHAP_A=7,5", &retry), LOGIN_SEND_NEXT);
	/* a choice outside the configured list is refused */
	CHECK_EQ(chap_login("SHA256,MD5", "6", "CHAP_A=7,5", &retry), -EPROTO);
	CHECK(retry);
	/* without MD5 in the list there is no MD5-alone retry */
	CHECK_EQ(chap_login("SHA3-256,SHA256", "5", "CHAP_A=8,7", &retry), -EPROTO);
	CHECK(!retry);
	CHECK_EQ(chap_login("MD5", "6", "CHAP_A=5", &retry), -EPROTO);
	CHECK(!retry);
}

int main(void)
{
	test_rows();
	test_credentials();
	test_first_login_either_order();
	test_chap_algs_in_login();
	return test_report("node-param");
}
