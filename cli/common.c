/* SPDX-License-Identifier: MIT */
/* Options, login and error reporting shared by the iSCSI subcommands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common.h"

void cli_iscsi_init(struct cli_iscsi *c)
{
	memset(c, 0, sizeof(*c));
	iscsi_config_defaults(&c->cfg);
	c->loop.epfd = -1;
}

int64_t cli_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ll + ts.tv_nsec / 1000;
}


static const struct option common_long[] = {
	{ "portal", required_argument, NULL, 'p' },
	{ "target", required_argument, NULL, 't' },
	{ "initiator", required_argument, NULL, 'i' },
	{ "lun", required_argument, NULL, 'l' },
	{ "user", required_argument, NULL, 'u' },
	{ "password", required_argument, NULL, 'w' },
	{ "ruser", required_argument, NULL, 'U' },
	{ "rpassword", required_argument, NULL, 'W' },
	{ "debug", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "header-digest", required_argument, NULL, OPT_HEADER_DIGEST },
	{ "data-digest", required_argument, NULL, OPT_DATA_DIGEST },
	{ "login-timeout", required_argument, NULL, OPT_LOGIN_TIMEOUT },
	{ "retry-for", required_argument, NULL, OPT_RETRY_FOR },
	{ "nop-interval", required_argument, NULL, OPT_NOP_INTERVAL },
	{ "nop-timeout", required_argument, NULL, OPT_NOP_TIMEOUT },
	{ "replacement-timeout", required_argument, NULL, OPT_REPLACEMENT },
};

static const char *common_name(int opt)
{
	for (size_t i = 0; i < ARRAY_SIZE(common_long); i++)
		if (common_long[i].val == opt)
			return common_long[i].name;
	return "?";
}

/* -p again: one more portal of the LUN, unless it is one already. */
static int add_portal(struct cli_iscsi *c, const char *arg)
{
	struct iscsi_portal p;

	memset(&p, 0, sizeof(p));
	if (text_parse_address(arg, p.host, sizeof(p.host), &p.port, &p.tpgt) < 0) {
		log_err("invalid value '%s' for --portal", arg);
		return -EINVAL;
	}
	for (unsigned i = 0; i < c->nportals; i++)
		if (!strcasecmp(c->portals[i].host, p.host) && c->portals[i].port == p.port)
			return 0;
	if (c->nportals == CLI_MAX_PORTALS) {
		log_err("more than %d portals (--portal)", CLI_MAX_PORTALS);
		return -E2BIG;
	}
	c->portals[c->nportals++] = p;
	return 0;
}

static int parse_digest(const char *arg, enum iscsi_digest_pref *out)
{
	static const char *const names[] = { "none", "crc32c", "crc32c,none",
					     "none,crc32c" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(arg, names[i])) {
			*out = (enum iscsi_digest_pref)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_lun(const char *arg, uint64_t *lun)
{
	uint64_t n;

	if (!strncmp(arg, "0x", 2)) {
		char *end;
		errno = 0;
		*lun = strtoull(arg + 2, &end, 16);
		return errno || *end || end == arg + 2 ? -EINVAL : 0;
	}
	if (parse_u64(arg, 0, 16383, &n) < 0)
		return -EINVAL;
	return scsi_lun_from_number(n, lun);
}

static int parse_seconds(const char *arg, int min, int64_t *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < min || v > 86400 * 365)
		return -EINVAL;
	*ms = v < 0 ? -1 : (int64_t)v * 1000;
	return 0;
}

static int set_int_seconds(const char *arg, int min, int *out)
{
	int64_t ms;

	if (parse_seconds(arg, min, &ms) < 0)
		return -EINVAL;
	*out = (int)ms;
	return 0;
}

static int copy_name(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return -E2BIG;
	strcpy(dst, src);
	return 0;
}

int cli_common_option(struct cli_iscsi *c, int opt, const char *arg)
{
	struct iscsi_config *cfg = &c->cfg;
	int r;

	switch (opt) {
	case 'p': return add_portal(c, arg) < 0 ? -1 : 1;
	case 't': r = copy_name(cfg->target_name, sizeof(cfg->target_name), arg); break;
	case 'i': r = copy_name(cfg->initiator_name, sizeof(cfg->initiator_name), arg); break;
	case 'l': r = parse_lun(arg, &c->lun); c->lun_given = r == 0; break;
	case 'u': r = copy_name(cfg->user, sizeof(cfg->user), arg); break;
	case 'U': r = copy_name(cfg->ruser, sizeof(cfg->ruser), arg); break;
	case 'w': r = iscsi_config_set_secret(cfg->secret, &cfg->secret_len, arg); break;
	case 'W': r = iscsi_config_set_secret(cfg->rsecret, &cfg->rsecret_len, arg); break;
	case 'd': log_set_level(LOG_DEBUG); r = 0; break;
	case 'h': c->help = true; r = 0; break;
	case OPT_HEADER_DIGEST: r = parse_digest(arg, &cfg->header_digest); break;
	case OPT_DATA_DIGEST: r = parse_digest(arg, &cfg->data_digest); break;
	case OPT_LOGIN_TIMEOUT: r = set_int_seconds(arg, 1, &cfg->login_timeout_ms); break;
	case OPT_RETRY_FOR: r = set_int_seconds(arg, -1, &cfg->first_login_timeout_ms); break;
	case OPT_NOP_INTERVAL: r = set_int_seconds(arg, 0, &cfg->nop_interval_ms); break;
	case OPT_NOP_TIMEOUT: r = set_int_seconds(arg, 1, &cfg->nop_timeout_ms); break;
	case OPT_REPLACEMENT: r = parse_seconds(arg, -1, &cfg->replacement_timeout_ms); break;
	default: return 0;
	}
	if (r < 0) {
		/* Never echo a secret back, even a malformed one. */
		bool secret = opt == 'w' || opt == 'W';
		log_err("invalid value %s%s%sfor --%s", secret ? "" : "'", secret ? "" : arg,
			secret ? "" : "' ", common_name(opt));
		return -1;
	}
	return 1;
}

static void env_default(char *dst, size_t len, const char *var)
{
	const char *v = getenv(var);

	if (!*dst && v && strlen(v) < len)
		strcpy(dst, v);
}

static void env_secret(uint8_t *dst, size_t *dlen, const char *var)
{
	const char *v = getenv(var);

	if (*dlen == 0 && v)
		iscsi_config_set_secret(dst, dlen, v);
}

int cli_finish_options(struct cli_iscsi *c, bool need_target)
{
	struct iscsi_config *cfg = &c->cfg;

	env_default(cfg->user, sizeof(cfg->user), "ISCSIROOT_CHAP_USER");
	env_default(cfg->ruser, sizeof(cfg->ruser), "ISCSIROOT_CHAP_RUSER");
	env_secret(cfg->secret, &cfg->secret_len, "ISCSIROOT_CHAP_PASSWORD");
	env_secret(cfg->rsecret, &cfg->rsecret_len, "ISCSIROOT_CHAP_RPASSWORD");
	if (c->nportals == 0) {
		log_err("no portal given (--portal HOST[:PORT])");
		return -1;
	}
	snprintf(cfg->host, sizeof(cfg->host), "%s", c->portals[0].host);
	cfg->port = c->portals[0].port;
	if (need_target && !cfg->target_name[0]) {
		log_err("no target given (--target IQN)");
		return -1;
	}
	if (cfg->ruser[0] && !cfg->user[0]) {
		log_err("mutual CHAP (--ruser) needs one-way CHAP (--user) too");
		return -1;
	}
	return 0;
}

int cli_exit_for_errno(int err)
{
	switch (err) {
	case -EACCES:
	case -EPERM:
		return EXIT_AUTH;
	case -ENOENT:
	case -EPROTO:
	case -ELOOP:            /* redirected without end */
		return EXIT_LOGIN;
	case -ETIMEDOUT:
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -ECONNRESET:
	case -EAGAIN:
		return EXIT_UNREACHABLE;
	default:
		return EXIT_IO;
	}
}

/* The LUN's probe, then the guard that keeps I/O on that disk. */
/* Without -l, the target's first disk LUN, as the daemon picks it
 * (iscsi_disk_find); then the probe, and the guard. */
static int probe(struct cli_iscsi *c, struct iscsi_disk *d, char *err, size_t len)
{
	int r = c->lun_given ? 0 : iscsi_disk_find(&c->loop, c->session, &c->lun, err, len);

	if (r == 0)
		r = iscsi_disk_probe(&c->loop, c->session, c->lun, d, err, len);

	if (r < 0) {
		if (!err[0])
			snprintf(err, len, "%s", strerror(-r));
		return EXIT_IO;
	}
	c->guard = iscsi_disk_guard_new(&c->loop, c->session, d);
	if (!c->guard) {
		snprintf(err, len, "out of memory");
		return EXIT_IO;
	}
	return EXIT_OK;
}

int cli_login_at(struct cli_iscsi *c, const struct iscsi_portal *p,
		 struct iscsi_disk *d, char *err, size_t len)
{
	int r;

	snprintf(c->cfg.host, sizeof(c->cfg.host), "%s", p->host);
	c->cfg.port = p->port;
	err[0] = '\0';
	c->session = iscsi_session_new(&c->loop, &c->cfg);
	if (!c->session) {
		snprintf(err, len, "out of memory");
		return EXIT_IO;
	}
	r = iscsi_sync_login(&c->loop, c->session);
	if (r < 0) {
		snprintf(err, len, "%s", iscsi_session_error(c->session));
		/* -EINVAL: a configuration the session refuses before any
		 * connection (one secret for both directions). */
		return r == -EINVAL ? EXIT_USAGE : cli_exit_for_errno(r);
	}
	c->logged_in_us = cli_mono_us();
	return d ? probe(c, d, err, len) : EXIT_OK;
}

void cli_portal_failed(const struct cli_iscsi *c, unsigned i, const char *err,
		       enum log_level level)
{
	char name[HOST_PORT_LEN], next[HOST_PORT_LEN] = "";
	bool go_on = level == LOG_WARN && i + 1 < c->nportals;

	host_port(name, c->portals[i].host, c->portals[i].port);
	if (go_on)
		host_port(next, c->portals[i + 1].host, c->portals[i + 1].port);
	log_msg(level, "%s%s%s%s%s", c->nportals > 1 && !strstr(err, name) ? name : "",
		c->nportals > 1 && !strstr(err, name) ? ": " : "", err,
		go_on ? "; trying the next portal, " : "", next);
}

int cli_connect(struct cli_iscsi *c, struct iscsi_disk *d)
{
	char err[512];
	int r = ev_loop_init(&c->loop);

	if (r < 0) {
		log_err("cannot create the event loop: %s", strerror(-r));
		return EXIT_IO;
	}
	r = EXIT_USAGE;         /* no portal: cli_finish_options said so */
	for (unsigned i = 0; i < c->nportals; i++) {
		r = cli_login_at(c, &c->portals[i], d, err, sizeof(err));
		if (r == EXIT_OK)
			break;
		cli_drop_session(c);
		if (r != EXIT_USAGE && i + 1 < c->nportals) {
			cli_portal_failed(c, i, err, LOG_WARN);
			continue;
		}
		cli_portal_failed(c, i, err, LOG_ERR);
		break;
	}
	secure_zero(c->cfg.secret, sizeof(c->cfg.secret));
	secure_zero(c->cfg.rsecret, sizeof(c->cfg.rsecret));
	return r;
}

int cli_login(struct cli_iscsi *c)
{
	return cli_connect(c, NULL);
}

void cli_drop_session(struct cli_iscsi *c)
{
	if (c->session) {
		iscsi_sync_logout(&c->loop, c->session);
		iscsi_session_free(c->session);
		c->session = NULL;
	}
	iscsi_disk_guard_free(c->guard);
	c->guard = NULL;
}

void cli_close(struct cli_iscsi *c)
{
	cli_drop_session(c);
	if (c->loop.epfd >= 0)
		ev_loop_close(&c->loop);
}

int cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: return -EINVAL;
	}
	if (*end && end[1] != '\0' && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -EINVAL;
	if (shift && v > (~0ull >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static const char exit_codes_help[] =
	"exit codes: 0 success, 1 SCSI/I/O error, 2 invalid arguments,\n"
	"  3 portal unreachable or timed out, 4 authentication failed,\n"
	"  5 login refused (e.g. no such target)\n";

static const char common_help[] =
	"  -p, --portal HOST[:PORT]\ttarget portal ([v6addr]:port for IPv6);\n"
	"\tagain for more portals of the same LUN,\n"
	"\tup to 4, tried in order at login: the\n"
	"\tfirst that logs in (and answers the\n"
	"\tprobe) serves; the same one twice is one\n"
	"  -t, --target IQN\ttarget name\n"
	"  -i, --initiator IQN\tour initiator name\n"
	"  -l, --lun N\tLUN number, or a 0x-prefixed SAM LUN\n"
	"\t(default: the target's first disk LUN)\n"
	"      --header-digest D      none | crc32c | crc32c,none | none,crc32c\n"
	"      --data-digest D        likewise for data\n"
	"  -u, --user NAME\tCHAP user (or $ISCSIROOT_CHAP_USER)\n"
	"  -w, --password SECRET\tCHAP secret; file:PATH or env:NAME read it\n"
	"\tfrom there ($ISCSIROOT_CHAP_PASSWORD)\n"
	"  -U, --ruser NAME\tmutual CHAP: the target's user\n"
	"  -W, --rpassword SECRET\tmutual CHAP: the target's secret\n"
	"      --login-timeout SEC    one connect+login attempt (15)\n"
	"      --retry-for SEC        keep retrying the first login (30)\n"
	"      --nop-interval SEC     keepalive NOP-Out when idle (5; 0 off)\n"
	"      --nop-timeout SEC      dead connection after (10)\n"
	"      --replacement-timeout SEC  fail I/O after so long without\n"
	"\ta connection (-1: never, the default)\n"
	"  -d, --debug\tdebug logging\n"
	"  -h, --help\tthis text\n";

/* Column of the options' descriptions: a tab in a help text goes there
 * (on the next line when the column is passed), so that the padding is
 * not in the binary. */
#define HELP_COLUMN 29

void cli_print_help(FILE *out, const char *help)
{
	unsigned col = 0;

	for (const char *p = help; *p; p++) {
		if (*p == CLI_COMMON_HELP[0]) {
			cli_print_help(out, common_help);
		} else if (*p == CLI_EXIT_CODES_HELP[0]) {
			fputs(exit_codes_help, out);
		} else if (*p == '\t') {
			if (col >= HELP_COLUMN) {
				fputc('\n', out);
				col = 0;
			}
			for (; col < HELP_COLUMN; col++)
				fputc(' ', out);
		} else {
			fputc(*p, out);
			col = *p == '\n' ? 0 : col + 1;
		}
	}
}


void cli_long_options(const struct option *own, struct option out[CLI_MAX_LONG_OPTIONS])
{
	size_t n = ARRAY_SIZE(common_long);

	memcpy(out, common_long, sizeof(common_long));
	for (; own && own->name && n + 1 < CLI_MAX_LONG_OPTIONS; own++)
		out[n++] = *own;
	memset(&out[n], 0, sizeof(out[n]));
}

int cli_parse_options(int argc, char **argv, struct cli_iscsi *c, const struct option *own,
		      int (*own_option)(void *ctx, int opt, const char *arg), void *ctx)
{
	struct option all[CLI_MAX_LONG_OPTIONS];
	int opt;

	cli_long_options(own, all);
	optind = 1;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, all, NULL)) != -1) {
		int r = cli_common_option(c, opt, optarg);
		const struct option *o = all;

		if (r > 0 || (r == 0 && opt != '?' && own_option &&
			      own_option(ctx, opt, optarg) == 0))
			continue;
		while (r == 0 && opt != '?' && o->name && o->val != opt)
			o++;
		if (o->name && r == 0 && opt != '?')
			log_err("invalid value '%s' for --%s", optarg ? optarg : "", o->name);
		return -1;
	}
	return 0;
}
