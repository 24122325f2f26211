/* SPDX-License-Identifier: MIT */
/* Encoding and decoding of the Basic Header Segment (RFC 7143 §11). */
#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "util.h"

#define ISCSI_IMMEDIATE_BIT 0x40
#define ISCSI_OPCODE_MASK 0x3f

/* Bytes 0..19 are shared by every PDU type (RFC 7143 §11.2.1). */
static void decode_common(const uint8_t *b, struct iscsi_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->opcode = b[0] & ISCSI_OPCODE_MASK;
	h->flags = b[1];
	h->ahs_len = (uint32_t)b[4] * 4;
	h->data_len = get_be24(b + 5);
	h->lun = get_be64(b + 8);
	h->itt = get_be32(b + 16);
}

/* StatSN, ExpCmdSN, MaxCmdSN at 24, 28 and 32: every response type. */
static void decode_sn(const uint8_t *b, struct iscsi_hdr *h)
{
	h->statsn = get_be32(b + 24);
	h->expcmdsn = get_be32(b + 28);
	h->maxcmdsn = get_be32(b + 32);
}

int pdu_decode(const uint8_t *b, size_t len, struct iscsi_hdr *h)
{
	if (len < ISCSI_BHS_LEN)
		return -EBADMSG;
	decode_common(b, h);
	decode_sn(b, h);
	switch (h->opcode) {
	case ISCSI_OP_NOP_IN:
	case ISCSI_OP_TEXT_RSP:
		h->ttt = get_be32(b + 20);
		break;
	case ISCSI_OP_SCSI_RSP:
		h->u.rsp.response = b[2];
		h->u.rsp.status = b[3];
		h->u.rsp.expdatasn = get_be32(b + 36);
		h->u.rsp.residual = get_be32(b + 44);
		break;
	case ISCSI_OP_DATA_IN:
		h->ttt = get_be32(b + 20);
		h->u.data_in.status = b[3];
		h->u.data_in.datasn = get_be32(b + 36);
		h->u.data_in.offset = get_be32(b + 40);
		h->u.data_in.residual = get_be32(b + 44);
		break;
	case ISCSI_OP_R2T:
		h->ttt = get_be32(b + 20);
		h->u.r2t.r2tsn = get_be32(b + 36);
		h->u.r2t.offset = get_be32(b + 40);
		h->u.r2t.desired_len = get_be32(b + 44);
		break;
	case ISCSI_OP_LOGIN_RSP:
		h->u.login.version_max = b[2];
		h->u.login.version_active = b[3];
		h->u.login.csg = (b[1] >> 2) & 3;
		h->u.login.nsg = b[1] & 3;
		h->u.login.isid = get_be64(b + 8) >> 16;
		h->u.login.tsih = get_be16(b + 14);
		h->u.login.status_class = b[36];
		h->u.login.status_detail = b[37];
		h->lun = 0;
		break;
	case ISCSI_OP_LOGOUT_RSP:
		h->u.logout.response = b[2];
		h->u.logout.time2wait = get_be16(b + 40);
		h->u.logout.time2retain = get_be16(b + 42);
		break;
	case ISCSI_OP_ASYNC_MSG:
		h->u.async.event = b[36];
		h->u.async.vcode = b[37];
		h->u.async.param1 = get_be16(b + 38);
		h->u.async.param2 = get_be16(b + 40);
		h->u.async.param3 = get_be16(b + 42);
		break;
	case ISCSI_OP_REJECT:
		h->u.reject.reason = b[2];
		h->u.reject.datasn = get_be32(b + 36);
		break;
	case ISCSI_OP_TASK_MGMT_RSP:
		h->u.tmf.response = b[2];
		break;
	default:
		return -EBADMSG;
	}
	return 0;
}

int pdu_request_tag(const uint8_t *b, size_t len, uint8_t *opcode, uint32_t *itt)
{
	if (len < ISCSI_BHS_LEN)
		return -EBADMSG;
	*opcode = b[0] & ISCSI_OPCODE_MASK;
	*itt = get_be32(b + 16);
	return 0;
}

static void encode_common(uint8_t *b, uint8_t opcode, bool immediate,
			  uint8_t flags, uint32_t data_len, uint32_t itt)
{
	memset(b, 0, ISCSI_BHS_LEN);
	b[0] = (uint8_t)(opcode | (immediate ? ISCSI_IMMEDIATE_BIT : 0));
	b[1] = flags;
	put_be24(b + 5, data_len);
	put_be32(b + 16, itt);
}

void pdu_encode_login(uint8_t *b, const struct iscsi_login_req *r)
{
	uint8_t flags = (uint8_t)((r->csg & 3) << 2 | (r->nsg & 3));

	if (r->transit)
		flags |= ISCSI_FLAG_LOGIN_TRANSIT;
	if (r->cont)
		flags |= ISCSI_FLAG_LOGIN_CONTINUE;
	/* Login requests are always immediate (RFC 7143 §11.12). */
	encode_common(b, ISCSI_OP_LOGIN_REQ, true, flags, r->data_len, r->itt);
	b[2] = 0; /* Version-max */
	b[3] = 0; /* Version-min */
	put_be64(b + 8, r->isid << 16 | r->tsih);
	put_be16(b + 20, r->cid);
	put_be32(b + 24, r->cmdsn);
	put_be32(b + 28, r->expstatsn);
}

void pdu_encode_text(uint8_t *b, const struct iscsi_text_req *r)
{
	uint8_t flags = (r->final ? ISCSI_FLAG_FINAL : 0) |
			(r->cont ? ISCSI_FLAG_TEXT_CONTINUE : 0);

	encode_common(b, ISCSI_OP_TEXT_REQ, r->immediate, flags, r->data_len,
		      r->itt);
	put_be32(b + 20, r->ttt);
	put_be32(b + 24, r->cmdsn);
	put_be32(b + 28, r->expstatsn);
}

void pdu_encode_scsi_cmd(uint8_t *b, const struct iscsi_scsi_cmd *r)
{
	uint8_t flags = ISCSI_ATTR_SIMPLE;

	if (r->final)
		flags |= ISCSI_FLAG_FINAL;
	if (r->read)
		flags |= ISCSI_FLAG_CMD_READ;
	if (r->write)
		flags |= ISCSI_FLAG_CMD_WRITE;
	encode_common(b, ISCSI_OP_SCSI_CMD, r->immediate, flags, r->data_len,
		      r->itt);
	put_be64(b + 8, r->lun);
	put_be32(b + 20, r->edtl);
	put_be32(b + 24, r->cmdsn);
	put_be32(b + 28, r->expstatsn);
	memcpy(b + 32, r->cdb, MIN(r->cdb_len, 16));
}

void pdu_encode_data_out(uint8_t *b, const struct iscsi_data_out *r)
{
	encode_common(b, ISCSI_OP_DATA_OUT, false,
		      r->final ? ISCSI_FLAG_FINAL : 0, r->data_len, r->itt);
	put_be64(b + 8, r->lun);
	put_be32(b + 20, r->ttt);
	put_be32(b + 28, r->expstatsn);
	put_be32(b + 36, r->datasn);
	put_be32(b + 40, r->offset);
}

void pdu_encode_nop_out(uint8_t *b, const struct iscsi_nop_out *r)
{
	encode_common(b, ISCSI_OP_NOP_OUT, true, ISCSI_FLAG_FINAL, r->data_len,
		      r->itt);
	put_be64(b + 8, r->lun);
	put_be32(b + 20, r->ttt);
	put_be32(b + 24, r->cmdsn);
	put_be32(b + 28, r->expstatsn);
}

void pdu_encode_logout(uint8_t *b, const struct iscsi_logout_req *r)
{
	encode_common(b, ISCSI_OP_LOGOUT_REQ, true,
		      (uint8_t)(ISCSI_FLAG_FINAL | (r->reason & 0x7f)), 0, r->itt);
	put_be16(b + 20, r->cid);
	put_be32(b + 24, r->cmdsn);
	put_be32(b + 28, r->expstatsn);
}

struct code_name {
	uint16_t code;
	const char *name;
};

/* RFC 7143 §11.13.5 */
static const struct code_name login_status_names[] = {
	{ 0x0000, "success" },
	{ 0x0101, "target moved temporarily" },
	{ 0x0102, "target moved permanently" },
	{ 0x0200, "initiator error" },
	{ 0x0201, "authentication failure" },
	{ 0x0202, "authorization failure" },
	{ 0x0203, "target not found" },
	{ 0x0204, "target removed" },
	{ 0x0205, "unsupported version" },
	{ 0x0206, "too many connections" },
	{ 0x0207, "missing parameter" },
	{ 0x0208, "can't include in session" },
	{ 0x0209, "session type not supported" },
	{ 0x020a, "session does not exist" },
	{ 0x020b, "invalid request during login" },
	{ 0x0300, "target error" },
	{ 0x0301, "service unavailable" },
	{ 0x0302, "out of resources" },
};

static const char *find_name(const struct code_name *t, size_t n,
			     uint16_t code, const char *fallback)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return fallback;
}

const char *iscsi_login_status_name(uint8_t status_class, uint8_t detail)
{
	static const char *class_names[] = { "success", "redirection",
					     "initiator error", "target error" };
	const char *fallback = status_class < 4 ? class_names[status_class]
						: "unknown status class";

	return find_name(login_status_names, ARRAY_SIZE(login_status_names),
			 (uint16_t)(status_class << 8 | detail), fallback);
}

static const struct code_name opcode_names[] = {
	{ ISCSI_OP_NOP_OUT, "NOP-Out" },
	{ ISCSI_OP_SCSI_CMD, "SCSI Command" },
	{ ISCSI_OP_TASK_MGMT_REQ, "Task Management Request" },
	{ ISCSI_OP_LOGIN_REQ, "Login Request" },
	{ ISCSI_OP_TEXT_REQ, "Text Request" },
	{ ISCSI_OP_DATA_OUT, "SCSI Data-Out" },
	{ ISCSI_OP_LOGOUT_REQ, "Logout Request" },
	{ ISCSI_OP_SNACK_REQ, "SNACK Request" },
	{ ISCSI_OP_NOP_IN, "NOP-In" },
	{ ISCSI_OP_SCSI_RSP, "SCSI Response" },
	{ ISCSI_OP_TASK_MGMT_RSP, "Task Management Response" },
	{ ISCSI_OP_LOGIN_RSP, "Login Response" },
	{ ISCSI_OP_TEXT_RSP, "Text Response" },
	{ ISCSI_OP_DATA_IN, "SCSI Data-In" },
	{ ISCSI_OP_LOGOUT_RSP, "Logout Response" },
	{ ISCSI_OP_R2T, "R2T" },
	{ ISCSI_OP_ASYNC_MSG, "Asynchronous Message" },
	{ ISCSI_OP_REJECT, "Reject" },
};

const char *iscsi_opcode_name(uint8_t opcode)
{
	return find_name(opcode_names, ARRAY_SIZE(opcode_names), opcode,
			 "unknown opcode");
}

/* RFC 7143 §11.17.1 */
static const struct code_name reject_names[] = {
	{ 0x02, "data digest error" },
	{ 0x03, "SNACK reject" },
	{ 0x04, "protocol error" },
	{ 0x05, "command not supported" },
	{ 0x06, "immediate command reject" },
	{ 0x07, "task in progress" },
	{ 0x08, "invalid data ack" },
	{ 0x09, "invalid PDU field" },
	{ 0x0a, "long operation reject" },
	{ 0x0b, "deprecated" },
	{ 0x0c, "waiting for logout" },
};

const char *iscsi_reject_reason_name(uint8_t reason)
{
	return find_name(reject_names, ARRAY_SIZE(reject_names), reason,
			 "unknown reason");
}

void iscsi_seq_update(struct iscsi_seq *q, const struct iscsi_hdr *h, bool has_statsn)
{
	if (has_statsn && sn_le(q->expstatsn, h->statsn + 1))
		q->expstatsn = h->statsn + 1;
	if (sn_lt(h->maxcmdsn, h->expcmdsn - 1))
		return;
	if (sn_lt(q->expcmdsn, h->expcmdsn))
		q->expcmdsn = h->expcmdsn;
	if (sn_lt(q->maxcmdsn, h->maxcmdsn))
		q->maxcmdsn = h->maxcmdsn;
}
