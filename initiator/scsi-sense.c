/* SPDX-License-Identifier: MIT */
/*
 * SCSI sense data (SPC-4 4.5): fixed (0x70/0x71) and descriptor
 * (0x72/0x73) formats, plus the names of status codes, sense keys and
 * the common ASC/ASCQ pairs for one-line error messages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scsi.h"
#include "util.h"

/* Fixed format, SPC-4 4.5.3. */
#define FIXED_VALID 0x80          /* byte 0: INFORMATION is meaningful */
#define FIXED_KEY 2               /* bits 3..0 */
#define FIXED_INFO 3              /* 4 bytes */
#define FIXED_ADDL_LEN 7          /* bytes after byte 7 */
#define FIXED_ASC 12
#define FIXED_ASCQ 13

/* Descriptor format, SPC-4 4.5.2. */
#define DESC_KEY 1
#define DESC_ASC 2
#define DESC_ASCQ 3
#define DESC_ADDL_LEN 7
#define DESC_FIRST 8
/* Information descriptor, SPC-4 4.5.2.2: type 0, additional length
 * 0x0a, VALID in byte 2 bit 7, INFORMATION in bytes 4..11. */
#define INFO_DESC_TYPE 0x00
#define INFO_DESC_MIN_ADDL 0x0a
#define INFO_DESC_VALID 0x80

static int sense_fixed(const uint8_t *buf, size_t len, struct scsi_sense *out)
{
	if (len <= FIXED_KEY)
		return -EBADMSG;
	/* ADDITIONAL SENSE LENGTH bounds what follows byte 7; a target may
	 * also send less than it claims, so len bounds it too. */
	size_t end = len;
	if (len > FIXED_ADDL_LEN)
		end = MIN(len, (size_t)FIXED_ADDL_LEN + 1 + buf[FIXED_ADDL_LEN]);
	out->key = buf[FIXED_KEY] & 0x0f;
	if (end >= FIXED_INFO + 4 && (buf[0] & FIXED_VALID)) {
		out->info_valid = true;
		out->info = get_be32(buf + FIXED_INFO);
	}
	if (end > FIXED_ASCQ) {
		out->asc = buf[FIXED_ASC];
		out->ascq = buf[FIXED_ASCQ];
	}
	return 0;
}

/* d holds 2 + d[1] bytes: the walk has checked that. */
static void sense_info_descriptor(const uint8_t *d, struct scsi_sense *out)
{
	if (d[1] < INFO_DESC_MIN_ADDL)
		return;
	out->info_valid = (d[2] & INFO_DESC_VALID) != 0;
	out->info = get_be64(d + 4);
}

/* Walks the sense data descriptors; a descriptor that runs past the end
 * ends the walk, since key/ASC/ASCQ are already known and worth keeping. */
static void sense_descriptors(const uint8_t *buf, size_t end, struct scsi_sense *out)
{
	size_t off = DESC_FIRST;

	while (end - off >= 2) {
		size_t dlen = 2 + (size_t)buf[off + 1];
		if (dlen > end - off)
			return;
		if (buf[off] == INFO_DESC_TYPE)
			sense_info_descriptor(buf + off, out);
		off += dlen;
	}
}

static int sense_descriptor(const uint8_t *buf, size_t len, struct scsi_sense *out)
{
	if (len <= DESC_ASCQ)
		return -EBADMSG;
	out->key = buf[DESC_KEY] & 0x0f;
	out->asc = buf[DESC_ASC];
	out->ascq = buf[DESC_ASCQ];
	if (len > DESC_ADDL_LEN) {
		size_t end = MIN(len, (size_t)DESC_FIRST + buf[DESC_ADDL_LEN]);
		sense_descriptors(buf, end, out);
	}
	return 0;
}

int scsi_sense_decode(const uint8_t *buf, size_t len, struct scsi_sense *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1)
		return -EBADMSG;
	uint8_t code = buf[0] & 0x7f;
	out->response_code = code;
	switch (code) {
	case 0x70:
	case 0x71:
		out->deferred = code == 0x71;
		return sense_fixed(buf, len, out);
	case 0x72:
	case 0x73:
		out->deferred = code == 0x73;
		return sense_descriptor(buf, len, out);
	default:
		return -EBADMSG;
	}
}

const char *scsi_sense_key_name(uint8_t key)
{
	static const char *const names[16] = {
		"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR",
		"HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION",
		"DATA PROTECT", "BLANK CHECK", "VENDOR SPECIFIC",
		"COPY ABORTED", "ABORTED COMMAND", "RESERVED (0xC)",
		"VOLUME OVERFLOW", "MISCOMPARE", "COMPLETED",
	};
	return key < ARRAY_SIZE(names) ? names[key] : "UNKNOWN SENSE KEY";
}

const char *scsi_status_name(uint8_t status)
{
	switch (status) {
	case SCSI_STATUS_GOOD: return "GOOD";
	case SCSI_STATUS_CHECK_CONDITION: return "CHECK CONDITION";
	case SCSI_STATUS_CONDITION_MET: return "CONDITION MET";
	case SCSI_STATUS_BUSY: return "BUSY";
	case SCSI_STATUS_RESERVATION_CONFLICT: return "RESERVATION CONFLICT";
	case SCSI_STATUS_TASK_SET_FULL: return "TASK SET FULL";
	case SCSI_STATUS_ACA_ACTIVE: return "ACA ACTIVE";
	case SCSI_STATUS_TASK_ABORTED: return "TASK ABORTED";
	default: return "UNKNOWN STATUS";
	}
}

/* The ASC/ASCQ pairs an initiator of a disk meets in practice, worded
 * as in SPC-4 Annex D (lower case). */
static const struct {
	uint8_t asc, ascq;
	const char *text;
} asc_texts[] = {
	{ 0x00, 0x00, "no additional sense information" },
	{ 0x04, 0x00, "logical unit not ready, cause not reportable" },
	{ 0x04, 0x01, "logical unit is in process of becoming ready" },
	{ 0x04, 0x02, "logical unit not ready, initializing command required" },
	{ 0x04, 0x03, "logical unit not ready, manual intervention required" },
	{ 0x04, 0x04, "logical unit not ready, format in progress" },
	{ 0x04, 0x0a, "logical unit not accessible, asymmetric access state transition" },
	{ 0x04, 0x0b, "logical unit not accessible, target port in standby state" },
	{ 0x04, 0x0c, "logical unit not accessible, target port in unavailable state" },
	{ 0x08, 0x00, "logical unit communication failure" },
	{ 0x0c, 0x00, "write error" },
	{ 0x11, 0x00, "unrecovered read error" },
	{ 0x1a, 0x00, "parameter list length error" },
	{ 0x1d, 0x00, "miscompare during verify operation" },
	{ 0x20, 0x00, "invalid command operation code" },
	{ 0x21, 0x00, "logical block address out of range" },
	{ 0x24, 0x00, "invalid field in cdb" },
	{ 0x25, 0x00, "logical unit not supported" },
	{ 0x26, 0x00, "invalid field in parameter list" },
	{ 0x27, 0x00, "write protected" },
	{ 0x27, 0x07, "space allocation failed write protect" },
	{ 0x28, 0x00, "not ready to ready change, medium may have changed" },
	{ 0x29, 0x00, "power on, reset, or bus device reset occurred" },
	{ 0x29, 0x01, "power on occurred" },
	{ 0x29, 0x02, "scsi bus reset occurred" },
	{ 0x29, 0x03, "bus device reset function occurred" },
	{ 0x29, 0x04, "device internal reset" },
	{ 0x29, 0x07, "i_t nexus loss occurred" },
	{ 0x2a, 0x00, "parameters changed" },
	{ 0x2a, 0x01, "mode parameters changed" },
	{ 0x2a, 0x06, "asymmetric access state changed" },
	{ 0x2a, 0x09, "capacity data has changed" },
	{ 0x2f, 0x00, "commands cleared by another initiator" },
	{ 0x38, 0x07, "thin provisioning soft threshold reached" },
	{ 0x3a, 0x00, "medium not present" },
	{ 0x3e, 0x01, "logical unit failure" },
	{ 0x3e, 0x02, "timeout on logical unit" },
	{ 0x3f, 0x03, "inquiry data has changed" },
	{ 0x3f, 0x0e, "reported luns data has changed" },
	{ 0x44, 0x00, "internal target failure" },
	{ 0x47, 0x00, "scsi parity error" },
	{ 0x4b, 0x00, "data phase error" },
	{ 0x55, 0x03, "insufficient resources" },
};

static const char *asc_text(uint8_t asc, uint8_t ascq)
{
	for (size_t i = 0; i < ARRAY_SIZE(asc_texts); i++)
		if (asc_texts[i].asc == asc && asc_texts[i].ascq == ascq)
			return asc_texts[i].text;
	return NULL;
}

/* Appends to out at *used, keeping it NUL-terminated and never
 * advancing past the end when the text is cut short. */
static void append(char *out, size_t outlen, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *out, size_t outlen, size_t *used, const char *fmt, ...)
{
	if (*used >= outlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(out + *used, outlen - *used, fmt, ap);
	va_end(ap);
	if (r > 0)
		*used = MIN(outlen, *used + (size_t)r);
}

void scsi_sense_describe(const struct scsi_sense *s, char *out, size_t outlen)
{
	size_t used = 0;
	const char *text = asc_text(s->asc, s->ascq);

	if (outlen == 0)
		return;
	out[0] = '\0';
	append(out, outlen, &used, "%s, asc/ascq %02x/%02x",
	       scsi_sense_key_name(s->key), s->asc, s->ascq);
	if (text)
		append(out, outlen, &used, " (%s)", text);
	if (s->info_valid)
		append(out, outlen, &used, ", information 0x%" PRIx64, s->info);
	if (s->deferred)
		append(out, outlen, &used, ", deferred error");
}
