/* SPDX-License-Identifier: MIT */
/*
 * The bring-up: choose interfaces, set them up, wait for carrier, run one
 * DHCP client per interface at once (the first lease wins) or apply ip=,
 * then write the hand-over files. Then, with keep_lease, go on renewing.
 * With every_iface each chosen interface is configured on its own (one
 * NIC a path): its own ip=, client, deadline and route metric.
 */
#include <errno.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "apply.h"
#include "client.h"
#include "dhcpc.h"
#include "nl.h"
#include "v6.h"

/* Links are looked at again as soon as the kernel says one changed
 * (rtnetlink), so DHCP starts at carrier; the poll is for a missed
 * notification, or for a kernel that gives none. */
#define LINK_POLL_MS 100
#define LINK_POLL_EVENTS_MS 1000
#define MAX_LINKS 64
/* every_iface: each interface's routes get 1000 + its ifindex as metric,
 * as dhcpcd does, so that no interface's default route replaces
 * another's (the kernel keys a route by destination and metric). */
#define EVERY_IFACE_METRIC 1000

struct iface {
	struct nl_link link;
	bool running;             /* DHCP client started (or static applied) */
	struct dhcp_client client;
	struct dhcpc_v6 v6;       /* ip=dhcp6, auto6, [v6] (v6.c) */
	struct dhcpc *owner;
	int parent;               /* the ifindex it was chosen as (link
	                           * becomes the VLAN link over it) */
	const struct dhcpc_ipconf *ip; /* its ip= (ip_for) */
	/* every_iface */
	bool configured;          /* its lease is applied */
	bool given_up;            /* no carrier or no lease in time (said) */
	int64_t deadline;         /* of its DHCP exchange; -1 before carrier */
	struct dhcpc_lease lease; /* the one applied */
};

struct dhcpc {
	struct ev_loop *loop;
	struct dhcpc_config cfg;
	struct nl_sock nl;
	struct ev_source timer;   /* link polling, time-outs, the done call */
	struct ev_source links;   /* link notifications, until a link is chosen */
	struct iface ifaces[DHCPC_MAX_IFACES];
	int nifaces;
	int winner;               /* index in ifaces[], or -1 */
	int64_t link_deadline;
	int64_t dhcp_deadline;    /* -1 until the first link has carrier */
	bool finished;            /* the result is known */
	bool done_called;
	int status;
	dhcpc_done_fn done;
	void *ctx;
	int first_error;          /* every_iface: the first given up's */
};

void dhcpc_config_init(struct dhcpc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ip.mode = DHCPC_IP_DHCP;
	cfg->link_timeout_ms = 10000;
	cfg->timeout_ms = 60000;
	cfg->retransmit_ms = 4000;
	cfg->root_dir = "/";
	cfg->write_files = true;
}

static int add_one_ip(struct dhcpc_config *cfg, const char *s)
{
	struct dhcpc_ipconf ip, *to = &cfg->ip;
	int r = dhcpc_ip_parse(s, &ip), i = 0;

	if (r < 0)
		return r;
	if (!ip.device[0]) {
		cfg->nmore_ip = 0;
		cfg->every_iface = false;
	} else if (cfg->ip.device[0] && strcmp(ip.device, cfg->ip.device)) {
		while (i < cfg->nmore_ip && strcmp(cfg->more_ip[i].device, ip.device))
			i++;
		if (i == (int)ARRAY_SIZE(cfg->more_ip))
			return -E2BIG;
		cfg->nmore_ip += i == cfg->nmore_ip;
		cfg->every_iface = true;
		to = &cfg->more_ip[i];
	}
	*to = ip;
	return 0;
}

static int add_one_ifname(struct dhcpc_config *cfg, const char *s)
{
	struct dhcpc_rename *rn = cfg->renames + cfg->nrenames;
	int r = cfg->nrenames < DHCPC_MAX_IFACES ? dhcpc_ifname_parse(s, rn->name, rn->mac)
						 : -E2BIG;

	cfg->nrenames += r == 0;
	return r;
}

/* add for each space-separated word of s */
static int each_word(struct dhcpc_config *cfg, const char *s,
		     int (*add)(struct dhcpc_config *cfg, const char *w))
{
	char buf[512], *save = NULL;
	int r = strlen(s) < sizeof(buf) ? 0 : -EINVAL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *w = strtok_r(buf, " ", &save); w && r == 0; w = strtok_r(NULL, " ", &save))
		r = add(cfg, w);
	return r;
}

int dhcpc_config_add_ip(struct dhcpc_config *cfg, const char *s)
{
	return each_word(cfg, s, add_one_ip);
}

int dhcpc_config_add_ifname(struct dhcpc_config *cfg, const char *s)
{
	return each_word(cfg, s, add_one_ifname);
}

/* ---- Finishing: the done callback always runs from our own timer, so
 * the caller may free everything inside it. ---- */

static void stop_link_events(struct dhcpc *d)
{
	if (d->links.fd < 0)
		return;
	ev_del(&d->links);
	close(d->links.fd);
	d->links.fd = -1;
}

static void finish(struct dhcpc *d, int status)
{
	if (d->finished)
		return;
	d->finished = true;
	d->status = status;
	d->timer.deadline = now_ms();
	stop_link_events(d);
}

static void on_link_event(struct ev_source *src, uint32_t revents)
{
	struct dhcpc *d = src->ctx;

	(void)revents;
	if (nl_drain_events(src->fd) && !d->finished)
		d->timer.deadline = ev_now(d->loop);
}

/* Without notifications the links are polled as before. */
static void start_link_events(struct dhcpc *d)
{
	d->links = (struct ev_source){ .fd = nl_open_link_events(), .events = EPOLLIN,
				       .deadline = -1, .on_io = on_link_event, .ctx = d };
	if (d->links.fd >= 0 && ev_add(d->loop, &d->links) < 0) {
		close(d->links.fd);
		d->links.fd = -1;
	}
	if (d->links.fd < 0)
		log_debug("no link notifications: polling every %d ms", LINK_POLL_MS);
}

static bool is_v6(const struct iface *f)
{
	return f->ip && f->ip->mode >= DHCPC_IP_DHCP6;
}

static void stop_client(struct iface *f)
{
	if (is_v6(f))
		dhcpc_v6_stop(&f->v6);
	else
		dhcp_client_stop(&f->client);
	f->running = false;
}

static void stop_clients(struct dhcpc *d, int keep)
{
	for (int i = 0; i < d->nifaces; i++)
		if (i != keep && d->ifaces[i].running)
			stop_client(&d->ifaces[i]);
}

/* ---- Interface choice ---- */

static bool usable(const struct nl_link *l)
{
	return l->type == ARPHRD_ETHER && l->have_mac &&
	       !(l->flags & IFF_LOOPBACK);
}

static void add_iface(struct dhcpc *d, const struct nl_link *l)
{
	for (int i = 0; i < d->nifaces; i++)
		if (d->ifaces[i].parent == l->ifindex)
			return;
	if (d->nifaces >= DHCPC_MAX_IFACES)
		return;
	d->ifaces[d->nifaces].link = *l;
	d->ifaces[d->nifaces].parent = l->ifindex;
	d->ifaces[d->nifaces].owner = d;
	d->nifaces++;
}

static bool want_by_name(const struct dhcpc *d, const char *name)
{
	for (int i = 0; i < d->cfg.nifnames; i++)
		if (!strcmp(d->cfg.ifnames[i], name))
			return true;
	for (int i = 0; i < d->cfg.nrenames; i++)
		if (!strcmp(d->cfg.renames[i].name, name))
			return true;
	for (int i = 0; i < d->cfg.nmore_ip; i++)
		if (!strcmp(d->cfg.more_ip[i].device, name))
			return true;
	return d->cfg.ip.device[0] && !strcmp(d->cfg.ip.device, name);
}

/* The ip= of an interface (by the name it was chosen by, before any
 * VLAN link over it): the one naming it, else the general one. */
static const struct dhcpc_ipconf *ip_for(const struct dhcpc *d, const char *name)
{
	for (int i = 0; i < d->cfg.nmore_ip; i++)
		if (!strcmp(d->cfg.more_ip[i].device, name))
			return &d->cfg.more_ip[i];
	return &d->cfg.ip;
}

/* Names, then the BOOTIF MAC, then a given MAC, else all Ethernet. */
static void choose_ifaces(struct dhcpc *d, const struct nl_link *links, int n)
{
	bool by_name = d->cfg.nifnames > 0 || d->cfg.ip.device[0] ||
		       d->cfg.nrenames > 0 || d->cfg.nmore_ip > 0;
	const uint8_t *mac = d->cfg.have_bootif ? d->cfg.bootif
			     : d->cfg.have_mac  ? d->cfg.mac : NULL;

	for (int i = 0; i < n; i++) {
		const struct nl_link *l = &links[i];
		/* an earlier run's VLAN link has its parent's MAC */
		if (d->cfg.vlan && l->is_vlan)
			continue;
		if (by_name) {
			if (want_by_name(d, l->name))
				add_iface(d, l);
		} else if (mac) {
			if (l->have_mac && !memcmp(l->mac, mac, 6))
				add_iface(d, l);
		} else if (usable(l)) {
			add_iface(d, l);
		}
	}
}

/* dracut's ifname=: the kernel renames only a link that is down. */
static void rename_link(struct dhcpc *d, struct nl_link *links, int n,
			const struct dhcpc_rename *rn)
{
	for (int i = 0; i < n; i++) {
		struct nl_link *l = &links[i];
		if (!l->have_mac || memcmp(l->mac, rn->mac, 6) ||
		    !strcmp(l->name, rn->name))
			continue;
		int r = nl_link_set_name(&d->nl, l->ifindex, rn->name);
		if (r < 0) {
			log_warn("%s: rename to %s: %s", l->name, rn->name,
				 strerror(-r));
			continue;
		}
		log_info("%s: renamed to %s", l->name, rn->name);
		memcpy(l->name, rn->name, sizeof(l->name));
	}
}

/* dracut's ip=...:<macaddr>: set before the link goes up. */
static void set_mac(struct dhcpc *d, struct iface *f, const struct dhcpc_ipconf *ip)
{
	int r;

	if (!ip->have_mac || !memcmp(f->link.mac, ip->mac, 6))
		return;
	r = nl_link_set_mac(&d->nl, f->link.ifindex, ip->mac);
	if (r < 0) {
		log_warn("%s: MAC address: %s", f->link.name, strerror(-r));
		return;
	}
	memcpy(f->link.mac, ip->mac, 6);
}

static void bring_up(struct dhcpc *d, struct iface *f)
{
	const struct dhcpc_ipconf *ip = f->ip = ip_for(d, f->link.name);
	int r;

	if (is_v6(f))
		dhcpc_v6_enable(f->link.name);
	set_mac(d, f, ip);
	if (ip->mtu && f->link.mtu != ip->mtu) {
		r = nl_link_set_mtu(&d->nl, f->link.ifindex, ip->mtu);
		if (r < 0)
			log_warn("%s: MTU %u: %s", f->link.name, ip->mtu,
				 strerror(-r));
	}
	if (f->link.flags & IFF_UP)
		return;
	r = nl_link_set_up(&d->nl, f->link.ifindex);
	if (r < 0)
		log_warn("%s: set up: %s", f->link.name, strerror(-r));
	else
		log_debug("%s: set up", f->link.name);
}

/* The 802.1Q link over f's, "<parent>.<vid>" as vconfig names it (or
 * "v<parent's ifindex>.<vid>" when that is too long), made unless an
 * earlier run left it; from now on f is that link: DHCP or ip= go there,
 * not to the parent. */
static int use_vlan(struct dhcpc *d, struct iface *f)
{
	char name[IFNAMSIZ];
	struct nl_link vl;
	int r;

	if ((size_t)snprintf(name, sizeof(name), "%s.%u", f->link.name,
			     d->cfg.vlan) >= sizeof(name))
		snprintf(name, sizeof(name), "v%d.%u", f->link.ifindex, d->cfg.vlan);
	r = nl_link_add_vlan(&d->nl, f->link.ifindex, name, d->cfg.vlan);
	if (r < 0 && r != -EEXIST) {
		log_err("%s: VLAN %u: %s", f->link.name, d->cfg.vlan, strerror(-r));
		return r;
	}
	r = nl_link_get_by_name(&d->nl, name, &vl);
	if (r == 0 && !vl.is_vlan)
		r = -EEXIST;
	if (r < 0) {
		log_err("%s: VLAN %u as %s: %s", f->link.name, d->cfg.vlan, name,
			strerror(-r));
		return r;
	}
	log_info("%s: VLAN %u over %s", name, d->cfg.vlan, f->link.name);
	f->link = vl;
	if (!(vl.flags & IFF_UP)) {
		r = nl_link_set_up(&d->nl, vl.ifindex);
		if (r < 0)
			log_warn("%s: set up: %s", name, strerror(-r));
	}
	return 0;
}

/* Lists the links again until the wanted ones exist (a driver may still
 * be probing). */
static int find_ifaces(struct dhcpc *d)
{
	struct nl_link *links = calloc(MAX_LINKS, sizeof(*links));
	int n, before = d->nifaces;

	if (!links)
		return -ENOMEM;
	n = nl_link_list(&d->nl, links, MAX_LINKS);
	for (int i = 0; n >= 0 && i < d->cfg.nrenames; i++)
		rename_link(d, links, n, &d->cfg.renames[i]);
	if (n >= 0)
		choose_ifaces(d, links, n);
	free(links);
	if (n < 0)
		return n;
	for (int i = before; i < d->nifaces; i++) {
		bring_up(d, &d->ifaces[i]);
		if (d->cfg.vlan) {
			int r = use_vlan(d, &d->ifaces[i]);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- Leases ---- */

/* A lease on f (d->winner is f without every_iface). With every_iface
 * each interface's routes get its own metric; the first one configured
 * is the bring-up's result and writes every hand-over file, the others
 * their net-IF.conf. A renewal refreshes address and routes only. */
static void adopt_lease(struct dhcpc *d, struct iface *f, const struct dhcpc_lease *l)
{
	bool renewal = f->configured;
	int r;

	f->lease = *l;
	memcpy(f->lease.mac, f->link.mac, 6);   /* the managers match it */
	if (d->cfg.every_iface)
		f->lease.route_metric = EVERY_IFACE_METRIC + (uint32_t)f->link.ifindex;
	/* v6.c configured a v6 lease before it was ready */
	r = l->v6 ? 0 : dhcpc_apply_lease(&d->nl, &f->lease,
					  d->cfg.set_hostname && !d->finished);
	if (r < 0 && !renewal) {
		/* said; every_iface: a DHCP client may try again, else its
		 * deadline gives it up */
		if (!d->cfg.every_iface)
			finish(d, r);
		return;
	}
	if (renewal)
		return;
	f->configured = true;
	if (d->cfg.on_iface)
		d->cfg.on_iface(d, f->link.name, &f->lease, 0, d->cfg.on_iface_ctx);
	if (d->winner < 0)
		d->winner = (int)(f - d->ifaces);
	if (d->cfg.write_files) {
		bool first = d->winner == (int)(f - d->ifaces);
		r = first ? dhcpc_write_handover(d->cfg.root_dir, &f->lease)
			  : dhcpc_write_netconf(d->cfg.root_dir, &f->lease);
		if (r < 0)
			log_warn("hand-over files: %s", strerror(-r));
	}
	d->timer.deadline = ev_now(d->loop);
}

static void on_client_event(struct dhcp_client *c, enum dhcp_event ev,
			    void *ctx)
{
	struct iface *f = ctx;
	struct dhcpc *d = f->owner;
	int idx = (int)(f - d->ifaces);

	if (ev == DHCP_EV_LOST)
		return; /* the client logged it and keeps the address */
	if (!d->cfg.every_iface && d->winner >= 0 && d->winner != idx)
		return;
	if (!d->cfg.every_iface && d->winner < 0) {
		d->winner = idx;
		log_info("%s: first lease, stopping the other interfaces",
			 f->link.name);
		stop_clients(d, d->cfg.keep_lease ? idx : -1);
	}
	adopt_lease(d, f, &c->lease);
}

static void wake(void *ctx)
{
	struct dhcpc *d = ctx;

	d->timer.deadline = ev_now(d->loop);
}

/* IPv6: the address past DAD and the route are there; the first such
 * interface wins as a first lease does. With keep_lease a DHCPv6 client
 * goes on renewing (take_renewals). */
static void v6_ready(struct dhcpc *d, struct iface *f)
{
	if (!d->cfg.keep_lease)
		dhcpc_v6_stop(&f->v6);
	if (!d->cfg.every_iface && d->winner < 0) {
		log_info("%s: IPv6 configured, stopping the other interfaces",
			 f->link.name);
		stop_clients(d, (int)(f - d->ifaces));
	}
	adopt_lease(d, f, &f->v6.lease);
}

static int start_iface(struct dhcpc *d, struct iface *f)
{
	const struct dhcpc_ipconf *ip = f->ip;
	struct dhcp_client_cfg cc = {
		.ifindex = f->link.ifindex,
		.client_id_len = d->cfg.client_id_len,
		.request_addr = ip->addr,
		.broadcast_flag = d->cfg.broadcast_flag,
		.retransmit_ms = d->cfg.retransmit_ms,
	};

	if (is_v6(f)) {
		f->v6.nl = &d->nl;
		f->v6.loop = d->loop;
		f->v6.wake = wake;
		f->v6.ctx = d;
		return dhcpc_v6_start(&f->v6, ip, &f->link);
	}
	if (ip->mode == DHCPC_IP_STATIC) {
		struct dhcpc_lease l;
		dhcpc_static_lease(ip, f->link.name, f->link.ifindex, &l);
		adopt_lease(d, f, &l);
		return 0;
	}
	memcpy(cc.ifname, f->link.name, sizeof(cc.ifname));
	memcpy(cc.mac, f->link.mac, 6);
	memcpy(cc.client_id, d->cfg.client_id, sizeof(cc.client_id));
	memcpy(cc.vendor_class, d->cfg.vendor_class, sizeof(cc.vendor_class));
	memcpy(cc.user_class, d->cfg.user_class, sizeof(cc.user_class));
	memcpy(cc.hostname, ip->hostname, sizeof(cc.hostname));
	f->running = true;
	return dhcp_client_start(&f->client, d->loop, &cc, on_client_event, f);
}

/* ---- The poll: each interface with its own carrier wait and DHCP
 * deadline; one that misses either is said in one line and given up
 * (with every_iface and keep_lease its client goes on: a late lease is
 * still taken). */

static void give_up(struct dhcpc *d, struct iface *f, int status)
{
	bool link = status == -ENOLINK;

	log_err("%s: no %s within %d ms", f->link.name, link ? "carrier" : "DHCP lease",
		link ? d->cfg.link_timeout_ms : d->cfg.timeout_ms);
	f->given_up = true;
	/* one that had carrier and no lease says more */
	if (!d->first_error || !link)
		d->first_error = status;
	/* a late v6 address would not be waited for: its client stops too */
	if (f->running && (is_v6(f) || !(d->cfg.every_iface && d->cfg.keep_lease)))
		stop_client(f);
	if (d->cfg.on_iface)
		d->cfg.on_iface(d, f->link.name, NULL, status, d->cfg.on_iface_ctx);
}

/* One interface's step; returns when it wants to be looked at again
 * (-1: not before an event), or a negative errno in *err. */
static int64_t step_iface(struct dhcpc *d, struct iface *f, int64_t now, int *err)
{
	if (f->configured || f->given_up)
		return -1;
	if (f->running) {
		int v6 = is_v6(f) ? dhcpc_v6_poll(&f->v6) : 0;

		if (v6 < 0)
			*err = v6;
		if (v6 == 1)
			v6_ready(d, f);
		if (v6 != 0)
			return -1;
		if (now < f->deadline)
			return is_v6(f) ? MIN(f->deadline, now + LINK_POLL_EVENTS_MS)
					: f->deadline;
		give_up(d, f, -ETIMEDOUT);
		return -1;
	}
	if (nl_link_get(&d->nl, f->link.ifindex, &f->link) == 0 && f->link.carrier) {
		log_info("%s: carrier", f->link.name);
		if (d->dhcp_deadline < 0) {
			d->dhcp_deadline = now;    /* the first carrier */
			boot_step_end(BOOT_STEP_LINK, ev_now(d->loop));
		}
		f->deadline = now + d->cfg.timeout_ms;
		*err = start_iface(d, f);
		f->running = true;
		return f->deadline;
	}
	if (now >= d->link_deadline) {
		give_up(d, f, -ENOLINK);
		return -1;
	}
	return now + (d->links.fd >= 0 ? LINK_POLL_EVENTS_MS : LINK_POLL_MS);
}

static bool all_settled(const struct dhcpc *d)
{
	for (int i = 0; i < d->nifaces; i++)
		if (!d->ifaces[i].configured && !d->ifaces[i].given_up)
			return false;
	return d->nifaces > 0;
}

bool dhcpc_settled(const struct dhcpc *d)
{
	return d->cfg.every_iface && d->nifaces ? all_settled(d) : d->finished;
}

/* Without every_iface, nothing is looked at once the first lease won. */
static void check_progress(struct dhcpc *d)
{
	bool active = d->cfg.every_iface || d->winner < 0;
	int64_t now = now_ms(), next = -1;
	int r = 0;

	/* a named interface whose driver is still probing may come later */
	if (active && now < d->link_deadline)
		r = find_ifaces(d);
	for (int i = 0; active && i < d->nifaces && r == 0; i++) {
		int64_t at = step_iface(d, &d->ifaces[i], now, &r);

		if (at >= 0)
			next = next < 0 ? at : MIN(next, at);
	}
	if (r < 0) {
		finish(d, r);
	} else if (d->nifaces == 0 && now >= d->link_deadline) {
		log_err("no matching network interface");
		finish(d, -ENOLINK);
	} else if (d->winner >= 0) {
		finish(d, 0);
	} else if (all_settled(d)) {
		finish(d, d->first_error);
	}
	if (active && now < d->link_deadline && !all_settled(d))
		next = MIN(next < 0 ? INT64_MAX : next,
			   now + (d->links.fd >= 0 ? LINK_POLL_EVENTS_MS : LINK_POLL_MS));
	if (!d->finished || d->done_called)
		d->timer.deadline = next;
}

/* keep_lease: a DHCPv6 client's renewal (v6.c woke us) becomes the
 * interface's lease, also after the bring-up finished. */
static void take_renewals(struct dhcpc *d)
{
	for (int i = 0; i < d->nifaces; i++) {
		struct iface *f = &d->ifaces[i];

		if (f->configured && f->v6.renewed) {
			f->v6.renewed = false;
			adopt_lease(d, f, &f->v6.lease);
		}
	}
}

static void on_timer(struct ev_source *src)
{
	struct dhcpc *d = src->ctx;

	take_renewals(d);
	if (!d->finished || d->cfg.every_iface)
		check_progress(d);
	if (d->finished && !d->done_called) {
		d->done_called = true;
		if (d->status < 0)
			stop_clients(d, -1);
		else
			boot_step_end(BOOT_STEP_DHCP, ev_now(d->loop));
		d->done(d, d->status, d->ctx);
	}
}

int dhcpc_start(struct ev_loop *loop, const struct dhcpc_config *cfg,
		dhcpc_done_fn done, void *ctx, struct dhcpc **out)
{
	struct dhcpc *d;
	int r;

	if (cfg->vlan > 4094)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	/* In a boot, the daemon's start ends where its network begins. */
	boot_step_end(BOOT_STEP_DAEMON, ev_now(loop));
	d->loop = loop;
	d->cfg = *cfg;
	d->done = done;
	d->ctx = ctx;
	d->winner = -1;
	d->dhcp_deadline = -1;
	d->link_deadline = now_ms() + cfg->link_timeout_ms;
	d->timer = (struct ev_source){ .fd = -1, .deadline = now_ms(),
				       .on_timer = on_timer, .ctx = d };
	d->links.fd = -1;
	r = nl_open(&d->nl);
	if (r == 0)
		r = ev_add(loop, &d->timer);
	if (r < 0) {
		nl_close(&d->nl);
		free(d);
		return r;
	}
	start_link_events(d);
	if (cfg->ip.mode == DHCPC_IP_OFF)
		finish(d, 0); /* ip=off: the network is someone else's */
	*out = d;
	return 0;
}

const struct dhcpc_lease *dhcpc_get_lease(const struct dhcpc *d)
{
	return d->winner >= 0 ? &d->ifaces[d->winner].lease : NULL;
}

void dhcpc_stop(struct dhcpc *d)
{
	if (!d)
		return;
	stop_clients(d, -1);
	stop_link_events(d);
	ev_del(&d->timer);
	nl_close(&d->nl);
	free(d);
}

/* ---- The synchronous wrapper ---- */

struct run_state {
	bool done;
	int status;
	struct dhcpc *d;
};

static void run_done(struct dhcpc *d, int status, void *ctx)
{
	struct run_state *rs = ctx;

	rs->d = d;
	rs->done = true;
	rs->status = status;
}

/* done, and with every_iface the other interfaces configured or given
 * up too (iscsistart -N brings up every NIC the iBFT names) */
static bool run_settled(void *ctx)
{
	struct run_state *rs = ctx;

	return rs->done && (rs->status < 0 || dhcpc_settled(rs->d));
}

int dhcpc_run(const struct dhcpc_config *cfg, struct dhcpc_lease *out)
{
	struct run_state rs = { false, 0, NULL };
	struct ev_loop loop;
	struct dhcpc *d = NULL;
	int r = ev_loop_init(&loop);

	if (r < 0)
		return r;
	r = dhcpc_start(&loop, cfg, run_done, &rs, &d);
	if (r == 0 && (r = ev_run_until(&loop, run_settled, &rs, -1)) < 0)
		log_err("DHCP stopped: the event loop failed: %s", strerror(-r));
	if (r == 0 && rs.status == 0 && out)
		*out = d->ifaces[d->winner].lease;
	if (r == 0)
		r = rs.status;

	dhcpc_stop(d);
	ev_loop_close(&loop);
	return r;
}
