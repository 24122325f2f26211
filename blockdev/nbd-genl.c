/* SPDX-License-Identifier: MIT */
/* Generic netlink for NBD: resolve the "nbd" family, then CONNECT with the
 * size, block size, flags, timeouts and the sockets; RECONFIGURE with a
 * socket that replaces a dead one. */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/nbd-netlink.h>
#include <linux/nbd.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nbd-genl.h"

/* A request unanswered this long makes the driver declare its socket
 * dead and queue the request again, to be sent on the socket that
 * replaces it (RECONFIGURE). That is how the requests a dead server had
 * taken reach the next one; a live server sees its socket closed, waits
 * for what it still runs and replaces the socket itself (nbd.c). */
#define NBD_REQUEST_TIMEOUT_S 30u
/* How long requests wait for a replacement once every socket is dead,
 * instead of failing at once: as long as the machine may need. */
#define NBD_DEAD_CONN_TIMEOUT_S (30ull * 24 * 3600)

struct msgbuf {
	uint8_t buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t len;
	bool overflow;
};

static struct nlattr *attr_put(struct msgbuf *m, uint16_t type, const void *data,
			       size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);
	size_t total = NLA_ALIGN(NLA_HDRLEN + len);

	if (m->overflow || m->len + total > sizeof(m->buf)) {
		m->overflow = true;
		return NULL;
	}
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	memset((uint8_t *)a + NLA_HDRLEN + len, 0, total - NLA_HDRLEN - len);
	m->len += total;
	return a;
}

static void attr_u32(struct msgbuf *m, uint16_t type, uint32_t v)
{
	attr_put(m, type, &v, sizeof(v));
}

static void attr_u64(struct msgbuf *m, uint16_t type, uint64_t v)
{
	attr_put(m, type, &v, sizeof(v));
}

static struct nlattr *nest_start(struct msgbuf *m, uint16_t type)
{
	return attr_put(m, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct msgbuf *m, struct nlattr *a)
{
	if (a)
		a->nla_len = (uint16_t)(m->buf + m->len - (uint8_t *)a);
}

static void msg_start(struct msgbuf *m, uint16_t family, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *g = (struct genlmsghdr *)NLMSG_DATA(h);

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	h->nlmsg_type = family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = 1;
	g->cmd = cmd;
	g->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->overflow = false;
}

/* Walks the attributes after the genl header of a reply. */
static int find_attr(const uint8_t *p, size_t len, uint16_t type,
		     const uint8_t **val, size_t *vlen)
{
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t alen = a->nla_len;
		if (alen < NLA_HDRLEN || alen > len)
			return -EBADMSG;
		if ((a->nla_type & NLA_TYPE_MASK) == type) {
			*val = p + NLA_HDRLEN;
			*vlen = alen - NLA_HDRLEN;
			return 0;
		}
		alen = NLA_ALIGN(alen);
		if (alen >= len)
			break;
		p += alen;
		len -= alen;
	}
	return -ENOENT;
}

/* Sends m and reads replies until the ACK. A reply carrying attributes is
 * handed to on_reply. Returns the kernel's error (negative) or 0. */
static int transact(struct msgbuf *m, int (*on_reply)(const uint8_t *attrs,
						       size_t len, void *ctx),
		    void *ctx)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint8_t rx[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, r = -EIO;

	if (m->overflow)
		return -E2BIG;
	((struct nlmsghdr *)m->buf)->nlmsg_len = (uint32_t)m->len;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (sendto(fd, m->buf, m->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = recv(fd, rx, sizeof(rx), 0);
		if (n < 0) {
			r = -errno;
			goto out;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				r = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? e->error : -EBADMSG;
				goto out;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
				continue;
			if (on_reply) {
				r = on_reply((const uint8_t *)NLMSG_DATA(h) + GENL_HDRLEN,
					     h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), ctx);
				if (r < 0)
					goto out;
			}
		}
	}
out:
	close(fd);
	return r;
}

static int family_reply(const uint8_t *attrs, size_t len, void *ctx)
{
	const uint8_t *v;
	size_t vlen;

	if (find_attr(attrs, len, CTRL_ATTR_FAMILY_ID, &v, &vlen) == 0 && vlen >= 2)
		memcpy(ctx, v, 2);
	return 0;
}

static int resolve_family(uint16_t *id)
{
	struct msgbuf m;
	int r;

	*id = 0;
	msg_start(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	attr_put(&m, CTRL_ATTR_FAMILY_NAME, NBD_GENL_FAMILY_NAME,
		 sizeof(NBD_GENL_FAMILY_NAME));
	r = transact(&m, family_reply, id);
	if (r == 0 && *id == 0)
		r = -ENOENT;
	return r;
}

static int index_reply(const uint8_t *attrs, size_t len, void *ctx)
{
	const uint8_t *v;
	size_t vlen;

	if (find_attr(attrs, len, NBD_ATTR_INDEX, &v, &vlen) == 0 && vlen >= 4)
		memcpy(ctx, v, 4);
	return 0;
}

uint64_t nbd_server_flags(const struct bdev_config *cfg)
{
	uint64_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_CAN_MULTI_CONN;

	if (cfg->read_only)
		f |= NBD_FLAG_READ_ONLY;
	if (cfg->can_flush)
		f |= NBD_FLAG_SEND_FLUSH;
	if (cfg->can_fua)
		f |= NBD_FLAG_SEND_FUA;
	if (cfg->can_discard)
		f |= NBD_FLAG_SEND_TRIM;
	return f;
}

static void put_sockets(struct msgbuf *m, const int *fds, unsigned n)
{
	struct nlattr *socks = nest_start(m, NBD_ATTR_SOCKETS);

	for (unsigned i = 0; i < n; i++) {
		struct nlattr *item = nest_start(m, NBD_SOCK_ITEM);
		attr_u32(m, NBD_SOCK_FD, (uint32_t)fds[i]);
		nest_end(m, item);
	}
	nest_end(m, socks);
}

int nbd_genl_connect(const struct bdev_config *cfg, const int *fds, unsigned n,
		     int *index, char *err, size_t errlen)
{
	struct msgbuf m;
	uint16_t family;
	uint32_t chosen = UINT32_MAX;
	int r = resolve_family(&family);

	if (r < 0) {
		snprintf(err, errlen, "the kernel has no NBD netlink family (%s); is the nbd "
			 "module loaded?", strerror(-r));
		return r;
	}
	msg_start(&m, family, NBD_CMD_CONNECT, NBD_GENL_VERSION);
	if (*index >= 0)
		attr_u32(&m, NBD_ATTR_INDEX, (uint32_t)*index);
	attr_u64(&m, NBD_ATTR_SIZE_BYTES, cfg->size);
	attr_u64(&m, NBD_ATTR_BLOCK_SIZE_BYTES, cfg->block_size);
	attr_u64(&m, NBD_ATTR_SERVER_FLAGS, nbd_server_flags(cfg));
	attr_u64(&m, NBD_ATTR_TIMEOUT, NBD_REQUEST_TIMEOUT_S);
	attr_u64(&m, NBD_ATTR_DEAD_CONN_TIMEOUT, NBD_DEAD_CONN_TIMEOUT_S);
	put_sockets(&m, fds, n);
	r = transact(&m, index_reply, &chosen);
	if (r < 0) {
		snprintf(err, errlen, "NBD connect failed: %s", strerror(-r));
		return r;
	}
	if (chosen == UINT32_MAX && *index < 0) {
		snprintf(err, errlen, "NBD connect: the kernel named no device");
		return -EBADMSG;
	}
	if (chosen != UINT32_MAX)
		*index = (int)chosen;
	return 0;
}

/* A command about an existing device: its index, and a socket or none. */
static int device_command(uint8_t cmd, int index, const int *fd)
{
	struct msgbuf m;
	uint16_t family;
	int r = resolve_family(&family);

	if (r < 0)
		return r;
	msg_start(&m, family, cmd, NBD_GENL_VERSION);
	attr_u32(&m, NBD_ATTR_INDEX, (uint32_t)index);
	if (fd)
		put_sockets(&m, fd, 1);
	return transact(&m, NULL, NULL);
}

int nbd_genl_disconnect(int index)
{
	return device_command(NBD_CMD_DISCONNECT, index, NULL);
}

int nbd_genl_reconfigure(int index, int fd)
{
	return device_command(NBD_CMD_RECONFIGURE, index, &fd);
}
