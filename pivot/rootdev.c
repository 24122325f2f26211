/* SPDX-License-Identifier: MIT */
/* Finding the root filesystem without blkid: MBR and GPT partition tables
 * (UEFI 2.x §5), and the superblocks of ext2/3/4, XFS and btrfs for their
 * UUID and label. All offsets come from the on-disk formats; every length
 * read from the disk is checked. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pivot.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static int read_at(int fd, uint64_t off, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* The big-endian UUID text form (ext4, xfs, btrfs store bytes in order). */
static void uuid_format(const uint8_t *u, char *out)
{
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
		u[11], u[12], u[13], u[14], u[15]);
}

/* GPT GUIDs: the first three fields are little-endian. */
static void guid_format(const uint8_t *g, char *out)
{
	sprintf(out, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", le32(g),
		le16(g + 4), le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13],
		g[14], g[15]);
}

static void copy_label(char *out, size_t outlen, const uint8_t *p, size_t max)
{
	size_t n = strnlen((const char *)p, max);

	n = MIN(n, outlen - 1);
	memcpy(out, p, n);
	out[n] = '\0';
}

#define EXT_SB 1024
#define BTRFS_SB 65536

int fs_probe(int fd, uint64_t offset, struct fs_info *out)
{
	uint8_t sb[1024];

	memset(out, 0, sizeof(*out));
	if (read_at(fd, offset + EXT_SB, sb, sizeof(sb)) == 0 && le16(sb + 0x38) == 0xef53) {
		/* ext2/3/4 are all mounted by the ext4 driver */
		strcpy(out->type, "ext4");
		uuid_format(sb + 0x68, out->uuid);
		copy_label(out->label, sizeof(out->label), sb + 0x78, 16);
		return 0;
	}
	if (read_at(fd, offset, sb, 512) == 0 && !memcmp(sb, "XFSB", 4)) {
		strcpy(out->type, "xfs");
		uuid_format(sb + 32, out->uuid);
		copy_label(out->label, sizeof(out->label), sb + 108, 12);
		return 0;
	}
	if (read_at(fd, offset + BTRFS_SB, sb, sizeof(sb)) == 0 &&
	    !memcmp(sb + 0x40, "_BHRfS_M", 8)) {
		strcpy(out->type, "btrfs");
		uuid_format(sb + 0x20, out->uuid);
		copy_label(out->label, sizeof(out->label), sb + 0x12b, 256);
		return 0;
	}
	return -ENOENT;
}

static int gpt_probe(int fd, uint32_t ss, struct part_info *out, unsigned max)
{
	uint8_t hdr[92], e[128];
	uint64_t lba;
	uint32_t count, esize;
	unsigned n = 0;

	if (read_at(fd, ss, hdr, sizeof(hdr)) < 0 || memcmp(hdr, "EFI PART", 8))
		return -ENOENT;
	lba = le64(hdr + 72);
	count = le32(hdr + 80);
	esize = le32(hdr + 84);
	if (esize < 128 || esize > 4096 || count > 1024 || lba < 2)
		return -EBADMSG;
	for (uint32_t i = 0; i < count && n < max; i++) {
		static const uint8_t unused[16];
		if (read_at(fd, lba * ss + (uint64_t)i * esize, e, sizeof(e)) < 0)
			return -EIO;
		if (!memcmp(e, unused, 16))
			continue;
		struct part_info *p = &out[n++];
		uint64_t first = le64(e + 32), last = le64(e + 40);
		memset(p, 0, sizeof(*p));
		p->number = i + 1;
		p->start = first * ss;
		p->size = last >= first ? (last - first + 1) * ss : 0;
		guid_format(e + 16, p->partuuid);
		/* UTF-16LE name: keep the ASCII characters */
		for (size_t c = 0, o = 0; c < 36 && o + 1 < sizeof(p->name); c++) {
			uint16_t ch = le16(e + 56 + 2 * c);
			if (!ch)
				break;
			if (ch < 128)
				p->name[o++] = (char)ch;
		}
	}
	return (int)n;
}

static int mbr_probe(int fd, uint32_t ss, struct part_info *out, unsigned max)
{
	uint8_t mbr[512];
	uint32_t sig;
	unsigned n = 0;

	if (read_at(fd, 0, mbr, sizeof(mbr)) < 0 || mbr[510] != 0x55 || mbr[511] != 0xaa)
		return -ENOENT;
	sig = le32(mbr + 440);
	for (unsigned i = 0; i < 4 && n < max; i++) {
		const uint8_t *e = mbr + 446 + 16 * i;
		if (e[4] == 0 || e[4] == 0xee || e[4] == 0x05 || e[4] == 0x0f)
			continue;   /* empty, protective GPT, extended */
		struct part_info *p = &out[n++];
		memset(p, 0, sizeof(*p));
		p->number = i + 1;
		p->start = (uint64_t)le32(e + 8) * ss;
		p->size = (uint64_t)le32(e + 12) * ss;
		snprintf(p->partuuid, sizeof(p->partuuid), "%08x-%02x", sig, i + 1);
	}
	return (int)n;
}

int part_probe(int fd, uint32_t ss, struct part_info *out, unsigned max)
{
	int r = gpt_probe(fd, ss, out, max);

	if (r == -ENOENT)
		r = mbr_probe(fd, ss, out, max);
	return r == -ENOENT ? 0 : r;
}

static bool matches(const char *spec, const struct part_info *p, const struct fs_info *fs)
{
	if (!strncmp(spec, "UUID=", 5))
		return fs->type[0] && !strcasecmp(spec + 5, fs->uuid);
	if (!strncmp(spec, "PARTUUID=", 9))
		return p && !strcasecmp(spec + 9, p->partuuid);
	if (!strncmp(spec, "LABEL=", 6))
		return fs->type[0] && !strcmp(spec + 6, fs->label);
	if (!strncmp(spec, "PARTLABEL=", 10))
		return p && !strcmp(spec + 10, p->name);
	return !*spec && fs->type[0];
}

/* Names a partition by its table entry: no superblock is needed to match
 * it (only the one that matched is read, for its type). */
static bool by_entry(const char *spec)
{
	return !strncmp(spec, "PARTUUID=", 9) || !strncmp(spec, "PARTLABEL=", 10);
}

static void part_path(const char *disk, unsigned number, char *dev, size_t len)
{
	snprintf(dev, len, "%s%s%u", disk,
		 disk[strlen(disk) - 1] >= '0' && disk[strlen(disk) - 1] <= '9' ? "p" : "",
		 number);
}

int root_resolve(const char *spec, const char *disk, uint32_t sector_size,
		 char *dev, size_t devlen, struct fs_info *fs)
{
	struct part_info parts[16];
	int fd, n, r = -ENOENT;

	if (spec[0] == '/') {       /* a device path: only its type is wanted */
		snprintf(dev, devlen, "%s", spec);
		fd = open(spec, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		r = fs_probe(fd, 0, fs);
		close(fd);
		return r == -ENOENT ? 0 : r;
	}
	fd = open(disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Each read here is a round trip to the target: no read-ahead past
	 * the superblock (the kernel's own mount reads through the partition,
	 * another cache). */
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	n = part_probe(fd, sector_size, parts, ARRAY_SIZE(parts));
	for (int i = 0; i < n; i++) {
		if (by_entry(spec) && !matches(spec, &parts[i], fs))
			continue;
		if (fs_probe(fd, parts[i].start, fs) < 0)
			memset(fs, 0, sizeof(*fs));
		if (matches(spec, &parts[i], fs)) {
			part_path(disk, parts[i].number, dev, devlen);
			r = 0;
			break;
		}
	}
	/* A filesystem on the whole disk, with no partition table. */
	if (r < 0 && n <= 0 && fs_probe(fd, 0, fs) == 0 && matches(spec, NULL, fs)) {
		snprintf(dev, devlen, "%s", disk);
		r = 0;
	}
	close(fd);
	return n < 0 ? n : r;
}
