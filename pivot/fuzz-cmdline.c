/* SPDX-License-Identifier: MIT */
/*
 * The configuration parsers with arbitrary input: the first byte picks
 * the kernel command line (even) or /etc/iscsi.initramfs (odd); the rest
 * is the text. Both end in boot_config_finish(), as every mode does.
 */
#include <stdlib.h>
#include <string.h>

#include "pivot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_terminated(const char *s, size_t size)
{
	if (strnlen(s, size) >= size)
		abort();
}

/* Whatever the input, every string stays inside its field, and no path
 * is there twice. */
static void check_config(const struct boot_config *bc)
{
	if (bc->npaths > BOOT_MAX_PATHS || bc->nparams > BOOT_MAX_PARAMS)
		abort();
	for (unsigned i = 0; i < bc->npaths; i++) {
		check_terminated(bc->paths[i].host, sizeof(bc->paths[i].host));
		check_terminated(bc->paths[i].target, sizeof(bc->paths[i].target));
		check_terminated(bc->paths[i].password, sizeof(bc->paths[i].password));
		check_terminated(bc->paths[i].netdev, sizeof(bc->paths[i].netdev));
		for (unsigned j = 0; j < i; j++)
			if (boot_path_same(&bc->paths[i], &bc->paths[j]))
				abort();
	}
	for (unsigned i = 0; i < bc->nparams; i++)
		check_terminated(bc->params[i], sizeof(bc->params[i]));
	check_terminated(bc->root, sizeof(bc->root));
	check_terminated(bc->initiator, sizeof(bc->initiator));
	check_terminated(bc->it_ips, sizeof(bc->it_ips));
	check_terminated(bc->rpassword, sizeof(bc->rpassword));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_config bc;
	char err[256];
	char *s;
	int r;

	if (size == 0)
		return 0;
	log_set_level(LOG_ERR);    /* a warning per path left out is expected */
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	boot_config_init(&bc);
	if (data[0] & 1)
		r = boot_config_parse_initramfs(s, &bc, err, sizeof(err));
	else
		r = boot_cmdline_parse(s, &bc, err, sizeof(err));
	if (r == 0)
		boot_config_finish(&bc);
	else
		check_terminated(err, sizeof(err));
	check_config(&bc);
	free(s);
	return 0;
}
