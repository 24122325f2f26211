/* SPDX-License-Identifier: MIT */
/*
 * iscsistart: open-iscsi's boot-time login tool, as a drop-in. Called as
 * `iscsistart` (argv[0]) or `iscsiroot iscsistart`, with its options and
 * exit codes (0 success; 1 any login failure, "session exists" included;
 * 7 invalid arguments; 21 no firmware entries). The data path stays in
 * userspace, so "logging in" means: the root-storage daemon attaches the
 * LUN as /dev/nbdN (or ublk) and keeps serving it, and
 * /dev/disk/by-path/ip-ADDR:PORT-iscsi-TARGET-lun-N points at it as udev
 * would have made it for a SCSI disk — which is what Debian's
 * initramfs script looks for.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "pivot.h"
#include "rootd.h"

enum {
	ISTART_OK = 0,
	ISTART_ERR = 1,         /* ISCSI_ERR: any login failure */
	ISTART_INVAL = 7,       /* ISCSI_ERR_INVAL */
	ISTART_NO_OBJS = 21,    /* ISCSI_ERR_NO_OBJS_FOUND */
};

#define RECORD_VERSION "2.1.8"
#define BY_PATH "/dev/disk/by-path"

struct istart {
	struct boot_config bc;  /* paths[0] and params[] carry the options */
	const char *address[16];        /* -a, each one (argv's strings) */
	unsigned naddress;
	bool have_tpgt, fw_connect, fw_network, fw_print;
};

static const struct option istart_options[] = {
	{ "initiatorname", required_argument, NULL, 'i' },
	{ "targetname", required_argument, NULL, 't' },
	{ "tgpt", required_argument, NULL, 'g' },
	{ "address", required_argument, NULL, 'a' },
	{ "port", required_argument, NULL, 'p' },
	{ "username", required_argument, NULL, 'u' },
	{ "password", required_argument, NULL, 'w' },
	{ "username_in", required_argument, NULL, 'U' },
	{ "password_in", required_argument, NULL, 'W' },
	{ "debug", required_argument, NULL, 'd' },
	{ "fwparam_connect", no_argument, NULL, 'b' },
	{ "fwparam_network", no_argument, NULL, 'N' },
	{ "fwparam_print", no_argument, NULL, 'f' },
	{ "param", required_argument, NULL, 'P' },
	{ "config", required_argument, NULL, 'c' },
	{ "version", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static const char istart_help[] =
	"usage: iscsistart [OPTION]\n"
	"iscsiroot's drop-in for open-iscsi's iscsistart: logs in to a target and\n"
	"attaches its first disk LUN as a block device served by a daemon that\n"
	"stays, with /dev/disk/by-path/ip-ADDR:PORT-iscsi-TARGET-lun-N to it.\n"
	"  -i, --initiatorname=NAME\tinitiator name (required unless -b)\n"
	"  -t, --targetname=NAME\ttarget name (required unless -b)\n"
	"  -g, --tgpt=N\ttarget portal group tag (required unless -b)\n"
	"  -a, --address=A.B.C.D\ttarget address (required unless -b); given\n"
	"\tagain, more portals of the same target\n"
	"\t(up to 4, each with -p's port; an\n"
	"\tiscsiroot extension): all log in at once,\n"
	"\tthe first that answers serves, the others\n"
	"\tare paths of the same disk\n"
	"  -p, --port=N\ttarget port (3260)\n"
	"  -u, --username=N\tCHAP user;  -w, --password=P  its secret\n"
	"  -U, --username_in=N\tmutual CHAP; -W, --password_in=P its secret\n"
	"  -d, --debug=LEVEL\tdebug logging when LEVEL > 0\n"
	"  -b, --fwparam_connect\tlog in to the firmware's (iBFT) boot targets;\n"
	"\tthose with one name and LUN are paths to\n"
	"\tone disk, each through its own NIC\n"
	"  -N, --fwparam_network\tconfigure the firmware's boot NIC and exit\n"
	"  -f, --fwparam_print\tprint the firmware's targets as node records\n"
	"  -P, --param=NAME=VALUE\ta node setting, e.g.\n"
	"\tnode.conn[0].iscsi.HeaderDigest=CRC32C\n"
	"  -c, --config=PATH\taccepted and ignored (no iscsid.conf here)\n"
	"  -v, --version  -h, --help\n"
	"exit codes: 0 success, 1 login failure (also: session exists),\n"
	"  7 invalid arguments, 21 no firmware entries (-N, -f, -b)\n";

static int copy_arg(char *dst, size_t len, const char *v, const char *what)
{
	if (strlen(v) >= len) {
		log_err("%s is too long", what);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

static int add_param(struct istart *o, const char *v)
{
	struct iscsi_config scratch;
	char key[256], *eq;

	snprintf(key, sizeof(key), "%s", v);
	eq = strchr(key, '=');
	if (!eq || o->bc.nparams >= BOOT_MAX_PARAMS) {
		log_err("-P takes NAME=VALUE (at most %d)", BOOT_MAX_PARAMS);
		return -EINVAL;
	}
	*eq = '\0';
	iscsi_config_defaults(&scratch);
	if (iscsi_config_set_node_param(&scratch, key, eq + 1) == -EINVAL) {
		log_err("invalid value for %s", key);
		return -EINVAL;
	}
	secure_zero(&scratch, sizeof(scratch));
	return copy_arg(o->bc.params[o->bc.nparams++], sizeof(o->bc.params[0]), v, "-P");
}

static int parse_u16(const char *v, const char *what, unsigned *out)
{
	uint64_t n;

	if (parse_u64(v, 0, 65535, &n) < 0) {
		log_err("invalid %s '%s'", what, v);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

/* -a again: another portal (past BOOT_MAX_PATHS: a warning each, when
 * the paths are made, and left out). */
static int add_address(struct istart *o, const char *v)
{
	if (strlen(v) >= sizeof(o->bc.paths[0].host) || o->naddress == ARRAY_SIZE(o->address)) {
		log_err(o->naddress == ARRAY_SIZE(o->address) ? "-a given more than 16 times"
							      : "-a is too long");
		return -EINVAL;
	}
	o->address[o->naddress++] = v;
	return 0;
}

/* 0, a negative errno (bad argument), or 1 for -h/-v (already answered). */
static int parse_option(struct istart *o, int c, const char *v)
{
	struct dhcpc_rootpath *rp = &o->bc.paths[0];
	unsigned n;

	switch (c) {
	case 'i': return copy_arg(o->bc.initiator, sizeof(o->bc.initiator), v, "-i");
	case 't': return copy_arg(rp->target, sizeof(rp->target), v, "-t");
	case 'g': o->have_tpgt = true;
		  return parse_u16(v, "portal group tag", &o->bc.target_group);
	case 'a': return add_address(o, v);
	case 'p': if (parse_u16(v, "port", &n) < 0 || n == 0)
			  return -EINVAL;
		  rp->port = (uint16_t)n;
		  return 0;
	case 'u': return copy_arg(rp->user, sizeof(rp->user), v, "-u");
	case 'w': return copy_arg(rp->password, sizeof(rp->password), v, "-w");
	case 'U': return copy_arg(rp->ruser, sizeof(rp->ruser), v, "-U");
	case 'W': return copy_arg(rp->rpassword, sizeof(rp->rpassword), v, "-W");
	case 'd': o->bc.debug = atoi(v) > 0;
		  return 0;
	case 'b': o->fw_connect = true; return 0;
	case 'N': o->fw_network = true; return 0;
	case 'f': o->fw_print = true; return 0;
	case 'P': return add_param(o, v);
	case 'c': return 0;
	case 'v': printf("iscsistart from iscsiroot %s\n", ISCSIROOT_VERSION); return 1;
	case 'h': cli_print_help(stdout, istart_help); return 1;
	default: return -EINVAL;
	}
}

/* ---- -f: the firmware's targets as open-iscsi node records */

static const char *ntoa(struct in_addr a, char *buf)
{
	if (!a.s_addr)
		return "";
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void print_nic(const char *initiator, const struct ibft_nic *nic)
{
	char a[INET_ADDRSTRLEN];
	struct in_addr mask = { .s_addr = nic->prefix
		? htonl(~0u << (32 - MIN(nic->prefix, 32))) : 0 };

	printf("iface.initiatorname = %s\n", initiator);
	printf("iface.transport_name = tcp\n");
	printf("iface.hwaddress = %02x:%02x:%02x:%02x:%02x:%02x\n", nic->mac[0],
	       nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
	printf("iface.bootproto = %s\n",
	       nic->origin == 3 || nic->dhcp.s_addr ? "DHCP" : "STATIC");
	printf("iface.ipaddress = %s\n", ntoa(nic->ip, a));
	printf("iface.prefix_len = %u\n", nic->prefix);
	printf("iface.subnet_mask = %s\n", ntoa(mask, a));
	printf("iface.gateway = %s\n", ntoa(nic->gateway, a));
	printf("iface.primary_dns = %s\n", ntoa(nic->dns[0], a));
	printf("iface.secondary_dns = %s\n", ntoa(nic->dns[1], a));
	printf("iface.vlan_id = %u\n", nic->vlan);
	printf("iface.net_ifacename = %s\n", nic->ifname);
}

static void print_lun(uint64_t lun)
{
	uint64_t n;

	if (scsi_lun_to_number(lun, &n) == 0)
		printf("node.boot_lun = %llu\n", (unsigned long long)n);
	else
		printf("node.boot_lun = 0x%016llx\n", (unsigned long long)lun);
}

/* Secrets are never printed: a set one shows as ********. */
static void print_target(const struct ibft_target *t)
{
	const struct dhcpc_rootpath *rp = &t->rp;

	printf("node.name = %s\n", rp->target);
	printf("node.conn[0].address = %s\n", rp->host);
	printf("node.conn[0].port = %u\n", rp->port);
	printf("node.session.auth.username = %s\n", rp->user);
	printf("node.session.auth.password = %s\n", rp->password[0] ? "********" : "");
	printf("node.session.auth.username_in = %s\n", rp->ruser);
	printf("node.session.auth.password_in = %s\n", rp->rpassword[0] ? "********" : "");
	print_lun(rp->lun);
}

/* $ISCSIROOT_FW_ROOT: a fixture tree instead of / (tests). */
static int load_firmware(struct ibft *fw)
{
	const char *root = getenv("ISCSIROOT_FW_ROOT");
	char err[256];
	int r;

	if (!root)
		pivot_load_module("iscsi_ibft", NULL);
	r = ibft_load(root ? root : "", fw, err, sizeof(err));
	if (r < 0 && r != -ENOENT)
		log_err("%s", err);
	return r;
}

static int fw_print(void)
{
	const struct ibft_target *t[IBFT_MAX_TARGETS];
	struct ibft fw;
	unsigned n;

	if (load_firmware(&fw) < 0)
		return ISTART_NO_OBJS;
	n = ibft_boot_targets(&fw, t, IBFT_MAX_TARGETS);
	for (unsigned i = 0; i < n; i++) {
		const struct ibft_nic *nic = ibft_target_nic(&fw, t[i]);
		printf("# BEGIN RECORD " RECORD_VERSION "\n");
		if (nic)
			print_nic(fw.initiator, nic);
		print_target(t[i]);
		printf("# END RECORD\n");
	}
	secure_zero(&fw, sizeof(fw));
	return n ? ISTART_OK : ISTART_NO_OBJS;
}

/* ---- -N: the firmware's boot NIC */

static int fw_network(void)
{
	struct boot_config bc;
	struct dhcpc_config dc;
	struct dhcpc_lease lease;
	struct ibft fw;
	char err[256];
	int r;

	if (load_firmware(&fw) < 0)
		return ISTART_NO_OBJS;
	boot_config_init(&bc);
	bc.firmware = BOOT_FW_FORCE;
	r = boot_config_apply_ibft(&bc, &fw, err, sizeof(err));
	secure_zero(&fw, sizeof(fw));
	if (r <= 0)
		return ISTART_NO_OBJS;
	r = pivot_network_config(&bc, &dc, err, sizeof(err));
	dc.keep_lease = false;
	if (r == 0 && (r = dhcpc_run(&dc, &lease)) < 0)
		snprintf(err, sizeof(err), "cannot configure the firmware's NIC: %s",
			 strerror(-r));
	secure_zero(&bc, sizeof(bc));
	if (r < 0) {
		log_err("%s", err);
		return ISTART_ERR;
	}
	return ISTART_OK;
}

/* ---- Logging in: the daemon, and the by-path links udev would make */

static void by_path_name(const struct dhcpc_rootpath *rp, uint64_t lun, char *out,
			 size_t len)
{
	uint64_t n = 0;

	scsi_lun_to_number(lun, &n);
	snprintf(out, len, BY_PATH "/ip-%s:%u-iscsi-%s-lun-%llu", rp->host, rp->port,
		 rp->target, (unsigned long long)n);
}

/* Any link of this target already: the session exists. (A directory scan,
 * not glob(3), which would bring its locale and passwd code along.) */
static bool session_exists(const struct dhcpc_rootpath *rp)
{
	DIR *d = opendir(BY_PATH);
	struct dirent *e;
	char infix[300];
	bool found = false;

	snprintf(infix, sizeof(infix), "-iscsi-%s-lun-", rp->target);
	while (d && !found && (e = readdir(d)) != NULL)
		found = !strncmp(e->d_name, "ip-", 3) && strstr(e->d_name, infix) != NULL;
	if (d)
		closedir(d);
	return found;
}

static void link_one(const char *target, const char *link)
{
	unlink(link);
	if (symlink(target, link) < 0)
		log_warn("cannot create %s: %s", link, strerror(errno));
}

/* The disk and its partitions, as udev names them (-partN). */
static void make_by_path_links(const char *dev, const char *name)
{
	const char *base = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	char target[300], link[700], path[300];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ioctl(fd, BLKRRPART, 0);
		close(fd);
	}
	mkdir("/dev/disk", 0755);
	mkdir(BY_PATH, 0755);
	snprintf(target, sizeof(target), "../../%s", base);
	link_one(target, name);
	for (unsigned p = 1; p <= 16; p++) {
		snprintf(path, sizeof(path), "/sys/class/block/%sp%u", base, p);
		if (access(path, F_OK) < 0)
			continue;
		snprintf(target, sizeof(target), "../../%sp%u", base, p);
		snprintf(link, sizeof(link), "%s-part%u", name, p);
		link_one(target, link);
	}
}

/* One daemon for one disk, through the paths of bc (tried in order). It
 * has until its path's limit (the login's, from -P
 * node.conn[0].timeo.login_timeout and node.session.initial_login_retry_max,
 * then 30 s for the LUN to answer): a stuck one is stopped. The by-path
 * link names the path it logged in through. */
static int login(struct boot_config *bc, char **argv)
{
	const struct dhcpc_rootpath *rp = &bc->paths[0];
	struct daemon_start ds = { .deadline_ms = -1 };
	char name[600];
	int r;

	if (session_exists(rp)) {
		log_err("a session to %s exists already", rp->target);
		return ISTART_ERR;
	}
	/* Like iscsistart, the network is the caller's (ipconfig, -N). */
	snprintf(bc->ip, sizeof(bc->ip), "off");
	r = rootd_start(bc, argv, &ds);
	if (ds.path < bc->npaths)
		rp = &bc->paths[ds.path];
	if (r < 0) {
		log_err("cannot attach %s at %s: %s", rp->target, rp->host, ds.msg);
		return ISTART_ERR;
	}
	by_path_name(rp, ds.lun, name, sizeof(name));
	make_by_path_links(ds.dev, name);
	printf("%s\n", ds.dev);
	return ISTART_OK;
}

/* -i -t -a... : a path per -a, each with the one target, port and CHAP. */
static int login_given(struct istart *o, char **argv)
{
	struct boot_config *bc = malloc(sizeof(*bc));
	int r;

	if (!bc)
		return ISTART_ERR;
	*bc = o->bc;
	bc->npaths = 0;
	for (unsigned i = 0; i < o->naddress; i++) {
		struct dhcpc_rootpath rp = o->bc.paths[0];

		snprintf(rp.host, sizeof(rp.host), "%s", o->address[i]);
		boot_config_add_path(bc, &rp, "-a");
		secure_zero(&rp, sizeof(rp));
	}
	r = login(bc, argv);
	secure_zero(bc, sizeof(*bc));
	free(bc);
	return r;
}

/* Boot targets with one name and LUN are paths to one disk (iBFT NIC 0
 * and 1 to one target): one daemon for them, each path through its NIC. */
static int login_firmware_disk(struct istart *o, const struct ibft *fw,
			       const struct ibft_target *const *t, unsigned n, unsigned first,
			       bool *done, char **argv)
{
	struct boot_config *bc = malloc(sizeof(*bc));
	int r;

	if (!bc)
		return ISTART_ERR;
	*bc = o->bc;
	bc->npaths = 0;
	for (unsigned i = first; i < n; i++) {
		const struct ibft_nic *nic = ibft_target_nic(fw, t[i]);
		struct dhcpc_rootpath rp = t[i]->rp;

		if (done[i] || strcasecmp(rp.target, t[first]->rp.target) ||
		    rp.lun != t[first]->rp.lun)
			continue;
		done[i] = true;
		if (nic)
			memcpy(rp.netdev, nic->ifname, sizeof(rp.netdev));
		boot_config_add_path(bc, &rp, "the iBFT");
		secure_zero(&rp, sizeof(rp));
	}
	r = login(bc, argv);
	secure_zero(bc, sizeof(*bc));
	free(bc);
	return r;
}

static int fw_connect(struct istart *o, char **argv)
{
	const struct ibft_target *t[IBFT_MAX_TARGETS];
	bool done[IBFT_MAX_TARGETS] = { false };
	struct ibft fw;
	unsigned n;
	int status = ISTART_OK;

	if (load_firmware(&fw) < 0)
		return ISTART_NO_OBJS;
	n = ibft_boot_targets(&fw, t, IBFT_MAX_TARGETS);
	if (!o->bc.initiator[0])
		snprintf(o->bc.initiator, sizeof(o->bc.initiator), "%s", fw.initiator);
	for (unsigned i = 0; i < n; i++)
		if (!done[i] && login_firmware_disk(o, &fw, t, n, i, done, argv) != ISTART_OK)
			status = ISTART_ERR;
	secure_zero(&fw, sizeof(fw));
	return n ? status : ISTART_NO_OBJS;
}

static int check_required(const struct istart *o)
{
	const struct dhcpc_rootpath *rp = &o->bc.paths[0];

	if (!o->bc.initiator[0] || !rp->target[0] || !o->have_tpgt || !o->naddress) {
		log_err("initiator name (-i), target name (-t), portal group (-g) and "
			"address (-a) are required unless -b is given");
		return -EINVAL;
	}
	return 0;
}

/* While we wait for the daemon (up to the login's limit), ps shows our
 * argv: a password given there is overwritten in place once read, as
 * the kernel shows that very memory. */
static void hide_secret_arg(int opt, char *arg)
{
	char *eq = strchr(arg, '=');

	if (opt == 'w' || opt == 'W')
		memset(arg, '*', strlen(arg));
	else if (opt == 'P' && eq && memmem(arg, (size_t)(eq - arg), "password", 8))
		memset(eq + 1, '*', strlen(eq + 1));
}

int cmd_iscsistart(int argc, char **argv)
{
	struct istart o = { 0 };
	int c, r;

	log_set_prefix("iscsistart");
	boot_config_init(&o.bc);
	o.bc.paths[0].port = 3260;
	o.bc.paths[0].lun = BOOT_LUN_ANY;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:P:i:t:g:a:p:d:u:w:U:W:bNfvh", istart_options,
				NULL)) != -1) {
		r = parse_option(&o, c, optarg);
		if (optarg)
			hide_secret_arg(c, optarg);
		if (r != 0)
			return r > 0 ? ISTART_OK : ISTART_INVAL;
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return ISTART_INVAL;
	}
	if (o.bc.debug)
		log_set_level(LOG_DEBUG);
	if (o.fw_print)
		return fw_print();
	if (o.fw_network)
		return fw_network();
	if (o.fw_connect)
		r = fw_connect(&o, argv);
	else
		r = check_required(&o) < 0 ? ISTART_INVAL : login_given(&o, argv);
	secure_zero(&o, sizeof(o));
	return r;
}
