/* SPDX-License-Identifier: MIT */
/* The kernel command line, table-driven. */
#include <errno.h>
#include <string.h>

#include "pivot.h"
#include "test.h"

static void test_defaults_and_keys(void)
{
	struct boot_config bc;
	char err[256];

	boot_config_init(&bc);

	CHECK_EQ(boot_cmdline_parse("console=ttyS0 quiet\n", &bc, err, sizeof(err)), 0);
	CHECK(bc.read_only);
	CHECK_STR(bc.init, "/sbin/init");
	CHECK_EQ(bc.npaths, 0);
	CHECK_EQ(bc.replacement_timeout_ms, -1);

	boot_config_init(&bc);

	CHECK_EQ(boot_cmdline_parse(
		"root=UUID=1234-abcd rootfstype=ext4 rootflags=noatime,data=ordered rw "
		"init=/lib/systemd/systemd ip=10.0.0.2::10.0.0.1:255.255.255.0:h:eth0:off "
		"BOOTIF=01-52-54-00-12-34-56 rd.iscsi.initiator=iqn.2025-01.x:h "
		"netroot=iscsi:10.0.0.1::3260:1:iqn.2025-01.x:disk iscsiroot.debug "
		"iscsiroot.shell=1 iscsiroot.timeout=120 iscsiroot.blockdev=nbd "
		"iscsiroot.replacement_timeout=30", &bc, err, sizeof(err)), 0);
	CHECK_STR(bc.root, "UUID=1234-abcd");
	CHECK_STR(bc.rootfstype, "ext4");
	CHECK_STR(bc.rootflags, "noatime,data=ordered");
	CHECK(!bc.read_only);
	CHECK_STR(bc.init, "/lib/systemd/systemd");
	CHECK_STR(bc.ip, "10.0.0.2::10.0.0.1:255.255.255.0:h:eth0:off");
	CHECK_STR(bc.bootif, "01-52-54-00-12-34-56");
	CHECK_STR(bc.initiator, "iqn.2025-01.x:h");
	CHECK_EQ(bc.npaths, 1);
	CHECK_STR(bc.paths[0].host, "10.0.0.1");
	CHECK_STR(bc.paths[0].target, "iqn.2025-01.x:disk");
	CHECK_EQ(bc.paths[0].lun, 0x0001000000000000ull);
	CHECK(bc.debug);
	CHECK(bc.shell);
	CHECK_EQ(bc.wait_s, 120);
	CHECK_STR(bc.blockdev, "nbd");
	CHECK_EQ(bc.replacement_timeout_ms, 30000);
}

static void test_root_iscsi_and_quotes(void)
{
	struct boot_config bc;
	char err[256];

	boot_config_init(&bc);

	CHECK_EQ(boot_cmdline_parse("root=iscsi:u:p@[fd00::1]:6:3261:0:iqn.2025-01.x:y",
				    &bc, err, sizeof(err)), 0);
	CHECK_EQ(bc.npaths, 1);
	CHECK_STR(bc.root, "");
	CHECK_STR(bc.paths[0].host, "fd00::1");
	CHECK_EQ(bc.paths[0].port, 3261);
	CHECK_STR(bc.paths[0].user, "u");
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("init=\"/sbin/my init\" rootflags=\"a b\" ro",
				    &bc, err, sizeof(err)), 0);
	CHECK_STR(bc.init, "/sbin/my init");
	CHECK_STR(bc.rootflags, "a b");
	/* Only iscsi: netroots are ours. */
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("netroot=nbd:srv:disk", &bc, err, sizeof(err)), 0);
	CHECK_EQ(bc.npaths, 0);
}

static void test_errors(void)
{
	struct boot_config bc;
	char err[256];

	boot_config_init(&bc);

	CHECK_EQ(boot_cmdline_parse("iscsiroot.timeout=soon", &bc, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "iscsiroot.timeout") != NULL);
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("iscsiroot.blockdev=floppy", &bc, err, sizeof(err)), -EINVAL);
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("iscsiroot.nbd=carrier-pigeon", &bc, err, sizeof(err)), -EINVAL);
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("iscsiroot.queues=17", &bc, err, sizeof(err)), -EINVAL);
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("iscsiroot.queues=4", &bc, err, sizeof(err)), 0);
	CHECK_EQ(bc.queues, 4);
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("iscsiroot.nbd=ioctl", &bc, err, sizeof(err)), 0);
	CHECK(bc.nbd_ioctl);
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("root=iscsi:user:hunter2@", &bc, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "hunter2") == NULL);
	char longv[400];
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	char line[420] = "init=";
	strcat(line, longv);
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse(line, &bc, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	test_defaults_and_keys();
	test_root_iscsi_and_quotes();
	test_errors();
	return test_report("cmdline");
}
