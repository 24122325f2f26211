/* SPDX-License-Identifier: MIT */
/* libFuzzer: the RFC 4173 root-path parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dhcpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[1024];
	struct dhcpc_rootpath rp;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (dhcpc_rootpath_parse(s, &rp) == 0 &&
	    (!rp.target[0] ||
	     strnlen(rp.host, sizeof(rp.host)) >= sizeof(rp.host)))
		__builtin_trap();
	return 0;
}
