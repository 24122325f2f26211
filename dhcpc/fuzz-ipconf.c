/* SPDX-License-Identifier: MIT */
/* libFuzzer: the ip= and BOOTIF= parsers. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dhcpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[512];
	struct dhcpc_ipconf ip;
	uint8_t mac[6];

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (dhcpc_ip_parse(s, &ip) == 0 &&
	    (strnlen(ip.device, sizeof(ip.device)) >= sizeof(ip.device) ||
	     (ip.mode == DHCPC_IP_STATIC && !ip.addr.s_addr) ||
	     (ip.mode == DHCPC_IP_STATIC6 &&
	      (ip.prefix6 < 1 || ip.prefix6 > 128 || ip.addr.s_addr ||
	       IN6_IS_ADDR_UNSPECIFIED(&ip.addr6)))))
		__builtin_trap();
	(void)dhcpc_bootif_parse(s, mac);
	return 0;
}
