/* SPDX-License-Identifier: MIT */
/*
 * A userspace block device: the kernel hands us block requests, a consumer
 * (the iSCSI side, wired by the daemon) answers them. Backends: NBD over
 * socketpairs, and ublk over io_uring (Linux 6.0+); both fit this one
 * interface (struct bdev_ops), and nothing here knows about iSCSI.
 */
#ifndef ISCSIROOT_BLOCKDEV_H
#define ISCSIROOT_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum bdev_op { BDEV_OP_READ, BDEV_OP_WRITE, BDEV_OP_FLUSH, BDEV_OP_DISCARD };

/* One block request. buf holds len bytes: filled by the consumer for a
 * READ, the data to store for a WRITE. The backend owns buf (ublk: the
 * tag's buffer the kernel copies from and to), so a consumer that writes
 * payloads straight into it makes no copy of its own. */
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

/* The consumer: submit() must end in exactly one call of its backend's
 * complete (bdev_nbd_io_complete, bdev_ublk_io_complete; bdev_ops.complete),
 * at once or later from the event loop. */
struct bdev_consumer {
	void (*submit)(void *ctx, struct bdev_io *io);
	void *ctx;
};

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
	bool recover;           /* index names a device whose server died:
				 * take it over, never add a new one */
	bool nbd_ioctl;         /* NBD: use the ioctl set-up, not netlink */
	/* Geometry for ublk's parameters; 0 means unknown. */
	uint32_t physical_block_size;
	uint32_t opt_io_bytes;
	uint32_t discard_granularity;   /* bytes */
	uint32_t discard_alignment;     /* bytes */
	uint64_t max_discard_bytes;     /* per request */
	uint16_t queue_depth;           /* ublk: tags per queue */
	uint32_t buffer_bytes;          /* ublk: the buffer memory the requests
					 * in flight share (0: 2 MiB) */
};

/* ---- NBD: /dev/nbdN, one socketpair per queue served on loop. */

struct bdev_nbd;

/* Creates /dev/nbdN through the kernel's generic netlink "nbd" family,
 * with one socketpair per queue served on loop. */
int bdev_nbd_create(struct ev_loop *loop, const struct bdev_config *cfg,
		    const struct bdev_consumer *consumer, struct bdev_nbd **out,
		    char *err, size_t errlen);
/* Serves NBD on sockets already connected to a kernel (or to a test);
 * bdev_nbd_create() uses it after the netlink setup. Takes the fds. */
int bdev_nbd_serve(struct ev_loop *loop, const struct bdev_config *cfg,
		   const struct bdev_consumer *consumer, const int *fds,
		   unsigned nfds, struct bdev_nbd **out);
/* "/dev/nbd0"; empty for a served-only device. */
const char *bdev_nbd_path(const struct bdev_nbd *b);
/* Requests read from the kernel and not yet answered. */
unsigned bdev_nbd_pending(const struct bdev_nbd *b);
/* True once the kernel side has closed every socket for good. */
bool bdev_nbd_closed(const struct bdev_nbd *b);
/* The device number a new server can take over (cfg->recover) if this
 * process dies, or -1 (ioctl set-up, or served sockets only). */
int bdev_nbd_index(const struct bdev_nbd *b);
/* The answer to a request of an NBD device; err is 0 or a negative errno. */
void bdev_nbd_io_complete(struct bdev_io *io, int err);
/* Disconnects (netlink) and frees; pending requests are answered -EIO. */
void bdev_nbd_destroy(struct bdev_nbd *b);

/* ---- ublk: /dev/ublkbN, one queue served through io_uring on loop. */

struct bdev_ublk;

/* True when /dev/ublk-control exists (ublk_drv loaded or built in). */
bool bdev_ublk_available(void);
/* ADD_DEV, SET_PARAMS, FETCH on every tag, START_DEV (which scans the
 * partition table, served from loop meanwhile). With cfg->index >= 0 and
 * that device waiting for a new server (UBLK_F_USER_RECOVERY), recovers
 * it instead. */
int bdev_ublk_create(struct ev_loop *loop, const struct bdev_config *cfg,
		     const struct bdev_consumer *consumer, struct bdev_ublk **out,
		     char *err, size_t errlen);
/* "/dev/ublkb0" */
const char *bdev_ublk_path(const struct bdev_ublk *u);
/* The device number a new server can recover after this one dies
 * (UBLK_F_USER_RECOVERY), or -1 when the disk would go with it. */
int bdev_ublk_recovery_index(const struct bdev_ublk *u);
unsigned bdev_ublk_pending(const struct bdev_ublk *u);
/* The answer to a request of a ublk device (bdev_nbd_io_complete's twin). */
void bdev_ublk_io_complete(struct bdev_io *io, int err);
/* STOP_DEV and DEL_DEV, then frees; requests the consumer still holds
 * must have completed. */
void bdev_ublk_destroy(struct bdev_ublk *u);

/* ---- A backend as the daemon drives it: one row per backend. */
struct bdev_ops {
	const char *name;
	int (*create)(struct ev_loop *loop, const struct bdev_config *cfg,
		      const struct bdev_consumer *consumer, void **dev,
		      char *err, size_t errlen);
	const char *(*path)(const void *dev);
	unsigned (*pending)(const void *dev);
	void (*complete)(struct bdev_io *io, int err);
	/* The device number a new server can take over if this process
	 * dies (bdev_config.recover), or -1. */
	int (*recovery_index)(const void *dev);
	void (*destroy)(void *dev);
};
extern const struct bdev_ops bdev_nbd_ops;
extern const struct bdev_ops bdev_ublk_ops;

#endif
