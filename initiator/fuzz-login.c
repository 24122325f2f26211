/* SPDX-License-Identifier: MIT */
/* Fuzzes the login state machine with target responses. The input is a
 * sequence of responses separated by 0xff bytes; each is a flags byte
 * followed by its text (the first response's flags byte, data[0], also
 * picks CHAP, mutual CHAP, the MD5 retry and a small PDU limit):
 *   0x80 T, 0x40 C, 0x0c CSG, 0x03 NSG,
 *   0x30 status: 0x00 success, 0x10 0x0101, 0x20 0x0200, 0x30 0x0201.
 * Besides memory safety it checks the C bit contract: requests never
 * fail for length, stay within the PDU limit, never carry C with T, and a
 * continued response gets an empty request; and the MD5 retry is never
 * allowed after the retry itself. */
#include <stdlib.h>
#include <string.h>

#include "login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[] = "fuzz-secret-1234";

static struct iscsi_hdr response(uint8_t f, size_t len)
{
	static const uint16_t status[] = { 0x0000, 0x0101, 0x0200, 0x0201 };
	struct iscsi_hdr h = { .opcode = ISCSI_OP_LOGIN_RSP, .data_len = (uint32_t)len };

	h.flags = f & (ISCSI_FLAG_LOGIN_TRANSIT | ISCSI_FLAG_LOGIN_CONTINUE);
	h.u.login.csg = (f >> 2) & 3;
	h.u.login.nsg = f & 3;
	h.u.login.status_class = (uint8_t)(status[(f >> 4) & 3] >> 8);
	h.u.login.status_detail = (uint8_t)status[(f >> 4) & 3];
	return h;
}

/* The next request, checked against the contract. */
static void build_checked(struct login *l, size_t cap, bool after_continue)
{
	static uint8_t bhs[ISCSI_BHS_LEN], req[LOGIN_PDU_DATA_MAX];
	int n = login_build_request(l, bhs, req, cap);
	uint8_t flags = bhs[1];

	if (n < 0 || (size_t)n > cap)
		abort();
	if ((flags & ISCSI_FLAG_LOGIN_TRANSIT) && (flags & ISCSI_FLAG_LOGIN_CONTINUE))
		abort();
	if (after_continue && (n != 0 || (flags & (ISCSI_FLAG_LOGIN_TRANSIT |
						   ISCSI_FLAG_LOGIN_CONTINUE))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_params offer;
	struct login_config cfg;
	struct login l;
	size_t pos = 1, cap;
	uint8_t f;
	bool after_continue = false, retry_md5;

	if (size < 1)
		return 0;
	f = data[0];
	/* A small limit cuts our own text into many parts, mid-pair too. */
	cap = (f & 8) ? 61 : LOGIN_PDU_DATA_MAX;
	params_our_offer(&offer, DIGEST_PREFER_CRC32C, DIGEST_PREFER_NONE);
	cfg = (struct login_config){
		.initiator_name = "iqn.2025-01.fuzz:i", .target_name = "iqn.2025-01.fuzz:t",
		.user = (f & 1) ? "u" : NULL, .secret = secret,
		.secret_len = sizeof(secret) - 1, .ruser = (f & 2) ? "r" : NULL,
		.rsecret = secret, .rsecret_len = 4, .offer = &offer,
		.md5_only = f & 4,
	};
	login_init(&l, &cfg, 1, 0, 1, 0);
	for (int round = 0; round < 64 && pos <= size; round++) {
		const uint8_t *end = memchr(data + pos, 0xff, size - pos);
		size_t len = end ? (size_t)(end - (data + pos)) : size - pos;
		struct iscsi_hdr h = response(f, len);

		build_checked(&l, cap, after_continue);
		if (login_handle_response(&l, &h, data + pos, len) != LOGIN_SEND_NEXT)
			break;
		after_continue = h.flags & ISCSI_FLAG_LOGIN_CONTINUE;
		pos += len + 1;
		/* The next response's flags byte leads its text. */
		if (pos >= size)
			break;
		f = data[pos++];
	}
	retry_md5 = login_failed_at_chap_list(&l);
	if (retry_md5 && cfg.md5_only)
		abort();
	login_free(&l);
	return 0;
}
