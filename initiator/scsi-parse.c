/* SPDX-License-Identifier: MIT */
/*
 * Bounded parsers of what a SCSI target returns (SPC-4, SBC-3): standard
 * INQUIRY data, VPD pages 0x00/0x80/0x83/0xB0, READ CAPACITY(10/16),
 * REPORT LUNS, the MODE SENSE(6) header, and SAM-5 LUN addressing.
 * Each reads only within len and within the reply's own length field.
 */
#include <errno.h>
#include <string.h>

#include "scsi.h"
#include "util.h"

/* Standard INQUIRY data, SPC-4 6.6.2: at least 36 bytes. */
#define INQ_MIN_LEN 36
#define INQ_ADDL_LEN 4            /* bytes after byte 4 */
#define INQ_VENDOR 8
#define INQ_PRODUCT 16
#define INQ_REVISION 32

/* VPD page header, SPC-4 7.8.1: PAGE LENGTH counts bytes after byte 3. */
#define VPD_HEADER_LEN 4
/* Designation descriptor header, SPC-4 7.8.6.1. */
#define DESIGNATOR_HEADER_LEN 4

/* Copies an ASCII field, turning NUL padding into spaces and other
 * control bytes into '?', then trims the spaces the standards pad with
 * (trailing always, leading too when trim_leading). out holds n + 1. */
static void copy_ascii(char *out, const uint8_t *src, size_t n, bool trim_leading)
{
	size_t start = 0, end = n;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = src[i];
		out[i] = c == 0 ? ' ' : (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	while (end > 0 && out[end - 1] == ' ')
		end--;
	while (trim_leading && start < end && out[start] == ' ')
		start++;
	memmove(out, out + start, end - start);
	out[end - start] = '\0';
}

int scsi_parse_inquiry(const uint8_t *buf, size_t len, struct scsi_inquiry *out)
{
	memset(out, 0, sizeof(*out));
	if (len < INQ_MIN_LEN || INQ_ADDL_LEN + 1 + (size_t)buf[INQ_ADDL_LEN] < INQ_MIN_LEN)
		return -EBADMSG;
	out->peripheral_qualifier = buf[0] >> 5;
	out->device_type = buf[0] & 0x1f;
	out->removable = (buf[1] & 0x80) != 0;     /* RMB */
	out->version = buf[2];
	out->protect = (buf[5] & 0x01) != 0;       /* PROTECT */
	out->cmdque = (buf[7] & 0x02) != 0;        /* CmdQue */
	copy_ascii(out->vendor, buf + INQ_VENDOR, 8, false);
	copy_ascii(out->product, buf + INQ_PRODUCT, 16, false);
	copy_ascii(out->revision, buf + INQ_REVISION, 4, false);
	return 0;
}

/* Checks a VPD header and returns the page's payload: the bytes after
 * the header, cut at len. *complete tells whether len held the whole
 * page as its PAGE LENGTH describes it. */
static int vpd_payload(const uint8_t *buf, size_t len, uint8_t page,
		       const uint8_t **payload, size_t *payload_len, bool *complete)
{
	if (len < VPD_HEADER_LEN || buf[1] != page)
		return -EBADMSG;
	size_t page_len = get_be16(buf + 2);
	*payload = buf + VPD_HEADER_LEN;
	*payload_len = MIN(page_len, len - VPD_HEADER_LEN);
	*complete = *payload_len == page_len;
	return 0;
}

int scsi_vpd_page_length(const uint8_t *buf, size_t len, uint8_t page)
{
	if (len < VPD_HEADER_LEN || buf[1] != page)
		return -EBADMSG;
	return VPD_HEADER_LEN + get_be16(buf + 2);
}

int scsi_parse_vpd_pages(const uint8_t *buf, size_t len, uint8_t *pages,
			 size_t max, size_t *n)
{
	const uint8_t *p;
	size_t plen;
	bool complete;

	*n = 0;
	int r = vpd_payload(buf, len, 0x00, &p, &plen, &complete);
	if (r < 0)
		return r;
	*n = MIN(plen, max);
	if (*n > 0)
		memcpy(pages, p, *n);
	return (int)plen;
}

int scsi_parse_vpd_serial(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	const uint8_t *p;
	size_t plen;
	bool complete;

	if (outlen > 0)
		out[0] = '\0';
	int r = vpd_payload(buf, len, 0x80, &p, &plen, &complete);
	if (r < 0)
		return r;
	/* Trim before the size check: serials are often space-padded. */
	size_t start = 0, end = plen;
	while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == 0))
		end--;
	while (start < end && p[start] == ' ')
		start++;
	if (end - start >= outlen)
		return -ENOSPC;
	copy_ascii(out, p + start, end - start, true);
	return 0;
}

static void designator_decode(const uint8_t *d, struct scsi_designator *out)
{
	out->code_set = d[0] & 0x0f;
	out->association = (d[1] >> 4) & 0x03;
	out->type = d[1] & 0x0f;
	out->len = d[3];
	memcpy(out->id, d + DESIGNATOR_HEADER_LEN, d[3]);
}

/* Walks the designation descriptors. One that crosses the page's own
 * end is malformed; one cut only by a short len ends the walk, and the
 * caller can ask again with scsi_vpd_page_length() bytes.
 * Returns the number of complete designators seen. */
int scsi_parse_vpd_devid(const uint8_t *buf, size_t len,
			 struct scsi_designator *out, size_t max, size_t *n)
{
	const uint8_t *p;
	size_t plen, off = 0;
	bool complete;
	int count = 0;

	*n = 0;
	int r = vpd_payload(buf, len, 0x83, &p, &plen, &complete);
	if (r < 0)
		return r;
	while (off < plen) {
		size_t left = plen - off;
		if (left < DESIGNATOR_HEADER_LEN ||
		    left < DESIGNATOR_HEADER_LEN + (size_t)p[off + 3])
			return complete ? -EBADMSG : count;
		if (*n < max)
			designator_decode(p + off, &out[(*n)++]);
		count++;
		off += DESIGNATOR_HEADER_LEN + p[off + 3];
	}
	return count;
}

void scsi_designator_format(const struct scsi_designator *d, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	bool text = d->code_set == 2 || d->code_set == 3; /* ASCII, UTF-8 */
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < d->len; i++) {
		uint8_t c = d->id[i];
		if (text) {
			if (c == 0) /* SCSI name strings are NUL-padded */
				break;
			if (o + 1 >= outlen)
				break;
			out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		} else {
			if (o + 2 >= outlen)
				break;
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0x0f];
		}
	}
	out[o] = '\0';
}

/* SBC-3 6.6.4. Offsets of the fields we use; a field that is not
 * wholly inside the page (older, shorter pages) stays 0. */
enum {
	BL_MAX_XFER = 8,
	BL_OPT_XFER = 12,
	BL_MAX_UNMAP_LBA = 20,
	BL_MAX_UNMAP_DESC = 24,
	BL_UNMAP_GRAN = 28,
	BL_UNMAP_ALIGN = 32,      /* bit 31 is UGAVALID */
	BL_MAX_WRITE_SAME = 36,   /* 8 bytes */
};

static bool bl_has(size_t end, size_t off, size_t width)
{
	return off + width <= end;
}

int scsi_parse_vpd_block_limits(const uint8_t *buf, size_t len,
				struct scsi_block_limits *out)
{
	const uint8_t *p;
	size_t plen;
	bool complete;

	memset(out, 0, sizeof(*out));
	int r = vpd_payload(buf, len, 0xb0, &p, &plen, &complete);
	if (r < 0)
		return r;
	size_t end = VPD_HEADER_LEN + plen; /* offsets count from buf */
	if (bl_has(end, BL_MAX_XFER, 4))
		out->max_xfer_blocks = get_be32(buf + BL_MAX_XFER);
	if (bl_has(end, BL_OPT_XFER, 4))
		out->opt_xfer_blocks = get_be32(buf + BL_OPT_XFER);
	if (bl_has(end, BL_MAX_UNMAP_LBA, 4))
		out->max_unmap_lba_count = get_be32(buf + BL_MAX_UNMAP_LBA);
	if (bl_has(end, BL_MAX_UNMAP_DESC, 4))
		out->max_unmap_descriptors = get_be32(buf + BL_MAX_UNMAP_DESC);
	if (bl_has(end, BL_UNMAP_GRAN, 4))
		out->unmap_granularity = get_be32(buf + BL_UNMAP_GRAN);
	if (bl_has(end, BL_UNMAP_ALIGN, 4)) {
		uint32_t v = get_be32(buf + BL_UNMAP_ALIGN);
		out->unmap_alignment_valid = (v & 0x80000000u) != 0;
		out->unmap_alignment = v & 0x7fffffffu;
	}
	if (bl_has(end, BL_MAX_WRITE_SAME, 8))
		out->max_write_same_blocks = get_be64(buf + BL_MAX_WRITE_SAME);
	return 0;
}

/* Both capacity parsers leave out untouched on failure, so that a
 * caller falling back from (16) to (10) keeps what (10) found. */

/* SBC-3 5.15.2: RETURNED LOGICAL BLOCK ADDRESS, BLOCK LENGTH. */
int scsi_parse_read_capacity10(const uint8_t *buf, size_t len, struct scsi_capacity *out)
{
	if (len < 8)
		return -EBADMSG;
	uint32_t last_lba = get_be32(buf);
	uint32_t block_size = get_be32(buf + 4);
	if (block_size == 0)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->block_size = block_size;
	/* 0xffffffff: the capacity does not fit; READ CAPACITY(16) tells. */
	out->blocks = (uint64_t)last_lba + 1;
	return 0;
}

/* SBC-3 5.16.2. Bytes 12..15 (protection, exponents, LBPME/LBPRZ,
 * lowest aligned LBA) are read when present: early SBC-2 targets
 * return only the first 12 bytes. */
int scsi_parse_read_capacity16(const uint8_t *buf, size_t len, struct scsi_capacity *out)
{
	if (len < 12)
		return -EBADMSG;
	uint64_t last_lba = get_be64(buf);
	uint32_t block_size = get_be32(buf + 8);
	if (block_size == 0 || last_lba == UINT64_MAX)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->block_size = block_size;
	out->blocks = last_lba + 1;
	if (len < 16)
		return 0;
	out->protection = (buf[12] & 0x01) != 0;         /* PROT_EN */
	out->phys_exponent = buf[13] & 0x0f;
	out->thin = (buf[14] & 0x80) != 0;               /* LBPME */
	out->zeroes_after_unmap = (buf[14] & 0x40) != 0; /* LBPRZ */
	out->lowest_aligned = get_be16(buf + 14) & 0x3fff;
	return 0;
}

/* SPC-4 6.33.2: LUN LIST LENGTH, 4 reserved bytes, 8-byte LUNs.
 * Returns the number of LUNs the target has, which may be more than
 * len held (ask again with 8 + 8 * count bytes); *n says how many of
 * them were stored. */
int scsi_parse_report_luns(const uint8_t *buf, size_t len, uint64_t *luns,
			   size_t max, size_t *n)
{
	*n = 0;
	if (len < 8)
		return -EBADMSG;
	uint32_t list_len = get_be32(buf);
	if (list_len % 8 != 0)
		return -EBADMSG;
	size_t present = MIN((size_t)list_len, len - 8) / 8;
	for (size_t i = 0; i < present && *n < max; i++)
		luns[(*n)++] = get_be64(buf + 8 + 8 * i);
	return (int)(list_len / 8);
}

/* SPC-4 7.5.5: MODE DATA LENGTH, MEDIUM TYPE, DEVICE-SPECIFIC PARAMETER
 * (WP is bit 7 for direct-access devices, DPOFUA bit 4: the LUN takes
 * the FUA bit, SBC-3 6.5.1; LIO fails a FUA WRITE to a LUN without it). */
int scsi_parse_mode_sense6_wp(const uint8_t *buf, size_t len, bool *write_protected,
			      bool *dpofua)
{
	*write_protected = *dpofua = false;
	if (len < 4 || buf[0] < 3)
		return -EBADMSG;
	*write_protected = (buf[2] & 0x80) != 0;
	*dpofua = (buf[2] & 0x10) != 0;
	return 0;
}

/* SAM-5 4.7.7: the address method is the top two bits of byte 0.
 * 00b peripheral device addressing (bus 0: LUN in byte 1), 01b flat
 * space (14-bit LUN in bytes 0..1). Bytes 2..7 are 0 at a single level. */
#define LUN_METHOD_PERIPHERAL 0x0
#define LUN_METHOD_FLAT 0x1
#define LUN_FLAT_MAX 0x3fff

int scsi_lun_from_number(uint64_t number, uint64_t *lun)
{
	if (number > LUN_FLAT_MAX)
		return -EINVAL;
	uint64_t first = number < 256 ? number
				      : (uint64_t)LUN_METHOD_FLAT << 14 | number;
	*lun = first << 48;
	return 0;
}

int scsi_lun_to_number(uint64_t lun, uint64_t *number)
{
	uint16_t first = (uint16_t)(lun >> 48);

	if (lun & 0xffffffffffffull) /* a second level or an extended method */
		return -EINVAL;
	switch (first >> 14) {
	case LUN_METHOD_PERIPHERAL:
		if (first >> 8) /* a bus number: not a plain LUN */
			return -EINVAL;
		*number = first;
		return 0;
	case LUN_METHOD_FLAT:
		*number = first & LUN_FLAT_MAX;
		return 0;
	default:
		return -EINVAL;
	}
}
