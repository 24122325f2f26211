/* SPDX-License-Identifier: MIT */
/*
 * The paths to the disk, whichever source gives them: one list in the
 * order of the sources' precedence (pivot/README.md, "Configuration"),
 * each path once, at most BOOT_MAX_PATHS. Also the portals a SendTargets
 * answer (RFC 7143 §13.3, appendix C) lists for the target, as paths.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pivot.h"

/* An IPv4 or IPv6 address in any of its spellings ("::1", "0::01") is
 * one host; a name is one without regard to case. */
static bool same_host(const char *a, const char *b)
{
	static const int families[] = { AF_INET, AF_INET6 };
	unsigned char x[16], y[16];

	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		if (inet_pton(families[i], a, x) == 1 && inet_pton(families[i], b, y) == 1)
			return !memcmp(x, y, families[i] == AF_INET ? 4 : 16);
	return !strcasecmp(a, b);
}

bool boot_path_same(const struct dhcpc_rootpath *a, const struct dhcpc_rootpath *b)
{
	/* iSCSI names are compared without case (RFC 3722 folds them). */
	return a->port == b->port && a->lun == b->lun && !strcasecmp(a->target, b->target) &&
	       same_host(a->host, b->host);
}

int boot_config_add_path(struct boot_config *bc, const struct dhcpc_rootpath *rp,
			 const char *source)
{
	for (unsigned i = 0; i < bc->npaths; i++)
		if (boot_path_same(&bc->paths[i], rp))
			return 0;
	if (bc->npaths >= BOOT_MAX_PATHS) {
		char hp[HOST_PORT_LEN];

		log_warn("more than %d paths to the disk: leaving out %s (%s)",
			 BOOT_MAX_PATHS, host_port(hp, rp->host, rp->port), source);
		return -E2BIG;
	}
	bc->paths[bc->npaths++] = *rp;
	return 1;
}

/* ---- SendTargets */

struct send_targets {
	struct boot_config *bc;
	const struct dhcpc_rootpath *tmpl;
	int tpgt;
	int matched;
};

static int take_portal(void *ctx, const char *target, const struct iscsi_portal *p)
{
	struct send_targets *st = ctx;
	struct dhcpc_rootpath rp;

	if (!p || strcasecmp(target, st->tmpl->target) ||
	    (st->tpgt >= 0 && p->tpgt != st->tpgt))
		return 0;
	st->matched++;
	rp = *st->tmpl;
	snprintf(rp.host, sizeof(rp.host), "%s", p->host);
	rp.port = p->port;
	/* The kernel's routes pick the NIC: the portal may be on another
	 * network than the path that asked. */
	rp.netdev[0] = '\0';
	boot_config_add_path(st->bc, &rp, "SendTargets");
	secure_zero(&rp, sizeof(rp));
	return 0;
}

int boot_paths_from_send_targets(struct boot_config *bc, const struct dhcpc_rootpath *tmpl,
				 char *text, size_t len, int tpgt)
{
	struct send_targets st = { bc, tmpl, tpgt, 0 };
	unsigned had = bc->npaths;
	int r = iscsi_send_targets_walk(text, len, take_portal, &st);

	if (r < 0) {            /* a malformed answer gives nothing */
		secure_zero(&bc->paths[had], (bc->npaths - had) * sizeof(bc->paths[0]));
		bc->npaths = had;
		return r;
	}
	return st.matched;
}
