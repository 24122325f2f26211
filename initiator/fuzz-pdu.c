/* SPDX-License-Identifier: MIT */
/* Fuzzes the receive path: the BHS decoder, SendTargets parsing, sense in
 * SCSI responses and the TargetAddress parser. */
#include <stdlib.h>
#include <string.h>

#include "iscsi.h"
#include "pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_hdr h;
	char *text;

	if (pdu_decode(data, size, &h) == 0) {
		iscsi_opcode_name(h.opcode);
		iscsi_login_status_name(h.u.login.status_class, h.u.login.status_detail);
		iscsi_reject_reason_name(h.u.reject.reason);
	}
	if (size < ISCSI_BHS_LEN)
		return 0;
	text = malloc(size - ISCSI_BHS_LEN + 1);
	if (!text)
		return 0;
	memcpy(text, data + ISCSI_BHS_LEN, size - ISCSI_BHS_LEN);
	text[size - ISCSI_BHS_LEN] = '\0';
	{
		static struct iscsi_target_entry out[8];
		size_t n;
		char host[64];
		uint16_t port, tpgt;

		text_parse_address(text, host, sizeof(host), &port, &tpgt);
		iscsi_parse_send_targets(text, size - ISCSI_BHS_LEN, out, 8, &n);
	}
	free(text);
	return 0;
}
