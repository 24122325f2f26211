/* SPDX-License-Identifier: MIT */
/*
 * The files the rest of the boot reads: klibc ipconfig's run/net-IF.conf
 * (initramfs-tools and open-iscsi's scripts source it), run/initramfs/
 * open-iscsi.interface (ifupdown, netplan and systemd leave that interface
 * alone) and etc/resolv.conf.
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
	if (l->ndns == 0)
		return 0;
	if ((r = make_dirs(root, "etc")) < 0)
		return r;
	return write_file(root, "etc/resolv.conf", 0644, fill_resolv, l);
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
	static const char *const protos[] = {
		[DHCPC_PROTO_NONE] = "none", [DHCPC_PROTO_DHCP] = "dhcp",
		[DHCPC_PROTO_DHCP6] = "dhcp6", [DHCPC_PROTO_AUTO6] = "auto6",
	};
	char key[16];

	write_option(f, "DEVICE6", l->ifname);
	write_option(f, "IPV6PROTO", protos[l->proto]);
	write_addr6(f, "IPV6ADDR", &l->addr6);
	write_uint(f, "IPV6NETMASK", l->prefix6);
	write_addr6(f, "IPV6GATEWAY", &l->gateway6);
	for (int i = 0; i < l->ndns6; i++) {
		snprintf(key, sizeof(key), "IPV6DNS%d", i);
		write_addr6(f, key, &l->dns6[i]);
	}
	write_option(f, "IPV6DOMAINSEARCH", l->domainsearch);
	write_option(f, "HOSTNAME", l->hostname);
	write_option(f, "DNSDOMAIN", l->domain);
	write_option(f, "ROOTPATH", l->rootpath);
}

static void fill_netconf6(FILE *f, const void *arg)
{
	dhcpc_format_netconf6(f, arg);
}

static void fill_resolv6(FILE *f, const void *arg)
{
	const struct dhcpc_lease *l = arg;
	char buf[INET6_ADDRSTRLEN];

	for (int i = 0; i < l->ndns6; i++)
		fprintf(f, "nameserver %s\n",
			inet_ntop(AF_INET6, &l->dns6[i], buf, sizeof(buf)));
}

int dhcpc_write_handover6(const char *root, const struct dhcpc_lease *l)
{
	char rel[64];
	int r;

	if (!root || !*root || !strcmp(root, "/"))
		root = "";
	snprintf(rel, sizeof(rel), "run/net6-%s.conf", l->ifname);
	if ((r = make_dirs(root, "run/initramfs")) < 0 ||
	    (r = write_file(root, rel, netconf_mode(l), fill_netconf6, l)) < 0 ||
	    (r = write_file(root, "run/initramfs/open-iscsi.interface", 0644,
			    fill_interface, l)) < 0 || l->ndns6 == 0)
		return r;
	if ((r = make_dirs(root, "etc")) < 0)
		return r;
	return write_file(root, "etc/resolv.conf", 0644, fill_resolv6, l);
}
