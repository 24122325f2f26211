/* SPDX-License-Identifier: MIT */
/*
 * Inside rootd/: between the starter (start.c, in every mode) and the
 * daemon (daemon.c), the daemon's view of its bridge (serve.c) and status
 * socket (status.c), and the starter's parts its unit test reaches.
 *
 * The daemon reports to its starter on a socketpair, one line each:
 *   "path I HOST"        it starts trying paths[I] (any number of these)
 *   "login I"            a session through paths[I] logged in
 *   "ready DEV LUN"      it serves the LUN (hex) as DEV: the last line
 *   "retry MESSAGE"      it failed, and trying again may help: the last line
 *   "fatal MESSAGE"      it failed, and trying again will not help (a wrong
 *                        password): the last line
 */
#ifndef ISCSIROOT_ROOTD_DAEMON_H
#define ISCSIROOT_ROOTD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "pivot.h"
#include "rootd.h"

/* ---- daemon.c */

/* The rules of a process that backs the root filesystem: an argv[0]
 * starting with '@' (systemd's root storage daemon mark), mlockall,
 * oom_score_adj -1000, PR_SET_IO_FLUSHER, and TERM/INT/HUP ignored. */
void daemon_harden(char **argv);

/* The session and block device settings of one path, as the daemon uses
 * them (the node settings of bc applied). */
int daemon_target_config(const struct boot_config *bc, const struct dhcpc_rootpath *path,
			 struct serve_options *opt, char *err, size_t errlen);
/* Becomes the daemon in this process (no terminal, the root-storage
 * rules, the keeper and its worker) and reports on report_fd. argv is
 * this process's, for the '@' name. Never returns. */
void daemon_run(const struct boot_config *bc, int report_fd, char **argv)
	__attribute__((noreturn));

/* ---- start.c */

/* After the login, how long the LUN has to answer the daemon's first
 * commands (REPORT LUNS, INQUIRY, READ CAPACITY) and the block device to
 * be made. */
#define DAEMON_ANSWER_MS 30000

/* The starter's view of the daemon's report while it waits. */
struct daemon_wait {
	int64_t deadline_ms;            /* the caller's limit; -1: none */
	int64_t path_limit_ms;          /* each path's, from its "path" line; -1: none */
	int64_t answer_limit_ms;        /* from its "login" line */
	int64_t path_deadline_ms;       /* the current path's; -1 before any */
	int path;                       /* the path logged in through, else the last
					 * "path" line's index; -1: none yet */
	bool logged_in;                 /* ... and a "login" line came for it */
	char host[256];                 /* ... its host */
	char hosts[BOOT_MAX_PATHS][256]; /* every "path" line's host (all paths log
					  * in at once: the first to answer says
					  * "login I") */
	char line[600];                 /* the last line: "ready …", "retry …", "fatal …" */
	char buf[1024];                 /* what came, up to a whole line */
	size_t got;
};

/* Sets w up for a wait that ends at deadline_ms (-1: no limit), when one
 * path has taken path_limit_ms (-1: no limit), or answer_limit_ms after
 * a login through it. */
void daemon_wait_init(struct daemon_wait *w, int64_t deadline_ms, int64_t path_limit_ms,
		      int64_t answer_limit_ms);
/* Reads the daemon's lines from fd until its last one (0, in w->line),
 * a deadline (-ETIMEDOUT; w->path says which path it was trying), its
 * end without a last line (-EPIPE) or a failure (negative errno). Says
 * every 30 s what it still waits for. */
int daemon_wait_report(int fd, struct daemon_wait *w);
/* How long one path may take before its daemon is deemed stuck, when
 * no login through it is reported: the first login's limit as the node
 * settings make it, one more login attempt (the last may start just
 * before that limit), and DAEMON_ANSWER_MS. -1 when the login may go on
 * for ever. */
int64_t daemon_path_limit_ms(const struct boot_config *bc);

/* Whether an environment entry ("NAME=value") may hold a secret: the
 * CLI's ISCSIROOT_CHAP_* and the configuration keys that may carry one. */
bool daemon_env_is_secret(const char *entry);
/* Wipes every string of argv but argv[0] (options such as -w SECRET), and
 * the values of the secret environment entries, which it also drops from
 * environ: /proc/PID/cmdline and /proc/PID/environ show that memory. For
 * a daemon that runs in its starter's image. */
void daemon_wipe_secrets(char **argv);

/* ---- serve.c, status.c: what the daemon asks of its bridge */

/* For a path or a command that names no LUN (iscsistart names none): a
 * short session of its own finds the target's first disk LUN
 * (iscsi_disk_find) and puts it in opt->lun, before the serving session
 * logs in; opt->logged_in is called once it is logged in. */
int serve_find_lun(struct ev_loop *loop, struct serve_options *opt, char *err, size_t errlen);
const struct iscsi_disk *serve_disk(const struct serve *s);
/* One more path to the disk being served (one whose NIC came up after
 * serving began): it logs in, and carries I/O once its LUN shows the same
 * identity (iscsi_mpath_add); it is the next path by number. */
int serve_add_path(struct serve *s, const struct iscsi_config *cfg);
/* The LUN served (the one found, when any was asked for). */
uint64_t serve_lun(const struct serve *s);
/* The disk's identity at attach, which the guard holds the LUN to. */
void serve_identity(const struct serve *s, struct iscsi_disk_identity *id);
struct iscsi_session *serve_session(const struct serve *s);
/* The device number a new server can take over if this process dies
 * (serve_options.recover), or -1 (ublk without USER_RECOVERY, NBD set up
 * by ioctls). */
int serve_recovery_index(const struct serve *s);
/* "ublk" or "nbd" */
const char *serve_backend(const struct serve *s);

/* The status socket (status.c): SERVE_STATUS_DIR/DEV.sock, e.g.
 * /run/iscsiroot/nbd0.sock, root only; it answers `iscsiroot status`. */
struct serve_status {
	struct ev_source src;
	const struct serve *srv;
	char dev[64];
};
int serve_status_start(struct serve_status *st, struct ev_loop *loop, const struct serve *srv,
		       const char *dev);
const struct iscsi_mpath *serve_mpath(const struct serve *s);
enum iscsi_mpath_policy serve_policy(const struct serve *s);

#endif
