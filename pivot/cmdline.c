/* SPDX-License-Identifier: MIT */
/*
 * Every configuration key of every dialect in one table: the kernel's own
 * (root=, ip=, init=...), dracut's (netroot=, rd.iscsi.*), initramfs-tools'
 * (iscsi_*, and the ISCSI_* of /etc/iscsi.initramfs, which
 * initramfs-file.c feeds through the same table) and iscsiroot.*. Also the
 * kernel command line's splitting and boot_config_finish(). The keys and
 * the precedence between sources are documented in pivot/README.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pivot.h"

#define PARAM_MAX 4096          /* x86's COMMAND_LINE_SIZE is 2048 */
#define KEY_NAME_MAX 64
#define LOGIN_RETRY_MAX 10000   /* dracut's getargnum range for it */

struct boot_key;
typedef int (*key_setter)(struct boot_config *bc, const struct boot_key *k,
			  const char *v);

enum {
	KEY_SECRET = 1 << 0,    /* the value may hold a password: never in err */
	KEY_FILE = 1 << 1,      /* /etc/iscsi.initramfs may set it, in upper case */
};

/* One key. v is NULL when the key came alone ("iscsi_auto", "ro"). */
/* Packed into 24 bytes a row (the table has ~50). */
struct boot_key {
	const char *name;
	key_setter set;
	uint32_t flags : 8;
	uint32_t off : 24;      /* the field, for the generic setters */
	uint16_t size;
};
_Static_assert(sizeof(struct boot_config) < (1u << 24), "boot_key.off is 24 bits");

#define FIELD(f) offsetof(struct boot_config, f), sizeof(((struct boot_config *)0)->f)

static void *field(struct boot_config *bc, const struct boot_key *k)
{
	return (char *)bc + k->off;
}

/* ---- Value parsers */

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "", "1", "y", "yes", "true", "on" };
	static const char *const no[] = { "0", "n", "no", "false", "off" };

	if (!v)
		v = "";
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (!strcmp(v, yes[i]))
			return *out = true, 0;
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (!strcmp(v, no[i]))
			return *out = false, 0;
	return -EINVAL;
}

/* A decimal in [min, max]; empty (or the bare key) gives def. */
static int parse_number(const char *v, uint64_t min, uint64_t max, uint64_t def,
			uint64_t *out)
{
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	return parse_u64(v, min, max, out) < 0 ? -EINVAL : 0;
}

/* A decimal in [0, max] that must be given. */
static int parse_count(const char *v, uint64_t max, uint64_t *out)
{
	return v && parse_u64(v, 0, max, out) == 0 ? 0 : -EINVAL;
}

/* ---- Setters */

static int set_string(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	char *dst = field(bc, k);

	if (!v)
		v = "";
	if (strlen(v) >= k->size)
		return -EINVAL;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int set_bool(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	return parse_bool(v, field(bc, k));
}

/* Each root=/netroot=iscsi: is one more path, in the order written; the
 * same one twice is one, and past BOOT_MAX_PATHS they are left out. */
static int add_path(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	struct dhcpc_rootpath rp;
	char source[16];

	if (dhcpc_rootpath_parse(v, &rp) < 0)
		return -EINVAL;
	snprintf(source, sizeof(source), "%s=", k->name);
	boot_config_add_path(bc, &rp, source);
	secure_zero(&rp, sizeof(rp));
	return 0;
}

/* root=iscsi:... is a path (both dialects); any other root= names the
 * filesystem. initramfs-tools users give both: root=iscsi:... root=UUID=... */
static int set_root(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	if (v && !strncmp(v, "iscsi:", 6))
		return add_path(bc, k, v);
	return set_string(bc, k, v);
}

/* Only iscsi: netroots are ours (nbd:, nfs: belong to other modules). */
static int set_netroot(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	return v && !strncmp(v, "iscsi:", 6) ? add_path(bc, k, v) : 0;
}

static int set_read_only(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	(void)v;
	bc->read_only = k->name[1] == 'o';
	return 0;
}

/* rd.iscsi.firmware[=1], rd.iscsi.ibft[=1], iscsi_firmware. */
static int set_firmware(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	bool on;

	(void)k;
	if (parse_bool(v, &on) < 0)
		return -EINVAL;
	bc->firmware = on ? BOOT_FW_FORCE : BOOT_FW_AUTO;
	return 0;
}

/* Debian's script tests [ -n "$ISCSI_AUTO" ]: any value but "" is on. */
static int set_iscsi_auto(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	(void)k;
	bc->firmware = !v || *v ? BOOT_FW_FORCE : BOOT_FW_AUTO;
	return 0;
}

static int set_target_group(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	uint64_t n;

	(void)k;
	if (parse_number(v, 0, 65535, 0, &n) < 0)
		return -EINVAL;
	bc->target_group = (unsigned)n;
	return 0;
}

static int set_target_port(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	uint64_t n;

	(void)k;
	if (parse_number(v, 1, 65535, 0, &n) < 0)
		return -EINVAL;
	bc->it_port = (uint16_t)n;
	return 0;
}

#define HOST_MAX sizeof(((struct dhcpc_rootpath *)0)->host)

/* An address as iscsistart's -a takes it: IPv4, IPv6 (brackets allowed)
 * or a host name. */
static bool address_ok(const char *s, size_t len)
{
	if (len == 0 || len >= HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!s[i] || !strchr("0123456789abcdefghijklmnopqrstuvwxyz"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-_:%[]", s[i]))
			return false;
	return true;
}

/* Calls fn for each word of s, split as the shell's default IFS does
 * (Debian's script runs `for i in $ISCSI_TARGET_IP`); fn's error. */
static int for_each_word(const char *s, int (*fn)(const char *w, size_t len, void *ctx),
			 void *ctx)
{
	for (;;) {
		size_t len;
		int r;

		s += strspn(s, " \t\n");
		if (!*s)
			return 0;
		len = strcspn(s, " \t\n");
		r = fn(s, len, ctx);
		if (r < 0)
			return r;
		s += len;
	}
}

/* dracut's ip=ibft is no address: it asks for the firmware's. ip= once
 * per interface (ip=eth0:dhcp ip=eth1:dhcp, one NIC a path): each is
 * kept, space-separated, and dhcpc_config_add_ip() reads them in order,
 * so one that names no interface replaces them all (the kernel's rule:
 * the last ip= wins), one for an interface named before replaces that. */
/* A key given again adds a word (ip= one per interface, ifname=); an
 * empty value clears. */
static int add_word(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	char *dst = field(bc, k);
	size_t have = strlen(dst);

	if (!v || !*v || !have)
		return set_string(bc, k, v);
	if (have + 1 + strlen(v) >= k->size)
		return -EINVAL;
	dst[have] = ' ';
	memcpy(dst + have + 1, v, strlen(v) + 1);
	return 0;
}

static int set_ip(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	if (v && !strcmp(v, "ibft")) {
		bc->firmware = BOOT_FW_FORCE;
		return 0;
	}
	return add_word(bc, k, v);
}

static int check_address(const char *w, size_t len, void *ctx)
{
	(void)ctx;
	return address_ok(w, len) ? 0 : -EINVAL;
}

/* ISCSI_TARGET_IP="10.0.0.1 10.0.0.2": one path per portal. */
static int set_target_ips(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	int r = for_each_word(v ? v : "", check_address, NULL);

	if (r == 0)
		r = set_string(bc, k, v);
	if (r == 0)
		bc->it_ips_dracut = false;
	return r;
}

/* dracut reads every rd.iscsi.target.ip= given (getargs): each one adds
 * its portals to the earlier ones; it replaces what any other key set. */
static int add_target_ips(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	size_t have = strlen(bc->it_ips);
	int r;

	if (!bc->it_ips_dracut || !have) {
		r = set_target_ips(bc, k, v);
		if (r == 0)
			bc->it_ips_dracut = true;
		return r;
	}
	if (!v || for_each_word(v, check_address, NULL) < 0 ||
	    have + 1 + strlen(v) >= sizeof(bc->it_ips))
		return -EINVAL;
	bc->it_ips[have] = ' ';
	memcpy(bc->it_ips + have + 1, v, strlen(v) + 1);
	return 0;
}

/* rd.iscsi.param=KEY=VALUE: open-iscsi node keys, applied by whoever
 * builds the session. A bad value of a key we know fails here, where the
 * admin sees it; a key we do not know is carried (open-iscsi has dozens
 * that mean nothing without its kernel driver) and reported when applied. */
static int set_param(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	struct iscsi_config scratch;
	char key[128];
	const char *eq = v ? strchr(v, '=') : NULL;
	int r;

	(void)k;
	if (!eq || eq == v || (size_t)(eq - v) >= sizeof(key) ||
	    strlen(v) >= sizeof(bc->params[0]))
		return -EINVAL;
	if (bc->nparams >= BOOT_MAX_PARAMS)
		return -E2BIG;
	memcpy(key, v, (size_t)(eq - v));
	key[eq - v] = '\0';
	iscsi_config_defaults(&scratch);
	r = iscsi_config_set_node_param(&scratch, key, eq + 1);
	secure_zero(&scratch, sizeof(scratch));
	if (r == -EINVAL)
		return r;
	memcpy(bc->params[bc->nparams++], v, strlen(v) + 1);
	return 0;
}

/* dracut passes only a positive count on to the initiator: 0 sets no
 * limit, like leaving the key out. */
static int set_login_retry_max(struct boot_config *bc, const struct boot_key *k,
			       const char *v)
{
	uint64_t n;

	(void)k;
	if (parse_count(v, LOGIN_RETRY_MAX, &n) < 0)
		return -EINVAL;
	bc->login_retry_max = n ? (int)n : -1;
	return 0;
}

static int set_wait(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	uint64_t n;

	(void)k;
	if (parse_count(v, 86400 * 365, &n) < 0)
		return -EINVAL;
	bc->wait_s = (int)n;
	return 0;
}

static int set_replacement(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	uint64_t n;

	(void)k;
	if (parse_count(v, 86400 * 365, &n) < 0)
		return -EINVAL;
	bc->replacement_timeout_ms = (int64_t)n * 1000;
	return 0;
}

/* An unsigned field from 0 to 16 (iscsiroot.queues, .ublk_buffers). */
static int set_count16(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	uint64_t n;

	if (parse_count(v, 16, &n) < 0)
		return -EINVAL;
	*(unsigned *)field(bc, k) = (unsigned)n;
	return 0;
}

static int set_nbd_mode(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	(void)k;
	if (!v || (strcmp(v, "ioctl") && strcmp(v, "netlink")))
		return -EINVAL;
	bc->nbd_ioctl = !strcmp(v, "ioctl");
	return 0;
}

/* An absolute path (iscsiroot.trace): the daemon opens it before the
 * pivot, when a relative one would name nothing the system can find. */
static int set_path(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	if (!v || v[0] != '/')
		return -EINVAL;
	return set_string(bc, k, v);
}

static int set_blockdev(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	if (!v || (strcmp(v, "nbd") && strcmp(v, "ublk")))
		return -EINVAL;
	return set_string(bc, k, v);
}

static int set_multipath(struct boot_config *bc, const struct boot_key *k, const char *v)
{
	(void)k;
	return v ? iscsi_mpath_parse_policy(v, &bc->mpath_policy) : -EINVAL;
}

/* ---- The table: one row per spelling, grouped by dialect */

static const struct boot_key keys[] = {
	/* the kernel's */
	{ "root", set_root, KEY_SECRET, FIELD(root) },
	{ "rootfstype", set_string, 0, FIELD(rootfstype) },
	{ "rootflags", set_string, 0, FIELD(rootflags) },
	{ "ro", set_read_only, 0, 0, 0 },
	{ "rw", set_read_only, 0, 0, 0 },
	{ "init", set_string, 0, FIELD(init) },
	{ "ip", set_ip, 0, FIELD(ip) },
	{ "BOOTIF", set_string, 0, FIELD(bootif) },
	{ "ifname", add_word, 0, FIELD(ifname) },
	/* dracut's (dracut also reads the iscsi_* below as old aliases) */
	{ "netroot", set_netroot, KEY_SECRET, 0, 0 },
	{ "rd.iscsi.initiator", set_string, 0, FIELD(initiator) },
	{ "rd.iscsi.target.name", set_string, 0, FIELD(it_target) },
	{ "rd.iscsi.target.ip", add_target_ips, 0, FIELD(it_ips) },
	{ "rd.iscsi.target.port", set_target_port, 0, 0, 0 },
	{ "rd.iscsi.target.group", set_target_group, 0, 0, 0 },
	{ "rd.iscsi.username", set_string, 0, FIELD(user) },
	{ "rd.iscsi.password", set_string, KEY_SECRET, FIELD(password) },
	{ "rd.iscsi.in.username", set_string, 0, FIELD(ruser) },
	{ "rd.iscsi.in.password", set_string, KEY_SECRET, FIELD(rpassword) },
	{ "rd.iscsi.param", set_param, KEY_SECRET, 0, 0 },
	{ "iscsi_param", set_param, KEY_SECRET, 0, 0 },
	{ "rd.iscsi.firmware", set_firmware, 0, 0, 0 },
	{ "iscsi_firmware", set_firmware, 0, 0, 0 },
	{ "rd.iscsi.ibft", set_firmware, 0, 0, 0 },
	{ "rd.iscsi.login_retry_max", set_login_retry_max, 0, 0, 0 },
	{ "rd.iscsi.waitnet", set_bool, 0, FIELD(waitnet) },
	{ "rd.iscsi.testroute", set_bool, 0, FIELD(testroute) },
	{ "rd.debug", set_bool, 0, FIELD(debug) },
	/* initramfs-tools' (command line, and ISCSI_* in the file) */
	{ "iscsi_initiator", set_string, KEY_FILE, FIELD(initiator) },
	{ "iscsi_target_name", set_string, KEY_FILE, FIELD(it_target) },
	{ "iscsi_target_ip", set_target_ips, KEY_FILE, FIELD(it_ips) },
	{ "iscsi_target_port", set_target_port, KEY_FILE, 0, 0 },
	{ "iscsi_target_group", set_target_group, KEY_FILE, 0, 0 },
	{ "iscsi_username", set_string, KEY_FILE, FIELD(user) },
	{ "iscsi_password", set_string, KEY_FILE | KEY_SECRET, FIELD(password) },
	{ "iscsi_in_username", set_string, KEY_FILE, FIELD(ruser) },
	{ "iscsi_in_password", set_string, KEY_FILE | KEY_SECRET, FIELD(rpassword) },
	{ "iscsi_auto", set_iscsi_auto, KEY_FILE, 0, 0 },
	/* ours */
	{ "iscsiroot.debug", set_bool, 0, FIELD(debug) },
	{ "iscsiroot.shell", set_bool, 0, FIELD(shell) },
	{ "iscsiroot.timeout", set_wait, 0, 0, 0 },
	{ "iscsiroot.replacement_timeout", set_replacement, 0, 0, 0 },
	{ "iscsiroot.queues", set_count16, 0, FIELD(queues) },
	{ "iscsiroot.ublk_buffers", set_count16, 0, FIELD(ublk_buffer_mib) },
	{ "iscsiroot.nbd", set_nbd_mode, 0, 0, 0 },
	{ "iscsiroot.blockdev", set_blockdev, 0, FIELD(blockdev) },
	{ "iscsiroot.trace", set_path, 0, FIELD(trace) },
	{ "iscsiroot.multipath", set_multipath, 0, 0, 0 },
};

/* The file's ISCSI_TARGET_IP is the command line's iscsi_target_ip; shell
 * names are case-sensitive, so the file's lower-case names are not ours. */
static const struct boot_key *find_key(const char *name, bool from_file)
{
	char lower[KEY_NAME_MAX];
	size_t len = strlen(name);

	if (from_file) {
		if (len >= sizeof(lower))
			return NULL;
		for (size_t i = 0; i <= len; i++) {
			if (name[i] >= 'a' && name[i] <= 'z')
				return NULL;
			lower[i] = name[i] >= 'A' && name[i] <= 'Z'
				   ? (char)(name[i] - 'A' + 'a') : name[i];
		}
		name = lower;
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return !from_file || (keys[i].flags & KEY_FILE) ? &keys[i] : NULL;
	return NULL;
}

bool boot_config_key_is_secret(const char *name)
{
	const struct boot_key *k = find_key(name, false);

	if (!k)
		k = find_key(name, true);
	return k && (k->flags & KEY_SECRET);
}

int boot_config_apply(struct boot_config *bc, const char *key, const char *value,
		      bool from_file, const char *where, char *err, size_t errlen)
{
	const struct boot_key *k = find_key(key, from_file);
	int r;

	if (!k)
		return -ENOENT;
	r = k->set(bc, k, value);
	if (r == -E2BIG)
		snprintf(err, errlen, "%.64s= %s: more than %d parameters", key, where,
			 BOOT_MAX_PARAMS);
	else if (r < 0 && (k->flags & KEY_SECRET))
		/* root=, netroot= and rd.iscsi.param= may carry CHAP secrets. */
		snprintf(err, errlen, "invalid value for %.64s= %s", key, where);
	else if (r < 0)
		snprintf(err, errlen, "invalid value '%.64s' for %.64s= %s",
			 value ? value : "", key, where);
	return r < 0 ? -EINVAL : 0;
}

/* ---- The kernel command line */

/* Splits the next parameter off like the kernel's next_arg(): spaces
 * separate, double quotes group and are dropped. *too_long: it did not
 * fit in out (a truncated value must not pass for the real one). */
static const char *next_param(const char *p, char *out, size_t outlen, bool *too_long)
{
	bool quoted = false;
	size_t n = 0;

	*too_long = false;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (!*p)
		return NULL;
	for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (n + 1 < outlen)
			out[n++] = *p;
		else
			*too_long = true;
	}
	out[n] = '\0';
	return p;
}

void boot_config_init(struct boot_config *bc)
{
	memset(bc, 0, sizeof(*bc));
	bc->read_only = true;
	bc->replacement_timeout_ms = -1;
	bc->login_retry_max = -1;
	bc->waitnet = true;
	bc->testroute = true;
	strcpy(bc->init, "/sbin/init");
}

int boot_cmdline_parse(const char *cmdline, struct boot_config *bc,
		       char *err, size_t errlen)
{
	static const char where[] = "on the kernel command line";
	char param[PARAM_MAX];
	const char *p = cmdline;
	bool too_long;
	int r = 0;

	while (r == 0 && (p = next_param(p, param, sizeof(param), &too_long)) != NULL) {
		char *eq = strchr(param, '=');

		if (too_long) {
			snprintf(err, errlen, "a parameter longer than %d bytes %s",
				 PARAM_MAX - 1, where);
			r = -EINVAL;
			break;
		}
		if (eq)
			*eq = '\0';
		r = boot_config_apply(bc, param, eq ? eq + 1 : NULL, false, where,
				      err, errlen);
		if (r == -ENOENT)
			r = 0;
	}
	secure_zero(param, sizeof(param));
	return r;
}

/* ---- Once every source is read */

static int add_it_path(const char *w, size_t len, void *ctx)
{
	struct boot_config *bc = ctx;
	struct dhcpc_rootpath rp;

	if (!address_ok(w, len))
		return -EINVAL;
	if (w[0] == '[' && len > 2 && w[len - 1] == ']') {
		w++;
		len -= 2;
	}
	memset(&rp, 0, sizeof(rp));
	memcpy(rp.host, w, len);
	rp.port = bc->it_port ? bc->it_port : DHCPC_DEFAULT_ISCSI_PORT;
	rp.protocol = DHCPC_DEFAULT_ISCSI_PROTO;
	/* initramfs-tools has no LUN variable: its script logs in to the whole
	 * target and lets root= pick the disk among the LUNs. */
	rp.lun = BOOT_LUN_ANY;
	snprintf(rp.target, sizeof(rp.target), "%s", bc->it_target);
	boot_config_add_path(bc, &rp, bc->it_ips_dracut ? "rd.iscsi.target.ip="
							: "iscsi_target_ip=");
	return 0;
}

/* Each pair on its own, as both scripts do: a root= with user:pass@ keeps
 * the dialect-wide in.username/in.password for mutual CHAP. */
static void give_default_chap(const struct boot_config *bc, struct dhcpc_rootpath *rp)
{
	if (!rp->user[0] && bc->user[0]) {
		memcpy(rp->user, bc->user, sizeof(rp->user));
		memcpy(rp->password, bc->password, sizeof(rp->password));
	}
	if (!rp->ruser[0] && bc->ruser[0]) {
		memcpy(rp->ruser, bc->ruser, sizeof(rp->ruser));
		memcpy(rp->rpassword, bc->rpassword, sizeof(rp->rpassword));
	}
}

static bool in_subnet(const struct dhcpc_ipconf *ip, const char *host)
{
	struct in_addr a;

	return ip->mode == DHCPC_IP_STATIC && ip->netmask.s_addr &&
	       inet_pton(AF_INET, host, &a) == 1 &&
	       !((a.s_addr ^ ip->addr.s_addr) & ip->netmask.s_addr);
}

/* ip= that names an interface (the kernel's <device> field, dracut's
 * ip=eth1:dhcp): the network is that interface, so are the paths. With
 * ip= for several interfaces, a path goes through the one whose static
 * subnet holds its portal (else it names none: any). */
static void give_ip_interface(const struct boot_config *bc, struct dhcpc_rootpath *rp)
{
	struct dhcpc_config dc;

	dhcpc_config_init(&dc);
	if (rp->netdev[0] || !bc->ip[0] || dhcpc_config_add_ip(&dc, bc->ip) < 0)
		return;
	if (!dc.nmore_ip || in_subnet(&dc.ip, rp->host))
		memcpy(rp->netdev, dc.ip.device, sizeof(rp->netdev));
	for (int i = 0; i < dc.nmore_ip; i++)
		if (in_subnet(&dc.more_ip[i], rp->host))
			memcpy(rp->netdev, dc.more_ip[i].device, sizeof(rp->netdev));
}

void boot_config_finish(struct boot_config *bc)
{
	/* Debian's script needs both; without them it does nothing. The
	 * paths of root=/netroot=iscsi: win over these, as in both dialects
	 * (Debian's root=iscsi: sets ISCSI_TARGET_IP; dracut's netroot
	 * fields override rd.iscsi.target.*). */
	if (bc->npaths == 0 && bc->it_target[0] && bc->it_ips[0] &&
	    for_each_word(bc->it_ips, add_it_path, bc) < 0)
		bc->npaths = 0;   /* only if bc was edited by hand: set_target_ips checks */
	for (unsigned i = 0; i < bc->npaths; i++) {
		give_default_chap(bc, &bc->paths[i]);
		give_ip_interface(bc, &bc->paths[i]);
	}
}
