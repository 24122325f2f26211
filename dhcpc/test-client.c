/* SPDX-License-Identifier: MIT */
/*
 * The client state machine with io.c replaced (the link-time seam): sent
 * frames are captured, replies are fed to dhcp_client_receive(), and
 * timers are fired by hand, so no time passes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client.h"
#include "io.h"
#include "msg.h"
#include "options.h"
#include "test.h"

/* ---- The fake io.c ---- */

static uint8_t sent[2048];
static size_t sent_len;
static int sent_unicast, sent_broadcast;

int dhcp_io_open(int ifindex)
{
	(void)ifindex;
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

void dhcp_io_close(int fd)
{
	close(fd);
}

int dhcp_io_send_broadcast(int fd, int ifindex, const uint8_t *frame,
			   size_t len)
{
	(void)fd;
	(void)ifindex;
	memcpy(sent, frame + DHCP_FRAME_OVERHEAD, len - DHCP_FRAME_OVERHEAD);
	sent_len = len - DHCP_FRAME_OVERHEAD;
	sent_broadcast++;
	return 0;
}

int dhcp_io_send_unicast(const char *ifname, struct in_addr src,
			 struct in_addr dst, const uint8_t *payload, size_t len)
{
	(void)ifname;
	(void)src;
	(void)dst;
	memcpy(sent, payload, len);
	sent_len = len;
	sent_unicast++;
	return 0;
}

ssize_t dhcp_io_recv(int fd, uint8_t *buf, size_t cap, bool *csum_partial)
{
	(void)csum_partial;
	(void)fd;
	(void)buf;
	(void)cap;
	return -EAGAIN;
}

/* ---- Helpers ---- */

static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
static const char *reply_server = "10.0.0.1"; /* option 54 of replies */
static int events_bound, events_lost;

static void on_event(struct dhcp_client *c, enum dhcp_event ev, void *ctx)
{
	(void)c;
	(void)ctx;
	if (ev == DHCP_EV_BOUND)
		events_bound++;
	else
		events_lost++;
}

/* Decodes the last message sent; returns its type. */
static int last_sent(struct dhcp_msg *m, struct dhcp_optset *os)
{
	if (dhcp_msg_decode(sent, sent_len, m) < 0 ||
	    dhcp_optset_parse(m, os) < 0)
		return -1;
	return dhcp_optset_msg_type(os);
}

struct reply_spec {
	uint32_t xid;
	int type;              /* -1: no option 53 */
	const uint8_t *chaddr;
	bool truncate;         /* an option running past the end */
	uint32_t lease;
	int rapid_commit;      /* option 80 with this many bytes; -1: none */
};

/* A server reply as a frame from 10.0.0.1:67 to port 68. */
static size_t make_reply(uint8_t *frame, const struct reply_spec *s)
{
	uint8_t *p = frame + DHCP_FRAME_OVERHEAD;
	struct dhcp_msg m = { .op = BOOTREPLY, .htype = 1, .hlen = 6,
			      .xid = s->xid };
	struct dhcp_obuf b;
	struct in_addr sid, mask, any = { 0 };
	uint8_t lease[4];
	size_t len;

	inet_pton(AF_INET, "10.0.0.7", &m.yiaddr);
	inet_pton(AF_INET, reply_server, &sid);
	inet_pton(AF_INET, "255.255.255.0", &mask);
	memcpy(m.chaddr, s->chaddr, 6);
	dhcp_msg_encode(&m, p, 1500);
	b = (struct dhcp_obuf){ p + DHCP_OPTIONS_OFFSET, 1000, 0 };
	if (s->type > 0)
		dhcp_opt_put_u8(&b, DHCP_OPT_MSG_TYPE, (uint8_t)s->type);
	dhcp_opt_put_addr(&b, DHCP_OPT_SERVER_ID, sid);
	dhcp_opt_put_addr(&b, DHCP_OPT_SUBNET_MASK, mask);
	put_be32(lease, s->lease ? s->lease : 3600);
	dhcp_opt_put(&b, DHCP_OPT_LEASE_TIME, lease, 4);
	if (s->rapid_commit >= 0)
		dhcp_opt_put(&b, DHCP_OPT_RAPID_COMMIT, "x", (size_t)s->rapid_commit);
	if (s->truncate) {
		b.p[b.len++] = DHCP_OPT_ROOT_PATH;
		b.p[b.len++] = 40;
		b.p[b.len++] = 'x';
	} else {
		dhcp_opt_finish(&b, DHCP_OPTIONS_OFFSET);
	}
	len = dhcp_frame_encode(frame, DHCP_OPTIONS_OFFSET + b.len, any, sid);
	/* turn the ports round: from the server's 67 to our 68 */
	put_be16(frame + IPV4_HEADER_LEN, DHCP_SERVER_PORT);
	put_be16(frame + IPV4_HEADER_LEN + 2, DHCP_CLIENT_PORT);
	put_be16(frame + IPV4_HEADER_LEN + 6, 0);
	return len;
}

static void feed(struct dhcp_client *c, uint32_t xid, int type,
		 const uint8_t *chaddr, bool truncate, uint32_t lease)
{
	struct reply_spec s = { .xid = xid, .type = type, .chaddr = chaddr,
				.truncate = truncate, .lease = lease, .rapid_commit = -1 };
	uint8_t frame[1600];
	size_t len = make_reply(frame, &s);

	dhcp_client_receive(c, frame, len, true);
}

/* An ACK to DISCOVER, with option 80 of rc_len bytes (-1: none). */
static void feed_rapid_ack(struct dhcp_client *c, int rc_len, uint32_t lease)
{
	struct reply_spec s = { .xid = c->xid, .type = DHCPACK, .chaddr = mac,
				.lease = lease, .rapid_commit = rc_len };
	uint8_t frame[1600];
	size_t len = make_reply(frame, &s);

	dhcp_client_receive(c, frame, len, true);
}

static void fire(struct dhcp_client *c)
{
	c->src.on_timer(&c->src);
}

static void start(struct dhcp_client *c, struct ev_loop *loop,
		  const char *request)
{
	struct dhcp_client_cfg cfg = { .ifindex = 2, .ifname = "eth0",
				       .retransmit_ms = 4000 };

	memcpy(cfg.mac, mac, 6);
	strcpy(cfg.vendor_class, "iscsiroot");
	strcpy(cfg.user_class, "iPXE");
	if (request)
		inet_pton(AF_INET, request, &cfg.request_addr);
	CHECK_EQ(dhcp_client_start(c, loop, &cfg, on_event, NULL), 0);
}

/* ---- Tests ---- */

static void check_discover(void)
{
	struct dhcp_msg m;
	struct dhcp_optset os;
	const uint8_t *v;
	size_t n;

	CHECK_EQ(last_sent(&m, &os), DHCPDISCOVER);
	CHECK_EQ(m.op, BOOTREQUEST);
	CHECK(!memcmp(m.chaddr, mac, 6));
	CHECK_EQ(m.flags, 0);
	CHECK(sent_len >= DHCP_BOOTP_MIN_LEN);
	v = dhcp_optset_get(&os, DHCP_OPT_CLIENT_ID, &n);
	CHECK(v && n == 7 && v[0] == 1 && !memcmp(v + 1, mac, 6));
	v = dhcp_optset_get(&os, DHCP_OPT_PARAM_LIST, &n);
	CHECK(v && n == 13);
	static const uint8_t want[] = { 1, 3, 6, 12, 15, 17, 26, 28, 42, 51,
					54, 119, 121 };
	for (size_t i = 0; v && i < sizeof(want); i++)
		CHECK(memchr(v, want[i], n) != NULL);
	v = dhcp_optset_get(&os, DHCP_OPT_VENDOR_CLASS, &n);
	CHECK(v && n == 9 && !memcmp(v, "iscsiroot", 9));
	v = dhcp_optset_get(&os, DHCP_OPT_USER_CLASS, &n);
	CHECK(v && n == 4 && !memcmp(v, "iPXE", 4));
	CHECK(dhcp_optset_rapid_commit(&os));   /* RFC 4039, offered */
}

static void test_full_exchange(struct ev_loop *loop)
{
	struct dhcp_client c;
	struct dhcp_msg m;
	struct dhcp_optset os;
	uint8_t other[6] = { 1, 2, 3, 4, 5, 6 };
	size_t n;

	start(&c, loop, NULL);
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_SELECTING);
	check_discover();
	/* replies not for us, or broken, change nothing */
	feed(&c, c.xid + 1, DHCPOFFER, mac, false, 0);
	feed(&c, c.xid, DHCPOFFER, other, false, 0);
	feed(&c, c.xid, -1, mac, false, 0);
	feed(&c, c.xid, DHCPOFFER, mac, true, 0);
	feed(&c, c.xid, DHCPACK, mac, false, 0);
	CHECK_EQ(c.state, DHCP_STATE_SELECTING);
	feed(&c, c.xid, DHCPOFFER, mac, false, 0);
	CHECK_EQ(c.state, DHCP_STATE_REQUESTING);
	CHECK_EQ(last_sent(&m, &os), DHCPREQUEST);
	CHECK(dhcp_optset_get(&os, DHCP_OPT_SERVER_ID, &n) && n == 4);
	CHECK(dhcp_optset_get(&os, DHCP_OPT_REQUESTED_IP, &n) && n == 4);
	CHECK(!dhcp_optset_get(&os, DHCP_OPT_RAPID_COMMIT, &n));  /* DISCOVER only */
	CHECK_EQ(m.ciaddr.s_addr, 0);
	feed(&c, c.xid, DHCPACK, mac, false, 100);
	CHECK_EQ(c.state, DHCP_STATE_BOUND);
	CHECK_EQ(events_bound, 1);
	CHECK_STR(inet_ntoa(c.lease.addr), "10.0.0.7");
	CHECK_EQ(c.src.fd, -1); /* no packet socket while bound */
	/* T1 = 50 s after the request */
	CHECK(c.src.deadline - c.sent_ms == 50000);

	/* T1: a unicast REQUEST with ciaddr and no server id */
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_RENEWING);
	CHECK_EQ(sent_unicast, 1);
	CHECK_EQ(last_sent(&m, &os), DHCPREQUEST);
	CHECK_STR(inet_ntoa(m.ciaddr), "10.0.0.7");
	CHECK(!dhcp_optset_get(&os, DHCP_OPT_SERVER_ID, &n));
	CHECK(!dhcp_optset_get(&os, DHCP_OPT_REQUESTED_IP, &n));
	feed(&c, c.xid, DHCPACK, mac, false, 0);
	CHECK_EQ(c.state, DHCP_STATE_BOUND);
	CHECK_EQ(events_bound, 2);

	/* a NAK while renewing: keep the address, discover again */
	fire(&c);
	feed(&c, c.xid, DHCPNAK, mac, false, 0);
	CHECK_EQ(c.state, DHCP_STATE_INIT);
	CHECK_EQ(events_lost, 1);
	dhcp_client_stop(&c);
}

/* T2 without an answer: REBINDING broadcasts; the end of the lease:
 * back to DISCOVER, the owner told, the address not given up. */
static void test_rebind_and_expiry(struct ev_loop *loop)
{
	struct dhcp_client c;
	struct dhcp_msg m;
	struct dhcp_optset os;
	int bcast, lost = events_lost;

	start(&c, loop, NULL);
	fire(&c);
	feed(&c, c.xid, DHCPOFFER, mac, false, 0);
	feed(&c, c.xid, DHCPACK, mac, false, 0);
	CHECK_EQ(c.state, DHCP_STATE_BOUND);
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_RENEWING);
	/* §4.4.5: the next try waits half the time to T2, at least 60 s */
	CHECK(c.src.deadline - now_ms() >= 60000 - 100);
	c.t2_ms = now_ms() - 1;
	bcast = sent_broadcast;
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_REBINDING);
	CHECK_EQ(sent_broadcast, bcast + 1);
	CHECK_EQ(last_sent(&m, &os), DHCPREQUEST);
	CHECK_STR(inet_ntoa(m.ciaddr), "10.0.0.7");
	c.expire_ms = now_ms() - 1;
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_INIT);
	CHECK_EQ(events_lost, lost + 1);
	CHECK(c.have_lease); /* kept for the owner; nothing was removed */
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_SELECTING);
	dhcp_client_stop(&c);
}

static void test_nak_and_backoff(struct ev_loop *loop)
{
	struct dhcp_client c;
	uint32_t xid;

	start(&c, loop, NULL);
	fire(&c);
	/* §4.1: 4 s ±1, then 8 s ±1, ... capped at 64 s ±1 */
	for (int i = 0; i < 7; i++) {
		int64_t wait = c.src.deadline - now_ms();
		int64_t want = i < 5 ? 4000 << i : 64000;
		CHECK(wait >= want - 1000 - 50 && wait <= want + 1000);
		fire(&c);
	}
	feed(&c, c.xid, DHCPOFFER, mac, false, 0);
	CHECK_EQ(c.state, DHCP_STATE_REQUESTING);
	xid = c.xid;
	/* another server's NAK (or ACK) is not an answer to our REQUEST */
	reply_server = "10.0.0.2";
	feed(&c, c.xid, DHCPNAK, mac, false, 0);
	feed(&c, c.xid, DHCPACK, mac, false, 0);
	reply_server = "10.0.0.1";
	CHECK_EQ(c.state, DHCP_STATE_REQUESTING);
	feed(&c, c.xid, DHCPNAK, mac, false, 0);
	CHECK_EQ(c.state, DHCP_STATE_INIT);
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_SELECTING);
	CHECK(c.xid != xid);
	dhcp_client_stop(&c);
}

/* RFC 4039: an ACK to DISCOVER binds at once when it carries Rapid
 * Commit (no value); one without it, or with a value, is dropped; the
 * lease counts from the DISCOVER. The OFFER path stays as it was. */
static void test_rapid_commit(struct ev_loop *loop)
{
	struct dhcp_client c;
	int bound = events_bound, sent = sent_broadcast;

	start(&c, loop, NULL);
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_SELECTING);
	feed_rapid_ack(&c, -1, 100);
	feed_rapid_ack(&c, 1, 100);
	CHECK_EQ(c.state, DHCP_STATE_SELECTING);
	reply_server = "10.0.0.2";      /* any server may commit */
	feed_rapid_ack(&c, 0, 100);
	reply_server = "10.0.0.1";
	CHECK_EQ(c.state, DHCP_STATE_BOUND);
	CHECK_EQ(events_bound, bound + 1);
	CHECK_EQ(sent_broadcast, sent + 1);     /* the DISCOVER, no REQUEST */
	CHECK_STR(inet_ntoa(c.lease.addr), "10.0.0.7");
	CHECK_STR(inet_ntoa(c.lease.server_id), "10.0.0.2");
	CHECK(c.sent_ms > 0 && c.src.deadline - c.sent_ms == 50000);
	/* once bound, another Rapid Commit ACK is no answer to anything */
	feed_rapid_ack(&c, 0, 100);
	CHECK_EQ(events_bound, bound + 1);
	dhcp_client_stop(&c);
}

static void test_init_reboot(struct ev_loop *loop)
{
	struct dhcp_client c;
	struct dhcp_msg m;
	struct dhcp_optset os;
	const uint8_t *v;
	size_t n;

	start(&c, loop, "10.0.0.7");
	CHECK_EQ(c.state, DHCP_STATE_INIT_REBOOT);
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_REBOOTING);
	CHECK_EQ(last_sent(&m, &os), DHCPREQUEST);
	v = dhcp_optset_get(&os, DHCP_OPT_REQUESTED_IP, &n);
	CHECK(v && n == 4 && v[0] == 10 && v[3] == 7);
	CHECK(!dhcp_optset_get(&os, DHCP_OPT_SERVER_ID, &n));
	/* no answer twice: back to INIT, then DISCOVER */
	fire(&c);
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_INIT);
	fire(&c);
	CHECK_EQ(c.state, DHCP_STATE_SELECTING);
	dhcp_client_stop(&c);
}

int main(void)
{
	struct ev_loop loop;

	log_set_level(LOG_ERR);
	if (ev_loop_init(&loop) < 0)
		return 1;
	test_full_exchange(&loop);
	test_rebind_and_expiry(&loop);
	test_nak_and_backoff(&loop);
	test_rapid_commit(&loop);
	test_init_reboot(&loop);
	ev_loop_close(&loop);
	return test_report("test-dhcpc-client");
}
