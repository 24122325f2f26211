/* SPDX-License-Identifier: MIT */
/*
 * iSCSI PDU wire format (RFC 7143 §11): the 48-byte Basic Header Segment,
 * decoded into a typed view for target→initiator PDUs and encoded from
 * typed requests for initiator→target PDUs. The only file that knows
 * byte offsets inside a BHS is pdu.c.
 */
#ifndef ISCSIROOT_PDU_H
#define ISCSIROOT_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISCSI_BHS_LEN 48
#define ISCSI_DIGEST_LEN 4
#define ISCSI_RESERVED_TAG 0xffffffffu
/* DataSegmentLength is 24 bits (RFC 7143 §11.2.1.5). */
#define ISCSI_MAX_DSL 0xffffffu
/* TotalAHSLength counts 4-byte words in one byte. */
#define ISCSI_MAX_AHS_LEN (255u * 4)

enum iscsi_opcode {
	ISCSI_OP_NOP_OUT = 0x00,
	ISCSI_OP_SCSI_CMD = 0x01,
	ISCSI_OP_TASK_MGMT_REQ = 0x02,
	ISCSI_OP_LOGIN_REQ = 0x03,
	ISCSI_OP_TEXT_REQ = 0x04,
	ISCSI_OP_DATA_OUT = 0x05,
	ISCSI_OP_LOGOUT_REQ = 0x06,
	ISCSI_OP_SNACK_REQ = 0x10,
	ISCSI_OP_NOP_IN = 0x20,
	ISCSI_OP_SCSI_RSP = 0x21,
	ISCSI_OP_TASK_MGMT_RSP = 0x22,
	ISCSI_OP_LOGIN_RSP = 0x23,
	ISCSI_OP_TEXT_RSP = 0x24,
	ISCSI_OP_DATA_IN = 0x25,
	ISCSI_OP_LOGOUT_RSP = 0x26,
	ISCSI_OP_R2T = 0x31,
	ISCSI_OP_ASYNC_MSG = 0x32,
	ISCSI_OP_REJECT = 0x3f,
};

/* Flag bits of byte 1, by PDU type. */
#define ISCSI_FLAG_FINAL 0x80
#define ISCSI_FLAG_CMD_READ 0x40
#define ISCSI_FLAG_CMD_WRITE 0x20
#define ISCSI_ATTR_SIMPLE 0x01
#define ISCSI_FLAG_TEXT_CONTINUE 0x40
#define ISCSI_FLAG_LOGIN_TRANSIT 0x80
#define ISCSI_FLAG_LOGIN_CONTINUE 0x40
#define ISCSI_FLAG_DATA_ACK 0x40
#define ISCSI_FLAG_DATA_STATUS 0x01
#define ISCSI_FLAG_RSP_BIDI_OVERFLOW 0x10
#define ISCSI_FLAG_RSP_BIDI_UNDERFLOW 0x08
#define ISCSI_FLAG_RSP_OVERFLOW 0x04
#define ISCSI_FLAG_RSP_UNDERFLOW 0x02

/* Login stages (RFC 7143 §11.12.3). */
enum iscsi_stage {
	ISCSI_STAGE_SECURITY = 0,
	ISCSI_STAGE_OPERATIONAL = 1,
	ISCSI_STAGE_FULL_FEATURE = 3,
};

/* A decoded target→initiator BHS. Fields that a PDU type does not carry
 * stay zero; the union holds the type-specific words 36..47. */
struct iscsi_hdr {
	uint8_t opcode;
	uint8_t flags;          /* byte 1 */
	uint32_t ahs_len;       /* bytes */
	uint32_t data_len;      /* DataSegmentLength, bytes, before padding */
	uint64_t lun;           /* bytes 8..15 (login: ISID and TSIH) */
	uint32_t itt;
	uint32_t ttt;           /* Data-In, R2T, NOP-In, Text, SNACK */
	uint32_t statsn;
	uint32_t expcmdsn;
	uint32_t maxcmdsn;
	union {
		struct {        /* SCSI Response */
			uint8_t response;
			uint8_t status;
			uint32_t expdatasn;
			uint32_t residual;
		} rsp;
		struct {        /* Data-In */
			uint8_t status; /* valid when ISCSI_FLAG_DATA_STATUS */
			uint32_t datasn;
			uint32_t offset;
			uint32_t residual;
		} data_in;
		struct {        /* R2T */
			uint32_t r2tsn;
			uint32_t offset;
			uint32_t desired_len;
		} r2t;
		struct {        /* Login Response */
			uint8_t version_max;
			uint8_t version_active;
			uint8_t status_class;
			uint8_t status_detail;
			uint8_t csg;
			uint8_t nsg;
			uint16_t tsih;
			uint64_t isid;
		} login;
		struct {        /* Logout Response */
			uint8_t response;
			uint16_t time2wait;
			uint16_t time2retain;
		} logout;
		struct {        /* Asynchronous Message */
			uint8_t event;
			uint8_t vcode;
			uint16_t param1;
			uint16_t param2;
			uint16_t param3;
		} async;
		struct {        /* Reject */
			uint8_t reason;
			uint32_t datasn;
		} reject;
		struct {        /* Task Management Function Response */
			uint8_t response;
		} tmf;
	} u;
};

/* Opcode and ITT of a request header, as a Reject PDU carries it back. */
int pdu_request_tag(const uint8_t *bhs, size_t len, uint8_t *opcode, uint32_t *itt);

/* Decodes 48 bytes. Returns 0, or -EBADMSG for an opcode an initiator
 * must never receive. Lengths are returned as sent; the caller caps them. */
int pdu_decode(const uint8_t *bhs, size_t len, struct iscsi_hdr *out);

/* Bytes of padding after a data segment of len bytes. */
static inline uint32_t pdu_pad(uint32_t len)
{
	return (4 - (len & 3)) & 3;
}

/* ---- Requests, encoded into a 48-byte buffer. */

struct iscsi_login_req {
	bool transit;
	bool cont;
	uint8_t csg, nsg;
	uint64_t isid;          /* 48 bits */
	uint16_t tsih;
	uint32_t itt;
	uint16_t cid;
	uint32_t cmdsn;
	uint32_t expstatsn;
	uint32_t data_len;
};
void pdu_encode_login(uint8_t *bhs, const struct iscsi_login_req *r);

struct iscsi_text_req {
	bool immediate;
	bool final;
	bool cont;
	uint32_t itt;
	uint32_t ttt;
	uint32_t cmdsn;
	uint32_t expstatsn;
	uint32_t data_len;
};
void pdu_encode_text(uint8_t *bhs, const struct iscsi_text_req *r);

struct iscsi_scsi_cmd {
	bool immediate;
	bool final;             /* no unsolicited Data-Out follows */
	bool read;
	bool write;
	uint64_t lun;
	uint32_t itt;
	uint32_t edtl;          /* Expected Data Transfer Length */
	uint32_t cmdsn;
	uint32_t expstatsn;
	const uint8_t *cdb;
	uint8_t cdb_len;        /* <= 16; longer CDBs need an AHS we never use */
	uint32_t data_len;      /* immediate data */
};
void pdu_encode_scsi_cmd(uint8_t *bhs, const struct iscsi_scsi_cmd *r);

struct iscsi_data_out {
	bool final;
	uint64_t lun;
	uint32_t itt;
	uint32_t ttt;
	uint32_t expstatsn;
	uint32_t datasn;
	uint32_t offset;
	uint32_t data_len;
};
void pdu_encode_data_out(uint8_t *bhs, const struct iscsi_data_out *r);

struct iscsi_nop_out {
	uint64_t lun;
	uint32_t itt;
	uint32_t ttt;
	uint32_t cmdsn;
	uint32_t expstatsn;
	uint32_t data_len;
};
/* NOP-Out is always sent as an immediate PDU. */
void pdu_encode_nop_out(uint8_t *bhs, const struct iscsi_nop_out *r);

enum iscsi_logout_reason {
	ISCSI_LOGOUT_CLOSE_SESSION = 0,
	ISCSI_LOGOUT_CLOSE_CONNECTION = 1,
};
struct iscsi_logout_req {
	uint8_t reason;
	uint32_t itt;
	uint16_t cid;
	uint32_t cmdsn;
	uint32_t expstatsn;
};
/* Logout is sent immediate so it passes a closed command window. */
void pdu_encode_logout(uint8_t *bhs, const struct iscsi_logout_req *r);

/* Serial number arithmetic, RFC 1982 with SERIAL_BITS = 32. */
static inline bool sn_lt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) < 0;
}

static inline bool sn_le(uint32_t a, uint32_t b)
{
	return a == b || sn_lt(a, b);
}

/* The sequence numbers of a session (RFC 7143 §4.2.2): the next CmdSN
 * we give, the command window the target opens, the next StatSN we
 * expect. */
struct iscsi_seq {
	uint32_t cmdsn, expcmdsn, maxcmdsn, expstatsn;
};
/* Takes the window and StatSN of a PDU from the target: they only move
 * forward, and a MaxCmdSN below ExpCmdSN - 1 is ignored (§4.2.2.1). */
void iscsi_seq_update(struct iscsi_seq *q, const struct iscsi_hdr *h, bool has_statsn);
/* Whether the window lets another command out. */
static inline bool iscsi_seq_open(const struct iscsi_seq *q)
{
	return sn_le(q->cmdsn, q->maxcmdsn);
}

/* RFC names of Login Response status codes, e.g. "authentication
 * failure"; never NULL. */
const char *iscsi_login_status_name(uint8_t status_class, uint8_t detail);
const char *iscsi_opcode_name(uint8_t opcode);
const char *iscsi_reject_reason_name(uint8_t reason);

#endif
