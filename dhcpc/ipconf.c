/* SPDX-License-Identifier: MIT */
/*
 * ip= in the kernel's nfsroot syntax
 *   <client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>:
 *   <dns0>:<dns1>:<ntp0>
 * and dracut's forms (<iface>:dhcp[:mtu[:mac]], ...:<iface>:none[:mtu[:mac]]),
 * plus BOOTIF= as PXELINUX and iPXE write it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dhcpc.h"

#define IP_FIELDS 10

/* Six hex pairs separated by sep (':' or '-'), nothing else. */
static int parse_mac(const char *s, char sep, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit_value(s[0]), lo = hi < 0 ? -1 : hex_digit_value(s[1]);
		if (lo < 0)
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5 && *s++ != sep)
			return -EINVAL;
	}
	return *s ? -EINVAL : 0;
}

int dhcpc_bootif_parse(const char *s, uint8_t mac[6])
{
	/* "01-" is the ARP hardware type (Ethernet) PXELINUX puts first. */
	if (strlen(s) == 20) {
		if (strncmp(s, "01-", 3) != 0)
			return -EINVAL;
		s += 3;
	}
	if (parse_mac(s, '-', mac) == 0)
		return 0;
	return parse_mac(s, ':', mac);
}

int dhcpc_ifname_parse(const char *s, char name[IFNAMSIZ], uint8_t mac[6])
{
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : 0;

	if (len == 0 || len >= IFNAMSIZ || parse_mac(colon + 1, ':', mac) < 0)
		return -EINVAL;
	memcpy(name, s, len);
	name[len] = '\0';
	return 0;
}

enum autoconf { AC_EMPTY, AC_DHCP, AC_STATIC, AC_OFF, AC_DHCP6, AC_AUTO6 };

static enum autoconf parse_autoconf(const char *s, int *err)
{
	static const char *const dhcp[] = { "dhcp", "on", "any", "bootp",
					    "both", "single-dhcp" };
	/* either6 and link6 (and dracut's ibft, read from the iBFT
	 * itself) are not methods here */
	static const char *const unsupported[] = { "either6", "link6", "ibft" };

	*err = 0;
	if (!*s)
		return AC_EMPTY;
	for (size_t i = 0; i < ARRAY_SIZE(dhcp); i++)
		if (!strcmp(s, dhcp[i]))
			return AC_DHCP;
	if (!strcmp(s, "dhcp6"))
		return AC_DHCP6;
	if (!strcmp(s, "auto6"))
		return AC_AUTO6;
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (!strcmp(s, unsupported[i])) {
			*err = -EOPNOTSUPP;
			return AC_OFF;
		}
	if (!strcmp(s, "none") || !strcmp(s, "off") || !strcmp(s, "static"))
		return AC_STATIC;
	*err = -EINVAL;
	return AC_OFF;
}

static int parse_addr(const char *s, struct in_addr *a)
{
	if (!*s)
		return 0;
	return inet_pton(AF_INET, s, a) == 1 ? 0 : -EINVAL;
}

static int copy_str(char *dst, size_t cap, const char *s)
{
	size_t len = strlen(s);

	if (len >= cap)
		return -EINVAL;
	memcpy(dst, s, len + 1);
	return 0;
}

/* dracut's tail after <autoconf>: [<mtu>][:<macaddr>], where the MAC
 * itself holds colons. */
static int parse_dracut_tail(const char *s, struct dhcpc_ipconf *ip)
{
	char mtu[8];
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	uint64_t v;

	if (len >= sizeof(mtu))
		return -EINVAL;
	memcpy(mtu, s, len);
	mtu[len] = '\0';
	if (len) {
		if (parse_u64(mtu, 68, 65535, &v) < 0)
			return -EINVAL;
		ip->mtu = (uint16_t)v;
	}
	if (colon && colon[1]) {
		if (parse_mac(colon + 1, ':', ip->mac) < 0)
			return -EINVAL;
		ip->have_mac = true;
	}
	return 0;
}

/* The kernel's tail after <autoconf>: <dns0>:<dns1>:<ntp0>. */
static int parse_kernel_tail(char **f, int n, struct dhcpc_ipconf *ip)
{
	if ((n > 7 && parse_addr(f[7], &ip->dns[0]) < 0) ||
	    (n > 8 && parse_addr(f[8], &ip->dns[1]) < 0) ||
	    (n > 9 && parse_addr(f[9], &ip->ntp) < 0))
		return -EINVAL;
	return 0;
}

/* Whether the ':' at p separates fields: one inside dracut's [v6]
 * brackets does not. */
static bool separates(const char *s, const char *p)
{
	int depth = 0;

	for (; s < p; s++)
		depth += *s == '[' ? 1 : *s == ']' ? -1 : 0;
	return *p == ':' && depth <= 0;
}

/* Cuts s at ':' into at most IP_FIELDS fields; the last keeps the rest. */
static int split(char *s, char **f)
{
	int n = 0;

	f[n++] = s;
	for (char *p = s; *p && n < IP_FIELDS; p++) {
		if (separates(s, p)) {
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return n;
}

/* The two tails differ: dracut's is an MTU and a MAC, the kernel's
 * dotted addresses; whichever parses is the one meant. */
static int parse_tail(const char *rest, char **f, int n,
		      struct dhcpc_ipconf *ip)
{
	if (n <= 7)
		return 0;
	if (parse_dracut_tail(rest, ip) == 0)
		return 0;
	ip->mtu = 0;
	ip->have_mac = false;
	return parse_kernel_tail(f, n, ip);
}

static int apply_mode(enum autoconf ac, struct dhcpc_ipconf *ip)
{
	bool have_addr = ip->addr.s_addr != 0;

	if (ac == AC_DHCP || (ac == AC_EMPTY && !have_addr)) {
		ip->mode = DHCPC_IP_DHCP;
		return 0;
	}
	if (!have_addr)
		return -EINVAL; /* static without an address */
	ip->mode = DHCPC_IP_STATIC;
	return 0;
}

/* "[v6addr]" or empty (left as ::). */
static int parse_addr6(const char *s, struct in6_addr *a)
{
	char buf[INET6_ADDRSTRLEN];
	size_t len = strlen(s);

	if (!len)
		return 0;
	if (len < 3 || len - 2 >= sizeof(buf) || s[0] != '[' || s[len - 1] != ']')
		return -EINVAL;
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	return inet_pton(AF_INET6, buf, a) == 1 ? 0 : -EINVAL;
}

/* dracut's [<v6addr>]:[<peer>]:[<gw>]:<prefix>:<hostname>:<iface>:none
 * [:<mtu>[:<macaddr>]]: the netmask field is a prefix length (64 when
 * left out); the peer is read and not used. */
static int parse_v6(char **f, int n, enum autoconf ac, const char *rest,
		    struct dhcpc_ipconf *ip)
{
	struct in6_addr peer;
	uint64_t prefix = 64;

	if (parse_addr6(f[0], &ip->addr6) < 0 ||
	    (n > 1 && parse_addr6(f[1], &peer) < 0) ||
	    (n > 2 && parse_addr6(f[2], &ip->gateway6) < 0) ||
	    (n > 3 && f[3][0] && parse_u64(f[3], 1, 128, &prefix) < 0) ||
	    (n > 4 && copy_str(ip->hostname, sizeof(ip->hostname), f[4]) < 0) ||
	    (n > 5 && copy_str(ip->device, sizeof(ip->device), f[5]) < 0) ||
	    (n > 7 && parse_dracut_tail(rest, ip) < 0))
		return -EINVAL;
	ip->prefix6 = (uint8_t)prefix;
	if (ac == AC_DHCP6 || ac == AC_AUTO6) {
		ip->mode = ac == AC_DHCP6 ? DHCPC_IP_DHCP6 : DHCPC_IP_AUTO6;
		return 0;
	}
	/* DHCPv4 with a v6 address, or static without one */
	if (ac == AC_DHCP || IN6_IS_ADDR_UNSPECIFIED(&ip->addr6))
		return -EINVAL;
	ip->mode = DHCPC_IP_STATIC6;
	return 0;
}

static int parse_long(char *s, struct dhcpc_ipconf *ip)
{
	char *f[IP_FIELDS], rest[128] = "";
	enum autoconf ac = AC_EMPTY;
	int n, err = 0;

	/* Keep the text after the 7th ':' whole: a MAC holds colons. */
	for (int i = 0, colons = 0; s[i]; i++)
		if (separates(s, s + i) && ++colons == 7) {
			if (copy_str(rest, sizeof(rest), s + i + 1) < 0)
				return -EINVAL;
			break;
		}
	n = split(s, f);
	if (n > 6)
		ac = parse_autoconf(f[6], &err);
	if (err < 0)
		return err;
	if (f[0][0] == '[' || ac == AC_DHCP6 || ac == AC_AUTO6)
		return parse_v6(f, n, ac, rest, ip);
	if (parse_addr(f[0], &ip->addr) < 0 ||
	    (n > 1 && parse_addr(f[1], &ip->server) < 0) ||
	    (n > 2 && parse_addr(f[2], &ip->gateway) < 0) ||
	    (n > 3 && parse_addr(f[3], &ip->netmask) < 0) ||
	    (n > 4 && copy_str(ip->hostname, sizeof(ip->hostname), f[4]) < 0) ||
	    (n > 5 && copy_str(ip->device, sizeof(ip->device), f[5]) < 0))
		return -EINVAL;
	if (parse_tail(rest, f, n, ip) < 0)
		return -EINVAL;
	return apply_mode(ac, ip);
}

static enum dhcpc_ip_mode mode_of(enum autoconf ac)
{
	return ac == AC_DHCP6 ? DHCPC_IP_DHCP6
	       : ac == AC_AUTO6 ? DHCPC_IP_AUTO6 : DHCPC_IP_DHCP;
}

/* dracut's <iface>:<autoconf>[:[<mtu>][:<macaddr>]]: the first field is
 * a name, not an address, and the second a method. */
static int parse_iface_form(const char *s, struct dhcpc_ipconf *ip,
			    bool *matched)
{
	char name[IFNAMSIZ], method[16];
	const char *c1 = strchr(s, ':'), *c2;
	struct in_addr a;
	enum autoconf ac;
	int err;

	*matched = false;
	if (!c1 || (size_t)(c1 - s) >= sizeof(name) || c1 == s)
		return 0;
	memcpy(name, s, (size_t)(c1 - s));
	name[c1 - s] = '\0';
	if (inet_pton(AF_INET, name, &a) == 1 || name[0] == '[')
		return 0;
	c2 = strchr(c1 + 1, ':');
	if ((size_t)((c2 ? c2 : c1 + 1 + strlen(c1 + 1)) - (c1 + 1)) >=
	    sizeof(method))
		return 0;
	snprintf(method, sizeof(method), "%.*s",
		 (int)((c2 ? c2 : c1 + 1 + strlen(c1 + 1)) - (c1 + 1)), c1 + 1);
	ac = parse_autoconf(method, &err);
	if (ac == AC_EMPTY || (err < 0 && err != -EOPNOTSUPP))
		return 0;
	*matched = true;
	if (err < 0)
		return err;
	if (ac == AC_STATIC || ac == AC_OFF)
		return -EINVAL; /* a static form needs an address */
	memcpy(ip->device, name, sizeof(name));
	ip->mode = mode_of(ac);
	return c2 ? parse_dracut_tail(c2 + 1, ip) : 0;
}

static int parse_ip(const char *s, struct dhcpc_ipconf *ip)
{
	char buf[256];
	bool matched;
	int err, r;

	if (!strchr(s, ':')) {
		enum autoconf ac = parse_autoconf(s, &err);
		if (err < 0)
			return err;
		ip->mode = ac == AC_STATIC ? DHCPC_IP_OFF : mode_of(ac);
		return 0;
	}
	r = parse_iface_form(s, ip, &matched);
	if (matched)
		return r;
	if (copy_str(buf, sizeof(buf), s) < 0)
		return -EINVAL;
	return parse_long(buf, ip);
}

int dhcpc_ip_parse(const char *s, struct dhcpc_ipconf *ip)
{
	int r;

	memset(ip, 0, sizeof(*ip));
	if (!strncmp(s, "ip=", 3))
		s += 3;
	r = parse_ip(s, ip);
	if (r < 0)
		memset(ip, 0, sizeof(*ip));
	return r;
}
