/* SPDX-License-Identifier: MIT */
/*
 * The files the rest of the boot reads: klibc ipconfig's run/net-IF.conf
 * (initramfs-tools and open-iscsi's scripts source it), run/initramfs/
 * open-iscsi.interface (ifupdown, netplan and systemd leave that interface
 * alone) and etc/resolv.conf; and the hand-over to the booted system's
 * network manager, so that neither systemd-networkd nor NetworkManager
 * takes the root disk's link down: a .network file, and NetworkManager's
 * initrd hand-over (a connection, the device's state, a device section).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "dhcpc.h"

/* klibc's quoting: inside '…', a ' or ! becomes '\'' or '\!'. */
static void write_option(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s='", key);
	for (; *value; value++) {
		if (*value == '\'' || *value == '!')
			fprintf(f, "'\\%c'", *value);
		else
			fputc(*value, f);
	}
	fputs("'\n", f);
}

static void write_addr(FILE *f, const char *key, struct in_addr a)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	write_option(f, key, buf);
}

static void write_uint(FILE *f, const char *key, unsigned long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lu", v);
	write_option(f, key, buf);
}

/* klibc writes IPV4ROUTE<n>SUBNET/GATEWAY instead of IPV4GATEWAY when
 * option 121 came; we write both, so readers of either find theirs. */
static void write_routes(FILE *f, const struct dhcpc_lease *l)
{
	for (int i = 0; i < l->nroutes; i++) {
		char key[32], dst[INET_ADDRSTRLEN], value[40];
		inet_ntop(AF_INET, &l->routes[i].dst, dst, sizeof(dst));
		snprintf(value, sizeof(value), "%s/%u", dst,
			 l->routes[i].prefix);
		snprintf(key, sizeof(key), "IPV4ROUTE%dSUBNET", i);
		write_option(f, key, value);
		snprintf(key, sizeof(key), "IPV4ROUTE%dGATEWAY", i);
		write_addr(f, key, l->routes[i].gateway);
	}
}

void dhcpc_format_netconf(FILE *f, const struct dhcpc_lease *l)
{
	struct sysinfo si;
	struct in_addr none = { 0 };

	write_option(f, "DEVICE", l->ifname);
	write_option(f, "PROTO", l->proto == DHCPC_PROTO_DHCP ? "dhcp" : "none");
	write_addr(f, "IPV4ADDR", l->addr);
	write_addr(f, "IPV4BROADCAST", l->broadcast);
	write_addr(f, "IPV4NETMASK", l->netmask);
	write_addr(f, "IPV4GATEWAY", l->gateway);
	write_routes(f, l);
	write_addr(f, "IPV4DNS0", l->ndns > 0 ? l->dns[0] : none);
	write_addr(f, "IPV4DNS1", l->ndns > 1 ? l->dns[1] : none);
	write_option(f, "HOSTNAME", l->hostname);
	write_option(f, "DNSDOMAIN", l->domain);
	write_option(f, "NISDOMAIN", l->nisdomain);
	write_addr(f, "ROOTSERVER", l->siaddr);
	write_option(f, "ROOTPATH", l->rootpath);
	write_option(f, "filename", l->filename);
	write_uint(f, "UPTIME", sysinfo(&si) == 0 ? (unsigned long)si.uptime : 0);
	write_uint(f, "DHCPLEASETIME", l->lease_time);
	write_option(f, "DOMAINSEARCH", l->domainsearch);
}

/* mkdir -p of root/rel (rel without a leading '/'). */
static int make_dirs(const char *root, const char *rel)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", root, rel);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Writes root/rel through a temporary file and rename(), so a reader
 * never sees half a file. */
static int write_file(const char *root, const char *rel, mode_t mode,
		      void (*fill)(FILE *f, const void *arg), const void *arg)
{
	char path[4096], tmp[4100];
	FILE *f;
	int n = snprintf(path, sizeof(path), "%s/%s", root, rel), r = 0, fd;

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp); /* a stale one would keep its old mode */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	fill(f, arg);
	if (fflush(f) != 0 || ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		log_err("writing %s: %s", path, strerror(-r));
	}
	return r;
}

static void fill_netconf(FILE *f, const void *arg)
{
	dhcpc_format_netconf(f, arg);
}

static void fill_interface(FILE *f, const void *arg)
{
	const struct dhcpc_lease *l = arg;

	fprintf(f, "%s\n", l->ifname);
}

static void fill_resolv(FILE *f, const void *arg)
{
	const struct dhcpc_lease *l = arg;
	char buf[INET_ADDRSTRLEN];

	if (l->domainsearch[0])
		fprintf(f, "search %s\n", l->domainsearch);
	else if (l->domain[0])
		fprintf(f, "search %s\n", l->domain);
	for (int i = 0; i < l->ndns; i++)
		fprintf(f, "nameserver %s\n",
			inet_ntop(AF_INET, &l->dns[i], buf, sizeof(buf)));
}

/* A root-path with dracut's user:password@ makes the file a secret. */
static mode_t netconf_mode(const struct dhcpc_lease *l)
{
	return strchr(l->rootpath, '@') ? 0600 : 0644;
}

/* ---- systemd-networkd: run/systemd/network/00-iscsiroot-IF.network ----
 * Its files are taken in lexical order across /etc, /run and /usr/lib, the
 * first that matches a link wins: "00-" comes before the distributions'
 * "10-"…"99-". It declares what we configured (address, routes, DNS, MTU)
 * and runs no DHCP client (the daemon renews the lease itself), and
 * KeepConfiguration=yes keeps networkd from dropping addresses or routes
 * at its start or stop; the default is "no" unless / is a network
 * filesystem, which an ext4 on NBD is not. The carrier settings keep a
 * switch's restart from deconfiguring the link. */

static const char *ip4(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static bool have_mac(const struct dhcpc_lease *l)
{
	static const uint8_t zero[6];

	return memcmp(l->mac, zero, sizeof(zero)) != 0;
}

static void print_mac(FILE *f, const uint8_t m[6])
{
	fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		m[4], m[5]);
}

static bool on_link(const struct dhcpc_lease *l, struct in_addr a)
{
	return ((a.s_addr ^ l->addr.s_addr) & l->netmask.s_addr) == 0;
}

static void networkd_route(FILE *f, const struct dhcpc_lease *l,
			   struct in_addr dst, uint8_t prefix,
			   struct in_addr gw)
{
	char a[INET_ADDRSTRLEN];

	fprintf(f, "\n[Route]\nDestination=%s/%u\n", ip4(dst, a), prefix);
	if (gw.s_addr) {
		fprintf(f, "Gateway=%s\n", ip4(gw, a));
		if (!on_link(l, gw))
			fputs("GatewayOnLink=yes\n", f);
	} else {
		fputs("Scope=link\n", f);
	}
	fprintf(f, "PreferredSource=%s\n", ip4(l->addr, a));
}

/* The routes apply.c adds: option 121's, else the default route. */
static void networkd_routes(FILE *f, const struct dhcpc_lease *l)
{
	struct in_addr any = { 0 };

	if (!l->have_classless) {
		if (l->gateway.s_addr)
			networkd_route(f, l, any, 0, l->gateway);
		return;
	}
	for (int i = 0; i < l->nroutes; i++)
		networkd_route(f, l, l->routes[i].dst, l->routes[i].prefix,
			       l->routes[i].gateway);
}

static void fill_networkd(FILE *f, const void *arg)
{
	const struct dhcpc_lease *l = arg;
	char a[INET_ADDRSTRLEN];

	fprintf(f, "# iscsiroot: the root disk is reached through this link "
		   "(%s lease); leave it configured.\n[Match]\n",
		l->proto == DHCPC_PROTO_DHCP ? "DHCP" : "static");
	if (have_mac(l)) {
		fputs("MACAddress=", f);
		print_mac(f, l->mac);
		fputc('\n', f);
	}
	fprintf(f, "Name=%s\n", l->ifname);
	if (l->mtu)
		fprintf(f, "\n[Link]\nMTUBytes=%u\n", l->mtu);
	fputs("\n[Network]\nDHCP=no\nKeepConfiguration=yes\n"
	      "ConfigureWithoutCarrier=yes\nIgnoreCarrierLoss=yes\n", f);
	fprintf(f, "Address=%s/%u\n", ip4(l->addr, a), l->prefix);
	for (int i = 0; i < l->ndns; i++)
		fprintf(f, "DNS=%s\n", ip4(l->dns[i], a));
	if (l->domainsearch[0] || l->domain[0])
		fprintf(f, "Domains=%s\n",
			l->domainsearch[0] ? l->domainsearch : l->domain);
	networkd_routes(f, l);
}

static int write_networkd(const char *root, const struct dhcpc_lease *l)
{
	char rel[96];
	int r = make_dirs(root, "run/systemd/network");

	snprintf(rel, sizeof(rel), "run/systemd/network/00-iscsiroot-%s.network",
		 l->ifname);
	return r < 0 ? r : write_file(root, rel, 0644, fill_networkd, l);
}

/* ---- NetworkManager (1.42 in Debian 12): its initrd hand-over ----
 * - run/NetworkManager/system-connections/iscsiroot-IF.nmconnection: a
 *   keyfile (0600: NM ignores one others may read) with method=manual
 *   and what we configured, so NM runs no DHCP client of its own;
 * - run/NetworkManager/devices/IFINDEX: the device state NM keeps across
 *   its own restarts; connection-uuid makes NM take the active connection
 *   over as it is (no deconfiguration) on its first start too;
 * - run/NetworkManager/conf.d/15-iscsiroot-IF.conf: no "Wired connection"
 *   of NM's own for the NIC, and a device section that lets only our
 *   connection be activated on it.
 * NM leaves a device with an active connection configured when it stops,
 * so the link stays up through the system's shutdown. */

/* One UUID per NIC, the same at every boot: a fixed prefix and the MAC
 * (else the interface name's bytes), RFC 4122 version 4 and variant bits. */
static void connection_uuid(const struct dhcpc_lease *l, char out[37])
{
	uint8_t tail[6] = { 0 };

	if (have_mac(l))
		memcpy(tail, l->mac, 6);
	else
		for (size_t i = 0; l->ifname[i] && i < IFNAMSIZ; i++)
			tail[i % 6] ^= (uint8_t)l->ifname[i];
	snprintf(out, 37, "69736373-6972-4f6f-8074-%02x%02x%02x%02x%02x%02x",
		 tail[0], tail[1], tail[2], tail[3], tail[4], tail[5]);
}

static void nm_routes(FILE *f, const struct dhcpc_lease *l)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	int n = 0;

	if (!l->have_classless) {
		if (l->gateway.s_addr)
			fprintf(f, "gateway=%s\n", ip4(l->gateway, a));
		return;
	}
	for (int i = 0; i < l->nroutes; i++) {
		const struct dhcpc_route *rt = &l->routes[i];

		if (rt->prefix == 0 && rt->gateway.s_addr) {
			fprintf(f, "gateway=%s\n", ip4(rt->gateway, a));
			continue;
		}
		fprintf(f, "route%d=%s/%u", ++n, ip4(rt->dst, a), rt->prefix);
		if (rt->gateway.s_addr)
			fprintf(f, ",%s", ip4(rt->gateway, g));
		fputc('\n', f);
	}
}

static void nm_ipv4(FILE *f, const struct dhcpc_lease *l)
{
	char a[INET_ADDRSTRLEN];

	fprintf(f, "\n[ipv4]\nmethod=manual\naddress1=%s/%u\n",
		ip4(l->addr, a), l->prefix);
	nm_routes(f, l);
	if (l->ndns) {
		fputs("dns=", f);
		for (int i = 0; i < l->ndns; i++)
			fprintf(f, "%s;", ip4(l->dns[i], a));
		fputc('\n', f);
	}
	if (l->domainsearch[0] || l->domain[0]) {
		fputs("dns-search=", f);
		for (const char *p = l->domainsearch[0] ? l->domainsearch : l->domain;
		     *p; p++)
			fputc(*p == ' ' ? ';' : *p, f);
		fputs(";\n", f);
	}
	/* our routes have metric 0: NM's then replace them, not double them */
	fputs("route-metric=0\nmay-fail=false\n", f);
}

/* IPv6 is left as the kernel and the initramfs made it. */
static void nm_ipv6(FILE *f, const struct dhcpc_lease *l)
{
	(void)l;
	fputs("\n[ipv6]\nmethod=ignore\n", f);
}

static void fill_nm_connection(FILE *f, const void *arg)
{
	const struct dhcpc_lease *l = arg;
	char uuid[37];

	connection_uuid(l, uuid);
	fprintf(f, "# iscsiroot: the root disk is reached through this link "
		   "(%s lease).\n[connection]\nid=iscsiroot %s\nuuid=%s\n"
		   "type=ethernet\ninterface-name=%s\nautoconnect=true\n"
		   "autoconnect-priority=999\n\n[ethernet]\n",
		l->proto == DHCPC_PROTO_DHCP ? "DHCP" : "static", l->ifname,
		uuid, l->ifname);
	if (have_mac(l)) {
		fputs("mac-address=", f);
		print_mac(f, l->mac);
		fputc('\n', f);
	}
	if (l->mtu)
		fprintf(f, "mtu=%u\n", l->mtu);
	nm_ipv4(f, l);
	nm_ipv6(f, l);
	fputs("\n[user]\norg.freedesktop.NetworkManager.origin=iscsiroot\n", f);
}

static void fill_nm_device_state(FILE *f, const void *arg)
{
	char uuid[37];

	connection_uuid(arg, uuid);
	fprintf(f, "[device]\nmanaged=true\nconnection-uuid=%s\n", uuid);
}

static void nm_device_match(FILE *f, const struct dhcpc_lease *l)
{
	if (have_mac(l)) {
		fputs("mac:", f);
		print_mac(f, l->mac);
	} else {
		fprintf(f, "interface-name:%s", l->ifname);
	}
	fputc('\n', f);
}

static void fill_nm_conf(FILE *f, const void *arg)
{
	const struct dhcpc_lease *l = arg;
	char uuid[37];

	connection_uuid(l, uuid);
	fputs("# iscsiroot: the root disk's link keeps its connection.\n"
	      "[main]\nno-auto-default+=", f);
	nm_device_match(f, l);
	fprintf(f, "\n[device-iscsiroot-%s]\nmatch-device=", l->ifname);
	nm_device_match(f, l);
	fprintf(f, "managed=1\nkeep-configuration=yes\n"
		   "allowed-connections=uuid:%s\n", uuid);
}

static int write_networkmanager(const char *root, const struct dhcpc_lease *l)
{
	char rel[96];
	int r;

	if ((r = make_dirs(root, "run/NetworkManager/system-connections")) < 0 ||
	    (r = make_dirs(root, "run/NetworkManager/devices")) < 0 ||
	    (r = make_dirs(root, "run/NetworkManager/conf.d")) < 0)
		return r;
	snprintf(rel, sizeof(rel),
		 "run/NetworkManager/system-connections/iscsiroot-%s.nmconnection",
		 l->ifname);
	if ((r = write_file(root, rel, 0600, fill_nm_connection, l)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "run/NetworkManager/devices/%d", l->ifindex);
	if (l->ifindex > 0 &&
	    (r = write_file(root, rel, 0644, fill_nm_device_state, l)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "run/NetworkManager/conf.d/15-iscsiroot-%s.conf",
		 l->ifname);
	return write_file(root, rel, 0644, fill_nm_conf, l);
}

/* The managers' files: each failure is said, none stops the others. */
static void write_manager_handover(const char *root, const struct dhcpc_lease *l)
{
	int r = write_networkd(root, l);

	if (r < 0)
		log_warn("systemd-networkd hand-over: %s", strerror(-r));
	r = write_networkmanager(root, l);
	if (r < 0)
		log_warn("NetworkManager hand-over: %s", strerror(-r));
}

int dhcpc_write_handover(const char *root, const struct dhcpc_lease *l)
{
	char rel[64];
	int r;

	if (!root || !*root)
		root = "/";
	if (!strcmp(root, "/"))
		root = "";
	snprintf(rel, sizeof(rel), "run/net-%s.conf", l->ifname);
	if ((r = make_dirs(root, "run/initramfs")) < 0 ||
	    (r = write_file(root, rel, netconf_mode(l), fill_netconf, l)) < 0 ||
	    (r = write_file(root, "run/initramfs/open-iscsi.interface", 0644,
			    fill_interface, l)) < 0)
		return r;
	write_manager_handover(root, l);
	if (l->ndns == 0)
		return 0;
	if ((r = make_dirs(root, "etc")) < 0)
		return r;
	return write_file(root, "etc/resolv.conf", 0644, fill_resolv, l);
}
