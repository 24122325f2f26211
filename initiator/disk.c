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

/* ---- The probe. After TEST UNIT READY, which goes alone (it takes the
 * UNIT ATTENTIONs of a fresh login), its commands do not depend on each
 * other's answers: they go at once, each a task with its own buffer,
 * and the answers are judged in the order the commands were once sent
 * one by one. A VPD page counts only when page 0x00 lists it. */

enum probe_cmd {
	P_INQUIRY,      /* standard INQUIRY */
	P_PAGES,        /* VPD 0x00, then the pages used: */
	P_SERIAL,       /* 0x80 */
	P_DEVID,        /* 0x83 */
	P_LIMITS,       /* 0xB0 */
	P_CAP10,        /* READ CAPACITY(10) */
	P_CAP16,        /* READ CAPACITY(16), for disks past 2 TiB and thin provisioning */
	P_MODE,         /* MODE SENSE(6): write protection */
	P_COUNT
};
#define P_DESCRIBE P_CAP10      /* iscsi_lun_describe's: those before */
#define VPD_LEN 255

struct probe {
	struct iscsi_task t[P_COUNT];
	uint8_t inquiry[96], vpd[4][VPD_LEN], cap10[8], cap16[32], mode[192];
};

static void prep_inquiry(struct iscsi_task *t, uint64_t lun, bool evpd, uint8_t page,
			 uint8_t *buf, uint8_t len)
{
	prep_probe(t, lun, ISCSI_DIR_READ, buf, len);
	t->cdb_len = (uint8_t)scsi_cdb_inquiry(t->cdb, evpd, page, len);
}

static void probe_prepare(struct probe *p, uint64_t lun)
{
	static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0xb0 };

	prep_inquiry(&p->t[P_INQUIRY], lun, false, 0, p->inquiry, sizeof(p->inquiry));
	for (unsigned i = 0; i < ARRAY_SIZE(pages); i++)
		prep_inquiry(&p->t[P_PAGES + i], lun, true, pages[i], p->vpd[i], VPD_LEN);
	prep_probe(&p->t[P_CAP10], lun, ISCSI_DIR_READ, p->cap10, sizeof(p->cap10));
	p->t[P_CAP10].cdb_len = (uint8_t)scsi_cdb_read_capacity10(p->t[P_CAP10].cdb);
	prep_probe(&p->t[P_CAP16], lun, ISCSI_DIR_READ, p->cap16, sizeof(p->cap16));
	p->t[P_CAP16].cdb_len = (uint8_t)scsi_cdb_read_capacity16(p->t[P_CAP16].cdb,
								 sizeof(p->cap16));
	prep_probe(&p->t[P_MODE], lun, ISCSI_DIR_READ, p->mode, sizeof(p->mode));
	p->t[P_MODE].cdb_len = (uint8_t)scsi_cdb_mode_sense6(p->t[P_MODE].cdb, 0x3f,
							    sizeof(p->mode));
}

/* 0, or the command's failure with "WHAT failed: why" in err. */
static int outcome(const struct iscsi_session *s, const struct iscsi_task *t,
		   const char *what, char *err, size_t errlen)
{
	char msg[240];
	int r = iscsi_task_outcome(s, t, msg, sizeof(msg));

	if (r < 0)
		snprintf(err, errlen, "%s failed: %s", what, msg);
	return r;
}

/* A command whose failure the probe lets pass (a VPD page, MODE SENSE). */
static bool answered(const struct iscsi_session *s, const struct probe *p, enum probe_cmd c)
{
	char msg[64];

	return iscsi_task_outcome(s, &p->t[c], msg, sizeof(msg)) == 0;
}

static bool listed(const uint8_t *pages, size_t n, uint8_t page)
{
	return memchr(pages, page, n) != NULL;
}

static void vpd_from(const struct iscsi_session *s, const struct probe *p,
		     struct iscsi_disk *d)
{
	uint8_t pages[64];
	size_t n = 0;

	if (!answered(s, p, P_PAGES) ||
	    scsi_parse_vpd_pages(p->vpd[0], disk_received(&p->t[P_PAGES]), pages,
				 sizeof(pages), &n) < 0)
		return;
	if (listed(pages, n, 0x80) && answered(s, p, P_SERIAL))
		scsi_parse_vpd_serial(p->vpd[1], disk_received(&p->t[P_SERIAL]), d->serial,
				      sizeof(d->serial));
	if (listed(pages, n, 0x83) && answered(s, p, P_DEVID))
		disk_best_designator(p->vpd[2], disk_received(&p->t[P_DEVID]), d->designator,
				     sizeof(d->designator));
	if (listed(pages, n, 0xb0) && answered(s, p, P_LIMITS))
		d->have_limits = scsi_parse_vpd_block_limits(
			p->vpd[3], disk_received(&p->t[P_LIMITS]), &d->limits) == 0;
}

static int describe_from(const struct iscsi_session *s, const struct probe *p,
			 struct iscsi_disk *d, char *err, size_t errlen)
{
	const struct iscsi_task *t = &p->t[P_INQUIRY];
	int r = outcome(s, t, "INQUIRY", err, errlen);

	if (r == 0 && scsi_parse_inquiry(p->inquiry, disk_received(t), &d->inquiry) < 0) {
		snprintf(err, errlen, "malformed INQUIRY data");
		r = -EBADMSG;
	}
	if (r == 0)
		vpd_from(s, p, d);
	return r;
}

static int capacity_from(const struct iscsi_session *s, const struct probe *p,
			 struct iscsi_disk *d, char *err, size_t errlen)
{
	int r = outcome(s, &p->t[P_CAP10], "READ CAPACITY(10)", err, errlen);

	if (r < 0)
		return r;
	if (scsi_parse_read_capacity10(p->cap10, disk_received(&p->t[P_CAP10]),
				       &d->capacity) < 0) {
		snprintf(err, errlen, "malformed READ CAPACITY(10) data (block size 0 "
			 "or too short)");
		return -EMEDIUMTYPE;
	}
	/* What (16) says, when it answers, is what counts; past 2^32 blocks
	 * it must. */
	r = outcome(s, &p->t[P_CAP16], "READ CAPACITY(16)", err, errlen);
	if (r == 0 && scsi_parse_read_capacity16(p->cap16, disk_received(&p->t[P_CAP16]),
						 &d->capacity) < 0) {
		snprintf(err, errlen, "malformed READ CAPACITY(16) data (block size 0, "
			 "last LBA 2^64-1, or too short)");
		return -EMEDIUMTYPE;
	}
	if (r < 0 && d->capacity.blocks > 0xffffffffull)
		return -EIO;
	err[0] = '\0';
	return disk_check_capacity(&d->capacity, err, errlen);
}

/* Sends the first n commands of the probe together and waits for all. */
static int probe_run(struct ev_loop *loop, struct iscsi_session *s, struct probe *p,
		     uint64_t lun, unsigned n, char *err, size_t errlen)
{
	int r;

	probe_prepare(p, lun);
	r = iscsi_sync_tasks(loop, s, p->t, n);
	if (r < 0)
		snprintf(err, errlen, "the probe commands failed: %s", strerror(-r));
	return r;
}

int iscsi_lun_describe(struct ev_loop *loop, struct iscsi_session *s, uint64_t lun,
		       struct iscsi_disk *d, char *err, size_t errlen)
{
	struct probe p;
	int r;

	memset(d, 0, sizeof(*d));
	d->lun = lun;
	r = probe_run(loop, s, &p, lun, P_DESCRIBE, err, errlen);
	return r < 0 ? r : describe_from(s, &p, d, err, errlen);
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

	prep_inquiry(&t, lun, false, 0, buf, 96);
	r = run(loop, s, &t, "INQUIRY", err, errlen);
	if (r == 0 && scsi_parse_inquiry(buf, disk_received(&t), inq) < 0) {
		snprintf(err, errlen, "malformed INQUIRY data");
		r = -EBADMSG;
	}
	return r;
}

int iscsi_disk_probe(struct ev_loop *loop, struct iscsi_session *s,
		     uint64_t lun, struct iscsi_disk *d, char *err, size_t errlen)
{
	struct iscsi_task t;
	struct probe p;
	int r;

	memset(d, 0, sizeof(*d));
	d->lun = lun;
	prep_probe(&t, lun, ISCSI_DIR_NONE, NULL, 0);
	t.cdb_len = (uint8_t)scsi_cdb_test_unit_ready(t.cdb);
	r = run(loop, s, &t, "TEST UNIT READY", err, errlen);
	if (r == 0)
		r = probe_run(loop, s, &p, lun, P_COUNT, err, errlen);
	if (r == 0)
		r = describe_from(s, &p, d, err, errlen);
	if (r == 0)
		r = capacity_from(s, &p, d, err, errlen);
	if (r < 0)
		return r;
	if (answered(s, &p, P_MODE))
		scsi_parse_mode_sense6_wp(p.mode, disk_received(&p.t[P_MODE]),
					  &d->write_protected, &d->dpofua);
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
