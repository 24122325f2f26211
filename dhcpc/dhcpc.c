/* SPDX-License-Identifier: MIT */
/*
 * The bring-up: choose interfaces, set them up, wait for carrier, run one
 * DHCP client per interface at once (the first lease wins) or apply ip=,
 * then write the hand-over files. Then, with keep_lease, go on renewing.
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

struct iface {
	struct nl_link link;
	bool running;             /* DHCP client started (or static applied) */
	struct dhcp_client client;
	struct dhcpc_v6 v6;       /* ip=dhcp6, auto6, [v6] (v6.c) */
	struct dhcpc *owner;
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
	struct dhcpc_lease lease;
	dhcpc_done_fn done;
	void *ctx;
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

static bool want_v6(const struct dhcpc *d)
{
	return d->cfg.ip.mode >= DHCPC_IP_DHCP6;
}

static void stop_clients(struct dhcpc *d, int keep)
{
	for (int i = 0; i < d->nifaces; i++)
		if (i != keep && d->ifaces[i].running) {
			if (want_v6(d))
				dhcpc_v6_stop(&d->ifaces[i].v6);
			else
				dhcp_client_stop(&d->ifaces[i].client);
			d->ifaces[i].running = false;
		}
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
		if (d->ifaces[i].link.ifindex == l->ifindex)
			return;
	if (d->nifaces >= DHCPC_MAX_IFACES)
		return;
	d->ifaces[d->nifaces].link = *l;
	d->ifaces[d->nifaces].owner = d;
	d->nifaces++;
}

static bool want_by_name(const struct dhcpc *d, const char *name)
{
	for (int i = 0; i < d->cfg.nifnames; i++)
		if (!strcmp(d->cfg.ifnames[i], name))
			return true;
	if (d->cfg.rename_to[0] && !strcmp(d->cfg.rename_to, name))
		return true;
	return d->cfg.ip.device[0] && !strcmp(d->cfg.ip.device, name);
}

/* Names, then the BOOTIF MAC, then a given MAC, else all Ethernet. */
static void choose_ifaces(struct dhcpc *d, const struct nl_link *links, int n)
{
	bool by_name = d->cfg.nifnames > 0 || d->cfg.ip.device[0] ||
		       d->cfg.rename_to[0];
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
static void rename_link(struct dhcpc *d, struct nl_link *links, int n)
{
	for (int i = 0; i < n; i++) {
		struct nl_link *l = &links[i];
		if (!l->have_mac || memcmp(l->mac, d->cfg.rename_mac, 6) ||
		    !strcmp(l->name, d->cfg.rename_to))
			continue;
		int r = nl_link_set_name(&d->nl, l->ifindex, d->cfg.rename_to);
		if (r < 0) {
			log_warn("%s: rename to %s: %s", l->name,
				 d->cfg.rename_to, strerror(-r));
			continue;
		}
		log_info("%s: renamed to %s", l->name, d->cfg.rename_to);
		memcpy(l->name, d->cfg.rename_to, sizeof(l->name));
	}
}

/* dracut's ip=...:<macaddr>: set before the link goes up. */
static void set_mac(struct dhcpc *d, struct iface *f)
{
	int r;

	if (!d->cfg.ip.have_mac || !memcmp(f->link.mac, d->cfg.ip.mac, 6))
		return;
	r = nl_link_set_mac(&d->nl, f->link.ifindex, d->cfg.ip.mac);
	if (r < 0) {
		log_warn("%s: MAC address: %s", f->link.name, strerror(-r));
		return;
	}
	memcpy(f->link.mac, d->cfg.ip.mac, 6);
}

static void bring_up(struct dhcpc *d, struct iface *f)
{
	int r;

	if (want_v6(d))
		dhcpc_v6_enable(f->link.name);
	set_mac(d, f);
	if (d->cfg.ip.mtu && f->link.mtu != d->cfg.ip.mtu) {
		r = nl_link_set_mtu(&d->nl, f->link.ifindex, d->cfg.ip.mtu);
		if (r < 0)
			log_warn("%s: MTU %u: %s", f->link.name, d->cfg.ip.mtu,
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
	if (n >= 0 && d->cfg.rename_to[0])
		rename_link(d, links, n);
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

static void adopt_lease(struct dhcpc *d, const struct dhcpc_lease *l)
{
	int r;

	d->lease = *l;
	/* v6.c configured a v6 lease before it was ready */
	r = l->v6 ? 0 : dhcpc_apply_lease(&d->nl, l, d->cfg.set_hostname);
	if (r < 0 && !d->finished) {
		finish(d, r);
		return;
	}
	if (d->finished)
		return; /* a renewal: the files were written at boot */
	if (d->cfg.write_files) {
		r = l->v6 ? dhcpc_write_handover6(d->cfg.root_dir, l)
			  : dhcpc_write_handover(d->cfg.root_dir, l);
		if (r < 0)
			log_warn("hand-over files: %s", strerror(-r));
	}
	finish(d, 0);
}

static void on_client_event(struct dhcp_client *c, enum dhcp_event ev,
			    void *ctx)
{
	struct iface *f = ctx;
	struct dhcpc *d = f->owner;
	int idx = (int)(f - d->ifaces);

	if (ev == DHCP_EV_LOST)
		return; /* the client logged it and keeps the address */
	if (d->winner >= 0 && d->winner != idx)
		return;
	if (d->winner < 0) {
		d->winner = idx;
		log_info("%s: first lease, stopping the other interfaces",
			 f->link.name);
		stop_clients(d, d->cfg.keep_lease ? idx : -1);
	}
	adopt_lease(d, &c->lease);
}

static void wake(void *ctx)
{
	struct dhcpc *d = ctx;

	d->timer.deadline = ev_now(d->loop);
}

static int start_iface(struct dhcpc *d, struct iface *f)
{
	struct dhcp_client_cfg cc = {
		.ifindex = f->link.ifindex,
		.client_id_len = d->cfg.client_id_len,
		.request_addr = d->cfg.ip.addr,
		.broadcast_flag = d->cfg.broadcast_flag,
		.retransmit_ms = d->cfg.retransmit_ms,
	};

	if (want_v6(d)) {
		f->v6.nl = &d->nl;
		f->v6.loop = d->loop;
		f->v6.wake = wake;
		f->v6.ctx = d;
		f->running = true;
		return dhcpc_v6_start(&f->v6, &d->cfg.ip, &f->link);
	}
	if (d->cfg.ip.mode == DHCPC_IP_STATIC) {
		struct dhcpc_lease l;
		dhcpc_static_lease(&d->cfg.ip, f->link.name, f->link.ifindex,
				   &l);
		d->winner = (int)(f - d->ifaces);
		adopt_lease(d, &l);
		return 0;
	}
	memcpy(cc.ifname, f->link.name, sizeof(cc.ifname));
	memcpy(cc.mac, f->link.mac, 6);
	memcpy(cc.client_id, d->cfg.client_id, sizeof(cc.client_id));
	memcpy(cc.vendor_class, d->cfg.vendor_class, sizeof(cc.vendor_class));
	memcpy(cc.user_class, d->cfg.user_class, sizeof(cc.user_class));
	memcpy(cc.hostname, d->cfg.ip.hostname, sizeof(cc.hostname));
	f->running = true;
	return dhcp_client_start(&f->client, d->loop, &cc, on_client_event, f);
}

/* ---- The poll: carrier, then time-outs ---- */

static int poll_carrier(struct dhcpc *d, bool *waiting)
{
	*waiting = false;
	for (int i = 0; i < d->nifaces && d->winner < 0; i++) {
		struct iface *f = &d->ifaces[i];
		if (f->running)
			continue;
		int r = nl_link_get(&d->nl, f->link.ifindex, &f->link);
		if (r < 0 || !f->link.carrier) {
			*waiting = true;
			continue;
		}
		log_info("%s: carrier", f->link.name);
		if (d->dhcp_deadline < 0) {
			d->dhcp_deadline = now_ms() + d->cfg.timeout_ms;
			boot_step_end(BOOT_STEP_LINK, ev_now(d->loop));
		}
		r = start_iface(d, f);
		if (r < 0)
			return r;
	}
	return 0;
}

/* IPv6: the first interface whose address and route are there wins. */
static int poll_v6(struct dhcpc *d, bool *waiting)
{
	for (int i = 0; i < d->nifaces && d->winner < 0; i++) {
		struct iface *f = &d->ifaces[i];
		int r = f->running ? dhcpc_v6_poll(&f->v6) : 0;
		if (r < 0)
			return r;
		*waiting |= f->running;
		if (r == 1) {
			d->winner = i;
			stop_clients(d, -1);
			adopt_lease(d, &f->v6.lease);
		}
	}
	return 0;
}

static bool any_running(const struct dhcpc *d)
{
	for (int i = 0; i < d->nifaces; i++)
		if (d->ifaces[i].running)
			return true;
	return false;
}

static void check_progress(struct dhcpc *d)
{
	int64_t now = now_ms();
	bool waiting = false;
	int r = 0;

	if (d->nifaces == 0)
		r = find_ifaces(d);
	if (r == 0 && d->winner < 0)
		r = poll_carrier(d, &waiting);
	if (r == 0 && d->winner < 0 && want_v6(d))
		r = poll_v6(d, &waiting);
	if (d->winner >= 0)
		stop_link_events(d);
	if (r < 0) {
		finish(d, r);
	} else if (d->winner >= 0 || d->finished) {
		return;
	} else if (!any_running(d) && now >= d->link_deadline) {
		log_err(d->nifaces ? "no carrier on any interface"
				   : "no matching network interface");
		finish(d, -ENOLINK);
	} else if (d->dhcp_deadline >= 0 && now >= d->dhcp_deadline) {
		log_err("no DHCP lease within %d ms", d->cfg.timeout_ms);
		stop_clients(d, -1);
		finish(d, -ETIMEDOUT);
	} else {
		int64_t next = d->dhcp_deadline;
		int poll = d->links.fd >= 0 ? LINK_POLL_EVENTS_MS : LINK_POLL_MS;
		if (waiting || d->nifaces == 0)
			next = next < 0 ? now + poll : MIN(next, now + poll);
		d->timer.deadline = next;
	}
}

static void on_timer(struct ev_source *src)
{
	struct dhcpc *d = src->ctx;

	if (!d->finished)
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
	return d->winner >= 0 ? &d->lease : NULL;
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
};

static void run_done(struct dhcpc *d, int status, void *ctx)
{
	struct run_state *rs = ctx;

	(void)d;
	rs->done = true;
	rs->status = status;
}

int dhcpc_run(const struct dhcpc_config *cfg, struct dhcpc_lease *out)
{
	struct run_state rs = { false, 0 };
	struct ev_loop loop;
	struct dhcpc *d = NULL;
	int r = ev_loop_init(&loop);

	if (r < 0)
		return r;
	r = dhcpc_start(&loop, cfg, run_done, &rs, &d);
	if (r == 0 && (r = ev_run_until(&loop, ev_flag_done, &rs.done, -1)) < 0)
		log_err("DHCP stopped: the event loop failed: %s", strerror(-r));
	if (r == 0 && rs.status == 0 && out)
		*out = d->lease;
	if (r == 0)
		r = rs.status;
	dhcpc_stop(d);
	ev_loop_close(&loop);
	return r;
}
