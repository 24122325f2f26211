/* SPDX-License-Identifier: MIT */
/* The answer to SendTargets (RFC 7143 §13.3, appendix C): each
 * TargetName is followed by the TargetAddress values that reach it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iscsi.h"

/* One key=value of the answer; other keys than these two are skipped. */
static int take_pair(const struct text_pair *pair, const char **target,
		     iscsi_send_targets_fn fn, void *ctx)
{
	struct iscsi_portal p;

	if (!strcmp(pair->key, "TargetName")) {
		if (strlen(pair->value) > ISCSI_NAME_LEN)
			return -EBADMSG;
		*target = pair->value;
		return fn(ctx, *target, NULL);
	}
	if (strcmp(pair->key, "TargetAddress"))
		return 0;
	if (!*target)
		return -EBADMSG;
	memset(&p, 0, sizeof(p));
	if (text_parse_address(pair->value, p.host, sizeof(p.host), &p.port, &p.tpgt) < 0)
		return -EBADMSG;
	return fn(ctx, *target, &p);
}

/* Pair by pair, so that an answer of any length (up to what the session
 * took in) is read without a cap on its pairs. */
int iscsi_send_targets_walk(char *text, size_t len, iscsi_send_targets_fn fn, void *ctx)
{
	const char *target = NULL;
	size_t pos = 0;

	while (pos < len) {
		char *end = memchr(text + pos, '\0', len - pos);
		struct text_pair pair;
		size_t seg, n;
		int r;

		if (!end)
			return -EBADMSG;
		seg = (size_t)(end - (text + pos)) + 1;
		r = text_parse(text + pos, seg, &pair, 1, &n);
		pos += seg;
		if (r == 0 && n == 1)
			r = take_pair(&pair, &target, fn, ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

struct parse_ctx {
	struct iscsi_target_entry *out;
	size_t max, *n;
};

static int add_entry(void *ctx, const char *target, const struct iscsi_portal *p)
{
	struct parse_ctx *c = ctx;
	struct iscsi_target_entry *cur;

	if (!p) {
		if (*c->n == c->max)
			return -E2BIG;
		cur = &c->out[(*c->n)++];
		memset(cur, 0, sizeof(*cur));
		snprintf(cur->name, sizeof(cur->name), "%s", target);
		return 0;
	}
	cur = &c->out[*c->n - 1];
	if (cur->nportals < ARRAY_SIZE(cur->portals))
		cur->portals[cur->nportals++] = *p;
	return 0;
}

int iscsi_parse_send_targets(char *text, size_t len,
			     struct iscsi_target_entry *out, size_t max, size_t *n)
{
	struct parse_ctx c = { out, max, n };

	*n = 0;
	return iscsi_send_targets_walk(text, len, add_entry, &c);
}
