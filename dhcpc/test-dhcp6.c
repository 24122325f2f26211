/* SPDX-License-Identifier: MIT */
/*
 * The DHCPv6 client with io6.c replaced (the link-time seam): what it
 * sends is captured and decoded, server messages are built here and fed
 * to dhcp6_client_receive(), and timers are fired by hand.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dhcp6.h"
#include "io6.h"
#include "test.h"

/* ---- The fake io6.c ---- */

static uint8_t sent[DHCP6_MAX_PACKET];
static size_t sent_len;
static int nsent;

int dhcp6_io_open(const char *ifname)
{
	(void)ifname;
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int dhcp6_io_send(int fd, int ifindex, const uint8_t *buf, size_t len)
{
	(void)fd;
	(void)ifindex;
	memcpy(sent, buf, len);
	sent_len = len;
	nsent++;
	return 0;
}

ssize_t dhcp6_io_recv(int fd, uint8_t *buf, size_t cap)
{
	(void)fd;
	(void)buf;
	(void)cap;
	return -EAGAIN;
}

/* ---- Server messages ---- */

static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
static const uint8_t our_duid[10] = { 0, 3, 0, 1, 0x52, 0x54, 0, 1, 2, 3 };
static const uint8_t duid_a[] = { 0, 1, 0, 1, 0xaa, 0xaa, 0xaa, 0xaa };
static const uint8_t duid_b[] = { 0, 1, 0, 1, 0xbb, 0xbb, 0xbb, 0xbb };
static const uint8_t other_client[10] = { 0, 3, 0, 1, 0x52, 0x54, 0, 1, 2, 4 };
#define IAID 7
static int bound;

static uint8_t *opt(uint8_t *p, uint16_t code, const void *v, size_t n)
{
	*p++ = (uint8_t)(code >> 8);
	*p++ = (uint8_t)code;
	*p++ = (uint8_t)(n >> 8);
	*p++ = (uint8_t)n;
	if (n)
		memcpy(p, v, n);
	return p + n;
}

struct srv {
	uint8_t type;
	uint32_t xid;
	const uint8_t *duid;      /* server id; NULL: none */
	int pref;                 /* -1: no option 7 */
	bool rapid;
	uint16_t ia_status;       /* in the IA_NA; 0: none */
	bool no_addr;
	uint32_t iaid;            /* 0: ours */
	const char *url;
	const uint8_t *client;    /* NULL: ours */
	bool truncate;
	uint32_t t1, t2;          /* the IA_NA's; 0: the client's choice */
	uint32_t preferred, valid; /* the address's; 0: 60 and 120 s */
	uint8_t addr_last;        /* fd00::(this); 0: fd00::42 */
	const char *search;       /* option 24's bytes; NULL: none */
	size_t search_len;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An Advertise or Reply with one IA_NA for fd00::42. */
static size_t build(uint8_t *buf, const struct srv *s)
{
	uint8_t ia[64] = { 0 }, *q = ia + 12, *p = buf;
	uint8_t iaaddr[24] = { 0xfd, 0, [15] = 0x42, [19] = 60, [23] = 120 };
	uint8_t pref = (uint8_t)s->pref, st[2] = { 0, (uint8_t)s->ia_status };
	uint8_t dns[32] = { 0xfd, 0, [15] = 0x53, 0xfd, 0, [31] = 0x54 };
	uint32_t iaid = s->iaid ? s->iaid : IAID;

	*p++ = s->type;
	*p++ = (uint8_t)(s->xid >> 16);
	*p++ = (uint8_t)(s->xid >> 8);
	*p++ = (uint8_t)s->xid;
	p = opt(p, 1, s->client ? s->client : our_duid, 10);
	if (s->duid)
		p = opt(p, 2, s->duid, sizeof(duid_a));
	if (s->pref >= 0)
		p = opt(p, 7, &pref, 1);
	if (s->rapid)
		p = opt(p, 14, NULL, 0);
	put32(ia, iaid);
	put32(ia + 4, s->t1);
	put32(ia + 8, s->t2);
	if (s->preferred)
		put32(iaaddr + 16, s->preferred);
	if (s->valid)
		put32(iaaddr + 20, s->valid);
	if (s->addr_last)
		iaaddr[15] = s->addr_last;
	if (!s->no_addr)
		q = opt(q, 5, iaaddr, sizeof(iaaddr));
	if (s->ia_status)
		q = opt(q, 13, st, sizeof(st));
	p = opt(p, 3, ia, (size_t)(q - ia));
	p = opt(p, 23, dns, sizeof(dns));
	if (s->url)
		p = opt(p, 59, s->url, strlen(s->url));
	if (s->search)
		p = opt(p, 24, s->search, s->search_len);
	if (s->truncate) { /* an option that claims more than is there */
		p = opt(p, 23, dns, 4);
		p[-5] = 200;
	}
	return (size_t)(p - buf);
}

static void feed(struct dhcp6_client *c, struct srv s)
{
	uint8_t buf[512];

	dhcp6_client_receive(c, buf, build(buf, &s));
}

static uint32_t sent_xid(void)
{
	return (uint32_t)sent[1] << 16 | (uint32_t)sent[2] << 8 | sent[3];
}

/* The option code's value in what was sent last; NULL when absent. */
static const uint8_t *sent_opt(uint16_t code, size_t *len)
{
	for (size_t i = 4; i + 4 <= sent_len;) {
		uint16_t c = (uint16_t)(sent[i] << 8 | sent[i + 1]);
		size_t n = (size_t)(sent[i + 2] << 8 | sent[i + 3]);
		if (c == code) {
			*len = n;
			return sent + i + 4;
		}
		i += 4 + n;
	}
	return NULL;
}

static void on_bound(struct dhcp6_client *c, void *ctx)
{
	(void)c;
	(void)ctx;
	bound++;
}

static void start(struct ev_loop *loop, struct dhcp6_client *c)
{
	struct dhcp6_client_cfg cfg = { .ifindex = IAID, .ifname = "eth9",
					.irt_ms = 1000 };

	memcpy(cfg.mac, mac, 6);
	nsent = bound = 0;
	CHECK_EQ(dhcp6_client_start(c, loop, &cfg, on_bound, NULL), 0);
}

/* ---- Tests ---- */

static void test_solicit(struct ev_loop *loop)
{
	struct dhcp6_client c;
	size_t n;
	const uint8_t *v;
	int64_t t0 = now_ms();

	start(loop, &c);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent[0], DHCP6_SOLICIT);
	v = sent_opt(1, &n);
	CHECK(v && n == 10 && !memcmp(v, our_duid, 10));
	CHECK(sent_opt(14, &n) && n == 0);       /* Rapid Commit */
	CHECK(!sent_opt(2, &n));                 /* no server id */
	v = sent_opt(3, &n);
	CHECK(v && n == 12 && v[3] == IAID);
	v = sent_opt(6, &n);                     /* ORO: 23, 24 and 59 */
	CHECK(v && n == 6 && v[1] == 23 && v[3] == 24 && v[5] == 59);
	CHECK(sent_opt(8, &n) && n == 2);
	/* §18.2.1: the first RT is IRT + (0, 0.1]·IRT */
	CHECK(c.rt_ms > 1000 && c.rt_ms <= 1100);
	CHECK(c.src.deadline >= t0 + 1000 && c.src.deadline <= now_ms() + 1100);
	/* then 2·RT ± 0.1·RT, each with a new RAND, never above MRT */
	for (int i = 0; i < 20; i++) {
		int64_t prev = c.rt_ms;
		c.src.on_timer(&c.src);
		if (prev * 2 <= 3600000)
			CHECK(c.rt_ms >= prev * 2 - prev / 10 &&
			      c.rt_ms <= prev * 2 + prev / 10);
		CHECK(c.rt_ms <= 3600000 + 360000);
	}
	CHECK_EQ(nsent, 21);
	CHECK_EQ(c.state, DHCP6_STATE_SOLICIT);
	dhcp6_client_stop(&c);
}

/* Two Advertises inside the first RT: the higher preference is asked. */
static void test_advertise_request_reply(struct ev_loop *loop)
{
	struct dhcp6_client c;
	uint32_t xid;
	size_t n;
	const uint8_t *v;
	char a[INET6_ADDRSTRLEN];

	start(loop, &c);
	xid = sent_xid();
	feed(&c, (struct srv){ .type = 2, .xid = xid, .duid = duid_a, .pref = 10 });
	feed(&c, (struct srv){ .type = 2, .xid = xid, .duid = duid_b, .pref = 20 });
	feed(&c, (struct srv){ .type = 2, .xid = xid, .duid = duid_a, .pref = 5 });
	CHECK_EQ(c.state, DHCP6_STATE_SOLICIT);  /* collecting until RT */
	CHECK_EQ(nsent, 1);
	c.src.on_timer(&c.src);
	CHECK_EQ(c.state, DHCP6_STATE_REQUEST);
	CHECK_EQ(sent[0], DHCP6_REQUEST);
	v = sent_opt(2, &n);
	CHECK(v && n == sizeof(duid_b) && !memcmp(v, duid_b, n));
	CHECK(!sent_opt(14, &n));
	CHECK(sent_xid() != xid);
	xid = sent_xid();
	/* replies that are not ours, or from the other server */
	feed(&c, (struct srv){ .type = 7, .xid = xid + 1, .duid = duid_b, .pref = -1 });
	feed(&c, (struct srv){ .type = 7, .xid = xid, .duid = duid_a, .pref = -1 });
	feed(&c, (struct srv){ .type = 7, .xid = xid, .pref = -1 });
	feed(&c, (struct srv){ .type = 7, .xid = xid, .duid = duid_b, .pref = -1,
			       .client = other_client });
	feed(&c, (struct srv){ .type = 2, .xid = xid, .duid = duid_b, .pref = 255 });
	feed(&c, (struct srv){ .type = 7, .xid = xid, .duid = duid_b, .pref = -1,
			       .truncate = true });
	CHECK_EQ(bound, 0);
	CHECK_EQ(c.state, DHCP6_STATE_REQUEST);
	feed(&c, (struct srv){ .type = 7, .xid = xid, .duid = duid_b, .pref = -1,
			       .url = "iscsi:[fd00::1]::3260:1:iqn.x:y",
			       .search = "\7example\3org\0\3lab\7example\3org\0",
			       .search_len = 30 });
	CHECK_EQ(bound, 1);
	CHECK_EQ(c.state, DHCP6_STATE_BOUND);
	CHECK_STR(inet_ntop(AF_INET6, &c.lease.addr6, a, sizeof(a)), "fd00::42");
	CHECK_EQ(c.lease.prefix6, 128);
	CHECK(c.lease.v6);
	CHECK_EQ(c.lease.proto, DHCPC_PROTO_DHCP6);
	CHECK_EQ(c.lease.ndns6, 2);
	CHECK_STR(inet_ntop(AF_INET6, &c.lease.dns6[1], a, sizeof(a)), "fd00::54");
	CHECK_STR(c.lease.rootpath, "iscsi:[fd00::1]::3260:1:iqn.x:y");
	CHECK_STR(c.lease.domainsearch, "example.org lab.example.org");
	CHECK_STR(c.lease.ifname, "eth9");
	CHECK_EQ(c.src.fd, -1);                  /* the socket is closed */
	/* T1 and T2 were left to us: 0.5 and 0.8 of the preferred 60 s */
	CHECK_EQ(c.t1_ms, c.lease.bound_ms + 30000);
	CHECK_EQ(c.t2_ms, c.lease.bound_ms + 48000);
	CHECK_EQ(c.expire_ms, c.lease.bound_ms + 120000);
	CHECK_EQ(c.src.deadline, c.t1_ms);
	dhcp6_client_stop(&c);
}

/* Preference 255 is taken at once; a Reply without an address goes back
 * to Solicit; ten Requests unanswered too. */
static void test_pref255_and_failures(struct ev_loop *loop)
{
	struct dhcp6_client c;
	uint32_t xid;

	start(loop, &c);
	xid = sent_xid();
	/* Advertises without an address, or for another IA, do not count */
	feed(&c, (struct srv){ .type = 2, .xid = xid, .duid = duid_a, .pref = 255,
			       .no_addr = true, .ia_status = 2 });
	feed(&c, (struct srv){ .type = 2, .xid = xid, .duid = duid_a, .pref = 255,
			       .iaid = 99 });
	CHECK_EQ(c.state, DHCP6_STATE_SOLICIT);
	CHECK_EQ(c.pref, -1);
	feed(&c, (struct srv){ .type = 2, .xid = xid, .duid = duid_a, .pref = 255 });
	CHECK_EQ(c.state, DHCP6_STATE_REQUEST);
	xid = sent_xid();
	feed(&c, (struct srv){ .type = 7, .xid = xid, .duid = duid_a, .pref = -1,
			       .no_addr = true, .ia_status = 2 });
	CHECK_EQ(c.state, DHCP6_STATE_SOLICIT);
	/* the Solicit after a refusal waits 1 s (no spinning on a server
	 * that refuses every Request) */
	CHECK_EQ(sent[0], DHCP6_REQUEST);
	CHECK(c.src.deadline > now_ms() + 900 && c.src.deadline <= now_ms() + 1000);
	c.src.on_timer(&c.src);
	CHECK_EQ(sent[0], DHCP6_SOLICIT);
	CHECK_EQ(bound, 0);
	feed(&c, (struct srv){ .type = 2, .xid = sent_xid(), .duid = duid_a,
			       .pref = 255 });
	CHECK_EQ(c.state, DHCP6_STATE_REQUEST);
	/* REQ_MAX_RC: 10 transmissions, RT capped near REQ_MAX_RT */
	for (int i = 0; i < 9; i++) {
		c.src.on_timer(&c.src);
		CHECK_EQ(sent[0], DHCP6_REQUEST);
		CHECK(c.rt_ms <= 30000 + 3000);
	}
	c.src.on_timer(&c.src);
	CHECK_EQ(c.state, DHCP6_STATE_SOLICIT);
	CHECK(c.src.deadline > now_ms() + 1900 && c.src.deadline <= now_ms() + 2000);
	c.src.on_timer(&c.src);
	CHECK_EQ(sent[0], DHCP6_SOLICIT);
	dhcp6_client_stop(&c);
}

/* Rapid Commit: a Reply to the Solicit binds only with option 14. */
static void test_rapid_commit(struct ev_loop *loop)
{
	struct dhcp6_client c;
	uint32_t xid;

	start(loop, &c);
	xid = sent_xid();
	feed(&c, (struct srv){ .type = 7, .xid = xid, .duid = duid_a, .pref = -1 });
	CHECK_EQ(bound, 0);
	feed(&c, (struct srv){ .type = 7, .xid = xid, .duid = duid_a, .pref = -1,
			       .rapid = true });
	CHECK_EQ(bound, 1);
	CHECK_EQ(c.state, DHCP6_STATE_BOUND);
	CHECK_EQ(nsent, 1);
	/* nothing moves it after that */
	feed(&c, (struct srv){ .type = 7, .xid = xid, .duid = duid_a, .pref = -1,
			       .rapid = true });
	CHECK_EQ(bound, 1);
	dhcp6_client_stop(&c);
}

static int64_t bind_rapid(struct ev_loop *loop, struct dhcp6_client *c,
			  struct srv s)
{
	start(loop, c);
	s.type = 7;
	s.xid = sent_xid();
	s.duid = duid_a;
	s.pref = -1;
	s.rapid = true;
	feed(c, s);
	CHECK_EQ(c->state, DHCP6_STATE_BOUND);
	return c->lease.bound_ms;
}

/* The IA_NA sent last: 40 bytes with the address held, in an IAADDR
 * whose lifetimes are left to the server. */
static bool sent_holds(uint8_t last)
{
	size_t n;
	const uint8_t *v = sent_opt(3, &n);
	static const uint8_t zero[8];

	return v && n == 40 && v[12] == 0 && v[13] == 5 && v[15] == 24 &&
	       v[16] == 0xfd && v[31] == last && !memcmp(v + 32, zero, 8);
}

/* RFC 8415 §18.2.4-5: Renew at T1 to our server, Rebind at T2 to any,
 * the server that answered the Rebind asked at the next T1. */
static void test_renew_rebind(struct ev_loop *loop)
{
	struct dhcp6_client c;
	int64_t t0 = bind_rapid(loop, &c, (struct srv){ .t1 = 100, .t2 = 160,
							 .preferred = 200,
							 .valid = 300 });
	size_t n;
	const uint8_t *v;
	uint32_t xid;
	int64_t rt;

	CHECK_EQ(c.t1_ms, t0 + 100000);          /* the server's T1, T2 */
	CHECK_EQ(c.t2_ms, t0 + 160000);
	CHECK_EQ(c.expire_ms, t0 + 300000);
	CHECK_EQ(c.src.fd, -1);
	c.src.on_timer(&c.src);                  /* T1 */
	CHECK_EQ(c.state, DHCP6_STATE_RENEW);
	CHECK(c.src.fd >= 0);                    /* the socket again */
	CHECK_EQ(sent[0], DHCP6_RENEW);
	v = sent_opt(2, &n);
	CHECK(v && n == sizeof(duid_a) && !memcmp(v, duid_a, n));
	CHECK(sent_holds(0x42));
	CHECK(c.rt_ms > 9000 && c.rt_ms <= 11000); /* REN_TIMEOUT */
	xid = sent_xid();
	/* a Renew is answered by its server only */
	feed(&c, (struct srv){ .type = 7, .xid = xid, .duid = duid_b, .pref = -1 });
	feed(&c, (struct srv){ .type = 2, .xid = xid, .duid = duid_a, .pref = -1 });
	CHECK_EQ(bound, 1);
	/* retransmissions back off, and stop at T2 */
	c.t2_ms = now_ms() + 15000;
	rt = c.rt_ms;
	c.src.on_timer(&c.src);
	CHECK_EQ(sent[0], DHCP6_RENEW);
	CHECK_EQ(sent_xid(), xid);
	CHECK(c.rt_ms >= 2 * rt - rt / 10 && c.rt_ms <= 2 * rt + rt / 10);
	CHECK_EQ(c.src.deadline, c.t2_ms);
	c.t2_ms = now_ms();
	c.src.on_timer(&c.src);                  /* T2 */
	CHECK_EQ(c.state, DHCP6_STATE_REBIND);
	CHECK_EQ(sent[0], DHCP6_REBIND);
	CHECK(!sent_opt(2, &n));                 /* to any server */
	CHECK(sent_holds(0x42));
	CHECK(sent_xid() != xid);
	/* any server may answer; it extends the lease */
	feed(&c, (struct srv){ .type = 7, .xid = sent_xid(), .duid = duid_b,
			       .pref = -1, .preferred = 200, .valid = 300 });
	CHECK_EQ(bound, 2);
	CHECK_EQ(c.state, DHCP6_STATE_BOUND);
	CHECK_EQ(c.src.fd, -1);
	CHECK(c.expire_ms >= t0 + 300000);
	CHECK_EQ(c.t1_ms, c.lease.bound_ms + 100000);
	c.src.on_timer(&c.src);
	v = sent_opt(2, &n);
	CHECK(sent[0] == DHCP6_RENEW && v && n == sizeof(duid_b) &&
	      !memcmp(v, duid_b, n));
	dhcp6_client_stop(&c);
}

/* NoBinding to a Renew: a Request to that server; a new address taken.
 * Past the valid lifetime with no answer: Solicit, the address kept. */
static void test_renew_refused_and_expiry(struct ev_loop *loop)
{
	struct dhcp6_client c;
	char a[INET6_ADDRSTRLEN];

	bind_rapid(loop, &c, (struct srv){ 0 });
	c.src.on_timer(&c.src);
	CHECK_EQ(c.state, DHCP6_STATE_RENEW);
	feed(&c, (struct srv){ .type = 7, .xid = sent_xid(), .duid = duid_a,
			       .pref = -1, .no_addr = true, .ia_status = 3 });
	CHECK_EQ(c.state, DHCP6_STATE_REQUEST);
	CHECK_EQ(sent[0], DHCP6_REQUEST);
	CHECK(sent_holds(0x42));                 /* as a hint */
	feed(&c, (struct srv){ .type = 7, .xid = sent_xid(), .duid = duid_a,
			       .pref = -1, .addr_last = 0x43 });
	CHECK_EQ(bound, 2);
	CHECK_STR(inet_ntop(AF_INET6, &c.lease.addr6, a, sizeof(a)), "fd00::43");
	/* Renew, Rebind unanswered until the valid lifetime ends */
	c.src.on_timer(&c.src);
	c.t2_ms = now_ms();
	c.src.on_timer(&c.src);
	CHECK_EQ(c.state, DHCP6_STATE_REBIND);
	CHECK(c.src.deadline <= c.expire_ms);
	c.expire_ms = now_ms();
	c.src.on_timer(&c.src);
	CHECK_EQ(c.state, DHCP6_STATE_SOLICIT);
	CHECK_EQ(sent[0], DHCP6_SOLICIT);
	CHECK(sent_holds(0x43));
	CHECK_EQ(bound, 2);
	dhcp6_client_stop(&c);
}

/* Lifetimes: infinite ones are never renewed; a T1 of 1 s waits 5 s; a
 * T1 above T2 voids the IA_NA (§21.4); T1 and T2 stop at the valid
 * lifetime. */
static void test_lifetimes(struct ev_loop *loop)
{
	struct dhcp6_client c;
	struct dhcp6_msg m;
	uint8_t buf[512];
	int64_t t0 = bind_rapid(loop, &c, (struct srv){ .preferred = 0xffffffff,
							 .valid = 0xffffffff });

	CHECK(c.t1_ms == -1 && c.t2_ms == -1 && c.expire_ms == -1);
	CHECK_EQ(c.src.deadline, -1);
	dhcp6_client_stop(&c);
	t0 = bind_rapid(loop, &c, (struct srv){ .t1 = 1, .t2 = 2 });
	CHECK_EQ(c.t1_ms, t0 + 5000);
	CHECK_EQ(c.t2_ms, t0 + 5000);
	dhcp6_client_stop(&c);
	t0 = bind_rapid(loop, &c, (struct srv){ .t1 = 500, .t2 = 900,
						.preferred = 100, .valid = 200 });
	CHECK_EQ(c.t1_ms, t0 + 200000);
	CHECK_EQ(c.t2_ms, t0 + 200000);
	dhcp6_client_stop(&c);
	CHECK_EQ(dhcp6_msg_parse(buf, build(buf, &(struct srv){ .type = 7,
		.pref = -1, .t1 = 50, .t2 = 40 }), IAID, &m), 0);
	CHECK(!m.have_addr);
	CHECK_EQ(dhcp6_msg_parse(buf, build(buf, &(struct srv){ .type = 7,
		.pref = -1, .t1 = 50, .t2 = 0 }), IAID, &m), 0);
	CHECK(m.have_addr && m.t1 == 50 && m.preferred == 60 && m.valid == 120);
}

/* The parser alone: lengths from the network. */
static void test_parse_bounds(void)
{
	struct dhcp6_msg m;
	uint8_t buf[512];
	size_t n = build(buf, &(struct srv){ .type = 7, .xid = 5, .duid = duid_a,
					     .pref = 3, .url = "a\x01" });

	CHECK_EQ(dhcp6_msg_parse(buf, n, IAID, &m), 0);
	CHECK_EQ(m.preference, 3);
	CHECK(m.have_addr);
	CHECK_STR(m.bootfile_url, "");           /* a control byte */
	/* option 24: a name past its option, or not a host name: left out */
	n = build(buf, &(struct srv){ .type = 7, .pref = -1,
				      .search = "\7example\3or", .search_len = 12 });
	CHECK_EQ(dhcp6_msg_parse(buf, n, IAID, &m), 0);
	CHECK_STR(m.domainsearch, "");
	n = build(buf, &(struct srv){ .type = 7, .pref = -1,
				      .search = "\3a b\0", .search_len = 5 });
	CHECK_EQ(dhcp6_msg_parse(buf, n, IAID, &m), 0);
	CHECK_STR(m.domainsearch, "");
	for (size_t cut = 0; cut < n; cut++)
		(void)dhcp6_msg_parse(buf, cut, IAID, &m);
	CHECK_EQ(dhcp6_msg_parse(buf, 3, IAID, &m), -EBADMSG);
	CHECK_EQ(dhcp6_msg_parse(buf, n - 1, IAID, &m), -EBADMSG);
}

int main(void)
{
	struct ev_loop loop;

	log_set_level(LOG_ERR);
	CHECK_EQ(ev_loop_init(&loop), 0);
	test_solicit(&loop);
	test_advertise_request_reply(&loop);
	test_pref255_and_failures(&loop);
	test_rapid_commit(&loop);
	test_renew_rebind(&loop);
	test_renew_refused_and_expiry(&loop);
	test_lifetimes(&loop);
	test_parse_bounds();
	ev_loop_close(&loop);
	return test_report("test-dhcpc-dhcp6");
}
