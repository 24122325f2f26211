/* SPDX-License-Identifier: MIT */
/* Options, login and error reporting shared by the iSCSI subcommands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

void cli_iscsi_init(struct cli_iscsi *c)
{
	memset(c, 0, sizeof(*c));
	iscsi_config_defaults(&c->cfg);
	c->loop.epfd = -1;
}

static int parse_portal(struct iscsi_config *cfg, const char *arg)
{
	uint16_t tpgt;

	return text_parse_address(arg, cfg->host, sizeof(cfg->host), &cfg->port, &tpgt);
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
	case 'p': r = parse_portal(cfg, arg); break;
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
		log_err("invalid value for option %s%s%s", secret ? "" : "'",
			secret ? (opt == 'w' ? "--password" : "--rpassword") : arg,
			secret ? "" : "'");
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
	if (!cfg->host[0]) {
		log_err("no portal given (--portal HOST[:PORT])");
		return -1;
	}
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

int cli_login(struct cli_iscsi *c)
{
	int r = ev_loop_init(&c->loop);

	if (r < 0) {
		log_err("cannot create the event loop: %s", strerror(-r));
		return EXIT_IO;
	}
	c->session = iscsi_session_new(&c->loop, &c->cfg);
	secure_zero(c->cfg.secret, sizeof(c->cfg.secret));
	secure_zero(c->cfg.rsecret, sizeof(c->cfg.rsecret));
	if (!c->session) {
		log_err("out of memory");
		return EXIT_IO;
	}
	r = iscsi_sync_login(&c->loop, c->session);
	if (r < 0) {
		log_err("%s", iscsi_session_error(c->session));
		/* -EINVAL: a configuration the session refuses before any
		 * connection (one secret for both directions). */
		return r == -EINVAL ? EXIT_USAGE : cli_exit_for_errno(r);
	}
	return EXIT_OK;
}

int cli_pick_lun(struct cli_iscsi *c)
{
	char err[256] = "";
	int r;

	if (c->lun_given)
		return EXIT_OK;
	r = iscsi_disk_find(&c->loop, c->session, &c->lun, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err[0] ? err : strerror(-r));
		return EXIT_IO;
	}
	log_debug("LUN 0x%016llx: the target's first disk", (unsigned long long)c->lun);
	return EXIT_OK;
}

void cli_close(struct cli_iscsi *c)
{
	if (c->session) {
		iscsi_sync_logout(&c->loop, c->session);
		iscsi_session_free(c->session);
		c->session = NULL;
	}
	iscsi_disk_guard_free(c->guard);
	c->guard = NULL;
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
