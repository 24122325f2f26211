/* SPDX-License-Identifier: MIT */
/* The disk's identity, and the guard that checks it at the session's
 * gate: after a reconnect, a reinstatement or a UNIT ATTENTION that says
 * the LUN changed, no command goes to the LUN until it is shown to be
 * the disk that was attached. A restarted target presenting another
 * volume would otherwise get writes meant for a mounted filesystem. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"

/* How often a LUN that turned out to be another disk is looked at again
 * (the right one may come back: a target restarted with the wrong
 * configuration, then fixed). */
#define GUARD_RECHECK_MS 30000
#define GUARD_BUF 512

void iscsi_disk_identity_of(const struct iscsi_disk *d, struct iscsi_disk_identity *id)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->designator, sizeof(id->designator), "%s", d->designator);
	snprintf(id->serial, sizeof(id->serial), "%s", d->serial);
	snprintf(id->vendor, sizeof(id->vendor), "%s", d->inquiry.vendor);
	snprintf(id->product, sizeof(id->product), "%s", d->inquiry.product);
	id->block_size = d->capacity.block_size;
	id->blocks = d->capacity.blocks;
}

static int differs(char *why, size_t len, const char *what, const char *was,
		   const char *now)
{
	snprintf(why, len, "its %s was %s, now %s", what, *was ? was : "(none)",
		 *now ? now : "(none)");
	return -ESTALE;
}

int iscsi_disk_identity_check(const struct iscsi_disk_identity *was,
			      const struct iscsi_disk_identity *now, char *why,
			      size_t len)
{
	if (*was->designator && strcmp(was->designator, now->designator))
		return differs(why, len, "designator", was->designator, now->designator);
	if (*was->serial && strcmp(was->serial, now->serial))
		return differs(why, len, "serial number", was->serial, now->serial);
	if (!*was->designator && !*was->serial &&
	    (strcmp(was->vendor, now->vendor) || strcmp(was->product, now->product))) {
		char a[32], b[32];
		snprintf(a, sizeof(a), "%s %s", was->vendor, was->product);
		snprintf(b, sizeof(b), "%s %s", now->vendor, now->product);
		return differs(why, len, "vendor and product", a, b);
	}
	if (was->block_size != now->block_size) {
		snprintf(why, len, "its block size was %u bytes, now %u", was->block_size,
			 now->block_size);
		return -ESTALE;
	}
	/* A disk that grew is the same disk; one that shrank lost blocks
	 * the filesystem may use. */
	if (now->blocks < was->blocks) {
		snprintf(why, len, "it had %llu blocks, now %llu",
			 (unsigned long long)was->blocks, (unsigned long long)now->blocks);
		return -ESTALE;
	}
	return 0;
}

/* The steps of one check, in order; each reads one thing. */
enum guard_step {
	G_IDLE,
	G_DESIGNATOR,   /* INQUIRY VPD 0x83 */
	G_SERIAL,       /* INQUIRY VPD 0x80 */
	G_INQUIRY,      /* standard INQUIRY: vendor, product */
	G_CAPACITY,     /* READ CAPACITY (10, or 16 for a disk past 2^32 blocks) */
};

struct iscsi_disk_guard {
	struct ev_loop *loop;
	struct iscsi_session *s;
	struct iscsi_disk_identity want, got;
	uint64_t lun;
	bool use16;
	enum guard_step step;
	bool mismatched;        /* said so; say again only once it matched */
	unsigned checks, mismatches;
	struct iscsi_task task;
	uint8_t buf[GUARD_BUF];
	struct ev_source recheck;
};

static void step_done(struct iscsi_task *t);

static enum guard_step next_step(const struct iscsi_disk_guard *g, enum guard_step after)
{
	switch (after) {
	case G_IDLE:
		if (*g->want.designator)
			return G_DESIGNATOR;
		/* fall through */
	case G_DESIGNATOR:
		if (*g->want.serial)
			return G_SERIAL;
		/* fall through */
	case G_SERIAL:
		if (!*g->want.designator && !*g->want.serial)
			return G_INQUIRY;
		/* fall through */
	case G_INQUIRY:
		return G_CAPACITY;
	case G_CAPACITY:
		return G_IDLE;
	}
	abort();
}

static int build_step(struct iscsi_disk_guard *g)
{
	struct iscsi_task *t = &g->task;
	uint8_t len = 0;

	memset(t, 0, sizeof(*t));
	t->lun = g->lun;
	t->dir = ISCSI_DIR_READ;
	t->buf = g->buf;
	t->short_ok = true;
	t->done = step_done;
	t->ctx = g;
	switch (g->step) {
	case G_DESIGNATOR:
	case G_SERIAL:
		len = (uint8_t)scsi_cdb_inquiry(t->cdb, true, g->step == G_SERIAL ? 0x80 : 0x83, 255);
		t->len = 255;
		break;
	case G_INQUIRY:
		len = (uint8_t)scsi_cdb_inquiry(t->cdb, false, 0, 96);
		t->len = 96;
		break;
	case G_CAPACITY:
		len = (uint8_t)(g->use16 ? scsi_cdb_read_capacity16(t->cdb, 32)
					 : scsi_cdb_read_capacity10(t->cdb));
		t->len = g->use16 ? 32 : 8;
		break;
	case G_IDLE:
		abort();
	}
	t->cdb_len = len;
	return iscsi_submit_urgent(g->s, t);
}

/* Takes what one step read into g->got; -EBADMSG when it makes no sense. */
static int take_answer(struct iscsi_disk_guard *g)
{
	uint32_t n = disk_received(&g->task);
	struct scsi_inquiry inq;
	struct scsi_capacity cap;

	switch (g->step) {
	case G_DESIGNATOR:
		disk_best_designator(g->buf, n, g->got.designator, sizeof(g->got.designator));
		return 0;
	case G_SERIAL:
		return scsi_parse_vpd_serial(g->buf, n, g->got.serial, sizeof(g->got.serial));
	case G_INQUIRY:
		if (scsi_parse_inquiry(g->buf, n, &inq) < 0)
			return -EBADMSG;
		snprintf(g->got.vendor, sizeof(g->got.vendor), "%s", inq.vendor);
		snprintf(g->got.product, sizeof(g->got.product), "%s", inq.product);
		return 0;
	case G_CAPACITY:
		if ((g->use16 ? scsi_parse_read_capacity16(g->buf, n, &cap)
			      : scsi_parse_read_capacity10(g->buf, n, &cap)) < 0)
			return -EBADMSG;
		g->got.block_size = cap.block_size;
		g->got.blocks = cap.blocks;
		return 0;
	case G_IDLE:
		break;
	}
	abort();
}

static void mismatch(struct iscsi_disk_guard *g, const char *why)
{
	char hp[HOST_PORT_LEN];

	g->mismatches++;
	if (!g->mismatched)
		log_err("the LUN at %s is not the disk that was attached (%s): nothing "
			"is sent to it there; checking again every %d s",
			host_port(hp, iscsi_session_host(g->s), iscsi_session_port(g->s)),
			why, GUARD_RECHECK_MS / 1000);
	else
		log_debug("the LUN is still not the attached disk (%s)", why);
	g->mismatched = true;
	g->recheck.deadline = ev_now(g->loop) + GUARD_RECHECK_MS;
}

static void verdict(struct iscsi_disk_guard *g)
{
	char why[400];

	if (iscsi_disk_identity_check(&g->want, &g->got, why, sizeof(why)) < 0) {
		mismatch(g, why);
		return;
	}
	if (g->mismatched)
		log_warn("the LUN is the attached disk again; I/O resumes");
	else if (g->got.blocks > g->want.blocks)
		log_info("the LUN grew to %llu blocks; the device keeps its size",
			 (unsigned long long)g->got.blocks);
	g->mismatched = false;
	iscsi_session_open_gate(g->s);
}

static void run_step(struct iscsi_disk_guard *g)
{
	int r;

	if (g->step == G_IDLE) {
		verdict(g);
		return;
	}
	r = build_step(g);
	if (r < 0) {
		/* The session failed or closed: nothing to guard now. */
		log_debug("identity check not sent: %s", strerror(-r));
		g->step = G_IDLE;
	}
}

static void step_done(struct iscsi_task *t)
{
	struct iscsi_disk_guard *g = t->ctx;
	char msg[240];
	int r;

	/* A lost connection (or the session's end) ends this check; the
	 * next login starts another. */
	if (t->result < 0) {
		g->step = G_IDLE;
		return;
	}
	r = iscsi_task_status(t, msg, sizeof(msg));
	if (r == 0 && take_answer(g) < 0) {
		snprintf(msg, sizeof(msg), "malformed answer");
		r = -EBADMSG;
	}
	if (r < 0) {
		char why[300];
		snprintf(why, sizeof(why), "it does not answer %s: %s",
			 g->step == G_CAPACITY ? "READ CAPACITY" : "INQUIRY", msg);
		g->step = G_IDLE;
		mismatch(g, why);
		return;
	}
	g->step = next_step(g, g->step);
	run_step(g);
}

static void start_check(struct iscsi_disk_guard *g)
{
	if (g->step != G_IDLE)
		return; /* one check at a time; this one is still going */
	g->checks++;
	g->recheck.deadline = -1;
	memset(&g->got, 0, sizeof(g->got));
	g->step = next_step(g, G_IDLE);
	run_step(g);
}

static void on_gate(void *ctx)
{
	start_check(ctx);
}

static void on_recheck(struct ev_source *src)
{
	struct iscsi_disk_guard *g = src->ctx;

	src->deadline = -1;
	if (iscsi_session_gate_shut(g->s) && iscsi_session_ready(g->s))
		start_check(g);
}

struct iscsi_disk_guard *iscsi_disk_guard_new(struct ev_loop *loop,
					      struct iscsi_session *s,
					      const struct iscsi_disk *d)
{
	struct iscsi_disk_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->loop = loop;
	g->s = s;
	g->lun = d->lun;
	g->use16 = d->use16;
	iscsi_disk_identity_of(d, &g->want);
	g->recheck = (struct ev_source){ .fd = -1, .deadline = -1,
					 .on_timer = on_recheck, .ctx = g };
	if (ev_add(loop, &g->recheck) < 0) {
		free(g);
		return NULL;
	}
	iscsi_session_set_gate(s, on_gate, g);
	return g;
}

void iscsi_disk_guard_free(struct iscsi_disk_guard *g)
{
	if (!g)
		return;
	ev_del(&g->recheck);
	free(g);
}

unsigned iscsi_disk_guard_checks(const struct iscsi_disk_guard *g)
{
	return g->checks;
}

unsigned iscsi_disk_guard_mismatches(const struct iscsi_disk_guard *g)
{
	return g->mismatches;
}
