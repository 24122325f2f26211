/* SPDX-License-Identifier: MIT */
/*
 * SCSI commands and replies (SPC-4, SBC-3), free of any transport: CDB
 * builders, parameter-list builders and bounded parsers of what a target
 * returns. Every parser takes (buf, len), checks len before each field and
 * returns -EBADMSG when the reply is too short or malformed.
 */
#ifndef ISCSIROOT_SCSI_H
#define ISCSIROOT_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCSI_CDB_MAX 16
#define SCSI_SENSE_MAX 252

/* SAM-5 status codes. */
enum scsi_status {
	SCSI_STATUS_GOOD = 0x00,
	SCSI_STATUS_CHECK_CONDITION = 0x02,
	SCSI_STATUS_CONDITION_MET = 0x04,
	SCSI_STATUS_BUSY = 0x08,
	SCSI_STATUS_RESERVATION_CONFLICT = 0x18,
	SCSI_STATUS_TASK_SET_FULL = 0x28,
	SCSI_STATUS_ACA_ACTIVE = 0x30,
	SCSI_STATUS_TASK_ABORTED = 0x40,
};

enum scsi_sense_key {
	SCSI_SENSE_NO_SENSE = 0x0,
	SCSI_SENSE_RECOVERED_ERROR = 0x1,
	SCSI_SENSE_NOT_READY = 0x2,
	SCSI_SENSE_MEDIUM_ERROR = 0x3,
	SCSI_SENSE_HARDWARE_ERROR = 0x4,
	SCSI_SENSE_ILLEGAL_REQUEST = 0x5,
	SCSI_SENSE_UNIT_ATTENTION = 0x6,
	SCSI_SENSE_DATA_PROTECT = 0x7,
	SCSI_SENSE_BLANK_CHECK = 0x8,
	SCSI_SENSE_VENDOR_SPECIFIC = 0x9,
	SCSI_SENSE_COPY_ABORTED = 0xa,
	SCSI_SENSE_ABORTED_COMMAND = 0xb,
	SCSI_SENSE_VOLUME_OVERFLOW = 0xd,
	SCSI_SENSE_MISCOMPARE = 0xe,
};

/* Decoded sense data, fixed (0x70/0x71) or descriptor (0x72/0x73) format. */
struct scsi_sense {
	uint8_t response_code; /* 0x70..0x73 */
	bool deferred;         /* 0x71 / 0x73 */
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
	bool info_valid;
	uint64_t info;         /* INFORMATION field / descriptor type 0 */
};

/* Decodes sense data as carried after the 2-byte SenseLength in iSCSI. */
int scsi_sense_decode(const uint8_t *buf, size_t len, struct scsi_sense *out);
/* "UNIT ATTENTION", …; never NULL. */
const char *scsi_sense_key_name(uint8_t key);
/* Writes e.g. "NOT READY, asc/ascq 04/01 (logical unit is in process of
 * becoming ready)" into out; the text part appears for common codes. */
void scsi_sense_describe(const struct scsi_sense *s, char *out, size_t outlen);
/* "CHECK CONDITION", "BUSY", …; never NULL. */
const char *scsi_status_name(uint8_t status);

/* ---- CDB builders. Each fills cdb (SCSI_CDB_MAX bytes, zeroed first)
 * and returns the CDB's length. */
size_t scsi_cdb_test_unit_ready(uint8_t *cdb);
size_t scsi_cdb_inquiry(uint8_t *cdb, bool evpd, uint8_t page, uint16_t alloc_len);
size_t scsi_cdb_report_luns(uint8_t *cdb, uint32_t alloc_len);
size_t scsi_cdb_read_capacity10(uint8_t *cdb);
size_t scsi_cdb_read_capacity16(uint8_t *cdb, uint32_t alloc_len);
/* READ/WRITE(10) when use16 is false (lba < 2^32, blocks <= 65535),
 * else READ/WRITE(16). fua sets the FUA bit. */
size_t scsi_cdb_read(uint8_t *cdb, uint64_t lba, uint32_t blocks, bool use16);
size_t scsi_cdb_write(uint8_t *cdb, uint64_t lba, uint32_t blocks, bool fua, bool use16);
/* SYNCHRONIZE CACHE(10)/(16); blocks 0 means "to the end". */
size_t scsi_cdb_sync_cache(uint8_t *cdb, uint64_t lba, uint32_t blocks, bool use16);
size_t scsi_cdb_unmap(uint8_t *cdb, uint16_t param_len);
size_t scsi_cdb_mode_sense6(uint8_t *cdb, uint8_t page, uint8_t alloc_len);

struct scsi_unmap_range {
	uint64_t lba;
	uint32_t blocks;
};
/* Builds the UNMAP parameter list; returns its length or -ENOSPC. */
int scsi_unmap_params(uint8_t *buf, size_t buflen,
		      const struct scsi_unmap_range *ranges, size_t n);

/* ---- Parsers. */
struct scsi_inquiry {
	uint8_t peripheral_qualifier;
	uint8_t device_type;    /* 0 = direct-access block device */
	bool removable;
	uint8_t version;
	bool protect;
	bool cmdque;
	char vendor[9];         /* trailing spaces removed, NUL-terminated */
	char product[17];
	char revision[5];
};
int scsi_parse_inquiry(const uint8_t *buf, size_t len, struct scsi_inquiry *out);

/* Any VPD page: the length of the whole page (4 + PAGE LENGTH), from its
 * first 4 bytes, so that a caller can ask again when its allocation
 * length was too small; -EBADMSG if the page code differs. */
int scsi_vpd_page_length(const uint8_t *buf, size_t len, uint8_t page);

/* The list parsers (VPD 0x00, 0x83, REPORT LUNS) store up to max entries,
 * set *n to the number stored and return the number the reply holds
 * (>= 0), which may be more: for REPORT LUNS it is the LUN LIST LENGTH's
 * count even past len. */

/* VPD 0x00: the list of supported page codes. */
int scsi_parse_vpd_pages(const uint8_t *buf, size_t len, uint8_t *pages,
			 size_t max, size_t *n);
/* VPD 0x80: unit serial number, spaces trimmed, NUL-terminated;
 * -ENOSPC when outlen cannot hold it. */
int scsi_parse_vpd_serial(const uint8_t *buf, size_t len, char *out, size_t outlen);

struct scsi_designator {
	uint8_t code_set;       /* 1 binary, 2 ASCII, 3 UTF-8 */
	uint8_t type;           /* 1 T10 vendor, 2 EUI-64, 3 NAA, 8 SCSI name… */
	uint8_t association;    /* 0 LU, 1 target port, 2 target device */
	uint8_t len;
	uint8_t id[255];
};
/* VPD 0x83: device identification designators. */
int scsi_parse_vpd_devid(const uint8_t *buf, size_t len,
			 struct scsi_designator *out, size_t max, size_t *n);
/* Formats a designator as text: ASCII as is, binary as hex. */
void scsi_designator_format(const struct scsi_designator *d, char *out, size_t outlen);

struct scsi_block_limits {
	uint32_t max_xfer_blocks;         /* 0 = no limit reported */
	uint32_t opt_xfer_blocks;
	uint32_t max_unmap_lba_count;     /* 0 = UNMAP not supported */
	uint32_t max_unmap_descriptors;
	uint32_t unmap_granularity;
	uint32_t unmap_alignment;
	bool unmap_alignment_valid;
	uint64_t max_write_same_blocks;
};
/* VPD 0xB0. Short (older SBC) pages are accepted: absent fields stay 0. */
int scsi_parse_vpd_block_limits(const uint8_t *buf, size_t len,
				struct scsi_block_limits *out);

struct scsi_capacity {
	uint64_t blocks;        /* number of logical blocks (last LBA + 1) */
	uint32_t block_size;
	uint8_t phys_exponent;  /* physical block = block_size << exponent */
	uint16_t lowest_aligned;
	bool thin;              /* LBPME: logical block provisioning enabled */
	bool zeroes_after_unmap;/* LBPRZ */
	bool protection;        /* PROT_EN */
};
/* READ CAPACITY(10): 0xffffffff as last LBA means "use (16)"; then
 * blocks is set to 0x100000000 and the caller must ask again.
 * Both leave out untouched when they fail. */
int scsi_parse_read_capacity10(const uint8_t *buf, size_t len, struct scsi_capacity *out);
int scsi_parse_read_capacity16(const uint8_t *buf, size_t len, struct scsi_capacity *out);

/* REPORT LUNS: the LUN list length and up to max entries (8-byte LUN
 * fields as big-endian integers, as they go on the wire). */
int scsi_parse_report_luns(const uint8_t *buf, size_t len, uint64_t *luns,
			   size_t max, size_t *n);
/* MODE SENSE(6) header: the WP bit of the device-specific parameter. */
int scsi_parse_mode_sense6_wp(const uint8_t *buf, size_t len, bool *write_protected,
			      bool *dpofua);

/* ---- LUN numbers. The 8-byte SAM LUN field as a big-endian integer. */
/* Plain numbers: peripheral addressing below 256, flat space below 16384. */
int scsi_lun_from_number(uint64_t number, uint64_t *lun);
/* The reverse for those two methods; -EINVAL for other methods. */
int scsi_lun_to_number(uint64_t lun, uint64_t *number);

#endif
