/* SPDX-License-Identifier: MIT */
/* CHAP: known answers for every algorithm, mutual verification, and the
 * RFC 7143 §6.1 binary-value encodings. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chap.h"
#include "test.h"

/* The challenge bytes of the known answers: (7 * i + 3) mod 256. */
static void make_challenge(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(7 * i + 3);
}

/*
 * Expected values computed independently with Python's hashlib:
 *   chal = bytes((7 * i + 3) & 0xff for i in range(n))
 *   hashlib.new(h, bytes([id]) + secret + chal).hexdigest()
 * with h in md5, sha1, sha256, sha3_256.
 */
static const struct known_answer {
	enum chap_alg alg;
	uint8_t id;
	const char *secret;
	size_t challenge_len;
	const char *response;
} known_answers[] = {
	{ CHAP_ALG_MD5, 0x01, "secretsecret", 1,
	  "0x459673971b68ccb0c062cfd9c5b731f2" },
	{ CHAP_ALG_MD5, 0x7f, "0123456789abcdef", 16,
	  "0xddcba0571901aa704fce51504334303e" },
	{ CHAP_ALG_MD5, 0xff, "a much longer shared CHAP secret", 1024,
	  "0xbe2619d74bbc1f66435d36109ffa4ce7" },
	{ CHAP_ALG_SHA1, 0x01, "secretsecret", 1,
	  "0xd8fa384a91876e7cb8af20a030abf867bf12927d" },
	{ CHAP_ALG_SHA1, 0x7f, "0123456789abcdef", 16,
	  "0x65a94a987c0fe4311d7c65e7dc961f2f497bb552" },
	{ CHAP_ALG_SHA1, 0xff, "a much longer shared CHAP secret", 1024,
	  "0xef08000ca47adb7092b470ec57422f68664a8a0e" },
	{ CHAP_ALG_SHA256, 0x01, "secretsecret", 1,
	  "0xa76da102377f962c59007236bf3942f00a83e3d2ccad81aeee62cb2f2dd8778d" },
	{ CHAP_ALG_SHA256, 0x7f, "0123456789abcdef", 16,
	  "0x118e8e63b671795f16fd6e4702ff0cbb73cd6f2f2f67a7243a1221845fa39862" },
	{ CHAP_ALG_SHA256, 0xff, "a much longer shared CHAP secret", 1024,
	  "0xa3ba019daae06a8948daeca80458a9f5910d98c350f6aeda78d5f6f3470b3e35" },
	{ CHAP_ALG_SHA3_256, 0x01, "secretsecret", 1,
	  "0x5e4b0821aa30172d99ca318f5a6799163ba0e26ed8806b01cab2f216ffbd1ac6" },
	{ CHAP_ALG_SHA3_256, 0x7f, "0123456789abcdef", 16,
	  "0xad2075493a627543f92ce82ab22b1a4cd57e92b9b488334e5a2b09cd6e34b9a0" },
	{ CHAP_ALG_SHA3_256, 0xff, "a much longer shared CHAP secret", 1024,
	  "0x4d8af8d40784ab390a3e953349a407e0692ac6c655b0974223fd4f5a2429a72f" },
};

static void test_known_answers(void)
{
	uint8_t challenge[CHAP_CHALLENGE_MAX];
	uint8_t out[CHAP_DIGEST_MAX];
	char hex[2 * CHAP_DIGEST_MAX + 3];

	for (size_t i = 0; i < sizeof(known_answers) / sizeof(known_answers[0]); i++) {
		const struct known_answer *k = &known_answers[i];
		make_challenge(challenge, k->challenge_len);
		int n = chap_response(k->alg, k->id, (const uint8_t *)k->secret,
				      strlen(k->secret), challenge,
				      k->challenge_len, out);
		CHECK_EQ(n, chap_digest_len(k->alg));
		CHECK_EQ(chap_encode_hex(out, (size_t)n, hex, sizeof(hex)),
			 strlen(k->response));
		CHECK_STR(hex, k->response);
	}
}

static void test_algorithms(void)
{
	CHECK(chap_alg_supported(5));
	CHECK(chap_alg_supported(6));
	CHECK(chap_alg_supported(7));
	CHECK(chap_alg_supported(8));
	CHECK(!chap_alg_supported(0));
	CHECK(!chap_alg_supported(4));
	CHECK(!chap_alg_supported(9));
	CHECK(!chap_alg_supported(-1));
	CHECK_STR(chap_alg_name(CHAP_ALG_MD5), "MD5");
	CHECK_STR(chap_alg_name(CHAP_ALG_SHA1), "SHA-1");
	CHECK_STR(chap_alg_name(CHAP_ALG_SHA256), "SHA-256");
	CHECK_STR(chap_alg_name(CHAP_ALG_SHA3_256), "SHA3-256");
	CHECK_STR(chap_alg_name(42), "unknown");
	CHECK_EQ(chap_digest_len(CHAP_ALG_MD5), 16);
	CHECK_EQ(chap_digest_len(CHAP_ALG_SHA1), 20);
	CHECK_EQ(chap_digest_len(CHAP_ALG_SHA256), 32);
	CHECK_EQ(chap_digest_len(CHAP_ALG_SHA3_256), 32);
	CHECK_EQ(chap_digest_len((enum chap_alg)9), 0);

	uint8_t out[CHAP_DIGEST_MAX];
	CHECK_EQ(chap_response((enum chap_alg)9, 1, (const uint8_t *)"s", 1,
			       (const uint8_t *)"c", 1, out), -EINVAL);
	/* An empty secret is hashed as nothing: H(id || challenge). Python:
	 * hashlib.md5(bytes([0x02, 0x03])).hexdigest() */
	char hex[2 * CHAP_DIGEST_MAX + 3];
	uint8_t c = 0x03;
	CHECK_EQ(chap_response(CHAP_ALG_MD5, 0x02, NULL, 0, &c, 1, out), 16);
	chap_encode_hex(out, 16, hex, sizeof(hex));
	CHECK_STR(hex, "0x1fab1cffea9b6fd2f36bfb46e182fd77");
}

static void test_verify(void)
{
	static const uint8_t secret[] = "target-secret-1";
	uint8_t challenge[CHAP_CHALLENGE_MAX];
	uint8_t resp[CHAP_DIGEST_MAX];
	size_t slen = sizeof(secret) - 1;

	make_challenge(challenge, sizeof(challenge));
	for (int alg = CHAP_ALG_MD5; alg <= CHAP_ALG_SHA3_256; alg++) {
		enum chap_alg a = (enum chap_alg)alg;
		int n = chap_response(a, 9, secret, slen, challenge, 64, resp);
		CHECK(n > 0);
		CHECK_EQ(chap_verify(a, 9, secret, slen, challenge, 64, resp,
				     (size_t)n), 0);
		/* Wrong identifier, challenge, secret, length or one bit. */
		CHECK_EQ(chap_verify(a, 10, secret, slen, challenge, 64, resp,
				     (size_t)n), -EACCES);
		CHECK_EQ(chap_verify(a, 9, secret, slen, challenge, 63, resp,
				     (size_t)n), -EACCES);
		CHECK_EQ(chap_verify(a, 9, secret, slen - 1, challenge, 64,
				     resp, (size_t)n), -EACCES);
		CHECK_EQ(chap_verify(a, 9, secret, slen, challenge, 64, resp,
				     (size_t)n - 1), -EACCES);
		CHECK_EQ(chap_verify(a, 9, secret, slen, challenge, 64, resp,
				     0), -EACCES);
		resp[n - 1] ^= 0x01;
		CHECK_EQ(chap_verify(a, 9, secret, slen, challenge, 64, resp,
				     (size_t)n), -EACCES);
	}
	CHECK_EQ(chap_verify((enum chap_alg)4, 9, secret, slen, challenge, 64,
			     resp, 16), -EINVAL);
}

/* Decodes text and checks the result against want (or the error). */
static void check_decode(const char *text, size_t max, int want_rc,
			 const void *want, size_t want_len)
{
	uint8_t out[CHAP_CHALLENGE_MAX + 1];
	size_t len = 12345;
	int rc = chap_decode_binary(text, out, max, &len);

	CHECK_EQ(rc, want_rc);
	if (rc != want_rc)
		fprintf(stderr, "  decoding \"%.40s\"\n", text);
	if (rc == 0 && want_rc == 0) {
		CHECK_EQ(len, want_len);
		CHECK(len == want_len && memcmp(out, want, len) == 0);
	}
	if (want_rc != 0)
		CHECK_EQ(len, 12345); /* untouched on failure */
}

static void test_decode_hex(void)
{
	check_decode("0x00", 16, 0, "\x00", 1);
	check_decode("0x0", 16, 0, "\x00", 1);
	check_decode("0xabc", 16, 0, "\x0a\xbc", 2);
	check_decode("0XABcd", 16, 0, "\xab\xcd", 2);
	check_decode("0x0123456789abcdefABCDEF", 16, 0,
		     "\x01\x23\x45\x67\x89\xab\xcd\xef\xab\xcd\xef", 11);
	check_decode("0x", 16, -EBADMSG, NULL, 0);
	check_decode("", 16, -EBADMSG, NULL, 0);
	check_decode("0", 16, -EBADMSG, NULL, 0);
	check_decode("1234", 16, -EBADMSG, NULL, 0);
	check_decode("x1234", 16, -EBADMSG, NULL, 0);
	check_decode("00x12", 16, -EBADMSG, NULL, 0);
	check_decode("0x12g4", 16, -EBADMSG, NULL, 0);
	check_decode("0x12 ", 16, -EBADMSG, NULL, 0);
	check_decode(" 0x12", 16, -EBADMSG, NULL, 0);
	check_decode("0x-12", 16, -EBADMSG, NULL, 0);
	check_decode("0x0x12", 16, -EBADMSG, NULL, 0);
	check_decode("0xff", 0, -E2BIG, NULL, 0);
	check_decode("0x112233", 2, -E2BIG, NULL, 0);
	check_decode("0x12233", 3, 0, "\x01\x22\x33", 3);
	check_decode("0x12233", 2, -E2BIG, NULL, 0);
}

/* Hex challenges of exactly, one digit under and one byte over 1024 bytes. */
static void test_decode_hex_max(void)
{
	static char text[2 + 2 * (CHAP_CHALLENGE_MAX + 1) + 1];
	uint8_t want[CHAP_CHALLENGE_MAX];

	make_challenge(want, sizeof(want));
	CHECK_EQ(chap_encode_hex(want, sizeof(want), text, sizeof(text)),
		 2 + 2 * CHAP_CHALLENGE_MAX);
	check_decode(text, CHAP_CHALLENGE_MAX, 0, want, sizeof(want));
	/* 2047 digits: still 1024 bytes, the first one a single nibble. */
	uint8_t odd[CHAP_CHALLENGE_MAX];
	memcpy(odd, want, sizeof(odd));
	odd[0] &= 0x0f;
	memmove(text + 2, text + 3, strlen(text + 3) + 1);
	check_decode(text, CHAP_CHALLENGE_MAX, 0, odd, sizeof(odd));
	memset(text + 2, 'a', 2 * (CHAP_CHALLENGE_MAX + 1));
	text[sizeof(text) - 1] = '\0';
	check_decode(text, CHAP_CHALLENGE_MAX, -E2BIG, NULL, 0);
	text[sizeof(text) - 2] = '\0'; /* 2049 digits: 1025 bytes */
	check_decode(text, CHAP_CHALLENGE_MAX, -E2BIG, NULL, 0);
}

static void test_decode_base64(void)
{
	/* RFC 4648 §10 vectors, with and without padding. */
	check_decode("0bZg==", 16, 0, "f", 1);
	check_decode("0bZm8=", 16, 0, "fo", 2);
	check_decode("0bZm9v", 16, 0, "foo", 3);
	check_decode("0bZm9vYg==", 16, 0, "foob", 4);
	check_decode("0bZm9vYmE=", 16, 0, "fooba", 5);
	check_decode("0bZm9vYmFy", 16, 0, "foobar", 6);
	check_decode("0BZm9vYmFy", 16, 0, "foobar", 6);
	check_decode("0bZg", 16, 0, "f", 1);
	check_decode("0bZm8", 16, 0, "fo", 2);
	check_decode("0b+/+/", 16, 0, "\xfb\xff\xbf", 3);
	check_decode("0b", 16, -EBADMSG, NULL, 0);
	check_decode("0b====", 16, -EBADMSG, NULL, 0);
	check_decode("0bZ", 16, -EBADMSG, NULL, 0);
	check_decode("0bZ===", 16, -EBADMSG, NULL, 0);
	check_decode("0bZm9vY", 16, -EBADMSG, NULL, 0);
	check_decode("0bZg=", 16, -EBADMSG, NULL, 0);
	check_decode("0bZg===", 16, -EBADMSG, NULL, 0);
	check_decode("0bZm9v=", 16, -EBADMSG, NULL, 0);
	check_decode("0bZm9v====", 16, -EBADMSG, NULL, 0);
	check_decode("0bZ=g=", 16, -EBADMSG, NULL, 0);
	check_decode("0bZm=vYg==", 16, -EBADMSG, NULL, 0);
	check_decode("0bZm9*", 16, -EBADMSG, NULL, 0);
	check_decode("0bZm9-", 16, -EBADMSG, NULL, 0); /* base64url */
	check_decode("0bZm9_", 16, -EBADMSG, NULL, 0);
	check_decode("0bZm9 v", 16, -EBADMSG, NULL, 0);
	check_decode("0bZm9vYmFy", 5, -E2BIG, NULL, 0);
	check_decode("0bZm9vYmE=", 5, 0, "fooba", 5);
	check_decode("0bZm9vYg", 3, -E2BIG, NULL, 0);
	check_decode("0bZm9vYg", 4, 0, "foob", 4);
}

static void test_encode_hex(void)
{
	static const uint8_t bin[] = { 0x00, 0xab, 0xff, 0x10 };
	char out[11];

	CHECK_EQ(chap_encode_hex(bin, 4, out, sizeof(out)), 10);
	CHECK_STR(out, "0x00abff10");
	CHECK_EQ(chap_encode_hex(bin, 4, out, 10), -ENOSPC);
	CHECK_EQ(chap_encode_hex(bin, 1, out, 5), 4);
	CHECK_STR(out, "0x00");
	CHECK_EQ(chap_encode_hex(bin, 1, out, 4), -ENOSPC);
	CHECK_EQ(chap_encode_hex(bin, 0, out, sizeof(out)), -EINVAL);
}

static void test_random(void)
{
	uint8_t a[CHAP_CHALLENGE_MAX], b[CHAP_CHALLENGE_MAX];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK_EQ(chap_random(a, sizeof(a)), 0);
	CHECK_EQ(chap_random(b, 16), 0);
	CHECK(memcmp(a, b, 16) != 0);
	CHECK_EQ(chap_random(b, 0), 0);
	uint8_t zero[32] = { 0 };
	CHECK(memcmp(a + sizeof(a) - 32, zero, 32) != 0);
}

int main(void)
{
	test_known_answers();
	test_algorithms();
	test_verify();
	test_decode_hex();
	test_decode_hex_max();
	test_decode_base64();
	test_encode_hex();
	test_random();
	return test_report("test-chap");
}
