/* SPDX-License-Identifier: MIT */
/*
 * Paths from every source: what makes two paths one, the limit, and the
 * portals a SendTargets answer lists for the target. The answers are
 * shaped as LIO's are (one TargetAddress per portal of each portal group,
 * IPv6 in brackets, every address with its ",tpgt"); tgtd lists only the
 * portal it was asked through.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pivot.h"
#include "test.h"

#define T "iqn.2025-01.x:disk"

/* A key list in a writable buffer, as the session hands it over. */
static char answer[2048];

static size_t set_answer(const char *s, size_t len)
{
	memcpy(answer, s, len);
	return len;
}
#define ANSWER(lit) set_answer(lit, sizeof(lit) - 1)

static const char lio[] =
	"TargetName=iqn.2003-01.org.linux-iscsi.a:other\0"
	"TargetAddress=10.0.0.1:3260,1\0"
	"TargetName=" T "\0"
	"TargetAlias=disk\0"
	"TargetAddress=10.0.0.1:3260,1\0"
	"TargetAddress=[fd00::1]:3260,1\0"
	"\0"
	"TargetAddress=10.0.1.1:3261,2\0"
	"TargetAddress=10.0.0.1:3260,1\0"
	"TargetAddress=host.example,1\0"
	"TargetName=iqn.2025-01.x:third\0"
	"TargetAddress=10.9.9.9:3260,1\0";

static void template(struct dhcpc_rootpath *rp)
{
	memset(rp, 0, sizeof(*rp));
	strcpy(rp->host, "10.0.0.1");
	rp->port = 3260;
	rp->protocol = 6;
	rp->lun = 0x0001000000000000ull;
	strcpy(rp->target, "IQN.2025-01.X:Disk");  /* names match without case */
	strcpy(rp->user, "u");
	strcpy(rp->password, "pw");
	strcpy(rp->netdev, "eth1");
}

/* Every portal of the target, in the answer's order, each once, each a
 * copy of the path that was asked (LUN, CHAP) but for its interface: the
 * routes pick the NIC of a listed portal. The configured path keeps its. */
static void test_every_portal(void)
{
	struct boot_config bc;
	struct dhcpc_rootpath tmpl;

	template(&tmpl);
	boot_config_init(&bc);
	CHECK_EQ(boot_config_add_path(&bc, &tmpl, "test"), 1);
	CHECK_EQ(boot_paths_from_send_targets(&bc, &tmpl, answer, ANSWER(lio), -1), 5);
	CHECK_EQ(bc.npaths, 4);
	CHECK_STR(bc.paths[0].host, "10.0.0.1");
	CHECK_STR(bc.paths[1].host, "fd00::1");
	CHECK_EQ(bc.paths[1].port, 3260);
	CHECK_STR(bc.paths[2].host, "10.0.1.1");
	CHECK_EQ(bc.paths[2].port, 3261);
	CHECK_STR(bc.paths[3].host, "host.example");
	CHECK_EQ(bc.paths[3].port, 3260);
	for (unsigned i = 0; i < bc.npaths; i++) {
		CHECK(bc.paths[i].lun == tmpl.lun);
		CHECK_STR(bc.paths[i].target, tmpl.target);
		CHECK_STR(bc.paths[i].password, "pw");
		CHECK_STR(bc.paths[i].netdev, i == 0 ? "eth1" : "");
	}
}

/* rd.iscsi.target.group / iscsistart -g: only that portal group. */
static void test_portal_group(void)
{
	struct boot_config bc;
	struct dhcpc_rootpath tmpl;

	template(&tmpl);
	boot_config_init(&bc);
	CHECK_EQ(boot_paths_from_send_targets(&bc, &tmpl, answer, ANSWER(lio), 2), 1);
	CHECK_EQ(bc.npaths, 1);
	CHECK_STR(bc.paths[0].host, "10.0.1.1");
	boot_config_init(&bc);
	CHECK_EQ(boot_paths_from_send_targets(&bc, &tmpl, answer, ANSWER(lio), 7), 0);
	CHECK_EQ(bc.npaths, 0);
	/* Another target's portals are not ours. */
	strcpy(tmpl.target, "iqn.2025-01.x:missing");
	CHECK_EQ(boot_paths_from_send_targets(&bc, &tmpl, answer, ANSWER(lio), -1), 0);
	CHECK_EQ(bc.npaths, 0);
}

/* Past BOOT_MAX_PATHS the answer's further portals are left out; a path
 * an earlier source gave stays where it was. */
static void test_limit(void)
{
	static const char many[] =
		"TargetName=" T "\0"
		"TargetAddress=10.0.0.5:3260,1\0TargetAddress=10.0.0.2:3260,1\0"
		"TargetAddress=10.0.0.3:3260,1\0TargetAddress=10.0.0.4:3260,1\0"
		"TargetAddress=10.0.0.1:3260,1\0TargetAddress=10.0.0.6:3260,1\0";
	struct boot_config bc;
	struct dhcpc_rootpath tmpl;

	template(&tmpl);
	strcpy(tmpl.host, "10.0.0.4");
	boot_config_init(&bc);
	boot_config_add_path(&bc, &tmpl, "test");
	CHECK_EQ(boot_paths_from_send_targets(&bc, &tmpl, answer, ANSWER(many), -1), 6);
	CHECK_EQ(bc.npaths, BOOT_MAX_PATHS);
	CHECK_STR(bc.paths[0].host, "10.0.0.4");
	CHECK_STR(bc.paths[1].host, "10.0.0.5");
	CHECK_STR(bc.paths[3].host, "10.0.0.3");
}

/* A malformed answer is refused whole: no path from it. */
static void test_malformed(void)
{
	static const struct { const char *text; size_t len; } bad[] = {
#define B(lit) { lit, sizeof(lit) - 1 }
		B("TargetAddress=10.0.0.2:3260,1\0TargetName=" T "\0"),
		B("TargetName=" T "\0TargetAddress=10.0.0.2:3260,1\0TargetAddress=[fd00::1:3260,1\0"),
		B("TargetName=" T "\0TargetAddress=10.0.0.2:99999,1\0"),
		B("TargetName=" T "\0TargetAddress=10.0.0.2:3260,1\0TargetAddress=:3260\0"),
		B("TargetName=" T "\0TargetAddress=10.0.0.2:3260,1\0nokey\0"),
		B("TargetName=" T "\0TargetAddress=10.0.0.2:3260,1"),    /* no final NUL */
#undef B
	};
	struct boot_config bc;
	struct dhcpc_rootpath tmpl;

	template(&tmpl);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		boot_config_init(&bc);
		boot_config_add_path(&bc, &tmpl, "test");
		CHECK_EQ(boot_paths_from_send_targets(&bc, &tmpl, answer,
						      set_answer(bad[i].text, bad[i].len), -1),
			 -EBADMSG);
		CHECK_EQ(bc.npaths, 1);
		CHECK_STR(bc.paths[1].host, "");
	}
}

/* What makes two paths one: host (any spelling of one address, names
 * without case), port, target (without case), LUN; not CHAP, not the
 * interface. */
static void test_same(void)
{
	struct dhcpc_rootpath a, b;

	template(&a);
	template(&b);
	strcpy(b.user, "other");
	strcpy(b.netdev, "eth9");
	CHECK(boot_path_same(&a, &b));
	strcpy(a.host, "fd00:0:0::1");
	strcpy(b.host, "FD00::1");
	CHECK(boot_path_same(&a, &b));
	strcpy(a.host, "Host.Example");
	strcpy(b.host, "host.example");
	CHECK(boot_path_same(&a, &b));
	strcpy(b.host, "host2.example");
	CHECK(!boot_path_same(&a, &b));
	template(&b);
	template(&a);
	b.port = 3261;
	CHECK(!boot_path_same(&a, &b));
	b.port = 3260;
	b.lun = 0;
	CHECK(!boot_path_same(&a, &b));
	b.lun = a.lun;
	strcpy(b.target, "iqn.2025-01.x:disk2");
	CHECK(!boot_path_same(&a, &b));
	/* 10.0.0.1 and ::ffff:10.0.0.1 are different strings of different
	 * families: two paths, as the sources wrote them. */
	strcpy(b.target, a.target);
	strcpy(b.host, "::ffff:10.0.0.1");
	CHECK(!boot_path_same(&a, &b));
}

int main(void)
{
	test_every_portal();
	test_portal_group();
	test_limit();
	test_malformed();
	test_same();
	return test_report("paths");
}
