/* SPDX-License-Identifier: MIT */
/*
 * Configures an interface from a lease through rtnetlink: MTU first (so
 * no packet goes out too large), then the address, then the routes —
 * option 121 when present, else option 3 (RFC 3442 §DHCP Client Behavior).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "options.h"

static bool in_subnet(const struct dhcpc_lease *l, struct in_addr a)
{
	return ((a.s_addr ^ l->addr.s_addr) & l->netmask.s_addr) == 0;
}

static int add_route(struct nl_sock *nl, const struct dhcpc_lease *l,
		     struct in_addr dst, uint8_t prefix, struct in_addr gw)
{
	struct nl_route rt = {
		.ifindex = l->ifindex, .dst = dst, .prefix = prefix,
		.gateway = gw, .prefsrc = l->addr,
		/* a router outside our subnet (a /32 lease, say) is still
		 * reachable on this link: RFC 3442 allows such routes */
		.onlink = gw.s_addr && !in_subnet(l, gw),
		.metric = l->route_metric,
	};
	char d[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	int r = nl_route_add(nl, &rt);

	if (r < 0) {
		inet_ntop(AF_INET, &dst, d, sizeof(d));
		inet_ntop(AF_INET, &gw, g, sizeof(g));
		log_warn("route %s/%u via %s on %s: %s", d, prefix, g,
			 l->ifname, strerror(-r));
	}
	return r;
}

static int apply_routes(struct nl_sock *nl, const struct dhcpc_lease *l)
{
	struct in_addr any = { 0 };
	int err = 0;

	if (!l->have_classless)
		return l->gateway.s_addr ? add_route(nl, l, any, 0, l->gateway)
					 : 0;
	/* on-link routes first, so that routes via them can be added */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < l->nroutes; i++) {
			const struct dhcpc_route *rt = &l->routes[i];
			if ((rt->gateway.s_addr != 0) != (pass == 1))
				continue;
			int r = add_route(nl, l, rt->dst, rt->prefix,
					  rt->gateway);
			if (r < 0 && !err)
				err = r;
		}
	return err;
}

int dhcpc_apply_lease(struct nl_sock *nl, const struct dhcpc_lease *l,
		      bool set_hostname)
{
	int r;

	if (l->mtu) {
		r = nl_link_set_mtu(nl, l->ifindex, l->mtu);
		if (r < 0)
			log_warn("%s: MTU %u: %s", l->ifname, l->mtu,
				 strerror(-r));
	}
	r = nl_addr_add(nl, l->ifindex, AF_INET, &l->addr, l->prefix, l->broadcast);
	if (r < 0) {
		log_err("%s: address %s/%u: %s", l->ifname,
			inet_ntoa(l->addr), l->prefix, strerror(-r));
		return r;
	}
	r = apply_routes(nl, l);
	if (set_hostname && l->hostname[0] &&
	    sethostname(l->hostname, strlen(l->hostname)) < 0)
		log_warn("sethostname %s: %s", l->hostname, strerror(errno));
	return r;
}

void dhcpc_static_lease(const struct dhcpc_ipconf *ip, const char *ifname,
			int ifindex, struct dhcpc_lease *l)
{
	uint32_t a = ntohl(ip->addr.s_addr);

	memset(l, 0, sizeof(*l));
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	l->ifindex = ifindex;
	l->proto = DHCPC_PROTO_NONE;
	l->addr = ip->addr;
	l->netmask = ip->netmask;
	if (!l->netmask.s_addr) /* classful, as the kernel and klibc guess */
		l->netmask.s_addr = htonl(a < 0x80000000u   ? 0xff000000u
					  : a < 0xc0000000u ? 0xffff0000u
							    : 0xffffff00u);
	l->prefix = dhcp_mask_to_prefix(l->netmask);
	l->broadcast.s_addr = l->addr.s_addr | ~l->netmask.s_addr;
	l->gateway = ip->gateway;
	l->siaddr = ip->server;
	for (int i = 0; i < 2; i++)
		if (ip->dns[i].s_addr)
			l->dns[l->ndns++] = ip->dns[i];
	l->ntp = ip->ntp;
	l->mtu = ip->mtu;
	snprintf(l->hostname, sizeof(l->hostname), "%s", ip->hostname);
	l->lease_time = 0;
	l->bound_ms = now_ms();
}
