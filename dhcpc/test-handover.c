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
	l->proto = DHCPC_PROTO_DHCP;
	inet_pton(AF_INET, "10.0.0.7", &l->addr);
	inet_pton(AF_INET, "255.255.255.0", &l->netmask);
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

int main(void)
{
	char root[] = "/tmp/dhcpc-handover-XXXXXX";
	char cmd[64];

	if (!mkdtemp(root))
		return 1;
	test_netconf(root);
	test_routes(root);
	test_secret_mode(root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	return test_report("test-dhcpc-handover");
}
