/* SPDX-License-Identifier: MIT */
/* The answer to SendTargets=All (RFC 7143 §13.3, appendix C): each
 * TargetName is followed by the TargetAddress values that reach it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iscsi.h"

int iscsi_parse_send_targets(char *text, size_t len,
			     struct iscsi_target_entry *out, size_t max, size_t *n)
{
	struct text_pair pairs[512];
	size_t npairs;
	struct iscsi_target_entry *cur = NULL;
	int r = text_parse(text, len, pairs, ARRAY_SIZE(pairs), &npairs);

	*n = 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < npairs; i++) {
		if (!strcmp(pairs[i].key, "TargetName")) {
			if (*n == max)
				return -E2BIG;
			cur = &out[(*n)++];
			memset(cur, 0, sizeof(*cur));
			if (strlen(pairs[i].value) > ISCSI_NAME_LEN)
				return -EBADMSG;
			snprintf(cur->name, sizeof(cur->name), "%s", pairs[i].value);
		} else if (!strcmp(pairs[i].key, "TargetAddress")) {
			struct iscsi_portal *p;
			if (!cur)
				return -EBADMSG;
			if (cur->nportals == ARRAY_SIZE(cur->portals))
				continue;
			p = &cur->portals[cur->nportals];
			if (text_parse_address(pairs[i].value, p->host, sizeof(p->host),
					       &p->port, &p->tpgt) < 0)
				return -EBADMSG;
			cur->nportals++;
		}
	}
	return 0;
}
