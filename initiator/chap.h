/* SPDX-License-Identifier: MIT */
/*
 * CHAP for the iSCSI login's security phase (RFC 7143 §12.1.3 on RFC 1994):
 * responses, mutual verification and the binary-value text encoding
 * (RFC 7143 §6.1). The hashes come from nettle.
 */
#ifndef ISCSIROOT_CHAP_H
#define ISCSIROOT_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CHAP_A values: IANA "PPP Authentication Algorithms" registry. */
enum chap_alg {
	CHAP_ALG_MD5 = 5,
	CHAP_ALG_SHA1 = 6,
	CHAP_ALG_SHA256 = 7,
	CHAP_ALG_SHA3_256 = 8,
};

#define CHAP_DIGEST_MAX 32
/* Largest challenge we accept or send: some targets use up to 1024 bytes. */
#define CHAP_CHALLENGE_MAX 1024
/* Shortest challenge we answer, and the length of ours: a short challenge
 * soon comes again, and a response recorded once then answers it. */
#define CHAP_CHALLENGE_MIN 16

bool chap_alg_supported(int alg);
/* "MD5", "SHA-1", "SHA-256", "SHA3-256"; "unknown" for anything else. */
const char *chap_alg_name(int alg);
/* Bytes in the algorithm's digest, 0 when it is not supported. */
size_t chap_digest_len(enum chap_alg alg);

/* H(id || secret || challenge) into out[CHAP_DIGEST_MAX].
 * Returns the digest length, or -EINVAL for an unsupported algorithm. */
int chap_response(enum chap_alg alg, uint8_t id, const uint8_t *secret,
		  size_t secret_len, const uint8_t *challenge,
		  size_t challenge_len, uint8_t *out);

/* Decodes an RFC 7143 §6.1 binary-value: "0x"/"0X" and hex digits (an odd
 * count has an implied leading zero) or "0b"/"0B" and base64 (padding
 * optional). At least one byte. Returns 0, -EBADMSG on malformed text or
 * -E2BIG when the value would exceed max bytes. */
int chap_decode_binary(const char *text, uint8_t *out, size_t max,
		       size_t *len);

/* Writes "0x" and lowercase hex digits, NUL-terminated. Returns the string
 * length, -ENOSPC when outlen is too small or -EINVAL for len 0 (the wire
 * form needs at least one digit). */
int chap_encode_hex(const uint8_t *bin, size_t len, char *out, size_t outlen);

/* Fills buf with getrandom(); returns 0 or -errno. */
int chap_random(uint8_t *buf, size_t len);

/* Mutual CHAP: recomputes the answer the target should have sent and
 * compares in constant time. 0 if it matches, -EACCES if not (including a
 * wrong length), -EINVAL for an unsupported algorithm. */
int chap_verify(enum chap_alg alg, uint8_t id, const uint8_t *secret,
		size_t secret_len, const uint8_t *challenge,
		size_t challenge_len, const uint8_t *response,
		size_t response_len);

#endif
