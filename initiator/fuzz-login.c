/* SPDX-License-Identifier: MIT */
/* Fuzzes the login state machine with target responses: the first byte
 * picks the flags and status, the rest is a sequence of text segments
 * separated by 0xff bytes, one per response. */
#include <string.h>

#include "login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[] = "fuzz-secret-1234";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t bhs[ISCSI_BHS_LEN], req[8192];
	struct iscsi_params offer;
	struct login_config cfg;
	struct login l;
	size_t pos = 1;

	if (size < 1)
		return 0;
	params_our_offer(&offer, DIGEST_PREFER_CRC32C, DIGEST_PREFER_NONE);
	cfg = (struct login_config){
		.initiator_name = "iqn.2025-01.fuzz:i", .target_name = "iqn.2025-01.fuzz:t",
		.user = (data[0] & 1) ? "u" : NULL, .secret = secret,
		.secret_len = sizeof(secret) - 1, .ruser = (data[0] & 2) ? "r" : NULL,
		.rsecret = secret, .rsecret_len = 4, .offer = &offer,
		.md5_only = data[0] & 4,
	};
	login_init(&l, &cfg, 1, 0, 1, 0);
	for (int round = 0; round < 16 && pos <= size; round++) {
		const uint8_t *end = memchr(data + pos, 0xff, size - pos);
		size_t len = end ? (size_t)(end - (data + pos)) : size - pos;
		struct iscsi_hdr h = { .opcode = ISCSI_OP_LOGIN_RSP, .data_len = (uint32_t)len };
		uint8_t f = round == 0 ? data[0] : data[pos - 1];

		if (login_build_request(&l, bhs, req, sizeof(req)) < 0)
			break;
		h.flags = f & 0xc0;
		h.u.login.csg = (f >> 2) & 3;
		h.u.login.nsg = f & 3;
		h.u.login.status_class = (f & 0x30) == 0x30 ? 2 : 0;
		if (login_handle_response(&l, &h, data + pos, len) != LOGIN_SEND_NEXT)
			break;
		pos += len + 1;
	}
	login_free(&l);
	return 0;
}
