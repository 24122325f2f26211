/* SPDX-License-Identifier: MIT */
/* The module loader on Debian's own module trees: 6.1, the installed
 * linux-image (argv[1], /lib/modules), and 6.12, bookworm-backports'
 * (argv[2], .deps/kernel-6.12/lib/modules from scripts/fetch-kernel.sh);
 * with the modprobe.d of tests/fixtures/modules (argv[3]) and a command
 * line of the test's. For the modules the boot asks for it checks what
 * would be inserted, in which order, from which file, with which options
 * and flags. Nothing is inserted: modules_finit() here records, and shows
 * the module live in /sys/module as the kernel would. libkmod reads
 * /proc/cmdline and /sys/module itself, so the test runs in a mount
 * namespace of its own, a file bound over the one and a tmpfs over the
 * other. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules.c"
#include "test.h"

struct insertion {
	char name[64];
	char path[PATH_MAX];
	char options[512];
	int flags;
};

static struct insertion ins[MODULE_PLAN_MAX];
static unsigned nins;
/* This module's insertion fails with EIO. */
static const char *fail_name;
/* Inserting this module makes a device appear (virtio_pci: virtio0). */
static const char *appear_with, *appear_modalias;

static char work[PATH_MAX]; /* the test's files: cmdline, sys/bus */
static char tree[PATH_MAX]; /* the module tree under test */
static char conf_etc[PATH_MAX], conf_lib[PATH_MAX];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void make_device(const char *bus, const char *dev, const char *modalias)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/%s", work, bus);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bus/%s/devices", work, bus);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bus/%s/devices/%s", work, bus, dev);
	CHECK_EQ(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bus/%s/devices/%s/modalias", work, bus, dev);
	write_file(path, modalias);
}

/* As sysfs shows a network interface (a NIC driver's probe made it). */
static void make_netdev(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/class", work);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/class/net", work);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/class/net/%s", work, name);
	CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
}

/* As the kernel shows a module that is in. */
static void make_live(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	CHECK_EQ(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	write_file(path, "live\n");
}

/* libkmod keeps modprobe.d's blanks; the kernel skips any run of them
 * between parameters. One space each here. */
static void squeeze(char *out, size_t len, const char *in)
{
	size_t n = 0;
	bool gap = false;

	for (; *in && n + 2 < len; in++) {
		if (isblank((unsigned char)*in)) {
			gap = n > 0;
			continue;
		}
		if (gap)
			out[n++] = ' ';
		out[n++] = *in;
		gap = false;
	}
	out[n] = '\0';
}

int modules_finit(const char *path, const char *options, int flags)
{
	const char *base = strrchr(path, '/');
	struct insertion *in;

	CHECK(nins < ARRAY_SIZE(ins));
	if (nins == ARRAY_SIZE(ins))
		return -E2BIG;
	in = &ins[nins++];
	base = base ? base + 1 : path;
	snprintf(in->name, sizeof(in->name), "%.*s", (int)strcspn(base, "."), base);
	for (char *p = in->name; *p; p++)
		*p = *p == '-' ? '_' : *p;
	snprintf(in->path, sizeof(in->path), "%s", path);
	squeeze(in->options, sizeof(in->options), options);
	in->flags = flags;
	if (fail_name && !strcmp(in->name, fail_name))
		return -EIO;
	make_live(in->name);
	if (appear_with && !strcmp(in->name, appear_with))
		make_device("virtio", "virtio0", appear_modalias);
	if (!strcmp(in->name, "virtio_net"))
		make_netdev("eth0");
	return 1;
}

/* The names inserted, in order, space-separated. */
static const char *inserted(void)
{
	static char s[2048];
	size_t n = 0;

	s[0] = '\0';
	for (unsigned i = 0; i < nins; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s", n ? " " : "", ins[i].name);
	return s;
}

static const struct insertion *find(const char *name)
{
	for (unsigned i = 0; i < nins; i++)
		if (!strcmp(ins[i].name, name))
			return &ins[i];
	return NULL;
}

/* Nothing loaded, nothing recorded, this command line. */
static void reset(const char *cmdline)
{
	char path[PATH_MAX];

	nins = 0;
	fail_name = appear_with = NULL;
	CHECK_EQ(umount2("/sys/module", MNT_DETACH), 0);
	CHECK_EQ(mount("none", "/sys/module", "tmpfs", 0, NULL), 0);
	snprintf(path, sizeof(path), "%s/cmdline", work);
	write_file(path, cmdline);
}

static int load(const char *what, const char *options)
{
	const char *const dirs[] = { conf_etc, conf_lib, NULL };
	const struct modules_paths paths = { tree, dirs };

	return modules_load(&paths, what, options);
}

/* ---- The namespace */

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* A mount namespace; without root, inside a user namespace as its root. */
static int enter_namespace(void)
{
	char map[64], path[PATH_MAX];
	unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();

	if (unshare(CLONE_NEWNS) < 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -errno;
		snprintf(map, sizeof(map), "0 %u 1", uid);
		if (write_proc("/proc/self/setgroups", "deny") < 0 ||
		    write_proc("/proc/self/uid_map", map) < 0)
			return -EPERM;
		snprintf(map, sizeof(map), "0 %u 1", gid);
		if (write_proc("/proc/self/gid_map", map) < 0)
			return -EPERM;
	}
	snprintf(path, sizeof(path), "%s/cmdline", work);
	write_file(path, "");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(path, "/proc/cmdline", NULL, MS_BIND, NULL) < 0 ||
	    mount("none", "/sys/module", "tmpfs", 0, NULL) < 0)
		return -errno;
	return 0;
}

/* The newest PARENT/SERIES.* that depmod indexed. */
static int find_tree(const char *parent, const char *series, char *out, size_t len)
{
	struct dirent **names;
	char path[PATH_MAX];
	int n = scandir(parent, &names, NULL, versionsort), found = -ENOENT;

	for (int i = n - 1; i >= 0; i--) {
		snprintf(path, sizeof(path), "%s/%s/modules.dep.bin", parent, names[i]->d_name);
		if (found < 0 && !strncmp(names[i]->d_name, series, strlen(series)) &&
		    access(path, R_OK) == 0) {
			snprintf(out, len, "%s/%s", parent, names[i]->d_name);
			found = 0;
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return found;
}

/* ---- The cases */

#define CMDLINE "BOOT_IMAGE=/boot/vmlinuz root=/dev/x.y nbd.max_part=12 " \
	"virtio-net.napi_tx=1 rd.iscsi.param=a=b \"e1000.copybreak=a b\" " \
	"e1000.debug=\"c d\" netroot=iscsi:10.0.0.1::3260:1:iqn.2025-01.x quiet"
/* QEMU's e1000 and virtio-net, and the virtio device virtio_pci makes. */
#define E1000_PCI "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00"
#define VIRTIO_NET_PCI "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00"
#define VIRTIO_NET_DEV "virtio:d00000001v00001AF4"

/* What differs between the two trees. */
struct tree_case {
	const char *series;
	const char *ext;   /* module files' ending */
	int flags;         /* finit_module's, for every file */
	bool ublk;         /* ublk_drv is there */
	const char *builtin;
	const char *virtio_net; /* with failover loaded */
	const char *nics;       /* the NIC pass on a virtio-net device */
	const char *sd_mod;
};

static const struct tree_case trees[] = {
	{ "6.1.", ".ko", 0, false, "unix",
	  "virtio_ring virtio net_failover virtio_net e1000",
	  "virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci "
	  "failover net_failover virtio_net e1000",
	  /* libkmod lists crct10dif_common three times and crc64 twice:
	   * again after each softdep that needs it */
	  "crct10dif_common crc64 crct10dif_pclmul crct10dif_generic crc_t10dif scsi_common "
	  "scsi_mod crc64_rocksoft t10_pi sd_mod" },
	/* virtio and virtio_pci are built in */
	{ "6.12.", ".ko.xz", MODULE_INIT_COMPRESSED_FILE, true, "virtio_pci",
	  "net_failover virtio_net e1000", "failover net_failover virtio_net e1000",
	  "scsi_common scsi_mod sd_mod" },
};

/* Which file, which flags; options from modprobe.d by file name across
 * the directories (etc's nbd.conf hides lib's, a .txt is no config, '\'
 * joins lines), then the command line's, then the caller's. */
static void test_options(const struct tree_case *t)
{
	char path[PATH_MAX];

	reset(CMDLINE);
	CHECK_EQ(load("nbd", "max_part=16"), 0);
	CHECK_STR(inserted(), "nbd");
	snprintf(path, sizeof(path), "%s/kernel/drivers/block/nbd%s", tree, t->ext);
	CHECK_STR(ins[0].path, path);
	CHECK_EQ(ins[0].flags, t->flags);
	CHECK_STR(ins[0].options, "timeout=5 max_part=8 max_part=12 max_part=16");
	/* loaded: nothing to do */
	nins = 0;
	CHECK_EQ(load("nbd", NULL), 0);
	CHECK_STR(inserted(), "");
	/* an alias of modprobe.d; GRUB's quoting of a whole word undone */
	CHECK_EQ(load("my-nic", NULL), 0);
	CHECK_STR(inserted(), "e1000");
	CHECK_STR(ins[0].options, "copybreak=\"a b\" debug=\"c d\"");
}

/* The dependencies in order, a loaded one left out, the modprobe.d
 * softdep's post wish; modaliases; built in; unknown; one with an install
 * command (not run). */
static void test_resolution(const struct tree_case *t)
{
	const struct insertion *in;

	reset(CMDLINE);
	make_live("failover");
	CHECK_EQ(load("virtio-net", NULL), 0);
	CHECK_STR(inserted(), t->virtio_net);
	in = find("virtio_net");
	CHECK(in && !strcmp(in->options, "napi_tx=0 napi_tx=1"));
	reset("");
	CHECK_EQ(load(E1000_PCI, NULL), 0);
	CHECK_STR(inserted(), "e1000");
	CHECK_STR(ins[0].options, "");
	reset("");
	CHECK_EQ(load("sd_mod", NULL), 0);
	CHECK_STR(inserted(), t->sd_mod);
	reset("");
	CHECK_EQ(load("ublk_drv", NULL), t->ublk ? 0 : -ENOENT);
	CHECK_STR(inserted(), t->ublk ? "ublk_drv" : "");
	CHECK_EQ(ins[0].flags, t->ublk ? t->flags : 0);
	nins = 0;
	CHECK_EQ(load(t->builtin, NULL), 0);
	CHECK_EQ(load("no-such-module", NULL), -ENOENT);
	CHECK(load("", NULL) < 0);
	CHECK_EQ(load("floppy", NULL), -EPERM);
	CHECK_EQ(load("pci:v0000FFFFd00000001sv00000000sd00000000bc02sc00i00", NULL), -ENOENT);
	CHECK_STR(inserted(), "");
}

/* ext4's softdep (crypto-crc32c: both crc32c modules) goes first; a
 * softdep that fails is no failure, a dependency that fails is, and
 * nothing after it goes in. */
static void test_failing(void)
{
	reset("");
	CHECK_EQ(load("ext4", NULL), 0);
	CHECK_STR(inserted(), "crc32c_intel crc32c_generic jbd2 mbcache crc16 ext4");
	reset("");
	fail_name = "crc32c_generic";
	CHECK_EQ(load("ext4", NULL), 0);
	CHECK_STR(inserted(), "crc32c_intel crc32c_generic jbd2 mbcache crc16 ext4");
	CHECK_EQ(access("/sys/module/ext4/initstate", F_OK), 0);
	reset("");
	fail_name = "jbd2";
	CHECK_EQ(load("ext4", NULL), -EIO);
	CHECK_STR(inserted(), "crc32c_intel crc32c_generic jbd2");
}

/* modprobe.blacklist=: by alias, by name, as a softdep. */
static void test_blacklist(const struct tree_case *t)
{
	reset("quiet modprobe.blacklist=e1000,nbd root=/dev/x");
	CHECK_EQ(load(E1000_PCI, NULL), -EPERM);
	CHECK_EQ(load("my-nic", NULL), -EPERM);
	CHECK_EQ(load("nbd", "max_part=16"), -EPERM);
	CHECK_STR(inserted(), "");
	make_live("failover");
	CHECK_EQ(load("virtio_net", NULL), 0);
	CHECK(strstr(t->virtio_net, " e1000"));
	CHECK(!find("e1000"));
	CHECK(find("virtio_net"));
}

/* The NIC pass over the buses: a virtio-net PCI device needs virtio_pci
 * (a module in 6.1), which makes the virtio device that needs virtio_net;
 * the pass goes round until nothing new loads, at once: it waits (100 ms
 * a round) only while no interface has appeared, and here eth0 comes
 * with virtio_net. */
static void test_nic_drivers(const struct tree_case *t)
{
	const char *const dirs[] = { conf_etc, conf_lib, NULL };
	const struct modules_paths paths = { tree, dirs };
	char bus[PATH_MAX + 8], cmd[PATH_MAX + 32];
	int64_t took;

	reset("");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/bus' '%s/class'", work, work);
	CHECK_EQ(system(cmd), 0);
	snprintf(bus, sizeof(bus), "%s/bus", work);
	CHECK_EQ(mkdir(bus, 0755), 0);
	make_device("pci", "0000:00:03.0", VIRTIO_NET_PCI);
	if (t->flags) {
		make_device("virtio", "virtio0", VIRTIO_NET_DEV);
	} else {
		appear_with = "virtio_pci";
		appear_modalias = VIRTIO_NET_DEV;
	}
	took = now_ms();
	CHECK_EQ(modules_load_nic_drivers(&paths, bus), 0);
	took = now_ms() - took;
	CHECK_STR(inserted(), t->nics);
	CHECK(find("virtio_net") != NULL);
	printf("NIC pass: %lld ms\n", (long long)took);
	CHECK(took < 100);
}

static void test_tree(const char *parent, const struct tree_case *t)
{
	int r = find_tree(parent, t->series, tree, sizeof(tree));

	if (r < 0) {
		fprintf(stderr, "no %s* module tree with modules.dep.bin in %s%s\n", t->series,
			parent, t->flags ? " (scripts/fetch-kernel.sh)" : " (linux-image-amd64)");
		CHECK_EQ(r, 0);
		return;
	}
	printf("tree %s\n", tree);
	test_options(t);
	test_resolution(t);
	test_failing();
	test_blacklist(t);
	test_nic_drivers(t);
}

int main(int argc, char **argv)
{
	char cmd[PATH_MAX + 16];
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: test-modules LIB_MODULES KERNEL_6_12_LIB_MODULES MODPROBE_FIXTURES\n");
		return 2;
	}
	snprintf(conf_etc, sizeof(conf_etc), "%s/etc/modprobe.d", argv[3]);
	snprintf(conf_lib, sizeof(conf_lib), "%s/lib/modprobe.d", argv[3]);
	snprintf(work, sizeof(work), "/tmp/test-modules.XXXXXX");
	if (!mkdtemp(work)) {
		perror("mkdtemp");
		return 1;
	}
	r = enter_namespace();
	if (r < 0) {
		fprintf(stderr, "test-modules: no mount namespace: %s\n", strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(trees); i++) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s/bus", work);
		CHECK_EQ(system(cmd), 0);
		test_tree(argv[1 + i], &trees[i]);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
	CHECK_EQ(system(cmd), 0);
	return test_report("test-modules");
}
