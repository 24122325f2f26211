/* SPDX-License-Identifier: MIT */
/* libFuzzer: a DHCP reply payload through the header decoder, the option
 * parser (overload, RFC 3396), Rapid Commit (RFC 4039) and the lease
 * decoder; and the same bytes as an IPv4/UDP frame. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp_optset os;
	struct dhcp_msg m;
	struct dhcpc_lease l;
	const uint8_t *payload;
	size_t plen;

	log_set_level(LOG_ERR);
	if (dhcp_frame_decode(data, size, true, &payload, &plen) == 0)
		(void)dhcp_msg_decode(payload, plen, &m);
	if (dhcp_msg_decode(data, size, &m) < 0)
		return 0;
	if (dhcp_optset_parse(&m, &os) < 0)
		return 0;
	(void)dhcp_optset_msg_type(&os);
	(void)dhcp_optset_rapid_commit(&os);
	memset(&l, 0, sizeof(l));
	if (dhcp_lease_decode(&m, &os, &l) == 0) {
		/* every string must end inside its field */
		if (strnlen(l.rootpath, sizeof(l.rootpath)) >= sizeof(l.rootpath) ||
		    strnlen(l.domainsearch, sizeof(l.domainsearch)) >=
			    sizeof(l.domainsearch) ||
		    l.nroutes > DHCPC_MAX_ROUTES || l.ndns > DHCPC_MAX_DNS)
			__builtin_trap();
	}
	return 0;
}
