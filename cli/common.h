/* SPDX-License-Identifier: MIT */
/* What the iSCSI subcommands share: options, exit codes, login. */
#ifndef ISCSIROOT_CLI_COMMON_H
#define ISCSIROOT_CLI_COMMON_H

#include <getopt.h>
#include <stdio.h>

#include "iscsi.h"

/* Exit codes of the iSCSI subcommands (documented in every --help). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_IO = 1,            /* SCSI or I/O error, or data mismatch */
	EXIT_USAGE = 2,         /* invalid arguments */
	EXIT_UNREACHABLE = 3,   /* no connection to the portal in time */
	EXIT_AUTH = 4,          /* CHAP authentication failed */
	EXIT_LOGIN = 5,         /* login refused otherwise (no such target...) */
};

/* Marks in a command's help text where the common options and the exit
 * codes go: cli_print_help() expands them, so that those lines are in
 * the binary once, not once per command. */
#define CLI_COMMON_HELP "\001"
#define CLI_EXIT_CODES_HELP "\002"
/* Prints a help text with its marks expanded; a tab in it goes to the
 * column of the options' descriptions. */
void cli_print_help(FILE *out, const char *help);

enum {
	OPT_HEADER_DIGEST = 1000, OPT_DATA_DIGEST, OPT_LOGIN_TIMEOUT,
	OPT_RETRY_FOR, OPT_NOP_INTERVAL, OPT_NOP_TIMEOUT, OPT_REPLACEMENT,
	OPT_COMMAND_SPECIFIC = 1100,
};

#define CLI_COMMON_SHORT "p:t:i:l:u:w:U:W:dh"
/* The common long options, then a command's own (own: a table ended by
 * { 0 }, or NULL), into out, for getopt_long: the common ones are in the
 * binary once, not in every command's table. */
#define CLI_MAX_LONG_OPTIONS 32
void cli_long_options(const struct option *own, struct option out[CLI_MAX_LONG_OPTIONS]);
struct cli_iscsi;
/* getopt_long from argv[1] over the common options and own; an option
 * not common goes to own_option (NULL: none), which returns 0 or, for a
 * bad value, a negative errno (said here with the option's name).
 * Returns -1 for a usage error, else 0 with optind at the arguments;
 * --help sets c->help. */
int cli_parse_options(int argc, char **argv, struct cli_iscsi *c, const struct option *own,
		      int (*own_option)(void *ctx, int opt, const char *arg), void *ctx);

/* Portals of one LUN given with -p (or as arguments): as many as the
 * daemon takes paths (BOOT_MAX_PATHS). */
#define CLI_MAX_PORTALS 4

struct cli_iscsi {
	struct iscsi_config cfg;         /* host/port: the portal in use */
	struct iscsi_portal portals[CLI_MAX_PORTALS];   /* as given, each once */
	unsigned nportals;
	int64_t logged_in_us;            /* cli_mono_us() at the serving login */
	uint64_t lun;
	bool lun_given;                  /* -l; else the probe picks the
					  * target's first disk LUN */
	bool help;
	struct ev_loop loop;
	struct iscsi_session *session;
	struct iscsi_disk_guard *guard;  /* after a probe: the same disk */
};

void cli_iscsi_init(struct cli_iscsi *c);
/* Handles a common option: 1 handled, 0 not ours, -1 bad value (said). */
int cli_common_option(struct cli_iscsi *c, int opt, const char *arg);
/* Applies the environment's CHAP settings and checks what is required. */
int cli_finish_options(struct cli_iscsi *c, bool need_target);
/* Logs in through the portals in order until one lets us in; with d,
 * that portal must also answer the LUN's probe (into d; without -l the
 * LUN is the target's first disk), and a guard then
 * holds I/O to that disk. c->cfg.host/port name the portal that serves.
 * A portal that fails is one warning when another follows, the last one
 * error line. Returns an exit code (that of the last failure). */
int cli_connect(struct cli_iscsi *c, struct iscsi_disk *d);
/* One portal, on c->loop (set up): the session (c->cfg aimed at p), the
 * login and, with d, the probe. An exit code; the reason in err, said
 * nowhere else. The secrets in c->cfg stay (the caller wipes them). */
int cli_login_at(struct cli_iscsi *c, const struct iscsi_portal *p,
		 struct iscsi_disk *d, char *err, size_t len);
/* cli_connect without the probe. */
int cli_login(struct cli_iscsi *c);
/* Logs out of (if logged in) and frees the session and its guard. */
void cli_drop_session(struct cli_iscsi *c);
void cli_close(struct cli_iscsi *c);
/* Says why portals[i] failed, naming it when err does not and there are
 * several; at LOG_WARN with a portal after it, "; trying the next
 * portal, NAME" follows. */
void cli_portal_failed(const struct cli_iscsi *c, unsigned i, const char *err,
		       enum log_level level);
/* CLOCK_MONOTONIC in microseconds. */
int64_t cli_mono_us(void);
int cli_exit_for_errno(int err);
/* bench --replay TRACE (bench_replay.c): logs in, probes, replays the
 * trace's reads, prints one "replay:" line, closes c; an exit code. */
int bench_replay(struct cli_iscsi *c, const char *path);
/* "4096", "64k", "1M", "2G", "1T": bytes. */
int cli_parse_size(const char *s, uint64_t *out);

#endif
