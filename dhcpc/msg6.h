/* SPDX-License-Identifier: MIT */
/*
 * DHCPv6 messages (RFC 8415 §8, §21): the only code that reads or writes
 * one. Every length from the network is checked before it is used.
 */
#ifndef ISCSIROOT_DHCPC_MSG6_H
#define ISCSIROOT_DHCPC_MSG6_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP6_CLIENT_PORT 546
#define DHCP6_SERVER_PORT 547
#define DHCP6_MAX_PACKET 1500
#define DHCP6_MAX_DUID 130      /* RFC 8415 §11.1: at most 128 + type */
#define DHCP6_MAX_DNS 3

enum dhcp6_type {
	DHCP6_SOLICIT = 1,
	DHCP6_ADVERTISE = 2,
	DHCP6_REQUEST = 3,
	DHCP6_RENEW = 5,
	DHCP6_REBIND = 6,
	DHCP6_REPLY = 7,
};

#define DHCP6_INFINITY 0xffffffffu   /* a lifetime or T1/T2 (§7.7) */

/* What a received message says, for the IA_NA whose IAID we sent. Plain
 * data: nothing points into the packet. */
struct dhcp6_msg {
	uint8_t type;
	uint32_t xid;                      /* 24 bits */
	uint8_t client_id[DHCP6_MAX_DUID];
	uint8_t client_id_len;
	uint8_t server_id[DHCP6_MAX_DUID];
	uint8_t server_id_len;
	uint8_t preference;                /* option 7; 0 when absent */
	bool rapid_commit;                 /* option 14 */
	uint16_t status;                   /* option 13, top level or in our
	                                    * IA_NA (the first that is not 0) */
	bool have_addr;                    /* an IAADDR in our IA_NA with a
	                                    * valid lifetime */
	struct in6_addr addr;
	uint32_t preferred, valid;         /* its lifetimes, seconds */
	uint32_t t1, t2;                   /* our IA_NA's; 0: the client's
	                                    * choice (§21.4) */
	struct in6_addr dns[DHCP6_MAX_DNS]; /* option 23 */
	int ndns;
	char domainsearch[512];            /* option 24, space-separated */
	char bootfile_url[256];            /* option 59 (RFC 5970); text
	                                    * without control bytes, else "" */
};

/* 0, or -EBADMSG for a message shorter than its header or an option
 * longer than what is left. Options with a wrong length are skipped. */
int dhcp6_msg_parse(const uint8_t *p, size_t len, uint32_t iaid,
		    struct dhcp6_msg *m);

/* What the client sends (Solicit, Request, Renew, Rebind): a server id
 * in a Request and a Renew, the address held in a Renew and a Rebind.
 * Returns the length. buf needs DHCP6_MAX_PACKET bytes. */
struct dhcp6_out {
	enum dhcp6_type type;
	uint32_t xid;
	const uint8_t *mac;                /* DUID-LL (RFC 8415 §11.4) */
	uint32_t iaid;
	uint16_t elapsed_cs;               /* hundredths of a second */
	const uint8_t *server_id;
	size_t server_id_len;
	const struct in6_addr *addr;       /* NULL: an IA_NA without one */
};
size_t dhcp6_msg_build(uint8_t *buf, const struct dhcp6_out *o);

#endif
