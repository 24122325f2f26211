/* SPDX-License-Identifier: MIT */
/*
 * Every configuration key of every dialect, table-driven: each row is an
 * /etc/iscsi.initramfs text (read first, as every mode does), a kernel
 * command line (read second) and the fields expected after
 * boot_config_finish(), or the error expected.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pivot.h"
#include "test.h"

#define SECRET "hunter2"

/* ---- Fields by name, formatted as text, so that rows read "field=value" */

enum kind { STR, BOOL, UINT, INT, I64, U16 };

static const struct field {
	const char *name;
	enum kind kind;
	size_t off;
} fields[] = {
#define F(n, k) { #n, k, offsetof(struct boot_config, n) }
	F(root, STR), F(rootfstype, STR), F(rootflags, STR), F(read_only, BOOL),
	F(init, STR), F(npaths, UINT), F(initiator, STR), F(target_group, UINT),
	F(user, STR), F(password, STR), F(ruser, STR), F(rpassword, STR),
	F(it_target, STR), F(it_ips, STR), F(it_port, U16), F(nparams, UINT),
	F(firmware, INT), F(login_retry_max, INT), F(waitnet, BOOL),
	F(testroute, BOOL), F(ip, STR), F(bootif, STR), F(debug, BOOL),
	F(shell, BOOL), F(wait_s, INT), F(blockdev, STR), F(nbd_ioctl, BOOL),
	F(queues, UINT), F(ublk_buffer_mib, UINT), F(replacement_timeout_ms, I64),
	F(trace, STR), F(mpath_policy, INT),
#undef F
};

/* A path's field: "p1.host" is paths[1].host. */
static bool show_path(const struct boot_config *bc, const char *name, char *out, size_t len)
{
	const struct dhcpc_rootpath *rp;

	if (name[0] != 'p' || name[1] < '0' || name[1] > '3' || name[2] != '.')
		return false;
	rp = &bc->paths[name[1] - '0'];
	name += 3;
	if (!strcmp(name, "host")) snprintf(out, len, "%s", rp->host);
	else if (!strcmp(name, "port")) snprintf(out, len, "%u", rp->port);
	else if (!strcmp(name, "lun")) snprintf(out, len, "%" PRIx64, rp->lun);
	else if (!strcmp(name, "target")) snprintf(out, len, "%s", rp->target);
	else if (!strcmp(name, "user")) snprintf(out, len, "%s", rp->user);
	else if (!strcmp(name, "password")) snprintf(out, len, "%s", rp->password);
	else if (!strcmp(name, "ruser")) snprintf(out, len, "%s", rp->ruser);
	else if (!strcmp(name, "rpassword")) snprintf(out, len, "%s", rp->rpassword);
	else if (!strcmp(name, "netdev")) snprintf(out, len, "%s", rp->netdev);
	else return false;
	return true;
}

static bool show(const struct boot_config *bc, const char *name, char *out, size_t len)
{
	if (!strncmp(name, "param", 5) && name[5] >= '0' && name[5] <= '9' && !name[6]) {
		snprintf(out, len, "%s", bc->params[name[5] - '0']);
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const void *p = (const char *)bc + fields[i].off;

		if (strcmp(name, fields[i].name))
			continue;
		switch (fields[i].kind) {
		case STR: snprintf(out, len, "%s", (const char *)p); break;
		case BOOL: snprintf(out, len, "%d", *(const bool *)p); break;
		case UINT: snprintf(out, len, "%u", *(const unsigned *)p); break;
		case INT: snprintf(out, len, "%d", *(const int *)p); break;
		case I64: snprintf(out, len, "%" PRId64, *(const int64_t *)p); break;
		case U16: snprintf(out, len, "%u", *(const uint16_t *)p); break;
		}
		return true;
	}
	return show_path(bc, name, out, len);
}

/* ---- The rows */

#define FW_FORCE "firmware=1"
#define ANY_LUN "ffffffffffffffff"
#define T "iqn.2025-01.x:disk"

struct row {
	const char *file;            /* /etc/iscsi.initramfs text, or NULL */
	const char *cmdline;         /* or NULL */
	int rc;
	const char *expect[12];      /* "field=value"; for errors "err~text" */
};

static const struct row rows[] = {
	/* defaults */
	{ NULL, "console=ttyS0 quiet", 0, { "read_only=1", "init=/sbin/init", "npaths=0",
	  "replacement_timeout_ms=-1", "login_retry_max=-1", "waitnet=1", "testroute=1",
	  "firmware=0", "target_group=0" } },

	/* the kernel's keys */
	{ NULL, "root=UUID=1234-abcd rootfstype=ext4 rootflags=noatime,data=ordered rw", 0,
	  { "root=UUID=1234-abcd", "rootfstype=ext4", "rootflags=noatime,data=ordered",
	    "read_only=0" } },
	{ NULL, "rw ro", 0, { "read_only=1" } },
	{ NULL, "init=\"/sbin/my init\" rootflags=\"a b\"", 0,
	  { "init=/sbin/my init", "rootflags=a b" } },
	{ NULL, "ip=10.0.0.2::10.0.0.1:255.255.255.0:h:eth0:off BOOTIF=01-52-54-00-12-34-56", 0,
	  { "ip=10.0.0.2::10.0.0.1:255.255.255.0:h:eth0:off", "bootif=01-52-54-00-12-34-56",
	    "firmware=0" } },
	{ NULL, "ip=ibft", 0, { "ip=", FW_FORCE } },

	/* root=/netroot=iscsi: (both dialects; dracut's auth and IPv6) */
	{ NULL, "root=iscsi:10.0.0.1::3260:1:" T, 0,
	  { "npaths=1", "root=", "p0.host=10.0.0.1", "p0.port=3260", "p0.lun=1000000000000",
	    "p0.target=" T } },
	{ NULL, "root=iscsi:u:pw@[fd00::1]:6:3261:0:" T " root=UUID=abcd", 0,
	  { "npaths=1", "root=UUID=abcd", "p0.host=fd00::1", "p0.port=3261", "p0.user=u",
	    "p0.password=pw" } },
	{ NULL, "root=iscsi:u:pw:tu:tpw@10.0.0.1::::" T, 0,
	  { "p0.user=u", "p0.password=pw", "p0.ruser=tu", "p0.rpassword=tpw" } },
	{ NULL, "netroot=iscsi:10.0.0.1::::" T " netroot=iscsi:10.0.1.1::3261::" T, 0,
	  { "npaths=2", "p0.host=10.0.0.1", "p1.host=10.0.1.1", "p1.port=3261", "p1.lun=0" } },
	{ NULL, "netroot=nbd:srv:disk netroot=dhcp", 0, { "npaths=0" } },
	/* every root=/netroot=iscsi: is a path, in the order written */
	{ NULL, "netroot=iscsi:10.0.0.2::::" T " root=iscsi:10.0.0.1::::" T
	  " netroot=iscsi:10.0.0.3::::" T, 0,
	  { "npaths=3", "p0.host=10.0.0.2", "p1.host=10.0.0.1", "p2.host=10.0.0.3" } },
	/* the same host:port:target:LUN is one path, the first one's CHAP kept:
	 * 3260 given or not, an IPv6 address spelt two ways, the name's case */
	{ NULL, "netroot=iscsi:u:pw@10.0.0.1::::" T " root=iscsi:10.0.0.1:6:3260:0:" T
	  " netroot=iscsi:[fd00::1]::::" T " netroot=iscsi:[fd00:0::01]::::IQN.2025-01.X:DISK",
	  0, { "npaths=2", "p0.host=10.0.0.1", "p0.user=u", "p1.host=fd00::1" } },
	/* another LUN or port of the same portal is another path */
	{ NULL, "netroot=iscsi:10.0.0.1:::1:" T " netroot=iscsi:10.0.0.1:::2:" T
	  " netroot=iscsi:10.0.0.1::3261:1:" T, 0,
	  { "npaths=3", "p1.lun=2000000000000", "p2.port=3261" } },
	/* past BOOT_MAX_PATHS: a warning each, the rest left out */
	{ NULL, "netroot=iscsi:a::::" T " netroot=iscsi:b::::" T " netroot=iscsi:c::::" T
	  " netroot=iscsi:d::::" T " netroot=iscsi:e::::" T " netroot=iscsi:a::::" T, 0,
	  { "npaths=4", "p0.host=a", "p3.host=d" } },
	/* the interface: dracut's netdev field, else ip='s device */
	{ NULL, "ip=10.0.0.5::10.0.0.1:255.255.255.0:h:eth2:off netroot=iscsi:10.0.0.1::::" T
	  " netroot=iscsi:10.0.0.2::3260:eth1:0:" T, 0,
	  { "npaths=2", "p0.netdev=eth2", "p1.netdev=eth1", "p1.host=10.0.0.2" } },
	{ NULL, "ip=dhcp netroot=iscsi:10.0.0.1::::" T, 0, { "p0.netdev=" } },
	/* IPv6: dracut's static [v6] form names the interface too; a [v6]
	 * target in the root-path, its port after the brackets */
	{ NULL, "ip=[fd00::5]::[fd00::1]:64:h:eth2:none netroot=iscsi:[fd00::1]::3261::" T,
	  0, { "ip=[fd00::5]::[fd00::1]:64:h:eth2:none", "p0.netdev=eth2",
	       "p0.host=fd00::1", "p0.port=3261" } },
	{ NULL, "ip=eth1:dhcp6 root=iscsi:[2001:db8::7]::::" T, 0,
	  { "ip=eth1:dhcp6", "p0.netdev=eth1", "p0.host=2001:db8::7" } },
	{ NULL, "ip=auto6 netroot=iscsi:[fd00::1]::::" T, 0, { "ip=auto6", "p0.netdev=" } },
	/* dracut's own example: netroot=iscsi (no colon) with the firmware */
	{ NULL, "netroot=iscsi rd.iscsi.firmware=1 rd.iscsi.param=node.session.timeo.replacement_timeout=30",
	  0, { "npaths=0", FW_FORCE, "nparams=1" } },

	/* dracut's rd.iscsi.* */
	{ NULL, "rd.iscsi.initiator=iqn.2025-01.x:h rd.iscsi.target.group=2", 0,
	  { "initiator=iqn.2025-01.x:h", "target_group=2" } },
	{ NULL, "rd.iscsi.username=u rd.iscsi.password=p rd.iscsi.in.username=tu "
	  "rd.iscsi.in.password=tp", 0, { "user=u", "password=p", "ruser=tu", "rpassword=tp" } },
	{ NULL, "rd.iscsi.param=node.session.timeo.replacement_timeout=30 "
	  "iscsi_param=node.conn[0].iscsi.HeaderDigest=CRC32C rd.iscsi.param=node.session.cmds_max=64",
	  0, { "nparams=3", "param0=node.session.timeo.replacement_timeout=30",
	       "param1=node.conn[0].iscsi.HeaderDigest=CRC32C", "param2=node.session.cmds_max=64" } },
	{ NULL, "rd.iscsi.firmware", 0, { FW_FORCE } },
	{ NULL, "rd.iscsi.firmware=1", 0, { FW_FORCE } },
	{ NULL, "rd.iscsi.firmware rd.iscsi.firmware=0", 0, { "firmware=0" } },
	{ NULL, "iscsi_firmware", 0, { FW_FORCE } },
	{ NULL, "rd.iscsi.ibft=1", 0, { FW_FORCE } },
	{ NULL, "rd.iscsi.login_retry_max=5 rd.iscsi.waitnet=0 rd.iscsi.testroute=0 rd.debug", 0,
	  { "login_retry_max=5", "waitnet=0", "testroute=0", "debug=1" } },
	{ NULL, "rd.iscsi.login_retry_max=5 rd.iscsi.login_retry_max=0", 0,
	  { "login_retry_max=-1" } },
	{ NULL, "rd.iscsi.waitnet=no rd.iscsi.testroute=off rd.iscsi.waitnet", 0,
	  { "waitnet=1", "testroute=0" } },

	/* dracut's rd.iscsi.target.* (iscsi_target_* are its old names): every
	 * rd.iscsi.target.ip= adds portals, each one path */
	{ NULL, "rd.iscsi.target.name=" T " rd.iscsi.target.ip=10.0.0.1 "
	  "rd.iscsi.target.ip=\"10.0.0.2 [fd00::3]\" rd.iscsi.target.port=3261", 0,
	  { "npaths=3", "p0.host=10.0.0.1", "p1.host=10.0.0.2", "p2.host=fd00::3",
	    "p2.port=3261", "p0.target=" T, "p0.lun=" ANY_LUN } },
	{ "ISCSI_TARGET_NAME=" T "\nISCSI_TARGET_IP=10.0.0.9\n",
	  "rd.iscsi.target.ip=10.0.0.1 rd.iscsi.target.ip=10.0.0.2", 0,
	  { "npaths=2", "p0.host=10.0.0.1", "p1.host=10.0.0.2" } },
	{ NULL, "rd.iscsi.target.ip=10.0.0.1 iscsi_target_ip=10.0.0.5 iscsi_target_name=" T, 0,
	  { "npaths=1", "p0.host=10.0.0.5" } },
	{ NULL, "rd.iscsi.target.name=iqn.x:other rd.iscsi.target.ip=10.9.9.9 "
	  "netroot=iscsi:10.0.0.1::::" T, 0, { "npaths=1", "p0.target=" T } },

	/* initramfs-tools' iscsi_* on the command line */
	{ NULL, "iscsi_initiator=iqn.2025-01.x:h iscsi_target_name=" T " iscsi_target_ip=10.0.0.1 "
	  "iscsi_target_port=3261 iscsi_target_group=1", 0,
	  { "initiator=iqn.2025-01.x:h", "npaths=1", "p0.host=10.0.0.1", "p0.port=3261",
	    "p0.target=" T, "p0.lun=" ANY_LUN, "target_group=1", "p0.user=" } },
	/* the order of the keys does not matter; the port defaults to 3260 */
	{ NULL, "iscsi_target_ip=10.0.0.1 iscsi_target_name=" T, 0,
	  { "npaths=1", "p0.host=10.0.0.1", "p0.port=3260", "p0.target=" T } },
	{ NULL, "iscsi_target_ip=\"10.0.0.1 [fd00::2]  host.example\" iscsi_target_name=" T, 0,
	  { "npaths=3", "p0.host=10.0.0.1", "p1.host=fd00::2", "p2.host=host.example",
	    "p2.target=" T, "p2.port=3260" } },
	{ NULL, "iscsi_username=u iscsi_password=p iscsi_in_username=tu iscsi_in_password=tp "
	  "iscsi_target_name=" T " iscsi_target_ip=10.0.0.1", 0,
	  { "user=u", "password=p", "ruser=tu", "rpassword=tp", "p0.user=u", "p0.password=p",
	    "p0.ruser=tu", "p0.rpassword=tp" } },
	{ NULL, "iscsi_target_ip=\"10.0.0.1 10.0.0.1 10.0.0.2\" iscsi_target_name=" T, 0,
	  { "npaths=2", "p1.host=10.0.0.2" } },
	{ NULL, "iscsi_target_ip=\"1 2 3 4 5 6\" iscsi_target_name=" T, 0,
	  { "npaths=4", "p3.host=4" } },
	{ NULL, "iscsi_target_name=" T, 0, { "npaths=0", "it_target=" T } },
	{ NULL, "iscsi_target_ip=10.0.0.1", 0, { "npaths=0" } },
	{ NULL, "iscsi_auto", 0, { FW_FORCE } },
	/* root=iscsi: wins over iscsi_target_*, wherever it stands */
	{ NULL, "iscsi_target_name=iqn.x:other iscsi_target_ip=10.9.9.9 root=iscsi:10.0.0.1::::" T,
	  0, { "npaths=1", "p0.host=10.0.0.1", "p0.target=" T } },
	/* dialect-wide CHAP: only for paths with none of their own, pair by pair */
	{ NULL, "rd.iscsi.username=u rd.iscsi.password=p rd.iscsi.in.username=tu "
	  "rd.iscsi.in.password=tp netroot=iscsi:own:ownpw@10.0.0.1::::" T
	  " netroot=iscsi:10.0.1.1::::" T, 0,
	  { "p0.user=own", "p0.password=ownpw", "p0.ruser=tu", "p0.rpassword=tp",
	    "p1.user=u", "p1.password=p", "p1.ruser=tu", "p1.rpassword=tp" } },

	/* iscsiroot.* */
	{ NULL, "iscsiroot.debug iscsiroot.shell=1 iscsiroot.timeout=120 iscsiroot.blockdev=ublk "
	  "iscsiroot.replacement_timeout=30 iscsiroot.queues=4 iscsiroot.nbd=ioctl "
	  "iscsiroot.ublk_buffers=8 iscsiroot.trace=/run/reads", 0,
	  { "debug=1", "shell=1", "wait_s=120", "blockdev=ublk", "replacement_timeout_ms=30000",
	    "queues=4", "nbd_ioctl=1", "ublk_buffer_mib=8", "trace=/run/reads" } },
	{ NULL, "iscsiroot.nbd=netlink iscsiroot.blockdev=nbd iscsiroot.shell=0", 0,
	  { "nbd_ioctl=0", "blockdev=nbd", "shell=0", "mpath_policy=0" } },
	{ NULL, "iscsiroot.multipath=round-robin", 0, { "mpath_policy=1" } },
	{ NULL, "iscsiroot.multipath=round-robin iscsiroot.multipath=failover", 0,
	  { "mpath_policy=0" } },

	/* /etc/iscsi.initramfs: every ISCSI_* key, the shell's quoting */
	{ "# Debian's example\n"
	  "ISCSI_INITIATOR=\"iqn.1993-08.org.debian:01:9b3e\"\n"
	  "ISCSI_TARGET_NAME=" T "\n"
	  "ISCSI_TARGET_IP=192.168.1.1\n"
	  "ISCSI_TARGET_PORT=3261\n"
	  "ISCSI_USERNAME=\"username\"\n"
	  "ISCSI_PASSWORD='pa ss\"word'\n"
	  "ISCSI_IN_USERNAME=in_username\n"
	  "ISCSI_IN_PASSWORD=\"in\\\"pass\\$\"\n"
	  "ISCSI_TARGET_GROUP=1\n", NULL, 0,
	  { "initiator=iqn.1993-08.org.debian:01:9b3e", "npaths=1", "p0.host=192.168.1.1",
	    "p0.port=3261", "p0.target=" T, "target_group=1", "p0.user=username",
	    "p0.password=pa ss\"word", "p0.ruser=in_username", "p0.rpassword=in\"pass$" } },
	{ "export ISCSI_TARGET_NAME=" T "   # trailing comment\n"
	  "  ISCSI_TARGET_IP=\"10.0.0.1 10.0.0.2\"; ISCSI_TARGET_PORT=''\n"
	  "export PATH\n\n\t# indented comment\r\n"
	  "ISCSI_AUTO=true\n", NULL, 0,
	  { "npaths=2", "p0.host=10.0.0.1", "p1.host=10.0.0.2", "p1.port=3260", FW_FORCE } },
	{ "ISCSI_USERNAME=a'b'\"c\"\\ d\nISCSI_PASSWORD=x#y\nISCSI_IN_USERNAME=\"multi\nline\"\n",
	  NULL, 0, { "user=abc d", "password=x#y", "ruser=multi\nline" } },
	{ "ISCSI_AUTO=\"\"\n", NULL, 0, { "firmware=0" } },
	/* other variables, lower-case names and command-line-only keys are not the file's */
	{ "InitiatorName=iqn.x:y\niscsi_target_name=" T "\nISCSI_ROOT_LUN=3\nROOT=/dev/sda\n"
	  "RD_ISCSI_FIRMWARE=1\n", NULL, 0, { "initiator=", "it_target=", "firmware=0", "root=" } },
	/* the command line overrides the file key by key */
	{ "ISCSI_TARGET_NAME=" T "\nISCSI_TARGET_IP=10.0.0.1\nISCSI_USERNAME=fileuser\n"
	  "ISCSI_PASSWORD=filepw\n",
	  "iscsi_target_ip=10.0.0.9 iscsi_password=cmdpw", 0,
	  { "npaths=1", "p0.host=10.0.0.9", "p0.target=" T, "p0.user=fileuser",
	    "p0.password=cmdpw" } },
	{ "ISCSI_TARGET_NAME=" T "\nISCSI_TARGET_IP=10.0.0.1\nISCSI_USERNAME=fileuser\n",
	  "iscsi_username=", 0, { "npaths=1", "p0.user=" } },
	{ "ISCSI_TARGET_NAME=" T "\nISCSI_TARGET_IP=10.0.0.1\n",
	  "netroot=iscsi:10.0.5.5::::" T, 0, { "npaths=1", "p0.host=10.0.5.5" } },

	/* errors: the message names the key, and the value unless it is secret */
	{ NULL, "iscsiroot.timeout=soon", -EINVAL, { "err~'soon' for iscsiroot.timeout=" } },
	{ NULL, "iscsiroot.replacement_timeout=-1", -EINVAL, { "err~iscsiroot.replacement_timeout" } },
	{ NULL, "iscsiroot.blockdev=floppy", -EINVAL, { "err~iscsiroot.blockdev" } },
	{ NULL, "iscsiroot.multipath=random", -EINVAL, { "err~iscsiroot.multipath" } },
	{ NULL, "iscsiroot.trace=run/reads", -EINVAL, { "err~iscsiroot.trace" } },
	{ NULL, "iscsiroot.nbd=carrier-pigeon", -EINVAL, { "err~iscsiroot.nbd" } },
	{ NULL, "iscsiroot.queues=17", -EINVAL, { "err~iscsiroot.queues" } },
	{ NULL, "iscsiroot.ublk_buffers=17", -EINVAL, { "err~iscsiroot.ublk_buffers" } },
	{ NULL, "iscsiroot.shell=maybe", -EINVAL, { "err~iscsiroot.shell" } },
	{ NULL, "rd.iscsi.waitnet=2", -EINVAL, { "err~rd.iscsi.waitnet" } },
	{ NULL, "rd.iscsi.firmware=sure", -EINVAL, { "err~rd.iscsi.firmware" } },
	{ NULL, "rd.iscsi.login_retry_max=10001", -EINVAL, { "err~rd.iscsi.login_retry_max" } },
	{ NULL, "rd.iscsi.login_retry_max", -EINVAL, { "err~rd.iscsi.login_retry_max" } },
	{ NULL, "rd.iscsi.target.group=65536", -EINVAL, { "err~rd.iscsi.target.group" } },
	{ NULL, "iscsi_target_group=one", -EINVAL, { "err~iscsi_target_group" } },
	{ NULL, "iscsi_target_port=0", -EINVAL, { "err~iscsi_target_port" } },
	{ NULL, "iscsi_target_port=65536", -EINVAL, { "err~iscsi_target_port" } },
	{ NULL, "rd.iscsi.target.ip=10.0.0.1 rd.iscsi.target.ip=10.0.0.2;x", -EINVAL,
	  { "err~rd.iscsi.target.ip" } },
	{ NULL, "rd.iscsi.target.port=0", -EINVAL, { "err~rd.iscsi.target.port" } },
	{ NULL, "iscsi_target_ip=10.0.0.1;reboot", -EINVAL, { "err~iscsi_target_ip" } },
	{ NULL, "rd.iscsi.param=novalue", -EINVAL, { "err~rd.iscsi.param=" } },
	{ NULL, "rd.iscsi.param==x", -EINVAL, { "err~rd.iscsi.param=" } },
	{ NULL, "rd.iscsi.param=node.conn[0].iscsi.HeaderDigest=MD5", -EINVAL,
	  { "err~rd.iscsi.param=" } },
	{ NULL, "root=iscsi:10.0.0.1::99999::" T, -EINVAL, { "err~invalid value for root=" } },
	{ NULL, "rd.iscsi.initiator=\"" "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "01234567890123456789012345678901234567890123456789\"", -EINVAL,
	  { "err~rd.iscsi.initiator" } },
	{ "ISCSI_TARGET_PORT=http\n", NULL, -EINVAL,
	  { "err~'http' for ISCSI_TARGET_PORT= in /etc/iscsi.initramfs line 1" } },
	{ "# one\nISCSI_TARGET_NAME=\"unterminated\n", NULL, -EINVAL,
	  { "err~line 3: unterminated quote" } },
	{ "ISCSI_TARGET_IP=$IP\n", NULL, -EINVAL, { "err~line 1: shell expansion" } },
	{ "ISCSI_TARGET_IP=\"`cat /x`\"\n", NULL, -EINVAL, { "err~shell expansion" } },
	{ "\n\nif true; then ISCSI_AUTO=1; fi\n", NULL, -EINVAL,
	  { "err~line 3: not a NAME=value assignment" } },
	{ "ISCSI_TARGET_IP=a|b\n", NULL, -EINVAL, { "err~not a plain" } },
	{ "ISCSI_USERNAME=x\\", NULL, -EINVAL, { "err~backslash" } },
};

static void check_row(size_t i, const struct row *t)
{
	struct boot_config bc;
	char err[256] = "", got[512];
	int rc = 0;

	boot_config_init(&bc);
	if (t->file)
		rc = boot_config_parse_initramfs(t->file, &bc, err, sizeof(err));
	if (rc == 0 && t->cmdline)
		rc = boot_cmdline_parse(t->cmdline, &bc, err, sizeof(err));
	if (rc == 0)
		boot_config_finish(&bc);
	if (rc != t->rc)
		fprintf(stderr, "row %zu: rc %d (%s)\n", i, rc, err);
	CHECK_EQ(rc, t->rc);
	for (size_t j = 0; j < ARRAY_SIZE(t->expect) && t->expect[j]; j++) {
		const char *e = t->expect[j], *eq = strchr(e, '=');
		char name[32];

		if (!strncmp(e, "err~", 4)) {
			if (!strstr(err, e + 4))
				fprintf(stderr, "row %zu: err \"%s\" lacks \"%s\"\n", i, err, e + 4);
			CHECK(strstr(err, e + 4) != NULL);
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(eq - e), e);
		if (!show(&bc, name, got, sizeof(got))) {
			fprintf(stderr, "row %zu: no field %s\n", i, name);
			CHECK(false);
			continue;
		}
		if (strcmp(got, eq + 1))
			fprintf(stderr, "row %zu: %s is \"%s\", expected \"%s\"\n", i, name, got, eq + 1);
		CHECK_STR(got, eq + 1);
	}
}

static void test_rows(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		check_row(i, &rows[i]);
}

/* ---- Secrets: for every key that carries one, a bad value never
 * reaches the message. Passwords are bad when too long (300 bytes). */

static void check_secret_error(const char *file, const char *cmdline)
{
	struct boot_config bc;
	char err[512] = "";
	int rc;

	boot_config_init(&bc);
	rc = file ? boot_config_parse_initramfs(file, &bc, err, sizeof(err))
		  : boot_cmdline_parse(cmdline, &bc, err, sizeof(err));
	CHECK_EQ(rc, -EINVAL);
	CHECK(err[0] != '\0');
	if (strstr(err, SECRET))
		fprintf(stderr, "secret in: %s\n", err);
	CHECK(strstr(err, SECRET) == NULL);
}

static void test_secrets_never_echoed(void)
{
	static const char *const password_keys[] = {
		"rd.iscsi.password", "rd.iscsi.in.password", "iscsi_password",
		"iscsi_in_password",
	};
	static const char *const file_keys[] = { "ISCSI_PASSWORD", "ISCSI_IN_PASSWORD" };
	static const char *const malformed[] = {
		"root=iscsi:user:" SECRET "@",
		"root=iscsi:user:" SECRET "@10.0.0.1:6:notaport::" T,
		"netroot=iscsi:user:" SECRET ":in:" SECRET "@",
		"netroot=iscsi:a:" SECRET ":b:c:d@10.0.0.1::::" T,
		"rd.iscsi.param=" SECRET,
		"iscsi_param=node.session.auth.password_in=" SECRET SECRET SECRET SECRET SECRET
		SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET
		SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET
		SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET,
	};
	char longpw[300], line[400];

	for (size_t i = 0; i + strlen(SECRET) < sizeof(longpw); i += strlen(SECRET))
		memcpy(longpw + i, SECRET, strlen(SECRET) + 1);
	for (size_t i = 0; i < ARRAY_SIZE(password_keys); i++) {
		snprintf(line, sizeof(line), "%s=%s", password_keys[i], longpw);
		check_secret_error(NULL, line);
	}
	for (size_t i = 0; i < ARRAY_SIZE(file_keys); i++) {
		snprintf(line, sizeof(line), "%s=\"%s\"\n", file_keys[i], longpw);
		check_secret_error(line, NULL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(malformed); i++)
		check_secret_error(NULL, malformed[i]);
	/* a password in a malformed file line is not echoed either */
	check_secret_error("ISCSI_PASSWORD=\"" SECRET "\nISCSI_TARGET_IP=$x\n", NULL);
	check_secret_error("ISCSI_PASSWORD=" SECRET "|x\n", NULL);
}

/* ---- Command-line framing */

static void test_overlong_parameter(void)
{
	struct boot_config bc;
	char err[256], *line = malloc(5000);

	memcpy(line, "init=/", 6);
	memset(line + 6, 'x', 4990);
	line[4996] = '\0';
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse(line, &bc, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "longer than") != NULL);
	free(line);
}

static void test_too_many_params(void)
{
	struct boot_config bc;
	char err[256], line[2048] = "";

	for (int i = 0; i <= BOOT_MAX_PARAMS; i++)
		strcat(line, "rd.iscsi.param=node.session.cmds_max=64 ");
	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse(line, &bc, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "more than 16 parameters") != NULL);
}

/* boot_config_finish() may run twice (every mode calls it once; a caller
 * adding a source later calls it again) without adding paths twice. */
static void test_finish_idempotent(void)
{
	struct boot_config bc;
	char err[256];

	boot_config_init(&bc);
	CHECK_EQ(boot_cmdline_parse("iscsi_target_name=" T " iscsi_target_ip=\"a b\" "
				    "iscsi_username=u", &bc, err, sizeof(err)), 0);
	boot_config_finish(&bc);
	boot_config_finish(&bc);
	CHECK_EQ(bc.npaths, 2);
	CHECK_STR(bc.paths[1].user, "u");
}

/* ---- The file itself */

static void test_read_file(void)
{
	char path[] = "/tmp/test-cmdline-XXXXXX", err[256];
	struct boot_config bc;
	int fd = mkstemp(path);
	static const char text[] = "ISCSI_TARGET_NAME=" T "\nISCSI_TARGET_IP=10.0.0.7\n";

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, sizeof(text) - 1), (long)sizeof(text) - 1);
	boot_config_init(&bc);
	CHECK_EQ(boot_config_read_initramfs_file(path, &bc, err, sizeof(err)), 0);
	boot_config_finish(&bc);
	CHECK_EQ(bc.npaths, 1);
	CHECK_STR(bc.paths[0].host, "10.0.0.7");

	/* a NUL byte: not the text file it should be */
	CHECK_EQ(write(fd, "\0", 1), 1);
	CHECK_EQ(boot_config_read_initramfs_file(path, &bc, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "not a text file") != NULL);
	/* larger than 64 KiB */
	CHECK_EQ(ftruncate(fd, 70000), 0);
	CHECK_EQ(boot_config_read_initramfs_file(path, &bc, err, sizeof(err)), -EFBIG);
	close(fd);
	unlink(path);

	/* a missing file is no error and changes nothing */
	boot_config_init(&bc);
	CHECK_EQ(boot_config_read_initramfs_file(path, &bc, err, sizeof(err)), 0);
	CHECK_STR(bc.it_target, "");
	/* a directory is */
	CHECK(boot_config_read_initramfs_file("/", &bc, err, sizeof(err)) < 0);
}

int main(void)
{
	test_rows();
	test_secrets_never_echoed();
	test_overlong_parameter();
	test_too_many_params();
	test_finish_idempotent();
	test_read_file();
	return test_report("cmdline");
}
