/* SPDX-License-Identifier: MIT */
/* The hand-over files, written below a temporary root and read back. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dhcpc.h"
#include "test.h"

static char *slurp(const char *root, const char *rel)
{
	static char buf[4096];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static mode_t umask_now(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

static void make_lease(struct dhcpc_lease *l)
{
	memset(l, 0, sizeof(*l));
	strcpy(l->ifname, "eth7");
	l->ifindex = 3;
	memcpy(l->mac, "\x52\x54\x00\xe2\xe0\x01", 6);
	l->proto = DHCPC_PROTO_DHCP;
	inet_pton(AF_INET, "10.0.0.7", &l->addr);
	inet_pton(AF_INET, "255.255.255.0", &l->netmask);
	l->prefix = 24;
	inet_pton(AF_INET, "10.0.0.255", &l->broadcast);
	inet_pton(AF_INET, "10.0.0.1", &l->gateway);
	inet_pton(AF_INET, "10.0.0.53", &l->dns[0]);
	l->ndns = 1;
	inet_pton(AF_INET, "10.0.0.2", &l->siaddr);
	strcpy(l->hostname, "node1");
	strcpy(l->domain, "lab.example");
	strcpy(l->rootpath, "iscsi:10.0.0.2::::iqn.x:it's!");
	l->lease_time = 3600;
}

static void test_netconf(const char *root)
{
	struct dhcpc_lease l;
	char *s;

	make_lease(&l);
	CHECK_EQ(dhcpc_write_handover(root, &l), 0);
	s = slurp(root, "run/net-eth7.conf");
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(strstr(s, "DEVICE='eth7'\nPROTO='dhcp'\nIPV4ADDR='10.0.0.7'\n"
			"IPV4BROADCAST='10.0.0.255'\nIPV4NETMASK='255.255.255.0'\n"
			"IPV4GATEWAY='10.0.0.1'\nIPV4DNS0='10.0.0.53'\n"
			"IPV4DNS1='0.0.0.0'\nHOSTNAME='node1'\n"
			"DNSDOMAIN='lab.example'\nNISDOMAIN=''\n"
			"ROOTSERVER='10.0.0.2'\n") == s);
	/* klibc's quoting of ' and ! */
	CHECK(strstr(s, "ROOTPATH='iscsi:10.0.0.2::::iqn.x:it'\\''s'\\!''\n"));
	CHECK(strstr(s, "\nfilename=''\nUPTIME='"));
	CHECK(strstr(s, "\nDHCPLEASETIME='3600'\nDOMAINSEARCH=''\n"));
	s = slurp(root, "run/initramfs/open-iscsi.interface");
	CHECK_STR(s, "eth7\n");
	s = slurp(root, "etc/resolv.conf");
	CHECK_STR(s, "search lab.example\nnameserver 10.0.0.53\n");
}

static void test_routes(const char *root)
{
	struct dhcpc_lease l;
	char *s;

	make_lease(&l);
	l.have_classless = true;
	l.nroutes = 1;
	inet_pton(AF_INET, "192.168.5.0", &l.routes[0].dst);
	l.routes[0].prefix = 24;
	inet_pton(AF_INET, "10.0.0.3", &l.routes[0].gateway);
	CHECK_EQ(dhcpc_write_handover(root, &l), 0);
	s = slurp(root, "run/net-eth7.conf");
	CHECK(s && strstr(s, "IPV4ROUTE0SUBNET='192.168.5.0/24'\n"
			     "IPV4ROUTE0GATEWAY='10.0.0.3'\n"));
}

/* A root-path carrying CHAP credentials makes net-IF.conf private. */
static void test_secret_mode(const char *root)
{
	struct dhcpc_lease l;
	struct stat st;
	char path[512];

	make_lease(&l);
	strcpy(l.rootpath, "iscsi:user:secret@10.0.0.2::::iqn.x");
	CHECK_EQ(dhcpc_write_handover(root, &l), 0);
	snprintf(path, sizeof(path), "%s/run/net-eth7.conf", root);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/run/initramfs/open-iscsi.interface",
		 root);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0644 & ~umask_now());
}

/* ---- the network managers' hand-over */

static mode_t file_mode(const char *root, const char *rel)
{
	struct stat st;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return stat(path, &st) == 0 ? st.st_mode & 0777 : 0;
}

#define NETWORKD "run/systemd/network/00-iscsiroot-eth7.network"
#define LINK "run/systemd/network/00-iscsiroot-eth7.link"
#define NM_CONN "run/NetworkManager/system-connections/iscsiroot-eth7.nmconnection"
#define NM_STATE "run/NetworkManager/devices/3"
#define NM_CONF "run/NetworkManager/conf.d/15-iscsiroot-eth7.conf"
#define UUID "69736373-6972-4f6f-8074-525400e2e001"
/* the keyfile's start, for the MAC of make_lease() */
#define NM_HEAD "[connection]\nid=iscsiroot eth7\nuuid=" UUID "\n" \
	"type=ethernet\ninterface-name=eth7\nautoconnect=true\n" \
	"autoconnect-priority=999\n" \
	"\n[ethernet]\nmac-address=52:54:00:e2:e0:01\n"

/* NM's other files for make_lease()'s MAC, and the keyfile's mode */
static void check_nm_device(const char *root)
{
	/* NetworkManager ignores a keyfile that others can read */
	CHECK_EQ(file_mode(root, NM_CONN), 0600);
	CHECK_STR(slurp(root, NM_STATE),
		  "[device]\nmanaged=true\nconnection-uuid=" UUID "\n");
	CHECK_STR(slurp(root, NM_CONF),
		  "[device-iscsiroot-eth7]\n"
		  "match-device=mac:52:54:00:e2:e0:01\nmanaged=1\n"
		  "keep-configuration=yes\nallowed-connections=uuid:" UUID "\n");
}

static void test_networkd_dhcp(const char *root)
{
	struct dhcpc_lease l;

	make_lease(&l);
	l.mtu = 9000;
	CHECK_EQ(dhcpc_write_handover(root, &l), 0);
	CHECK_STR(slurp(root, NETWORKD),
		  "[Match]\nMACAddress=52:54:00:e2:e0:01\nName=eth7\n"
		  "\n[Link]\nMTUBytes=9000\n"
		  "\n[Network]\nDHCP=no\nKeepConfiguration=yes\n"
		  "ConfigureWithoutCarrier=yes\n"
		  "Address=10.0.0.7/24\nDNS=10.0.0.53\nDomains=lab.example\n"
		  "\n[Route]\nDestination=0.0.0.0/0\nGateway=10.0.0.1\n");
	CHECK_EQ(file_mode(root, NETWORKD), 0644 & ~umask_now());
	CHECK_STR(slurp(root, LINK), "[Match]\nMACAddress=52:54:00:e2:e0:01\n"
				     "\n[Link]\nName=eth7\n");
}

/* Static ip= with option-121-like routes: an on-link one, one via a
 * router outside the subnet, and the default one. No MAC known: the
 * interface name alone matches. */
static void static_lease(struct dhcpc_lease *l)
{
	make_lease(l);
	l->proto = DHCPC_PROTO_NONE;
	memset(l->mac, 0, sizeof(l->mac));
	l->ndns = 2;
	inet_pton(AF_INET, "10.0.0.54", &l->dns[1]);
	strcpy(l->domainsearch, "a.example b.example");
	l->have_classless = true;
	l->nroutes = 3;
	inet_pton(AF_INET, "192.168.5.0", &l->routes[0].dst);
	l->routes[0].prefix = 24;
	inet_pton(AF_INET, "172.16.0.0", &l->routes[1].dst);
	l->routes[1].prefix = 12;
	inet_pton(AF_INET, "192.0.2.1", &l->routes[1].gateway);
	l->routes[2].prefix = 0;
	inet_pton(AF_INET, "10.0.0.3", &l->routes[2].gateway);
}

static void test_networkd_static(const char *root)
{
	struct dhcpc_lease l;

	static_lease(&l);
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/run/systemd'", root);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(dhcpc_write_handover(root, &l), 0);
	CHECK(slurp(root, LINK) == NULL); /* no MAC: nothing to match */
	CHECK_STR(slurp(root, NETWORKD),
		  "[Match]\nName=eth7\n"
		  "\n[Network]\nDHCP=no\nKeepConfiguration=yes\n"
		  "ConfigureWithoutCarrier=yes\n"
		  "Address=10.0.0.7/24\nDNS=10.0.0.53\nDNS=10.0.0.54\n"
		  "Domains=a.example b.example\n"
		  "\n[Route]\nDestination=192.168.5.0/24\nScope=link\n"
		  "\n[Route]\nDestination=172.16.0.0/12\nGateway=192.0.2.1\n"
		  "GatewayOnLink=yes\n"
		  "\n[Route]\nDestination=0.0.0.0/0\nGateway=10.0.0.3\n");
}

static void test_networkmanager_dhcp(const char *root)
{
	struct dhcpc_lease l;

	make_lease(&l);
	l.mtu = 9000;
	CHECK_EQ(dhcpc_write_handover(root, &l), 0);
	CHECK_STR(slurp(root, NM_CONN),
		  NM_HEAD "mtu=9000\n"
		  "\n[ipv4]\nmethod=manual\naddress1=10.0.0.7/24\n"
		  "gateway=10.0.0.1\ndns=10.0.0.53;\ndns-search=lab.example;\n"
		  "route-metric=0\nmay-fail=false\n"
		  "\n[ipv6]\nmethod=ignore\n");
	check_nm_device(root);
}

static void test_networkmanager_static(const char *root)
{
	struct dhcpc_lease l;
	const char *uuid = "69736373-6972-4f6f-8074-000000000000";

	static_lease(&l);
	CHECK_EQ(dhcpc_write_handover(root, &l), 0);
	char want[1024];
	snprintf(want, sizeof(want),
		 "[connection]\nid=iscsiroot eth7\nuuid=%s\n"
		 "type=ethernet\ninterface-name=eth7\nautoconnect=true\n"
		 "autoconnect-priority=999\n"
		 "\n[ethernet]\n"
		 "\n[ipv4]\nmethod=manual\naddress1=10.0.0.7/24\n"
		 "route1=192.168.5.0/24\nroute2=172.16.0.0/12,192.0.2.1\n"
		 "gateway=10.0.0.3\n"
		 "dns=10.0.0.53;10.0.0.54;\ndns-search=a.example;b.example;\n"
		 "route-metric=0\nmay-fail=false\n"
		 "\n[ipv6]\nmethod=ignore\n", uuid);
	CHECK_STR(slurp(root, NM_CONN), want);
	snprintf(want, sizeof(want),
		 "[device-iscsiroot-eth7]\n"
		 "match-device=interface-name:eth7\nmanaged=1\n"
		 "keep-configuration=yes\nallowed-connections=uuid:%s\n", uuid);
	CHECK_STR(slurp(root, NM_CONF), want);
}

/* ---- the same for an IPv6 lease */

/* ip=dhcp6: a /128 from DHCPv6, the default route via the router's
 * link-local address from its RA, two DNS servers. */
static void make_lease6(struct dhcpc_lease *l)
{
	make_lease(l);
	memset(&l->addr, 0, sizeof(l->addr));
	memset(&l->netmask, 0, sizeof(l->netmask));
	memset(&l->broadcast, 0, sizeof(l->broadcast));
	memset(&l->gateway, 0, sizeof(l->gateway));
	memset(&l->siaddr, 0, sizeof(l->siaddr));
	l->prefix = 0;
	l->ndns = 0;
	strcpy(l->domain, "");
	strcpy(l->rootpath, "iscsi:[fd99::1]::3260:1:iqn.x");
	l->v6 = true;
	l->proto = DHCPC_PROTO_DHCP6;
	inet_pton(AF_INET6, "fd99::1a7", &l->addr6);
	l->prefix6 = 128;
	inet_pton(AF_INET6, "fe80::5054:ff:fe00:1", &l->gateway6);
	inet_pton(AF_INET6, "fd99::53", &l->dns6[0]);
	inet_pton(AF_INET6, "fd99::54", &l->dns6[1]);
	l->ndns6 = 2;
}

static void clean_root(const char *root)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/run' '%s/etc'", root, root);
	CHECK_EQ(system(cmd), 0);
}

static void test_handover6_dhcp(const char *root)
{
	struct dhcpc_lease l;

	clean_root(root);
	make_lease6(&l);
	CHECK_EQ(dhcpc_write_handover(root, &l), 0);
	CHECK(strstr(slurp(root, "run/net6-eth7.conf") ?: "",
		     "DEVICE6='eth7'\nIPV6PROTO='dhcp6'\nIPV6ADDR='fd99::1a7'\n"
		     "IPV6NETMASK='128'\nIPV6GATEWAY='fe80::5054:ff:fe00:1'\n"
		     "IPV6DNS0='fd99::53'\nIPV6DNS1='fd99::54'\n"));
	CHECK(slurp(root, "run/net-eth7.conf") == NULL);
	CHECK_STR(slurp(root, "run/initramfs/open-iscsi.interface"), "eth7\n");
	CHECK_STR(slurp(root, "etc/resolv.conf"),
		  "nameserver fd99::53\nnameserver fd99::54\n");
	CHECK_STR(slurp(root, NETWORKD),
		  "[Match]\nMACAddress=52:54:00:e2:e0:01\nName=eth7\n"
		  "\n[Network]\nDHCP=no\nKeepConfiguration=yes\n"
		  "ConfigureWithoutCarrier=yes\nIPv6AcceptRA=no\n"
		  "Address=fd99::1a7/128\nDNS=fd99::53\nDNS=fd99::54\n"
		  "\n[Route]\nDestination=::/0\nGateway=fe80::5054:ff:fe00:1\nMetric=1023\n");
	CHECK_STR(slurp(root, LINK), "[Match]\nMACAddress=52:54:00:e2:e0:01\n"
				     "\n[Link]\nName=eth7\n");
	CHECK_STR(slurp(root, NM_CONN),
		  NM_HEAD
		  "\n[ipv6]\nmethod=manual\naddress1=fd99::1a7/128\n"
		  "gateway=fe80::5054:ff:fe00:1\ndns=fd99::53;fd99::54;\n"
		  "route-metric=0\nmay-fail=false\n"
		  "\n[ipv4]\nmethod=disabled\n");
	check_nm_device(root);
}

/* dracut's static ip=[fd99::7]:::64::eth7:none: no gateway (no route),
 * no DNS (no resolv.conf), an MTU. */
static void test_handover6_static(const char *root)
{
	struct dhcpc_lease l;

	clean_root(root);
	make_lease6(&l);
	l.proto = DHCPC_PROTO_NONE;
	inet_pton(AF_INET6, "fd99::7", &l.addr6);
	l.prefix6 = 64;
	memset(&l.gateway6, 0, sizeof(l.gateway6));
	l.ndns6 = 0;
	l.mtu = 1400;
	CHECK_EQ(dhcpc_write_handover(root, &l), 0);
	CHECK(strstr(slurp(root, "run/net6-eth7.conf") ?: "",
		     "IPV6PROTO='none'\nIPV6ADDR='fd99::7'\nIPV6NETMASK='64'\n"
		     "IPV6GATEWAY='::'\n"));
	CHECK(slurp(root, "etc/resolv.conf") == NULL);
	CHECK_STR(slurp(root, NETWORKD),
		  "[Match]\nMACAddress=52:54:00:e2:e0:01\nName=eth7\n"
		  "\n[Link]\nMTUBytes=1400\n"
		  "\n[Network]\nDHCP=no\nKeepConfiguration=yes\n"
		  "ConfigureWithoutCarrier=yes\nIPv6AcceptRA=no\n"
		  "Address=fd99::7/64\n");
	CHECK_STR(slurp(root, NM_CONN),
		  NM_HEAD "mtu=1400\n"
		  "\n[ipv6]\nmethod=manual\naddress1=fd99::7/64\n"
		  "route-metric=0\nmay-fail=false\n"
		  "\n[ipv4]\nmethod=disabled\n");
}

/* every_iface's further IPv6 interface: its net6-IF.conf alone. */
static void test_handover6_not_first(const char *root)
{
	struct dhcpc_lease l;

	clean_root(root);
	make_lease6(&l);
	CHECK_EQ(dhcpc_write_netconf(root, &l), 0);
	CHECK(slurp(root, "run/net6-eth7.conf") != NULL);
	CHECK(slurp(root, "run/initramfs/open-iscsi.interface") == NULL);
	CHECK(slurp(root, NETWORKD) == NULL);
	CHECK(slurp(root, NM_CONN) == NULL);
	CHECK(slurp(root, "etc/resolv.conf") == NULL);
}

int main(void)
{
	char root[] = "/tmp/dhcpc-handover-XXXXXX";
	char cmd[64];

	if (!mkdtemp(root))
		return 1;
	test_netconf(root);
	test_routes(root);
	test_secret_mode(root);
	test_networkd_dhcp(root);
	test_networkd_static(root);
	test_networkmanager_dhcp(root);
	test_networkmanager_static(root);
	test_handover6_dhcp(root);
	test_handover6_static(root);
	test_handover6_not_first(root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	return test_report("test-dhcpc-handover");
}
