/* SPDX-License-Identifier: MIT */
/*
 * The DHCP message (RFC 2131 §2, the BOOTP layout of RFC 951) and the
 * IPv4/UDP framing around it for the packet socket (RFC 791, RFC 768).
 */
#ifndef ISCSIROOT_DHCPC_MSG_H
#define ISCSIROOT_DHCPC_MSG_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_MAGIC_COOKIE 0x63825363u  /* RFC 2131 §3 */
#define DHCP_HEADER_LEN 236            /* op .. file, before the cookie */
#define DHCP_OPTIONS_OFFSET 240        /* after the cookie */
#define DHCP_BOOTP_MIN_LEN 300         /* RFC 1542 §2.1: pad to this */
#define DHCP_MAX_PACKET 1500           /* what we send as option 57 */
#define DHCP_FLAG_BROADCAST 0x8000
#define BOOTREQUEST 1
#define BOOTREPLY 2
#define DHCP_HTYPE_ETHER 1
#define IPV4_HEADER_LEN 20
#define UDP_HEADER_LEN 8
#define DHCP_FRAME_OVERHEAD (IPV4_HEADER_LEN + UDP_HEADER_LEN)

/* Decoded BOOTP header; sname/file stay raw since option 52 may put
 * options in them. */
struct dhcp_msg {
	uint8_t op;
	uint8_t htype;
	uint8_t hlen;
	uint8_t hops;
	uint32_t xid;
	uint16_t secs;
	uint16_t flags;
	struct in_addr ciaddr;
	struct in_addr yiaddr;
	struct in_addr siaddr;
	struct in_addr giaddr;
	uint8_t chaddr[16];
	uint8_t sname[64];
	uint8_t file[128];
	const uint8_t *options;   /* into the decoded buffer */
	size_t options_len;
};

static inline struct in_addr get_in_addr(const uint8_t *p)
{
	struct in_addr a = { .s_addr = htonl(get_be32(p)) };
	return a;
}

static inline void put_in_addr(uint8_t *p, struct in_addr a)
{
	put_be32(p, ntohl(a.s_addr));
}

/* Checks the fixed part and the magic cookie. -EBADMSG when short. */
int dhcp_msg_decode(const uint8_t *p, size_t len, struct dhcp_msg *m);
/* Writes the fixed part and cookie of m (options ignored) into buf;
 * returns DHCP_OPTIONS_OFFSET or -ENOSPC. */
int dhcp_msg_encode(const struct dhcp_msg *m, uint8_t *buf, size_t cap);

/* Wraps payload[len] (already at buf + DHCP_FRAME_OVERHEAD) in IPv4 and
 * UDP headers, from src:68 to dst:67. Returns the frame length. */
size_t dhcp_frame_encode(uint8_t *buf, size_t payload_len, struct in_addr src,
			 struct in_addr dst);
/* Checks an IPv4/UDP frame to port 68 (header, lengths, checksums; the
 * UDP one only with check_udp); sets *payload and *payload_len.
 * -EBADMSG, or -ENOENT when not ours. */
int dhcp_frame_decode(const uint8_t *p, size_t len, bool check_udp,
		      const uint8_t **payload, size_t *payload_len);

#endif
