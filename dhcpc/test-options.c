/* SPDX-License-Identifier: MIT */
/* The DHCP message and option code: overload (52), RFC 3396 split
 * options, option 121 and 119 decoding, the builder, IPv4/UDP framing. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "msg.h"
#include "options.h"
#include "test.h"

/* A reply with the given options area; file/sname optionally filled. */
static size_t make_reply(uint8_t *buf, const uint8_t *opts, size_t len)
{
	struct dhcp_msg m = { .op = BOOTREPLY, .htype = 1, .hlen = 6,
			      .xid = 0x11223344 };

	inet_pton(AF_INET, "10.0.0.7", &m.yiaddr);
	dhcp_msg_encode(&m, buf, 1024);
	memcpy(buf + DHCP_OPTIONS_OFFSET, opts, len);
	return DHCP_OPTIONS_OFFSET + len;
}

static void test_basic(void)
{
	static const uint8_t opts[] = {
		53, 1, DHCPACK, 54, 4, 10, 0, 0, 1, 1, 4, 255, 255, 255, 0,
		3, 8, 10, 0, 0, 1, 10, 0, 0, 2, 6, 4, 10, 0, 0, 53,
		51, 4, 0, 0, 0x0e, 0x10, 26, 2, 0x05, 0xdc, 12, 4, 'h', 'o',
		's', 't', 17, 8, 'i', 's', 'c', 's', 'i', ':', 'x', 0, 255,
	};
	uint8_t buf[1024];
	struct dhcp_msg m;
	struct dhcp_optset os;
	struct dhcpc_lease l = { 0 };
	size_t len = make_reply(buf, opts, sizeof(opts));

	CHECK_EQ(dhcp_msg_decode(buf, len, &m), 0);
	CHECK_EQ(m.xid, 0x11223344);
	CHECK_EQ(dhcp_optset_parse(&m, &os), 0);
	CHECK_EQ(dhcp_optset_msg_type(&os), DHCPACK);
	CHECK_EQ(dhcp_lease_decode(&m, &os, &l), 0);
	CHECK_STR(inet_ntoa(l.addr), "10.0.0.7");
	CHECK_EQ(l.prefix, 24);
	CHECK_STR(inet_ntoa(l.broadcast), "10.0.0.255");
	CHECK_STR(inet_ntoa(l.gateway), "10.0.0.1");
	CHECK_STR(inet_ntoa(l.server_id), "10.0.0.1");
	CHECK_EQ(l.ndns, 1);
	CHECK_EQ(l.lease_time, 3600);
	CHECK_EQ(l.t1, 1800);
	CHECK_EQ(l.t2, 3150);
	CHECK_EQ(l.mtu, 1500);
	CHECK_STR(l.hostname, "host");
	CHECK_STR(l.rootpath, "iscsi:x");
	/* a short buffer or a wrong cookie is refused */
	CHECK_EQ(dhcp_msg_decode(buf, 239, &m), -EBADMSG);
	buf[236] = 0;
	CHECK_EQ(dhcp_msg_decode(buf, len, &m), -EBADMSG);
}

/* RFC 3396: instances of one code are joined, in options-file-sname
 * order, and option 52 moves the rest into file and sname. */
static void test_overload_and_split(void)
{
	static const uint8_t opts[] = {
		53, 1, DHCPOFFER, 52, 1, 3, 17, 4, 'i', 's', 'c', 's', 255,
	};
	uint8_t buf[1024];
	struct dhcp_msg m;
	struct dhcp_optset os;
	struct dhcpc_lease l = { 0 };
	size_t len = make_reply(buf, opts, sizeof(opts));
	size_t n;
	const uint8_t *v;

	/* file (offset 108): more root-path, then sname (44): the rest */
	memcpy(buf + 108, (const uint8_t[]){ 17, 3, 'i', ':', 'a', 54, 4, 10,
					     0, 0, 9, 255 }, 12);
	memcpy(buf + 44, (const uint8_t[]){ 17, 2, ':', 'b', 255 }, 5);
	CHECK_EQ(dhcp_msg_decode(buf, len, &m), 0);
	CHECK_EQ(dhcp_optset_parse(&m, &os), 0);
	v = dhcp_optset_get(&os, 17, &n);
	CHECK(v != NULL);
	CHECK_EQ(n, 9);
	CHECK(v && !memcmp(v, "iscsi:a:b", 9));
	CHECK_EQ(dhcp_lease_decode(&m, &os, &l), 0);
	CHECK_STR(l.rootpath, "iscsi:a:b");
	CHECK_STR(inet_ntoa(l.server_id), "10.0.0.9");
	CHECK_STR(l.filename, ""); /* file held options, not a name */

	/* an option 52 inside file does not loop or count */
	memcpy(buf + 108, (const uint8_t[]){ 52, 1, 3, 255 }, 4);
	CHECK_EQ(dhcp_msg_decode(buf, len, &m), 0);
	CHECK_EQ(dhcp_optset_parse(&m, &os), 0);
	/* an option running past its field is an error */
	memcpy(buf + 44, (const uint8_t[]){ 17, 200, 'x' }, 3);
	CHECK_EQ(dhcp_msg_decode(buf, len, &m), 0);
	CHECK_EQ(dhcp_optset_parse(&m, &os), -EBADMSG);
}

static void test_truncated(void)
{
	static const uint8_t cut[] = { 53, 1, DHCPACK, 12, 10, 'a', 'b' };
	static const uint8_t no_type[] = { 1, 4, 255, 0, 0, 0, 255 };
	static const uint8_t bad_type[] = { 53, 2, 5, 5, 255 };
	uint8_t buf[1024];
	struct dhcp_msg m;
	struct dhcp_optset os;

	dhcp_msg_decode(buf, make_reply(buf, cut, sizeof(cut)), &m);
	CHECK_EQ(dhcp_optset_parse(&m, &os), -EBADMSG);
	dhcp_msg_decode(buf, make_reply(buf, cut, 4), &m);
	CHECK_EQ(dhcp_optset_parse(&m, &os), -EBADMSG);
	dhcp_msg_decode(buf, make_reply(buf, no_type, sizeof(no_type)), &m);
	CHECK_EQ(dhcp_optset_parse(&m, &os), 0);
	CHECK_EQ(dhcp_optset_msg_type(&os), -ENOMSG);
	dhcp_msg_decode(buf, make_reply(buf, bad_type, sizeof(bad_type)), &m);
	CHECK_EQ(dhcp_optset_parse(&m, &os), 0);
	CHECK_EQ(dhcp_optset_msg_type(&os), -ENOMSG);
}

/* RFC 3442 §3 examples, and RFC 3397 with a compression pointer. */
static void test_routes_and_search(void)
{
	static const uint8_t opts[] = {
		53, 1, DHCPACK, 3, 4, 10, 0, 0, 99,
		121, 22, 0, 10, 0, 0, 1,            /* default via 10.0.0.1 */
		24, 192, 168, 5, 10, 0, 0, 2,       /* 192.168.5/24 */
		32, 10, 9, 9, 9, 0, 0, 0, 0,        /* host route, on-link */
		119, 19, 3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l',
		'e', 0, 3, 'd', 'e', 'v', 0xc0, 0,  /* dev + pointer to 0 */
		255,
	};
	uint8_t buf[1024];
	struct dhcp_msg m;
	struct dhcp_optset os;
	struct dhcpc_lease l = { 0 };

	dhcp_msg_decode(buf, make_reply(buf, opts, sizeof(opts)), &m);
	CHECK_EQ(dhcp_optset_parse(&m, &os), 0);
	CHECK_EQ(dhcp_lease_decode(&m, &os, &l), 0);
	CHECK(l.have_classless);
	CHECK_EQ(l.nroutes, 3);
	CHECK_EQ(l.routes[0].prefix, 0);
	CHECK_STR(inet_ntoa(l.routes[0].gateway), "10.0.0.1");
	CHECK_STR(inet_ntoa(l.routes[1].dst), "192.168.5.0");
	CHECK_EQ(l.routes[1].prefix, 24);
	CHECK_EQ(l.routes[2].prefix, 32);
	CHECK_EQ(l.routes[2].gateway.s_addr, 0);
	/* option 3 is ignored when 121 is there (RFC 3442) */
	CHECK_STR(inet_ntoa(l.gateway), "10.0.0.1");
	CHECK_STR(l.domainsearch, "lab.example dev.lab.example");
}

static void test_bad_routes_and_search(void)
{
	static const uint8_t opts[] = {
		53, 1, DHCPACK, 3, 4, 10, 0, 0, 99,
		121, 5, 33, 10, 0, 0, 1,          /* width 33: list dropped */
		119, 4, 0xc0, 0, 0, 0,             /* pointer to itself */
		255,
	};
	uint8_t buf[1024];
	struct dhcp_msg m;
	struct dhcp_optset os;
	struct dhcpc_lease l = { 0 };

	dhcp_msg_decode(buf, make_reply(buf, opts, sizeof(opts)), &m);
	CHECK_EQ(dhcp_optset_parse(&m, &os), 0);
	CHECK_EQ(dhcp_lease_decode(&m, &os, &l), 0);
	CHECK(!l.have_classless);
	CHECK_STR(inet_ntoa(l.gateway), "10.0.0.99");
	CHECK_STR(l.domainsearch, "");
	/* a label with a space or a dot would be two names */
	for (int bad = 0; bad < 2; bad++) {
		uint8_t two[] = { 53, 1, DHCPACK, 119, 5, 3, 'a', bad ? '.' : ' ', 'b', 0, 255 };
		dhcp_msg_decode(buf, make_reply(buf, two, sizeof(two)), &m);
		CHECK_EQ(dhcp_optset_parse(&m, &os), 0);
		CHECK_EQ(dhcp_lease_decode(&m, &os, &l), 0);
		CHECK_STR(l.domainsearch, "");
	}
}

static void test_builder(void)
{
	uint8_t buf[1200], big[600];
	struct dhcp_obuf b = { buf, sizeof(buf), 0 };
	struct dhcp_msg m = { 0 };
	struct dhcp_optset os;
	size_t n;

	memset(big, 'r', sizeof(big));
	CHECK_EQ(dhcp_opt_put(&b, 17, big, sizeof(big)), 0);
	/* 600 bytes: three instances, 255 + 255 + 90 */
	CHECK_EQ(b.len, 606);
	CHECK_EQ(buf[1], 255);
	CHECK_EQ(buf[257 + 1], 255);
	CHECK_EQ(buf[514 + 1], 90);
	CHECK_EQ(dhcp_opt_put_u8(&b, 53, DHCPDISCOVER), 0);
	CHECK_EQ(dhcp_opt_finish(&b, DHCP_OPTIONS_OFFSET), 0);
	m.options = buf;
	m.options_len = b.len;
	CHECK_EQ(dhcp_optset_parse(&m, &os), 0);
	CHECK(dhcp_optset_get(&os, 17, &n) != NULL);
	CHECK_EQ(n, 600);
	CHECK_EQ(dhcp_optset_msg_type(&os), DHCPDISCOVER);
	/* a full buffer says so */
	struct dhcp_obuf small = { buf, 4, 0 };
	CHECK_EQ(dhcp_opt_put(&small, 17, big, 3), -ENOSPC);
	/* padding up to the BOOTP minimum of 300 bytes */
	struct dhcp_obuf p = { buf, sizeof(buf), 0 };
	CHECK_EQ(dhcp_opt_finish(&p, DHCP_OPTIONS_OFFSET), 0);
	CHECK_EQ(p.len, 60);
}

static void test_frame(void)
{
	uint8_t frame[600];
	const uint8_t *payload;
	size_t plen, len;
	struct in_addr src = { 0 }, dst = { .s_addr = INADDR_BROADCAST };

	memset(frame + DHCP_FRAME_OVERHEAD, 0xab, 300);
	len = dhcp_frame_encode(frame, 300, src, dst);
	CHECK_EQ(len, 328);
	/* our frame goes to port 67: a client's decoder says "not ours" */
	CHECK_EQ(dhcp_frame_decode(frame, len, true, &payload, &plen), -ENOENT);
	/* swap the ports to look like a reply */
	frame[21] = 67;
	frame[23] = 68;
	frame[26] = frame[27] = 0; /* no UDP checksum */
	CHECK_EQ(dhcp_frame_decode(frame, len, true, &payload, &plen), 0);
	CHECK_EQ(plen, 300);
	CHECK(payload == frame + DHCP_FRAME_OVERHEAD);
	/* a wrong UDP checksum counts only when it can be checked: a
	 * sender's checksum offload may leave it unfilled */
	frame[26] = 0x12;
	CHECK_EQ(dhcp_frame_decode(frame, len, true, &payload, &plen), -EBADMSG);
	CHECK_EQ(dhcp_frame_decode(frame, len, false, &payload, &plen), 0);
	CHECK_EQ(dhcp_frame_decode(frame, 27, true, &payload, &plen), -EBADMSG);
	frame[10] ^= 1; /* IP header checksum */
	CHECK_EQ(dhcp_frame_decode(frame, len, true, &payload, &plen), -EBADMSG);
	frame[10] ^= 1;
	frame[3] = 0xff; /* total length beyond the frame */
	CHECK_EQ(dhcp_frame_decode(frame, len, true, &payload, &plen), -EBADMSG);
}

int main(void)
{
	test_basic();
	test_overload_and_split();
	test_truncated();
	test_routes_and_search();
	test_bad_routes_and_search();
	test_builder();
	test_frame();
	return test_report("test-dhcpc-options");
}
