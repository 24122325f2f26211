/* SPDX-License-Identifier: MIT */
/*
 * A minimal rtnetlink client (RFC 3549, linux/rtnetlink.h): list links,
 * bring them up, set MTU, name, addresses and routes; create VLAN links. Requests are
 * synchronous; the kernel answers each with an ACK right away.
 */
#ifndef ISCSIROOT_DHCPC_NL_H
#define ISCSIROOT_DHCPC_NL_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* RFC 2863 "lower layer up": glibc's net/if.h lacks it, musl's has it */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

struct nl_sock {
	int fd;
	uint32_t seq;
};

struct nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned short type;  /* ARPHRD_* */
	unsigned flags;       /* IFF_* */
	bool carrier;         /* IFLA_CARRIER, else IFF_LOWER_UP */
	uint32_t mtu;
	uint8_t mac[6];
	bool have_mac;
	bool is_vlan;         /* IFLA_INFO_KIND "vlan" */
};

int nl_open(struct nl_sock *nl);
void nl_close(struct nl_sock *nl);
/* A non-blocking socket that hears of every link change (RTMGRP_LINK),
 * and of IPv6 addresses and routes:
 * its fd, or a negative errno. */
int nl_open_link_events(void);
/* Reads what came on it without looking inside (the caller asks about
 * the links again, through requests whose answers are checked); true
 * when anything came or was lost. */
bool nl_drain_events(int fd);

/* Fills up to max links; returns how many, or a negative errno. */
int nl_link_list(struct nl_sock *nl, struct nl_link *links, int max);
int nl_link_get(struct nl_sock *nl, int ifindex, struct nl_link *link);
int nl_link_set_up(struct nl_sock *nl, int ifindex);
int nl_link_set_mtu(struct nl_sock *nl, int ifindex, uint32_t mtu);
int nl_link_set_name(struct nl_sock *nl, int ifindex, const char *name);
int nl_link_set_mac(struct nl_sock *nl, int ifindex, const uint8_t mac[6]);
int nl_link_get_by_name(struct nl_sock *nl, const char *name, struct nl_link *link);
/* Creates the 802.1Q link name over parent (down); -EEXIST if the name is
 * taken. */
int nl_link_add_vlan(struct nl_sock *nl, int parent, const char *name,
		     uint16_t vid);

/* Adds (or refreshes) a permanent address; never deletes one. */
int nl_addr_add(struct nl_sock *nl, int ifindex, int family, const void *addr,
		uint8_t prefix, struct in_addr broadcast);

/* Adds or replaces a route in the main table; gateway 0 means on-link.
 * onlink marks a gateway outside every subnet as reachable anyway. The
 * kernel replaces the route of the same destination and metric, whatever
 * its interface: interfaces that each keep their own give each its own
 * metric. */
struct nl_route {
	int ifindex;
	struct in_addr dst;
	uint8_t prefix;
	struct in_addr gateway;
	struct in_addr prefsrc;
	bool onlink;
	uint32_t metric;        /* RTA_PRIORITY; 0: none */
	const struct in6_addr *gateway6; /* set: an IPv6 default route via
	                                  * it (the v4 fields stay 0) */
};
int nl_route_add(struct nl_sock *nl, const struct nl_route *rt);

/* IPv6: what the kernel has on ifindex now. */
struct nl_v6 {
	struct in6_addr want;    /* in: the global address to wait for; ::
	                          * for any (SLAAC) */
	bool ll_ready;           /* a link-local address past DAD */
	bool have_global;        /* want (or any global) past DAD */
	bool dad_failed;         /* want (or a global) failed DAD */
	struct in6_addr global;
	uint8_t prefix;
	bool have_gateway;       /* a default route out of ifindex */
	struct in6_addr gateway;
};
int nl_v6_state(struct nl_sock *nl, int ifindex, struct nl_v6 *st);

/* Walks the attributes of one message body; exposed for the fuzzer and
 * the unit test. fn gets each (type, payload, len); stops on error. */
int nl_attr_walk(const uint8_t *p, size_t len,
		 int (*fn)(uint16_t type, const uint8_t *v, size_t len,
			   void *ctx),
		 void *ctx);

#endif
