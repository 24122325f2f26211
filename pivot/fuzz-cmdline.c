/* SPDX-License-Identifier: MIT */
/* The kernel command line parser with arbitrary input. */
#include <stdlib.h>
#include <string.h>

#include "pivot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_config bc;
	char err[256];
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	boot_config_init(&bc);
	boot_cmdline_parse(s, &bc, err, sizeof(err));
	free(s);
	return 0;
}
