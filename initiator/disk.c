/* SPDX-License-Identifier: MIT */
/* A LUN seen as a block device: probing it, and building its I/O. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "disk.h"

#define PROBE_BUF 4096
/* The most one command moves, whatever the LUN allows: a bound on what a
 * request holds in memory and on the wire (the block layers ask for less). */
#define DISK_XFER_MAX (16u << 20)

static int run(struct ev_loop *loop, struct iscsi_session *s, struct iscsi_task *t,
	       const char *what, char *err, size_t errlen)
{
	char msg[240];
	int r = iscsi_sync_command(loop, s, t, msg, sizeof(msg));

	if (r < 0)
		snprintf(err, errlen, "%s failed: %s", what, msg);
	return r;
}

static void prep(struct iscsi_task *t, uint64_t lun, enum iscsi_dir dir,
		 uint8_t *buf, uint32_t len)
{
	memset(t, 0, sizeof(*t));
	t->lun = lun;
	t->dir = dir;
	t->buf = buf;
	t->len = len;
}

/* Probe commands give an allocation length, not a transfer length: less
 * data than that is a full answer. */
static void prep_probe(struct iscsi_task *t, uint64_t lun, enum iscsi_dir dir,
		       uint8_t *buf, uint32_t len)
{
	prep(t, lun, dir, buf, len);
	t->short_ok = true;
}

uint32_t disk_received(const struct iscsi_task *t)
{
	return t->underflow ? t->len - MIN(t->residual, t->len) : t->len;
}

static int inquiry_page(struct ev_loop *loop, struct iscsi_session *s,
			struct iscsi_disk *d, uint8_t page, uint8_t *buf,
			uint32_t *got)
{
	struct iscsi_task t;
	char err[64];
	int r;

	prep_probe(&t, d->lun, ISCSI_DIR_READ, buf, 255);
	t.cdb_len = (uint8_t)scsi_cdb_inquiry(t.cdb, true, page, 255);
	r = run(loop, s, &t, "INQUIRY", err, sizeof(err));
	*got = disk_received(&t);
	return r;
}

void disk_best_designator(const uint8_t *buf, uint32_t len, char *out, size_t outlen)
{
	struct scsi_designator des[8];
	size_t n = 0;
	int best = -1;

	if (scsi_parse_vpd_devid(buf, len, des, ARRAY_SIZE(des), &n) < 0)
		return;
	/* NAA, then EUI-64, then anything, of the logical unit itself. */
	for (size_t i = 0; i < n; i++) {
		if (des[i].association != 0)
			continue;
		if (best < 0 || des[i].type == 3 ||
		    (des[i].type == 2 && des[best].type != 3))
			best = (int)i;
	}
	if (best >= 0)
		scsi_designator_format(&des[best], out, outlen);
}

static void probe_vpd(struct ev_loop *loop, struct iscsi_session *s,
		      struct iscsi_disk *d, uint8_t *buf)
{
	uint8_t pages[64];
	size_t n = 0;
	uint32_t got;

	if (inquiry_page(loop, s, d, 0x00, buf, &got) < 0 ||
	    scsi_parse_vpd_pages(buf, got, pages, sizeof(pages), &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (inquiry_page(loop, s, d, pages[i], buf, &got) < 0)
			continue;
		if (pages[i] == 0x80)
			scsi_parse_vpd_serial(buf, got, d->serial, sizeof(d->serial));
		else if (pages[i] == 0x83)
			disk_best_designator(buf, got, d->designator, sizeof(d->designator));
		else if (pages[i] == 0xb0)
			d->have_limits = scsi_parse_vpd_block_limits(buf, got, &d->limits) == 0;
	}
}

/* What the target reports is used for every offset and length after:
 * a block size that is not a power of two from 512 to 64 KiB, or a size
 * in bytes that does not fit 64 bits, is refused, not used. */
int disk_check_capacity(const struct scsi_capacity *c, char *err, size_t errlen)
{
	uint32_t bs = c->block_size;

	if (bs < 512 || bs > 65536 || (bs & (bs - 1))) {
		snprintf(err, errlen, "the LUN reports a logical block size of %u bytes "
			 "(a power of two from 512 to 65536 is needed)", bs);
		return -EMEDIUMTYPE;
	}
	if (c->blocks == 0 || c->blocks > UINT64_MAX / bs) {
		snprintf(err, errlen, "the LUN reports an impossible capacity of %llu "
			 "blocks of %u bytes", (unsigned long long)c->blocks, bs);
		return -EMEDIUMTYPE;
	}
	return 0;
}

static int read_capacity(struct ev_loop *loop, struct iscsi_session *s,
			 struct iscsi_disk *d, uint8_t *buf, char *err, size_t errlen)
{
	struct iscsi_task t;
	int r;

	prep_probe(&t, d->lun, ISCSI_DIR_READ, buf, 8);
	t.cdb_len = (uint8_t)scsi_cdb_read_capacity10(t.cdb);
	r = run(loop, s, &t, "READ CAPACITY(10)", err, errlen);
	if (r < 0)
		return r;
	r = scsi_parse_read_capacity10(buf, disk_received(&t), &d->capacity);
	if (r < 0) {
		snprintf(err, errlen, "malformed READ CAPACITY(10) data (block size 0 "
			 "or too short)");
		return -EMEDIUMTYPE;
	}
	/* (16) for disks past 2 TiB, and for thin provisioning flags. What
	 * it says, when it answers, is what counts; past 2^32 blocks it must. */
	prep_probe(&t, d->lun, ISCSI_DIR_READ, buf, 32);
	t.cdb_len = (uint8_t)scsi_cdb_read_capacity16(t.cdb, 32);
	r = run(loop, s, &t, "READ CAPACITY(16)", err, errlen);
	if (r == 0 && scsi_parse_read_capacity16(buf, disk_received(&t), &d->capacity) < 0) {
		snprintf(err, errlen, "malformed READ CAPACITY(16) data (block size 0, "
			 "last LBA 2^64-1, or too short)");
		return -EMEDIUMTYPE;
	}
	if (r < 0 && d->capacity.blocks > 0xffffffffull)
		return -EIO;
	err[0] = '\0';
	return disk_check_capacity(&d->capacity, err, errlen);
}

static void probe_write_protect(struct ev_loop *loop, struct iscsi_session *s,
				struct iscsi_disk *d, uint8_t *buf)
{
	struct iscsi_task t;
	char err[64];

	prep_probe(&t, d->lun, ISCSI_DIR_READ, buf, 192);
	t.cdb_len = (uint8_t)scsi_cdb_mode_sense6(t.cdb, 0x3f, 192);
	if (run(loop, s, &t, "MODE SENSE", err, sizeof(err)) == 0)
		scsi_parse_mode_sense6_wp(buf, disk_received(&t), &d->write_protected);
}

/* The most one command moves: the LUN's Block Limits, what the CDB can
 * say, and DISK_XFER_MAX. One command may span several bursts (R2Ts,
 * Data-In sequences); each burst keeps within MaxBurstLength (task.c). */
static void derive_limits(struct iscsi_disk *d)
{
	uint64_t bs = d->capacity.block_size;
	uint64_t max = DISK_XFER_MAX;

	d->use16 = d->capacity.blocks > 0xffffffffull;
	if (d->have_limits && d->limits.max_xfer_blocks)
		max = MIN(max, (uint64_t)d->limits.max_xfer_blocks * bs);
	/* READ/WRITE(10) carry at most 65535 blocks. */
	if (!d->use16)
		max = MIN(max, 65535 * bs);
	d->max_xfer_bytes = (uint32_t)(MAX(max / bs, 1) * bs);
	d->can_unmap = d->capacity.thin && d->have_limits &&
		       d->limits.max_unmap_lba_count > 0 &&
		       d->limits.max_unmap_descriptors > 0;
}

static int standard_inquiry(struct ev_loop *loop, struct iscsi_session *s, uint64_t lun,
			    struct scsi_inquiry *inq, uint8_t *buf, char *err, size_t errlen)
{
	struct iscsi_task t;
	int r;

	prep_probe(&t, lun, ISCSI_DIR_READ, buf, 96);
	t.cdb_len = (uint8_t)scsi_cdb_inquiry(t.cdb, false, 0, 96);
	r = run(loop, s, &t, "INQUIRY", err, errlen);
	if (r == 0 && scsi_parse_inquiry(buf, disk_received(&t), inq) < 0) {
		snprintf(err, errlen, "malformed INQUIRY data");
		r = -EBADMSG;
	}
	return r;
}

int iscsi_lun_describe(struct ev_loop *loop, struct iscsi_session *s, uint64_t lun,
		       struct iscsi_disk *d, char *err, size_t errlen)
{
	uint8_t buf[PROBE_BUF];
	int r;

	memset(d, 0, sizeof(*d));
	d->lun = lun;
	r = standard_inquiry(loop, s, lun, &d->inquiry, buf, err, errlen);
	if (r == 0)
		probe_vpd(loop, s, d, buf);
	return r;
}

int iscsi_disk_probe(struct ev_loop *loop, struct iscsi_session *s,
		     uint64_t lun, struct iscsi_disk *d, char *err, size_t errlen)
{
	uint8_t buf[PROBE_BUF];
	struct iscsi_task t;
	int r;

	memset(d, 0, sizeof(*d));
	d->lun = lun;
	/* TUR first: it takes the UNIT ATTENTIONs of a fresh login. */
	prep_probe(&t, lun, ISCSI_DIR_NONE, NULL, 0);
	t.cdb_len = (uint8_t)scsi_cdb_test_unit_ready(t.cdb);
	r = run(loop, s, &t, "TEST UNIT READY", err, errlen);
	if (r == 0)
		r = iscsi_lun_describe(loop, s, lun, d, err, errlen);
	if (r < 0)
		return r;
	r = read_capacity(loop, s, d, buf, err, errlen);
	if (r < 0)
		return r;
	probe_write_protect(loop, s, d, buf);
	derive_limits(d);
	boot_step_end(BOOT_STEP_PROBE, ev_now(loop));
	return 0;
}

void iscsi_disk_rw(const struct iscsi_disk *d, struct iscsi_task *t, bool write,
		   uint64_t lba, uint32_t blocks, uint8_t *buf, bool fua)
{
	/* The caller keeps blocks within max_xfer_bytes: no overflow. */
	prep(t, d->lun, write ? ISCSI_DIR_WRITE : ISCSI_DIR_READ, buf,
	     (uint32_t)((uint64_t)blocks * d->capacity.block_size));
	bool use16 = d->use16 || lba + blocks > 0xffffffffull || blocks > 65535;
	t->cdb_len = (uint8_t)(write ? scsi_cdb_write(t->cdb, lba, blocks, fua, use16)
				     : scsi_cdb_read(t->cdb, lba, blocks, use16));
}

void iscsi_disk_flush(const struct iscsi_disk *d, struct iscsi_task *t)
{
	prep(t, d->lun, ISCSI_DIR_NONE, NULL, 0);
	t->cdb_len = (uint8_t)scsi_cdb_sync_cache(t->cdb, 0, 0, d->use16);
}

void iscsi_disk_unmap(const struct iscsi_disk *d, struct iscsi_task *t,
		      uint64_t lba, uint32_t blocks, uint8_t *params)
{
	struct scsi_unmap_range range = { .lba = lba, .blocks = blocks };
	int len = scsi_unmap_params(params, 24, &range, 1);

	prep(t, d->lun, ISCSI_DIR_WRITE, params, (uint32_t)len);
	/* The parameter list is no data of the disk's: tgt 1.0.85 unmaps,
	 * then reports all of it as residual. */
	t->short_ok = true;
	t->cdb_len = (uint8_t)scsi_cdb_unmap(t->cdb, (uint16_t)len);
}

int iscsi_lun_list(struct ev_loop *loop, struct iscsi_session *s,
		   struct iscsi_lun_entry *out, size_t max, size_t *n, char *err,
		   size_t errlen)
{
	uint8_t buf[PROBE_BUF];
	uint64_t luns[ISCSI_LUNS_MAX];
	struct iscsi_task t;
	char why[128];
	int r;

	*n = 0;
	prep_probe(&t, 0, ISCSI_DIR_READ, buf, sizeof(buf));
	t.cdb_len = (uint8_t)scsi_cdb_report_luns(t.cdb, sizeof(buf));
	r = run(loop, s, &t, "REPORT LUNS", err, errlen);
	if (r == 0 && scsi_parse_report_luns(buf, disk_received(&t), luns, ARRAY_SIZE(luns), n) < 0) {
		snprintf(err, errlen, "malformed REPORT LUNS data");
		r = -EBADMSG;
	}
	if (r < 0)
		return r;
	*n = MIN(*n, MIN(max, ARRAY_SIZE(luns)));
	for (size_t i = 0; i < *n; i++) {
		out[i].lun = luns[i];
		out[i].answered = standard_inquiry(loop, s, luns[i], &out[i].inquiry, buf, why,
						   sizeof(why)) == 0;
	}
	return 0;
}

int iscsi_lun_first_disk(const struct iscsi_lun_entry *e, size_t n, uint64_t *lun)
{
	const struct iscsi_lun_entry *best = NULL;

	for (size_t i = 0; i < n; i++) {
		uint64_t a, b;
		if (!e[i].answered || e[i].inquiry.peripheral_qualifier != 0 ||
		    e[i].inquiry.device_type != 0)
			continue;
		/* Lowest by number where the numbers are plain. */
		if (best && scsi_lun_to_number(e[i].lun, &a) == 0 &&
		    scsi_lun_to_number(best->lun, &b) == 0 && a >= b)
			continue;
		best = &e[i];
	}
	if (!best)
		return -ENODEV;
	*lun = best->lun;
	return 0;
}

int iscsi_disk_find(struct ev_loop *loop, struct iscsi_session *s, uint64_t *lun,
		    char *err, size_t errlen)
{
	struct iscsi_lun_entry luns[ISCSI_LUNS_MAX];
	size_t n;
	int r = iscsi_lun_list(loop, s, luns, ARRAY_SIZE(luns), &n, err, errlen);

	if (r == 0 && iscsi_lun_first_disk(luns, n, lun) < 0) {
		snprintf(err, errlen, "the target has no disk LUN");
		r = -ENODEV;
	}
	return r;
}
