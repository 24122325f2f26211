/* SPDX-License-Identifier: MIT */
/*
 * SCSI CDB and parameter-list builders (SPC-4, SBC-3). Transport-free:
 * each function only lays out bytes; the session decides what to send.
 */
#include <errno.h>
#include <string.h>

#include "scsi.h"
#include "util.h"

/* Operation codes (SPC-4 / SBC-3). */
enum {
	OP_TEST_UNIT_READY = 0x00,
	OP_INQUIRY = 0x12,
	OP_MODE_SENSE6 = 0x1a,
	OP_READ_CAPACITY10 = 0x25,
	OP_READ10 = 0x28,
	OP_WRITE10 = 0x2a,
	OP_SYNC_CACHE10 = 0x35,
	OP_UNMAP = 0x42,
	OP_READ16 = 0x88,
	OP_WRITE16 = 0x8a,
	OP_SYNC_CACHE16 = 0x91,
	OP_SERVICE_ACTION_IN16 = 0x9e,
	OP_REPORT_LUNS = 0xa0,
};

#define SA_READ_CAPACITY16 0x10 /* SERVICE ACTION IN(16), SBC-3 5.16 */
#define CDB_FUA 0x08            /* byte 1 bit 3 of READ/WRITE(10/16) */

/* Each UNMAP block descriptor is 16 bytes after an 8-byte header
 * (SBC-3 5.28.2); both length fields are 16 bits wide. */
#define UNMAP_HEADER_LEN 8
#define UNMAP_DESC_LEN 16
#define UNMAP_MAX_DESCS ((UINT16_MAX - (UNMAP_HEADER_LEN - 2)) / UNMAP_DESC_LEN)

static uint8_t *cdb_start(uint8_t *cdb, uint8_t opcode)
{
	memset(cdb, 0, SCSI_CDB_MAX);
	cdb[0] = opcode;
	return cdb;
}

/* The 10-byte forms carry a 32-bit LBA and a 16-bit block count; a
 * request that does not fit goes out as the 16-byte form rather than
 * being truncated into a different request. */
static bool fits_cdb10(uint64_t lba, uint32_t blocks)
{
	return lba <= UINT32_MAX && blocks <= UINT16_MAX;
}

size_t scsi_cdb_test_unit_ready(uint8_t *cdb)
{
	cdb_start(cdb, OP_TEST_UNIT_READY);
	return 6;
}

size_t scsi_cdb_inquiry(uint8_t *cdb, bool evpd, uint8_t page, uint16_t alloc_len)
{
	cdb_start(cdb, OP_INQUIRY);
	if (evpd) {
		cdb[1] = 0x01;
		cdb[2] = page;
	}
	put_be16(cdb + 3, alloc_len);
	return 6;
}

size_t scsi_cdb_report_luns(uint8_t *cdb, uint32_t alloc_len)
{
	cdb_start(cdb, OP_REPORT_LUNS);
	/* SELECT REPORT 0: every logical unit except well-known ones. */
	put_be32(cdb + 6, alloc_len);
	return 12;
}

size_t scsi_cdb_read_capacity10(uint8_t *cdb)
{
	cdb_start(cdb, OP_READ_CAPACITY10);
	return 10;
}

size_t scsi_cdb_read_capacity16(uint8_t *cdb, uint32_t alloc_len)
{
	cdb_start(cdb, OP_SERVICE_ACTION_IN16);
	cdb[1] = SA_READ_CAPACITY16;
	put_be32(cdb + 10, alloc_len);
	return 16;
}

/* READ/WRITE(10): LBA at 2..5, TRANSFER LENGTH at 7..8.
 * READ/WRITE(16): LBA at 2..9, TRANSFER LENGTH at 10..13. */
static size_t cdb_rw(uint8_t *cdb, uint8_t op10, uint8_t op16, uint64_t lba,
		     uint32_t blocks, bool fua, bool use16)
{
	if (!use16 && fits_cdb10(lba, blocks)) {
		cdb_start(cdb, op10);
		put_be32(cdb + 2, (uint32_t)lba);
		put_be16(cdb + 7, (uint16_t)blocks);
	} else {
		cdb_start(cdb, op16);
		put_be64(cdb + 2, lba);
		put_be32(cdb + 10, blocks);
	}
	if (fua)
		cdb[1] |= CDB_FUA;
	return cdb[0] == op10 ? 10 : 16;
}

size_t scsi_cdb_read(uint8_t *cdb, uint64_t lba, uint32_t blocks, bool use16)
{
	return cdb_rw(cdb, OP_READ10, OP_READ16, lba, blocks, false, use16);
}

size_t scsi_cdb_write(uint8_t *cdb, uint64_t lba, uint32_t blocks, bool fua, bool use16)
{
	return cdb_rw(cdb, OP_WRITE10, OP_WRITE16, lba, blocks, fua, use16);
}

/* Same field positions as READ/WRITE; IMMED stays 0 so GOOD status
 * means the cache really is on the medium. */
size_t scsi_cdb_sync_cache(uint8_t *cdb, uint64_t lba, uint32_t blocks, bool use16)
{
	return cdb_rw(cdb, OP_SYNC_CACHE10, OP_SYNC_CACHE16, lba, blocks, false, use16);
}

size_t scsi_cdb_unmap(uint8_t *cdb, uint16_t param_len)
{
	cdb_start(cdb, OP_UNMAP);
	put_be16(cdb + 7, param_len);
	return 10;
}

size_t scsi_cdb_mode_sense6(uint8_t *cdb, uint8_t page, uint8_t alloc_len)
{
	cdb_start(cdb, OP_MODE_SENSE6);
	/* DBD 0 and PC 0 (current values), as Linux sd does for WP. */
	cdb[2] = page & 0x3f;
	cdb[4] = alloc_len;
	return 6;
}

/* SBC-3 5.28.2: UNMAP DATA LENGTH counts the bytes after itself,
 * BLOCK DESCRIPTOR DATA LENGTH the descriptors. -ENOSPC also when n is
 * more than those 16-bit fields can describe. */
int scsi_unmap_params(uint8_t *buf, size_t buflen,
		      const struct scsi_unmap_range *ranges, size_t n)
{
	if (n > UNMAP_MAX_DESCS)
		return -ENOSPC;
	size_t total = UNMAP_HEADER_LEN + n * UNMAP_DESC_LEN;
	if (buflen < total)
		return -ENOSPC;
	memset(buf, 0, total);
	put_be16(buf, (uint16_t)(total - 2));
	put_be16(buf + 2, (uint16_t)(n * UNMAP_DESC_LEN));
	for (size_t i = 0; i < n; i++) {
		uint8_t *d = buf + UNMAP_HEADER_LEN + i * UNMAP_DESC_LEN;
		put_be64(d, ranges[i].lba);
		put_be32(d + 8, ranges[i].blocks);
	}
	return (int)total;
}
