/* SPDX-License-Identifier: MIT */
/* The disk identity check: what makes a LUN after a reconnect the disk
 * that was attached, and what refuses it. */
#include <errno.h>
#include <string.h>

#include "iscsi.h"
#include "test.h"

static struct iscsi_disk_identity base(void)
{
	struct iscsi_disk_identity id;

	memset(&id, 0, sizeof(id));
	strcpy(id.designator, "naa.60000000000000000e00000000010001");
	strcpy(id.serial, "beaf11");
	strcpy(id.vendor, "IET");
	strcpy(id.product, "VIRTUAL-DISK");
	id.block_size = 512;
	id.blocks = 131072;
	return id;
}

static int check(const struct iscsi_disk_identity *was,
		 const struct iscsi_disk_identity *now, const char *want_in_why)
{
	char why[400] = "";
	int r = iscsi_disk_identity_check(was, now, why, sizeof(why));

	if (want_in_why)
		CHECK(strstr(why, want_in_why) != NULL);
	return r;
}

static void test_same_and_grown(void)
{
	struct iscsi_disk_identity was = base(), now = base();

	CHECK_EQ(check(&was, &now, NULL), 0);
	now.blocks = was.blocks * 2; /* grown: the same disk */
	CHECK_EQ(check(&was, &now, NULL), 0);
	/* Vendor and product are not compared where a designator says it. */
	strcpy(now.product, "OTHER");
	CHECK_EQ(check(&was, &now, NULL), 0);
}

static void test_other_disk(void)
{
	struct iscsi_disk_identity was = base(), now = base();

	strcpy(now.designator, "naa.60000000000000000e00000000020001");
	CHECK_EQ(check(&was, &now, "designator was naa.6"), -ESTALE);
	now = base();
	strcpy(now.serial, "beaf21");
	CHECK_EQ(check(&was, &now, "serial number was beaf11, now beaf21"), -ESTALE);
	now = base();
	now.designator[0] = '\0'; /* the designator gone is a change too */
	CHECK_EQ(check(&was, &now, "now (none)"), -ESTALE);
	now = base();
	now.block_size = 4096;
	CHECK_EQ(check(&was, &now, "block size was 512 bytes, now 4096"), -ESTALE);
	now = base();
	now.blocks--;
	CHECK_EQ(check(&was, &now, "had 131072 blocks, now 131071"), -ESTALE);
}

/* A LUN with neither designator nor serial is held to its vendor and
 * product, block size and capacity. */
static void test_no_identifiers(void)
{
	struct iscsi_disk_identity was = base(), now;

	was.designator[0] = was.serial[0] = '\0';
	now = was;
	CHECK_EQ(check(&was, &now, NULL), 0);
	strcpy(now.product, "OTHER");
	CHECK_EQ(check(&was, &now, "vendor and product was IET VIRTUAL-DISK, now IET OTHER"),
		 -ESTALE);
}

int main(void)
{
	test_same_and_grown();
	test_other_disk();
	test_no_identifiers();
	return test_report("identity");
}
