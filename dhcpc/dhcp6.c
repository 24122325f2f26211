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
#define RECV_BURST 16
#define PREF_MAX 255

enum dhcp6_input { IN_TIMER, IN_ADVERTISE, IN_REPLY };

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
		return 1 + (int64_t)(next_random(c) % (span + 1));
	return (int64_t)(next_random(c) % (2 * span + 1)) - (int64_t)span;
}

/* §15: RT = IRT + RAND·IRT, then 2·RT + RAND·RT, capped at MRT + RAND·MRT. */
static void next_rt(struct dhcp6_client *c)
{
	int64_t mrt = c->state == DHCP6_STATE_SOLICIT ? SOL_MAX_RT_MS
						      : REQ_MAX_RT_MS;

	if (c->attempt == 0) {
		c->rt_ms = c->cfg.irt_ms +
			   rand_part(c, c->cfg.irt_ms,
				     c->state == DHCP6_STATE_SOLICIT);
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
	struct dhcp6_out o = {
		.type = c->state == DHCP6_STATE_SOLICIT ? DHCP6_SOLICIT
							: DHCP6_REQUEST,
		.xid = c->xid, .mac = c->cfg.mac, .iaid = (uint32_t)c->cfg.ifindex,
		.elapsed_cs = (uint16_t)MIN(cs, 0xffff),
		.server_id = c->server_id,
		.server_id_len = c->state == DHCP6_STATE_REQUEST ? c->server_id_len : 0,
	};
	int r = dhcp6_io_send(c->src.fd, c->cfg.ifindex, buf,
			      dhcp6_msg_build(buf, &o));

	if (r < 0)
		log_warn("dhcp6 %s: send: %s", c->cfg.ifname, strerror(-r));
	next_rt(c);
	if (c->attempt++ == 0 && c->state == DHCP6_STATE_SOLICIT)
		c->collect_ms = now + c->rt_ms;
	c->src.deadline = now + c->rt_ms;
}

static void begin(struct dhcp6_client *c, enum dhcp6_state s)
{
	log_debug("dhcp6 %s: %s", c->cfg.ifname,
		  s == DHCP6_STATE_SOLICIT ? "Solicit" : "Request");
	c->state = s;
	c->attempt = 0;
	c->xid = (uint32_t)next_random(c) & 0xffffff;
	c->start_ms = now_ms();
	if (s == DHCP6_STATE_SOLICIT)
		c->pref = -1;
	transmit(c);
}

/* §18.2.9: the highest preference wins; 255 at once, else after the
 * first RT. */
static void take_advertise(struct dhcp6_client *c, const struct dhcp6_msg *m)
{
	if (m->preference > c->pref) {
		c->pref = m->preference;
		memcpy(c->server_id, m->server_id, m->server_id_len);
		c->server_id_len = m->server_id_len;
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

static void enter_bound(struct dhcp6_client *c, const struct dhcp6_msg *m)
{
	struct dhcpc_lease *l = &c->lease;
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
	l->bound_ms = now_ms();
	log_info("dhcp6 %s: address %s", c->cfg.ifname,
		 inet_ntop(AF_INET6, &m->addr, a, sizeof(a)));
	close_socket(c);
	c->src.deadline = -1;
	c->state = DHCP6_STATE_BOUND;
	c->on_bound(c, c->ctx);
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
		if (in == IN_REPLY && m->have_addr && !m->status)
			enter_bound(c, m);
		else if (in == IN_REPLY || c->attempt >= REQ_MAX_RC)
			begin(c, DHCP6_STATE_SOLICIT); /* §18.2.10.1 */
		else
			transmit(c);
		break;
	case DHCP6_STATE_BOUND:
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
	} else if (c->state != DHCP6_STATE_REQUEST || *in != IN_REPLY) {
		return "state";
	} else if (m->server_id_len != c->server_id_len ||
		   memcmp(m->server_id, c->server_id, c->server_id_len)) {
		return "other server";
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
	int fd, r;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->on_bound = on_bound;
	c->ctx = ctx;
	c->src = (struct ev_source){ .fd = -1, .deadline = -1, .on_io = on_io,
				     .on_timer = on_timer, .ctx = c };
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != sizeof(c->rng))
		c->rng = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ull;
	c->rng |= 1; /* xorshift must not start at 0 */
	fd = dhcp6_io_open(cfg->ifname);
	if (fd < 0)
		return fd;
	r = ev_add(loop, &c->src);
	if (r == 0)
		r = ev_set_fd(&c->src, fd, EPOLLIN);
	if (r < 0) {
		ev_del(&c->src);
		close(fd);
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
