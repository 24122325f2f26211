/* SPDX-License-Identifier: MIT */
/*
 * One DHCPv4 client on one interface: the RFC 2131 §4.4 state machine,
 * driven by the shared event loop (its packet socket and one deadline).
 */
#ifndef ISCSIROOT_DHCPC_CLIENT_H
#define ISCSIROOT_DHCPC_CLIENT_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "dhcpc.h"
#include "util.h"

enum dhcp_state {
	DHCP_STATE_INIT,        /* §4.4.1: next, broadcast a DISCOVER */
	DHCP_STATE_SELECTING,   /* DISCOVER sent; the first valid OFFER wins */
	DHCP_STATE_REQUESTING,  /* REQUEST for that OFFER sent */
	DHCP_STATE_INIT_REBOOT, /* §4.4.2: an address known; next, REQUEST it */
	DHCP_STATE_REBOOTING,   /* that REQUEST sent */
	DHCP_STATE_BOUND,       /* lease configured; waiting for T1 */
	DHCP_STATE_RENEWING,    /* §4.4.5: REQUEST unicast to the server */
	DHCP_STATE_REBINDING,   /* after T2: REQUEST broadcast */
	DHCP_STATE_STOPPED,
};

struct dhcp_client_cfg {
	int ifindex;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	uint8_t client_id[255];
	uint8_t client_id_len;      /* 0: 0x01 + mac */
	char vendor_class[256];
	char user_class[256];
	char hostname[65];          /* option 12 when set */
	struct in_addr request_addr; /* set: start in INIT-REBOOT */
	bool broadcast_flag;
	int retransmit_ms;          /* first retransmission, doubling */
};

enum dhcp_event {
	DHCP_EV_BOUND,  /* c->lease is new or renewed: apply it */
	DHCP_EV_LOST,   /* NAK or expiry of a bound lease; discovering again */
};

struct dhcp_client {
	struct ev_source src;        /* packet socket (or -1) + next deadline */
	struct dhcp_client_cfg cfg;
	enum dhcp_state state;
	uint32_t xid;
	uint64_t rng;                /* xorshift state for the jitter */
	int64_t start_ms;            /* start of this exchange (secs field) */
	int64_t sent_ms;             /* last REQUEST: lease times count from it */
	int64_t t2_ms, expire_ms;    /* of the bound lease; -1: never */
	int attempt;                 /* transmissions in this state */
	int naks;                    /* NAKs in a row, to slow a NAK loop */
	struct dhcpc_lease offer;    /* the OFFER being requested */
	struct dhcpc_lease lease;    /* the bound lease */
	bool have_lease;
	void (*on_event)(struct dhcp_client *c, enum dhcp_event ev, void *ctx);
	void *ctx;
};

int dhcp_client_start(struct dhcp_client *c, struct ev_loop *loop,
		      const struct dhcp_client_cfg *cfg,
		      void (*on_event)(struct dhcp_client *, enum dhcp_event,
				       void *),
		      void *ctx);
void dhcp_client_stop(struct dhcp_client *c);
const char *dhcp_state_name(enum dhcp_state s);

/* One received IPv4 frame; the packet socket's handler calls it, and so
 * can a test. Anything not a valid reply for us is dropped. */
void dhcp_client_receive(struct dhcp_client *c, const uint8_t *frame,
			 size_t len, bool check_udp);

#endif
