/* SPDX-License-Identifier: MIT */
/*
 * The root-storage daemon, the same in every mode (PID 1, `iscsiroot up`,
 * the iscsistart drop-in): starting it and waiting for its disk, and the
 * bridge it runs, which serves an iSCSI LUN as a block device (NBD or
 * ublk, from blockdev/) over every path to it. See rootd/README.md.
 */
#ifndef ISCSIROOT_ROOTD_H
#define ISCSIROOT_ROOTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iscsi.h"

struct boot_config;             /* pivot.h: the configuration it serves */

/* ---- Starting the daemon (start.c) */

/* One start of the daemon: what the caller asks, and what came of it. */
struct daemon_start {
	int64_t deadline_ms;         /* in: stop waiting (and the daemon) at this
	                              * now_ms(); -1: no limit but each path's */
	unsigned first_path;         /* in: the path of bc to try first; out, after
	                              * -ETIMEDOUT: the one after the stuck one */
	void (*meanwhile)(void *ctx);/* in: called once the daemon has its
	                              * configuration, before the wait; NULL: none */
	void *meanwhile_ctx;
	bool last_mute;              /* in: the path before first_path logged in
	                              * and its LUN did not answer; out: so it was */
	pid_t pid;                   /* out, when ready: the daemon (its keeper) */
	unsigned path;               /* out: the index in bc->paths of the path
	                              * it logged in through (when ready), or
	                              * tried last (0 before any) */
	char dev[64];                /* out, when ready: e.g. "/dev/nbd0" */
	uint64_t lun;                /* out, when ready: the LUN served */
	char msg[600];               /* out, on failure: why, one line */
};
/* Forks the daemon, which re-executes this binary from memory (so it
 * holds nothing of the initramfs), brings up the network, logs in to the
 * first path of bc that answers (from ds->first_path on), creates the
 * block device and serves it for the life of the system. Returns 0 when
 * it is ready; -EAGAIN (worth retrying), -EACCES (not: e.g. a wrong
 * password), or -ETIMEDOUT (no disk by ds->deadline_ms, or a path that
 * took longer than its limit: the daemon was stopped) with one line in
 * ds->msg. argv is the caller's, for the daemon's '@' name; when the
 * daemon runs in place (no exec from memory), its strings but argv[0]
 * are wiped. */
int rootd_start(const struct boot_config *bc, char **argv, struct daemon_start *ds);

/* The daemon, re-executed from memory by rootd_start(): argv[1] is the fd
 * of the pipe to report on. Never returns on success. */
int rootd_main(int argc, char **argv);

/* ---- Serving the LUN as a block device (the daemon's job) */

struct serve;
struct serve_options {
	struct iscsi_config iscsi;
	/* More paths to the same disk (multipath): logged in on at once
	 * with the first; the first that answers is probed, the others carry
	 * I/O once their LUN shows the same identity. */
	struct iscsi_config more[ISCSI_MPATH_MAX - 1];
	unsigned nmore;
	enum iscsi_mpath_policy policy;
	/* The last path logs in only once all others failed (its LUN did not
	 * answer the daemon before: another path must get the chance first). */
	bool defer_last;
	uint64_t lun;                /* BOOT_LUN_ANY: the target's first disk */
	unsigned queues;
	const char *backend;         /* "nbd", "ublk", or ""/NULL: ublk where
	                              * the kernel has it, else nbd */
	bool nbd_ioctl;              /* set NBD up by ioctls, not netlink */
	uint32_t ublk_buffer_bytes;  /* ublk's buffer memory; 0: 2 MiB */
	const char *trace_path;      /* a line per read request goes here
	                              * (bench/storm.sh's trace); NULL: none */
	bool recover;                /* take over the device recover_index of
	                              * recover_backend, whose server died */
	unsigned recover_index;
	const char *recover_backend; /* "ublk" or "nbd" */
	/* The disk the device was made for (a takeover): another one is
	 * refused, not served. NULL: whatever the LUN is. */
	const struct iscsi_disk_identity *expect;
	/* Called once a path is logged in (0: iscsi, 1 on: more[]), before
	 * the LUN is probed (NULL: nothing to tell). */
	void (*logged_in)(void *ctx, unsigned path);
	void *logged_in_ctx;
	/* The target's other portals: asked once (SendTargets) on the path
	 * that answered first, once its LUN is probed and before the device
	 * is made; portals() gets the answer (split in place) with the index
	 * of that path, and adds paths with serve_add_path(). NULL: not asked. */
	void (*portals)(void *ctx, struct serve *s, unsigned path, char *text, size_t len);
	void *portals_ctx;
};
/* One more path to the disk being served (a portal SendTargets listed, a
 * path whose NIC came up later): it logs in at once, and carries I/O once
 * its LUN shows the disk's identity; it is the next path by number.
 * -EEXIST: a path to that portal is there; -ENOSPC: no room. */
int serve_add_path(struct serve *s, const struct iscsi_config *c);
/* Logs in, probes the LUN and creates the block device, all on loop;
 * then keeps serving it from loop. dev gets e.g. "/dev/nbd0". */
int serve_start(struct ev_loop *loop, const struct serve_options *opt,
		struct serve **out, char *dev, size_t devlen, char *err, size_t errlen);
/* The daemon's status socket (`iscsiroot status`): SERVE_STATUS_DIR/DEV.sock,
 * e.g. /run/iscsiroot/nbd0.sock, root only (status.c). */
#define SERVE_STATUS_DIR "/run/iscsiroot"

#endif
