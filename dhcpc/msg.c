/* SPDX-License-Identifier: MIT */
/*
 * Encoding and decoding of the DHCP fixed header (RFC 2131 §2) and of the
 * IPv4 + UDP headers that carry it over the packet socket. The only file
 * that indexes a DHCP packet by byte offset.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "msg.h"

/* Offsets in the DHCP fixed header, RFC 2131 figure 1. */
enum {
	OFF_OP = 0, OFF_HTYPE = 1, OFF_HLEN = 2, OFF_HOPS = 3, OFF_XID = 4,
	OFF_SECS = 8, OFF_FLAGS = 10, OFF_CIADDR = 12, OFF_YIADDR = 16,
	OFF_SIADDR = 20, OFF_GIADDR = 24, OFF_CHADDR = 28, OFF_SNAME = 44,
	OFF_FILE = 108, OFF_COOKIE = 236,
};

/* Offsets in the IPv4 header (RFC 791 §3.1) and UDP header (RFC 768). */
enum {
	IPH_VER_IHL = 0, IPH_TOTLEN = 2, IPH_ID = 4, IPH_FRAG = 6, IPH_TTL = 8,
	IPH_PROTO = 9, IPH_CSUM = 10, IPH_SRC = 12, IPH_DST = 16,
	UDP_SPORT = 0, UDP_DPORT = 2, UDP_LEN = 4, UDP_CSUM = 6,
};

_Static_assert(OFF_COOKIE == DHCP_HEADER_LEN, "BOOTP header is 236 bytes");
_Static_assert(OFF_FILE + 128 == OFF_COOKIE, "file ends at the cookie");

int dhcp_msg_decode(const uint8_t *p, size_t len, struct dhcp_msg *m)
{
	if (len < DHCP_OPTIONS_OFFSET)
		return -EBADMSG;
	if (get_be32(p + OFF_COOKIE) != DHCP_MAGIC_COOKIE)
		return -EBADMSG;
	m->op = p[OFF_OP];
	m->htype = p[OFF_HTYPE];
	m->hlen = p[OFF_HLEN];
	m->hops = p[OFF_HOPS];
	m->xid = get_be32(p + OFF_XID);
	m->secs = get_be16(p + OFF_SECS);
	m->flags = get_be16(p + OFF_FLAGS);
	m->ciaddr = get_in_addr(p + OFF_CIADDR);
	m->yiaddr = get_in_addr(p + OFF_YIADDR);
	m->siaddr = get_in_addr(p + OFF_SIADDR);
	m->giaddr = get_in_addr(p + OFF_GIADDR);
	memcpy(m->chaddr, p + OFF_CHADDR, sizeof(m->chaddr));
	memcpy(m->sname, p + OFF_SNAME, sizeof(m->sname));
	memcpy(m->file, p + OFF_FILE, sizeof(m->file));
	m->options = p + DHCP_OPTIONS_OFFSET;
	m->options_len = len - DHCP_OPTIONS_OFFSET;
	return 0;
}

int dhcp_msg_encode(const struct dhcp_msg *m, uint8_t *buf, size_t cap)
{
	if (cap < DHCP_OPTIONS_OFFSET)
		return -ENOSPC;
	memset(buf, 0, DHCP_OPTIONS_OFFSET);
	buf[OFF_OP] = m->op;
	buf[OFF_HTYPE] = m->htype;
	buf[OFF_HLEN] = m->hlen;
	buf[OFF_HOPS] = m->hops;
	put_be32(buf + OFF_XID, m->xid);
	put_be16(buf + OFF_SECS, m->secs);
	put_be16(buf + OFF_FLAGS, m->flags);
	put_in_addr(buf + OFF_CIADDR, m->ciaddr);
	put_in_addr(buf + OFF_YIADDR, m->yiaddr);
	put_in_addr(buf + OFF_SIADDR, m->siaddr);
	put_in_addr(buf + OFF_GIADDR, m->giaddr);
	memcpy(buf + OFF_CHADDR, m->chaddr, sizeof(m->chaddr));
	memcpy(buf + OFF_SNAME, m->sname, sizeof(m->sname));
	memcpy(buf + OFF_FILE, m->file, sizeof(m->file));
	put_be32(buf + OFF_COOKIE, DHCP_MAGIC_COOKIE);
	return DHCP_OPTIONS_OFFSET;
}

/* The Internet checksum (RFC 1071) over len bytes, folded, starting at sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get_be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP checksum covers a pseudo-header of addresses, protocol and
 * length (RFC 768). */
static uint16_t udp_checksum(const uint8_t *ip, const uint8_t *udp,
			     size_t udp_len)
{
	uint32_t sum = csum_add(0, ip + IPH_SRC, 8);

	sum += IPPROTO_UDP + (uint32_t)udp_len;
	return csum_fold(csum_add(sum, udp, udp_len));
}

size_t dhcp_frame_encode(uint8_t *buf, size_t payload_len, struct in_addr src,
			 struct in_addr dst)
{
	uint8_t *ip = buf, *udp = buf + IPV4_HEADER_LEN;
	size_t udp_len = UDP_HEADER_LEN + payload_len;
	uint16_t csum;

	memset(buf, 0, DHCP_FRAME_OVERHEAD);
	ip[IPH_VER_IHL] = 0x45;
	put_be16(ip + IPH_TOTLEN, (uint16_t)(IPV4_HEADER_LEN + udp_len));
	ip[IPH_TTL] = 64;
	ip[IPH_PROTO] = IPPROTO_UDP;
	put_in_addr(ip + IPH_SRC, src);
	put_in_addr(ip + IPH_DST, dst);
	put_be16(ip + IPH_CSUM, csum_fold(csum_add(0, ip, IPV4_HEADER_LEN)));
	put_be16(udp + UDP_SPORT, DHCP_CLIENT_PORT);
	put_be16(udp + UDP_DPORT, DHCP_SERVER_PORT);
	put_be16(udp + UDP_LEN, (uint16_t)udp_len);
	csum = udp_checksum(ip, udp, udp_len);
	put_be16(udp + UDP_CSUM, csum ? csum : 0xffff);
	return IPV4_HEADER_LEN + udp_len;
}

/* The header checks, cheapest first; then the checksums. */
static int check_ipv4(const uint8_t *p, size_t len, size_t *ihl,
		      size_t *total)
{
	if (len < IPV4_HEADER_LEN || p[IPH_VER_IHL] >> 4 != 4)
		return -EBADMSG;
	*ihl = (size_t)(p[IPH_VER_IHL] & 0x0f) * 4;
	*total = get_be16(p + IPH_TOTLEN);
	if (*ihl < IPV4_HEADER_LEN || *total < *ihl + UDP_HEADER_LEN ||
	    *total > len)
		return -EBADMSG;
	if (p[IPH_PROTO] != IPPROTO_UDP)
		return -ENOENT;
	/* a fragment (MF set or an offset) is not a whole DHCP message */
	if (get_be16(p + IPH_FRAG) & 0x3fff)
		return -ENOENT;
	if (csum_fold(csum_add(0, p, *ihl)) != 0)
		return -EBADMSG;
	return 0;
}

int dhcp_frame_decode(const uint8_t *p, size_t len, bool check_udp,
		      const uint8_t **payload, size_t *payload_len)
{
	size_t ihl, total, udp_len;
	const uint8_t *udp;
	int r = check_ipv4(p, len, &ihl, &total);

	if (r < 0)
		return r;
	udp = p + ihl;
	if (get_be16(udp + UDP_DPORT) != DHCP_CLIENT_PORT)
		return -ENOENT;
	udp_len = get_be16(udp + UDP_LEN);
	if (udp_len < UDP_HEADER_LEN || udp_len > total - ihl)
		return -EBADMSG;
	/* a zero UDP checksum means "not computed" (RFC 768) */
	if (check_udp && get_be16(udp + UDP_CSUM) != 0 &&
	    udp_checksum(p, udp, udp_len) != 0)
		return -EBADMSG;
	*payload = udp + UDP_HEADER_LEN;
	*payload_len = udp_len - UDP_HEADER_LEN;
	return 0;
}
