/* SPDX-License-Identifier: MIT */
/* The daemon's data path: block requests from the kernel become SCSI
 * commands on the iSCSI session. Requests larger than one command may
 * carry are split; each part waits out any reconnect in the session. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "blockdev.h"
#include "pivot.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

struct serve {
	struct ev_loop *loop;
	struct iscsi_session *session;
	struct iscsi_disk disk;
	struct bdev *bdev;
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

static void part_done(struct iscsi_task *t)
{
	struct serve_io *sio = t->ctx;
	char msg[240];
	int r = iscsi_task_status(t, msg, sizeof(msg));

	if (r < 0) {
		log_err("%s at byte %llu failed: %s",
			sio->io->op == BDEV_OP_READ ? "read" : "write",
			(unsigned long long)(sio->io->offset + sio->done), msg);
		bdev_io_complete(sio->io, r);
		free(sio);
		return;
	}
	sio->done += sio->part;
	if (sio->io->op == BDEV_OP_FLUSH || sio->done >= sio->io->len) {
		bdev_io_complete(sio->io, 0);
		free(sio);
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
	r = iscsi_submit(s->session, &sio->task);
	if (r < 0) {
		bdev_io_complete(io, r);
		free(sio);
	}
}

static void on_block_request(void *ctx, struct bdev_io *io)
{
	struct serve_io *sio = calloc(1, sizeof(*sio));

	if (!sio) {
		bdev_io_complete(io, -ENOMEM);
		return;
	}
	sio->s = ctx;
	sio->io = io;
	issue_part(sio);
}

static void describe(const struct serve *s, const char *dev)
{
	const struct scsi_capacity *c = &s->disk.capacity;

	log_info("%s: %s %s, %llu MiB, %u-byte blocks%s%s", dev, s->disk.inquiry.vendor,
		 s->disk.inquiry.product,
		 (unsigned long long)(c->blocks * c->block_size >> 20), c->block_size,
		 s->disk.write_protected ? ", read-only" : "",
		 s->disk.can_unmap ? ", discard" : "");
}

int serve_start(struct ev_loop *loop, const struct serve_options *opt,
		struct serve **out, char *dev, size_t devlen, char *err, size_t errlen)
{
	struct serve *s = calloc(1, sizeof(*s));
	struct bdev_config bc;
	struct bdev_consumer consumer;
	int r;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->session = iscsi_session_new(loop, &opt->iscsi);
	if (!s->session) {
		free(s);
		return -ENOMEM;
	}
	r = iscsi_sync_login(loop, s->session);
	if (r < 0) {
		snprintf(err, errlen, "%s", iscsi_session_error(s->session));
		goto fail;
	}
	log_info("logged in to %s at %s:%u", opt->iscsi.target_name, opt->iscsi.host,
		 opt->iscsi.port);
	r = iscsi_disk_probe(loop, s->session, opt->lun, &s->disk, err, errlen);
	if (r < 0)
		goto fail;
	bc = (struct bdev_config){
		.size = s->disk.capacity.blocks * s->disk.capacity.block_size,
		.block_size = s->disk.capacity.block_size,
		.read_only = s->disk.write_protected,
		.can_flush = true, .can_fua = true, .can_discard = s->disk.can_unmap,
		.queues = opt->queues ? opt->queues : 1, .index = -1,
	};
	consumer = (struct bdev_consumer){ .submit = on_block_request, .ctx = s };
	r = bdev_nbd_create(loop, &bc, &consumer, &s->bdev, err, errlen);
	if (r < 0)
		goto fail;
	snprintf(dev, devlen, "%s", bdev_path(s->bdev));
	describe(s, dev);
	*out = s;
	return 0;
fail:
	iscsi_session_free(s->session);
	free(s);
	return r;
}

const struct iscsi_disk *serve_disk(const struct serve *s)
{
	return &s->disk;
}

struct iscsi_session *serve_session(const struct serve *s)
{
	return s->session;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		log_debug("writing %s failed", path);
	close(fd);
}

void daemon_harden(char **argv)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };

	/* systemd spares a root-owned process whose argv[0] starts with '@'
	 * at switch-root and shutdown (ROOT_STORAGE_DAEMONS). */
	if (argv && argv[0] && argv[0][0])
		argv[0][0] = '@';
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		log_warn("mlockall failed: %s", strerror(errno));
	write_file("/proc/self/oom_score_adj", "-1000");
	/* Memory reclaim may wait on our writes: never make us wait on it. */
	if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) < 0)
		log_debug("PR_SET_IO_FLUSHER: %s", strerror(errno));
	sigaction(SIGTERM, &ign, NULL);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGHUP, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
}
