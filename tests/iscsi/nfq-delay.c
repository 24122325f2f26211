/* SPDX-License-Identifier: MIT */
/*
 * A delay line for the packets an iptables rule sends to an NFQUEUE
 * (-j NFQUEUE --queue-num N): each is held for DELAY_MS, then accepted,
 * in arrival order. It stands in for netem's delay where the kernel has
 * no sch_netem but has nfnetlink_queue. Bounded: at most CAP packets are
 * held (the kernel's queue is capped to the same, and drops past it), and
 * the program ends by itself after MAX_SECONDS. Talks nfnetlink directly
 * (linux/netfilter/nfnetlink_queue.h): three config messages, then a
 * packet message in and a verdict out per packet.
 *
 * usage: nfq-delay QUEUE_NUM DELAY_MS [CAP [MAX_SECONDS]]
 * Prints "nfq-delay: queue N ready" once bound, and its counts at the
 * end (SIGTERM, SIGINT or MAX_SECONDS); every packet still held is
 * accepted then.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ALIGN4(n) (((n) + 3u) & ~3u)

struct held {
	uint32_t id;
	int64_t release_at;     /* µs: a packet is never held less than the delay */
};

struct delay {
	int fd;
	uint16_t queue;
	int delay_ms;
	struct held *ring;
	unsigned cap, head, count;
	unsigned long delayed, dropped, lost;
	uint32_t seq;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A message to the queue subsystem: header, nfgenmsg, one attribute. */
static int send_msg(struct delay *d, uint16_t type, uint16_t flags, uint16_t attr,
		    const void *val, uint16_t len)
{
	union {
		uint8_t b[128];
		struct nlmsghdr align;
	} u = { 0 };
	struct nlmsghdr *nh = (struct nlmsghdr *)u.b;
	struct nfgenmsg *g = NLMSG_DATA(nh);
	struct nlattr *a = (struct nlattr *)((uint8_t *)g + NLMSG_ALIGN(sizeof(*g)));

	nh->nlmsg_type = (uint16_t)(NFNL_SUBSYS_QUEUE << 8 | type);
	nh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	nh->nlmsg_seq = ++d->seq;
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(d->queue);
	a->nla_type = attr;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((uint8_t *)a + NLA_HDRLEN, val, len);
	nh->nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)) + ALIGN4(a->nla_len));
	return send(d->fd, nh, nh->nlmsg_len, 0) == (ssize_t)nh->nlmsg_len ? 0 : -errno;
}

/* Sends a config attribute and waits for the kernel's acknowledgement. */
static int configure(struct delay *d, uint16_t attr, const void *val, uint16_t len)
{
	union {
		uint8_t b[4096];
		struct nlmsghdr align;
	} u;
	int r = send_msg(d, NFQNL_MSG_CONFIG, NLM_F_ACK, attr, val, len);

	while (r == 0) {
		ssize_t n = recv(d->fd, u.b, sizeof(u.b), 0);
		struct nlmsghdr *nh = (struct nlmsghdr *)u.b;

		if (n < 0)
			return -errno;
		for (; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n))
			if (nh->nlmsg_type == NLMSG_ERROR && nh->nlmsg_seq == d->seq)
				return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	}
	return r;
}

static int bind_queue(struct delay *d)
{
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	struct nfqnl_msg_config_params params = { .copy_range = 0,
						  .copy_mode = NFQNL_COPY_META };
	uint32_t maxlen = htonl(d->cap);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int rcvbuf = 4 << 20, r;

	d->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	r = configure(d, NFQA_CFG_CMD, &cmd, sizeof(cmd));
	if (r == 0)
		r = configure(d, NFQA_CFG_PARAMS, &params, sizeof(params));
	if (r == 0)
		r = configure(d, NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof(maxlen));
	return r;
}

static void verdict(struct delay *d, uint32_t id, uint32_t v)
{
	struct nfqnl_msg_verdict_hdr vh = { .verdict = htonl(v), .id = htonl(id) };

	if (send_msg(d, NFQNL_MSG_VERDICT, 0, NFQA_VERDICT_HDR, &vh, sizeof(vh)) < 0)
		d->lost++;
}

/* The packet id of a queued packet's message, or -1. */
static int64_t packet_id(struct nlmsghdr *nh)
{
	size_t off = NLMSG_ALIGN(sizeof(struct nfgenmsg));
	size_t len = nh->nlmsg_len - NLMSG_HDRLEN;
	uint8_t *p = NLMSG_DATA(nh);

	if ((nh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET || nh->nlmsg_type >> 8 != NFNL_SUBSYS_QUEUE)
		return -1;
	while (off + NLA_HDRLEN <= len) {
		struct nlattr *a = (struct nlattr *)(p + off);

		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len)
			return -1;
		if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR &&
		    a->nla_len >= NLA_HDRLEN + sizeof(struct nfqnl_msg_packet_hdr)) {
			struct nfqnl_msg_packet_hdr ph;

			memcpy(&ph, (uint8_t *)a + NLA_HDRLEN, sizeof(ph));
			return ntohl(ph.packet_id);
		}
		off += ALIGN4(a->nla_len);
	}
	return -1;
}

static void hold(struct delay *d, uint32_t id)
{
	if (d->count == d->cap) {
		verdict(d, id, NF_DROP);
		d->dropped++;
		return;
	}
	d->ring[(d->head + d->count) % d->cap] =
		(struct held){ id, mono_us() + d->delay_ms * 1000ll };
	d->count++;
	d->delayed++;
}

static void release_due(struct delay *d, int64_t now)
{
	while (d->count && d->ring[d->head].release_at <= now) {
		verdict(d, d->ring[d->head].id, NF_ACCEPT);
		d->head = (d->head + 1) % d->cap;
		d->count--;
	}
}

static void receive(struct delay *d)
{
	union {
		uint8_t b[65536];
		struct nlmsghdr align;
	} u;
	ssize_t n = recv(d->fd, u.b, sizeof(u.b), MSG_DONTWAIT);

	if (n < 0) {
		/* ENOBUFS: messages were lost; their packets stay in the
		 * kernel's queue, which is capped. */
		if (errno == ENOBUFS)
			d->lost++;
		return;
	}
	for (struct nlmsghdr *nh = (struct nlmsghdr *)u.b; NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		int64_t id = packet_id(nh);

		if (id >= 0)
			hold(d, (uint32_t)id);
	}
}

int main(int argc, char **argv)
{
	struct delay d = { .fd = -1, .cap = 1024 };
	int64_t end;
	int r;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: nfq-delay QUEUE_NUM DELAY_MS [CAP [MAX_SECONDS]]\n");
		return 2;
	}
	d.queue = (uint16_t)atoi(argv[1]);
	d.delay_ms = atoi(argv[2]);
	if (argc > 3)
		d.cap = (unsigned)atoi(argv[3]);
	end = mono_us() + (argc > 4 ? atoi(argv[4]) : 600) * 1000000ll;
	if (d.delay_ms < 0 || d.delay_ms > 10000 || d.cap < 1 || d.cap > 65536) {
		fprintf(stderr, "nfq-delay: DELAY_MS 0..10000, CAP 1..65536\n");
		return 2;
	}
	d.ring = calloc(d.cap, sizeof(*d.ring));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (!d.ring || (r = bind_queue(&d)) < 0) {
		fprintf(stderr, "nfq-delay: cannot bind queue %u: %s\n", d.queue,
			strerror(d.ring ? -r : ENOMEM));
		return 1;
	}
	printf("nfq-delay: queue %u ready, %d ms, at most %u held\n", d.queue, d.delay_ms, d.cap);
	fflush(stdout);
	while (!stop && mono_us() < end) {
		/* until the oldest packet is due, rounded up; at most 100 ms */
		int64_t wait = d.count ? (d.ring[d.head].release_at - mono_us() + 999) / 1000 : 100;
		struct pollfd p = { .fd = d.fd, .events = POLLIN };

		if (wait > 0 && poll(&p, 1, wait < 100 ? (int)wait : 100) > 0)
			receive(&d);
		release_due(&d, mono_us());
	}
	while (d.count) {
		verdict(&d, d.ring[d.head].id, NF_ACCEPT);
		d.head = (d.head + 1) % d.cap;
		d.count--;
	}
	printf("nfq-delay: %lu packets delayed by %d ms, %lu dropped (queue full), "
	       "%lu messages lost\n", d.delayed, d.delay_ms, d.dropped, d.lost);
	close(d.fd);
	free(d.ring);
	return 0;
}
