/* SPDX-License-Identifier: MIT */
/* Putting a lease on an interface: MTU, address, routes, host name. */
#ifndef ISCSIROOT_DHCPC_APPLY_H
#define ISCSIROOT_DHCPC_APPLY_H

#include "dhcpc.h"
#include "nl.h"

/* Adds, never removes: an address the root disk uses stays. */
int dhcpc_apply_lease(struct nl_sock *nl, const struct dhcpc_lease *lease,
		      bool set_hostname);

/* The lease a static ip= describes, on the given interface. */
void dhcpc_static_lease(const struct dhcpc_ipconf *ip, const char *ifname,
			int ifindex, struct dhcpc_lease *lease);

#endif
