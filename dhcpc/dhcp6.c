/* SPDX-License-Identifier: MIT */
/*
 * The DHCPv6 client of one interface (see dhcp6.h). Every decision is in
 * handle_event(); classify() drops whatever is not a reply to us that
 * this state waits for, naming the reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "dhcp6.h"
#include "io6.h"

/* RFC 8415 §7.6 */
#define SOL_MAX_RT_MS 3600000
#define REQ_MAX_RT_MS 30000
#define REQ_MAX_RC 10
#define REN_TIMEOUT_MS 10000   /* REB_TIMEOUT too */
#define REN_MAX_RT_MS 600000   /* REB_MAX_RT too */
/* A server's T1 of 0 or 1 s must not make us chatter. */
#define T1_MIN_S 5
#define RECV_BURST 16
#define PREF_MAX 255

enum dhcp6_input { IN_TIMER, IN_ADVERTISE, IN_REPLY };

static const struct {
	uint8_t type;          /* what the state sends */
	const char *name;
} states[] = {
	[DHCP6_STATE_SOLICIT] = { DHCP6_SOLICIT, "Solicit" },
	[DHCP6_STATE_REQUEST] = { DHCP6_REQUEST, "Request" },
	[DHCP6_STATE_RENEW] = { DHCP6_RENEW, "Renew" },
	[DHCP6_STATE_REBIND] = { DHCP6_REBIND, "Rebind" },
};

static uint64_t next_random(struct dhcp6_client *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

/* RAND·t with RAND uniform in [-0.1, 0.1]; in (0, 0.1] for the first
 * Solicit, whose first RT must exceed IRT (§18.2.1). */
static int64_t rand_part(struct dhcp6_client *c, int64_t t, bool positive)
{
	uint64_t span = (uint64_t)(t / 10);

	if (positive)
		return span ? 1 + (int64_t)(next_random(c) % span) : 0;
	return (int64_t)(next_random(c) % (2 * span + 1)) - (int64_t)span;
}

static bool renewing(const struct dhcp6_client *c)
{
	return c->state == DHCP6_STATE_RENEW || c->state == DHCP6_STATE_REBIND;
}

/* §15: RT = IRT + RAND·IRT, then 2·RT + RAND·RT, capped at MRT + RAND·MRT. */
static void next_rt(struct dhcp6_client *c)
{
	bool solicit = c->state == DHCP6_STATE_SOLICIT;
	int64_t irt = renewing(c) ? REN_TIMEOUT_MS : c->cfg.irt_ms;
	int64_t mrt = solicit ? SOL_MAX_RT_MS
		      : renewing(c) ? REN_MAX_RT_MS : REQ_MAX_RT_MS;

	if (c->attempt == 0) {
		c->rt_ms = irt + rand_part(c, irt, solicit);
		return;
	}
	c->rt_ms = 2 * c->rt_ms + rand_part(c, c->rt_ms, false);
	if (c->rt_ms > mrt)
		c->rt_ms = mrt + rand_part(c, mrt, false);
}

static void transmit(struct dhcp6_client *c)
{
	uint8_t buf[DHCP6_MAX_PACKET];
	int64_t now = now_ms();
	int64_t cs = (now - c->start_ms) / 10;
	/* §18.2.4-5: Renew until T2, Rebind until the lease ends */
	int64_t end = c->state == DHCP6_STATE_RENEW ? c->t2_ms
		      : c->state == DHCP6_STATE_REBIND ? c->expire_ms : -1;
	struct dhcp6_out o = {
		.type = states[c->state].type,
		.xid = c->xid, .mac = c->cfg.mac, .iaid = (uint32_t)c->cfg.ifindex,
		.elapsed_cs = (uint16_t)MIN(cs, 0xffff),
		.server_id = c->server_id,
		.server_id_len = c->state == DHCP6_STATE_REQUEST ||
				 c->state == DHCP6_STATE_RENEW ? c->server_id_len : 0,
		/* the address held (a hint in a Solicit or Request) */
		.addr = c->lease.v6 ? &c->lease.addr6 : NULL,
	};
	int r = dhcp6_io_send(c->src.fd, c->cfg.ifindex, buf,
			      dhcp6_msg_build(buf, &o));

	if (r < 0)
		log_warn("dhcp6 %s: send: %s", c->cfg.ifname, strerror(-r));
	next_rt(c);
	if (c->attempt++ == 0 && c->state == DHCP6_STATE_SOLICIT)
		c->collect_ms = now + c->rt_ms;
	c->src.deadline = now + c->rt_ms;
	if (end >= 0 && c->src.deadline > end)
		c->src.deadline = end;
}

static void begin(struct dhcp6_client *c, enum dhcp6_state s)
{
	log_debug("dhcp6 %s: %s", c->cfg.ifname, states[s].name);
	c->state = s;
	c->attempt = 0;
	c->xid = (uint32_t)next_random(c) & 0xffffff;
	c->start_ms = now_ms();
	if (s == DHCP6_STATE_SOLICIT) {
		c->pref = -1;
		/* a server that refuses every Request must not make us spin:
		 * the Solicit after one waits 1 s more each time, at most 10 s */
		if (c->refusals) {
			c->src.deadline = c->start_ms + MIN(c->refusals, 10) * 1000;
			return;
		}
	}
	transmit(c);
}

/* The server the next Request or Renew goes to. */
static void take_server(struct dhcp6_client *c, const struct dhcp6_msg *m)
{
	memcpy(c->server_id, m->server_id, m->server_id_len);
	c->server_id_len = m->server_id_len;
}

/* §18.2.9: the highest preference wins; 255 at once, else after the
 * first RT. */
static void take_advertise(struct dhcp6_client *c, const struct dhcp6_msg *m)
{
	if (m->preference > c->pref) {
		c->pref = m->preference;
		take_server(c, m);
	}
	if (c->pref == PREF_MAX || now_ms() >= c->collect_ms)
		begin(c, DHCP6_STATE_REQUEST);
}

static void close_socket(struct dhcp6_client *c)
{
	int fd = c->src.fd;

	ev_set_fd(&c->src, -1, 0);
	if (fd >= 0)
		close(fd);
}

static int open_socket(struct dhcp6_client *c)
{
	int fd = dhcp6_io_open(c->cfg.ifname);
	int r = fd < 0 ? fd : ev_set_fd(&c->src, fd, EPOLLIN);

	if (r < 0)
		close_socket(c);
	return r;
}

static int64_t after(int64_t now, uint32_t secs)
{
	return secs == DHCP6_INFINITY ? -1 : now + (int64_t)secs * 1000;
}

/* §14.2, §21.4: T1 and T2 the server's, or when it left them to us, 0.5
 * and 0.8 of the preferred lifetime; neither past the valid lifetime. */
static void set_times(struct dhcp6_client *c, const struct dhcp6_msg *m,
		      int64_t now)
{
	uint32_t t1 = m->t1, t2 = m->t2, pref = m->preferred;

	if (!t1 || !t2) {
		t1 = pref == DHCP6_INFINITY ? pref : pref / 2;
		t2 = pref == DHCP6_INFINITY ? pref : pref / 5 * 4;
	}
	t1 = MIN(MAX(t1, T1_MIN_S), m->valid);
	c->t1_ms = after(now, t1);
	c->t2_ms = after(now, MIN(MAX(t2, t1), m->valid));
	c->expire_ms = after(now, m->valid);
}

static void enter_bound(struct dhcp6_client *c, const struct dhcp6_msg *m)
{
	struct dhcpc_lease *l = &c->lease;
	bool renewal = l->v6;
	char a[INET6_ADDRSTRLEN];

	memset(l, 0, sizeof(*l));
	l->v6 = true;
	l->proto = DHCPC_PROTO_DHCP6;
	memcpy(l->ifname, c->cfg.ifname, sizeof(l->ifname));
	l->ifindex = c->cfg.ifindex;
	l->addr6 = m->addr;
	l->prefix6 = 128; /* the on-link prefix comes from the RA (§18.2.10.1) */
	l->ndns6 = m->ndns;
	memcpy(l->dns6, m->dns, sizeof(m->dns));
	memcpy(l->rootpath, m->bootfile_url, sizeof(l->rootpath));
	memcpy(l->domainsearch, m->domainsearch, sizeof(l->domainsearch));
	l->bound_ms = now_ms();
	c->refusals = 0;
	set_times(c, m, l->bound_ms);
	take_server(c, m);  /* after a Rebind: the server that answered */
	log_info("dhcp6 %s: %s %s", c->cfg.ifname, renewal ? "renewed" : "address",
		 inet_ntop(AF_INET6, &m->addr, a, sizeof(a)));
	close_socket(c);
	c->src.deadline = c->t1_ms;
	c->state = DHCP6_STATE_BOUND;
	c->on_bound(c, c->ctx);
}

/* The timer while a lease is held: Renew from T1, Rebind from T2 (each
 * transmit() stops at the next), and past the valid lifetime a new
 * lease, the address kept (the root disk is behind it). */
static void renew_timer(struct dhcp6_client *c)
{
	char a[INET6_ADDRSTRLEN];

	if (c->src.fd < 0 && open_socket(c) < 0) {
		log_warn("dhcp6 %s: no socket to renew with; trying again",
			 c->cfg.ifname);
		c->src.deadline = now_ms() + REN_TIMEOUT_MS +
				  rand_part(c, REN_TIMEOUT_MS, true);
	} else if (c->expire_ms >= 0 && now_ms() >= c->expire_ms) {
		log_warn("dhcp6 %s: lease of %s expired; keeping the address, soliciting",
			 c->cfg.ifname,
			 inet_ntop(AF_INET6, &c->lease.addr6, a, sizeof(a)));
		begin(c, DHCP6_STATE_SOLICIT);
	} else if (c->state == DHCP6_STATE_BOUND) {
		begin(c, DHCP6_STATE_RENEW);
	} else if (c->state == DHCP6_STATE_RENEW && c->t2_ms >= 0 &&
		   now_ms() >= c->t2_ms) {
		begin(c, DHCP6_STATE_REBIND);
	} else {
		transmit(c);
	}
}

/* §18.2.10.1: a Reply to a Renew or Rebind that does not extend the
 * address (NoBinding, ...): a Request to the server that said so. */
static void request_again(struct dhcp6_client *c, const struct dhcp6_msg *m)
{
	take_server(c, m);
	begin(c, DHCP6_STATE_REQUEST);
}

/* The one switch: what each input does in each state. */
static void handle_event(struct dhcp6_client *c, enum dhcp6_input in,
			 const struct dhcp6_msg *m)
{
	switch (c->state) {
	case DHCP6_STATE_SOLICIT:
		if (in == IN_ADVERTISE)
			take_advertise(c, m);
		else if (in == IN_REPLY) /* Rapid Commit (classify) */
			enter_bound(c, m);
		else if (c->pref >= 0)
			begin(c, DHCP6_STATE_REQUEST);
		else
			transmit(c);
		break;
	case DHCP6_STATE_REQUEST:
		if (in == IN_REPLY && m->have_addr && !m->status) {
			enter_bound(c, m);
		} else if (in == IN_REPLY || c->attempt >= REQ_MAX_RC) {
			c->refusals++;
			begin(c, DHCP6_STATE_SOLICIT); /* §18.2.10.1 */
		} else {
			transmit(c);
		}
		break;
	case DHCP6_STATE_BOUND:
		renew_timer(c);
		break;
	case DHCP6_STATE_RENEW:
	case DHCP6_STATE_REBIND:
		if (in == IN_REPLY && m->have_addr && !m->status)
			enter_bound(c, m);
		else if (in == IN_REPLY)
			request_again(c, m);
		else
			renew_timer(c);
		break;
	case DHCP6_STATE_STOPPED:
		break;
	default:
		abort();
	}
}

/* §16: what makes a message a reply to us, in this state. */
static const char *classify(const struct dhcp6_client *c,
			    const struct dhcp6_msg *m, enum dhcp6_input *in)
{
	uint8_t duid[10] = { 0, 3, 0, 1 };

	memcpy(duid + 4, c->cfg.mac, 6);
	if (m->type != DHCP6_ADVERTISE && m->type != DHCP6_REPLY)
		return "type";
	*in = m->type == DHCP6_ADVERTISE ? IN_ADVERTISE : IN_REPLY;
	if (m->xid != c->xid)
		return "xid";
	if (m->client_id_len != sizeof(duid) ||
	    memcmp(m->client_id, duid, sizeof(duid)))
		return "client id";
	if (!m->server_id_len)
		return "server id";
	if (c->state == DHCP6_STATE_SOLICIT) {
		if (*in == IN_REPLY && !m->rapid_commit)
			return "no Rapid Commit";
		if (!m->have_addr || m->status)
			return "no address";
	} else if (*in != IN_REPLY || c->state == DHCP6_STATE_BOUND) {
		return "state";
	} else if (c->state != DHCP6_STATE_REBIND &&
		   (m->server_id_len != c->server_id_len ||
		    memcmp(m->server_id, c->server_id, c->server_id_len))) {
		return "other server"; /* a Rebind goes to any server */
	}
	return NULL;
}

void dhcp6_client_receive(struct dhcp6_client *c, const uint8_t *p, size_t len)
{
	struct dhcp6_msg m;
	enum dhcp6_input in = IN_TIMER;
	const char *why = dhcp6_msg_parse(p, len, (uint32_t)c->cfg.ifindex, &m) < 0
				  ? "malformed" : classify(c, &m, &in);

	if (why) {
		log_debug("dhcp6 %s: ignoring message: %s", c->cfg.ifname, why);
		return;
	}
	handle_event(c, in, &m);
}

static void on_io(struct ev_source *src, uint32_t revents)
{
	struct dhcp6_client *c = src->ctx;
	uint8_t buf[DHCP6_MAX_PACKET];

	(void)revents;
	for (int i = 0; i < RECV_BURST && c->src.fd >= 0; i++) {
		ssize_t n = dhcp6_io_recv(c->src.fd, buf, sizeof(buf));
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n >= 0)
			dhcp6_client_receive(c, buf, (size_t)n);
	}
}

static void on_timer(struct ev_source *src)
{
	handle_event(src->ctx, IN_TIMER, NULL);
}

int dhcp6_client_start(struct dhcp6_client *c, struct ev_loop *loop,
		       const struct dhcp6_client_cfg *cfg,
		       void (*on_bound)(struct dhcp6_client *, void *),
		       void *ctx)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->on_bound = on_bound;
	c->ctx = ctx;
	c->src = (struct ev_source){ .fd = -1, .deadline = -1, .on_io = on_io,
				     .on_timer = on_timer, .ctx = c };
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != sizeof(c->rng))
		c->rng = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ull;
	c->rng |= 1; /* xorshift must not start at 0 */
	r = ev_add(loop, &c->src);
	if (r == 0)
		r = open_socket(c);
	if (r < 0) {
		ev_del(&c->src);
		return r;
	}
	begin(c, DHCP6_STATE_SOLICIT);
	return 0;
}

void dhcp6_client_stop(struct dhcp6_client *c)
{
	close_socket(c);
	ev_del(&c->src);
	c->src.deadline = -1;
	c->state = DHCP6_STATE_STOPPED;
}
