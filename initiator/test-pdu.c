/* SPDX-License-Identifier: MIT */
/* PDU codec: encoded requests have the RFC 7143 §11 layout byte for byte;
 * decoded responses give every field back; bad input is refused. */
#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "test.h"
#include "util.h"

static void test_scsi_cmd_layout(void)
{
	uint8_t b[ISCSI_BHS_LEN], cdb[16] = { 0x28, 0, 0, 0, 0x10, 0, 0, 0, 8, 0 };
	struct iscsi_scsi_cmd c = {
		.final = true, .read = true, .lun = 0x0001000000000000ull,
		.itt = 0x01020304, .edtl = 4096, .cmdsn = 7, .expstatsn = 9,
		.cdb = cdb, .cdb_len = 10, .data_len = 0,
	};

	pdu_encode_scsi_cmd(b, &c);
	CHECK_EQ(b[0], 0x01);                   /* not immediate */
	CHECK_EQ(b[1], 0x80 | 0x40 | 0x01);     /* F, R, SIMPLE */
	CHECK_EQ(get_be24(b + 5), 0);
	CHECK_EQ(get_be64(b + 8), 0x0001000000000000ull);
	CHECK_EQ(get_be32(b + 16), 0x01020304);
	CHECK_EQ(get_be32(b + 20), 4096);
	CHECK_EQ(get_be32(b + 24), 7);
	CHECK_EQ(get_be32(b + 28), 9);
	CHECK(memcmp(b + 32, cdb, 16) == 0);

	c.immediate = true;
	c.read = false;
	c.write = true;
	c.final = false;
	c.data_len = 0x123456;
	pdu_encode_scsi_cmd(b, &c);
	CHECK_EQ(b[0], 0x41);
	CHECK_EQ(b[1], 0x20 | 0x01);
	CHECK_EQ(get_be24(b + 5), 0x123456);
}

static void test_login_layout(void)
{
	uint8_t b[ISCSI_BHS_LEN];
	struct iscsi_login_req r = {
		.transit = true, .csg = 1, .nsg = 3, .isid = 0x80123456789aull,
		.tsih = 0x0102, .itt = 5, .cid = 0x0304, .cmdsn = 0x10,
		.expstatsn = 0x20, .data_len = 300,
	};

	pdu_encode_login(b, &r);
	CHECK_EQ(b[0], 0x43);                   /* immediate, opcode 3 */
	CHECK_EQ(b[1], 0x80 | (1 << 2) | 3);
	CHECK_EQ(b[2], 0);
	CHECK_EQ(b[3], 0);
	CHECK_EQ(get_be24(b + 5), 300);
	CHECK_EQ(b[8], 0x80);
	CHECK_EQ(get_be32(b + 8) >> 0, 0x80123456u);
	CHECK_EQ(get_be16(b + 12), 0x789a);
	CHECK_EQ(get_be16(b + 14), 0x0102);
	CHECK_EQ(get_be16(b + 20), 0x0304);
	CHECK_EQ(get_be32(b + 24), 0x10);
	CHECK_EQ(get_be32(b + 28), 0x20);
}

static void test_other_requests(void)
{
	uint8_t b[ISCSI_BHS_LEN];

	pdu_encode_data_out(b, &(struct iscsi_data_out){
		.final = true, .lun = 7, .itt = 1, .ttt = 2, .expstatsn = 3,
		.datasn = 4, .offset = 5, .data_len = 6 });
	CHECK_EQ(b[0], 0x05);
	CHECK_EQ(b[1], 0x80);
	CHECK_EQ(get_be64(b + 8), 7);
	CHECK_EQ(get_be32(b + 20), 2);
	CHECK_EQ(get_be32(b + 24), 0);          /* reserved in Data-Out */
	CHECK_EQ(get_be32(b + 28), 3);
	CHECK_EQ(get_be32(b + 36), 4);
	CHECK_EQ(get_be32(b + 40), 5);
	CHECK_EQ(get_be24(b + 5), 6);

	pdu_encode_nop_out(b, &(struct iscsi_nop_out){
		.itt = ISCSI_RESERVED_TAG, .ttt = 0x99, .cmdsn = 1, .expstatsn = 2,
		.data_len = 4 });
	CHECK_EQ(b[0], 0x40);
	CHECK_EQ(b[1], 0x80);
	CHECK_EQ(get_be32(b + 16), ISCSI_RESERVED_TAG);
	CHECK_EQ(get_be32(b + 20), 0x99);

	pdu_encode_logout(b, &(struct iscsi_logout_req){
		.reason = ISCSI_LOGOUT_CLOSE_SESSION, .itt = 3, .cid = 1,
		.cmdsn = 4, .expstatsn = 5 });
	CHECK_EQ(b[0], 0x46);
	CHECK_EQ(b[1], 0x80);
	CHECK_EQ(get_be16(b + 20), 1);

	pdu_encode_text(b, &(struct iscsi_text_req){
		.final = true, .itt = 1, .ttt = ISCSI_RESERVED_TAG, .cmdsn = 2,
		.data_len = 16 });
	CHECK_EQ(b[0], 0x04);
	CHECK_EQ(b[1], 0x80);
	CHECK_EQ(get_be32(b + 20), ISCSI_RESERVED_TAG);
}

/* Responses as tgtd sends them (captured with the stress tool). */
static void test_decode_responses(void)
{
	uint8_t b[ISCSI_BHS_LEN] = { 0 };
	struct iscsi_hdr h;

	b[0] = 0x25;    /* Data-In with status */
	b[1] = 0x80 | 0x02 | 0x01;
	b[3] = 0x00;
	put_be24(b + 5, 512);
	put_be64(b + 8, 0x0001000000000000ull);
	put_be32(b + 16, 0x00070003);
	put_be32(b + 20, ISCSI_RESERVED_TAG);
	put_be32(b + 24, 100);
	put_be32(b + 28, 200);
	put_be32(b + 32, 263);
	put_be32(b + 36, 3);
	put_be32(b + 40, 1536);
	put_be32(b + 44, 512);
	CHECK_EQ(pdu_decode(b, sizeof(b), &h), 0);
	CHECK_EQ(h.opcode, ISCSI_OP_DATA_IN);
	CHECK_EQ(h.data_len, 512);
	CHECK_EQ(h.itt, 0x00070003);
	CHECK_EQ(h.statsn, 100);
	CHECK_EQ(h.expcmdsn, 200);
	CHECK_EQ(h.maxcmdsn, 263);
	CHECK_EQ(h.u.data_in.datasn, 3);
	CHECK_EQ(h.u.data_in.offset, 1536);
	CHECK_EQ(h.u.data_in.residual, 512);
	CHECK(h.flags & ISCSI_FLAG_DATA_STATUS);

	memset(b, 0, sizeof(b));
	b[0] = 0x23;    /* Login Response: T, CSG 1, NSG 3 */
	b[1] = 0x80 | (1 << 2) | 3;
	b[3] = 0;
	put_be64(b + 8, 0x80123456789a0001ull);
	b[36] = 2;
	b[37] = 1;
	CHECK_EQ(pdu_decode(b, sizeof(b), &h), 0);
	CHECK_EQ(h.u.login.csg, 1);
	CHECK_EQ(h.u.login.nsg, 3);
	CHECK_EQ(h.u.login.isid, 0x80123456789aull);
	CHECK_EQ(h.u.login.tsih, 1);
	CHECK_EQ(h.u.login.status_class, 2);
	CHECK_EQ(h.u.login.status_detail, 1);
	CHECK_STR(iscsi_login_status_name(2, 1), "authentication failure");
	CHECK_STR(iscsi_login_status_name(2, 0x7f), "initiator error");
	CHECK_STR(iscsi_login_status_name(9, 9), "unknown status class");

	memset(b, 0, sizeof(b));
	b[0] = 0x32;    /* Async: logout requested in 7 s */
	b[36] = 1;
	put_be16(b + 38, 0);
	put_be16(b + 40, 2);
	put_be16(b + 42, 7);
	CHECK_EQ(pdu_decode(b, sizeof(b), &h), 0);
	CHECK_EQ(h.u.async.event, 1);
	CHECK_EQ(h.u.async.param2, 2);
	CHECK_EQ(h.u.async.param3, 7);

	memset(b, 0, sizeof(b));
	b[0] = 0x31;    /* R2T */
	put_be32(b + 20, 0x55);
	put_be32(b + 36, 1);
	put_be32(b + 40, 65536);
	put_be32(b + 44, 262144);
	b[4] = 2;       /* 8 bytes of AHS */
	CHECK_EQ(pdu_decode(b, sizeof(b), &h), 0);
	CHECK_EQ(h.ttt, 0x55);
	CHECK_EQ(h.ahs_len, 8);
	CHECK_EQ(h.u.r2t.offset, 65536);
	CHECK_EQ(h.u.r2t.desired_len, 262144);
}

static void test_decode_rejects(void)
{
	uint8_t b[ISCSI_BHS_LEN] = { 0 };
	struct iscsi_hdr h;

	CHECK_EQ(pdu_decode(b, ISCSI_BHS_LEN - 1, &h), -EBADMSG);
	/* Requests (initiator opcodes) never come from a target. */
	for (uint8_t op = 0; op < 0x20; op++) {
		b[0] = op;
		CHECK_EQ(pdu_decode(b, sizeof(b), &h), -EBADMSG);
	}
	b[0] = 0x2a;
	CHECK_EQ(pdu_decode(b, sizeof(b), &h), -EBADMSG);
	b[0] = 0x40 | 0x21; /* the I bit is ignored on responses */
	CHECK_EQ(pdu_decode(b, sizeof(b), &h), 0);
	CHECK_EQ(h.opcode, ISCSI_OP_SCSI_RSP);
}

static void test_serial_numbers(void)
{
	CHECK(sn_lt(1, 2));
	CHECK(!sn_lt(2, 1));
	CHECK(sn_lt(0xffffffffu, 0));           /* wraps */
	CHECK(!sn_lt(0, 0xffffffffu));
	CHECK(sn_le(5, 5));
	CHECK(sn_lt(0x7fffffffu, 0x80000000u));
	CHECK_EQ(pdu_pad(0), 0);
	CHECK_EQ(pdu_pad(1), 3);
	CHECK_EQ(pdu_pad(4), 0);
	CHECK_EQ(pdu_pad(7), 1);
}

int main(void)
{
	test_scsi_cmd_layout();
	test_login_layout();
	test_other_requests();
	test_decode_responses();
	test_decode_rejects();
	test_serial_numbers();
	return test_report("pdu");
}
