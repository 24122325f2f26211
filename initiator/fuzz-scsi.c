/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for every SCSI reply parser: the input goes to each
 * of them in turn (the VPD parsers see it as is and with their own page
 * code forced in, so one input exercises them all). The results are
 * checked for the promises scsi.h makes: counts within max, strings
 * NUL-terminated inside their arrays, LUN numbers round-tripping.
 */
#include <stdlib.h>
#include <string.h>

#include "scsi.h"
#include "util.h"

#define REQUIRE(cond)                     \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static void fuzz_sense(const uint8_t *data, size_t len)
{
	struct scsi_sense s;
	char text[160];

	if (scsi_sense_decode(data, len, &s) < 0)
		return;
	REQUIRE(s.response_code >= 0x70 && s.response_code <= 0x73);
	REQUIRE(s.key <= 0x0f);
	scsi_sense_describe(&s, text, sizeof(text));
	REQUIRE(memchr(text, '\0', sizeof(text)) != NULL);
	/* the small-buffer path too */
	scsi_sense_describe(&s, text, 1 + len % 40);
	REQUIRE(strlen(text) <= len % 40);
}

static void fuzz_inquiry(const uint8_t *data, size_t len)
{
	struct scsi_inquiry inq;

	if (scsi_parse_inquiry(data, len, &inq) < 0)
		return;
	REQUIRE(strlen(inq.vendor) < sizeof(inq.vendor));
	REQUIRE(strlen(inq.product) < sizeof(inq.product));
	REQUIRE(strlen(inq.revision) < sizeof(inq.revision));
}

static void fuzz_vpd_lists(const uint8_t *data, size_t len)
{
	uint8_t pages[8];
	struct scsi_designator d[3];
	char text[2 * 255 + 1];
	size_t n;

	int r = scsi_parse_vpd_pages(data, len, pages, sizeof(pages), &n);
	REQUIRE(r < 0 ? n == 0 : n <= sizeof(pages) && n <= (size_t)r);
	r = scsi_parse_vpd_devid(data, len, d, ARRAY_SIZE(d), &n);
	REQUIRE(r < 0 || (n <= ARRAY_SIZE(d) && n <= (size_t)r));
	for (size_t i = 0; r >= 0 && i < n; i++) {
		scsi_designator_format(&d[i], text, sizeof(text));
		REQUIRE(strlen(text) <= 2u * d[i].len);
		scsi_designator_format(&d[i], text, 3);
		REQUIRE(strlen(text) < 3);
	}
}

static void fuzz_vpd_other(const uint8_t *data, size_t len)
{
	struct scsi_block_limits bl;
	char serial[64];

	if (scsi_parse_vpd_serial(data, len, serial, sizeof(serial)) == 0)
		REQUIRE(strlen(serial) < sizeof(serial));
	(void)scsi_parse_vpd_block_limits(data, len, &bl);
	for (unsigned page = 0; page < 0x100; page += 0x10)
		(void)scsi_vpd_page_length(data, len, (uint8_t)page);
}

/* Runs the VPD parsers again with each one's page code in byte 1. */
static void fuzz_vpd_forced(const uint8_t *data, size_t len)
{
	static const uint8_t codes[] = { 0x00, 0x80, 0x83, 0xb0 };
	uint8_t *copy;

	if (len < 2)
		return;
	copy = malloc(len);
	if (!copy)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		memcpy(copy, data, len);
		copy[1] = codes[i];
		fuzz_vpd_lists(copy, len);
		fuzz_vpd_other(copy, len);
	}
	free(copy);
}

static void fuzz_capacity_luns(const uint8_t *data, size_t len)
{
	struct scsi_capacity cap;
	uint64_t luns[4], number, back;
	size_t n;
	bool wp, fua;

	if (scsi_parse_read_capacity10(data, len, &cap) == 0)
		REQUIRE(cap.blocks > 0 && cap.block_size > 0);
	if (scsi_parse_read_capacity16(data, len, &cap) == 0)
		REQUIRE(cap.blocks > 0 && cap.block_size > 0);
	int r = scsi_parse_report_luns(data, len, luns, ARRAY_SIZE(luns), &n);
	REQUIRE(r < 0 || (n <= ARRAY_SIZE(luns) && n <= (size_t)r));
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (scsi_lun_to_number(luns[i], &number) < 0)
			continue;
		REQUIRE(scsi_lun_from_number(number, &back) == 0);
		REQUIRE(scsi_lun_to_number(back, &number) == 0);
	}
	(void)scsi_parse_mode_sense6_wp(data, len, &wp, &fua);
}

/* The builders with fields taken from the input: lengths must be the
 * CDB sizes, and the UNMAP list must fit what it claims. */
static void fuzz_builders(const uint8_t *data, size_t len)
{
	uint8_t cdb[SCSI_CDB_MAX], params[8 + 16 * 4];
	struct scsi_unmap_range r[4];

	if (len < 13)
		return;
	uint64_t lba = get_be64(data);
	uint32_t blocks = get_be32(data + 8);
	bool flag = data[12] & 1;
	size_t l = scsi_cdb_read(cdb, lba, blocks, flag);
	REQUIRE(l == 10 || l == 16);
	l = scsi_cdb_write(cdb, lba, blocks, data[12] & 2, flag);
	REQUIRE(l == 10 || l == 16);
	REQUIRE(l == 16 ? get_be64(cdb + 2) == lba : get_be32(cdb + 2) == lba);
	l = scsi_cdb_sync_cache(cdb, lba, blocks, flag);
	REQUIRE(l == 10 || l == 16);
	size_t nr = data[12] >> 6;
	for (size_t i = 0; i < nr; i++)
		r[i] = (struct scsi_unmap_range){ lba + i, blocks };
	int pl = scsi_unmap_params(params, sizeof(params), r, nr);
	REQUIRE(pl == (int)(8 + 16 * nr));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	fuzz_sense(data, len);
	fuzz_inquiry(data, len);
	fuzz_vpd_lists(data, len);
	fuzz_vpd_other(data, len);
	fuzz_vpd_forced(data, len);
	fuzz_capacity_luns(data, len);
	fuzz_builders(data, len);
	return 0;
}
