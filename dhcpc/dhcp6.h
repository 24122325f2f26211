/* SPDX-License-Identifier: MIT */
/*
 * One DHCPv6 client on one interface (RFC 8415 §18.2): Solicit, the best
 * Advertise, Request, Reply — or Solicit and Reply with Rapid Commit —
 * for one IA_NA, DNS servers and the boot file URL (RFC 5970); on_bound
 * then, and the caller configures the address. Left running, it keeps the
 * lease: Renew at T1, Rebind at T2, on_bound again at each Reply. At the
 * end of the valid lifetime it keeps the address (the root disk is behind
 * it, as the DHCPv4 client does) and solicits again.
 */
#ifndef ISCSIROOT_DHCPC_DHCP6_H
#define ISCSIROOT_DHCPC_DHCP6_H

#include <net/if.h>

#include "dhcpc.h"
#include "msg6.h"
#include "util.h"

enum dhcp6_state {
	DHCP6_STATE_SOLICIT,   /* Solicit sent; collecting Advertises */
	DHCP6_STATE_REQUEST,   /* Request sent to the chosen server */
	DHCP6_STATE_BOUND,     /* a Reply gave the address; socket closed */
	DHCP6_STATE_RENEW,     /* from T1: Renew sent to our server */
	DHCP6_STATE_REBIND,    /* from T2: Rebind sent to any server */
	DHCP6_STATE_STOPPED,
};

struct dhcp6_client_cfg {
	int ifindex;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	int irt_ms;   /* initial retransmission time; RFC 8415: 1000 */
};

struct dhcp6_client {
	struct ev_source src;      /* the socket (or -1) + next deadline */
	struct dhcp6_client_cfg cfg;
	enum dhcp6_state state;
	uint32_t xid;
	uint64_t rng;
	int64_t start_ms;          /* of this transaction (Elapsed Time) */
	int64_t collect_ms;        /* Advertises are collected until then */
	int64_t rt_ms;             /* the current retransmission time */
	int attempt;               /* transmissions of this message */
	int pref;                  /* of the best Advertise; -1: none */
	int refusals;              /* Requests failed in a row */
	uint8_t server_id[DHCP6_MAX_DUID];
	uint8_t server_id_len;
	struct dhcpc_lease lease;  /* once bound: addr6, dns6, rootpath */
	int64_t t1_ms, t2_ms;      /* Renew, Rebind from then; -1: never */
	int64_t expire_ms;         /* the valid lifetime's end; -1: never */
	void (*on_bound)(struct dhcp6_client *c, void *ctx);
	void *ctx;
};

int dhcp6_client_start(struct dhcp6_client *c, struct ev_loop *loop,
		       const struct dhcp6_client_cfg *cfg,
		       void (*on_bound)(struct dhcp6_client *, void *),
		       void *ctx);
void dhcp6_client_stop(struct dhcp6_client *c);
/* One received message; the socket's handler calls it, and so can a test. */
void dhcp6_client_receive(struct dhcp6_client *c, const uint8_t *p, size_t len);

#endif
