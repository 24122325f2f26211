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

/* An IPv6 NIC becomes dracut's [v6] ip=, or dhcp6 after DHCP; either
 * parses. */
static void test_v6_nic(void)
{
	struct boot_config bc;
	struct ibft fw;
	struct dhcpc_ipconf ip;
	char err[256] = "";

	fixture(&fw, 1);
	fw.nics[0].v6 = true;
	fw.nics[0].ip.s_addr = fw.nics[0].gateway.s_addr = 0;
	fw.nics[0].prefix = 64;
	inet_pton(AF_INET6, "fd00::5", &fw.nics[0].ip6);
	inet_pton(AF_INET6, "fd00::1", &fw.nics[0].gateway6);
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_STR(bc.ip, "[fd00::5]::[fd00::1]:64:node5::none");
	CHECK_EQ(dhcpc_ip_parse(bc.ip, &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_STATIC6);
	CHECK_EQ(ip.prefix6, 64);
	memset(&fw.nics[0].gateway6, 0, 16);
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_STR(bc.ip, "[fd00::5]:::64:node5::none");
	fixture(&fw, 3);
	fw.nics[0].v6 = true;
	boot_config_init(&bc);
	CHECK_EQ(boot_config_apply_ibft(&bc, &fw, err, sizeof(err)), 1);
	CHECK_STR(bc.ip, "dhcp6");
}

int main(void)
{
	test_firmware_when_nothing_else();
	test_dhcp_nic_keeps_dhcp();
	test_command_line_wins();
	test_each_target_its_nic();
	test_firmware_demanded_but_absent();
	test_v6_nic();
	return test_report("config");
}
