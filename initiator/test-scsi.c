/* SPDX-License-Identifier: MIT */
/*
 * The SCSI layer against real bytes. Replies marked "tgtd" were recorded
 * from tgt 1.0.85 on 127.0.0.1 (a 64 MiB file LUN with 4096-byte blocks
 * as LUN 1, a 32 MiB thin-provisioned LUN as LUN 2, later readonly=1 and
 * sense_format=1) by running libiscsi's iscsi-inq, iscsi-readcapacity16,
 * iscsi-ls and a MODE SENSE(6) probe under strace and cutting the
 * Data-In / SCSI Response segments out of the socket reads. Replies
 * marked "SPC-4"/"SBC-3" are built by hand from the standard's layout for
 * cases tgtd never produces (information descriptors, short pages, …).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi.h"
#include "test.h"
#include "util.h"

/* Decodes a hex string (spaces ignored) into out; returns the length. */
static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		if (*s == ' ')
			continue;
		char c = *s;
		int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == max) {
			fprintf(stderr, "unhex: test vector too long\n");
			exit(2);
		}
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return n;
}

static void check_bytes(const char *what, const uint8_t *got, const uint8_t *want, size_t n)
{
	test_checks++;
	if (memcmp(got, want, n) == 0)
		return;
	test_failures++;
	fprintf(stderr, "%s: got ", what);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%02x", got[i]);
	fprintf(stderr, "\n%s: want ", what);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%02x", want[i]);
	fprintf(stderr, "\n");
}

/* ---- CDB builders: every byte of the 16, so stale bytes would show. */

enum cdb_kind { TUR, INQ, RLUNS, RC10, RC16, RD, WR, SYNC, UNMAP, MS6 };

static const struct cdb_case {
	const char *name;
	enum cdb_kind kind;
	uint64_t lba;
	uint32_t n;      /* blocks or allocation/parameter length */
	bool flag;       /* evpd or fua */
	uint8_t page;
	bool use16;
	size_t want_len;
	const char *want;
} cdb_cases[] = {
	{ "tur", TUR, 0, 0, false, 0, false, 6, "000000000000" },
	{ "inquiry std", INQ, 0, 96, false, 0, false, 6, "120000006000" },
	/* the page code stays 0 without EVPD (SPC-4 6.6.1) */
	{ "inquiry std ignores page", INQ, 0, 255, false, 0x83, false, 6, "12000000ff00" },
	{ "inquiry vpd 83", INQ, 0, 4096, true, 0x83, false, 6, "120183100000" },
	{ "inquiry vpd b0", INQ, 0, 64, true, 0xb0, false, 6, "1201b0004000" },
	{ "report luns", RLUNS, 0, 0x1000, false, 0, false, 12, "a00000000000000010000000" },
	{ "read capacity 10", RC10, 0, 0, false, 0, false, 10, "25000000000000000000" },
	{ "read capacity 16", RC16, 0, 32, false, 0, false, 16,
	  "9e100000000000000000000000200000" },
	{ "read10", RD, 0x12345678, 8, false, 0, false, 10, "28001234567800000800" },
	{ "read10 max", RD, 0xffffffff, 0xffff, false, 0, false, 10, "2800ffffffff00ffff00" },
	{ "read16", RD, 0x123456789aull, 0x10000, false, 0, true, 16,
	  "8800 000000123456789a 00010000 0000" },
	{ "read lba over 32 bits goes 16", RD, 0x100000000ull, 1, false, 0, false, 16,
	  "88000000000100000000000000010000" },
	{ "read 65536 blocks goes 16", RD, 0, 0x10000, false, 0, false, 16,
	  "88000000000000000000000100000000" },
	{ "write10", WR, 0x800, 16, false, 0, false, 10, "2a000000080000001000" },
	{ "write10 fua", WR, 0x800, 16, true, 0, false, 10, "2a080000080000001000" },
	{ "write16 fua big lba", WR, 0xfedcba9876543210ull, 0xffffffff, true, 0, true, 16,
	  "8a08fedcba9876543210ffffffff0000" },
	{ "write16", WR, 3, 1, false, 0, true, 16, "8a000000000000000003000000010000" },
	{ "sync cache10 all", SYNC, 0, 0, false, 0, false, 10, "35000000000000000000" },
	{ "sync cache10 range", SYNC, 0x1000, 0x80, false, 0, false, 10, "35000000100000008000" },
	{ "sync cache16", SYNC, 0x200000000ull, 0, false, 0, true, 16,
	  "91000000000200000000000000000000" },
	{ "unmap", UNMAP, 0, 24, false, 0, false, 10, "42000000000000001800" },
	{ "mode sense6 all pages", MS6, 0, 192, false, 0x3f, false, 6, "1a003f00c000" },
	{ "mode sense6 page masked", MS6, 0, 4, false, 0xc8, false, 6, "1a0008000400" },
};

static size_t build_cdb(const struct cdb_case *c, uint8_t *cdb)
{
	switch (c->kind) {
	case TUR: return scsi_cdb_test_unit_ready(cdb);
	case INQ: return scsi_cdb_inquiry(cdb, c->flag, c->page, (uint16_t)c->n);
	case RLUNS: return scsi_cdb_report_luns(cdb, c->n);
	case RC10: return scsi_cdb_read_capacity10(cdb);
	case RC16: return scsi_cdb_read_capacity16(cdb, c->n);
	case RD: return scsi_cdb_read(cdb, c->lba, c->n, c->use16);
	case WR: return scsi_cdb_write(cdb, c->lba, c->n, c->flag, c->use16);
	case SYNC: return scsi_cdb_sync_cache(cdb, c->lba, c->n, c->use16);
	case UNMAP: return scsi_cdb_unmap(cdb, (uint16_t)c->n);
	case MS6: return scsi_cdb_mode_sense6(cdb, c->page, (uint8_t)c->n);
	}
	abort();
}

static void test_cdbs(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cdb_cases); i++) {
		const struct cdb_case *c = &cdb_cases[i];
		uint8_t cdb[SCSI_CDB_MAX], want[SCSI_CDB_MAX] = { 0 };
		memset(cdb, 0xaa, sizeof(cdb));
		size_t len = build_cdb(c, cdb);
		CHECK_EQ(len, c->want_len);
		CHECK_EQ(unhex(c->want, want, sizeof(want)), c->want_len);
		check_bytes(c->name, cdb, want, SCSI_CDB_MAX);
	}
}

/* ---- UNMAP parameter list (SBC-3 5.28.2). */

static void test_unmap_params(void)
{
	const struct scsi_unmap_range r[2] = {
		{ 0x1000, 8 }, { 0x123456789aull, 0x10000 },
	};
	uint8_t buf[64], want[64];
	size_t wlen = unhex("0026 0020 00000000"
			    "0000000000001000 00000008 00000000"
			    "000000123456789a 00010000 00000000", want, sizeof(want));

	memset(buf, 0xaa, sizeof(buf));
	CHECK_EQ(scsi_unmap_params(buf, sizeof(buf), r, 2), 40);
	CHECK_EQ(wlen, 40);
	check_bytes("unmap 2 ranges", buf, want, 40);
	CHECK_EQ(scsi_unmap_params(buf, 39, r, 2), -ENOSPC);
	CHECK_EQ(scsi_unmap_params(buf, 8, r, 0), 8);
	check_bytes("unmap empty", buf, (const uint8_t *)"\0\x06\0\0\0\0\0\0", 8);

	/* 4095 descriptors is the most the 16-bit lengths can describe. */
	size_t big = 8 + 16 * 4096;
	uint8_t *p = calloc(1, big);
	struct scsi_unmap_range *many = calloc(4096, sizeof(*many));
	CHECK(p && many);
	if (p && many) {
		CHECK_EQ(scsi_unmap_params(p, big, many, 4095), 8 + 16 * 4095);
		CHECK_EQ(get_be16(p), 0xfff6);
		CHECK_EQ(get_be16(p + 2), 0xfff0);
		CHECK_EQ(scsi_unmap_params(p, big, many, 4096), -ENOSPC);
	}
	free(p);
	free(many);
}

/* ---- Sense data. */

static const struct sense_case {
	const char *name;
	const char *hex;
	size_t cut;          /* when non-zero, only this many bytes are given */
	int ret;
	uint8_t code, key, asc, ascq;
	bool deferred, info_valid;
	uint64_t info;
	const char *text;    /* scsi_sense_describe, when set */
} sense_cases[] = {
	{ "tgtd fixed unit attention", "700006000000000a00000000290000000000", 0, 0,
	  0x70, 6, 0x29, 0x00, false, false, 0,
	  "UNIT ATTENTION, asc/ascq 29/00 (power on, reset, or bus device reset occurred)" },
	{ "tgtd fixed lba out of range", "700005000000000a00000000210000000000", 0, 0,
	  0x70, 5, 0x21, 0x00, false, false, 0,
	  "ILLEGAL REQUEST, asc/ascq 21/00 (logical block address out of range)" },
	{ "tgtd descriptor unit attention", "7206290000000000", 0, 0,
	  0x72, 6, 0x29, 0x00, false, false, 0, NULL },
	{ "tgtd descriptor write protected", "7207270000000000", 0, 0,
	  0x72, 7, 0x27, 0x00, false, false, 0,
	  "DATA PROTECT, asc/ascq 27/00 (write protected)" },
	/* SPC-4 4.5.3: VALID set, INFORMATION = failing LBA. */
	{ "fixed medium error with info", "f00003000012340a00000000110000000000", 0, 0,
	  0x70, 3, 0x11, 0x00, false, true, 0x1234,
	  "MEDIUM ERROR, asc/ascq 11/00 (unrecovered read error), information 0x1234" },
	{ "fixed info without VALID", "700003000012340a00000000110000000000", 0, 0,
	  0x70, 3, 0x11, 0x00, false, false, 0, NULL },
	{ "fixed deferred", "710004000000000a00000000440000000000", 0, 0,
	  0x71, 4, 0x44, 0x00, true, false, 0,
	  "HARDWARE ERROR, asc/ascq 44/00 (internal target failure), deferred error" },
	{ "fixed truncated before asc", "700002000000000a00000000040100000000", 8, 0,
	  0x70, 2, 0, 0, false, false, 0, NULL },
	{ "fixed truncated inside info", "f00003000012340a00000000110000000000", 6, 0,
	  0x70, 3, 0, 0, false, false, 0, NULL },
	{ "fixed only the key", "700006", 0, 0, 0x70, 6, 0, 0, false, false, 0, NULL },
	/* ADDITIONAL SENSE LENGTH 0xf4 but 18 bytes sent: read what is there */
	{ "fixed additional length past buffer", "70000200000000f400000000040100000000", 0, 0,
	  0x70, 2, 0x04, 0x01, false, false, 0,
	  "NOT READY, asc/ascq 04/01 (logical unit is in process of becoming ready)" },
	/* ADDITIONAL SENSE LENGTH 4 ends before ASC: the bytes after are noise */
	{ "fixed additional length short", "700006000000000400000000290000000000", 0, 0,
	  0x70, 6, 0, 0, false, false, 0, NULL },
	/* SPC-4 4.5.2.2 information descriptor */
	{ "descriptor with info", "72031100 0000000c 000a8000 0000000123456789", 0, 0,
	  0x72, 3, 0x11, 0x00, false, true, 0x123456789ull, NULL },
	{ "descriptor info after sense-key-specific",
	  "72052400 00000014 02060000 80001000 000a8000 00000000 0000ffff", 0, 0,
	  0x72, 5, 0x24, 0x00, false, true, 0xffff,
	  "ILLEGAL REQUEST, asc/ascq 24/00 (invalid field in cdb), information 0xffff" },
	{ "descriptor info not valid", "730b4700 0000000c 000a0000 00000000 00000042", 0, 0,
	  0x73, 0xb, 0x47, 0x00, true, false, 0x42, NULL },
	/* the info descriptor runs past ADDITIONAL SENSE LENGTH (8) */
	{ "descriptor info past additional length", "72031100 00000008 000a8000 00000000 00000042", 0, 0,
	  0x72, 3, 0x11, 0x00, false, false, 0, NULL },
	/* the info descriptor runs past the buffer */
	{ "descriptor info truncated", "72031100 0000000c 000a8000 00000000 000000", 0, 0,
	  0x72, 3, 0x11, 0x00, false, false, 0, NULL },
	{ "descriptor header only", "72062a09", 0, 0, 0x72, 6, 0x2a, 0x09, false, false, 0,
	  "UNIT ATTENTION, asc/ascq 2a/09 (capacity data has changed)" },
	{ "descriptor too short", "720629", 0, -EBADMSG, 0x72, 0, 0, 0, false, false, 0, NULL },
	{ "fixed too short", "7000", 0, -EBADMSG, 0x70, 0, 0, 0, false, false, 0, NULL },
	{ "empty", "", 0, -EBADMSG, 0, 0, 0, 0, false, false, 0, NULL },
	{ "vendor format", "7f0006000000000a00000000290000000000", 0, -EBADMSG,
	  0x7f, 0, 0, 0, false, false, 0, NULL },
	{ "not sense", "000006000000000a00000000290000000000", 0, -EBADMSG,
	  0x00, 0, 0, 0, false, false, 0, NULL },
};

static void test_sense(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(sense_cases); i++) {
		const struct sense_case *c = &sense_cases[i];
		uint8_t buf[SCSI_SENSE_MAX];
		size_t len = unhex(c->hex, buf, sizeof(buf));
		struct scsi_sense s;
		if (c->cut)
			len = c->cut;
		int r = scsi_sense_decode(buf, len, &s);
		if (r != c->ret)
			fprintf(stderr, "sense case: %s\n", c->name);
		CHECK_EQ(r, c->ret);
		if (r < 0)
			continue;
		CHECK_EQ(s.response_code, c->code);
		CHECK_EQ(s.key, c->key);
		CHECK_EQ(s.asc, c->asc);
		CHECK_EQ(s.ascq, c->ascq);
		CHECK_EQ(s.deferred, c->deferred);
		CHECK_EQ(s.info_valid, c->info_valid);
		if (c->info_valid)
			CHECK_EQ(s.info, c->info);
		if (c->text) {
			char text[200];
			scsi_sense_describe(&s, text, sizeof(text));
			CHECK_STR(text, c->text);
		}
	}
}

static void test_sense_names(void)
{
	struct scsi_sense s = { .response_code = 0x70, .key = 5, .asc = 0x99, .ascq = 0x01 };
	char text[200];

	scsi_sense_describe(&s, text, sizeof(text));
	CHECK_STR(text, "ILLEGAL REQUEST, asc/ascq 99/01");
	s.asc = 0x20;
	s.ascq = 0x00;
	scsi_sense_describe(&s, text, 10);
	CHECK_STR(text, "ILLEGAL R");
	scsi_sense_describe(&s, text, 1);
	CHECK_STR(text, "");
	s.key = 2;
	s.asc = 0x3a;
	scsi_sense_describe(&s, text, sizeof(text));
	CHECK_STR(text, "NOT READY, asc/ascq 3a/00 (medium not present)");

	CHECK_STR(scsi_sense_key_name(SCSI_SENSE_UNIT_ATTENTION), "UNIT ATTENTION");
	CHECK_STR(scsi_sense_key_name(SCSI_SENSE_MISCOMPARE), "MISCOMPARE");
	CHECK_STR(scsi_sense_key_name(0x10), "UNKNOWN SENSE KEY");
	CHECK_STR(scsi_status_name(SCSI_STATUS_CHECK_CONDITION), "CHECK CONDITION");
	CHECK_STR(scsi_status_name(SCSI_STATUS_TASK_SET_FULL), "TASK SET FULL");
	CHECK_STR(scsi_status_name(0x22), "UNKNOWN STATUS");
}

/* ---- Standard INQUIRY data. */

/* tgtd, LUN 1: a disk, SPC-3, CmdQue, 66 bytes. */
#define TGTD_INQ_LUN1 "000005123d00000249455420202020205649525455414c2d4449534b2020202030303031" \
		      "0000000000000000000000000000000000000000000004c0096003000000"
/* tgtd, LUN 0: its controller LUN, device type 0x0c. */
#define TGTD_INQ_LUN0 "0c0005123d0000024945542020202020436f6e74726f6c6c65722020202020203030303100" \
		      "00000000000000000000000000000000000000000004c0096001fb"

static void test_inquiry(void)
{
	uint8_t buf[128];
	struct scsi_inquiry inq;
	size_t len = unhex(TGTD_INQ_LUN1, buf, sizeof(buf));

	CHECK_EQ(len, 66);
	CHECK_EQ(scsi_parse_inquiry(buf, len, &inq), 0);
	CHECK_EQ(inq.peripheral_qualifier, 0);
	CHECK_EQ(inq.device_type, 0);
	CHECK(!inq.removable);
	CHECK_EQ(inq.version, 5);
	CHECK(!inq.protect);
	CHECK(inq.cmdque);
	CHECK_STR(inq.vendor, "IET");
	CHECK_STR(inq.product, "VIRTUAL-DISK");
	CHECK_STR(inq.revision, "0001");
	/* An allocation length of 36 gets only the mandatory part. */
	CHECK_EQ(scsi_parse_inquiry(buf, 36, &inq), 0);
	CHECK_STR(inq.revision, "0001");
	CHECK_EQ(scsi_parse_inquiry(buf, 35, &inq), -EBADMSG);
	CHECK_EQ(scsi_parse_inquiry(buf, 0, &inq), -EBADMSG);
	/* ADDITIONAL LENGTH saying fewer than 36 bytes exist. */
	buf[4] = 30;
	CHECK_EQ(scsi_parse_inquiry(buf, len, &inq), -EBADMSG);

	len = unhex(TGTD_INQ_LUN0, buf, sizeof(buf));
	CHECK_EQ(scsi_parse_inquiry(buf, len, &inq), 0);
	CHECK_EQ(inq.device_type, 0x0c);
	CHECK_STR(inq.product, "Controller");

	/* SPC-4 6.6.2: PQ 1, RMB, PROTECT; NUL padding, an inner control
	 * byte, and leading spaces kept (only trailing ones are padding). */
	len = unhex("20800602 1f010000 41420000 00000000"
		    "20204469736b0120 2020202020202020 20202020", buf, sizeof(buf));
	CHECK_EQ(len, 36);
	CHECK_EQ(scsi_parse_inquiry(buf, len, &inq), 0);
	CHECK_EQ(inq.peripheral_qualifier, 1);
	CHECK(inq.removable);
	CHECK(inq.protect);
	CHECK(!inq.cmdque);
	CHECK_STR(inq.vendor, "AB");
	CHECK_STR(inq.product, "  Disk?");
	CHECK_STR(inq.revision, "");
}

/* ---- VPD pages. */

static void test_vpd_pages(void)
{
	uint8_t buf[64], pages[16];
	size_t n, len = unhex("00000006008083b0b1b2", buf, sizeof(buf)); /* tgtd */

	CHECK_EQ(scsi_parse_vpd_pages(buf, len, pages, sizeof(pages), &n), 6);
	CHECK_EQ(n, 6);
	check_bytes("vpd 00", pages, (const uint8_t *)"\x00\x80\x83\xb0\xb1\xb2", 6);
	CHECK_EQ(scsi_parse_vpd_pages(buf, len, pages, 3, &n), 6);
	CHECK_EQ(n, 3);
	/* Cut by len: only what arrived is counted. */
	CHECK_EQ(scsi_parse_vpd_pages(buf, 7, pages, sizeof(pages), &n), 3);
	CHECK_EQ(n, 3);
	CHECK_EQ(scsi_vpd_page_length(buf, 7, 0x00), 10);
	CHECK_EQ(scsi_parse_vpd_pages(buf, 3, pages, sizeof(pages), &n), -EBADMSG);
	CHECK_EQ(n, 0);
	buf[1] = 0x80;
	CHECK_EQ(scsi_parse_vpd_pages(buf, len, pages, sizeof(pages), &n), -EBADMSG);
	CHECK_EQ(scsi_vpd_page_length(buf, len, 0x00), -EBADMSG);
}

static void test_vpd_serial(void)
{
	uint8_t buf[64];
	char serial[40];
	/* tgtd, LUN 1: right-aligned in 36 bytes */
	size_t len = unhex("008000242020202020202020202020202020202020202020202020202020"
			   "20202020626561663131", buf, sizeof(buf));

	CHECK_EQ(scsi_parse_vpd_serial(buf, len, serial, sizeof(serial)), 0);
	CHECK_STR(serial, "beaf11");
	CHECK_EQ(scsi_parse_vpd_serial(buf, len, serial, 7), 0);
	CHECK_STR(serial, "beaf11");
	CHECK_EQ(scsi_parse_vpd_serial(buf, len, serial, 6), -ENOSPC);
	CHECK_EQ(scsi_parse_vpd_serial(buf, len, serial, 0), -ENOSPC);
	CHECK_EQ(scsi_parse_vpd_serial(buf, len - 2, serial, sizeof(serial)), 0);
	CHECK_STR(serial, "beaf");
	CHECK_EQ(scsi_parse_vpd_serial(buf, len, NULL, 0), -ENOSPC);
	/* left-aligned, NUL padded */
	len = unhex("00800008 41 42 43 31 00 00 00 00", buf, sizeof(buf));
	CHECK_EQ(scsi_parse_vpd_serial(buf, len, serial, sizeof(serial)), 0);
	CHECK_STR(serial, "ABC1");
	CHECK_EQ(scsi_parse_vpd_serial(buf, len, serial, 5), 0);
	buf[1] = 0x83;
	CHECK_EQ(scsi_parse_vpd_serial(buf, len, serial, sizeof(serial)), -EBADMSG);
}

/* tgtd, LUN 1: a T10 vendor ID (ASCII), NAA 3 and NAA 6 (binary). */
#define TGTD_DEVID_LUN1 "00830048" \
	"02010024 4945542020202020 3030303130303031 0000000000000000" \
	"000000000000000000000000" \
	"01030008 3000000100000001" \
	"01030010 60000000000000000e00000000010001"

static void test_vpd_devid(void)
{
	uint8_t buf[128];
	struct scsi_designator d[4];
	char text[80];
	size_t n, len = unhex(TGTD_DEVID_LUN1, buf, sizeof(buf));

	CHECK_EQ(len, 76);
	CHECK_EQ(scsi_parse_vpd_devid(buf, len, d, ARRAY_SIZE(d), &n), 3);
	CHECK_EQ(n, 3);
	CHECK_EQ(d[0].code_set, 2);
	CHECK_EQ(d[0].type, 1);
	CHECK_EQ(d[0].association, 0);
	CHECK_EQ(d[0].len, 36);
	scsi_designator_format(&d[0], text, sizeof(text));
	CHECK_STR(text, "IET     00010001");
	CHECK_EQ(d[1].code_set, 1);
	CHECK_EQ(d[1].type, 3);
	CHECK_EQ(d[1].len, 8);
	scsi_designator_format(&d[1], text, sizeof(text));
	CHECK_STR(text, "3000000100000001");
	scsi_designator_format(&d[2], text, sizeof(text));
	CHECK_STR(text, "60000000000000000e00000000010001");
	/* Hex is cut at whole bytes. */
	scsi_designator_format(&d[1], text, 6);
	CHECK_STR(text, "3000");
	scsi_designator_format(&d[0], text, 4);
	CHECK_STR(text, "IET");

	/* Fewer slots than designators: the count is still the page's. */
	CHECK_EQ(scsi_parse_vpd_devid(buf, len, d, 1, &n), 3);
	CHECK_EQ(n, 1);
	/* libiscsi first asks with 64 bytes: tgtd's reply cut inside the
	 * third designator. The two whole ones are returned, and the page
	 * length says how much to ask for. */
	CHECK_EQ(scsi_parse_vpd_devid(buf, 64, d, ARRAY_SIZE(d), &n), 2);
	CHECK_EQ(n, 2);
	CHECK_EQ(scsi_vpd_page_length(buf, 64, 0x83), 76);
}

static void test_vpd_devid_odd(void)
{
	uint8_t buf[128];
	struct scsi_designator d[4];
	char text[80];
	size_t n, len = unhex(TGTD_DEVID_LUN1, buf, sizeof(buf));

	/* A designator length running past the page: malformed. */
	buf[59] = 0x11;
	CHECK_EQ(scsi_parse_vpd_devid(buf, len, d, ARRAY_SIZE(d), &n), -EBADMSG);
	buf[59] = 0x10;
	/* Two stray bytes after the last designator, inside the page. */
	buf[3] = 0x4a;
	buf[76] = buf[77] = 0;
	CHECK_EQ(scsi_parse_vpd_devid(buf, 78, d, ARRAY_SIZE(d), &n), -EBADMSG);
	buf[3] = 0x48;
	CHECK_EQ(scsi_parse_vpd_devid(buf, 3, d, ARRAY_SIZE(d), &n), -EBADMSG);
	buf[1] = 0x80;
	CHECK_EQ(scsi_parse_vpd_devid(buf, len, d, ARRAY_SIZE(d), &n), -EBADMSG);

	/* SPC-4 7.8.6.6: a SCSI name string (type 8, UTF-8, target port),
	 * NUL-padded to a multiple of 4. */
	len = unhex("00830014 53980010 69716e2e32303234 2d30312e743a7800", buf, sizeof(buf));
	CHECK_EQ(len, 24);
	CHECK_EQ(scsi_parse_vpd_devid(buf, len, d, ARRAY_SIZE(d), &n), 1);
	CHECK_EQ(d[0].code_set, 3);
	CHECK_EQ(d[0].association, 1);
	CHECK_EQ(d[0].type, 8);
	scsi_designator_format(&d[0], text, sizeof(text));
	CHECK_STR(text, "iqn.2024-01.t:x");
	/* An empty page. */
	len = unhex("00830000", buf, sizeof(buf));
	CHECK_EQ(scsi_parse_vpd_devid(buf, len, d, ARRAY_SIZE(d), &n), 0);
	CHECK_EQ(n, 0);
}

static void test_vpd_block_limits(void)
{
	uint8_t buf[80];
	struct scsi_block_limits bl;
	/* tgtd, LUN 2 (thin_provisioning=1): UNMAP counts unlimited. */
	size_t len = unhex("00b0003c00800000000000000000000000000000ffffffffffffffff00000000"
			   "0000000000000000000000000000000000000000000000000000000000000000",
			   buf, sizeof(buf));

	CHECK_EQ(len, 64);
	CHECK_EQ(scsi_parse_vpd_block_limits(buf, len, &bl), 0);
	CHECK_EQ(bl.max_xfer_blocks, 0);
	CHECK_EQ(bl.max_unmap_lba_count, 0xffffffffu);
	CHECK_EQ(bl.max_unmap_descriptors, 0xffffffffu);
	CHECK(!bl.unmap_alignment_valid);
	/* tgtd, LUN 1 (not thin): no UNMAP. */
	buf[20] = buf[21] = buf[22] = buf[23] = 0;
	CHECK_EQ(scsi_parse_vpd_block_limits(buf, len, &bl), 0);
	CHECK_EQ(bl.max_unmap_lba_count, 0);

	/* SBC-3 6.6.4 with every field we read set. */
	len = unhex("00b0003c 00 00 0008 00004000 00000400 00000000"
		    "00100000 00000040 00000008 80000001 0000000100000000"
		    "00000000 00000000 00000000 00000000 00000000", buf, sizeof(buf));
	CHECK_EQ(len, 64);
	CHECK_EQ(scsi_parse_vpd_block_limits(buf, len, &bl), 0);
	CHECK_EQ(bl.max_xfer_blocks, 0x4000);
	CHECK_EQ(bl.opt_xfer_blocks, 0x400);
	CHECK_EQ(bl.max_unmap_lba_count, 0x100000);
	CHECK_EQ(bl.max_unmap_descriptors, 64);
	CHECK_EQ(bl.unmap_granularity, 8);
	CHECK(bl.unmap_alignment_valid);
	CHECK_EQ(bl.unmap_alignment, 1);
	CHECK_EQ(bl.max_write_same_blocks, 0x100000000ull);
	/* Cut by len after MAXIMUM UNMAP LBA COUNT. */
	CHECK_EQ(scsi_parse_vpd_block_limits(buf, 26, &bl), 0);
	CHECK_EQ(bl.max_unmap_lba_count, 0x100000);
	CHECK_EQ(bl.max_unmap_descriptors, 0);
	/* An SBC-2 page (PAGE LENGTH 0x0c): the bytes after it are not
	 * part of the page even though len covers them. */
	buf[3] = 0x0c;
	CHECK_EQ(scsi_parse_vpd_block_limits(buf, len, &bl), 0);
	CHECK_EQ(bl.max_xfer_blocks, 0x4000);
	CHECK_EQ(bl.opt_xfer_blocks, 0x400);
	CHECK_EQ(bl.max_unmap_lba_count, 0);
	CHECK_EQ(bl.max_write_same_blocks, 0);
	CHECK_EQ(scsi_parse_vpd_block_limits(buf, 3, &bl), -EBADMSG);
	buf[1] = 0xb1;
	CHECK_EQ(scsi_parse_vpd_block_limits(buf, len, &bl), -EBADMSG);
}

/* ---- READ CAPACITY. */

static void test_read_capacity(void)
{
	uint8_t buf[64];
	struct scsi_capacity cap;
	size_t len = unhex("00003fff00001000", buf, sizeof(buf)); /* tgtd LUN 1 */

	CHECK_EQ(scsi_parse_read_capacity10(buf, len, &cap), 0);
	CHECK_EQ(cap.blocks, 0x4000);
	CHECK_EQ(cap.block_size, 4096);
	len = unhex("0000ffff00000200", buf, sizeof(buf)); /* tgtd LUN 2 */
	CHECK_EQ(scsi_parse_read_capacity10(buf, len, &cap), 0);
	CHECK_EQ(cap.blocks, 0x10000);
	CHECK_EQ(cap.block_size, 512);
	CHECK_EQ(scsi_parse_read_capacity10(buf, 7, &cap), -EBADMSG);
	len = unhex("ffffffff00000200", buf, sizeof(buf)); /* SBC-3: ask (16) */
	CHECK_EQ(scsi_parse_read_capacity10(buf, len, &cap), 0);
	CHECK_EQ(cap.blocks, 0x100000000ull);
	len = unhex("0000ffff00000000", buf, sizeof(buf));
	CHECK_EQ(scsi_parse_read_capacity10(buf, len, &cap), -EBADMSG);

	/* tgtd LUN 1, 4096-byte blocks. */
	len = unhex("0000000000003fff000010000000000000000000000000000000000000000000",
		    buf, sizeof(buf));
	CHECK_EQ(scsi_parse_read_capacity16(buf, len, &cap), 0);
	CHECK_EQ(cap.blocks, 0x4000);
	CHECK_EQ(cap.block_size, 4096);
	CHECK_EQ(cap.phys_exponent, 0);
	CHECK(!cap.thin);
	/* tgtd LUN 2, thin: LBPME and LBPRZ, 4 KiB physical blocks. */
	len = unhex("000000000000ffff000002000003c00000000000000000000000000000000000",
		    buf, sizeof(buf));
	CHECK_EQ(scsi_parse_read_capacity16(buf, len, &cap), 0);
	CHECK_EQ(cap.blocks, 0x10000);
	CHECK_EQ(cap.block_size, 512);
	CHECK_EQ(cap.phys_exponent, 3);
	CHECK(cap.thin);
	CHECK(cap.zeroes_after_unmap);
	CHECK_EQ(cap.lowest_aligned, 0);
	CHECK(!cap.protection);
	/* Only 12 bytes (early SBC-2): the flags stay clear. */
	CHECK_EQ(scsi_parse_read_capacity16(buf, 12, &cap), 0);
	CHECK_EQ(cap.blocks, 0x10000);
	CHECK(!cap.thin);
	CHECK_EQ(scsi_parse_read_capacity16(buf, 11, &cap), -EBADMSG);
	/* SBC-3 5.16.2: 3 TiB of 512-byte blocks, PROT_EN, LBPME without
	 * LBPRZ, lowest aligned LBA 0x3fff. */
	len = unhex("000000017fffffff 00000200 01 00 bf ff 0000000000000000 0000000000000000",
		    buf, sizeof(buf));
	CHECK_EQ(scsi_parse_read_capacity16(buf, len, &cap), 0);
	CHECK_EQ(cap.blocks, 0x180000000ull);
	CHECK(cap.protection);
	CHECK(cap.thin);
	CHECK(!cap.zeroes_after_unmap);
	CHECK_EQ(cap.lowest_aligned, 0x3fff);
	/* A failed parse keeps what an earlier one found. */
	memset(buf, 0xff, 8);
	CHECK_EQ(scsi_parse_read_capacity16(buf, len, &cap), -EBADMSG);
	CHECK_EQ(cap.blocks, 0x180000000ull);
	CHECK_EQ(scsi_parse_read_capacity10(buf, 4, &cap), -EBADMSG);
	CHECK_EQ(cap.block_size, 512);
}

/* ---- REPORT LUNS. */

static void test_report_luns(void)
{
	uint8_t buf[64];
	uint64_t luns[4];
	size_t n;
	/* tgtd's answer to a 16-byte allocation: 3 LUNs, room for one. */
	size_t len = unhex("00000018000000000000000000000000", buf, sizeof(buf));

	CHECK_EQ(scsi_parse_report_luns(buf, len, luns, ARRAY_SIZE(luns), &n), 3);
	CHECK_EQ(n, 1);
	CHECK_EQ(luns[0], 0);
	/* tgtd, the whole list: LUNs 0, 1 and 2 in peripheral addressing. */
	len = unhex("00000018000000000000000000000000"
		    "00010000000000000002000000000000", buf, sizeof(buf));
	CHECK_EQ(scsi_parse_report_luns(buf, len, luns, ARRAY_SIZE(luns), &n), 3);
	CHECK_EQ(n, 3);
	CHECK_EQ(luns[1], 0x0001000000000000ull);
	CHECK_EQ(luns[2], 0x0002000000000000ull);
	CHECK_EQ(scsi_parse_report_luns(buf, len, luns, 2, &n), 3);
	CHECK_EQ(n, 2);
	/* A partial entry at the end of len is not stored. */
	CHECK_EQ(scsi_parse_report_luns(buf, len - 1, luns, ARRAY_SIZE(luns), &n), 3);
	CHECK_EQ(n, 2);
	CHECK_EQ(scsi_parse_report_luns(buf, 8, luns, ARRAY_SIZE(luns), &n), 3);
	CHECK_EQ(n, 0);
	CHECK_EQ(scsi_parse_report_luns(buf, 7, luns, ARRAY_SIZE(luns), &n), -EBADMSG);
	buf[3] = 0x17;
	CHECK_EQ(scsi_parse_report_luns(buf, len, luns, ARRAY_SIZE(luns), &n), -EBADMSG);
	/* An empty list. */
	len = unhex("0000000000000000", buf, sizeof(buf));
	CHECK_EQ(scsi_parse_report_luns(buf, len, luns, ARRAY_SIZE(luns), &n), 0);
	CHECK_EQ(n, 0);
}

/* ---- MODE SENSE(6). */

static void test_mode_sense(void)
{
	uint8_t buf[128];
	bool wp = true, fua = false;
	/* tgtd LUN 2, all pages: DPOFUA set, WP clear, one block descriptor */
	size_t len = unhex("6900100800000000000002000000020e8080000a0000000000000000000008121400"
			   "ffff0000ffffffff80140000000000000a0a021000000000000002004a01001c04"
			   "0000000000000000000000000000000000000000000000000000001c0a0800"
			   "0000000000000000", buf, sizeof(buf));

	CHECK_EQ(len, 106);
	CHECK_EQ(scsi_parse_mode_sense6_wp(buf, len, &wp, &fua), 0);
	CHECK(!wp);
	CHECK(fua);
	/* LIO's fileio LUN without a write cache: no DPOFUA */
	buf[2] = 0x00;
	CHECK_EQ(scsi_parse_mode_sense6_wp(buf, len, &wp, &fua), 0);
	CHECK(!wp && !fua);
	/* the same LUN after readonly=1 */
	buf[2] = 0x90;
	CHECK_EQ(scsi_parse_mode_sense6_wp(buf, len, &wp, &fua), 0);
	CHECK(wp);
	CHECK_EQ(scsi_parse_mode_sense6_wp(buf, 4, &wp, &fua), 0);
	CHECK(wp);
	CHECK_EQ(scsi_parse_mode_sense6_wp(buf, 3, &wp, &fua), -EBADMSG);
	CHECK(!wp && !fua);
	buf[0] = 2; /* MODE DATA LENGTH too small for the header */
	CHECK_EQ(scsi_parse_mode_sense6_wp(buf, len, &wp, &fua), -EBADMSG);
}

/* ---- SAM-5 LUN addressing. */

static void test_lun_numbers(void)
{
	static const struct {
		uint64_t number, lun;
	} both[] = {
		{ 0, 0 },
		{ 1, 0x0001000000000000ull },   /* tgt's first disk; iBFT "01000000" */
		{ 255, 0x00ff000000000000ull },
		{ 256, 0x4100000000000000ull },  /* flat space */
		{ 0x1234, 0x5234000000000000ull },
		{ 16383, 0x7fff000000000000ull },
	};
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(both); i++) {
		CHECK_EQ(scsi_lun_from_number(both[i].number, &v), 0);
		CHECK_EQ(v, both[i].lun);
		CHECK_EQ(scsi_lun_to_number(both[i].lun, &v), 0);
		CHECK_EQ(v, both[i].number);
	}
	CHECK_EQ(scsi_lun_from_number(16384, &v), -EINVAL);
	/* Flat space may also carry small numbers. */
	CHECK_EQ(scsi_lun_to_number(0x4001000000000000ull, &v), 0);
	CHECK_EQ(v, 1);
	/* Not plain numbers: a bus, a second level, logical unit
	 * addressing, the REPORT LUNS well-known LUN, extended flat. */
	CHECK_EQ(scsi_lun_to_number(0x0101000000000000ull, &v), -EINVAL);
	CHECK_EQ(scsi_lun_to_number(0x0001000100000000ull, &v), -EINVAL);
	CHECK_EQ(scsi_lun_to_number(0x8001000000000000ull, &v), -EINVAL);
	CHECK_EQ(scsi_lun_to_number(0xc101000000000000ull, &v), -EINVAL);
	CHECK_EQ(scsi_lun_to_number(0xd200001234000000ull, &v), -EINVAL);
	int round_trips = 0;
	for (uint64_t i = 0; i <= 16383; i++) {
		uint64_t lun, back = ~0ull;
		if (scsi_lun_from_number(i, &lun) == 0 &&
		    scsi_lun_to_number(lun, &back) == 0 && back == i)
			round_trips++;
	}
	CHECK_EQ(round_trips, 16384);
}

int main(void)
{
	test_cdbs();
	test_unmap_params();
	test_sense();
	test_sense_names();
	test_inquiry();
	test_vpd_pages();
	test_vpd_serial();
	test_vpd_devid();
	test_vpd_devid_odd();
	test_vpd_block_limits();
	test_read_capacity();
	test_report_luns();
	test_mode_sense();
	test_lun_numbers();
	return test_report("test-scsi");
}
