/* SPDX-License-Identifier: MIT */
/*
 * IPv6 bring-up (see v6.h). SLAAC and the routes are the kernel's own
 * (RFC 4861/4862): we turn them on and watch through rtnetlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "v6.h"

void dhcpc_v6_enable(const char *ifname)
{
	static const char *const settings[][2] = {
		{ "disable_ipv6", "0" }, { "accept_ra", "2" }, { "autoconf", "1" },
	};
	char path[96];

	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s",
			 ifname, settings[i][0]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, settings[i][1], 1) != 1)
			log_warn("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}

/* The first Reply, or a renewal's (the prefix and route found after the
 * first stay): the address (again: that refreshes it), then the wait. */
static void on_bound(struct dhcp6_client *c, void *ctx)
{
	struct dhcpc_v6 *v = ctx;
	struct dhcpc_lease *l = &v->lease;
	struct in6_addr gateway = l->gateway6;
	uint8_t prefix = l->prefix6;
	int r;

	*l = c->lease;
	if (v->phase == V6_DONE) {
		l->gateway6 = gateway;
		l->prefix6 = prefix;
		v->renewed = true;
	} else {
		v->phase = V6_READY_WAIT;
	}
	r = nl_addr_add(v->nl, l->ifindex, AF_INET6, &l->addr6, l->prefix6,
			(struct in_addr){ 0 });
	if (r < 0)
		log_err("%s: adding the DHCPv6 address: %s", l->ifname,
			strerror(-r));
	v->wake(v->ctx);
}

static int start_static(struct dhcpc_v6 *v, const struct dhcpc_ipconf *ip)
{
	int r;

	v->lease.addr6 = ip->addr6;
	v->lease.prefix6 = ip->prefix6;
	v->lease.gateway6 = ip->gateway6;
	memcpy(v->lease.hostname, ip->hostname, sizeof(ip->hostname));
	r = nl_addr_add(v->nl, v->lease.ifindex, AF_INET6, &ip->addr6,
			ip->prefix6, (struct in_addr){ 0 });
	if (r == 0 && !IN6_IS_ADDR_UNSPECIFIED(&ip->gateway6))
		r = nl_route_add(v->nl, &(struct nl_route){
			.ifindex = v->lease.ifindex, .gateway6 = &ip->gateway6 });
	if (r < 0)
		log_err("%s: static IPv6: %s", v->lease.ifname, strerror(-r));
	return r;
}

int dhcpc_v6_start(struct dhcpc_v6 *v, const struct dhcpc_ipconf *ip,
		   const struct nl_link *link)
{
	struct dhcpc_lease *l = &v->lease;

	memset(l, 0, sizeof(*l));
	l->v6 = true;
	memcpy(l->ifname, link->name, sizeof(l->ifname));
	memcpy(l->mac, link->mac, 6);
	l->ifindex = link->ifindex;
	v->phase = V6_READY_WAIT;
	if (ip->mode == DHCPC_IP_STATIC6)
		return start_static(v, ip);
	l->proto = DHCPC_PROTO_AUTO6;
	if (ip->mode == DHCPC_IP_DHCP6)
		v->phase = V6_LINK_LOCAL;
	return 0;
}

static int start_client(struct dhcpc_v6 *v)
{
	struct dhcp6_client_cfg cc = { .ifindex = v->lease.ifindex,
				       .irt_ms = 1000 };
	int r;

	memcpy(cc.ifname, v->lease.ifname, sizeof(cc.ifname));
	memcpy(cc.mac, v->lease.mac, 6);
	r = dhcp6_client_start(&v->client, v->loop, &cc, on_bound, v);
	v->client_on = r == 0;
	v->phase = V6_DHCP;
	return r;
}

int dhcpc_v6_poll(struct dhcpc_v6 *v)
{
	struct nl_v6 st = { .want = v->lease.addr6 };
	int r;

	if (v->phase == V6_DHCP || v->phase == V6_DONE)
		return 0;
	r = nl_v6_state(v->nl, v->lease.ifindex, &st);
	if (r < 0)
		return r;
	if (v->phase == V6_LINK_LOCAL)
		return st.ll_ready ? start_client(v) : 0;
	if (st.dad_failed) {
		log_err("%s: the IPv6 address failed duplicate address detection",
			v->lease.ifname);
		return -EADDRINUSE;
	}
	/* a static address without a gateway needs no route */
	if (!st.have_global ||
	    (!st.have_gateway && v->lease.proto != DHCPC_PROTO_NONE))
		return 0;
	v->lease.addr6 = st.global;
	v->lease.prefix6 = st.prefix;
	if (st.have_gateway)
		v->lease.gateway6 = st.gateway;
	v->lease.bound_ms = now_ms();
	v->phase = V6_DONE;
	return 1;
}

void dhcpc_v6_stop(struct dhcpc_v6 *v)
{
	if (v->client_on)
		dhcp6_client_stop(&v->client);
	v->client_on = false;
}
