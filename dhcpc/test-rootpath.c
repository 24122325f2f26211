/* SPDX-License-Identifier: MIT */
/* RFC 4173 root-paths, with the examples of RFC 4173 §5 and dracut's
 * credential and iface/netdev forms. */
#include <stdio.h>
#include <string.h>

#include "dhcpc.h"
#include "test.h"

static void test_rfc_forms(void)
{
	struct dhcpc_rootpath rp;

	CHECK_EQ(dhcpc_rootpath_parse(
			 "iscsi:192.168.1.1::::iqn.2003-01.org.x:disk1", &rp), 0);
	CHECK_STR(rp.host, "192.168.1.1");
	CHECK_EQ(rp.port, 3260);
	CHECK_EQ(rp.protocol, 6);
	CHECK_EQ(rp.lun, 0);
	CHECK_STR(rp.target, "iqn.2003-01.org.x:disk1");
	CHECK_EQ(rp.user[0], 0);

	CHECK_EQ(dhcpc_rootpath_parse("iscsi:10.0.0.2:6:3261:1:iqn.x:y:z", &rp),
		 0);
	CHECK_EQ(rp.port, 3261);
	CHECK_EQ(rp.lun, 0x0001000000000000ull);
	CHECK_STR(rp.target, "iqn.x:y:z");

	/* RFC 4173 §5 LUN examples */
	CHECK_EQ(dhcpc_rootpath_parse(
			 "iscsi:srv:::4752-3A4F-6b7e-2F99:iqn.a:b", &rp), 0);
	CHECK_EQ(rp.lun, 0x47523A4F6b7e2F99ull);
	CHECK_STR(rp.host, "srv");
	CHECK_EQ(dhcpc_rootpath_parse("iscsi:srv:::6756-E4D1:iqn.a", &rp), 0);
	CHECK_EQ(rp.lun, 0x6756E4D100000000ull);
	CHECK_EQ(dhcpc_rootpath_parse("iscsi:srv:::40:iqn.a", &rp), 0);
	CHECK_EQ(rp.lun, 0x0040000000000000ull);

	/* a target name that does not start iqn./eui./naa. */
	CHECK_EQ(dhcpc_rootpath_parse("iscsi:h::3260:0:mytarget:x", &rp), 0);
	CHECK_STR(rp.target, "mytarget:x");
	CHECK_EQ(dhcpc_rootpath_parse("iscsi:h::::eui.02004567A425678D", &rp),
		 0);
	CHECK_STR(rp.target, "eui.02004567A425678D");
}

static void test_ipv6_and_hosts(void)
{
	struct dhcpc_rootpath rp;

	CHECK_EQ(dhcpc_rootpath_parse("iscsi:[fe80::1]::3260::iqn.a:b", &rp), 0);
	CHECK_STR(rp.host, "fe80::1");
	CHECK_STR(rp.target, "iqn.a:b");
	CHECK_EQ(dhcpc_rootpath_parse("iscsi:[2001:db8::5]:6:860:a:iqn.q", &rp),
		 0);
	CHECK_STR(rp.host, "2001:db8::5");
	CHECK_EQ(rp.port, 860);
	CHECK_EQ(rp.lun, 0x000a000000000000ull);
	CHECK_EQ(dhcpc_rootpath_parse("iscsi:storage.example.com::::iqn.s", &rp),
		 0);
	CHECK_STR(rp.host, "storage.example.com");
	/* an empty server (RFC 4173: discovery) stays empty */
	CHECK_EQ(dhcpc_rootpath_parse("iscsi:::::iqn.s", &rp), 0);
	CHECK_STR(rp.host, "");
}

static void test_dracut_forms(void)
{
	struct dhcpc_rootpath rp;

	CHECK_EQ(dhcpc_rootpath_parse(
			 "iscsi:alice:s3cr:et@10.1.1.1::3260::iqn.a:b", &rp), -22);
	CHECK_EQ(dhcpc_rootpath_parse(
			 "iscsi:alice:secret@10.1.1.1::3260::iqn.a:b", &rp), 0);
	CHECK_STR(rp.user, "alice");
	CHECK_STR(rp.password, "secret");
	CHECK_STR(rp.ruser, "");
	CHECK_STR(rp.host, "10.1.1.1");
	CHECK_EQ(dhcpc_rootpath_parse(
			 "iscsi:u:p:ru:rp@[::1]:6:3260:2:iqn.a:b", &rp), 0);
	CHECK_STR(rp.ruser, "ru");
	CHECK_STR(rp.rpassword, "rp");
	CHECK_STR(rp.host, "::1");
	CHECK_EQ(rp.lun, 0x0002000000000000ull);
	/* proto:port:iface:netdev:LUN and proto:port:netdev:LUN */
	CHECK_EQ(dhcpc_rootpath_parse(
			 "iscsi:1.2.3.4::3260:default:eth0:3:iqn.a:b", &rp), 0);
	CHECK_STR(rp.iface, "default");
	CHECK_STR(rp.netdev, "eth0");
	CHECK_EQ(rp.lun, 0x0003000000000000ull);
	CHECK_EQ(dhcpc_rootpath_parse("iscsi:1.2.3.4:::eth1::iqn.a", &rp), 0);
	CHECK_STR(rp.iface, "");
	CHECK_STR(rp.netdev, "eth1");
}

static void test_rejects(void)
{
	static const char *const bad[] = {
		"", "iscsi:", "nfs:1.2.3.4:/x", "iscsi:1.2.3.4", "iscsi:h::::",
		"iscsi:h:::xyz:iqn.a", "iscsi:h:::1-2-3-4-5:iqn.a",
		"iscsi:h:::12345:iqn.a", "iscsi:h:::1--2:iqn.a",
		"iscsi:h::70000::iqn.a", "iscsi:h:tcp:::iqn.a",
		"iscsi:[fe80::1::3260::iqn.a", "iscsi:[nothex]::::iqn.a",
		"iscsi:user@h::::iqn.a", "iscsi:u:@h::::iqn.a",
		"iscsi:h::0::iqn.a",
	};
	struct dhcpc_rootpath rp;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = dhcpc_rootpath_parse(bad[i], &rp);
		if (r != -22)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK_EQ(r, -22);
	}
	/* on error nothing of the secret stays in the output */
	memset(&rp, 'x', sizeof(rp));
	CHECK_EQ(dhcpc_rootpath_parse("iscsi:u:pw@h:::zz:iqn.a", &rp), -22);
	CHECK_EQ(rp.password[0], 0);
}

int main(void)
{
	test_rfc_forms();
	test_ipv6_and_hosts();
	test_dracut_forms();
	test_rejects();
	return test_report("test-dhcpc-rootpath");
}
