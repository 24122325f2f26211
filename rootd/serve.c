/* SPDX-License-Identifier: MIT */
/* The daemon's data path: block requests from the kernel (NBD or ublk)
 * become SCSI commands on the iSCSI session. Requests larger than one
 * command may carry are split; each part waits out any reconnect in the
 * session. Every part reads into or writes from the request's own buffer
 * (the backend's: ublk's per-tag buffer), so no payload is copied here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "blockdev.h"
#include "daemon.h"

/* Shutdown, as the daemon sees it through /proc/self/mountinfo: once no
 * read-write mount of our disk or its partitions is left (the final
 * remount read-only or umount has returned, so the kernel has written
 * everything), the last writer is gone and we SYNCHRONIZE CACHE. Once no
 * mount is left at all and nothing is pending, we log out; a request that
 * comes after that logs in again. Power-off with a mount still there
 * (e.g. busybox's poweroff -f) relies on the FLUSH that sync() sends. */
struct mount_watch {
	struct ev_source src;
	dev_t disk;                     /* NBD: partitions follow in the minors */
	dev_t parts[16];                /* ublk's are dynamic (blkext): from sysfs */
	unsigned nparts;
	bool seen_rw;
	bool flushed;
	bool seen_mount;
	struct iscsi_task flush;
	bool flush_busy;
};

struct serve {
	struct ev_loop *loop;
	struct iscsi_mpath *mpath;      /* every path; one to start with */
	struct iscsi_session *session;  /* the path the disk was probed on */
	struct iscsi_disk disk;
	const struct bdev_ops *ops;
	void *bdev;
	struct mount_watch watch;
	int trace_fd;                   /* iscsiroot.trace=; -1: none */
	enum iscsi_mpath_policy policy;
	struct serve_status status;     /* iscsiroot status */
	unsigned reads_inflight;
};

struct serve_io {
	struct iscsi_task task;
	struct serve *s;
	struct bdev_io *io;
	uint64_t done;                  /* bytes of io handled so far */
	uint32_t part;                  /* bytes of the command in flight */
	uint8_t unmap_params[24];
};

static void issue_part(struct serve_io *sio);

static uint32_t part_bytes(const struct serve *s, const struct bdev_io *io,
			   uint64_t done)
{
	uint64_t left = io->len - done;
	uint64_t max = s->disk.max_xfer_bytes ? s->disk.max_xfer_bytes : left;

	if (io->op == BDEV_OP_DISCARD)
		max = (uint64_t)s->disk.limits.max_unmap_lba_count * s->disk.capacity.block_size;
	return (uint32_t)MIN(left, max ? max : left);
}

/* iscsiroot.trace=PATH: one line per read request as it comes from the
 * kernel, "T_US OFFSET LEN DEPTH": CLOCK_MONOTONIC in microseconds, bytes,
 * and the reads in flight here with this one, which bench/storm.sh
 * replays as the queue depth. A failed write ends the trace, not I/O. */
static void trace_read(struct serve *s, const struct bdev_io *io)
{
	struct timespec ts;
	char line[96];
	int n;

	if (s->trace_fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%lld %llu %llu %u\n",
		     (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
		     (unsigned long long)io->offset, (unsigned long long)io->len,
		     s->reads_inflight);
	if (write(s->trace_fd, line, (size_t)n) != n) {
		log_warn("trace: write failed (%s); tracing stopped", strerror(errno));
		close(s->trace_fd);
		s->trace_fd = -1;
	}
}

/* The header: what the columns are, and the disk the offsets are on. */
static void trace_open(struct serve *s, const char *path)
{
	const struct scsi_capacity *c = &s->disk.capacity;

	s->trace_fd = -1;
	if (!path)
		return;
	s->trace_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (s->trace_fd < 0) {
		log_warn("trace: cannot open %s: %s", path, strerror(errno));
		return;
	}
	dprintf(s->trace_fd, "# iscsiroot read trace: t_us offset len depth\n"
		"# capacity=%llu block=%u\n",
		(unsigned long long)(c->blocks * c->block_size), c->block_size);
	log_info("tracing reads to %s", path);
}

/* The request is answered: r is 0 or a negative errno. */
static void finish(struct serve_io *sio, int r)
{
	if (sio->io->op == BDEV_OP_READ)
		sio->s->reads_inflight--;
	sio->s->ops->complete(sio->io, r);
	free(sio);
}

static void part_done(struct iscsi_task *t)
{
	struct serve_io *sio = t->ctx;
	char msg[240];
	int r = iscsi_task_status(t, msg, sizeof(msg));

	if (r < 0) {
		log_err("%s at byte %llu failed: %s",
			sio->io->op == BDEV_OP_READ ? "read" : "write",
			(unsigned long long)(sio->io->offset + sio->done), msg);
		finish(sio, r);
		return;
	}
	sio->done += sio->part;
	if (sio->io->op == BDEV_OP_FLUSH || sio->done >= sio->io->len) {
		finish(sio, 0);
		return;
	}
	issue_part(sio);
}

static void issue_part(struct serve_io *sio)
{
	struct serve *s = sio->s;
	struct bdev_io *io = sio->io;
	uint32_t bs = s->disk.capacity.block_size;
	uint64_t lba = (io->offset + sio->done) / bs;
	uint32_t len = part_bytes(s, io, sio->done);
	int r;

	switch (io->op) {
	case BDEV_OP_READ:
	case BDEV_OP_WRITE:
		iscsi_disk_rw(&s->disk, &sio->task, io->op == BDEV_OP_WRITE, lba,
			      len / bs, io->buf + sio->done, io->fua);
		break;
	case BDEV_OP_FLUSH:
		iscsi_disk_flush(&s->disk, &sio->task);
		break;
	case BDEV_OP_DISCARD:
		iscsi_disk_unmap(&s->disk, &sio->task, lba, len / bs, sio->unmap_params);
		break;
	}
	sio->part = len;
	sio->task.done = part_done;
	sio->task.ctx = sio;
	r = iscsi_mpath_submit(s->mpath, &sio->task);
	if (r < 0)
		finish(sio, r);
}

static void on_block_request(void *ctx, struct bdev_io *io)
{
	struct serve_io *sio = calloc(1, sizeof(*sio));
	struct serve *s = ctx;

	if (!sio) {
		s->ops->complete(io, -ENOMEM);
		return;
	}
	if (iscsi_mpath_closed(s->mpath)) {
		log_info("I/O after logout: logging in again");
		iscsi_mpath_start(s->mpath);
	}
	sio->s = ctx;
	sio->io = io;
	if (io->op == BDEV_OP_READ) {
		s->reads_inflight++;
		trace_read(s, io);
	}
	issue_part(sio);
}

static bool watched_dev(const struct mount_watch *w, dev_t dev)
{
	if (major(dev) == major(w->disk) && minor(dev) >= minor(w->disk) &&
	    minor(dev) <= minor(w->disk) + 15)
		return true;
	for (unsigned i = 0; i < w->nparts; i++)
		if (w->parts[i] == dev)
			return true;
	return false;
}

/* "MAJOR:MINOR" at s (sysfs dev files, mountinfo's third field), without
 * sscanf, whose float parsing would weigh more than all of this file. */
static bool parse_devnum(const char *s, dev_t *out)
{
	char *end;
	unsigned long maj = strtoul(s, &end, 10), min;

	if (end == s || *end != ':')
		return false;
	s = end + 1;
	min = strtoul(s, &end, 10);
	if (end == s || (*end && *end != ' ' && *end != '\n'))
		return false;
	*out = makedev(maj, min);
	return true;
}

/* The field'th space-separated field of line (0-based), or NULL. */
static const char *field(const char *line, unsigned n)
{
	for (; n > 0 && line; n--) {
		line = strchr(line, ' ');
		if (line)
			line++;
	}
	return line;
}

/* The partitions' device numbers, from /sys/class/block/DISK/DISKpN/dev:
 * read now, as after the pivot our /sys is gone. */
static void find_partitions(struct mount_watch *w, const char *dev)
{
	const char *name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	char path[160], text[32];

	for (unsigned n = 1; n <= 64 && w->nparts < ARRAY_SIZE(w->parts); n++) {
		dev_t d;
		snprintf(path, sizeof(path), "/sys/class/block/%s/%sp%u/dev", name, name, n);
		if (read_text_file(path, text, sizeof(text)) == 0 && parse_devnum(text, &d))
			w->parts[w->nparts++] = d;
	}
}

/* Counts the mounts of our disk: rw ones and all. */
static void count_mounts(struct mount_watch *w, int *rw, int *all)
{
	char buf[65536];
	ssize_t n;
	char *line, *save = NULL;

	*rw = *all = 0;
	if (lseek(w->src.fd, 0, SEEK_SET) < 0)
		return;
	n = read(w->src.fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... */
		const char *devnum = field(line, 2), *opts = field(line, 5);
		dev_t d;
		if (!devnum || !opts || !parse_devnum(devnum, &d) || !watched_dev(w, d))
			continue;
		(*all)++;
		if (!strncmp(opts, "rw", 2) && (opts[2] == ',' || opts[2] == ' ' || !opts[2]))
			(*rw)++;
	}
}

static void flush_done(struct iscsi_task *t)
{
	struct mount_watch *w = t->ctx;
	char msg[240];

	w->flush_busy = false;
	if (iscsi_task_status(t, msg, sizeof(msg)) < 0)
		log_err("final SYNCHRONIZE CACHE failed: %s", msg);
	else
		log_info("no writer left: cache flushed on the target");
}

static void on_mounts_changed(struct ev_source *src, uint32_t revents)
{
	struct serve *s = src->ctx;
	struct mount_watch *w = &s->watch;
	int rw, all;

	(void)revents;
	count_mounts(w, &rw, &all);
	if (rw > 0) {
		w->seen_rw = true;
		w->flushed = false;
	}
	w->seen_mount |= all > 0;
	if (w->seen_rw && rw == 0 && !w->flushed && !w->flush_busy) {
		iscsi_disk_flush(&s->disk, &w->flush);
		w->flush.done = flush_done;
		w->flush.ctx = w;
		w->flush_busy = iscsi_mpath_submit(s->mpath, &w->flush) == 0;
		w->flushed = true;
	}
	if (w->seen_mount && all == 0 && w->flushed && !w->flush_busy &&
	    s->ops->pending(s->bdev) == 0 && !iscsi_mpath_closed(s->mpath)) {
		log_info("disk no longer mounted: logging out");
		iscsi_mpath_logout(s->mpath);
	}
}

static void watch_mounts(struct serve *s, const char *dev)
{
	struct stat st;
	int fd;

	if (stat(dev, &st) < 0 || !S_ISBLK(st.st_mode))
		return;
	fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	s->watch.disk = st.st_rdev;
	find_partitions(&s->watch, dev);
	s->watch.src = (struct ev_source){ .fd = fd, .events = EPOLLPRI, .deadline = -1,
					   .on_io = on_mounts_changed, .ctx = s };
	if (ev_add(s->loop, &s->watch.src) < 0)
		close(fd);
}

static void describe(const struct serve *s, const char *dev, unsigned queues)
{
	const struct scsi_capacity *c = &s->disk.capacity;

	log_info("%s: %s %s, %llu MiB, %u-byte blocks, %u queue%s%s%s (%s)", dev,
		 s->disk.inquiry.vendor, s->disk.inquiry.product,
		 (unsigned long long)(c->blocks * c->block_size >> 20), c->block_size,
		 queues, queues == 1 ? "" : "s",
		 s->disk.write_protected ? ", read-only" : "",
		 s->disk.can_unmap ? ", discard" : "", s->ops->name);
}

static bool ublk_ready(void)
{
	return bdev_ublk_available() ||
	       (pivot_load_module("ublk_drv", NULL) == 0 && bdev_ublk_available());
}

static const char *serve_pick_backend(const char *forced)
{
	bool ublk;

	if (forced && !strcmp(forced, "ublk"))
		ublk = true;
	else if (forced && !strcmp(forced, "nbd"))
		ublk = false;
	else
		ublk = ublk_ready();
	if (ublk && !ublk_ready())
		log_warn("ublk forced, but /dev/ublk-control is missing and ublk_drv did not load");
	/* Partitions on NBD devices need max_part (NOTES: no udev here). The
	 * loader has said why when it found the module and could not load it. */
	if (!ublk && access("/sys/module/nbd", F_OK) != 0 &&
	    pivot_load_module("nbd", "max_part=16") == -ENOENT)
		log_warn("the nbd module is not in the initramfs and not built in");
	return ublk ? "ublk" : "nbd";
}

/* ublk's tags (requests in flight, at most) and the buffer memory they
 * share unless iscsiroot.ublk_buffers= says otherwise: 2 MiB keeps the
 * daemon under 4 MiB resident; more lets more large requests run at once
 * (bench/README.md: 1 MiB writes at QD32 137 -> 209 MiB/s with 8 MiB). */
#define UBLK_QUEUE_DEPTH 32
#define UBLK_BUFFER_BUDGET (2u << 20)

/* What the backend needs to know of the LUN. */
static struct bdev_config bdev_config_of(const struct serve *s, const struct serve_options *opt,
					 bool ublk)
{
	const struct iscsi_disk *d = &s->disk;
	uint32_t bs = d->capacity.block_size;
	uint32_t burst = iscsi_session_params(s->session)->max_burst;
	struct bdev_config bc = {
		.size = d->capacity.blocks * bs,
		.block_size = bs,
		.read_only = d->write_protected,
		/* FUA only where the LUN says it takes it: without, the
		 * kernel follows a FUA write with a flush */
		.can_flush = true, .can_fua = d->dpofua, .can_discard = d->can_unmap,
		/* ublk: one queue, served by this one event loop. */
		.queues = ublk ? 1 : opt->queues ? opt->queues : 1,
		.index = -1,
		.nbd_ioctl = opt->nbd_ioctl,
		.physical_block_size = bs << d->capacity.phys_exponent,
	};

	/* ublk: requests as large as one burst (one R2T or Data-In
	 * sequence), at most half the buffer memory, which the requests in
	 * flight share: UBLK_BUFFER_BUDGET, the daemon's for life and locked
	 * (mlockall). The block layer splits a larger request. NBD keeps its
	 * default. */
	if (ublk) {
		/* No deeper than the target's command window at login: more
		 * would only wait in the session. */
		unsigned window = iscsi_session_cmd_window(s->session);
		bc.queue_depth = (uint16_t)(window ? MIN(window, UBLK_QUEUE_DEPTH)
						  : UBLK_QUEUE_DEPTH);
		bc.buffer_bytes = opt->ublk_buffer_bytes ? opt->ublk_buffer_bytes
							 : UBLK_BUFFER_BUDGET;
		bc.max_io_bytes = MIN(burst, bc.buffer_bytes / 2);
		if (d->max_xfer_bytes)
			bc.max_io_bytes = MIN(bc.max_io_bytes, d->max_xfer_bytes);
		bc.max_io_bytes = MAX(bc.max_io_bytes / bs * bs, bs);
	}
	if (d->have_limits) {
		bc.opt_io_bytes = d->limits.opt_xfer_blocks * bs;
		bc.discard_granularity = d->limits.unmap_granularity * bs;
		if (d->limits.unmap_alignment_valid)
			bc.discard_alignment = d->limits.unmap_alignment * bs;
		bc.max_discard_bytes = (uint64_t)d->limits.max_unmap_lba_count * bs;
	}
	return bc;
}

/* A new server takes over a device made for one disk: it must find that
 * disk, or the filesystem on it would get another's blocks. */
static int check_takeover(const struct serve *s, const struct iscsi_disk_identity *expect,
			  char *err, size_t errlen)
{
	struct iscsi_disk_identity now;
	char why[400];

	iscsi_disk_identity_of(&s->disk, &now);
	if (iscsi_disk_identity_check(expect, &now, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "the LUN is not the disk the device was made for (%s); "
		 "not taking the device over", why);
	return -ESTALE;
}

int serve_find_lun(struct ev_loop *loop, struct serve_options *opt, char *err, size_t errlen)
{
	struct iscsi_session *s = iscsi_session_new(loop, &opt->iscsi);
	int r;

	if (!s)
		return -ENOMEM;
	r = iscsi_sync_login(loop, s);
	if (r < 0)
		snprintf(err, errlen, "%s", iscsi_session_error(s));
	else if (opt->logged_in)
		opt->logged_in(opt->logged_in_ctx, 0);
	if (r == 0)
		r = iscsi_disk_find(loop, s, &opt->lun, err, errlen);
	if (iscsi_session_ready(s))
		iscsi_sync_logout(loop, s);
	iscsi_session_free(s);
	return r;
}

/* ---- Logging in on every path at once */

struct first_login {
	struct iscsi_session **sessions;
	unsigned n;
};

static bool one_ready(const struct first_login *f)
{
	for (unsigned i = 0; i < f->n; i++)
		if (iscsi_session_ready(f->sessions[i]))
			return true;
	return false;
}

static bool one_ready_or_all_failed(void *ctx)
{
	const struct first_login *f = ctx;

	if (one_ready(f))
		return true;
	for (unsigned i = 0; i < f->n; i++)
		if (!iscsi_session_failed(f->sessions[i]))
			return false;
	return true;
}

/* Starts every path's login; returns the index of the first that is
 * logged in, or -1 once all have failed (err says the first path's
 * reason). The others go on in the background. With defer_last, the last
 * path starts only once all the others have failed. */
static int login_any(struct ev_loop *loop, struct iscsi_session **sessions, unsigned n,
		     bool defer_last, char *err, size_t errlen)
{
	struct first_login f = { sessions, defer_last && n > 1 ? n - 1 : n };
	int r;

	/* One that cannot start (a name that does not resolve) is failed. */
	for (unsigned i = 0; i < f.n; i++)
		iscsi_session_start(sessions[i]);
	r = ev_run_until(loop, one_ready_or_all_failed, &f, -1);
	if (r == 0 && f.n < n && !one_ready(&f)) {
		log_warn("no other path logged in; trying %s again", iscsi_session_host(sessions[n - 1]));
		f.n = n;
		iscsi_session_start(sessions[n - 1]);
		r = ev_run_until(loop, one_ready_or_all_failed, &f, -1);
	}
	for (unsigned i = 0; r == 0 && i < n; i++)
		if (iscsi_session_ready(sessions[i]))
			return (int)i;
	snprintf(err, errlen, "%s", iscsi_session_error(sessions[0]));
	for (unsigned i = 1; i < n; i++)
		log_warn("path %u (%s): %s", i + 1, iscsi_session_host(sessions[i]),
			 iscsi_session_error(sessions[i]));
	return -1;
}

static void free_sessions(struct iscsi_session **sessions, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		iscsi_session_free(sessions[i]);
}

/* The LUN on the path that answered: the one asked for, or the target's
 * first disk; probed, and for a takeover the disk the device was made
 * for. */
static int probe_disk(struct serve *s, const struct serve_options *opt, char *err,
		      size_t errlen)
{
	uint64_t lun = opt->lun;
	int r = 0;

	if (lun == BOOT_LUN_ANY)
		r = iscsi_disk_find(s->loop, s->session, &lun, err, errlen);
	if (r == 0)
		r = iscsi_disk_probe(s->loop, s->session, lun, &s->disk, err, errlen);
	if (r == 0 && opt->expect)
		r = check_takeover(s, opt->expect, err, errlen);
	return r;
}

/* One disk over every path: the one probed carries I/O at once, the
 * others once their LUN shows the same identity. */
static int make_mpath(struct serve *s, const struct serve_options *opt,
		      struct iscsi_session **sessions, unsigned n, unsigned first)
{
	s->mpath = iscsi_mpath_new(s->loop, &s->disk, opt->policy,
				   opt->iscsi.replacement_timeout_ms);
	if (!s->mpath)
		return -ENOMEM;
	/* In the configuration's order, so that path N is the Nth path in
	 * logs and status; the one that answered first is the active one. */
	for (unsigned k = 0; k < n; k++) {
		int r = iscsi_mpath_add(s->mpath, sessions[k], k == first);

		if (r < 0) {
			free_sessions(sessions + k, 1);
			log_warn("path %u left out: %s", k + 1, strerror(-r));
		}
	}
	if (n > 1)
		log_info("%u paths to the disk, policy %s", n, iscsi_mpath_policy_name(opt->policy));
	return 0;
}

/* ---- The target's other portals (SendTargets)
 *
 * Asked once, in a discovery session of its own at the portal that
 * answered first (tgtd refuses a Text request in a normal session: it
 * resets the connection), once the LUN is probed and before the device is
 * made: a login and one round trip. */

/* How long that may take in all; no answer by then: no more paths. */
#define PORTALS_WAIT_MS 3000

struct portals_query {
	struct serve *s;
	const struct serve_options *opt;
	unsigned path;
	struct iscsi_session *session;
	bool done;
};

static void on_portals(void *ctx, int err, char *text, size_t len)
{
	struct portals_query *q = ctx;

	if (q->done)            /* freed after the wait: nothing to do */
		return;
	q->done = true;
	if (err < 0)
		log_warn("the target did not list its portals (SendTargets): %s", strerror(-err));
	else
		q->opt->portals(q->opt->portals_ctx, q->s, q->path, text, len);
}

static bool portals_settled(void *ctx)
{
	const struct portals_query *q = ctx;

	return q->done || !iscsi_session_ready(q->session);
}

static struct iscsi_session *discovery_session(struct ev_loop *loop,
					       const struct iscsi_config *path)
{
	struct iscsi_config *c = malloc(sizeof(*c));
	struct iscsi_session *d;

	if (!c)
		return NULL;
	*c = *path;
	c->target_name[0] = '\0';
	c->first_login_timeout_ms = PORTALS_WAIT_MS;
	d = iscsi_session_new(loop, c);
	secure_zero(c, sizeof(*c));
	free(c);
	return d;
}

static void ask_portals(struct serve *s, const struct serve_options *opt, unsigned path)
{
	struct portals_query q = { s, opt, path, NULL, false };
	int r = -ENOMEM;

	if (!opt->portals)
		return;
	q.session = discovery_session(s->loop, path ? &opt->more[path - 1] : &opt->iscsi);
	if (q.session)
		r = iscsi_sync_login(s->loop, q.session);
	if (r == 0)
		r = iscsi_send_targets(q.session, on_portals, &q);
	if (r == 0)
		r = ev_run_until(s->loop, portals_settled, &q,
				 ev_now(s->loop) + PORTALS_WAIT_MS);
	/* the session's own reason when it has one (a refused login, a
	 * dropped connection), else the wait's (no answer in time) */
	if (!q.done)
		log_warn("no list of the target's portals (SendTargets at %s): %s",
			 iscsi_session_host(s->session),
			 q.session && iscsi_session_errno(q.session)
				 ? iscsi_session_error(q.session) : strerror(r < 0 ? -r : ETIMEDOUT));
	q.done = true;
	if (q.session && iscsi_session_ready(q.session))
		iscsi_sync_logout(s->loop, q.session);
	iscsi_session_free(q.session);
}

int serve_add_path(struct serve *s, const struct iscsi_config *c)
{
	struct iscsi_session *session;
	unsigned n = iscsi_mpath_paths(s->mpath);
	int r;

	for (unsigned i = 0; i < n; i++) {
		const struct iscsi_session *p = iscsi_mpath_session(s->mpath, i);

		if (!strcasecmp(iscsi_session_host(p), c->host) && iscsi_session_port(p) == c->port)
			return -EEXIST;
	}
	if (n >= ISCSI_MPATH_MAX)
		return -ENOSPC;
	session = iscsi_session_new(s->loop, c);
	if (!session)
		return -ENOMEM;
	r = iscsi_mpath_add(s->mpath, session, false);
	if (r < 0)
		iscsi_session_free(session);
	return r;
}

static int new_sessions(struct ev_loop *loop, const struct serve_options *opt,
			struct iscsi_session **sessions, unsigned *n)
{
	*n = 0;
	sessions[(*n)++] = iscsi_session_new(loop, &opt->iscsi);
	for (unsigned i = 0; i < opt->nmore && *n < ISCSI_MPATH_MAX; i++)
		sessions[(*n)++] = iscsi_session_new(loop, &opt->more[i]);
	for (unsigned i = 0; i < *n; i++)
		if (!sessions[i]) {
			free_sessions(sessions, *n);
			return -ENOMEM;
		}
	return 0;
}

static int attach_device(struct serve *s, const struct serve_options *opt, char *dev,
			 size_t devlen, char *err, size_t errlen)
{
	struct bdev_config bc;
	struct bdev_consumer consumer;
	int r;

	s->ops = strcmp(serve_pick_backend(opt->recover ? opt->recover_backend : opt->backend),
			"ublk")
		 ? &bdev_nbd_ops : &bdev_ublk_ops;
	bc = bdev_config_of(s, opt, s->ops == &bdev_ublk_ops);
	if (opt->recover) {
		bc.index = (int)opt->recover_index;
		bc.recover = true;
	}
	consumer = (struct bdev_consumer){ .submit = on_block_request, .ctx = s };
	r = s->ops->create(s->loop, &bc, &consumer, &s->bdev, err, errlen);
	if (r < 0)
		return r;
	snprintf(dev, devlen, "%s", s->ops->path(s->bdev));
	describe(s, dev, bc.queues);
	return 0;
}

int serve_start(struct ev_loop *loop, const struct serve_options *opt,
		struct serve **out, char *dev, size_t devlen, char *err, size_t errlen)
{
	struct serve *s = calloc(1, sizeof(*s));
	struct iscsi_session *sessions[ISCSI_MPATH_MAX];
	char hp[HOST_PORT_LEN];
	unsigned n;
	int first, r;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->trace_fd = -1;
	r = new_sessions(loop, opt, sessions, &n);
	if (r < 0) {
		free(s);
		return r;
	}
	first = login_any(loop, sessions, n, opt->defer_last, err, errlen);
	if (first < 0) {
		r = iscsi_session_errno(sessions[0]) ? iscsi_session_errno(sessions[0]) : -EIO;
		goto fail;
	}
	s->session = sessions[first];
	log_info("logged in to %s at %s", opt->iscsi.target_name,
		 host_port(hp, iscsi_session_host(s->session),
			   iscsi_session_port(s->session)));
	if (opt->logged_in)
		opt->logged_in(opt->logged_in_ctx, (unsigned)first);
	r = probe_disk(s, opt, err, errlen);
	if (r == 0)
		r = make_mpath(s, opt, sessions, n, (unsigned)first);
	if (r < 0)
		goto fail;
	ask_portals(s, opt, (unsigned)first);
	r = attach_device(s, opt, dev, devlen, err, errlen);
	if (r < 0) {
		iscsi_mpath_free(s->mpath);
		free(s);
		return r;
	}
	watch_mounts(s, dev);
	trace_open(s, opt->trace_path);
	s->policy = opt->policy;
	r = serve_status_start(&s->status, loop, s, dev);
	if (r < 0)
		log_warn("no status socket in %s: %s", SERVE_STATUS_DIR, strerror(-r));
	*out = s;
	return 0;
fail:
	free_sessions(sessions, n);
	free(s);
	return r;
}

uint64_t serve_lun(const struct serve *s)
{
	return s->disk.lun;
}

const struct iscsi_mpath *serve_mpath(const struct serve *s)
{
	return s->mpath;
}

enum iscsi_mpath_policy serve_policy(const struct serve *s)
{
	return s->policy;
}

const struct iscsi_disk *serve_disk(const struct serve *s)
{
	return &s->disk;
}

void serve_identity(const struct serve *s, struct iscsi_disk_identity *id)
{
	iscsi_disk_identity_of(&s->disk, id);
}

struct iscsi_session *serve_session(const struct serve *s)
{
	return s->session;
}

int serve_recovery_index(const struct serve *s)
{
	return s->ops->recovery_index(s->bdev);
}

const char *serve_backend(const struct serve *s)
{
	return s->ops->name;
}
