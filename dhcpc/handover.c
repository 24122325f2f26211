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

/* ---- IPv6: run/net6-IF.conf, the keys initramfs-tools' DHCPv6 hook
 * writes and its scripts (open-iscsi's local-top too) and cloud-init
 * read. ---- */

static void write_addr6(FILE *f, const char *key, const struct in6_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	write_option(f, key, inet_ntop(AF_INET6, a, buf, sizeof(buf)));
}

void dhcpc_format_netconf6(FILE *f, const struct dhcpc_lease *l)
{
	char key[] = "IPV6DNS0";

	write_option(f, "DEVICE6", l->ifname);
	write_option(f, "IPV6PROTO", l->proto == DHCPC_PROTO_DHCP6 ? "dhcp6"
				     : l->proto == DHCPC_PROTO_AUTO6 ? "auto6" : "none");
	write_addr6(f, "IPV6ADDR", &l->addr6);
	write_uint(f, "IPV6NETMASK", l->prefix6);
	write_addr6(f, "IPV6GATEWAY", &l->gateway6);
	for (int i = 0; i < l->ndns6; i++, key[7]++)
		write_addr6(f, key, &l->dns6[i]);
	write_option(f, "IPV6DOMAINSEARCH", l->domainsearch);
	write_option(f, "HOSTNAME", l->hostname);
	write_option(f, "DNSDOMAIN", l->domain);
	write_option(f, "ROOTPATH", l->rootpath);
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
	const struct dhcpc_lease *l = arg;

	(l->v6 ? dhcpc_format_netconf6 : dhcpc_format_netconf)(f, l);
}

static void fill_interface(FILE *f, const void *arg)
{
	const struct dhcpc_lease *l = arg;

	fprintf(f, "%s\n", l->ifname);
}

/* A root-path with dracut's user:password@ makes the file a secret. */
static mode_t netconf_mode(const struct dhcpc_lease *l)
{
	return strchr(l->rootpath, '@') ? 0600 : 0644;
}

/* ---- The network managers' hand-over ----
 * What we configured, said once for both managers and resolv.conf, as
 * text of either family: the address, the routes apply.c adds (option
 * 121's, else the default route; for IPv6 the default route via the RA's
 * or the static gateway), DNS, the MAC, NM's connection UUID. */
struct manager_route {
	char dst[INET6_ADDRSTRLEN];
	char gw[INET6_ADDRSTRLEN];   /* "": on-link */
	uint8_t prefix;
	bool onlink;                 /* a router outside the subnet */
};

struct manager_view {
	const struct dhcpc_lease *l;
	struct manager_route routes[DHCPC_MAX_ROUTES];
	int nroutes;
	char addr[INET6_ADDRSTRLEN];
	unsigned prefix;
	char dns[DHCPC_MAX_DNS][INET6_ADDRSTRLEN];
	int ndns;
	char mac[18];                /* "" when unknown */
	char match[40];              /* NM's device match: mac:… or interface-name:… */
	char uuid[37];
	const char *search;          /* option 119, else 15; "" */
};

static void view_routes4(struct manager_view *v, const struct dhcpc_lease *l)
{
	struct dhcpc_route def = { .gateway = l->gateway };
	const struct dhcpc_route *rt = l->have_classless ? l->routes : &def;

	v->nroutes = l->have_classless ? l->nroutes : l->gateway.s_addr != 0;
	for (int i = 0; i < v->nroutes; i++, rt++) {
		struct manager_route *m = &v->routes[i];

		inet_ntop(AF_INET, &rt->dst, m->dst, sizeof(m->dst));
		if (rt->gateway.s_addr)
			inet_ntop(AF_INET, &rt->gateway, m->gw, sizeof(m->gw));
		m->prefix = rt->prefix;
		m->onlink = (rt->gateway.s_addr ^ l->addr.s_addr) & l->netmask.s_addr;
	}
}

/* One UUID per NIC, the same at every boot: a fixed prefix (RFC 4122
 * version 4 and variant bits) and the MAC's 12 hex digits, which also
 * give the MAC's text. */
static void manager_view(struct manager_view *v, const struct dhcpc_lease *l)
{
	int af = l->v6 ? AF_INET6 : AF_INET;
	const uint8_t *m = l->mac;
	const char *hex;

	memset(v, 0, sizeof(*v));
	v->l = l;
	inet_ntop(af, l->v6 ? (const void *)&l->addr6 : &l->addr, v->addr, sizeof(v->addr));
	v->prefix = l->v6 ? l->prefix6 : l->prefix;
	v->ndns = l->v6 ? l->ndns6 : l->ndns;
	for (int i = 0; i < v->ndns; i++)
		inet_ntop(af, l->v6 ? (const void *)&l->dns6[i] : &l->dns[i],
			  v->dns[i], sizeof(v->dns[i]));
	if (!l->v6)
		view_routes4(v, l);
	else if (!IN6_IS_ADDR_UNSPECIFIED(&l->gateway6)) {
		strcpy(v->routes[0].dst, "::");
		inet_ntop(AF_INET6, &l->gateway6, v->routes[0].gw, sizeof(v->routes[0].gw));
		v->nroutes = 1;
	}
	snprintf(v->uuid, sizeof(v->uuid), "69736373-6972-4f6f-8074-%02x%02x%02x%02x%02x%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
	hex = v->uuid + 24;
	if (strcmp(hex, "000000000000"))
		for (int i = 0; i < 6; i++)
			snprintf(v->mac + 3 * i, sizeof(v->mac) - 3 * i, "%.2s%s",
				 hex + 2 * i, i < 5 ? ":" : "");
	snprintf(v->match, sizeof(v->match), "%s%s", v->mac[0] ? "mac:" : "interface-name:",
		 v->mac[0] ? v->mac : l->ifname);
	v->search = l->domainsearch[0] ? l->domainsearch : l->domain;
}

static void fill_resolv(FILE *f, const void *arg)
{
	const struct manager_view *v = arg;

	if (v->search[0])
		fprintf(f, "search %s\n", v->search);
	for (int i = 0; i < v->ndns; i++)
		fprintf(f, "nameserver %s\n", v->dns[i]);
}

/* systemd-networkd: run/systemd/network/00-iscsiroot-IF.network. Its files
 * are taken in lexical order across /etc, /run and /usr/lib, the first
 * that matches a link wins: "00-" comes before the distributions' "10-"…
 * "99-". It declares what we configured and runs no DHCP client (the
 * daemon renews the lease itself); KeepConfiguration=yes keeps networkd
 * from dropping addresses or routes at its start or stop (the default is
 * "no" unless / is a network filesystem, which an ext4 on NBD is not), and
 * ConfigureWithoutCarrier=yes (which implies IgnoreCarrierLoss=yes) keeps
 * a switch's restart from deconfiguring it.
 * IPv6: networkd (252) writes accept_ra=0 on every link it manages,
 * whatever IPv6AcceptRA= says (RAs are its own client's job), so the
 * kernel stops refreshing what it learnt from RAs: the default route, the
 * on-link prefix route and a SLAAC address would run out with their
 * lifetimes (KeepConfiguration=yes keeps them until then). The Address=
 * and [Route] here are networkd's own: the address is sent as an update
 * (NLM_F_REPLACE) with infinite lifetimes, and the same IPv6 route added
 * again keeps the kernel's route but clears its expiry (it stays "proto
 * ra", with no "expires": tests/e2e/handover.sh, networkd6), so nothing
 * the root disk needs runs out. IPv6AcceptRA=no: no RA client of
 * networkd's either; a link-local Gateway= is on-link by itself.
 * The v6 default route has Metric=1023, not the RA's 1024: a route of its
 * own (proto static, no expiry) beside the kernel's, instead of the
 * kernel's taken over; once, after `networkctl reconfigure`, the taken-
 * over route was gone with its lifetime and no default route was left
 * (tests/e2e/handover.sh, networkd6). The lower metric wins while both
 * are there. */
static void fill_networkd(FILE *f, const void *arg)
{
	const struct manager_view *v = arg;
	const struct dhcpc_lease *l = v->l;

	fputs("[Match]\n", f);
	if (v->mac[0])
		fprintf(f, "MACAddress=%s\n", v->mac);
	fprintf(f, "Name=%s\n", l->ifname);
	if (l->mtu)
		fprintf(f, "\n[Link]\nMTUBytes=%u\n", l->mtu);
	fprintf(f, "\n[Network]\nDHCP=no\nKeepConfiguration=yes\n"
		   "ConfigureWithoutCarrier=yes\n%s"
		   "Address=%s/%u\n", l->v6 ? "IPv6AcceptRA=no\n" : "", v->addr, v->prefix);
	for (int i = 0; i < v->ndns; i++)
		fprintf(f, "DNS=%s\n", v->dns[i]);
	if (v->search[0])
		fprintf(f, "Domains=%s\n", v->search);
	for (int i = 0; i < v->nroutes; i++) {
		const struct manager_route *rt = &v->routes[i];

		fprintf(f, "\n[Route]\nDestination=%s/%u\n", rt->dst, rt->prefix);
		if (!rt->gw[0])
			fputs("Scope=link\n", f);
		else
			fprintf(f, "Gateway=%s\n%s%s", rt->gw,
				rt->onlink ? "GatewayOnLink=yes\n" : "",
				l->v6 ? "Metric=1023\n" : "");
	}
}

/* udev: run/systemd/network/00-iscsiroot-IF.link keeps the kernel's name.
 * udev renames a link only while it is down (the kernel refuses
 * otherwise); a failed rename leaves the link uninitialized in udev's
 * database, and networkd and NM then wait for it for ever ("pending").
 * Found by the first boot of a networkd root (tests/e2e/handover.sh). */
static void fill_link(FILE *f, const void *arg)
{
	const struct manager_view *v = arg;

	fprintf(f, "[Match]\nMACAddress=%s\n\n[Link]\nName=%s\n", v->mac, v->l->ifname);
}

/* NetworkManager (1.42 in Debian 12), its initrd hand-over:
 * - system-connections/iscsiroot-IF.nmconnection: a keyfile (0600: NM
 *   ignores one others may read), method=manual with what we configured,
 *   so NM runs no DHCP client of its own; route-metric=0 as ours (for
 *   IPv6 NM, as the kernel, takes 0 as 1024, the metric of ours); the
 *   other family off (IPv4 "disabled", IPv6 "ignore": left as the kernel
 *   and the initramfs made it); an IPv6 gateway may be link-local (NM
 *   1.42's nmcli --offline writes one as address1=ADDR,fe80::1);
 * - devices/IFINDEX: the device state NM keeps across its restarts;
 *   connection-uuid makes NM take the connection over as it is, with no
 *   deconfiguration, on its first start too;
 * - conf.d/15-iscsiroot-IF.conf: only our connection may be activated on
 *   the NIC (NM's own "Wired connection" for it, too, is not).
 * NM leaves a device with an active connection configured when it stops,
 * so the link stays up through the system's shutdown. */
static void fill_nm_connection(FILE *f, const void *arg)
{
	const struct manager_view *v = arg;
	const struct dhcpc_lease *l = v->l;
	int n = 0;

	fprintf(f, "[connection]\nid=iscsiroot %s\nuuid=%s\ntype=ethernet\n"
		   "interface-name=%s\nautoconnect=true\nautoconnect-priority=999\n"
		   "\n[ethernet]\n", l->ifname, v->uuid, l->ifname);
	if (v->mac[0])
		fprintf(f, "mac-address=%s\n", v->mac);
	if (l->mtu)
		fprintf(f, "mtu=%u\n", l->mtu);
	fprintf(f, "\n[ipv%c]\nmethod=manual\naddress1=%s/%u\n", l->v6 ? '6' : '4',
		v->addr, v->prefix);
	for (int i = 0; i < v->nroutes; i++) {
		const struct manager_route *rt = &v->routes[i];

		if (rt->prefix == 0 && rt->gw[0])
			fprintf(f, "gateway=%s\n", rt->gw);
		else
			fprintf(f, "route%d=%s/%u%s%s\n", ++n, rt->dst, rt->prefix,
				rt->gw[0] ? "," : "", rt->gw);
	}
	for (int i = 0; i < v->ndns; i++)
		fprintf(f, "%s%s;%s", i ? "" : "dns=", v->dns[i], i + 1 < v->ndns ? "" : "\n");
	if (v->search[0]) {
		fputs("dns-search=", f);
		for (const char *p = v->search; *p; p++)
			fputc(*p == ' ' ? ';' : *p, f);
		fputs(";\n", f);
	}
	fprintf(f, "route-metric=0\nmay-fail=false\n\n%s\n",
		l->v6 ? "[ipv4]\nmethod=disabled" : "[ipv6]\nmethod=ignore");
}

static void fill_nm_device_state(FILE *f, const void *arg)
{
	const struct manager_view *v = arg;

	fprintf(f, "[device]\nmanaged=true\nconnection-uuid=%s\n", v->uuid);
}

static void fill_nm_conf(FILE *f, const void *arg)
{
	const struct manager_view *v = arg;

	fprintf(f, "[device-iscsiroot-%s]\nmatch-device=%s\nmanaged=1\n"
		   "keep-configuration=yes\nallowed-connections=uuid:%s\n",
		v->l->ifname, v->match, v->uuid);
}

/* The managers' files: a failure is said, and stops none of the others. */
static void write_manager_handover(const char *root, const struct manager_view *v)
{
	static const struct {
		const char *path;    /* %s: the interface (its index for devices/) */
		mode_t mode;
		void (*fill)(FILE *f, const void *arg);
	} files[] = {
		{ "run/systemd/network/00-iscsiroot-%s.link", 0644, fill_link },
		{ "run/systemd/network/00-iscsiroot-%s.network", 0644, fill_networkd },
		{ "run/NetworkManager/system-connections/iscsiroot-%s.nmconnection",
		  0600, fill_nm_connection },
		{ "run/NetworkManager/devices/%s", 0644, fill_nm_device_state },
		{ "run/NetworkManager/conf.d/15-iscsiroot-%s.conf", 0644, fill_nm_conf },
	};
	char rel[128], ifindex[12];

	snprintf(ifindex, sizeof(ifindex), "%d", v->l->ifindex);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		int r;

		if (files[i].fill == fill_link && !v->mac[0])
			continue;    /* a .link needs a match */
		snprintf(rel, sizeof(rel), files[i].path,
			 files[i].fill == fill_nm_device_state ? ifindex : v->l->ifname);
		*strrchr(rel, '/') = '\0';
		r = make_dirs(root, rel);
		rel[strlen(rel)] = '/';
		if (r == 0)
			r = write_file(root, rel, files[i].mode, files[i].fill, v);
		if (r < 0)
			log_warn("hand-over %s: %s", rel, strerror(-r));
	}
}

/* The first interface's files of either family, after its net(6)-IF.conf:
 * open-iscsi.interface, the managers' hand-over, resolv.conf (only with
 * DNS servers). */
static int write_system_handover(const char *root, const struct dhcpc_lease *l)
{
	struct manager_view v;
	int r;

	if ((r = write_file(root, "run/initramfs/open-iscsi.interface", 0644,
			    fill_interface, l)) < 0)
		return r;
	manager_view(&v, l);
	write_manager_handover(root, &v);
	if (v.ndns == 0)
		return 0;
	if ((r = make_dirs(root, "etc")) < 0)
		return r;
	return write_file(root, "etc/resolv.conf", 0644, fill_resolv, &v);
}

static const char *root_prefix(const char *root)
{
	return !root || !*root || !strcmp(root, "/") ? "" : root;
}

int dhcpc_write_netconf(const char *root, const struct dhcpc_lease *l)
{
	char rel[64];
	int r;

	root = root_prefix(root);
	snprintf(rel, sizeof(rel), "run/net%s-%s.conf", l->v6 ? "6" : "", l->ifname);
	if ((r = make_dirs(root, "run/initramfs")) < 0)
		return r;
	return write_file(root, rel, netconf_mode(l), fill_netconf, l);
}

int dhcpc_write_handover(const char *root, const struct dhcpc_lease *l)
{
	int r = dhcpc_write_netconf(root, l);

	return r < 0 ? r : write_system_handover(root_prefix(root), l);
}

