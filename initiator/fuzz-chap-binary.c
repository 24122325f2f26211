/* SPDX-License-Identifier: MIT */
/* libFuzzer target for chap_decode_binary, the parser of the CHAP_I, CHAP_C
 * and CHAP_R values a target sends. Besides memory safety it checks the
 * contract: only the documented errors, a length within bounds, and bytes
 * that survive a round trip through the hex form. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const uint8_t *bin, size_t len)
{
	char hex[2 * CHAP_CHALLENGE_MAX + 3];
	uint8_t again[CHAP_CHALLENGE_MAX];
	size_t again_len = 0;

	if (chap_encode_hex(bin, len, hex, sizeof(hex)) != (int)(2 + 2 * len))
		abort();
	if (chap_decode_binary(hex, again, sizeof(again), &again_len) != 0 ||
	    again_len != len || memcmp(bin, again, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Values arrive as NUL-terminated strings from the text-key parser. */
	char *text = malloc(size + 1);
	uint8_t out[CHAP_CHALLENGE_MAX];
	size_t len = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	int rc = chap_decode_binary(text, out, sizeof(out), &len);
	if (rc == 0) {
		if (len == 0 || len > sizeof(out))
			abort();
		check_round_trip(out, len);
	} else if (rc != -EBADMSG && rc != -E2BIG) {
		abort();
	}
	free(text);
	return 0;
}
