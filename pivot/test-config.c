/* SPDX-License-Identifier: MIT */
/* Precedence between the command line and the firmware's iBFT. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "pivot.h"
#include "test.h"

static void fixture(struct ibft *fw, uint8_t origin)
{
	memset(fw, 0, sizeof(*fw));
	strcpy(fw->initiator, "iqn.2025-01.fw:initiator");
	fw->nnics = 1;
	fw->nics[0] = (struct ibft_nic){ .index = 0, .flags = 3, .origin = origin,
		.mac = { 0x52, 0x54, 0, 0xe2, 0xe0, 1 }, .prefix = 24, .vlan = 0 };
	inet_pton(AF_INET, "10.1.0.5", &fw->nics[0].ip);
	inet_pton(AF_INET, "10.1.0.1", &fw->nics[0].gateway);
	strcpy(fw->nics[0].hostname, "node5");
	fw->ntargets = 2;
	for (unsigned i = 0; i < 2; i++) {
		struct ibft_target *t = &fw->targets[i];
		t->index = i;
		t->flags = i == 1 ? 3 : 1;   /* the second is boot-selected */
		t->nic_index = 0;
		snprintf(t->rp.host, sizeof(t->rp.host), "10.1.0.%u", 10 + i);
		snprintf(t->rp.target, sizeof(t->rp.target), "iqn.2025-01.fw:disk%u", i);
		t->rp.port = 3260;
		t->rp.lun = 0x0001000000000000ull;
	}
}

static void test_firmware_when_nothing_else(void)
{
	struct boot_config bc;
	struct ibft fw;
	char err[256] = "";

	fixture(&fw, 1);
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_EQ(bc.npaths, 2);
	CHECK_STR(bc.paths[0].target, "iqn.2025-01.fw:disk1");   /* boot-selected first */
	CHECK_STR(bc.paths[1].target, "iqn.2025-01.fw:disk0");
	CHECK_STR(bc.initiator, "iqn.2025-01.fw:initiator");
	CHECK(bc.have_mac);
	CHECK_EQ(bc.mac[5], 1);
	CHECK_STR(bc.ip, "10.1.0.5::10.1.0.1:255.255.255.0:node5::off");
}

static void test_dhcp_nic_keeps_dhcp(void)
{
	struct boot_config bc;
	struct ibft fw;
	char err[256] = "";

	fixture(&fw, 3);
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_STR(bc.ip, "");
	CHECK(bc.have_mac);
}

static void test_command_line_wins(void)
{
	struct boot_config bc;
	struct ibft fw;
	char err[256] = "";

	fixture(&fw, 1);
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("netroot=iscsi:10.9.9.9::3260:1:iqn.2025-01.cmd:disk "
				    "rd.iscsi.initiator=iqn.2025-01.cmd:me ip=dhcp",
				    &bc, err, sizeof(err)), 0);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 0);
	CHECK_EQ(bc.npaths, 1);
	CHECK_STR(bc.paths[0].target, "iqn.2025-01.cmd:disk");
	CHECK(!bc.have_mac);

	/* rd.iscsi.firmware adds the firmware's boot targets after the
	 * command line's path (its precedence); ip= and the initiator name
	 * given on the command line still win. */
	CHECK_EQ(boot_cmdline_parse("rd.iscsi.firmware=1", &bc, err, sizeof(err)), 0);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_EQ(bc.npaths, 3);
	CHECK_STR(bc.paths[0].target, "iqn.2025-01.cmd:disk");
	CHECK_STR(bc.paths[1].target, "iqn.2025-01.fw:disk1");
	CHECK_STR(bc.paths[2].target, "iqn.2025-01.fw:disk0");
	CHECK_STR(bc.initiator, "iqn.2025-01.cmd:me");
	CHECK_STR(bc.ip, "dhcp");
}

/* Two NICs, one boot target through each: every target is a path through
 * its own NIC's interface; one the command line gave already stays once,
 * with the command line's CHAP; past BOOT_MAX_PATHS the rest is left out. */
static void test_each_target_its_nic(void)
{
	struct boot_config bc;
	struct ibft fw;
	char err[256] = "";

	fixture(&fw, 3);
	fw.nnics = 2;
	fw.nics[1] = fw.nics[0];
	fw.nics[1].index = 1;
	fw.nics[1].mac[5] = 2;
	strcpy(fw.nics[0].ifname, "ens3");
	strcpy(fw.nics[1].ifname, "ens4");
	fw.targets[1].nic_index = 1;
	fw.targets[0].rp.lun = 0;
	strcpy(fw.targets[0].rp.user, "fw-user");
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("rd.iscsi.firmware netroot=iscsi:cmd-user:pw@10.1.0.10::3260"
				    ":0:IQN.2025-01.FW:DISK0", &bc, err, sizeof(err)), 0);
	boot_config_finish(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_EQ(bc.npaths, 2);
	CHECK_STR(bc.paths[0].host, "10.1.0.10");
	CHECK_STR(bc.paths[0].user, "cmd-user");
	CHECK_STR(bc.paths[0].netdev, "");
	CHECK_STR(bc.paths[1].host, "10.1.0.11");
	CHECK_STR(bc.paths[1].netdev, "ens4");
	CHECK_EQ(bc.mac[5], 2);             /* the network: the first target's NIC */

	/* Nothing else named a target: both from the firmware, each its NIC. */
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_EQ(bc.npaths, 2);
	CHECK_STR(bc.paths[0].netdev, "ens4");
	CHECK_STR(bc.paths[1].netdev, "ens3");
	CHECK_STR(bc.paths[1].user, "fw-user");

	/* Four paths on the command line already: the firmware's are left out. */
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("iscsi_firmware netroot=iscsi:a::::iqn.x:d "
				    "netroot=iscsi:b::::iqn.x:d netroot=iscsi:c::::iqn.x:d "
				    "netroot=iscsi:d::::iqn.x:d", &bc, err, sizeof(err)), 0);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_EQ(bc.npaths, BOOT_MAX_PATHS);
	CHECK_STR(bc.paths[3].host, "d");
}

static void test_firmware_demanded_but_absent(void)
{
	struct boot_config bc;
	struct ibft fw;
	char err[256] = "";

	memset(&fw, 0, sizeof(fw));
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 0);
	bc.firmware = BOOT_FW_FORCE;
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "iBFT") != NULL);
	/* No iBFT on this tree at all. */
	CHECK_EQ(boot_config_use_firmware(&bc, "/nonexistent", err, sizeof(err)), -ENOENT);
	bc.firmware = BOOT_FW_AUTO;
	CHECK_EQ(boot_config_use_firmware(&bc, "/nonexistent", err, sizeof(err)), 0);
	CHECK_EQ(bc.npaths, 0);
}

/* Two NICs in the table: each its own ip= naming its interface (DHCP
 * here, static when the table says so), and the network step brings both
 * up, each on its own. */
static void test_two_nics_both_up(void)
{
	struct boot_config bc;
	struct dhcpc_config dc;
	struct ibft fw;
	char err[256] = "";

	fixture(&fw, 3);
	fw.nnics = 2;
	fw.nics[1] = fw.nics[0];
	fw.nics[1].index = 1;
	fw.nics[1].origin = 1;      /* static */
	inet_pton(AF_INET, "10.2.0.5", &fw.nics[1].ip);
	fw.nics[1].gateway.s_addr = 0;
	strcpy(fw.nics[0].ifname, "ens3");
	strcpy(fw.nics[1].ifname, "ens4");
	fw.targets[1].nic_index = 1;
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_STR(bc.ip, "10.2.0.5:::255.255.255.0:node5:ens4:off :::::ens3:dhcp");
	CHECK_EQ(pivot_network_config(&bc, &dc, err, sizeof(err)), 0);
	CHECK(dc.every_iface);
	CHECK_STR(dc.ip.device, "ens4");
	CHECK_EQ(dc.ip.mode, DHCPC_IP_STATIC);
	CHECK_EQ(dc.nmore_ip, 1);
	CHECK_STR(dc.more_ip[0].device, "ens3");
	CHECK_EQ(dc.more_ip[0].mode, DHCPC_IP_DHCP);
	CHECK_EQ(dc.nifnames, 2);   /* and by the paths */

	/* The command line's one ip= wins: the firmware adds none. */
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("ip=ens3:dhcp", &bc, err, sizeof(err)), 0);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_STR(bc.ip, "ens3:dhcp");
}

/* ip= for two interfaces and two portals: each path goes through the
 * interface whose subnet holds its portal; both interfaces come up. */
static void test_ip_per_interface(void)
{
	struct boot_config bc;
	struct dhcpc_config dc;
	char err[256] = "";

	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("ip=10.5.0.2::10.5.0.1:255.255.255.0::eth0:off "
				    "ip=10.6.0.2:::255.255.255.0::eth1:off "
				    "rd.iscsi.target.name=iqn.x:d rd.iscsi.target.ip=10.6.0.9 "
				    "rd.iscsi.target.ip=10.5.0.9", &bc, err, sizeof(err)), 0);
	boot_config_finish(&bc);
	CHECK_EQ(bc.npaths, 2);
	CHECK_STR(bc.paths[0].netdev, "eth1");
	CHECK_STR(bc.paths[1].netdev, "eth0");
	CHECK_EQ(pivot_network_config(&bc, &dc, err, sizeof(err)), 0);
	CHECK(dc.every_iface);
	CHECK_EQ(dc.nmore_ip, 1);

	/* The same interface again replaces its ip=; one naming none
	 * replaces them all: the last ip= wins, as ever. */
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("ip=eth0:dhcp ip=eth1:dhcp ip=10.5.0.2:::255.0.0.0::eth0:off",
				    &bc, err, sizeof(err)), 0);
	CHECK_EQ(pivot_network_config(&bc, &dc, err, sizeof(err)), 0);
	CHECK_STR(dc.ip.device, "eth0");
	CHECK_EQ(dc.ip.mode, DHCPC_IP_STATIC);
	CHECK_EQ(dc.nmore_ip, 1);
	CHECK_EQ(boot_cmdline_parse("ip=dhcp", &bc, err, sizeof(err)), 0);
	CHECK_EQ(pivot_network_config(&bc, &dc, err, sizeof(err)), 0);
	CHECK_STR(dc.ip.device, "");
	CHECK_EQ(dc.nmore_ip, 0);
	CHECK(!dc.every_iface);

	/* One ip= only: every path goes through its interface. */
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("ip=eth1:dhcp netroot=iscsi:10.9.0.1::::iqn.x:d", &bc,
				    err, sizeof(err)), 0);
	boot_config_finish(&bc);
	CHECK_STR(bc.paths[0].netdev, "eth1");
	CHECK_EQ(pivot_network_config(&bc, &dc, err, sizeof(err)), 0);
	CHECK(!dc.every_iface);

	/* Paths that each name their NIC: those NICs, each on its own. */
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("netroot=iscsi:10.9.0.1::::eth0:1:iqn.x:d "
				    "netroot=iscsi:10.9.1.1::::eth1:1:iqn.x:d", &bc, err,
				    sizeof(err)), 0);
	boot_config_finish(&bc);
	CHECK_EQ(pivot_network_config(&bc, &dc, err, sizeof(err)), 0);
	CHECK(dc.every_iface);
	CHECK_EQ(dc.nifnames, 2);
	CHECK_STR(dc.ifnames[1], "eth1");
}

/* dracut's ifname=, once per NIC: each renames its MAC's link; a bad one
 * is said by name. */
static void test_ifname_each(void)
{
	struct boot_config bc;
	struct dhcpc_config dc;
	char err[256];

	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("ifname=boot0:52:54:00:00:00:04 ip=boot0:dhcp "
				    "ifname=boot1:52:54:00:00:00:05 ip=boot1:dhcp "
				    "root=iscsi:10.9.0.1::::1:iqn.x:d", &bc, err,
				    sizeof(err)), 0);
	boot_config_finish(&bc);
	CHECK_EQ(pivot_network_config(&bc, &dc, err, sizeof(err)), 0);
	CHECK_EQ(dc.nrenames, 2);
	CHECK_STR(dc.renames[0].name, "boot0");
	CHECK_STR(dc.renames[1].name, "boot1");
	CHECK_EQ(dc.renames[1].mac[5], 5);
	CHECK(dc.every_iface);
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("ifname=boot0 root=iscsi:10.9.0.1::::1:iqn.x:d", &bc,
				    err, sizeof(err)), 0);
	boot_config_finish(&bc);
	CHECK_EQ(pivot_network_config(&bc, &dc, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "invalid ifname=boot0");
}

/* An IPv6 NIC becomes dracut's [v6] ip= naming its interface, or dhcp6
 * after DHCP; each parses, and two NICs are each brought up. */
static void test_v6_nic(void)
{
	struct boot_config bc;
	struct dhcpc_config dc;
	struct ibft fw;
	struct dhcpc_ipconf ip;
	char err[256] = "";

	fixture(&fw, 1);
	fw.nics[0].v6 = true;
	fw.nics[0].ip.s_addr = fw.nics[0].gateway.s_addr = 0;
	fw.nics[0].prefix = 64;
	inet_pton(AF_INET6, "fd00::5", &fw.nics[0].ip6);
	inet_pton(AF_INET6, "fd00::1", &fw.nics[0].gateway6);
	strcpy(fw.nics[0].ifname, "ens3");
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_STR(bc.ip, "[fd00::5]::[fd00::1]:64:node5:ens3:none");
	CHECK_EQ(dhcpc_ip_parse(bc.ip, &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_STATIC6);
	CHECK_EQ(ip.prefix6, 64);
	CHECK_STR(ip.device, "ens3");
	memset(&fw.nics[0].gateway6, 0, 16);
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_STR(bc.ip, "[fd00::5]:::64:node5:ens3:none");
	/* DHCP: dhcp6 on that interface, and the second NIC static v4 */
	fw.nics[0].origin = 3;
	fw.nnics = 2;
	fw.nics[1] = fw.nics[0];
	fw.nics[1].index = 1;
	fw.nics[1].v6 = false;
	fw.nics[1].prefix = 24;
	fw.nics[1].origin = 1;
	inet_pton(AF_INET, "10.2.0.5", &fw.nics[1].ip);
	strcpy(fw.nics[1].ifname, "ens4");
	fw.targets[1].nic_index = 1;
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_STR(bc.ip, "10.2.0.5:::255.255.255.0:node5:ens4:off :::::ens3:dhcp6");
	CHECK_EQ(pivot_network_config(&bc, &dc, err, sizeof(err)), 0);
	CHECK(dc.every_iface);
	CHECK_EQ(dc.nmore_ip, 1);
	CHECK_EQ(dc.more_ip[0].mode, DHCPC_IP_DHCP6);
	CHECK_STR(dc.more_ip[0].device, "ens3");
}

int main(void)
{
	test_firmware_when_nothing_else();
	test_dhcp_nic_keeps_dhcp();
	test_command_line_wins();
	test_each_target_its_nic();
	test_firmware_demanded_but_absent();
	test_two_nics_both_up();
	test_ip_per_interface();
	test_v6_nic();
	test_ifname_each();
	return test_report("config");
}
