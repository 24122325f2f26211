/* SPDX-License-Identifier: MIT */
/*
 * A session's configuration: its defaults, secrets, and open-iscsi's
 * node settings (the keys of iscsid.conf and of a node record), as
 * iscsistart's -P NAME=VALUE and dracut's rd.iscsi.param= pass them: the
 * ones that mean something to this initiator.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chap.h"
#include "iscsi.h"

void iscsi_config_defaults(struct iscsi_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->initiator_name, sizeof(cfg->initiator_name),
		 "iqn.2025-01.org.iscsiroot:initiator");
	cfg->port = ISCSI_DEFAULT_PORT;
	cfg->header_digest = DIGEST_NONE;
	cfg->data_digest = DIGEST_NONE;
	cfg->login_timeout_ms = 15000;
	cfg->first_login_timeout_ms = 30000;
	cfg->nop_interval_ms = 5000;
	cfg->nop_timeout_ms = 10000;
	cfg->replacement_timeout_ms = -1;
	cfg->reconnect_delay_max_ms = 5000;
	cfg->initial_login_retry_max = -1;
}

static int read_secret_file(const char *path, uint8_t *out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, ISCSI_SECRET_LEN);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	*len = (size_t)n;
	return 0;
}

int iscsi_config_set_secret(uint8_t *out, size_t *out_len, const char *spec)
{
	const char *text = spec;
	size_t n;

	if (!strncmp(spec, "file:", 5))
		return read_secret_file(spec + 5, out, out_len);
	if (!strncmp(spec, "env:", 4)) {
		text = getenv(spec + 4);
		if (!text)
			return -ENOENT;
	}
	n = strlen(text);
	if (n > ISCSI_SECRET_LEN)
		return -E2BIG;
	memcpy(out, text, n);
	*out_len = n;
	return 0;
}

#define SECONDS_MAX 3600        /* an hour: longer is a typo, not a plan */
#define RETRIES_MAX 10000       /* dracut's range for login_retry_max */

/* A decimal, optionally negative, in [min, max]. */
static int parse_int(const char *v, long long min, long long max, long long *out)
{
	uint64_t n;
	bool neg = *v == '-';

	if (parse_u64(v + neg, 0, (uint64_t)1 << 40, &n) < 0)
		return -EINVAL;
	*out = neg ? -(long long)n : (long long)n;
	return *out < min || *out > max ? -EINVAL : 0;
}

static int parse_digest(const char *v, enum iscsi_digest_pref *out)
{
	static const struct {
		const char *name;
		enum iscsi_digest_pref pref;
	} forms[] = {
		{ "None", DIGEST_NONE },
		{ "CRC32C", DIGEST_CRC32C },
		{ "CRC32C,None", DIGEST_PREFER_CRC32C },
		{ "None,CRC32C", DIGEST_PREFER_NONE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		if (!strcmp(v, forms[i].name))
			return *out = forms[i].pref, 0;
	return -EINVAL;
}

static int set_header_digest(struct iscsi_config *cfg, const char *v)
{
	return parse_digest(v, &cfg->header_digest);
}

static int set_data_digest(struct iscsi_config *cfg, const char *v)
{
	return parse_digest(v, &cfg->data_digest);
}

/* iscsid.conf: 0 fails I/O at once, below 0 queues it until the session
 * is back; the same as our replacement_timeout_ms. */
static int set_replacement_timeout(struct iscsi_config *cfg, const char *v)
{
	long long s;

	if (parse_int(v, -(1LL << 40), 86400LL * 365, &s) < 0)
		return -EINVAL;
	cfg->replacement_timeout_ms = s < 0 ? -1 : s * 1000;
	return 0;
}

/* open-iscsi bounds the first login by login_timeout times
 * initial_login_retry_max (iscsid.conf: "15 * 8 = 120 seconds"); either
 * key may come first, so both recompute it. */
static void update_first_login(struct iscsi_config *cfg)
{
	if (cfg->initial_login_retry_max >= 0)
		cfg->first_login_timeout_ms = (int)MIN((int64_t)cfg->login_timeout_ms *
						       cfg->initial_login_retry_max,
						       (int64_t)INT_MAX);
}

static int set_login_timeout(struct iscsi_config *cfg, const char *v)
{
	long long s;

	if (parse_int(v, 1, SECONDS_MAX, &s) < 0)
		return -EINVAL;
	cfg->login_timeout_ms = (int)s * 1000;
	update_first_login(cfg);
	return 0;
}

/* 0 (what iscsistart forces) means one attempt. */
static int set_login_retry_max(struct iscsi_config *cfg, const char *v)
{
	long long n;

	if (parse_int(v, 0, RETRIES_MAX, &n) < 0)
		return -EINVAL;
	cfg->initial_login_retry_max = (int)n;
	update_first_login(cfg);
	return 0;
}

/* 0: no NOP-Out pings (iscsistart's default). */
static int set_noop_interval(struct iscsi_config *cfg, const char *v)
{
	long long s;

	if (parse_int(v, 0, SECONDS_MAX, &s) < 0)
		return -EINVAL;
	cfg->nop_interval_ms = (int)s * 1000;
	return 0;
}

/* 0 is taken because iscsistart users pass it with interval 0, which turns
 * pings off; with pings on it would, as in the kernel, give up on the
 * connection at the first unanswered one. */
static int set_noop_timeout(struct iscsi_config *cfg, const char *v)
{
	long long s;

	if (parse_int(v, 0, SECONDS_MAX, &s) < 0)
		return -EINVAL;
	cfg->nop_timeout_ms = (int)s * 1000;
	return 0;
}

static int chap_alg_value(const char *name, size_t len)
{
	static const struct {
		const char *name;
		int alg;
	} algs[] = {
		{ "MD5", CHAP_ALG_MD5 },
		{ "SHA1", CHAP_ALG_SHA1 },
		{ "SHA256", CHAP_ALG_SHA256 },
		{ "SHA3-256", CHAP_ALG_SHA3_256 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (strlen(algs[i].name) == len && !memcmp(name, algs[i].name, len))
			return algs[i].alg;
	return -EINVAL;
}

/* "SHA3-256,SHA256,SHA1,MD5": most preferred first, no repeats. */
static int set_chap_algs(struct iscsi_config *cfg, const char *v)
{
	uint8_t list[ARRAY_SIZE(cfg->chap_algs)];
	size_t n = 0;

	for (;;) {
		size_t len = strcspn(v, ",");
		int alg = chap_alg_value(v, len);

		if (alg < 0 || n == ARRAY_SIZE(list) || memchr(list, alg, n))
			return -EINVAL;
		list[n++] = (uint8_t)alg;
		if (!v[len])
			break;
		v += len + 1;
	}
	memcpy(cfg->chap_algs, list, n);
	cfg->nchap_algs = (uint8_t)n;
	return 0;
}

/* CHAP is used whenever a username is set; None drops what was set so far
 * (iscsistart applies -P after -u/-w, so this is its order too). */
static int set_authmethod(struct iscsi_config *cfg, const char *v)
{
	if (!strcmp(v, "CHAP"))
		return 0;
	if (strcmp(v, "None"))
		return -EINVAL;
	secure_zero(cfg->user, sizeof(cfg->user));
	secure_zero(cfg->secret, sizeof(cfg->secret));
	secure_zero(cfg->ruser, sizeof(cfg->ruser));
	secure_zero(cfg->rsecret, sizeof(cfg->rsecret));
	cfg->secret_len = cfg->rsecret_len = 0;
	return 0;
}

static int set_name(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return -EINVAL;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* The text itself: unlike iscsi_config_set_secret(), no file: or env:,
 * because a password may well start with those letters. */
static int set_secret(uint8_t *dst, size_t *len, const char *v)
{
	if (strlen(v) > ISCSI_SECRET_LEN)
		return -EINVAL;
	secure_zero(dst, ISCSI_SECRET_LEN);
	memcpy(dst, v, strlen(v));
	*len = strlen(v);
	return 0;
}

static int set_username(struct iscsi_config *cfg, const char *v)
{
	return set_name(cfg->user, sizeof(cfg->user), v);
}

static int set_password(struct iscsi_config *cfg, const char *v)
{
	return set_secret(cfg->secret, &cfg->secret_len, v);
}

static int set_username_in(struct iscsi_config *cfg, const char *v)
{
	return set_name(cfg->ruser, sizeof(cfg->ruser), v);
}

static int set_password_in(struct iscsi_config *cfg, const char *v)
{
	return set_secret(cfg->rsecret, &cfg->rsecret_len, v);
}

/* Spelled as in open-iscsi's etc/iscsid.conf. */
static const struct {
	const char *key;
	int (*set)(struct iscsi_config *cfg, const char *v);
} node_keys[] = {
	{ "node.conn[0].iscsi.HeaderDigest", set_header_digest },
	{ "node.conn[0].iscsi.DataDigest", set_data_digest },
	{ "node.session.timeo.replacement_timeout", set_replacement_timeout },
	{ "node.conn[0].timeo.login_timeout", set_login_timeout },
	{ "node.conn[0].timeo.noop_out_interval", set_noop_interval },
	{ "node.conn[0].timeo.noop_out_timeout", set_noop_timeout },
	{ "node.session.initial_login_retry_max", set_login_retry_max },
	{ "node.session.auth.chap_algs", set_chap_algs },
	{ "node.session.auth.authmethod", set_authmethod },
	{ "node.session.auth.username", set_username },
	{ "node.session.auth.password", set_password },
	{ "node.session.auth.username_in", set_username_in },
	{ "node.session.auth.password_in", set_password_in },
};

int iscsi_config_set_node_param(struct iscsi_config *cfg, const char *key,
				const char *value)
{
	for (size_t i = 0; i < ARRAY_SIZE(node_keys); i++)
		if (!strcmp(key, node_keys[i].key))
			return node_keys[i].set(cfg, value) < 0 ? -EINVAL : 0;
	return -ENOENT;
}
