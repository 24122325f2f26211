/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink requests and replies (linux/rtnetlink.h, RFC 3549). Netlink is
 * in host byte order; every message and attribute length from the kernel
 * is checked against what is left before it is used.
 */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nl.h"
#include "util.h"

#define NL_ALIGN(n) (((n) + 3u) & ~3u)
#define NL_RECV_BUF 32768

/* A request under construction: nlmsghdr, a fixed header, attributes. */
struct nl_req {
	union {
		struct nlmsghdr hdr;
		uint8_t buf[512];
	};
	size_t len;
};

static void req_init(struct nl_req *r, uint16_t type, uint16_t flags,
		     const void *body, size_t body_len)
{
	memset(r, 0, sizeof(*r));
	r->hdr.nlmsg_type = type;
	r->hdr.nlmsg_flags = NLM_F_REQUEST | flags;
	memcpy(r->buf + NLMSG_HDRLEN, body, body_len);
	r->len = NLMSG_HDRLEN + NL_ALIGN(body_len);
}

static int req_attr(struct nl_req *r, uint16_t type, const void *data,
		    size_t len)
{
	struct rtattr rta = { .rta_len = (unsigned short)RTA_LENGTH(len),
			      .rta_type = type };

	if (r->len + RTA_SPACE(len) > sizeof(r->buf))
		return -ENOSPC;
	memcpy(r->buf + r->len, &rta, sizeof(rta));
	memcpy(r->buf + r->len + RTA_LENGTH(0), data, len);
	r->len += RTA_SPACE(len);
	return 0;
}

/* A nested attribute: start notes where its header is, end sets its
 * length to cover what was added since. */
static int req_nest_start(struct nl_req *r, uint16_t type, size_t *at)
{
	struct rtattr rta = { .rta_len = (unsigned short)RTA_LENGTH(0),
			      .rta_type = type };

	if (r->len + RTA_SPACE(0) > sizeof(r->buf))
		return -ENOSPC;
	*at = r->len;
	memcpy(r->buf + r->len, &rta, sizeof(rta));
	r->len += RTA_SPACE(0);
	return 0;
}

static void req_nest_end(struct nl_req *r, size_t at)
{
	struct rtattr rta;

	memcpy(&rta, r->buf + at, sizeof(rta));
	rta.rta_len = (unsigned short)(r->len - at);
	memcpy(r->buf + at, &rta, sizeof(rta));
}

int nl_open(struct nl_sock *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	nl->seq = (uint32_t)now_ms();
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return -errno;
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(nl->fd);
		nl->fd = -1;
		return r;
	}
	return 0;
}

int nl_open_link_events(void)
{
	/* v6 addresses and routes too: SLAAC's and DAD's ends wake the wait */
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK | RTMGRP_IPV6_IFADDR |
					       RTMGRP_IPV6_ROUTE };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	int r;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

bool nl_drain_events(int fd)
{
	uint8_t buf[4096];
	bool any = false;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && (errno == ENOBUFS || errno == EINTR)))
			any = true;     /* ENOBUFS: some were lost, which counts too */
		else
			return any;
	}
}

void nl_close(struct nl_sock *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

int nl_attr_walk(const uint8_t *p, size_t len,
		 int (*fn)(uint16_t type, const uint8_t *v, size_t len,
			   void *ctx),
		 void *ctx)
{
	while (len >= sizeof(struct rtattr)) {
		struct rtattr rta;
		memcpy(&rta, p, sizeof(rta));
		if (rta.rta_len < sizeof(rta) || rta.rta_len > len)
			return -EBADMSG;
		int r = fn(rta.rta_type, p + RTA_LENGTH(0),
			   rta.rta_len - RTA_LENGTH(0), ctx);
		if (r < 0)
			return r;
		size_t step = NL_ALIGN(rta.rta_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

/* Handles one reply message: 1 when the request is finished, 0 to read
 * on, or a negative errno from an NLMSG_ERROR. */
static int handle_reply(const struct nlmsghdr *h, const uint8_t *body,
			size_t body_len,
			int (*fn)(const struct nlmsghdr *, const uint8_t *,
				  size_t, void *),
			void *ctx)
{
	if (h->nlmsg_type == NLMSG_DONE)
		return 1;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr e;
		if (body_len < sizeof(e))
			return -EBADMSG;
		memcpy(&e, body, sizeof(e));
		return e.error < 0 ? e.error : 1;
	}
	if (fn) {
		int r = fn(h, body, body_len, ctx);
		if (r < 0)
			return r;
	}
	return (h->nlmsg_flags & NLM_F_MULTI) ? 0 : 1;
}

/* Walks the messages of one datagram; each must fit what is left. */
static int handle_datagram(const uint8_t *p, size_t len, uint32_t seq,
			   int (*fn)(const struct nlmsghdr *, const uint8_t *,
				     size_t, void *),
			   void *ctx)
{
	while (len >= NLMSG_HDRLEN) {
		struct nlmsghdr h;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
			return -EBADMSG;
		if (h.nlmsg_seq == seq) {
			int r = handle_reply(&h, p + NLMSG_HDRLEN,
					     h.nlmsg_len - NLMSG_HDRLEN, fn,
					     ctx);
			if (r != 0)
				return r;
		}
		size_t step = NL_ALIGN(h.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

/* Sends r and reads until its ACK, error or NLMSG_DONE. */
static int transact(struct nl_sock *nl, struct nl_req *r,
		    int (*fn)(const struct nlmsghdr *, const uint8_t *, size_t,
			      void *),
		    void *ctx)
{
	uint8_t buf[NL_RECV_BUF] __attribute__((aligned(4)));
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int res = 0;

	r->hdr.nlmsg_len = (uint32_t)r->len;
	r->hdr.nlmsg_seq = ++nl->seq;
	r->hdr.nlmsg_flags |= NLM_F_ACK;
	if (sendto(nl->fd, r->buf, r->len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	/* bounded: the kernel ends every request with an ACK or DONE */
	for (int i = 0; i < 10000 && res == 0; i++) {
		ssize_t n = recv(nl->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		res = handle_datagram(buf, (size_t)n, nl->seq, fn, ctx);
	}
	return res < 0 ? res : 0;
}

/* ---- Links ---- */

static int linkinfo_attr(uint16_t type, const uint8_t *v, size_t len, void *ctx)
{
	struct nl_link *l = ctx;

	if (type == IFLA_INFO_KIND && strnlen((const char *)v, len) == 4 &&
	    !memcmp(v, "vlan", 4))
		l->is_vlan = true;
	return 0;
}

static int link_attr(uint16_t type, const uint8_t *v, size_t len, void *ctx)
{
	struct nl_link *l = ctx;

	if (type == IFLA_IFNAME && len > 0) {
		size_t n = strnlen((const char *)v, len);
		if (n >= sizeof(l->name))
			return -EBADMSG;
		memcpy(l->name, v, n);
		l->name[n] = '\0';
	} else if (type == IFLA_ADDRESS && len == 6) {
		memcpy(l->mac, v, 6);
		l->have_mac = true;
	} else if (type == IFLA_MTU && len == 4) {
		memcpy(&l->mtu, v, 4);
	} else if (type == IFLA_LINKINFO) {
		return nl_attr_walk(v, len, linkinfo_attr, l);
	}
	return 0;
}

static int parse_link(const uint8_t *body, size_t len, struct nl_link *l)
{
	struct ifinfomsg ifi;

	if (len < sizeof(ifi))
		return -EBADMSG;
	memcpy(&ifi, body, sizeof(ifi));
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi.ifi_index;
	l->type = ifi.ifi_type;
	l->flags = ifi.ifi_flags;
	l->carrier = (ifi.ifi_flags & IFF_LOWER_UP) != 0;
	return nl_attr_walk(body + NL_ALIGN(sizeof(ifi)),
			    len - MIN(len, NL_ALIGN(sizeof(ifi))), link_attr, l);
}

struct link_list {
	struct nl_link *links;
	int max, n;
};

static int on_link(const struct nlmsghdr *h, const uint8_t *body, size_t len,
		   void *ctx)
{
	struct link_list *ll = ctx;

	if (h->nlmsg_type != RTM_NEWLINK || ll->n >= ll->max)
		return 0;
	if (parse_link(body, len, &ll->links[ll->n]) < 0)
		return 0; /* skip a link we cannot read */
	ll->n++;
	return 0;
}

int nl_link_list(struct nl_sock *nl, struct nl_link *links, int max)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct link_list ll = { links, max, 0 };
	struct nl_req r;
	int err;

	req_init(&r, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
	err = transact(nl, &r, on_link, &ll);
	return err < 0 ? err : ll.n;
}

int nl_link_get(struct nl_sock *nl, int ifindex, struct nl_link *link)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct link_list ll = { link, 1, 0 };
	struct nl_req r;
	int err;

	req_init(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	err = transact(nl, &r, on_link, &ll);
	if (err < 0)
		return err;
	return ll.n == 1 ? 0 : -ENODEV;
}

int nl_link_get_by_name(struct nl_sock *nl, const char *name, struct nl_link *link)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct link_list ll = { link, 1, 0 };
	struct nl_req r;
	int err;

	req_init(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	if (req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1) < 0)
		return -ENOSPC;
	err = transact(nl, &r, on_link, &ll);
	if (err < 0)
		return err;
	return ll.n == 1 ? 0 : -ENODEV;
}

/* What `ip link add link PARENT name NAME type vlan id VID` sends. */
int nl_link_add_vlan(struct nl_sock *nl, int parent, const char *name,
		     uint16_t vid)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	uint32_t link = (uint32_t)parent;
	size_t info, data;
	struct nl_req r;

	req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	if (req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1) < 0 ||
	    req_attr(&r, IFLA_LINK, &link, sizeof(link)) < 0 ||
	    req_nest_start(&r, IFLA_LINKINFO, &info) < 0 ||
	    req_attr(&r, IFLA_INFO_KIND, "vlan", 4) < 0 ||
	    req_nest_start(&r, IFLA_INFO_DATA, &data) < 0 ||
	    req_attr(&r, IFLA_VLAN_ID, &vid, sizeof(vid)) < 0)
		return -ENOSPC;
	req_nest_end(&r, data);
	req_nest_end(&r, info);
	return transact(nl, &r, NULL, NULL);
}

static int link_change(struct nl_sock *nl, int ifindex, unsigned flags,
		       unsigned change, uint16_t attr, const void *v,
		       size_t len)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex,
				 .ifi_flags = flags, .ifi_change = change };
	struct nl_req r;

	req_init(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if (v && req_attr(&r, attr, v, len) < 0)
		return -ENOSPC;
	return transact(nl, &r, NULL, NULL);
}

int nl_link_set_up(struct nl_sock *nl, int ifindex)
{
	return link_change(nl, ifindex, IFF_UP, IFF_UP, 0, NULL, 0);
}

int nl_link_set_mtu(struct nl_sock *nl, int ifindex, uint32_t mtu)
{
	return link_change(nl, ifindex, 0, 0, IFLA_MTU, &mtu, sizeof(mtu));
}

int nl_link_set_name(struct nl_sock *nl, int ifindex, const char *name)
{
	return link_change(nl, ifindex, 0, 0, IFLA_IFNAME, name,
			   strlen(name) + 1);
}

int nl_link_set_mac(struct nl_sock *nl, int ifindex, const uint8_t mac[6])
{
	return link_change(nl, ifindex, 0, 0, IFLA_ADDRESS, mac, 6);
}

/* ---- Addresses and routes ---- */

/* An IPv6 one goes without IFA_F_NODAD: the kernel runs DAD (RFC 4862
 * §5.4), and nl_v6_state() says when the address is past it. */
int nl_addr_add(struct nl_sock *nl, int ifindex, int family, const void *addr,
		uint8_t prefix, struct in_addr broadcast)
{
	struct ifaddrmsg ifa = { .ifa_family = (uint8_t)family, .ifa_prefixlen = prefix,
				 .ifa_scope = RT_SCOPE_UNIVERSE,
				 .ifa_index = (unsigned)ifindex };
	size_t len = family == AF_INET6 ? 16 : 4;
	struct nl_req r;

	/* REPLACE: a second run or a renewal refreshes, never duplicates */
	req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa,
		 sizeof(ifa));
	if (req_attr(&r, IFA_LOCAL, addr, len) < 0 ||
	    req_attr(&r, IFA_ADDRESS, addr, len) < 0 ||
	    (broadcast.s_addr && req_attr(&r, IFA_BROADCAST, &broadcast, 4) < 0))
		return -ENOSPC;
	return transact(nl, &r, NULL, NULL);
}

int nl_route_add(struct nl_sock *nl, const struct nl_route *rt)
{
	struct rtmsg rtm = {
		.rtm_family = rt->gateway6 ? AF_INET6 : AF_INET,
		.rtm_dst_len = rt->prefix,
		.rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_DHCP,
		.rtm_type = RTN_UNICAST,
		.rtm_scope = rt->gateway.s_addr || rt->gateway6 ? RT_SCOPE_UNIVERSE
							       : RT_SCOPE_LINK,
		.rtm_flags = rt->onlink ? RTNH_F_ONLINK : 0,
	};
	uint32_t oif = (uint32_t)rt->ifindex;
	struct nl_req r;

	req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rtm,
		 sizeof(rtm));
	if ((rt->prefix && req_attr(&r, RTA_DST, &rt->dst, 4) < 0) ||
	    req_attr(&r, RTA_OIF, &oif, 4) < 0 ||
	    (rt->gateway.s_addr &&
	     req_attr(&r, RTA_GATEWAY, &rt->gateway, 4) < 0) ||
	    (rt->gateway6 && req_attr(&r, RTA_GATEWAY, rt->gateway6, 16) < 0) ||
	    (rt->prefsrc.s_addr &&
	     req_attr(&r, RTA_PREFSRC, &rt->prefsrc, 4) < 0) ||
	    (rt->metric && req_attr(&r, RTA_PRIORITY, &rt->metric, 4) < 0))
		return -ENOSPC;
	return transact(nl, &r, NULL, NULL);
}

/* ---- IPv6 ---- */

struct v6_walk {
	struct nl_v6 *st;
	int ifindex;
	bool route;            /* an RTM_NEWROUTE, else an RTM_NEWADDR */
	uint32_t flags;        /* IFA_FLAGS, or a route's RTA_OIF */
	const uint8_t *addr;   /* IFA_ADDRESS, or RTA_GATEWAY: 16 bytes */
};

static int v6_attr(uint16_t type, const uint8_t *v, size_t len, void *ctx)
{
	struct v6_walk *w = ctx;

	if (type == (w->route ? RTA_GATEWAY : IFA_ADDRESS) && len == 16)
		w->addr = v;
	else if (type == (w->route ? RTA_OIF : IFA_FLAGS) && len == 4)
		memcpy(&w->flags, v, 4);
	return 0;
}

static void v6_addr(struct v6_walk *w, const struct ifaddrmsg *ifa)
{
	struct nl_v6 *st = w->st;
	bool past_dad = !(w->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));

	if (ifa->ifa_scope == RT_SCOPE_LINK) {
		st->ll_ready |= past_dad;
		return;
	}
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return;
	if (!IN6_IS_ADDR_UNSPECIFIED(&st->want) && memcmp(w->addr, &st->want, 16))
		return;
	if (w->flags & IFA_F_DADFAILED)
		st->dad_failed = true;
	if (past_dad && !st->have_global) {
		st->have_global = true;
		memcpy(&st->global, w->addr, 16);
		st->prefix = ifa->ifa_prefixlen;
	}
}

static int on_v6(const struct nlmsghdr *h, const uint8_t *body, size_t len,
		 void *ctx)
{
	struct v6_walk *w = ctx;
	struct ifaddrmsg ifa;
	struct rtmsg rtm;
	size_t hl = h->nlmsg_type == RTM_NEWADDR ? sizeof(ifa) : sizeof(rtm);

	if (len < hl || (h->nlmsg_type != RTM_NEWADDR &&
			 h->nlmsg_type != RTM_NEWROUTE))
		return 0;
	w->addr = NULL;
	w->flags = 0;
	w->route = h->nlmsg_type == RTM_NEWROUTE;
	if (!w->route) {
		memcpy(&ifa, body, sizeof(ifa));
		w->flags = ifa.ifa_flags;
	} else {
		memcpy(&rtm, body, sizeof(rtm));
	}
	if (nl_attr_walk(body + NL_ALIGN(hl), len - MIN(len, NL_ALIGN(hl)),
			 v6_attr, w) < 0 || !w->addr)
		return 0;
	if (!w->route) {
		if (ifa.ifa_index == (unsigned)w->ifindex)
			v6_addr(w, &ifa);
	} else if (rtm.rtm_dst_len == 0 && rtm.rtm_table == RT_TABLE_MAIN &&
		   w->flags == (uint32_t)w->ifindex) {
		w->st->have_gateway = true;
		memcpy(&w->st->gateway, w->addr, 16);
	}
	return 0;
}

int nl_v6_state(struct nl_sock *nl, int ifindex, struct nl_v6 *st)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET6 };
	struct rtmsg rtm = { .rtm_family = AF_INET6 };
	struct v6_walk w = { .st = st, .ifindex = ifindex };
	struct nl_req r;
	int err;

	st->ll_ready = st->have_global = st->have_gateway = st->dad_failed = false;
	req_init(&r, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
	err = transact(nl, &r, on_v6, &w);
	if (err < 0)
		return err;
	req_init(&r, RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
	return transact(nl, &r, on_v6, &w);
}
