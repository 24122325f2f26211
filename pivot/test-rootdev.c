/* SPDX-License-Identifier: MIT */
/* Partition tables and superblocks as the real tools write them: images
 * made with sfdisk and mkfs.ext4 (e2fsprogs, fdisk), then resolved by
 * UUID=, PARTUUID=, LABEL=, PARTLABEL= and "the first filesystem". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pivot.h"
#include "test.h"

#define FS_UUID "6b1c9f63-0f7e-4c2a-9d3e-0123456789ab"
#define GPT_PARTUUID "0fc63daf-8483-4772-8e79-3d69d8477de5"

static char dir[] = "/tmp/test-rootdev.XXXXXX";

static int sh(const char *fmt, const char *a)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), fmt, a, a, a, a);
	return system(cmd);
}

/* disk.img: GPT, partition 2 at 2 MiB is ext4 with our UUID and label. */
static int make_gpt_image(const char *img)
{
	return sh("set -e; truncate -s 16M %1$s;"
		  "printf 'label: gpt\\nstart=2048, size=2048, name=\"spare\"\\n"
		  "start=4096, size=20480, name=\"rootpart\", uuid=" GPT_PARTUUID "\\n' |"
		  " sfdisk -q %1$s;"
		  "truncate -s 10M %1$s.fs;"
		  "mkfs.ext4 -q -F -L myroot -U " FS_UUID " %1$s.fs;"
		  "dd if=%1$s.fs of=%1$s bs=1M seek=2 conv=notrunc status=none", img);
}

/* disk4k: the same GPT on a 4Kn disk (4096-byte logical blocks): the
 * header at LBA 1 = byte 4096, the entries' LBAs in 4096-byte units;
 * partition 2 at LBA 512 = 2 MiB. fdisk -b writes it (Debian 12's sfdisk,
 * util-linux 2.38, has no --sector-size yet); its commands: g new GPT,
 * n new partition (number, first, last), x expert: u its UUID, n its
 * name, r back, w write. */
static int make_gpt_4k_image(const char *img)
{
	return sh("set -e; truncate -s 16M %1$s;"
		  "printf 'g\\nn\\n1\\n256\\n511\\nn\\n2\\n512\\n3071\\n"
		  "x\\nu\\n2\\n" GPT_PARTUUID "\\nn\\n2\\nrootpart\\nn\\n1\\nspare\\n"
		  "r\\nw\\n' | fdisk -b 4096 %1$s >/dev/null;"
		  "truncate -s 10M %1$s.fs;"
		  "mkfs.ext4 -q -F -b 4096 -L root4k -U " FS_UUID " %1$s.fs;"
		  "dd if=%1$s.fs of=%1$s bs=1M seek=2 conv=notrunc status=none", img);
}

/* An MBR on a 4Kn disk: its entries count 4096-byte sectors too (o new
 * MBR, x i its disk identifier, n p 1 from 256 to the end). */
static int make_mbr_4k_image(const char *img)
{
	return sh("set -e; truncate -s 16M %1$s;"
		  "printf 'o\\nx\\ni\\n0x4096abcd\\nr\\nn\\np\\n1\\n256\\n\\nw\\n' |"
		  " fdisk -b 4096 %1$s >/dev/null;"
		  "truncate -s 12M %1$s.fs; mkfs.ext4 -q -F -b 4096 -L mbr4k %1$s.fs;"
		  "dd if=%1$s.fs of=%1$s bs=1M seek=1 conv=notrunc status=none", img);
}

static int make_mbr_image(const char *img)
{
	return sh("set -e; truncate -s 8M %1$s;"
		  "printf 'label: dos\\nlabel-id: 0x1234abcd\\nstart=2048, type=83\\n' |"
		  " sfdisk -q %1$s;"
		  "truncate -s 7M %1$s.fs; mkfs.ext4 -q -F -L mbrroot %1$s.fs;"
		  "dd if=%1$s.fs of=%1$s bs=1M seek=1 conv=notrunc status=none", img);
}

static void test_gpt(void)
{
	char img[128], dev[160];
	struct part_info parts[8];
	struct fs_info fs;
	int fd, n;

	snprintf(img, sizeof(img), "%s/disk", dir);
	if (make_gpt_image(img) != 0) {
		CHECK(!"could not make the GPT image (sfdisk, mkfs.ext4)");
		return;
	}
	fd = open(img, O_RDONLY);
	n = part_probe(fd, 512, parts, 8);
	CHECK_EQ(n, 2);
	CHECK_EQ(parts[1].number, 2);
	CHECK_EQ(parts[1].start, 4096 * 512);
	CHECK_STR(parts[1].partuuid, GPT_PARTUUID);
	CHECK_STR(parts[1].name, "rootpart");
	CHECK_EQ(fs_probe(fd, parts[1].start, &fs), 0);
	CHECK_STR(fs.type, "ext4");
	CHECK_STR(fs.uuid, FS_UUID);
	CHECK_STR(fs.label, "myroot");
	CHECK_EQ(fs_probe(fd, parts[0].start, &fs), -ENOENT);
	close(fd);

	CHECK_EQ(root_resolve("UUID=" FS_UUID, img, 512, dev, sizeof(dev), &fs), 0);
	CHECK(strstr(dev, "disk2") != NULL);    /* "…/disk" + "2": no 'p' */
	CHECK_EQ(root_resolve("UUID=6B1C9F63-0F7E-4C2A-9D3E-0123456789AB", img, 512,
			      dev, sizeof(dev), &fs), 0);
	CHECK_EQ(root_resolve("PARTUUID=" GPT_PARTUUID, img, 512, dev, sizeof(dev), &fs), 0);
	CHECK_EQ(root_resolve("LABEL=myroot", img, 512, dev, sizeof(dev), &fs), 0);
	CHECK_EQ(root_resolve("PARTLABEL=rootpart", img, 512, dev, sizeof(dev), &fs), 0);
	CHECK_EQ(root_resolve("", img, 512, dev, sizeof(dev), &fs), 0);
	CHECK_STR(fs.type, "ext4");
	CHECK_EQ(root_resolve("LABEL=other", img, 512, dev, sizeof(dev), &fs), -ENOENT);
	CHECK_EQ(root_resolve("UUID=00000000-0000-0000-0000-000000000000", img, 512,
			      dev, sizeof(dev), &fs), -ENOENT);
}

/* read(2) calls of this process so far (/proc/self/io), or -1. */
static long long reads_so_far(void)
{
	char text[512], *p;

	FILE *f = fopen("/proc/self/io", "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = '\0';
	p = strstr(text, "syscr: ");
	return p ? strtoll(p + 7, NULL, 10) : -1;
}

/* The reads root_resolve makes for spec on img. */
static long long reads_for(const char *spec, const char *img)
{
	char dev[160];
	struct fs_info fs;
	long long before = reads_so_far();

	CHECK_EQ(root_resolve(spec, img, 512, dev, sizeof(dev), &fs), 0);
	return reads_so_far() - before;
}

/* PARTUUID= and PARTLABEL= read the superblock of the partition they
 * name only; LABEL= reads each until it finds its own (partition 1 has
 * no filesystem: three reads, ext, XFS and btrfs). */
static void test_reads(void)
{
	char img[128];
	long long by_uuid, by_name, by_label;

	snprintf(img, sizeof(img), "%s/disk", dir);
	by_uuid = reads_for("PARTUUID=" GPT_PARTUUID, img);
	by_name = reads_for("PARTLABEL=rootpart", img);
	by_label = reads_for("LABEL=myroot", img);
	CHECK(by_uuid > 0);
	CHECK_EQ(by_uuid, by_name);
	CHECK_EQ(by_label, by_uuid + 3);
}

static void test_mbr_and_nbd_names(void)
{
	char img[128], dev[160];
	struct fs_info fs;

	snprintf(img, sizeof(img), "%s/mbr0", dir);
	if (make_mbr_image(img) != 0) {
		CHECK(!"could not make the MBR image");
		return;
	}
	CHECK_EQ(root_resolve("PARTUUID=1234abcd-01", img, 512, dev, sizeof(dev), &fs), 0);
	/* A disk name ending in a digit gets "p" before the number, like nbd0p1. */
	CHECK(strstr(dev, "mbr0p1") != NULL);
	CHECK_EQ(root_resolve("LABEL=mbrroot", img, 512, dev, sizeof(dev), &fs), 0);
}

static void test_4kn(void)
{
	char img[128], mbr[128], dev[160];
	struct part_info parts[8];
	struct fs_info fs;
	int fd;

	snprintf(img, sizeof(img), "%s/disk4k", dir);
	snprintf(mbr, sizeof(mbr), "%s/mbr4k", dir);
	if (make_gpt_4k_image(img) != 0 || make_mbr_4k_image(mbr) != 0) {
		CHECK(!"could not make the 4Kn images (fdisk -b 4096, mkfs.ext4 -b 4096)");
		return;
	}
	fd = open(img, O_RDONLY);
	CHECK_EQ(part_probe(fd, 4096, parts, 8), 2);
	CHECK_EQ(parts[1].start, 512 * 4096);
	CHECK_EQ(parts[1].size, 2560 * 4096);
	CHECK_STR(parts[1].partuuid, GPT_PARTUUID);
	/* Read as 512-byte sectors, no GPT header is at byte 512; what is
	 * left is the protective MBR, which names no partition of ours. */
	CHECK_EQ(part_probe(fd, 512, parts, 8), 0);
	close(fd);
	CHECK_EQ(root_resolve("PARTUUID=" GPT_PARTUUID, img, 4096, dev, sizeof(dev), &fs), 0);
	CHECK(strstr(dev, "disk4k2") != NULL);
	CHECK_STR(fs.type, "ext4");
	CHECK_STR(fs.label, "root4k");
	CHECK_EQ(root_resolve("UUID=" FS_UUID, img, 4096, dev, sizeof(dev), &fs), 0);
	CHECK_EQ(root_resolve("PARTLABEL=rootpart", img, 4096, dev, sizeof(dev), &fs), 0);
	CHECK_EQ(root_resolve("", img, 4096, dev, sizeof(dev), &fs), 0);
	CHECK(strstr(dev, "disk4k2") != NULL);
	CHECK_EQ(root_resolve("PARTUUID=" GPT_PARTUUID, img, 512, dev, sizeof(dev), &fs),
		 -ENOENT);

	CHECK_EQ(root_resolve("PARTUUID=4096abcd-01", mbr, 4096, dev, sizeof(dev), &fs), 0);
	CHECK(strstr(dev, "mbr4k1") != NULL);
	CHECK_STR(fs.label, "mbr4k");
	/* 512-byte units put the partition at 128 KiB, where no filesystem is. */
	CHECK_EQ(root_resolve("LABEL=mbr4k", mbr, 512, dev, sizeof(dev), &fs), -ENOENT);
}

static void test_garbage(void)
{
	char img[128];
	struct part_info parts[4];
	struct fs_info fs;
	uint8_t junk[1 << 17];
	int fd;

	snprintf(img, sizeof(img), "%s/junk", dir);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31);
	memcpy(junk + 512, "EFI PART", 8);      /* a GPT header with nonsense sizes */
	fd = open(img, O_RDWR | O_CREAT, 0600);
	CHECK(write(fd, junk, sizeof(junk)) == sizeof(junk));
	CHECK(part_probe(fd, 512, parts, 4) < 0);
	CHECK_EQ(fs_probe(fd, 0, &fs), -ENOENT);
	close(fd);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_gpt();
	test_reads();
	test_mbr_and_nbd_names();
	test_4kn();
	test_garbage();
	sh("rm -rf %s", dir);
	return test_report("rootdev");
}
