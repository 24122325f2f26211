/* SPDX-License-Identifier: MIT */
/*
 * The iBFT ("iSCSI Boot Firmware Table (iBFT) as Defined in ACPI 3.0b",
 * IBM/Microsoft): read from the files of the kernel's iscsi_ibft driver, or
 * parsed from the ACPI table itself when that driver is not loaded. Both
 * decoders end in the same checks (nic_finish, target_finish), so one table
 * gives the same struct ibft either way. Every value is untrusted. (One
 * file past 800 lines on purpose: the two decoders and the checks they
 * share stay together, with no private header between them.)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pivot.h"

/* Header flags of NIC and target structures (iBFT §1.4.3, §1.4.4). */
#define IBFT_FL_VALID 0x01
#define IBFT_FL_BOOT_SELECTED 0x02

enum ibft_chap { IBFT_CHAP_NONE, IBFT_CHAP_ONE_WAY, IBFT_CHAP_MUTUAL };

/* The largest table file we read: string offsets and lengths are 16 bits,
 * so nothing a table refers to lies past 128 KiB. */
#define IBFT_TABLE_MAX (256u * 1024)

/* Writes one line to err and returns rc. No caller passes a secret. */
__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- What both sources give, before the common checks */

/* An address as the table holds it: 16 bytes, IPv4 as ::ffff:a.b.c.d. */
typedef uint8_t ibft_addr[16];

struct nic_fields {
	unsigned index, flags, origin, prefix, vlan;
	uint8_t mac[6];
	ibft_addr ip, gateway, dns[2], dhcp;
};

struct target_fields {
	unsigned index, flags, port, chap_type, nic_assoc;
	ibft_addr ip;
	uint8_t lun[8];              /* the SAM LUN bytes, in wire order */
};

static bool addr_is_v4(const uint8_t a[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a, mapped, sizeof(mapped)) == 0;
}

/* All zero, or ::ffff:0.0.0.0: what the kernel hides as "no address". */
static bool addr_is_null(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0 ||
	       (addr_is_v4(a) && memcmp(a + 12, zero, 4) == 0);
}

/* An IPv4 NIC's address: a v6 one among them is an error. */
static int addr_to_v4(const uint8_t a[16], struct in_addr *out)
{
	out->s_addr = 0;
	if (addr_is_null(a))
		return 0;
	if (!addr_is_v4(a))
		return -EOPNOTSUPP;
	memcpy(&out->s_addr, a + 12, 4);
	return 0;
}

/* A target's address as a root-path host: dotted IPv4, an IPv6 literal
 * (no brackets), or "" for none. */
static void addr_to_host(const uint8_t a[16], char *host, size_t cap)
{
	host[0] = '\0';
	if (addr_is_null(a))
		return;
	if (addr_is_v4(a))
		inet_ntop(AF_INET, a + 12, host, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, a, host, (socklen_t)cap);
}

/* Printable text: names and secrets never hold control characters (a
 * newline would also break the kernel's one-value-per-file output). */
static bool text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* An IPv6 NIC (its address not v4-mapped): the address and gateway are
 * kept; DNS and the DHCP server are left to DHCPv6 or the RA. */
static int nic_v6(const struct nic_fields *f, struct ibft_nic *nic)
{
	if (f->prefix > 128 || (!addr_is_null(f->gateway) && addr_is_v4(f->gateway)))
		return -EINVAL;
	nic->v6 = true;
	memcpy(&nic->ip6, f->ip, 16);
	if (!addr_is_null(f->gateway))
		memcpy(&nic->gateway6, f->gateway, 16);
	return 0;
}

static int nic_finish(const struct nic_fields *f, const char *what,
		      struct ibft_nic *nic, char *err, size_t errlen)
{
	const uint8_t *addrs[5] = { f->ip, f->gateway, f->dns[0], f->dns[1], f->dhcp };
	struct in_addr *dst[5] = { &nic->ip, &nic->gateway, &nic->dns[0],
				   &nic->dns[1], &nic->dhcp };
	bool v6 = !addr_is_null(f->ip) && !addr_is_v4(f->ip);

	if (v6 ? nic_v6(f, nic) < 0 : f->prefix > 32)
		return fail(err, errlen, -EINVAL, "iBFT %s: prefix length %u or "
			    "gateway of another family", what, f->prefix);
	/* An 802.1Q tag: the VLAN ID is its low 12 bits, the priority above
	 * them does not matter here. ID 4095 is reserved (802.1Q §9.6). */
	if ((f->vlan & 0x0fff) == 0x0fff)
		return fail(err, errlen, -EINVAL, "iBFT %s: VLAN ID 4095 is reserved",
			    what);
	for (unsigned i = 0; i < ARRAY_SIZE(addrs) && !v6; i++)
		if (addr_to_v4(addrs[i], dst[i]) < 0)
			return fail(err, errlen, -EINVAL,
				    "iBFT %s: an IPv6 address beside an IPv4 one", what);
	nic->index = f->index;
	nic->flags = (uint8_t)f->flags;
	nic->origin = (uint8_t)f->origin;
	nic->vlan = (uint16_t)(f->vlan & 0x0fff);
	nic->prefix = (uint8_t)f->prefix;
	memcpy(nic->mac, f->mac, sizeof(nic->mac));
	return 0;
}

/* The CHAP strings are already in t->rp; chap_type says which count. */
static int target_chap(unsigned chap_type, const char *what,
		       struct dhcpc_rootpath *rp, char *err, size_t errlen)
{
	if (chap_type > IBFT_CHAP_MUTUAL)
		return fail(err, errlen, -EINVAL, "iBFT %s: CHAP type %u", what,
			    chap_type);
	if (chap_type < IBFT_CHAP_MUTUAL) {
		secure_zero(rp->ruser, sizeof(rp->ruser));
		secure_zero(rp->rpassword, sizeof(rp->rpassword));
	}
	if (chap_type == IBFT_CHAP_NONE) {
		secure_zero(rp->user, sizeof(rp->user));
		secure_zero(rp->password, sizeof(rp->password));
		return 0;
	}
	if (!rp->user[0] || !rp->password[0])
		return fail(err, errlen, -EINVAL, "iBFT %s: CHAP without a name "
			    "or secret", what);
	if (chap_type == IBFT_CHAP_MUTUAL && (!rp->ruser[0] || !rp->rpassword[0]))
		return fail(err, errlen, -EINVAL, "iBFT %s: mutual CHAP without "
			    "a reverse name or secret", what);
	return 0;
}

static int target_finish(const struct target_fields *f, const char *what,
			 struct ibft_target *t, char *err, size_t errlen)
{
	int r = target_chap(f->chap_type, what, &t->rp, err, errlen);

	if (r < 0)
		return r;
	t->index = f->index;
	t->flags = (uint8_t)f->flags;
	t->nic_index = f->nic_assoc;
	addr_to_host(f->ip, t->rp.host, sizeof(t->rp.host));
	t->rp.port = f->port ? (uint16_t)f->port : DHCPC_DEFAULT_ISCSI_PORT;
	t->rp.protocol = DHCPC_DEFAULT_ISCSI_PROTO;
	t->rp.lun = get_be64(f->lun);
	return 0;
}

/* Room for one more NIC or target with this index? */
static int check_slot(const struct ibft *fw, bool nic, unsigned index,
		      char *err, size_t errlen)
{
	unsigned n = nic ? fw->nnics : fw->ntargets;
	const char *kind = nic ? "NIC" : "target";

	if (n >= (nic ? IBFT_MAX_NICS : IBFT_MAX_TARGETS))
		return fail(err, errlen, -EINVAL, "iBFT: more than %u %ss",
			    nic ? IBFT_MAX_NICS : IBFT_MAX_TARGETS, kind);
	for (unsigned i = 0; i < n; i++)
		if ((nic ? fw->nics[i].index : fw->targets[i].index) == index)
			return fail(err, errlen, -EINVAL, "iBFT: two %ss with index %u",
				    kind, index);
	return 0;
}

/* Index order, whatever order the directory or the table gave. */
static void sort_by_index(struct ibft *fw)
{
	for (unsigned i = 1; i < fw->nnics; i++)
		for (unsigned j = i; j > 0 && fw->nics[j - 1].index > fw->nics[j].index; j--) {
			struct ibft_nic tmp = fw->nics[j];

			fw->nics[j] = fw->nics[j - 1];
			fw->nics[j - 1] = tmp;
		}
	for (unsigned i = 1; i < fw->ntargets; i++)
		for (unsigned j = i; j > 0 && fw->targets[j - 1].index > fw->targets[j].index; j--) {
			struct ibft_target tmp = fw->targets[j];

			fw->targets[j] = fw->targets[j - 1];
			fw->targets[j - 1] = tmp;
		}
}

/* ---- sysfs: the kernel's drivers/firmware/iscsi_ibft.c and
 * drivers/scsi/iscsi_boot_sysfs.c. One value per file, newline-terminated
 * (subnet-mask has none); a value the table does not have is no file. */

/* The longest value we keep is 255 bytes; room for one more shows that a
 * file is too long, and one more for the newline. */
#define ATTR_MAX 258

struct sysfs_obj {
	char dir[PATH_MAX];          /* <root>/sys/firmware/ibft/target0 */
	const char *name;            /* "target0", for messages */
	char *err;
	size_t errlen;
};

/* Reads attr into buf[cap]. Returns 1 when read, 0 when the file is absent. */
static int attr_read(const struct sysfs_obj *o, const char *attr, char *buf,
		     size_t cap)
{
	char path[PATH_MAX], tmp[ATTR_MAX];
	size_t len;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", o->dir, attr) >= sizeof(path))
		return fail(o->err, o->errlen, -ENAMETOOLONG, "iBFT %s/%s: path too long",
			    o->name, attr);
	r = read_text_file(path, tmp, sizeof(tmp));
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return fail(o->err, o->errlen, r, "iBFT %s/%s: %s", o->name, attr,
			    strerror(-r));
	len = strlen(tmp);
	if (len >= cap || !text_ok(tmp, len)) {
		secure_zero(tmp, sizeof(tmp));
		return fail(o->err, o->errlen, -EINVAL, "iBFT %s/%s: too long or not text",
			    o->name, attr);
	}
	memcpy(buf, tmp, len + 1);
	secure_zero(tmp, sizeof(tmp));
	return 1;
}

/* A string attribute; absent is "". The message never shows the value. */
static int attr_text(const struct sysfs_obj *o, const char *attr, char *buf,
		     size_t cap)
{
	int r = attr_read(o, attr, buf, cap);

	if (r == 0)
		buf[0] = '\0';
	return r < 0 ? r : 0;
}

/* A decimal attribute ("%d" in the kernel); absent leaves *out alone. */
static int attr_num(const struct sysfs_obj *o, const char *attr, unsigned max,
		    unsigned *out)
{
	char buf[24];
	uint64_t v;
	int r = attr_read(o, attr, buf, sizeof(buf));

	if (r <= 0)
		return r;
	if (parse_u64(buf, 0, max, &v) < 0)
		return fail(o->err, o->errlen, -EINVAL, "iBFT %s/%s: not a number in 0..%u",
			    o->name, attr, max);
	*out = (unsigned)v;
	return 1;
}

/* "a.b.c.d" for IPv4-mapped addresses, "%pI6" (eight full groups) for the
 * rest; we also take the other IPv6 spellings. Absent is all zero. */
static int attr_addr(const struct sysfs_obj *o, const char *attr, uint8_t a[16])
{
	char buf[INET6_ADDRSTRLEN];
	int r = attr_read(o, attr, buf, sizeof(buf));

	memset(a, 0, 16);
	if (r <= 0)
		return r;
	if (inet_pton(AF_INET, buf, a + 12) == 1) {
		a[10] = a[11] = 0xff;
		return 1;
	}
	if (inet_pton(AF_INET6, buf, a) == 1)
		return 1;
	memset(a, 0, 16);
	return fail(o->err, o->errlen, -EINVAL, "iBFT %s/%s: not an IP address",
		    o->name, attr);
}

/* "%pM": aa:bb:cc:dd:ee:ff. */
static int attr_mac(const struct sysfs_obj *o, const char *attr, uint8_t mac[6])
{
	char buf[24];
	int r = attr_read(o, attr, buf, sizeof(buf));

	if (r <= 0)
		return r;
	if (strlen(buf) != 17)
		goto bad;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit_value(buf[3 * i]), lo = hex_digit_value(buf[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && buf[3 * i + 2] != ':'))
			goto bad;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
bad:
	return fail(o->err, o->errlen, -EINVAL, "iBFT %s/%s: not a MAC address",
		    o->name, attr);
}

/* Splits the rest of a "lun" value, s[0..len), into lun[byte..8). */
static bool lun_split(const char *s, size_t len, unsigned byte, uint8_t lun[8])
{
	unsigned left = 8 - byte;

	if (left == 0)
		return len == 0;
	if (len < left || len > 2 * left)
		return false;
	/* "%x" never writes a leading zero: a '0' is a whole byte. */
	if (s[0] != '0' && lun_split(s + 2, len - 2, byte + 1, lun)) {
		lun[byte] = (uint8_t)(hex_digit_value(s[0]) << 4 | hex_digit_value(s[1]));
		return true;
	}
	lun[byte] = (uint8_t)hex_digit_value(s[0]);
	return lun_split(s + 1, len - 1, byte + 1, lun);
}

/*
 * The kernel prints each of the 8 LUN bytes with "%x", unpadded: LUN 1
 * (00 01 00 00 00 00 00 00) reads "01000000". The split is not always
 * unique ("01a000000" may be 00 1a 00... or 00 01 a0 00...); where it is
 * not, an earlier byte takes two digits. That reads every single-level SAM
 * LUN right: bytes 2-7 are zero and byte 0 is zero, or 0x40 and up for
 * flat addressing. Sixteen digits are the eight bytes, padded.
 */
static int attr_lun(const struct sysfs_obj *o, const char *attr, uint8_t lun[8])
{
	char buf[24];
	size_t len;
	int r = attr_read(o, attr, buf, sizeof(buf));

	memset(lun, 0, 8);
	if (r <= 0)
		return r;
	len = strlen(buf);
	for (size_t i = 0; i < len; i++)
		if (hex_digit_value(buf[i]) < 0)
			goto bad;
	if (len == 16) {
		for (int i = 0; i < 8; i++)
			lun[i] = (uint8_t)(hex_digit_value(buf[2 * i]) << 4 |
					   hex_digit_value(buf[2 * i + 1]));
		return 1;
	}
	if (lun_split(buf, len, 0, lun))
		return 1;
bad:
	memset(lun, 0, 8);
	return fail(o->err, o->errlen, -EINVAL, "iBFT %s/%s: not a LUN", o->name, attr);
}

/* subnet-mask is only read when prefix-len is missing: both come from one
 * field, and the kernel prints the mask without a newline. */
static int attr_mask(const struct sysfs_obj *o, unsigned *prefix)
{
	struct in_addr mask;
	char buf[INET_ADDRSTRLEN];
	uint32_t m;
	int r = attr_read(o, "subnet-mask", buf, sizeof(buf));

	if (r <= 0)
		return r;
	if (inet_pton(AF_INET, buf, &mask) != 1)
		goto bad;
	m = ntohl(mask.s_addr);
	if (m & (~m >> 1))           /* ones must be contiguous from the top */
		goto bad;
	*prefix = (unsigned)__builtin_popcount(m);
	return 1;
bad:
	return fail(o->err, o->errlen, -EINVAL, "iBFT %s/subnet-mask: not a netmask",
		    o->name);
}

static int sysfs_nic(struct sysfs_obj *o, unsigned index, struct ibft *fw)
{
	struct nic_fields f = { .index = index };
	struct ibft_nic *nic = &fw->nics[fw->nnics];
	int r;

	memset(nic, 0, sizeof(*nic));
	if ((r = attr_num(o, "flags", 255, &f.flags)) < 0 ||
	    (r = attr_num(o, "origin", 255, &f.origin)) < 0 ||
	    (r = attr_addr(o, "ip-addr", f.ip)) < 0 ||
	    (r = attr_num(o, "prefix-len", 255, &f.prefix)) < 0 ||
	    (r == 0 && (r = attr_mask(o, &f.prefix)) < 0) ||
	    (r = attr_addr(o, "gateway", f.gateway)) < 0 ||
	    (r = attr_addr(o, "primary-dns", f.dns[0])) < 0 ||
	    (r = attr_addr(o, "secondary-dns", f.dns[1])) < 0 ||
	    (r = attr_addr(o, "dhcp", f.dhcp)) < 0 ||
	    (r = attr_num(o, "vlan", 65535, &f.vlan)) < 0 ||
	    (r = attr_mac(o, "mac", f.mac)) < 0 ||
	    (r = attr_text(o, "hostname", nic->hostname, sizeof(nic->hostname))) < 0)
		return r;
	r = nic_finish(&f, o->name, nic, o->err, o->errlen);
	if (r == 0)
		fw->nnics++;
	return r;
}

static int sysfs_target(struct sysfs_obj *o, unsigned index, struct ibft *fw)
{
	struct target_fields f = { .index = index };
	struct ibft_target *t = &fw->targets[fw->ntargets];
	struct dhcpc_rootpath *rp = &t->rp;
	int r;

	memset(t, 0, sizeof(*t));
	/* The kernel's name for the reverse secret is "rev-chap-name-secret". */
	if ((r = attr_num(o, "flags", 255, &f.flags)) < 0 ||
	    (r = attr_addr(o, "ip-addr", f.ip)) < 0 ||
	    (r = attr_num(o, "port", 65535, &f.port)) < 0 ||
	    (r = attr_lun(o, "lun", f.lun)) < 0 ||
	    (r = attr_num(o, "chap-type", 255, &f.chap_type)) < 0 ||
	    (r = attr_num(o, "nic-assoc", 255, &f.nic_assoc)) < 0 ||
	    (r = attr_text(o, "target-name", rp->target, sizeof(rp->target))) < 0 ||
	    (r = attr_text(o, "chap-name", rp->user, sizeof(rp->user))) < 0 ||
	    (r = attr_text(o, "chap-secret", rp->password, sizeof(rp->password))) < 0 ||
	    (r = attr_text(o, "rev-chap-name", rp->ruser, sizeof(rp->ruser))) < 0 ||
	    (r = attr_text(o, "rev-chap-name-secret", rp->rpassword,
			   sizeof(rp->rpassword))) < 0)
		return r;
	r = target_finish(&f, o->name, t, o->err, o->errlen);
	if (r == 0)
		fw->ntargets++;
	return r;
}

/* "target3" -> 3 for prefix "target"; -1 when name is not of that form,
 * -2 when it is but the number is not an index (the kernel's are u8). */
static long entry_index(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	uint64_t v;

	if (strncmp(name, prefix, n) != 0)
		return -1;
	if (parse_u64(name + n, 0, 255, &v) < 0)
		return -2;
	return (long)v;
}

/* One entry of /sys/firmware/ibft: initiator, ethernetN, targetN; the
 * kernel's acpi_header and anything else are not ours. */
static int sysfs_entry(const char *ibft_dir, const char *name, struct ibft *fw,
		       char *err, size_t errlen)
{
	struct sysfs_obj o = { .name = name, .err = err, .errlen = errlen };
	long nic = entry_index(name, "ethernet"), tgt = entry_index(name, "target");
	int r;

	if (nic == -2 || tgt == -2)
		return fail(err, errlen, -EINVAL, "iBFT: unexpected entry %s", name);
	if (nic < 0 && tgt < 0 && strcmp(name, "initiator") != 0)
		return 0;
	if ((size_t)snprintf(o.dir, sizeof(o.dir), "%s/%s", ibft_dir, name) >= sizeof(o.dir))
		return fail(err, errlen, -ENAMETOOLONG, "iBFT: path too long");
	if (nic < 0 && tgt < 0)
		return attr_text(&o, "initiator-name", fw->initiator, sizeof(fw->initiator));
	r = check_slot(fw, nic >= 0, (unsigned)(nic >= 0 ? nic : tgt), err, errlen);
	if (r < 0)
		return r;
	return nic >= 0 ? sysfs_nic(&o, (unsigned)nic, fw) : sysfs_target(&o, (unsigned)tgt, fw);
}

int ibft_read_sysfs(const char *root, struct ibft *out, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if ((size_t)snprintf(dir, sizeof(dir), "%s/sys/firmware/ibft", root) >= sizeof(dir))
		return fail(err, errlen, -ENAMETOOLONG, "iBFT: path too long");
	d = opendir(dir);
	if (!d)
		return fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	while (r == 0) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				r = fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
			break;
		}
		r = sysfs_entry(dir, de->d_name, out, err, errlen);
	}
	closedir(d);
	if (r < 0) {
		secure_zero(out, sizeof(*out));
		return r;
	}
	sort_by_index(out);
	return 0;
}

/* ---- The ACPI table. All numbers are little-endian (ACPI). */

/* The ACPI table header (ACPI 3.0b §5.2.6), 36 bytes, then 12 reserved. */
enum {
	ACPI_SIGNATURE = 0,          /* "iBFT" (also "IBFT", "BIFT") */
	ACPI_LENGTH = 4,             /* le32: the whole table */
	ACPI_REVISION = 8,           /* 1 */
	ACPI_CHECKSUM = 9,           /* makes all bytes sum to 0 mod 256 */
	IBFT_CONTROL = 48,           /* where the Control structure starts */
};

/* The header of every structure (iBFT §1.4.1). */
enum {
	HDR_ID = 0,                  /* enum ibft_struct_id */
	HDR_VERSION = 1,
	HDR_LENGTH = 2,              /* le16, with this header */
	HDR_INDEX = 4,
	HDR_FLAGS = 5,
	HDR_SIZE = 6,
};

enum ibft_struct_id {
	ID_CONTROL = 1, ID_INITIATOR = 2, ID_NIC = 3, ID_TARGET = 4,
};

/* Control (§1.4.2): le16 offsets from the table start to the initiator,
 * NIC 0, target 0, NIC 1, target 1 (more if its length allows); 0: none. */
enum { CTL_EXTENSIONS = 6, CTL_OFFSETS = 8, CTL_SIZE = 18 };

/* A string field is le16 length (without the NUL), then le16 offset. */

/* Initiator (§1.4.3): iSNS, SLP, two RADIUS servers, then the name. */
enum { INI_NAME = 70, INI_SIZE = 74 };

/* NIC (§1.4.4). Addresses are 16 bytes, IPv4 as ::ffff:a.b.c.d. */
enum {
	NIC_IP = 6, NIC_PREFIX = 22, NIC_ORIGIN = 23, NIC_GATEWAY = 24,
	NIC_DNS1 = 40, NIC_DNS2 = 56, NIC_DHCP = 72,
	NIC_VLAN = 88,               /* le16 802.1Q tag */
	NIC_MAC = 90, NIC_PCI_BDF = 96,
	NIC_HOSTNAME = 98,           /* string */
	NIC_SIZE = 102,
};

/* Target (§1.4.5). */
enum {
	TGT_IP = 6,
	TGT_PORT = 22,               /* le16 */
	TGT_LUN = 24,                /* 8 bytes, SAM order */
	TGT_CHAP_TYPE = 32, TGT_NIC_ASSOC = 33,
	TGT_NAME = 34, TGT_CHAP_NAME = 38, TGT_CHAP_SECRET = 42,
	TGT_RCHAP_NAME = 46, TGT_RCHAP_SECRET = 50,   /* strings */
	TGT_SIZE = 54,
};

struct table {
	const uint8_t *p;
	size_t len;                  /* the header's length, <= the buffer */
	char *err;
	size_t errlen;
};

/* Checks the structure at off: inside the table and at least min long. */
static int table_struct(const struct table *t, size_t off, size_t min)
{
	size_t slen;

	if (off + HDR_SIZE > t->len)
		return fail(t->err, t->errlen, -EINVAL, "iBFT table: offset %zu out of "
			    "range (%zu bytes)", off, t->len);
	slen = get_le16(t->p + off + HDR_LENGTH);
	if (slen < min || off + slen > t->len)
		return fail(t->err, t->errlen, -EINVAL, "iBFT table: structure %u at "
			    "%zu has a bad length %zu", t->p[off + HDR_ID], off, slen);
	return 0;
}

/* The string whose (length, offset) pair is at field; offset 0 or length
 * 0 is none. */
static int table_string(const struct table *t, size_t field, char *dst, size_t cap)
{
	size_t slen = get_le16(t->p + field), soff = get_le16(t->p + field + 2);

	dst[0] = '\0';
	if (slen == 0 || soff == 0)
		return 0;
	if (soff + slen > t->len)
		return fail(t->err, t->errlen, -EINVAL, "iBFT table: string at %zu out "
			    "of range", soff);
	if (slen >= cap || !text_ok((const char *)t->p + soff, slen))
		return fail(t->err, t->errlen, -EINVAL, "iBFT table: string at %zu too "
			    "long or not text", soff);
	memcpy(dst, t->p + soff, slen);
	dst[slen] = '\0';
	return 0;
}

static int table_initiator(const struct table *t, size_t off, bool *seen,
			   struct ibft *fw)
{
	int r = table_struct(t, off, INI_SIZE);

	if (r < 0)
		return r;
	if (*seen)
		return fail(t->err, t->errlen, -EINVAL, "iBFT table: two initiators");
	*seen = true;
	return table_string(t, off + INI_NAME, fw->initiator, sizeof(fw->initiator));
}

static int table_nic(const struct table *t, size_t off, struct ibft *fw)
{
	const uint8_t *p = t->p + off;
	struct nic_fields f;
	struct ibft_nic *nic;
	char what[16];
	int r;

	if ((r = table_struct(t, off, NIC_SIZE)) < 0 ||
	    (r = check_slot(fw, true, p[HDR_INDEX], t->err, t->errlen)) < 0)
		return r;
	nic = &fw->nics[fw->nnics];
	memset(nic, 0, sizeof(*nic));
	f = (struct nic_fields){
		.index = p[HDR_INDEX], .flags = p[HDR_FLAGS],
		.origin = p[NIC_ORIGIN], .prefix = p[NIC_PREFIX],
		.vlan = get_le16(p + NIC_VLAN),
	};
	memcpy(f.mac, p + NIC_MAC, 6);
	memcpy(f.ip, p + NIC_IP, 16);
	memcpy(f.gateway, p + NIC_GATEWAY, 16);
	memcpy(f.dns[0], p + NIC_DNS1, 16);
	memcpy(f.dns[1], p + NIC_DNS2, 16);
	memcpy(f.dhcp, p + NIC_DHCP, 16);
	r = table_string(t, off + NIC_HOSTNAME, nic->hostname, sizeof(nic->hostname));
	snprintf(what, sizeof(what), "ethernet%u", f.index);
	if (r == 0)
		r = nic_finish(&f, what, nic, t->err, t->errlen);
	if (r == 0)
		fw->nnics++;
	return r;
}

static int table_target(const struct table *t, size_t off, struct ibft *fw)
{
	const uint8_t *p = t->p + off;
	struct target_fields f;
	struct ibft_target *tg;
	struct dhcpc_rootpath *rp;
	char what[16];
	int r;

	if ((r = table_struct(t, off, TGT_SIZE)) < 0 ||
	    (r = check_slot(fw, false, p[HDR_INDEX], t->err, t->errlen)) < 0)
		return r;
	tg = &fw->targets[fw->ntargets];
	rp = &tg->rp;
	memset(tg, 0, sizeof(*tg));
	f = (struct target_fields){
		.index = p[HDR_INDEX], .flags = p[HDR_FLAGS],
		.port = get_le16(p + TGT_PORT), .chap_type = p[TGT_CHAP_TYPE],
		.nic_assoc = p[TGT_NIC_ASSOC],
	};
	memcpy(f.ip, p + TGT_IP, 16);
	memcpy(f.lun, p + TGT_LUN, 8);
	snprintf(what, sizeof(what), "target%u", f.index);
	if ((r = table_string(t, off + TGT_NAME, rp->target, sizeof(rp->target))) < 0 ||
	    (r = table_string(t, off + TGT_CHAP_NAME, rp->user, sizeof(rp->user))) < 0 ||
	    (r = table_string(t, off + TGT_CHAP_SECRET, rp->password,
			      sizeof(rp->password))) < 0 ||
	    (r = table_string(t, off + TGT_RCHAP_NAME, rp->ruser, sizeof(rp->ruser))) < 0 ||
	    (r = table_string(t, off + TGT_RCHAP_SECRET, rp->rpassword,
			      sizeof(rp->rpassword))) < 0 ||
	    (r = target_finish(&f, what, tg, t->err, t->errlen)) < 0)
		return r;
	fw->ntargets++;
	return 0;
}

/* The ACPI header: signature, a length that fits the buffer, revision 1
 * (the only one the kernel takes) and the checksum. */
static int table_header(const uint8_t *buf, size_t buflen, size_t *len,
			char *err, size_t errlen)
{
	uint8_t sum = 0;
	uint32_t tlen;

	if (buflen < IBFT_CONTROL + CTL_SIZE)
		return fail(err, errlen, -EINVAL, "iBFT table: only %zu bytes", buflen);
	if (memcmp(buf, "iBFT", 4) && memcmp(buf, "IBFT", 4) && memcmp(buf, "BIFT", 4))
		return fail(err, errlen, -EINVAL, "iBFT table: bad signature");
	tlen = get_le32(buf + ACPI_LENGTH);
	if (tlen < IBFT_CONTROL + CTL_SIZE || tlen > buflen)
		return fail(err, errlen, -EINVAL, "iBFT table: length %u, but %zu bytes",
			    tlen, buflen);
	if (buf[ACPI_REVISION] != 1)
		return fail(err, errlen, -EINVAL, "iBFT table: revision %u",
			    buf[ACPI_REVISION]);
	for (uint32_t i = 0; i < tlen; i++)
		sum = (uint8_t)(sum + buf[i]);
	if (sum != 0)
		return fail(err, errlen, -EINVAL, "iBFT table: bad checksum");
	*len = tlen;
	return 0;
}

/* One structure named by the Control structure, by its ID; the kernel
 * skips IDs it does not know, and so do we. */
static int table_entry(const struct table *t, size_t off, bool *initiator,
		       struct ibft *fw)
{
	if (off < IBFT_CONTROL + CTL_SIZE)
		return fail(t->err, t->errlen, -EINVAL, "iBFT table: offset %zu inside "
			    "the headers", off);
	if (off + HDR_SIZE > t->len)
		return table_struct(t, off, HDR_SIZE);
	switch (t->p[off + HDR_ID]) {
	case ID_INITIATOR:
		return table_initiator(t, off, initiator, fw);
	case ID_NIC:
		return table_nic(t, off, fw);
	case ID_TARGET:
		return table_target(t, off, fw);
	default:
		log_debug("iBFT table: skipping structure %u at %zu",
			  t->p[off + HDR_ID], off);
		return 0;
	}
}

static int table_walk(const struct table *t, struct ibft *fw)
{
	const uint8_t *ctl = t->p + IBFT_CONTROL;
	bool initiator = false;
	size_t noff;
	int r = table_struct(t, IBFT_CONTROL, CTL_SIZE);

	if (r < 0)
		return r;
	if (ctl[HDR_ID] != ID_CONTROL)
		return fail(t->err, t->errlen, -EINVAL, "iBFT table: no Control structure");
	noff = (get_le16(ctl + HDR_LENGTH) - CTL_OFFSETS) / 2;
	for (size_t i = 0; i < noff && r == 0; i++) {
		size_t off = get_le16(ctl + CTL_OFFSETS + 2 * i);

		if (off != 0)
			r = table_entry(t, off, &initiator, fw);
	}
	return r;
}

int ibft_parse_table(const uint8_t *buf, size_t len, struct ibft *out,
		     char *err, size_t errlen)
{
	struct table t = { .p = buf, .err = err, .errlen = errlen };
	int r;

	memset(out, 0, sizeof(*out));
	r = table_header(buf, len, &t.len, err, errlen);
	if (r == 0)
		r = table_walk(&t, out);
	if (r < 0) {
		secure_zero(out, sizeof(*out));
		return r;
	}
	sort_by_index(out);
	return 0;
}

/* ---- Either source */

/* Reads a whole table file into *buf (malloc'd) of at most IBFT_TABLE_MAX. */
static int read_table_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *p;
	size_t n = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	p = malloc(IBFT_TABLE_MAX + 1);
	while (p && n <= IBFT_TABLE_MAX) {
		ssize_t got = read(fd, p + n, IBFT_TABLE_MAX + 1 - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = got < 0 ? -errno : 0;
			break;
		}
		n += (size_t)got;
	}
	close(fd);
	if (!p)
		return -ENOMEM;
	if (r == 0 && n > IBFT_TABLE_MAX)
		r = -EFBIG;
	if (r < 0) {
		free(p);
		return r;
	}
	*buf = p;
	*len = n;
	return 0;
}

int ibft_load(const char *root, struct ibft *out, char *err, size_t errlen)
{
	/* The kernel looks for all three signatures; ACPI names the file so. */
	static const char *const names[] = { "iBFT", "IBFT", "BIFT" };
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = ibft_read_sysfs(root, out, err, errlen);

	if (r == 0)
		ibft_name_nics(root, out);
	if (r != -ENOENT)
		return r;
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/%s",
				     root, names[i]) >= sizeof(path))
			return fail(err, errlen, -ENAMETOOLONG, "iBFT: path too long");
		r = read_table_file(path, &buf, &len);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return fail(err, errlen, r, "%s: %s", path, strerror(-r));
		r = ibft_parse_table(buf, len, out, err, errlen);
		secure_zero(buf, len);
		free(buf);
		if (r == 0)
			ibft_name_nics(root, out);
		return r;
	}
	return fail(err, errlen, -ENOENT, "no iBFT (neither %s/sys/firmware/ibft nor "
		    "the ACPI table)", root);
}

/* A target we can log in to: marked valid, with an address and a name. */
static bool target_usable(const struct ibft_target *t)
{
	return (t->flags & IBFT_FL_VALID) && t->rp.host[0] && t->rp.target[0];
}

unsigned ibft_boot_targets(const struct ibft *fw, const struct ibft_target **out,
			   unsigned max)
{
	unsigned n = 0;

	for (int selected = 1; selected >= 0; selected--)
		for (unsigned i = 0; i < fw->ntargets && n < max; i++) {
			const struct ibft_target *t = &fw->targets[i];

			if (target_usable(t) &&
			    !!(t->flags & IBFT_FL_BOOT_SELECTED) == selected)
				out[n++] = t;
		}
	return n;
}

const struct ibft_nic *ibft_target_nic(const struct ibft *fw, const struct ibft_target *t)
{
	for (unsigned i = 0; i < fw->nnics; i++)
		if (fw->nics[i].index == t->nic_index)
			return &fw->nics[i];
	return NULL;
}
