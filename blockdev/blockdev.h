/* SPDX-License-Identifier: MIT */
/*
 * A userspace block device: the kernel hands us block requests, a consumer
 * (the iSCSI side, wired by the daemon) answers them. Backends: NBD over
 * socketpairs now, ublk later; both fit this one interface, and nothing
 * here knows about iSCSI.
 */
#ifndef ISCSIROOT_BLOCKDEV_H
#define ISCSIROOT_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum bdev_op { BDEV_OP_READ, BDEV_OP_WRITE, BDEV_OP_FLUSH, BDEV_OP_DISCARD };

/* One block request. buf holds len bytes: filled by the consumer for a
 * READ, the data to store for a WRITE. */
struct bdev_io {
	enum bdev_op op;
	bool fua;
	uint64_t offset;
	uint32_t len;
	uint8_t *buf;
	/* private to the backend */
	void *owner;
	uint8_t handle[8];
	struct bdev_io *next;
};

/* The consumer: submit() must end in exactly one bdev_io_complete(), at
 * once or later from the event loop. */
struct bdev_consumer {
	void (*submit)(void *ctx, struct bdev_io *io);
	void *ctx;
};

/* err is 0 or a negative errno. */
void bdev_io_complete(struct bdev_io *io, int err);

struct bdev_config {
	uint64_t size;          /* bytes */
	uint32_t block_size;    /* logical */
	uint32_t max_io_bytes;  /* 0: the backend's default */
	bool read_only;
	bool can_flush;
	bool can_fua;
	bool can_discard;
	unsigned queues;        /* connections / hardware queues */
	int index;              /* device number, -1: any free one */
	bool nbd_ioctl;         /* NBD: use the ioctl set-up, not netlink */
};

struct bdev;

/* Creates /dev/nbdN through the kernel's generic netlink "nbd" family,
 * with one socketpair per queue served on loop. */
int bdev_nbd_create(struct ev_loop *loop, const struct bdev_config *cfg,
		    const struct bdev_consumer *consumer, struct bdev **out,
		    char *err, size_t errlen);
/* Serves NBD on sockets already connected to a kernel (or to a test);
 * bdev_nbd_create() uses it after the netlink setup. Takes the fds. */
int bdev_nbd_serve(struct ev_loop *loop, const struct bdev_config *cfg,
		   const struct bdev_consumer *consumer, const int *fds,
		   unsigned nfds, struct bdev **out);
/* "/dev/nbd0"; empty for a served-only device. */
const char *bdev_path(const struct bdev *b);
/* Requests read from the kernel and not yet answered. */
unsigned bdev_pending(const struct bdev *b);
/* True once the kernel side has closed every socket. */
bool bdev_closed(const struct bdev *b);
/* Disconnects (netlink) and frees; pending requests are answered -EIO. */
void bdev_destroy(struct bdev *b);

#endif
