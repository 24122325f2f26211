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

enum autoconf { AC_EMPTY, AC_DHCP, AC_STATIC, AC_OFF, AC_V6 };

static enum autoconf parse_autoconf(const char *s, int *err)
{
	static const char *const dhcp[] = { "dhcp", "on", "any", "bootp",
					    "both", "single-dhcp" };
	static const char *const v6[] = { "dhcp6", "auto6", "either6",
					  "link6", "ibft" };

	*err = 0;
	if (!*s)
		return AC_EMPTY;
	for (size_t i = 0; i < ARRAY_SIZE(dhcp); i++)
		if (!strcmp(s, dhcp[i]))
			return AC_DHCP;
	for (size_t i = 0; i < ARRAY_SIZE(v6); i++)
		if (!strcmp(s, v6[i])) {
			*err = -EOPNOTSUPP;
			return AC_V6;
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

/* Cuts s at ':' into at most IP_FIELDS fields; the last keeps the rest. */
static int split(char *s, char **f)
{
	int n = 0;

	f[n++] = s;
	for (char *p = s; *p && n < IP_FIELDS; p++) {
		if (*p == ':') {
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

static int parse_long(char *s, struct dhcpc_ipconf *ip)
{
	char *f[IP_FIELDS], rest[128] = "";
	enum autoconf ac = AC_EMPTY;
	int n, err = 0;

	/* Keep the text after the 7th ':' whole: a MAC holds colons. */
	for (int i = 0, colons = 0; s[i]; i++)
		if (s[i] == ':' && ++colons == 7) {
			if (copy_str(rest, sizeof(rest), s + i + 1) < 0)
				return -EINVAL;
			break;
		}
	n = split(s, f);
	if (f[0][0] == '[')
		return -EOPNOTSUPP;
	if (parse_addr(f[0], &ip->addr) < 0 ||
	    (n > 1 && parse_addr(f[1], &ip->server) < 0) ||
	    (n > 2 && parse_addr(f[2], &ip->gateway) < 0) ||
	    (n > 3 && parse_addr(f[3], &ip->netmask) < 0) ||
	    (n > 4 && copy_str(ip->hostname, sizeof(ip->hostname), f[4]) < 0) ||
	    (n > 5 && copy_str(ip->device, sizeof(ip->device), f[5]) < 0))
		return -EINVAL;
	if (n > 6)
		ac = parse_autoconf(f[6], &err);
	if (err < 0)
		return err;
	if (parse_tail(rest, f, n, ip) < 0)
		return -EINVAL;
	return apply_mode(ac, ip);
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
	if (ac != AC_DHCP)
		return -EINVAL; /* a static form needs an address */
	memcpy(ip->device, name, sizeof(name));
	ip->mode = DHCPC_IP_DHCP;
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
		ip->mode = ac == AC_STATIC ? DHCPC_IP_OFF : DHCPC_IP_DHCP;
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
