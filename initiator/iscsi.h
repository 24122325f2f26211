/* SPDX-License-Identifier: MIT */
/*
 * The iSCSI initiator library: one session to one target portal, driven
 * by the caller's event loop, with many SCSI commands in flight. A lost
 * connection never fails a command by default: the session reconnects,
 * reinstates itself with the same ISID (RFC 7143 §6.3.5) and re-issues
 * everything unanswered, until the replacement timeout (default: never).
 */
#ifndef ISCSIROOT_ISCSI_H
#define ISCSIROOT_ISCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi.h"
#include "text.h"
#include "util.h"

#define ISCSI_NAME_LEN 224
#define ISCSI_SECRET_LEN 256
#define ISCSI_DEFAULT_PORT 3260

struct iscsi_config {
	char initiator_name[ISCSI_NAME_LEN + 1];
	char target_name[ISCSI_NAME_LEN + 1];   /* empty: discovery session */
	char host[256];                         /* IPv4, IPv6 or a name */
	uint16_t port;
	char ifname[16];                        /* the NIC this path goes
						 * through; empty: any */
	enum iscsi_digest_pref header_digest;
	enum iscsi_digest_pref data_digest;
	/* CHAP: user empty means AuthMethod=None; ruser set means mutual. */
	char user[256];
	uint8_t secret[ISCSI_SECRET_LEN];
	size_t secret_len;
	char ruser[256];
	uint8_t rsecret[ISCSI_SECRET_LEN];
	size_t rsecret_len;
	/* Timeouts in milliseconds. */
	int login_timeout_ms;           /* one connect + login attempt */
	int first_login_timeout_ms;     /* keep trying the first login; <0 forever */
	int nop_interval_ms;            /* idle time before a NOP-Out; 0 off */
	int nop_timeout_ms;             /* no answer: the connection is dead */
	int64_t replacement_timeout_ms; /* recovering longer fails I/O; <0 never */
	int reconnect_delay_max_ms;     /* backoff cap */
	/* node.session.auth.chap_algs: CHAP_A values (chap.h), most preferred
	 * first; 0 of them: SHA3-256, SHA-256, SHA-1, MD5 */
	uint8_t chap_algs[4];
	uint8_t nchap_algs;
	/* node.session.initial_login_retry_max, kept so that it and the login
	 * timeout combine in either order (see node-param.c); -1: not given */
	int initial_login_retry_max;
};

/* Defaults: no digests, 15 s login, 30 s for the first login, NOP every
 * 5 s with a 10 s timeout, replacement timeout forever, backoff to 5 s. */
void iscsi_config_defaults(struct iscsi_config *cfg);
/* Reads a secret from "file:PATH", "env:NAME" or the text itself. */
int iscsi_config_set_secret(uint8_t *out, size_t *out_len, const char *spec);
/* One open-iscsi node setting, as iscsistart's -P NAME=VALUE and dracut's
 * rd.iscsi.param= give it: digests, timeouts (seconds), CHAP algorithms,
 * first-login retries, CHAP credentials. -ENOENT for a key we do not
 * know, -EINVAL for a bad value. */
int iscsi_config_set_node_param(struct iscsi_config *cfg, const char *key,
				const char *value);

enum iscsi_dir { ISCSI_DIR_NONE, ISCSI_DIR_READ, ISCSI_DIR_WRITE };

/* A SCSI command. The caller owns it (and buf) until done() is called. */
struct iscsi_task {
	uint64_t lun;                   /* SAM LUN field, as on the wire */
	uint8_t cdb[SCSI_CDB_MAX];
	uint8_t cdb_len;
	enum iscsi_dir dir;
	uint8_t *buf;
	uint32_t len;
	/* A shorter transfer than len is a valid answer (INQUIRY, MODE
	 * SENSE: the allocation length is a maximum). Without it, GOOD with a
	 * residual is an error: a READ or WRITE succeeds only when every
	 * byte it asked for moved. */
	bool short_ok;
	void (*done)(struct iscsi_task *t);
	void *ctx;

	/* Results. result < 0: no SCSI status (e.g. -EIO after the
	 * replacement timeout); else status and sense are valid. */
	int result;
	uint8_t status;
	uint16_t sense_len;
	uint8_t sense[SCSI_SENSE_MAX];
	uint32_t residual;
	bool underflow;
	bool overflow;

	struct {                        /* private to the session */
		struct iscsi_task *next, *prev;
		uint32_t itt;
		uint32_t cmdsn;
		uint32_t received;      /* Data-In bytes, all from offset 0 */
		uint32_t datasn;        /* next Data-In DataSN */
		uint32_t solicited;     /* WRITE: data sent or asked for by R2T */
		uint32_t r2tsn;         /* next R2TSN */
		uint32_t r2t_active;    /* R2Ts whose last Data-Out is not out */
		uint32_t tx_refs;
		uint16_t retries;       /* UNIT ATTENTIONs in a row */
		uint16_t busy_retries;  /* BUSY, TASK SET FULL in a row */
		bool answered;
		bool queued;
		bool urgent;            /* passes the gate (iscsi_submit_urgent) */
		int64_t not_before;
	} priv;
};

enum iscsi_event {
	ISCSI_EVENT_READY,      /* logged in (first time or after recovery) */
	ISCSI_EVENT_RECOVERING, /* connection lost; commands wait */
	ISCSI_EVENT_FAILED,     /* gave up: iscsi_session_error() says why */
	ISCSI_EVENT_CLOSED,     /* logged out */
	ISCSI_EVENT_GATE_OPEN,  /* the gate opened: the LUN is the attached disk */
	ISCSI_EVENT_GATE_SHUT,  /* the gate shut: commands wait for the check */
};

struct iscsi_session;

struct iscsi_session *iscsi_session_new(struct ev_loop *loop,
					const struct iscsi_config *cfg);
/* Completes every command still held with -ECANCELED, then frees. */
void iscsi_session_free(struct iscsi_session *s);
void iscsi_session_on_event(struct iscsi_session *s,
			    void (*cb)(void *ctx, enum iscsi_event ev), void *ctx);
/* Starts connecting and logging in; after a logout, logs in again. */
int iscsi_session_start(struct iscsi_session *s);
bool iscsi_session_closed(const struct iscsi_session *s);
/* Logs out once the commands in flight are answered. */
int iscsi_session_logout(struct iscsi_session *s);
int iscsi_submit(struct iscsi_session *s, struct iscsi_task *t);

bool iscsi_session_ready(const struct iscsi_session *s);
/* It gave up: a first login that failed, or a start that could not be. */
bool iscsi_session_failed(const struct iscsi_session *s);
/* The configured portal and target. */
const char *iscsi_session_host(const struct iscsi_session *s);
const char *iscsi_session_target(const struct iscsi_session *s);
uint16_t iscsi_session_port(const struct iscsi_session *s);
/* The last failure in one line, e.g. "login failed: authentication
 * failure (0x0201)"; and its negative errno. */
const char *iscsi_session_error(const struct iscsi_session *s);
int iscsi_session_errno(const struct iscsi_session *s);
const struct iscsi_params *iscsi_session_params(const struct iscsi_session *s);
uint16_t iscsi_session_tpgt(const struct iscsi_session *s);
/* How many times the session was reinstated after a loss. */
unsigned iscsi_session_recoveries(const struct iscsi_session *s);
/* The commands the target takes at once now (MaxCmdSN - ExpCmdSN + 1,
 * RFC 7143 §3.2.2.1); it may change with every response. */
unsigned iscsi_session_cmd_window(const struct iscsi_session *s);
/* The most commands that were on the wire at once. */
unsigned iscsi_session_max_inflight(const struct iscsi_session *s);
/* Drops the connection as if the network failed (tests, diagnostics). */
void iscsi_session_drop(struct iscsi_session *s);

/* The gate: after every login but the first, and whenever a UNIT
 * ATTENTION says the LUN may have changed (capacity, inquiry data,
 * device identifier, medium), the session holds every command and calls
 * gate(ctx); only urgent tasks run until iscsi_session_open_gate(). The
 * owner checks there that the LUN is still the disk it attached
 * (disk.c's guard). The replacement timeout runs while the gate is
 * shut. A connection lost meanwhile completes urgent tasks with
 * -ECONNRESET; the next login calls gate again. */
void iscsi_session_set_gate(struct iscsi_session *s, void (*gate)(void *ctx),
			    void *ctx);
void iscsi_session_open_gate(struct iscsi_session *s);
/* Shuts the gate again (and calls gate) if it is open. */
void iscsi_session_shut_gate(struct iscsi_session *s);
bool iscsi_session_gate_shut(const struct iscsi_session *s);
/* A command that runs ahead of every other and passes a shut gate. */
int iscsi_submit_urgent(struct iscsi_session *s, struct iscsi_task *t);

/* Discovery: on a session with no target name, SendTargets=All. The
 * callback gets the raw key list (NUL-separated) or an error. */
int iscsi_send_targets(struct iscsi_session *s,
		       void (*cb)(void *ctx, int err, char *text, size_t len),
		       void *ctx);

struct iscsi_portal {
	char host[256];
	uint16_t port;
	uint16_t tpgt;
};

struct iscsi_target_entry {
	char name[ISCSI_NAME_LEN + 1];
	struct iscsi_portal portals[8];
	size_t nportals;
};
/* Parses a SendTargets answer into at most max entries (-E2BIG past
 * them; portals past 8 of one target are left out). */
int iscsi_parse_send_targets(char *text, size_t len,
			     struct iscsi_target_entry *out, size_t max, size_t *n);
/* Walks a SendTargets answer (NUL-separated key=value, split in place)
 * in its order: fn(ctx, name, NULL) for each TargetName, then
 * fn(ctx, name, portal) for each TargetAddress after it. -EBADMSG for a
 * malformed pair, an over-long name, a bad address or an address before
 * any name; a negative return of fn stops the walk and is returned. */
typedef int (*iscsi_send_targets_fn)(void *ctx, const char *target,
				     const struct iscsi_portal *portal);
int iscsi_send_targets_walk(char *text, size_t len, iscsi_send_targets_fn fn, void *ctx);

/* ---- A LUN as a disk: what the block layer and the tools need. */
struct iscsi_disk {
	uint64_t lun;
	struct scsi_inquiry inquiry;
	char serial[256];
	char designator[300];           /* the best VPD 0x83 identifier */
	struct scsi_capacity capacity;
	struct scsi_block_limits limits;
	bool have_limits;
	bool use16;                     /* 16-byte CDBs: LBA or size needs them */
	bool can_unmap;                 /* thin and Block Limits allow UNMAP */
	bool write_protected;
	bool dpofua;                    /* the FUA bit is supported (MODE SENSE) */
	uint32_t max_xfer_bytes;        /* per command (at most 16 MiB) */
};

/* What makes a LUN the disk that was attached: its VPD 0x83 designator
 * (the best one: NAA, EUI-64, then any of the LU), its serial number
 * (VPD 0x80), vendor and product when it has neither, block size and
 * capacity. */
struct iscsi_disk_identity {
	char designator[300];
	char serial[256];
	char vendor[9], product[17];
	uint32_t block_size;
	uint64_t blocks;
};
void iscsi_disk_identity_of(const struct iscsi_disk *d, struct iscsi_disk_identity *id);
/* 0 when now is the disk was describes (it may have grown); -ESTALE with
 * the difference in why otherwise. */
int iscsi_disk_identity_check(const struct iscsi_disk_identity *was,
			      const struct iscsi_disk_identity *now, char *why,
			      size_t len);

/* Keeps a session on the disk it attached: the session's gate (see
 * iscsi_session_set_gate) reads the LUN's identity again after every
 * re-login and every UNIT ATTENTION that says the LUN may have changed,
 * and lets commands through only when it matches d's. Another disk keeps
 * them waiting (until the replacement timeout, if one is set), says so
 * in one line, and is looked at again every 30 s. */
struct iscsi_disk_guard;
struct iscsi_disk_guard *iscsi_disk_guard_new(struct ev_loop *loop,
					      struct iscsi_session *s,
					      const struct iscsi_disk *d);
/* After iscsi_session_free(), whose end completes a check in flight. */
void iscsi_disk_guard_free(struct iscsi_disk_guard *g);
/* Checks run and mismatches seen, for status and tests. */
unsigned iscsi_disk_guard_checks(const struct iscsi_disk_guard *g);
unsigned iscsi_disk_guard_mismatches(const struct iscsi_disk_guard *g);

/* TEST UNIT READY, INQUIRY (standard, VPD 0x00/0x80/0x83/0xB0), READ
 * CAPACITY(10), then (16) when needed or thin, MODE SENSE for WP. */
int iscsi_disk_probe(struct ev_loop *loop, struct iscsi_session *s,
		     uint64_t lun, struct iscsi_disk *d, char *err, size_t errlen);
/* What a LUN of any device type tells: the standard INQUIRY and the VPD
 * pages (serial, identifier); no capacity. */
int iscsi_lun_describe(struct ev_loop *loop, struct iscsi_session *s, uint64_t lun,
		       struct iscsi_disk *d, char *err, size_t errlen);

/* A LUN of the target's and its standard INQUIRY, if it answered one. */
struct iscsi_lun_entry {
	uint64_t lun;
	bool answered;
	struct scsi_inquiry inquiry;
};
#define ISCSI_LUNS_MAX 64
/* REPORT LUNS, then the standard INQUIRY of each LUN: up to max entries
 * in out (at most ISCSI_LUNS_MAX), their count in *n. */
int iscsi_lun_list(struct ev_loop *loop, struct iscsi_session *s,
		   struct iscsi_lun_entry *out, size_t max, size_t *n, char *err,
		   size_t errlen);
/* The lowest-numbered of the LUNs that is a direct-access block device
 * (peripheral qualifier 0, type 0); -ENODEV when none is. */
int iscsi_lun_first_disk(const struct iscsi_lun_entry *e, size_t n, uint64_t *lun);
/* That LUN of the target's (iscsi_lun_list, iscsi_lun_first_disk): what a
 * login to a whole target, as iscsistart does, means for a single disk,
 * and what the tools use without -l. -ENODEV when there is none. */
int iscsi_disk_find(struct ev_loop *loop, struct iscsi_session *s, uint64_t *lun,
		    char *err, size_t errlen);
/* Fills a task for READ or WRITE of blocks at lba (10 or 16 byte CDB). */
void iscsi_disk_rw(const struct iscsi_disk *d, struct iscsi_task *t, bool write,
		   uint64_t lba, uint32_t blocks, uint8_t *buf, bool fua);
void iscsi_disk_flush(const struct iscsi_disk *d, struct iscsi_task *t);
/* UNMAP of one range; params must hold 24 bytes and outlive the task. */
void iscsi_disk_unmap(const struct iscsi_disk *d, struct iscsi_task *t,
		      uint64_t lba, uint32_t blocks, uint8_t *params);
/* 0 for GOOD, else a negative errno and a line such as "CHECK CONDITION:
 * MEDIUM ERROR, asc/ascq 11/00 (unrecovered read error)". */
int iscsi_task_status(const struct iscsi_task *t, char *msg, size_t len);

/* ---- One disk over several paths (multipath): a session per path, and
 * every command on a path that is logged in and whose LUN shows the
 * disk's identity (the guard, above). A path that dies hands its
 * unanswered commands to a live one once its connection is gone (reset:
 * nothing it held is sent later), so a command never runs beside or
 * after a copy of itself. */
#define ISCSI_MPATH_MAX 8

enum iscsi_mpath_policy {
	ISCSI_MPATH_FAILOVER,           /* one path at a time, the others standby */
	ISCSI_MPATH_ROUND_ROBIN,        /* commands spread over every live path */
};

struct iscsi_mpath;
/* d: the disk as probed on the first path. The replacement timeout
 * (< 0: never) runs only while no path can carry I/O. */
struct iscsi_mpath *iscsi_mpath_new(struct ev_loop *loop, const struct iscsi_disk *d,
				    enum iscsi_mpath_policy policy,
				    int64_t replacement_timeout_ms);
/* Takes s over (iscsi_mpath_free() frees it). verified: d was probed on
 * s, now; it becomes the active path. Any other path carries I/O only once its LUN shows d's
 * identity; an idle one is started, and its first login is retried for
 * as long as the system runs (a path down at boot joins when it comes
 * up). -ENOSPC past ISCSI_MPATH_MAX. */
int iscsi_mpath_add(struct iscsi_mpath *m, struct iscsi_session *s, bool verified);
int iscsi_mpath_submit(struct iscsi_mpath *m, struct iscsi_task *t);
/* Logs every path out (shutdown: the disk is no longer mounted); whether
 * all are closed; and logging the closed ones in again (I/O came after). */
void iscsi_mpath_logout(struct iscsi_mpath *m);
bool iscsi_mpath_closed(const struct iscsi_mpath *m);
void iscsi_mpath_start(struct iscsi_mpath *m);
/* Completes every command still held with -ECANCELED, then frees. */
void iscsi_mpath_free(struct iscsi_mpath *m);

/* For status: each path as it is now. */
struct iscsi_mpath_path_info {
	const char *state;      /* "active", "standby", "down", "other disk", "failed" */
	unsigned reconnects;
	unsigned mismatches;    /* identity checks that found another disk */
	uint64_t commands;      /* given to this path */
};
unsigned iscsi_mpath_paths(const struct iscsi_mpath *m);
struct iscsi_session *iscsi_mpath_session(const struct iscsi_mpath *m, unsigned i);
void iscsi_mpath_path_info(const struct iscsi_mpath *m, unsigned i,
			   struct iscsi_mpath_path_info *out);
/* Times commands moved from a dead path to a live one. */
unsigned iscsi_mpath_failovers(const struct iscsi_mpath *m);
const char *iscsi_mpath_policy_name(enum iscsi_mpath_policy p);
/* "failover" or "round-robin"; -EINVAL otherwise. */
int iscsi_mpath_parse_policy(const char *s, enum iscsi_mpath_policy *out);

/* ---- Synchronous helpers: run the loop until the operation ends. */
int iscsi_sync_login(struct ev_loop *loop, struct iscsi_session *s);
int iscsi_sync_task(struct ev_loop *loop, struct iscsi_session *s,
		    struct iscsi_task *t);
int iscsi_sync_logout(struct ev_loop *loop, struct iscsi_session *s);
/* Sends n independent commands at once and runs the loop until every one
 * has ended (one the session refused has its error in result). Returns 0,
 * or the loop's failure. */
int iscsi_sync_tasks(struct ev_loop *loop, struct iscsi_session *s, struct iscsi_task *t,
		     size_t n);
/* How an ended command went: 0 for GOOD, else a negative errno with the
 * reason in msg, as iscsi_sync_command says it. */
int iscsi_task_outcome(const struct iscsi_session *s, const struct iscsi_task *t,
		       char *msg, size_t len);
/* Runs one command to its end: 0 for GOOD, else a negative errno with the
 * reason in msg (a SCSI status, or why the session could not run it). */
int iscsi_sync_command(struct ev_loop *loop, struct iscsi_session *s,
		       struct iscsi_task *t, char *msg, size_t len);

#endif
