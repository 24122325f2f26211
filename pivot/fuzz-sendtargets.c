/* SPDX-License-Identifier: MIT */
/*
 * SendTargets answers as paths (boot_paths_from_send_targets): the first
 * byte is the portal group to keep (255: any), the rest the answer as a
 * session hands it over. Whatever the target sends, the paths stay within
 * BOOT_MAX_PATHS, each a copy of the template with a terminated host, and
 * a refused answer leaves the one path there was.
 */
#include <stdlib.h>
#include <string.h>

#include "pivot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const struct dhcpc_rootpath *rp, const struct dhcpc_rootpath *tmpl)
{
	if (strnlen(rp->host, sizeof(rp->host)) >= sizeof(rp->host) || !rp->host[0] ||
	    strcmp(rp->target, tmpl->target) || rp->lun != tmpl->lun ||
	    strcmp(rp->password, tmpl->password) || rp->port == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_config bc;
	struct dhcpc_rootpath tmpl = { .port = 3260, .protocol = 6, .lun = 1 };
	char *text;
	int r;

	if (size == 0)
		return 0;
	log_set_level(LOG_ERR);    /* a warning per path left out is expected */
	strcpy(tmpl.host, "10.0.0.1");
	strcpy(tmpl.target, "iqn.2025-01.x:disk");
	strcpy(tmpl.password, "pw");
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	boot_config_init(&bc);
	boot_config_add_path(&bc, &tmpl, "fuzz");
	r = boot_paths_from_send_targets(&bc, &tmpl, text, size - 1,
					 data[0] == 255 ? -1 : data[0]);
	if (bc.npaths < 1 || bc.npaths > BOOT_MAX_PATHS || (r < 0 && bc.npaths != 1))
		abort();
	for (unsigned i = 0; i < bc.npaths; i++)
		check_path(&bc.paths[i], &tmpl);
	free(text);
	return 0;
}
