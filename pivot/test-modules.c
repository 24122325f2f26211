/* SPDX-License-Identifier: MIT */
/* The module loader's resolution, on the fixture tree tests/fixtures/modules
 * (argv[1], or $MODULES_FIXTURES): a name or modalias -> the files to
 * insert, in order, with softdeps marked; modprobe.d and command-line
 * options; and hostile index text in memory. Nothing is inserted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules.c"
#include "test.h"

#define KVER "6.1.0-test"

static char root[1024];

/* The plan of every module what resolves to, as "path path ..." with a '?'
 * before a softdep's wish and " | " between modules. */
static int resolve(const struct module_index *ix, const char *what, char *out, size_t len)
{
	struct module_names found;
	struct module_plan plan;
	size_t n = 0;
	int r = module_lookup(ix, what, &found);

	out[0] = '\0';
	for (unsigned i = 0; r == 0 && i < found.n; i++) {
		memset(&plan, 0, sizeof(plan));
		r = plan_module(ix, &plan, found.name[i], false, 0);
		for (unsigned s = 0; r == 0 && s < plan.n; s++)
			n += (size_t)snprintf(out + n, len - n, "%s%s%.*s", n ? " " : "",
					      plan.step[s].wish ? "?" : "",
					      (int)plan.step[s].path.len, plan.step[s].path.p);
		if (i + 1 < found.n)
			n += (size_t)snprintf(out + n, len - n, " |");
	}
	return r;
}

static void fixture_index(struct module_index *ix)
{
	static char moddir[1200], sysmod[1200], etc[1200], lib[1200], cmdline[1200];
	static const char *dirs[3];
	struct module_paths paths;

	snprintf(moddir, sizeof(moddir), "%s/lib/modules/" KVER, root);
	snprintf(sysmod, sizeof(sysmod), "%s/sys/module", root);
	snprintf(etc, sizeof(etc), "%s/etc/modprobe.d", root);
	snprintf(lib, sizeof(lib), "%s/lib/modprobe.d", root);
	snprintf(cmdline, sizeof(cmdline), "%s/proc/cmdline", root);
	dirs[0] = etc;
	dirs[1] = lib;
	dirs[2] = NULL;
	paths = (struct module_paths){ moddir, sysmod, dirs, cmdline };
	CHECK_EQ(module_index_open(ix, &paths), 0);
}

#define K "kernel/"
#define VIRTIO_NET K "drivers/virtio/virtio_ring.ko " K "drivers/virtio/virtio.ko " \
	K "drivers/net/net_failover.ko " K "drivers/net/virtio_net.ko " \
	"?" K "drivers/net/ethernet/intel/e1000/e1000.ko"
#define EXT4 "?" K "arch/x86/crypto/crc32c-intel.ko ?" K "crypto/crc32c_generic.ko " \
	K "fs/jbd2/jbd2.ko " K "fs/mbcache.ko " K "lib/crc16.ko " K "fs/ext4/ext4.ko.gz"

static const struct {
	const char *what;
	int r;
	const char *files;
} resolutions[] = {
	/* modules.dep in reverse, failover loaded (live), the modprobe.d
	 * softdep's post wish */
	{ "virtio_net", 0, VIRTIO_NET },
	{ "virtio-net", 0, VIRTIO_NET },
	/* jbd2's pre softdep, an alias with two modules (one line twice) */
	{ "ext4", 0, EXT4 },
	{ "fs-ext4", 0, EXT4 },
	/* the dependency, then the pre and post softdeps around the module,
	 * as libkmod's probe list; the first softdep line counts, a missing
	 * softdep is no error */
	{ "alpha", 0, K "test/delta.ko ?" K "test/beta.ko " K "test/alpha.ko ?" K "test/gamma.ko" },
	{ "loopa", 0, "?" K "test/loopb.ko " K "test/loopa.ko" },
	/* a softdep on one of its dependencies keeps it required; a word
	 * before pre: counts for nothing */
	{ "sd_mod", 0, K "lib/crc64.ko " K "lib/crc64-rocksoft.ko " K "block/t10-pi.ko "
		       K "drivers/scsi/sd_mod.ko" },
	{ "t10-pi", 0, K "lib/crc64.ko " K "lib/crc64-rocksoft.ko " K "block/t10-pi.ko" },
	{ "t10_pi", 0, K "lib/crc64.ko " K "lib/crc64-rocksoft.ko " K "block/t10-pi.ko" },
	/* modaliases */
	{ "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00", 0,
	  K "drivers/net/ethernet/intel/e1000/e1000.ko" },
	{ "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", 0,
	  K "drivers/virtio/virtio_ring.ko " K "drivers/virtio/virtio.ko "
	  K "drivers/virtio/virtio_pci_legacy_dev.ko.xz " K "drivers/virtio/virtio_pci_modern_dev.ko.xz "
	  K "drivers/virtio/virtio_pci.ko.xz" },
	{ "virtio:d00000001v00001AF4", 0, VIRTIO_NET },
	{ "block-major-43-0", 0, K "drivers/block/nbd.ko.zst" },
	{ "my-nic", 0, K "drivers/net/ethernet/intel/e1000/e1000.ko" },
	/* built in (modules.builtin, or a /sys/module directory without
	 * initstate), loaded, or going away */
	{ "loop", 0, "" },
	{ "unix", 0, "" },
	{ "failover", 0, "" },
	{ "needs-going", 0, K "test/going.ko " K "test/needs-going.ko" },
	/* absolute paths, the file's last line without a newline */
	{ "abs-mod", 0, "/opt/extra/abs_mod.ko" },
	{ "no_newline_at_end", 0, K "test/no-newline-at-end.ko" },
	/* missing and malformed */
	{ "nosuch", -ENOENT, "" },
	{ "pci:v0000FFFFd00000001sv00000000sd00000000bc02sc00i00", -ENOENT, "" },
	{ "lonely", -ENOENT, "" },
	{ "bad]name", -EINVAL, "" },
	{ "", -EINVAL, "" },
};

static void test_resolutions(void)
{
	struct module_index ix;
	char got[4096];

	fixture_index(&ix);
	for (size_t i = 0; i < ARRAY_SIZE(resolutions); i++) {
		int r = resolve(&ix, resolutions[i].what, got, sizeof(got));
		if (r != resolutions[i].r || strcmp(got, resolutions[i].files))
			fprintf(stderr, "resolving %s\n", resolutions[i].what);
		CHECK_EQ(r, resolutions[i].r);
		CHECK_STR(got, resolutions[i].files);
	}
	module_index_close(&ix);
}

static const struct {
	const char *name, *extra, *options;
} option_cases[] = {
	/* modprobe.d by file name across directories (etc's nbd.conf hides
	 * lib's, .txt is no config, a directory dir.conf is left out), lines
	 * joined by '\', the command line, then the caller */
	{ "nbd", "max_part=16", "timeout=5 max_part=8 max_part=12 max_part=16" },
	{ "nbd", NULL, "timeout=5 max_part=8 max_part=12" },
	{ "virtio_net", NULL, "napi_tx=0 napi_tx=1" },
	/* quoted values; a word quoted whole, as GRUB passes it */
	{ "e1000", NULL, "copybreak=\"a b\" debug=\"c d\"" },
	/* rd.iscsi.param=, root=/dev/x.y, BOOT_IMAGE= are no module options */
	{ "rd", NULL, "" },
	{ "root", NULL, "" },
	{ "root=/dev/x", NULL, "" },
	{ "ext4", "", "" },
};

static void test_options(void)
{
	struct module_index ix;
	char got[MODULE_OPTIONS_MAX];

	fixture_index(&ix);
	for (size_t i = 0; i < ARRAY_SIZE(option_cases); i++) {
		CHECK_EQ(module_options(&ix, option_cases[i].name, option_cases[i].extra, got,
					sizeof(got)), 0);
		CHECK_STR(got, option_cases[i].options);
	}
	module_index_close(&ix);
}

static struct span text(const char *s)
{
	return (struct span){ s, strlen(s) };
}

/* Long lines, lines without words, NULs, a dependency list too long for a
 * plan, options too long for the kernel's buffer. */
static void test_hostile_text(void)
{
	struct module_index ix = { .dir = "/nowhere", .sys_module = "/nowhere" };
	struct module_names found;
	struct module_plan plan;
	size_t big = 200000;
	char *dep = malloc(big + 200), *alias = malloc(big + 200), *conf = malloc(big + 200);
	char got[64];

	if (!dep || !alias || !conf)
		abort();
	memset(dep, 'x', big);
	strcpy(dep + big, ":\n\n:\n::\nkernel/a.ko: kernel/b.ko\nkernel/b.ko:\n");
	dep[10] = '\0'; /* a NUL inside the long line */
	memcpy(alias, "alias ", 6);
	memset(alias + 6, '*', big);
	strcpy(alias + 6 + big, " a\nalias x\nalias\n\nalias y* b\n");
	memcpy(conf, "options a ", 10);
	memset(conf + 10, 'o', big);
	strcpy(conf + 10 + big, "\nsoftdep\nsoftdep a\noptions\noptions b\noptions b  \n");
	ix.dep = (struct span){ dep, big + strlen(dep + big) };
	ix.alias = (struct span){ alias, 6 + big + strlen(alias + 6 + big) };
	ix.conf = (struct span){ conf, 10 + big + strlen(conf + 10 + big) };

	/* the pattern of 200000 '*' does not fit: skipped, not cut */
	CHECK_EQ(module_lookup(&ix, "yes", &found), 0);
	CHECK_EQ(found.n, 1);
	CHECK_STR(found.name[0], "b");
	memset(&plan, 0, sizeof(plan));
	CHECK_EQ(plan_module(&ix, &plan, "a", false, 0), 0);
	CHECK_EQ(plan.n, 2);
	CHECK_STR(plan.step[1].name, "a");
	CHECK_EQ(module_options(&ix, "a", NULL, got, sizeof(got)), -E2BIG);
	CHECK_EQ(module_options(&ix, "b", NULL, got, sizeof(got)), 0);
	CHECK_STR(got, "");
	free(dep);
	free(alias);
	free(conf);
}

/* A softdep chain deeper than MODULE_DEPTH_MAX ends there; a module with
 * more dependencies than a plan holds is refused. */
static void test_limits(void)
{
	struct module_index ix = { .dir = "/nowhere", .sys_module = "/nowhere" };
	static char dep[16384], conf[4096];
	struct module_plan plan;
	size_t d = 0, c = 0;

	for (int i = 0; i < 20; i++) {
		d += (size_t)snprintf(dep + d, sizeof(dep) - d, "c%d.ko:\n", i);
		c += (size_t)snprintf(conf + c, sizeof(conf) - c, "softdep c%d pre: c%d\n", i, i + 1);
	}
	d += (size_t)snprintf(dep + d, sizeof(dep) - d, "wide.ko:");
	for (int i = 0; i < MODULE_PLAN_MAX + 1; i++)
		d += (size_t)snprintf(dep + d, sizeof(dep) - d, " w%d.ko", i);
	ix.dep = text(dep);
	ix.conf = text(conf);

	memset(&plan, 0, sizeof(plan));
	CHECK_EQ(plan_module(&ix, &plan, "c0", false, 0), 0);
	CHECK_EQ(plan.n, MODULE_DEPTH_MAX + 1);
	CHECK_STR(plan.step[0].name, "c12");
	CHECK(plan.step[0].wish);
	CHECK_STR(plan.step[plan.n - 1].name, "c0");
	CHECK(!plan.step[plan.n - 1].wish);
	memset(&plan, 0, sizeof(plan));
	CHECK_EQ(plan_module(&ix, &plan, "wide", false, 0), -E2BIG);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("MODULES_FIXTURES");

	if (!dir) {
		fprintf(stderr, "usage: test-modules FIXTURE_DIR\n");
		return 2;
	}
	snprintf(root, sizeof(root), "%s", dir);
	test_resolutions();
	test_options();
	test_hostile_text();
	test_limits();
	return test_report("test-modules");
}
