/* SPDX-License-Identifier: MIT */
/* The iBFT from fixture sysfs trees and fixture ACPI tables, both made from
 * one description by tests/fixtures/ibft/gen.py: each good scenario must
 * read the same from either source, and each broken one must be refused.
 * The fixture folder is argv[1] (meson passes it) or $IBFT_FIXTURES. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pivot.h"
#include "test.h"

static const char *fixtures;

static void fixture_path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", fixtures, rel);
}

/* Reads tables/<name>.bin into buf; returns its length, or 0. */
static size_t read_table(const char *name, uint8_t *buf, size_t cap)
{
	char path[4096], rel[256];
	ssize_t n;
	int fd;

	snprintf(rel, sizeof(rel), "tables/%s.bin", name);
	fixture_path(path, sizeof(path), rel);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 0;
	}
	n = read(fd, buf, cap);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

static int load_sysfs(const char *scenario, struct ibft *fw, char *err, size_t errlen)
{
	char root[4096], rel[256];

	snprintf(rel, sizeof(rel), "sysfs/%s", scenario);
	fixture_path(root, sizeof(root), rel);
	return ibft_read_sysfs(root, fw, err, errlen);
}

static int load_table(const char *name, struct ibft *fw, char *err, size_t errlen)
{
	static uint8_t buf[65536];
	size_t len = read_table(name, buf, sizeof(buf));

	CHECK(len > 0);
	return ibft_parse_table(buf, len, fw, err, errlen);
}

static const char *v4(struct in_addr a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return inet_ntop(AF_INET, &a, buf[i], sizeof(buf[i]));
}

/* What each good scenario holds: its first boot target and that
 * target's NIC. */
struct expect {
	const char *scenario;
	unsigned nnics, ntargets, nboot;
	const char *initiator;
	const char *host, *target;
	uint16_t port;
	uint64_t lun;
	const char *user, *password, *ruser, *rpassword;
	unsigned nic_index;
	uint8_t origin, flags;
	uint16_t vlan;
	const char *mac, *ip, *gateway, *dns0, *dns1, *dhcp, *hostname;
	uint8_t prefix;
};

static const struct expect scenarios[] = {
	{ "ipxe-dhcp", 1, 1, 1, "iqn.2010-04.org.ipxe:client1",
	  "10.1.0.1", "iqn.2026-01.test.iscsiroot:disk1", 3260, 0x0001000000000000ull,
	  "", "", "", "", 0, 3, 0x07, 0, "52:54:00:12:34:56",
	  "10.1.0.50", "10.1.0.1", "10.1.0.1", "0.0.0.0", "10.1.0.1", "client1", 24 },
	{ "static-vlan", 1, 1, 1, "iqn.2026-01.test.iscsiroot:static",
	  "192.168.100.1", "iqn.2026-01.test.iscsiroot:static-disk", 3261,
	  0x4105000000000000ull, "", "", "", "", 0, 1, 0x03, 100, "02:00:00:aa:bb:cc",
	  "192.168.100.20", "192.168.100.1", "192.168.100.53", "192.168.100.54",
	  "0.0.0.0", "static-host", 24 },
	{ "chap-mutual", 1, 1, 1, "iqn.2026-01.test.iscsiroot:chap",
	  "10.3.0.1", "iqn.2026-01.test.iscsiroot:chap-disk", 3260, 0,
	  "initiator-user", "initiator-secret-12", "target-user", "target-secret-123",
	  0, 3, 0x03, 0, "52:54:00:00:00:03",
	  "10.3.0.7", "0.0.0.0", "0.0.0.0", "0.0.0.0", "10.3.0.1", "", 16 },
	{ "two-targets", 2, 2, 2, "iqn.2026-01.test.iscsiroot:two",
	  "10.5.0.1", "iqn.2026-01.test.iscsiroot:second", 3260, 0x0005000000000000ull,
	  "", "", "", "", 1, 1, 0x03, 0, "52:54:00:00:00:05",
	  "10.5.0.9", "0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0", "", 16 },
	{ "minimal", 1, 1, 1, "",
	  "10.6.0.1", "iqn.2026-01.test.iscsiroot:minimal", 3260, 0,
	  "", "", "", "", 0, 3, 0x01, 0, "52:54:00:00:00:06",
	  "0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0", "", 0 },
	/* the v4 fields stay empty; test_v6_nic reads the v6 ones */
	{ "ipv6-static", 1, 1, 1, "iqn.2026-01.test.iscsiroot:v6",
	  "fd00::1", "iqn.2026-01.test.iscsiroot:v6-disk", 3260, 0x0001000000000000ull,
	  "", "", "", "", 0, 1, 0x03, 0, "52:54:00:00:00:66",
	  "0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0", "host6", 64 },
};

static void check_expect(const struct expect *e, const struct ibft *fw)
{
	const struct ibft_target *t[IBFT_MAX_TARGETS];
	const struct ibft_nic *nic;
	char mac[18];
	unsigned n = ibft_boot_targets(fw, t, IBFT_MAX_TARGETS);

	fprintf(stderr, "  scenario %s\n", e->scenario);
	CHECK_EQ(fw->nnics, e->nnics);
	CHECK_EQ(fw->ntargets, e->ntargets);
	CHECK_STR(fw->initiator, e->initiator);
	CHECK_EQ(n, e->nboot);
	if (n == 0)
		return;
	CHECK_STR(t[0]->rp.host, e->host);
	CHECK_STR(t[0]->rp.target, e->target);
	CHECK_EQ(t[0]->rp.port, e->port);
	CHECK_EQ(t[0]->rp.protocol, 6);
	CHECK(t[0]->rp.lun == e->lun);
	CHECK_STR(t[0]->rp.user, e->user);
	CHECK_STR(t[0]->rp.password, e->password);
	CHECK_STR(t[0]->rp.ruser, e->ruser);
	CHECK_STR(t[0]->rp.rpassword, e->rpassword);
	nic = ibft_target_nic(fw, t[0]);
	CHECK(nic != NULL);
	if (!nic)
		return;
	CHECK_EQ(nic->index, e->nic_index);
	CHECK_EQ(nic->origin, e->origin);
	CHECK_EQ(nic->flags, e->flags);
	CHECK_EQ(nic->vlan, e->vlan);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0],
		 nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
	CHECK_STR(mac, e->mac);
	CHECK_STR(v4(nic->ip), e->ip);
	CHECK_EQ(nic->prefix, e->prefix);
	CHECK_STR(v4(nic->gateway), e->gateway);
	CHECK_STR(v4(nic->dns[0]), e->dns0);
	CHECK_STR(v4(nic->dns[1]), e->dns1);
	CHECK_STR(v4(nic->dhcp), e->dhcp);
	CHECK_STR(nic->hostname, e->hostname);
}

/* Both sources, the expected values, and the same struct from each. */
static void test_scenarios(void)
{
	static struct ibft from_sysfs, from_table;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
		const struct expect *e = &scenarios[i];

		err[0] = '\0';
		CHECK_EQ(load_sysfs(e->scenario, &from_sysfs, err, sizeof(err)), 0);
		if (err[0])
			fprintf(stderr, "  sysfs %s: %s\n", e->scenario, err);
		check_expect(e, &from_sysfs);
		err[0] = '\0';
		CHECK_EQ(load_table(e->scenario, &from_table, err, sizeof(err)), 0);
		if (err[0])
			fprintf(stderr, "  table %s: %s\n", e->scenario, err);
		check_expect(e, &from_table);
		CHECK(memcmp(&from_sysfs, &from_table, sizeof(from_sysfs)) == 0);
	}
}

/* An IPv6 NIC: its address and gateway as the 16 bytes hold them. */
static void test_v6_nic(void)
{
	static struct ibft fw;
	const char *scenario[2] = { "sysfs", "table" };
	char err[256], a[INET6_ADDRSTRLEN];

	for (int i = 0; i < 2; i++) {
		fprintf(stderr, "  ipv6-static from the %s\n", scenario[i]);
		CHECK_EQ(i ? load_table("ipv6-static", &fw, err, sizeof(err))
			   : load_sysfs("ipv6-static", &fw, err, sizeof(err)), 0);
		CHECK(fw.nics[0].v6);
		CHECK_STR(inet_ntop(AF_INET6, &fw.nics[0].ip6, a, sizeof(a)), "fd00::5");
		CHECK_STR(inet_ntop(AF_INET6, &fw.nics[0].gateway6, a, sizeof(a)),
			  "fd00::1");
		CHECK_EQ(fw.nics[0].prefix, 64);
		CHECK_EQ(fw.nics[0].ip.s_addr, 0);
	}
	/* a v4 NIC is not v6 */
	CHECK_EQ(load_sysfs("ipxe-dhcp", &fw, err, sizeof(err)), 0);
	CHECK(!fw.nics[0].v6);
}

/* The second target of two-targets: IPv6, one-way CHAP, the LUN whose
 * sysfs form "01a000000" can be split two ways. */
static void test_two_targets(void)
{
	static struct ibft fw;
	const struct ibft_target *t[IBFT_MAX_TARGETS];
	char err[256];

	CHECK_EQ(load_sysfs("two-targets", &fw, err, sizeof(err)), 0);
	CHECK_EQ(ibft_boot_targets(&fw, t, IBFT_MAX_TARGETS), 2);
	CHECK_EQ(t[0]->index, 1);         /* boot-selected first */
	CHECK_EQ(t[1]->index, 0);
	CHECK_STR(t[1]->rp.host, "fd00::1");
	CHECK(t[1]->rp.lun == 0x001a000000000000ull);
	CHECK_STR(t[1]->rp.user, "one-way");
	CHECK_STR(t[1]->rp.password, "one-way-secret");
	CHECK_STR(t[1]->rp.ruser, "");
	CHECK_EQ(ibft_target_nic(&fw, t[1])->index, 0);
	CHECK_EQ(ibft_boot_targets(&fw, t, 1), 1);
	CHECK_EQ(t[0]->index, 1);

	/* Not valid, no address, a NIC that is not there. */
	fw.targets[1].flags = 0x02;
	CHECK_EQ(ibft_boot_targets(&fw, t, IBFT_MAX_TARGETS), 1);
	CHECK_EQ(t[0]->index, 0);
	fw.targets[0].rp.host[0] = '\0';
	CHECK_EQ(ibft_boot_targets(&fw, t, IBFT_MAX_TARGETS), 0);
	fw.targets[0].nic_index = 7;
	CHECK(ibft_target_nic(&fw, &fw.targets[0]) == NULL);
}

/* Garbage in one sysfs value refuses the whole iBFT, with a message that
 * names the file and never holds a secret, and leaves nothing behind. */
static void test_bad_sysfs(void)
{
	static const struct { const char *tree; int rc; } bad[] = {
		{ "bad-mac", -EINVAL }, { "bad-mac-sep", -EINVAL },
		{ "bad-lun", -EINVAL }, { "bad-lun-long", -EINVAL },
		{ "bad-lun-short", -EINVAL }, { "bad-port", -EINVAL },
		{ "bad-port-empty", -EINVAL }, { "bad-ip", -EINVAL },
		{ "bad-prefix", -EINVAL }, { "bad-mask", -EINVAL },
		{ "bad-vlan", -EINVAL }, { "bad-vlan-4095", -EINVAL },
		{ "bad-flags", -EINVAL }, { "bad-chap-type", -EINVAL },
		{ "bad-chap-no-name", -EINVAL }, { "bad-chap-no-rev", -EINVAL },
		{ "bad-secret-long", -EINVAL }, { "bad-name-long", -EINVAL },
		{ "bad-name-ctrl", -EINVAL }, { "bad-index", -EINVAL },
		{ "bad-too-many", -EINVAL }, { "bad-nic-mixed", -EINVAL },
	};
	static struct ibft fw;
	static const struct ibft zero;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		int r = load_sysfs(bad[i].tree, &fw, err, sizeof(err));

		fprintf(stderr, "  %s: %d %s\n", bad[i].tree, r, err);
		CHECK_EQ(r, bad[i].rc);
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
		CHECK(strstr(err, "secret-") == NULL);
		CHECK(memcmp(&fw, &zero, sizeof(fw)) == 0);
	}
}

static void test_bad_tables(void)
{
	static const char *const bad[] = {
		"bad-checksum", "bad-truncated", "bad-header-only", "bad-signature",
		"bad-revision", "bad-offset-range", "bad-struct-range",
		"bad-string-range", "bad-short-target", "bad-no-control", "bad-length",
		"bad-string-nul", "bad-offset-header",
	};
	static struct ibft fw;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		int r = load_table(bad[i], &fw, err, sizeof(err));

		fprintf(stderr, "  %s: %d %s\n", bad[i], r, err);
		CHECK_EQ(r, -EINVAL);
		CHECK(err[0] != '\0');
	}
}

/* Every cut of a good table is refused (the header's length no longer
 * fits), and flipped bytes with a repaired checksum never read out of
 * bounds (ASan watches). */
static void test_table_mutations(void)
{
	static uint8_t buf[65536], copy[65536];
	static struct ibft fw;
	char err[256];
	size_t len = read_table("chap-mutual", buf, sizeof(buf));

	for (size_t cut = 0; cut < len; cut++) {
		memcpy(copy, buf, cut);
		CHECK_EQ(ibft_parse_table(copy, cut, &fw, err, sizeof(err)), -EINVAL);
	}
	for (size_t pos = 0; pos < len; pos++) {
		if (pos == 9)
			continue;
		memcpy(copy, buf, len);
		copy[pos] ^= 0xa5;
		copy[9] = (uint8_t)(copy[9] + (buf[pos] - copy[pos]));
		int r = ibft_parse_table(copy, len, &fw, err, sizeof(err));

		CHECK(r == 0 || r == -EINVAL || r == -EOPNOTSUPP);
	}
}

/* sysfs first, then the ACPI table, then -ENOENT. */
static void test_load(void)
{
	static struct ibft a, b;
	char root[4096], err[256], tmp[] = "/tmp/test-ibft.XXXXXX";

	fixture_path(root, sizeof(root), "sysfs/ipxe-dhcp");
	CHECK_EQ(ibft_load(root, &a, err, sizeof(err)), 0);
	fixture_path(root, sizeof(root), "acpi-only");
	CHECK_EQ(ibft_load(root, &b, err, sizeof(err)), 0);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	fixture_path(root, sizeof(root), "acpi-bad");
	CHECK_EQ(ibft_load(root, &b, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "checksum") != NULL);
	CHECK(mkdtemp(tmp) != NULL);
	CHECK_EQ(ibft_load(tmp, &b, err, sizeof(err)), -ENOENT);
	CHECK_EQ(ibft_read_sysfs(tmp, &b, err, sizeof(err)), -ENOENT);
	rmdir(tmp);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* two-targets as ibft_load reads it, with the interfaces of its tree:
 * each NIC gets the interface with its MAC, and each boot target becomes
 * a path through its own NIC's interface (boot-selected first). */
static void test_two_nics_two_paths(void)
{
	static struct ibft fw;
	struct boot_config bc;
	char root[4096], err[256] = "", name[IFNAMSIZ];
	static const uint8_t nobody[6] = { 2, 0, 0, 0, 0, 9 };

	fixture_path(root, sizeof(root), "sysfs/two-targets");
	CHECK_EQ(ibft_load(root, &fw, err, sizeof(err)), 0);
	CHECK_EQ(fw.nnics, 2);
	CHECK_STR(fw.nics[0].ifname, "ens3");
	CHECK_STR(fw.nics[1].ifname, "ens4");
	CHECK_EQ(ibft_ifname_by_mac(root, nobody, name, sizeof(name)), -ENOENT);
	CHECK_STR(name, "");

	boot_config_init(&bc);
	CHECK_EQ(boot_config_use_firmware(&bc, root, err, sizeof(err)), 1);
	CHECK_EQ(bc.npaths, 2);
	CHECK_STR(bc.paths[0].target, "iqn.2026-01.test.iscsiroot:second");
	CHECK_STR(bc.paths[0].host, "10.5.0.1");
	CHECK_STR(bc.paths[0].netdev, "ens4");
	CHECK_STR(bc.paths[1].target, "iqn.2026-01.test.iscsiroot:first");
	CHECK_STR(bc.paths[1].host, "fd00::1");
	CHECK_STR(bc.paths[1].netdev, "ens3");
	CHECK_STR(bc.paths[1].user, "one-way");
	CHECK_STR(bc.initiator, "iqn.2026-01.test.iscsiroot:two");

	/* The same table without the interfaces (the ACPI copy, no
	 * /sys/class/net): no names, the paths still there. */
	fixture_path(root, sizeof(root), "acpi-only");
	CHECK_EQ(ibft_load(root, &fw, err, sizeof(err)), 0);
	CHECK_STR(fw.nics[0].ifname, "");
}

/* The kernel's unpadded "%x" per LUN byte, read back. */
static void test_lun_forms(void)
{
	static const struct { const char *text; int rc; uint64_t lun; } cases[] = {
		{ "01000000", 0, 0x0001000000000000ull },      /* tgt's LUN 1 */
		{ "00000000", 0, 0 },
		{ "0ff000000", 0, 0x00ff000000000000ull },
		{ "01a000000", 0, 0x001a000000000000ull },     /* not 00 01 a0 */
		{ "415000000", 0, 0x4105000000000000ull },     /* flat 0x105 */
		{ "4123000000", 0, 0x4123000000000000ull },
		{ "12345678", 0, 0x0102030405060708ull },
		{ "0001000000000000", 0, 0x0001000000000000ull }, /* padded */
		{ "ffffffffffffffff", 0, 0xffffffffffffffffull },
		{ "0100000", -EINVAL, 0 },                     /* 7 digits */
		{ "1ff00000000000000", -EINVAL, 0 },           /* 17 */
		{ "0g000000", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ " 1000000", -EINVAL, 0 },
	};
	char tmp[] = "/tmp/test-ibft.XXXXXX", dir[256], cmd[300];
	static struct ibft fw;
	char err[256];

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(dir, sizeof(dir), "%s/sys/firmware/ibft/target0", tmp);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	CHECK_EQ(system(cmd), 0);
	write_file(dir, "flags", "3\n");
	write_file(dir, "ip-addr", "10.0.0.1\n");
	write_file(dir, "target-name", "iqn.2026-01.test:lun\n");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[64];
		int r;

		snprintf(text, sizeof(text), "%s\n", cases[i].text);
		write_file(dir, "lun", text);
		r = ibft_read_sysfs(tmp, &fw, err, sizeof(err));
		if (r != cases[i].rc)
			fprintf(stderr, "  lun \"%s\": %d %s\n", cases[i].text, r, err);
		CHECK_EQ(r, cases[i].rc);
		if (r == 0)
			CHECK(fw.targets[0].rp.lun == cases[i].lun);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	CHECK_EQ(system(cmd), 0);
}

int main(int argc, char **argv)
{
	fixtures = argc > 1 ? argv[1] : getenv("IBFT_FIXTURES");
	if (!fixtures) {
		fprintf(stderr, "usage: test-ibft FIXTURE_DIR (or IBFT_FIXTURES=...)\n");
		return 2;
	}
	test_scenarios();
	test_v6_nic();
	test_two_targets();
	test_bad_sysfs();
	test_bad_tables();
	test_table_mutations();
	test_load();
	test_two_nics_two_paths();
	test_lun_forms();
	return test_report("test-ibft");
}
