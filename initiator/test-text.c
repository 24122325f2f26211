/* SPDX-License-Identifier: MIT */
/* Text keys: parsing edge cases, TargetAddress forms, and the negotiation
 * rules of RFC 7143 §6.2 and §13 (irrelevant, NotUnderstood, Reject,
 * out-of-range values, AND/OR/min/max, declarations). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iscsi.h"
#include "test.h"
#include "text.h"
#include "util.h"

static int parse(const char *s, size_t len, struct text_pair *p, size_t max, size_t *n)
{
	static char buf[512];

	memcpy(buf, s, len);
	return text_parse(buf, len, p, max, n);
}

static void test_parse(void)
{
	struct text_pair p[4];
	size_t n;

	CHECK_EQ(parse("A=1\0B=two\0", 10, p, 4, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_STR(p[0].key, "A");
	CHECK_STR(p[0].value, "1");
	CHECK_STR(p[1].value, "two");
	CHECK_EQ(parse("A=\0", 3, p, 4, &n), 0);        /* empty value */
	CHECK_STR(p[0].value, "");
	CHECK_EQ(parse("A=b=c\0", 6, p, 4, &n), 0);     /* '=' in a value */
	CHECK_STR(p[0].value, "b=c");
	CHECK_EQ(parse("A=1\0\0\0", 6, p, 4, &n), 0);   /* NUL padding */
	CHECK_EQ(n, 1);
	CHECK_EQ(parse("", 0, p, 4, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(parse("A=1", 3, p, 4, &n), -EBADMSG);  /* no final NUL */
	CHECK_EQ(parse("A1\0", 3, p, 4, &n), -EBADMSG); /* no '=' */
	CHECK_EQ(parse("=1\0", 3, p, 4, &n), -EBADMSG); /* empty key */
	CHECK_EQ(parse("A B=1\0", 6, p, 4, &n), -EBADMSG);
	CHECK_EQ(parse("A=1\0B=2\0", 8, p, 1, &n), -E2BIG);
	char long_key[80];
	memset(long_key, 'K', 64);
	memcpy(long_key + 64, "=1", 3);
	CHECK_EQ(parse(long_key, 67, p, 4, &n), -EBADMSG);
	long_key[63] = '=';
	CHECK_EQ(parse(long_key, 67, p, 4, &n), 0);      /* 63 is the limit */
}

static void test_address(void)
{
	char host[64];
	uint16_t port, tpgt;

	CHECK_EQ(text_parse_address("10.0.0.1:3261,5", host, sizeof(host), &port, &tpgt), 0);
	CHECK_STR(host, "10.0.0.1");
	CHECK_EQ(port, 3261);
	CHECK_EQ(tpgt, 5);
	CHECK_EQ(text_parse_address("10.0.0.1", host, sizeof(host), &port, &tpgt), 0);
	CHECK_EQ(port, 3260);
	CHECK_EQ(tpgt, 0);
	CHECK_EQ(text_parse_address("[fe80::1]:3262,0", host, sizeof(host), &port, &tpgt), 0);
	CHECK_STR(host, "fe80::1");
	CHECK_EQ(port, 3262);
	CHECK_EQ(text_parse_address("[::1],1", host, sizeof(host), &port, &tpgt), 0);
	CHECK_STR(host, "::1");
	CHECK_EQ(port, 3260);
	CHECK_EQ(text_parse_address("san.example.com:3260,1", host, sizeof(host), &port, &tpgt), 0);
	CHECK_STR(host, "san.example.com");
	CHECK_EQ(text_parse_address("[::1", host, sizeof(host), &port, &tpgt), -EBADMSG);
	CHECK_EQ(text_parse_address("[::1]x", host, sizeof(host), &port, &tpgt), -EBADMSG);
	CHECK_EQ(text_parse_address("h:0", host, sizeof(host), &port, &tpgt), -EBADMSG);
	CHECK_EQ(text_parse_address("h:65536", host, sizeof(host), &port, &tpgt), -EBADMSG);
	CHECK_EQ(text_parse_address("h:12a", host, sizeof(host), &port, &tpgt), -EBADMSG);
	CHECK_EQ(text_parse_address("h,x", host, sizeof(host), &port, &tpgt), -EBADMSG);
	CHECK_EQ(text_parse_address(":3260", host, sizeof(host), &port, &tpgt), -EBADMSG);
	CHECK_EQ(text_parse_address("a-very-long-host-name-that-does-not-fit-the-buffer-given.example",
				     host, 16, &port, &tpgt), -EBADMSG);
}

static int apply(struct iscsi_params *res, const struct iscsi_params *offer,
		 const char *k, const char *v)
{
	char err[160];

	return params_apply(res, offer, k, v, err, sizeof(err));
}

static void test_negotiation(void)
{
	struct iscsi_params offer, res;

	params_our_offer(&offer, DIGEST_PREFER_CRC32C, DIGEST_NONE);
	params_rfc_defaults(&res);
	/* Numerical minimum and maximum. */
	CHECK_EQ(apply(&res, &offer, "MaxBurstLength", "262144"), 1);
	CHECK_EQ(res.max_burst, 262144);
	CHECK_EQ(apply(&res, &offer, "FirstBurstLength", "999999999"), -EPROTO);
	CHECK_EQ(apply(&res, &offer, "FirstBurstLength", "511"), -EPROTO);
	CHECK_EQ(apply(&res, &offer, "FirstBurstLength", "65536"), 1);
	CHECK_EQ(res.first_burst, 65536);
	CHECK_EQ(apply(&res, &offer, "DefaultTime2Wait", "20"), 1);
	CHECK_EQ(res.time2wait, 20);                    /* the larger */
	CHECK_EQ(apply(&res, &offer, "MaxOutstandingR2T", "0"), -EPROTO);
	CHECK_EQ(apply(&res, &offer, "MaxOutstandingR2T", "-1"), -EPROTO);
	CHECK_EQ(apply(&res, &offer, "MaxOutstandingR2T", "1x"), -EPROTO);
	CHECK_EQ(apply(&res, &offer, "MaxOutstandingR2T", "4"), 1);
	CHECK_EQ(res.max_outstanding_r2t, 4);
	/* Booleans: InitialR2T is OR, ImmediateData is AND. */
	CHECK_EQ(apply(&res, &offer, "InitialR2T", "Yes"), 1);
	CHECK_EQ(res.initial_r2t, 1);
	CHECK_EQ(apply(&res, &offer, "InitialR2T", "No"), 1);
	CHECK_EQ(res.initial_r2t, 0);
	CHECK_EQ(apply(&res, &offer, "ImmediateData", "No"), 1);
	CHECK_EQ(res.immediate_data, 0);
	CHECK_EQ(apply(&res, &offer, "ImmediateData", "yes"), -EPROTO);
	/* The target's MaxRecvDataSegmentLength is what we may send. */
	CHECK_EQ(apply(&res, &offer, "MaxRecvDataSegmentLength", "8192"), 1);
	CHECK_EQ(res.max_xmit_dsl, 8192);
	/* Digests: one of ours. */
	CHECK_EQ(apply(&res, &offer, "HeaderDigest", "CRC32C"), 1);
	CHECK_EQ(res.header_digest, 1);
	CHECK_EQ(apply(&res, &offer, "DataDigest", "CRC32C"), -EPROTO);
	CHECK_EQ(apply(&res, &offer, "HeaderDigest", "MD5"), -EPROTO);
	/* Declined keys leave the RFC default... */
	params_rfc_defaults(&res);
	CHECK_EQ(apply(&res, &offer, "FirstBurstLength", "Irrelevant"), 1);
	CHECK_EQ(res.first_burst, 65536);
	CHECK_EQ(apply(&res, &offer, "MaxBurstLength", "NotUnderstood"), 1);
	CHECK_EQ(res.max_burst, 262144);
	CHECK_EQ(apply(&res, &offer, "MaxOutstandingR2T", "Reject"), 1);
	CHECK_EQ(res.max_outstanding_r2t, 1);
	/* ...unless we required it. */
	params_our_offer(&offer, DIGEST_CRC32C, DIGEST_NONE);
	CHECK_EQ(apply(&res, &offer, "HeaderDigest", "Reject"), -EPROTO);
	CHECK_EQ(apply(&res, &offer, "HeaderDigest", "None"), -EPROTO);
	/* Not an operational key. */
	CHECK_EQ(apply(&res, &offer, "TargetAlias", "x"), 0);
	/* FirstBurstLength never above MaxBurstLength. */
	params_rfc_defaults(&res);
	res.first_burst = 1 << 20;
	res.max_burst = 1 << 18;
	params_finish(&res, &offer);
	CHECK_EQ(res.first_burst, 1 << 18);
	CHECK_EQ(res.max_recv_dsl, offer.max_recv_dsl);
}

static void test_offer_spells_every_key(void)
{
	static const char *const keys[] = {
		"HeaderDigest=CRC32C,None", "DataDigest=None",
		"MaxRecvDataSegmentLength=262144", "MaxBurstLength=16776192",
		"FirstBurstLength=262144", "InitialR2T=No", "ImmediateData=Yes",
		"MaxOutstandingR2T=16", "DataPDUInOrder=Yes",
		"DataSequenceInOrder=Yes", "ErrorRecoveryLevel=0",
		"DefaultTime2Wait=2", "DefaultTime2Retain=0", "MaxConnections=1",
	};
	struct iscsi_params offer;
	uint8_t buf[1024];
	struct text_out t;

	params_our_offer(&offer, DIGEST_PREFER_CRC32C, DIGEST_NONE);
	text_out_init(&t, buf, sizeof(buf));
	params_add_offer(&offer, &t);
	CHECK(!t.overflow);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		CHECK(memmem(buf, t.len, keys[i], strlen(keys[i]) + 1) != NULL);
	text_out_init(&t, buf, 20);
	params_add_offer(&offer, &t);
	CHECK(t.overflow);
}

/* SendTargets answers: targets in order, each with its portals (at most
 * 8 kept), a long answer read whole, the malformed ones refused. */
static void test_send_targets(void)
{
	static char buf[64 * 1024];
	static struct iscsi_target_entry e[4];
	size_t n, len = 0;
	char long_name[300];

	memcpy(buf, "TargetName=a", 13);
	len = 13;
	for (int i = 0; i < 600; i++)  /* past the 512 pairs of one text_parse */
		len += (size_t)sprintf(buf + len, "TargetAddress=10.0.%d.%d:3260,%d",
				       i / 250, i % 250, i % 3) + 1;
	CHECK_EQ(iscsi_parse_send_targets(buf, len, e, 4, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_STR(e[0].name, "a");
	CHECK_EQ(e[0].nportals, 8);
	CHECK_STR(e[0].portals[7].host, "10.0.0.7");
	CHECK_EQ(e[0].portals[7].tpgt, 1);

	memcpy(buf, "TargetName=a\0TargetName=b\0TargetAddress=[fd00::2]:3261,4\0", 58);
	CHECK_EQ(iscsi_parse_send_targets(buf, 58, e, 4, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(e[0].nportals, 0);
	CHECK_STR(e[1].portals[0].host, "fd00::2");
	CHECK_EQ(e[1].portals[0].port, 3261);
	CHECK_EQ(e[1].portals[0].tpgt, 4);
	memcpy(buf, "TargetName=a\0TargetName=b\0", 26);
	CHECK_EQ(iscsi_parse_send_targets(buf, 26, e, 1, &n), -E2BIG);
	memcpy(buf, "TargetAddress=10.0.0.1\0TargetName=b\0", 37);
	CHECK_EQ(iscsi_parse_send_targets(buf, 37, e, 4, &n), -EBADMSG);
	memset(long_name, 'x', sizeof(long_name));
	memcpy(buf, "TargetName=", 11);
	memcpy(buf + 11, long_name, sizeof(long_name));
	buf[11 + sizeof(long_name)] = 0;
	CHECK_EQ(iscsi_parse_send_targets(buf, 12 + sizeof(long_name), e, 4, &n), -EBADMSG);
}

int main(void)
{
	test_parse();
	test_address();
	test_negotiation();
	test_offer_spells_every_key();
	test_send_targets();
	return test_report("text");
}
