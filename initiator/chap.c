/* SPDX-License-Identifier: MIT */
/*
 * CHAP for the iSCSI login (RFC 7143 §12.1.3, RFC 1994 §4.1): the response
 * is H(identifier || secret || challenge), and CHAP_I/CHAP_C/CHAP_R travel
 * as RFC 7143 §6.1 binary-values. Hashes come from nettle: a well-kept
 * library that Debian ships for glibc and that scripts/deps.sh builds as a
 * static musl archive.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/md5.h>
#include <nettle/nettle-meta.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <nettle/sha3.h>

#include "chap.h"
#include "util.h"

_Static_assert(CHAP_DIGEST_MAX >= SHA256_DIGEST_SIZE &&
		       CHAP_DIGEST_MAX >= SHA3_256_DIGEST_SIZE,
	       "CHAP_DIGEST_MAX holds every supported digest");

/* Big enough for the context of every hash in chap_hashes. */
union chap_hash_ctx {
	struct md5_ctx md5;
	struct sha1_ctx sha1;
	struct sha256_ctx sha256;
	struct sha3_256_ctx sha3_256;
};

static const struct chap_hash {
	enum chap_alg alg;
	const char *name;
	const struct nettle_hash *hash;
} chap_hashes[] = {
	{ CHAP_ALG_MD5, "MD5", &nettle_md5 },
	{ CHAP_ALG_SHA1, "SHA-1", &nettle_sha1 },
	{ CHAP_ALG_SHA256, "SHA-256", &nettle_sha256 },
	{ CHAP_ALG_SHA3_256, "SHA3-256", &nettle_sha3_256 },
};

static const struct chap_hash *chap_hash_find(int alg)
{
	for (size_t i = 0; i < ARRAY_SIZE(chap_hashes); i++)
		if ((int)chap_hashes[i].alg == alg)
			return &chap_hashes[i];
	return NULL;
}

bool chap_alg_supported(int alg)
{
	return chap_hash_find(alg) != NULL;
}

const char *chap_alg_name(int alg)
{
	const struct chap_hash *h = chap_hash_find(alg);

	return h ? h->name : "unknown";
}

size_t chap_digest_len(enum chap_alg alg)
{
	const struct chap_hash *h = chap_hash_find((int)alg);

	return h ? h->hash->digest_size : 0;
}

int chap_response(enum chap_alg alg, uint8_t id, const uint8_t *secret,
		  size_t secret_len, const uint8_t *challenge,
		  size_t challenge_len, uint8_t *out)
{
	const struct chap_hash *h = chap_hash_find((int)alg);
	union chap_hash_ctx ctx;

	if (!h)
		return -EINVAL;
	h->hash->init(&ctx);
	h->hash->update(&ctx, 1, &id);
	/* Empty parts are skipped so that no NULL pointer reaches memcpy. */
	if (secret_len)
		h->hash->update(&ctx, secret_len, secret);
	if (challenge_len)
		h->hash->update(&ctx, challenge_len, challenge);
	h->hash->digest(&ctx, h->hash->digest_size, out);
	/* The context still holds secret bytes in its block buffer. */
	secure_zero(&ctx, sizeof(ctx));
	return (int)h->hash->digest_size;
}

int chap_verify(enum chap_alg alg, uint8_t id, const uint8_t *secret,
		size_t secret_len, const uint8_t *challenge,
		size_t challenge_len, const uint8_t *response,
		size_t response_len)
{
	uint8_t expected[CHAP_DIGEST_MAX];
	int r = chap_response(alg, id, secret, secret_len, challenge,
			      challenge_len, expected);

	if (r < 0)
		return r;
	/* The length is public; only the bytes are compared in constant time,
	 * and only when both sides have the same number of them. */
	bool match = response_len == (size_t)r &&
		     ct_memcmp(expected, response, response_len) == 0;
	secure_zero(expected, sizeof(expected));
	return match ? 0 : -EACCES;
}

int chap_random(uint8_t *buf, size_t len)
{
	size_t done = 0;

	/* Every pass makes progress or was interrupted by a signal. */
	while (done < len) {
		ssize_t n = getrandom(buf + done, len - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

int chap_encode_hex(const uint8_t *bin, size_t len, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";

	if (len == 0)
		return -EINVAL;
	if (len > (INT_MAX - 3) / 2 || outlen < 2 * len + 3)
		return -ENOSPC;
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < len; i++) {
		out[2 + 2 * i] = digits[bin[i] >> 4];
		out[3 + 2 * i] = digits[bin[i] & 0xf];
	}
	out[2 + 2 * len] = '\0';
	return (int)(2 + 2 * len);
}

/* RFC 7143 §6.1: n hex digits make (n + 1) / 2 bytes; with an odd count the
 * first digit stands alone, as if a 0 preceded it. */
static int decode_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s);

	if (n == 0)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (hex_digit_value(s[i]) < 0)
			return -EBADMSG;
	if ((n + 1) / 2 > max)
		return -E2BIG;
	size_t i = 0, o = 0;
	if (n % 2)
		out[o++] = (uint8_t)hex_digit_value(s[i++]);
	for (; i < n; i += 2)
		out[o++] = (uint8_t)(hex_digit_value(s[i]) << 4 | hex_digit_value(s[i + 1]));
	*len = o;
	return 0;
}

static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 4648 §4 alphabet. RFC 7143 §6.1 counts 6 bits per character before
 * any trailing '=', so n characters make n * 3 / 4 bytes; padding is taken
 * when present (then it must complete a group of four) and not required. */
static int decode_base64(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t total = strlen(s), n = total;

	while (n > 0 && s[n - 1] == '=')
		n--;
	size_t pad = total - n;
	if (n == 0 || n % 4 == 1 || pad > 2 || (pad && total % 4))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (base64_value(s[i]) < 0)
			return -EBADMSG;
	if (n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > max)
		return -E2BIG;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 6 | (uint32_t)base64_value(s[i])) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	*len = o;
	return 0;
}

int chap_decode_binary(const char *text, uint8_t *out, size_t max, size_t *len)
{
	if (text[0] != '0')
		return -EBADMSG;
	switch (text[1]) {
	case 'x':
	case 'X':
		return decode_hex(text + 2, out, max, len);
	case 'b':
	case 'B':
		return decode_base64(text + 2, out, max, len);
	default:
		return -EBADMSG;
	}
}
