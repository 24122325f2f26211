/* SPDX-License-Identifier: MIT */
/* The LUN probe against the scripted target (test-peer.c): after TEST
 * UNIT READY its commands go in one burst, and every answer is still
 * judged as when they went one by one (a VPD page counts only when page
 * 0x00 lists it, a malformed READ CAPACITY(16) fails the probe, MODE
 * SENSE sets write protection). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "test-peer.h"
#include "test.h"

struct rig {
	struct ev_loop loop;
	struct peer peer;
	struct iscsi_session *s;
	struct iscsi_config cfg;
};

static void rig_start(struct rig *r)
{
	CHECK_EQ(ev_loop_init(&r->loop), 0);
	ev_set_clock(&r->loop, fake_clock, NULL);
	peer_start(&r->peer, &r->loop, SCRIPT_NORMAL);
	iscsi_config_defaults(&r->cfg);
	snprintf(r->cfg.host, sizeof(r->cfg.host), "127.0.0.1");
	r->cfg.port = r->peer.port;
	snprintf(r->cfg.target_name, sizeof(r->cfg.target_name), "iqn.2025-01.test:t");
	r->s = iscsi_session_new(&r->loop, &r->cfg);
	CHECK(r->s != NULL);
	CHECK_EQ(iscsi_sync_login(&r->loop, r->s), 0);
}

static void rig_stop(struct rig *r)
{
	iscsi_session_free(r->s);
	peer_stop(&r->peer);
	ev_loop_close(&r->loop);
}

static void test_probe(void)
{
	struct rig r;
	struct iscsi_disk d;
	char err[256] = "";

	rig_start(&r);
	CHECK_EQ(iscsi_disk_probe(&r.loop, r.s, 0, &d, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(r.peer.commands, 9);
	CHECK_EQ(r.peer.max_burst, 8);         /* all but TEST UNIT READY at once */
	CHECK_STR(d.inquiry.vendor, "PEER");
	CHECK_STR(d.inquiry.product, "TEST DISK");
	CHECK_STR(d.serial, "disk-A");
	CHECK_STR(d.designator, "");           /* 0x83 answered, but not listed */
	CHECK(!d.have_limits);
	CHECK_EQ(d.capacity.blocks, LUN_BYTES / BS);
	CHECK_EQ(d.capacity.block_size, BS);
	CHECK(!d.write_protected);
	CHECK_EQ(d.max_xfer_bytes, 16u << 20);  /* no Block Limits: our own cap */
	rig_stop(&r);
}

static void test_describe(void)
{
	struct rig r;
	struct iscsi_disk d;
	char err[256] = "";

	rig_start(&r);
	CHECK_EQ(iscsi_lun_describe(&r.loop, r.s, 0, &d, err, sizeof(err)), 0);
	CHECK_EQ(r.peer.commands, 5);
	CHECK_EQ(r.peer.max_burst, 5);
	CHECK_STR(d.serial, "disk-A");
	CHECK_EQ(d.capacity.blocks, 0);        /* no capacity asked */
	rig_stop(&r);
}

static void test_judged_as_before(void)
{
	struct rig r;
	struct iscsi_disk d;
	char err[256] = "";

	rig_start(&r);
	r.peer.write_protect = true;
	CHECK_EQ(iscsi_disk_probe(&r.loop, r.s, 0, &d, err, sizeof(err)), 0);
	CHECK(d.write_protected);
	r.peer.cap16_bad = true;
	CHECK_EQ(iscsi_disk_probe(&r.loop, r.s, 0, &d, err, sizeof(err)), -EMEDIUMTYPE);
	CHECK(strstr(err, "malformed READ CAPACITY(16)") != NULL);
	rig_stop(&r);
}

int main(void)
{
	test_probe();
	test_describe();
	test_judged_as_before();
	return test_report("test-disk");
}
