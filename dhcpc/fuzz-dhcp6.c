/* SPDX-License-Identifier: MIT */
/* libFuzzer: a DHCPv6 message through the one parser (msg6.c), for our
 * IAID and another. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "msg6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp6_msg m;

	for (uint32_t iaid = 0; iaid < 2; iaid++) {
		if (dhcp6_msg_parse(data, size, iaid, &m) < 0)
			continue;
		if (m.ndns > DHCP6_MAX_DNS || m.client_id_len > DHCP6_MAX_DUID ||
		    m.server_id_len > DHCP6_MAX_DUID || m.xid > 0xffffff ||
		    strnlen(m.bootfile_url, sizeof(m.bootfile_url)) >=
			    sizeof(m.bootfile_url))
			__builtin_trap();
	}
	return 0;
}
