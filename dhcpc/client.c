/* SPDX-License-Identifier: MIT */
/*
 * The DHCPv4 client state machine of RFC 2131 §4.4 for one interface:
 * INIT → SELECTING → REQUESTING → BOUND, INIT-REBOOT → REBOOTING, and the
 * renewal states. Retransmission as §4.1: 4 s doubling to 64 s, ±1 s.
 * DISCOVER offers Rapid Commit (RFC 4039): a server that takes it answers
 * with an ACK that carries option 80, and SELECTING → BOUND at once; any
 * other server's OFFER leads to the four-message exchange as before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "client.h"
#include "io.h"
#include "msg.h"
#include "options.h"

#define MAX_RETRANSMIT_MS 64000
#define JITTER_MS 1000
#define REQUEST_TRIES 4     /* then back to INIT (§3.1 step 5) */
#define REBOOT_TRIES 2      /* then INIT; we keep no earlier lease */
#define RENEW_MIN_MS 60000  /* §4.4.5: retransmit no sooner than 60 s */
#define RECV_BURST 64       /* frames read per wake-up, at most */
#define PACKET_BUF 4096

enum dhcp_input { IN_TIMER, IN_OFFER, IN_ACK, IN_NAK };

struct reply {
	struct dhcp_msg msg;
	struct dhcpc_lease lease;
};

static const char *const state_names[] = {
	[DHCP_STATE_INIT] = "INIT",
	[DHCP_STATE_SELECTING] = "SELECTING",
	[DHCP_STATE_REQUESTING] = "REQUESTING",
	[DHCP_STATE_INIT_REBOOT] = "INIT-REBOOT",
	[DHCP_STATE_REBOOTING] = "REBOOTING",
	[DHCP_STATE_BOUND] = "BOUND",
	[DHCP_STATE_RENEWING] = "RENEWING",
	[DHCP_STATE_REBINDING] = "REBINDING",
	[DHCP_STATE_STOPPED] = "STOPPED",
};

const char *dhcp_state_name(enum dhcp_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

static uint64_t next_random(struct dhcp_client *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

static void set_state(struct dhcp_client *c, enum dhcp_state s)
{
	if (c->state != s)
		log_debug("dhcp %s: %s -> %s", c->cfg.ifname,
			  dhcp_state_name(c->state), dhcp_state_name(s));
	c->state = s;
	c->attempt = 0;
}

/* §4.1: the n-th retransmission waits base·2^n, capped at 64 s, plus a
 * uniform random -1..+1 s (scaled down with a shorter base in tests). */
static int64_t backoff_ms(struct dhcp_client *c)
{
	int64_t base = c->cfg.retransmit_ms, jitter;
	/* called after the send, which counted itself in attempt */
	int shift = MAX(MIN(c->attempt - 1, 5), 0);

	base = MIN(base << shift, (int64_t)MAX_RETRANSMIT_MS);
	jitter = MIN((int64_t)JITTER_MS, c->cfg.retransmit_ms / 4);
	if (jitter > 0)
		base += (int64_t)(next_random(c) % (uint64_t)(2 * jitter + 1)) -
			jitter;
	return base;
}

/* §4.4.5: half the time left until t, but at least 60 s (or t itself). */
static int64_t renew_wait(int64_t now, int64_t t)
{
	int64_t half = (t - now) / 2;

	if (half < RENEW_MIN_MS)
		return t;
	return now + half;
}

static int64_t lease_deadline(const struct dhcp_client *c, uint32_t secs)
{
	if (secs == DHCPC_INFINITE_LEASE)
		return -1;
	return c->sent_ms + (int64_t)secs * 1000;
}

static void new_xid(struct dhcp_client *c)
{
	c->xid = (uint32_t)next_random(c);
	c->start_ms = now_ms();
}

/* ---- Building and sending ---- */

static int put_client_options(struct dhcp_client *c, struct dhcp_obuf *b)
{
	uint8_t id[256];
	size_t id_len = c->cfg.client_id_len;
	int r = 0;

	if (id_len)
		memcpy(id, c->cfg.client_id, id_len);
	else { /* RFC 2132 §9.14: hardware type 1 and the MAC */
		id[0] = DHCP_HTYPE_ETHER;
		memcpy(id + 1, c->cfg.mac, 6);
		id_len = 7;
	}
	r |= dhcp_opt_put(b, DHCP_OPT_CLIENT_ID, id, id_len);
	r |= dhcp_opt_put_u16(b, DHCP_OPT_MAX_SIZE, DHCP_MAX_PACKET);
	r |= dhcp_opt_put(b, DHCP_OPT_PARAM_LIST, dhcp_requested_options,
			  dhcp_requested_options_len);
	if (c->cfg.vendor_class[0])
		r |= dhcp_opt_put(b, DHCP_OPT_VENDOR_CLASS, c->cfg.vendor_class,
				  strlen(c->cfg.vendor_class));
	if (c->cfg.user_class[0])
		r |= dhcp_opt_put(b, DHCP_OPT_USER_CLASS, c->cfg.user_class,
				  strlen(c->cfg.user_class));
	if (c->cfg.hostname[0])
		r |= dhcp_opt_put(b, DHCP_OPT_HOSTNAME, c->cfg.hostname,
				  strlen(c->cfg.hostname));
	return r ? -ENOSPC : 0;
}

/* The options of §4.4.1 table 5 that differ by message and state. */
static int put_state_options(struct dhcp_client *c, uint8_t type,
			     struct dhcp_obuf *b)
{
	int r = dhcp_opt_put_u8(b, DHCP_OPT_MSG_TYPE, type);

	if (c->state == DHCP_STATE_REQUESTING) {
		r |= dhcp_opt_put_addr(b, DHCP_OPT_REQUESTED_IP, c->offer.addr);
		r |= dhcp_opt_put_addr(b, DHCP_OPT_SERVER_ID,
				       c->offer.server_id);
	} else if (c->state == DHCP_STATE_REBOOTING ||
		   (type == DHCPDISCOVER && c->cfg.request_addr.s_addr)) {
		r |= dhcp_opt_put_addr(b, DHCP_OPT_REQUESTED_IP,
				       c->cfg.request_addr);
	}
	if (type == DHCPDISCOVER)   /* RFC 4039 §4: no value */
		r |= dhcp_opt_put(b, DHCP_OPT_RAPID_COMMIT, NULL, 0);
	return r ? -ENOSPC : 0;
}

static bool renewing(const struct dhcp_client *c)
{
	return c->state == DHCP_STATE_RENEWING ||
	       c->state == DHCP_STATE_REBINDING;
}

static int build_message(struct dhcp_client *c, uint8_t type, uint8_t *buf,
			 size_t cap)
{
	struct dhcp_msg m = {
		.op = BOOTREQUEST, .htype = DHCP_HTYPE_ETHER, .hlen = 6,
		.xid = c->xid,
		.secs = (uint16_t)MIN((now_ms() - c->start_ms) / 1000, 65535),
		.flags = c->cfg.broadcast_flag && !renewing(c)
				 ? DHCP_FLAG_BROADCAST : 0,
	};
	struct dhcp_obuf b;
	int hdr;

	if (renewing(c))
		m.ciaddr = c->lease.addr;
	memcpy(m.chaddr, c->cfg.mac, 6);
	hdr = dhcp_msg_encode(&m, buf, cap);
	if (hdr < 0)
		return hdr;
	b = (struct dhcp_obuf){ buf + hdr, cap - (size_t)hdr, 0 };
	if (put_state_options(c, type, &b) < 0 ||
	    put_client_options(c, &b) < 0 || dhcp_opt_finish(&b, (size_t)hdr) < 0)
		return -ENOSPC;
	return hdr + (int)b.len;
}

static void send_message(struct dhcp_client *c, uint8_t type)
{
	uint8_t frame[DHCP_MAX_PACKET];
	uint8_t *payload = frame + DHCP_FRAME_OVERHEAD;
	struct in_addr any = { 0 }, bcast = { .s_addr = INADDR_BROADCAST };
	int len = build_message(c, type, payload,
				sizeof(frame) - DHCP_FRAME_OVERHEAD), r;

	if (len < 0) {
		log_err("dhcp %s: message does not fit", c->cfg.ifname);
		return;
	}
	if (c->state == DHCP_STATE_RENEWING)
		r = dhcp_io_send_unicast(c->cfg.ifname, c->lease.addr,
					 c->lease.server_id, payload,
					 (size_t)len);
	else
		r = dhcp_io_send_broadcast(
			c->src.fd, c->cfg.ifindex, frame,
			dhcp_frame_encode(frame, (size_t)len,
					  renewing(c) ? c->lease.addr : any,
					  bcast));
	if (r < 0)
		log_warn("dhcp %s: send: %s", c->cfg.ifname, strerror(-r));
	else
		log_debug("dhcp %s: sent %s in %s", c->cfg.ifname,
			  type == DHCPDISCOVER ? "DISCOVER" : "REQUEST",
			  dhcp_state_name(c->state));
	c->attempt++;
}

/* ---- Sockets: open while talking, closed while BOUND ---- */

static int open_socket(struct dhcp_client *c)
{
	int fd;

	if (c->src.fd >= 0)
		return 0;
	fd = dhcp_io_open(c->cfg.ifindex);
	if (fd < 0) {
		log_err("dhcp %s: packet socket: %s", c->cfg.ifname,
			strerror(-fd));
		return fd;
	}
	return ev_set_fd(&c->src, fd, EPOLLIN);
}

static void close_socket(struct dhcp_client *c)
{
	int fd = c->src.fd;

	if (fd < 0)
		return;
	ev_set_fd(&c->src, -1, 0);
	dhcp_io_close(fd);
}

/* ---- Transitions ---- */

static void enter_init(struct dhcp_client *c, int64_t delay_ms)
{
	set_state(c, DHCP_STATE_INIT);
	new_xid(c);
	c->src.deadline = now_ms() + delay_ms;
}

static void send_discover(struct dhcp_client *c)
{
	if (c->state == DHCP_STATE_INIT) {
		if (open_socket(c) < 0) {
			c->src.deadline = now_ms() + 1000;
			return;
		}
		set_state(c, DHCP_STATE_SELECTING);
	}
	/* A Rapid Commit ACK counts its lease from here (§4.4.1's "sent"). */
	c->sent_ms = now_ms();
	send_message(c, DHCPDISCOVER);
	c->src.deadline = now_ms() + backoff_ms(c);
}

static void send_request(struct dhcp_client *c, enum dhcp_state s)
{
	if (c->state != s)
		set_state(c, s);
	if (open_socket(c) < 0) {
		c->src.deadline = now_ms() + 1000;
		return;
	}
	c->sent_ms = now_ms();
	send_message(c, DHCPREQUEST);
	c->src.deadline = c->sent_ms + backoff_ms(c);
}

static void enter_bound(struct dhcp_client *c, const struct dhcpc_lease *l)
{
	c->lease = *l;
	c->lease.bound_ms = now_ms();
	c->have_lease = true;
	c->naks = 0;
	close_socket(c);
	set_state(c, DHCP_STATE_BOUND);
	c->src.deadline = lease_deadline(c, c->lease.t1);
	c->t2_ms = lease_deadline(c, c->lease.t2);
	c->expire_ms = lease_deadline(c, c->lease.lease_time);
	log_info("dhcp %s: bound to %s", c->cfg.ifname,
		 inet_ntoa(c->lease.addr));
	c->on_event(c, DHCP_EV_BOUND, c->ctx);
}

/* A NAK, or a lease run out: RFC 2131 would stop using the address, but
 * the root disk is behind it, so it stays configured while we look for a
 * new lease. The owner hears about it. */
static void lose_lease(struct dhcp_client *c, const char *why)
{
	log_warn("dhcp %s: lease of %s %s; keeping the address, discovering",
		 c->cfg.ifname, inet_ntoa(c->lease.addr), why);
	enter_init(c, 0);
	c->on_event(c, DHCP_EV_LOST, c->ctx);
}

static void on_nak(struct dhcp_client *c)
{
	bool was_bound = renewing(c);

	c->naks++;
	log_info("dhcp %s: NAK in %s", c->cfg.ifname, dhcp_state_name(c->state));
	if (was_bound) {
		lose_lease(c, "refused");
		return;
	}
	/* a server that NAKs everything must not make us spin */
	enter_init(c, MIN((int64_t)(c->naks - 1) * 1000, 10000));
}

/* RFC 2131 §4.4.5: T1 starts RENEWING, T2 REBINDING, the end of the
 * lease the search for a new one. */
static void renew_timer(struct dhcp_client *c)
{
	int64_t now = now_ms();

	if (c->expire_ms >= 0 && now >= c->expire_ms) {
		lose_lease(c, "expired");
		return;
	}
	if (c->state == DHCP_STATE_BOUND) {
		new_xid(c);
		send_request(c, DHCP_STATE_RENEWING);
	} else if (c->state == DHCP_STATE_RENEWING && c->t2_ms >= 0 &&
		   now >= c->t2_ms) {
		new_xid(c);
		send_request(c, DHCP_STATE_REBINDING);
	} else {
		send_request(c, c->state);
	}
	if (c->state == DHCP_STATE_RENEWING && c->t2_ms >= 0)
		c->src.deadline = renew_wait(now, c->t2_ms);
	else if (c->expire_ms >= 0)
		c->src.deadline = renew_wait(now, c->expire_ms);
}

static void retry_request(struct dhcp_client *c, int tries)
{
	if (c->attempt >= tries) {
		log_info("dhcp %s: no answer in %s", c->cfg.ifname,
			 dhcp_state_name(c->state));
		enter_init(c, 0);
		return;
	}
	send_request(c, c->state);
}

static void take_offer(struct dhcp_client *c, const struct reply *r)
{
	c->offer = r->lease;
	log_debug("dhcp %s: offer of %s", c->cfg.ifname,
		  inet_ntoa(r->lease.addr));
	send_request(c, DHCP_STATE_REQUESTING);
}

/* The one switch of the machine: what each input does in each state.
 * Inputs a state does not expect are dropped before this (accepts()). */
static void handle_event(struct dhcp_client *c, enum dhcp_input in,
			 const struct reply *r)
{
	switch (c->state) {
	case DHCP_STATE_INIT:
	case DHCP_STATE_SELECTING:
		if (in == IN_TIMER)
			send_discover(c);
		else if (in == IN_OFFER)
			take_offer(c, r);
		else if (in == IN_ACK)  /* with Rapid Commit (classify) */
			enter_bound(c, &r->lease);
		break;
	case DHCP_STATE_INIT_REBOOT:
		send_request(c, DHCP_STATE_REBOOTING);
		break;
	case DHCP_STATE_REQUESTING:
	case DHCP_STATE_REBOOTING:
	case DHCP_STATE_RENEWING:
	case DHCP_STATE_REBINDING:
		if (in == IN_ACK)
			enter_bound(c, &r->lease);
		else if (in == IN_NAK)
			on_nak(c);
		else if (renewing(c))
			renew_timer(c);
		else
			retry_request(c, c->state == DHCP_STATE_REQUESTING
						 ? REQUEST_TRIES : REBOOT_TRIES);
		break;
	case DHCP_STATE_BOUND:
		renew_timer(c);
		break;
	case DHCP_STATE_STOPPED:
		break;
	default:
		abort();
	}
}

/* Whether this state waits for this message type. */
static bool accepts(const struct dhcp_client *c, enum dhcp_input in)
{
	switch (c->state) {
	case DHCP_STATE_SELECTING:
		return in == IN_OFFER || in == IN_ACK;
	case DHCP_STATE_REQUESTING:
	case DHCP_STATE_REBOOTING:
	case DHCP_STATE_RENEWING:
	case DHCP_STATE_REBINDING:
		return in == IN_ACK || in == IN_NAK;
	default:
		return false;
	}
}

/* ---- Receiving: every check that makes a reply ours ---- */

static const char *check_header(const struct dhcp_client *c,
				const struct dhcp_msg *m)
{
	if (m->op != BOOTREPLY)
		return "not a reply";
	if (m->xid != c->xid)
		return "another xid";
	if (m->htype != DHCP_HTYPE_ETHER || m->hlen != 6 ||
	    memcmp(m->chaddr, c->cfg.mac, 6) != 0)
		return "another chaddr";
	return NULL;
}

/* While REQUESTING, only the chosen server may refuse (RFC 2131 §4.3.2:
 * the others treat the REQUEST as a decline of their offers). */
static bool nak_from_other(const struct dhcp_client *c,
			   const struct dhcp_optset *os)
{
	size_t len;
	const uint8_t *v = dhcp_optset_get(os, DHCP_OPT_SERVER_ID, &len);

	return c->state == DHCP_STATE_REQUESTING && v && len == 4 &&
	       get_in_addr(v).s_addr != c->offer.server_id.s_addr;
}

static const char *classify(const struct dhcp_client *c,
			    const struct dhcp_optset *os, struct reply *r,
			    enum dhcp_input *in)
{
	int type = dhcp_optset_msg_type(os);

	if (type < 0)
		return "no message type";
	if (type != DHCPOFFER && type != DHCPACK && type != DHCPNAK)
		return "not OFFER, ACK or NAK";
	*in = type == DHCPOFFER ? IN_OFFER : type == DHCPACK ? IN_ACK : IN_NAK;
	if (!accepts(c, *in))
		return "not expected in this state";
	if (*in == IN_NAK)
		return nak_from_other(c, os) ? "NAK from another server" : NULL;
	if (*in == IN_ACK && c->state == DHCP_STATE_SELECTING) {
		if (!dhcp_optset_rapid_commit(os))
			return "ACK to DISCOVER without Rapid Commit";
		log_debug("dhcp %s: ACK with Rapid Commit", c->cfg.ifname);
	}
	memset(&r->lease, 0, sizeof(r->lease));
	if (dhcp_lease_decode(&r->msg, os, &r->lease) < 0)
		return "no address";
	/* RFC 2131 table 3: OFFER and ACK MUST carry option 54 */
	if (!r->lease.server_id.s_addr)
		return "no server identifier";
	if (*in == IN_ACK && c->state == DHCP_STATE_REQUESTING &&
	    r->lease.server_id.s_addr != c->offer.server_id.s_addr)
		return "ACK from another server";
	snprintf(r->lease.ifname, sizeof(r->lease.ifname), "%s",
		 c->cfg.ifname);
	r->lease.ifindex = c->cfg.ifindex;
	return NULL;
}

void dhcp_client_receive(struct dhcp_client *c, const uint8_t *frame,
			 size_t len, bool check_udp)
{
	struct dhcp_optset os;
	struct reply r;
	enum dhcp_input in = IN_TIMER;
	const uint8_t *payload;
	size_t plen;
	const char *why = NULL;

	if (dhcp_frame_decode(frame, len, check_udp, &payload, &plen) < 0)
		why = "not a DHCP frame";
	else if (dhcp_msg_decode(payload, plen, &r.msg) < 0)
		why = "short message";
	else if (!(why = check_header(c, &r.msg)) &&
		 dhcp_optset_parse(&r.msg, &os) < 0)
		why = "malformed options";
	if (!why)
		why = classify(c, &os, &r, &in);
	if (why) {
		log_debug("dhcp %s: ignoring packet: %s", c->cfg.ifname, why);
		return;
	}
	handle_event(c, in, &r);
}

static void on_io(struct ev_source *src, uint32_t revents)
{
	struct dhcp_client *c = src->ctx;
	uint8_t buf[PACKET_BUF];

	(void)revents;
	for (int i = 0; i < RECV_BURST && c->src.fd >= 0; i++) {
		bool partial = false;
		ssize_t n = dhcp_io_recv(c->src.fd, buf, sizeof(buf), &partial);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n == -EMSGSIZE || n == -EINTR)
			continue;
		if (n < 0) {
			log_warn("dhcp %s: receive: %s", c->cfg.ifname,
				 strerror((int)-n));
			break;
		}
		dhcp_client_receive(c, buf, (size_t)n, !partial);
	}
}

static void on_timer(struct ev_source *src)
{
	struct dhcp_client *c = src->ctx;

	handle_event(c, IN_TIMER, NULL);
}

int dhcp_client_start(struct dhcp_client *c, struct ev_loop *loop,
		      const struct dhcp_client_cfg *cfg,
		      void (*on_event)(struct dhcp_client *, enum dhcp_event,
				       void *),
		      void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->on_event = on_event;
	c->ctx = ctx;
	c->src = (struct ev_source){ .fd = -1, .deadline = -1,
				     .on_io = on_io, .on_timer = on_timer,
				     .ctx = c };
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) !=
	    sizeof(c->rng))
		c->rng = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ull;
	c->rng |= 1; /* xorshift must not start at 0 */
	c->rng ^= (uint64_t)cfg->ifindex << 32;
	int r = ev_add(loop, &c->src);
	if (r < 0)
		return r;
	if (cfg->request_addr.s_addr) {
		set_state(c, DHCP_STATE_INIT_REBOOT);
		new_xid(c);
		c->src.deadline = now_ms();
	} else {
		enter_init(c, 0);
	}
	return 0;
}

void dhcp_client_stop(struct dhcp_client *c)
{
	close_socket(c);
	ev_del(&c->src);
	c->src.deadline = -1;
	set_state(c, DHCP_STATE_STOPPED);
}
