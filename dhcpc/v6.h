/* SPDX-License-Identifier: MIT */
/*
 * IPv6 bring-up of one interface, for the bring-up in dhcpc.c: the
 * kernel's SLAAC (ip=auto6), the DHCPv6 client (ip=dhcp6) or a static
 * [v6] address, then the wait for that address past DAD and a default
 * route (router advertisements, or the static gateway).
 */
#ifndef ISCSIROOT_DHCPC_V6_H
#define ISCSIROOT_DHCPC_V6_H

#include "dhcp6.h"
#include "dhcpc.h"
#include "nl.h"

enum dhcpc_v6_phase {
	V6_LINK_LOCAL, /* DHCPv6 waits for a link-local source address */
	V6_DHCP,       /* the DHCPv6 client runs */
	V6_READY_WAIT, /* the address past DAD and the route, through netlink */
	V6_DONE,       /* configured; a DHCPv6 client left running renews */
};

struct dhcpc_v6 {
	enum dhcpc_v6_phase phase;
	bool client_on;
	bool renewed;              /* lease has a renewal not yet taken */
	struct dhcp6_client client;
	struct dhcpc_lease lease;
	struct nl_sock *nl;
	struct ev_loop *loop;
	void (*wake)(void *ctx);   /* the bring-up should poll now */
	void *ctx;
};

/* Before the link goes up: IPv6 on, router advertisements accepted
 * (also with forwarding on), SLAAC on. Failures are only logged. */
void dhcpc_v6_enable(const char *ifname);
/* On an interface with carrier. */
int dhcpc_v6_start(struct dhcpc_v6 *v, const struct dhcpc_ipconf *ip,
		   const struct nl_link *link);
/* 1 when v->lease is configured (the address past DAD, the default
 * route there), 0 while waiting, or a negative errno (-EADDRINUSE: DAD
 * failed). After 1 a DHCPv6 client not stopped renews the lease: each
 * renewal sets renewed and wakes the bring-up. */
int dhcpc_v6_poll(struct dhcpc_v6 *v);
void dhcpc_v6_stop(struct dhcpc_v6 *v);

#endif
