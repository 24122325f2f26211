/* SPDX-License-Identifier: MIT */
/* `iscsiroot status`: the daemon answers on a unix socket under /run
 * (root only: the folder is 0700, the socket 0600, and the peer must be
 * uid 0) with its disk, policy and paths: one text block, a NUL, then
 * the same as one JSON object. Nothing is read from the client, so a
 * client cannot make the daemon wait; the answer (a few KiB) fits in a
 * fresh socket's buffer and goes in one non-blocking send. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

#define STATUS_MAX 8192

struct out {
	char buf[STATUS_MAX];
	size_t len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= sizeof(o->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	o->len = n < 0 ? o->len : MIN(o->len + (size_t)n, sizeof(o->buf));
}

/* A JSON string of what a target said: quotes, backslashes and control
 * bytes escaped, bytes above 0x7e as \u00XX (a designator is ASCII; a
 * target's bytes are not trusted to be UTF-8). */
static void put_json_string(struct out *o, const char *s)
{
	put(o, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			put(o, "\\u%04x", c);
		else
			put(o, "%c", c);
	}
	put(o, "\"");
}

/* The LUN as a number, as users write it (SAM's flat or peripheral form). */
static unsigned long long lun_number(const struct serve *srv)
{
	uint64_t n = serve_lun(srv);

	scsi_lun_to_number(serve_lun(srv), &n);
	return (unsigned long long)n;
}

static void put_text(struct out *o, const struct serve *srv, const char *dev)
{
	const struct iscsi_disk *d = serve_disk(srv);
	const struct iscsi_mpath *m = serve_mpath(srv);

	put(o, "disk %s: %s %s, LUN %llu, %llu blocks of %u bytes\n", dev, d->inquiry.vendor,
	    d->inquiry.product, lun_number(srv),
	    (unsigned long long)d->capacity.blocks, d->capacity.block_size);
	put(o, "identity: designator %s, serial %s\n", *d->designator ? d->designator : "none",
	    *d->serial ? d->serial : "none");
	put(o, "policy %s, %u path%s, %u failover%s\n",
	    iscsi_mpath_policy_name(serve_policy(srv)), iscsi_mpath_paths(m),
	    iscsi_mpath_paths(m) == 1 ? "" : "s", iscsi_mpath_failovers(m),
	    iscsi_mpath_failovers(m) == 1 ? "" : "s");
	for (unsigned i = 0; i < iscsi_mpath_paths(m); i++) {
		const struct iscsi_session *s = iscsi_mpath_session(m, i);
		struct iscsi_mpath_path_info info;
		char hp[HOST_PORT_LEN];

		iscsi_mpath_path_info(m, i, &info);
		put(o, "path %u %s %s: %s, %u reconnect%s, %llu command%s%s\n", i + 1,
		    host_port(hp, iscsi_session_host(s), iscsi_session_port(s)),
		    iscsi_session_target(s),
		    info.state, info.reconnects, info.reconnects == 1 ? "" : "s",
		    (unsigned long long)info.commands, info.commands == 1 ? "" : "s",
		    info.mismatches ? ", another disk seen" : "");
	}
}

static void put_json(struct out *o, const struct serve *srv, const char *dev)
{
	const struct iscsi_disk *d = serve_disk(srv);
	const struct iscsi_mpath *m = serve_mpath(srv);

	put(o, "{\"device\":");
	put_json_string(o, dev);
	put(o, ",\"lun\":%llu,\"blocks\":%llu,\"block_size\":%u,\"vendor\":",
	    lun_number(srv), (unsigned long long)d->capacity.blocks,
	    d->capacity.block_size);
	put_json_string(o, d->inquiry.vendor);
	put(o, ",\"product\":");
	put_json_string(o, d->inquiry.product);
	put(o, ",\"designator\":");
	put_json_string(o, d->designator);
	put(o, ",\"serial\":");
	put_json_string(o, d->serial);
	put(o, ",\"policy\":\"%s\",\"failovers\":%u,\"paths\":[",
	    iscsi_mpath_policy_name(serve_policy(srv)), iscsi_mpath_failovers(m));
	for (unsigned i = 0; i < iscsi_mpath_paths(m); i++) {
		const struct iscsi_session *s = iscsi_mpath_session(m, i);
		struct iscsi_mpath_path_info info;

		iscsi_mpath_path_info(m, i, &info);
		put(o, "%s{\"host\":", i ? "," : "");
		put_json_string(o, iscsi_session_host(s));
		put(o, ",\"port\":%u,\"target\":", iscsi_session_port(s));
		put_json_string(o, iscsi_session_target(s));
		put(o, ",\"state\":\"%s\",\"reconnects\":%u,\"commands\":%llu,\"mismatches\":%u}",
		    info.state, info.reconnects, (unsigned long long)info.commands,
		    info.mismatches);
	}
	put(o, "]}\n");
}

static bool peer_is_root(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == 0;
}

static void on_status_client(struct ev_source *src, uint32_t revents)
{
	struct serve_status *st = src->ctx;
	struct out *o;
	int fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)revents;
	if (fd < 0)
		return;
	o = peer_is_root(fd) ? malloc(sizeof(*o)) : NULL;
	if (o) {
		o->len = 0;
		put_text(o, st->srv, st->dev);
		put(o, "%c", '\0');    /* counted: vsnprintf returns 1 */
		put_json(o, st->srv, st->dev);
		if (send(fd, o->buf, o->len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			log_debug("status: %s", strerror(errno));
		free(o);
	}
	close(fd);
}

/* /run/iscsiroot/nbd0.sock for /dev/nbd0. */
static int socket_path(const char *dev, char *out, size_t len)
{
	const char *base = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	int n = snprintf(out, len, "%s/%s.sock", SERVE_STATUS_DIR, base);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int serve_status_start(struct serve_status *st, struct ev_loop *loop, const struct serve *srv,
		       const char *dev)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	st->srv = srv;
	snprintf(st->dev, sizeof(st->dev), "%s", dev);
	r = socket_path(dev, sa.sun_path, sizeof(sa.sun_path));
	if (r < 0)
		return r;
	if (mkdir(SERVE_STATUS_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);    /* a dead worker's: a new one takes over */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0600) < 0 ||
	    listen(fd, 4) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	st->src = (struct ev_source){ .fd = fd, .events = EPOLLIN, .deadline = -1,
				      .on_io = on_status_client, .ctx = st };
	r = ev_add(loop, &st->src);
	if (r < 0)
		close(fd);
	return r;
}
