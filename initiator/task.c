/* SPDX-License-Identifier: MIT */
/* SCSI commands on a session: the CmdSN window, immediate and unsolicited
 * data, R2T-driven Data-Out, Data-In placement, status and the retry
 * policy that keeps transient conditions from reaching the caller
 * (RFC 7143 §3.2.2, §11.2–11.8). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "session.h"

/* UNIT ATTENTION is reported once per event (reset, I_T nexus loss,
 * capacity change...); more in a row than this means something is wrong. */
#define UA_RETRIES_MAX 16
/* BUSY and TASK SET FULL: again after 100 ms, doubling to 5 s, each
 * delay in its upper half (jitter_ms: a fleet does not come back in
 * step); the replacement timeout runs meanwhile. */
#define BUSY_RETRY_DELAY_MS 100
#define BUSY_RETRY_DELAY_MAX_MS 5000
/* The connection must go (session.c acts on it once the call returns). */
static void lose_connection(struct task_outcome *out, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void lose_connection(struct task_outcome *out, int err, const char *fmt, ...)
{
	va_list ap;

	if (out->err < 0)
		return; /* the first reason is the one to tell */
	out->err = err;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/* The target broke a rule of the protocol for a task: nothing it sent on
 * this connection can be trusted, so the connection goes and every
 * command is issued again on a new one. The task never completes with
 * what arrived. */
#define violation(out, ...) lose_connection(out, -EPROTO, __VA_ARGS__)

void task_list_push(struct task_list *l, struct iscsi_task *t)
{
	t->priv.next = NULL;
	t->priv.prev = l->tail;
	if (l->tail)
		l->tail->priv.next = t;
	else
		l->head = t;
	l->tail = t;
	l->count++;
}

static void task_list_push_front(struct task_list *l, struct iscsi_task *t)
{
	t->priv.prev = NULL;
	t->priv.next = l->head;
	if (l->head)
		l->head->priv.prev = t;
	else
		l->tail = t;
	l->head = t;
	l->count++;
}

void task_list_remove(struct task_list *l, struct iscsi_task *t)
{
	if (t->priv.prev)
		t->priv.prev->priv.next = t->priv.next;
	else
		l->head = t->priv.next;
	if (t->priv.next)
		t->priv.next->priv.prev = t->priv.prev;
	else
		l->tail = t->priv.prev;
	t->priv.next = t->priv.prev = NULL;
	l->count--;
}

/* Returns a free slot (its generation bumped) or -EBUSY. */
static int alloc_slot(struct iscsi_session *s, struct iscsi_task *t)
{
	_Static_assert(SESSION_SLOTS <= ITT_SLOT_LOGOUT, "slot tags overlap");
	/* Go round the table, so a tag is not reused at once. */
	for (unsigned i = 0; i < SESSION_SLOTS; i++) {
		unsigned slot = (s->next_slot + i) % SESSION_SLOTS;
		if (!s->slots[slot]) {
			s->slots[slot] = t;
			s->slot_gen[slot]++;
			s->next_slot = (slot + 1) % SESSION_SLOTS;
			return (int)slot;
		}
	}
	return -EBUSY;
}

static void free_slot(struct iscsi_session *s, struct iscsi_task *t)
{
	unsigned slot = t->priv.itt & 0xffff;

	if (slot < SESSION_SLOTS && s->slots[slot] == t)
		s->slots[slot] = NULL;
}

static struct iscsi_task *lookup(struct iscsi_session *s, uint32_t itt)
{
	unsigned slot = itt & 0xffff;

	if (slot >= SESSION_SLOTS || !s->slots[slot] || s->slots[slot]->priv.itt != itt)
		return NULL;
	return s->slots[slot];
}

/* Data-Out PDUs for [offset, offset + len): they point into the task's
 * buffer, so their number is bounded by the bytes the caller has in
 * flight, whatever the target asks. */
static int queue_data_out(struct iscsi_session *s, struct iscsi_task *t,
			  uint32_t ttt, uint32_t offset, uint32_t len)
{
	uint32_t datasn = 0;

	while (len > 0) {
		uint32_t chunk = MIN(len, s->params.max_xmit_dsl);
		struct conn_tx *tx = conn_tx_get(&s->conn);
		struct iscsi_data_out d = {
			.final = chunk == len, .lun = t->lun, .itt = t->priv.itt,
			.ttt = ttt, .expstatsn = s->seq.expstatsn, .datasn = datasn++,
			.offset = offset, .data_len = chunk,
		};

		if (!tx)
			return -ENOMEM;
		pdu_encode_data_out(tx->hdr, &d);
		tx->data = t->buf + offset;
		tx->data_len = chunk;
		tx->task = t;
		if (chunk == len && ttt != ISCSI_RESERVED_TAG)
			tx->mark = TX_MARK_R2T_END;
		t->priv.tx_refs++;
		conn_queue(&s->conn, tx);
		offset += chunk;
		len -= chunk;
	}
	return 0;
}

/* Queues a command PDU and its unsolicited data. Fails only before
 * anything is queued. */
static int send_command(struct iscsi_session *s, struct iscsi_task *t,
			struct task_outcome *out)
{
	const struct iscsi_params *p = &s->params;
	bool write = t->dir == ISCSI_DIR_WRITE;
	uint32_t imm = 0, unsolicited = 0;
	struct conn_tx *tx;
	int slot;

	if (write && p->immediate_data)
		imm = MIN(t->len, MIN(p->first_burst, p->max_xmit_dsl));
	unsolicited = write && !p->initial_r2t ? MIN(t->len, p->first_burst) : imm;
	slot = alloc_slot(s, t);
	if (slot < 0)
		return slot;
	/* ITT = generation << 16 | slot: a late answer for an earlier use of
	 * the slot does not match. */
	t->priv.itt = (uint32_t)s->slot_gen[slot] << 16 | (uint32_t)slot;
	tx = conn_tx_get(&s->conn);
	if (!tx) {
		free_slot(s, t);
		return -ENOMEM;
	}
	t->priv.cmdsn = s->seq.cmdsn++;
	t->priv.received = 0;
	t->priv.datasn = 0;
	t->priv.solicited = unsolicited;
	t->priv.r2tsn = 0;
	t->priv.r2t_active = 0;
	t->priv.answered = false;
	struct iscsi_scsi_cmd cmd = {
		.final = unsolicited == imm, .read = t->dir == ISCSI_DIR_READ,
		.write = write, .lun = t->lun, .itt = t->priv.itt, .edtl = t->len,
		.cmdsn = t->priv.cmdsn, .expstatsn = s->seq.expstatsn, .cdb = t->cdb,
		.cdb_len = t->cdb_len, .data_len = imm,
	};
	pdu_encode_scsi_cmd(tx->hdr, &cmd);
	tx->data = imm ? t->buf : NULL;
	tx->data_len = imm;
	/* The command PDU is the task's too: it is bounded by the tasks the
	 * caller has, not by the connection's small queue of our own PDUs. */
	tx->task = t;
	t->priv.tx_refs++;
	conn_queue(&s->conn, tx);
	task_list_push(&s->inflight, t);
	s->reads_inflight += t->dir == ISCSI_DIR_READ;
	s->max_inflight = MAX(s->max_inflight, s->inflight.count);
	if (unsolicited > imm &&
	    queue_data_out(s, t, ISCSI_RESERVED_TAG, imm, unsolicited - imm) < 0)
		lose_connection(out, -ENOMEM, "out of memory");
	return 0;
}

/* The queue the next command comes from: urgent ones first; the rest
 * only while the gate is open. */
static struct task_list *next_queue(struct iscsi_session *s)
{
	if (s->urgent.head)
		return &s->urgent;
	return s->gate_shut ? NULL : &s->waiting;
}

static struct task_list *queue_of(struct iscsi_session *s, const struct iscsi_task *t)
{
	return t->priv.urgent ? &s->urgent : &s->waiting;
}

/* Sends what the command window, the slots and the gate let out. A
 * closed window waits for a PDU that opens it (or the keepalive's
 * answer), never in a loop. */
void tasks_pump(struct iscsi_session *s, struct task_outcome *out)
{
	int64_t now = ev_now(s->loop);
	struct task_list *q;

	while (out->err == 0 && s->state == S_READY && (q = next_queue(s)) && q->head &&
	       iscsi_seq_open(&s->seq) && s->inflight.count < SESSION_SLOTS) {
		struct iscsi_task *t = q->head;

		if (t->priv.not_before > now)
			break; /* session_arm_timer() wakes us (tasks_next_retry) */
		task_list_remove(q, t);
		t->priv.queued = false;
		int r = send_command(s, t, out);
		if (r < 0) {
			task_list_push_front(q, t);
			t->priv.queued = true;
			lose_connection(out, r, "cannot send a command");
		}
	}
}

int64_t tasks_next_retry(const struct iscsi_session *s)
{
	const struct iscsi_task *t = s->urgent.head ? s->urgent.head :
				     s->gate_shut ? NULL : s->waiting.head;

	return t && t->priv.not_before > 0 ? t->priv.not_before : -1;
}

static void reset_results(struct iscsi_task *t)
{
	t->result = 0;
	t->status = 0;
	t->sense_len = 0;
	t->residual = 0;
	t->underflow = t->overflow = false;
}

static void requeue_front(struct iscsi_session *s, struct iscsi_task *t,
			  int64_t not_before)
{
	reset_results(t);
	t->priv.not_before = not_before;
	t->priv.queued = true;
	task_list_push_front(queue_of(s, t), t);
}

/* UNIT ATTENTIONs after which the LUN may be another disk, or this one
 * with another size (SPC-4 annex F): the owner's gate checks it. */
static bool lun_may_have_changed(const struct scsi_sense *sense)
{
	switch (sense->asc << 8 | sense->ascq) {
	case 0x2800: /* not ready to ready change, medium may have changed */
	case 0x2a09: /* capacity data has changed */
	case 0x3f03: /* inquiry data has changed */
	case 0x3f05: /* device identifier changed */
	case 0x3f0e: /* reported luns data has changed */
		return true;
	default:
		return false;
	}
}

static int64_t busy_delay_ms(unsigned retries)
{
	return jitter_ms(MIN((int64_t)BUSY_RETRY_DELAY_MS << MIN(retries, 10u),
			     BUSY_RETRY_DELAY_MAX_MS));
}

/* Transient conditions are retried here, so that only real answers (and
 * the replacement timeout) reach the caller. */
static bool should_retry(struct iscsi_session *s, struct iscsi_task *t,
			 struct task_outcome *out)
{
	struct scsi_sense sense;

	if (t->result < 0 || s->state == S_CLOSED || s->state == S_FAILED)
		return false;
	if (t->status == SCSI_STATUS_BUSY || t->status == SCSI_STATUS_TASK_SET_FULL) {
		requeue_front(s, t, ev_now(s->loop) + busy_delay_ms(t->priv.busy_retries++));
		return true;
	}
	if (t->status != SCSI_STATUS_CHECK_CONDITION ||
	    scsi_sense_decode(t->sense, t->sense_len, &sense) < 0 ||
	    sense.key != SCSI_SENSE_UNIT_ATTENTION || t->priv.retries >= UA_RETRIES_MAX)
		return false;
	log_debug("retrying after UNIT ATTENTION %02x/%02x", sense.asc, sense.ascq);
	t->priv.retries++;
	requeue_front(s, t, 0);
	if (lun_may_have_changed(&sense))
		out->lun_changed = true;
	return true;
}

/* A retried answer is no progress (the replacement timeout runs on); any
 * other answer is, except the gate's own checks. The caller hears of it
 * from tasks_complete(), once session.c has taken the outcome in. */
static void deliver(struct iscsi_session *s, struct iscsi_task *t,
		    struct task_outcome *out)
{
	if (should_retry(s, t, out)) {
		out->stalled = true;
		return;
	}
	if (!t->priv.urgent)
		out->progress = true;
	task_list_push(&s->completed, t);
}

void tasks_complete(struct iscsi_session *s)
{
	while (s->completed.head) {
		struct iscsi_task *t = s->completed.head;

		task_list_remove(&s->completed, t);
		t->done(t);
	}
}

/* The target has answered; the caller hears of it once no queued PDU
 * still points into the task's buffer. */
static void answered(struct iscsi_session *s, struct iscsi_task *t,
		     struct task_outcome *out)
{
	task_list_remove(&s->inflight, t);
	s->reads_inflight -= t->dir == ISCSI_DIR_READ;
	free_slot(s, t);
	t->priv.answered = true;
	out->answered = true;
	if (t->priv.tx_refs == 0)
		deliver(s, t, out);
}

void tasks_tx_done(struct iscsi_session *s, struct iscsi_task *t, uint8_t mark,
		   struct task_outcome *out)
{
	/* Once an R2T's last Data-Out is out, the R2T is no longer
	 * outstanding (RFC 7143 §13.17). */
	if (mark == TX_MARK_R2T_END && t->priv.r2t_active)
		t->priv.r2t_active--;
	if (--t->priv.tx_refs == 0 && t->priv.answered)
		deliver(s, t, out);
}

/* Says what was wrong with a Data-In header; the connection then fails
 * with -EPROTO (conn.c) and every command is issued again. */
static int bad_data_in(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_data_in(const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warn("the target sent Data-In %s", why);
	return -EPROTO;
}

/* A Data-In header, before its payload is read into the task's buffer:
 * the payload must continue the task's data exactly where it ends (no
 * gap, no overlap: DataPDUInOrder and DataSequenceInOrder are Yes, as we
 * offer them and both are OR keys, RFC 7143 §13.18, §13.19), in DataSN
 * order and within the buffer. A Data-In sequence longer than
 * MaxBurstLength is let through: tgt 1.0.85 sends a whole READ as one,
 * and every byte still lands inside the command's own buffer. */
int tasks_header(struct iscsi_session *s, const struct iscsi_hdr *h, uint8_t **dst)
{
	struct iscsi_task *t;
	uint32_t off = h->u.data_in.offset;

	if (h->opcode != ISCSI_OP_DATA_IN)
		return 0;
	t = lookup(s, h->itt);
	if (!t || t->dir != ISCSI_DIR_READ)
		return bad_data_in("for no READ in flight (ITT 0x%08x)", h->itt);
	if (off > t->len || h->data_len > t->len - off)
		return bad_data_in("outside the READ (%u bytes at %u of %u)",
				   h->data_len, off, t->len);
	if (h->data_len && off != t->priv.received)
		return bad_data_in("at offset %u, where %u bytes had come", off,
				   t->priv.received);
	if (h->u.data_in.datasn != t->priv.datasn)
		return bad_data_in("DataSN %u, expected %u", h->u.data_in.datasn,
				   t->priv.datasn);
	*dst = t->buf + off;
	return 0;
}

/* Where the next Data-In payloads most likely go: the reads in flight
 * that still wait for data, oldest first, each at the offset its data
 * has reached (DataPDUInOrder and DataSequenceInOrder are Yes: offsets
 * only grow, RFC 7143 §13.18, §13.19), at most one PDU's worth. conn.c
 * may read other stream bytes into those ranges before a header says
 * whose data follows: harmless, as no byte of them has arrived yet and
 * the tasks are not done, so the buffers are still ours and their
 * content still undefined. */
unsigned tasks_expect_data(struct iscsi_session *s, struct iovec *ranges, unsigned max)
{
	const struct iscsi_params *p = &s->params;
	unsigned n = 0;

	if (!s->reads_inflight || !p->data_pdu_in_order || !p->data_seq_in_order)
		return 0;
	for (struct iscsi_task *t = s->inflight.head; t && n < max; t = t->priv.next) {
		if (t->dir != ISCSI_DIR_READ || t->priv.received >= t->len)
			continue;
		ranges[n++] = (struct iovec){ t->buf + t->priv.received,
					      MIN(t->len - t->priv.received, p->max_recv_dsl) };
	}
	return n;
}

static void set_residual(struct iscsi_task *t, uint8_t flags, uint32_t residual)
{
	t->underflow = flags & ISCSI_FLAG_RSP_UNDERFLOW;
	t->overflow = flags & ISCSI_FLAG_RSP_OVERFLOW;
	t->residual = t->underflow || t->overflow ? residual : 0;
}

/* With its status, a task's data must add up: a READ received exactly
 * what the residual leaves of its length, a WRITE sent all of it (or the
 * residual says it did not). A target whose counts disagree with its
 * own status is lying about what moved. */
static bool counts_agree(struct iscsi_task *t, uint32_t expdatasn,
			 struct task_outcome *out)
{
	uint64_t moved, expect;

	if (t->status != SCSI_STATUS_GOOD && t->status != SCSI_STATUS_CONDITION_MET)
		return true; /* not a success whatever arrived */
	if ((t->underflow && t->overflow) || (t->underflow && t->residual > t->len)) {
		violation(out, "status with an impossible residual (%u of %u bytes)",
			  t->residual, t->len);
		return false;
	}
	expect = t->underflow ? t->len - t->residual : t->len;
	moved = t->dir == ISCSI_DIR_READ ? t->priv.received :
		t->dir == ISCSI_DIR_WRITE ? t->priv.solicited : 0;
	if (t->dir != ISCSI_DIR_NONE && t->len && moved != expect &&
	    !(t->dir == ISCSI_DIR_WRITE && t->underflow)) {
		violation(out, "GOOD status for a %s of %u bytes after %llu bytes moved%s",
			  t->dir == ISCSI_DIR_READ ? "READ" : "WRITE", t->len,
			  (unsigned long long)moved,
			  t->underflow ? " (and another residual)" : "");
		return false;
	}
	/* ExpDataSN counts the Data-In PDUs the target sent for the command
	 * (RFC 7143 §11.4.8): one lost in between is caught here even where
	 * the bytes would add up. For a WRITE it is 0, or the R2T count as
	 * RFC 3720 had it. */
	if (expdatasn != UINT32_MAX && expdatasn != t->priv.datasn &&
	    !(t->dir == ISCSI_DIR_WRITE && expdatasn == t->priv.r2tsn)) {
		violation(out, "SCSI Response ExpDataSN %u, but %u Data-In PDUs came",
			  expdatasn, t->priv.datasn);
		return false;
	}
	return true;
}

static void on_data_in(struct iscsi_session *s, const struct iscsi_hdr *h,
		       struct task_outcome *out)
{
	struct iscsi_task *t = lookup(s, h->itt);
	bool status = h->flags & ISCSI_FLAG_DATA_STATUS;

	iscsi_seq_update(&s->seq, h, status);
	if (!t)
		return;
	t->priv.received += h->data_len;
	t->priv.datasn++;
	if (!status)
		return;
	if (!(h->flags & ISCSI_FLAG_FINAL)) {
		violation(out, "Data-In with status but without the F bit");
		return;
	}
	t->result = 0;
	t->status = h->u.data_in.status;
	t->sense_len = 0;
	set_residual(t, h->flags, h->u.data_in.residual);
	if (counts_agree(t, UINT32_MAX, out))
		answered(s, t, out);
}

static void on_response(struct iscsi_session *s, const struct iscsi_hdr *h,
			const uint8_t *data, struct task_outcome *out)
{
	struct iscsi_task *t;

	iscsi_seq_update(&s->seq, h, true);
	t = lookup(s, h->itt);
	if (!t) {
		violation(out, "SCSI Response for an unknown task");
		return;
	}
	t->result = h->u.rsp.response == 0 ? 0 : -EIO;
	t->status = h->u.rsp.status;
	t->sense_len = 0;
	/* The data segment holds SenseLength (2 bytes), then sense data. */
	if (h->data_len >= 2) {
		uint16_t slen = get_be16(data);
		slen = (uint16_t)MIN(slen, h->data_len - 2);
		t->sense_len = (uint16_t)MIN(slen, sizeof(t->sense));
		memcpy(t->sense, data + 2, t->sense_len);
	}
	set_residual(t, h->flags, h->u.rsp.residual);
	if (t->result < 0)
		log_warn("target failed a command (iSCSI response 0x%02x)",
			 h->u.rsp.response);
	else if (!counts_agree(t, h->u.rsp.expdatasn, out))
		return;
	answered(s, t, out);
}

/* An R2T asks for the next part of a WRITE's data: it continues exactly
 * where the data sent or asked for so far ends (DataSequenceInOrder),
 * comes in R2TSN order, asks for at most MaxBurstLength, and no more
 * than MaxOutstandingR2T of them are being answered at once. Anything
 * else could make us send data twice, out of order, or without end.
 * Its Target Transfer Tag is never the reserved 0xffffffff (RFC 7143
 * §11.8, R2T): Data-Out with that tag is unsolicited data to the target,
 * and its last PDU would never end the R2T here (TX_MARK_R2T_END). */
static void on_r2t(struct iscsi_session *s, const struct iscsi_hdr *h,
		   struct task_outcome *out)
{
	struct iscsi_task *t = lookup(s, h->itt);
	uint32_t off = h->u.r2t.offset, len = h->u.r2t.desired_len;

	iscsi_seq_update(&s->seq, h, false);
	if (!t || t->dir != ISCSI_DIR_WRITE || off > t->len || len > t->len - off ||
	    len == 0 || len > s->params.max_burst) {
		violation(out, "invalid R2T from the target");
		return;
	}
	if (h->ttt == ISCSI_RESERVED_TAG) {
		violation(out, "R2T with the reserved Target Transfer Tag 0xffffffff");
		return;
	}
	if (h->u.r2t.r2tsn != t->priv.r2tsn || off != t->priv.solicited) {
		violation(out, "R2T out of order (R2TSN %u, offset %u; expected %u, %u)",
			  h->u.r2t.r2tsn, off, t->priv.r2tsn, t->priv.solicited);
		return;
	}
	if (t->priv.r2t_active >= s->params.max_outstanding_r2t) {
		violation(out, "more R2Ts outstanding than MaxOutstandingR2T=%u",
			  s->params.max_outstanding_r2t);
		return;
	}
	t->priv.r2tsn++;
	t->priv.r2t_active++;
	t->priv.solicited += len;
	if (queue_data_out(s, t, h->ttt, off, len) < 0)
		lose_connection(out, -ENOMEM, "out of memory");
}

void tasks_pdu(struct iscsi_session *s, const struct iscsi_hdr *h, uint8_t *data,
	       struct task_outcome *out)
{
	switch (h->opcode) {
	case ISCSI_OP_DATA_IN:
		on_data_in(s, h, out);
		break;
	case ISCSI_OP_SCSI_RSP:
		on_response(s, h, data, out);
		break;
	case ISCSI_OP_R2T:
		on_r2t(s, h, out);
		break;
	default:
		break;
	}
}

static void fail_queue(struct task_list *q, int err)
{
	while (q->head) {
		struct iscsi_task *t = q->head;
		task_list_remove(q, t);
		t->priv.queued = false;
		reset_results(t);
		t->result = err;
		t->done(t);
	}
}

void tasks_requeue_inflight(struct iscsi_session *s)
{
	/* Walk backwards so the oldest command ends up first. */
	while (s->inflight.tail) {
		struct iscsi_task *t = s->inflight.tail;
		task_list_remove(&s->inflight, t);
		s->reads_inflight -= t->dir == ISCSI_DIR_READ;
		free_slot(s, t);
		requeue_front(s, t, 0);
	}
	/* The gate's own checks belong to the connection they were for: the
	 * next login asks the gate again. */
	fail_queue(&s->urgent, -ECONNRESET);
}

void tasks_fail_all(struct iscsi_session *s, int err)
{
	tasks_requeue_inflight(s);
	fail_queue(&s->waiting, err);
}
