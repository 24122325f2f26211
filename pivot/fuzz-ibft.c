/* SPDX-License-Identifier: MIT */
/* The ACPI iBFT parser with arbitrary tables: once as given, and once with
 * the checksum repaired so that the structures behind it get reached. */
#include <stdlib.h>
#include <string.h>

#include "pivot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ibft fw;
	char err[256];
	uint8_t *copy;
	uint8_t sum = 0;
	size_t len;

	ibft_parse_table(data, size, &fw, err, sizeof(err));
	if (size < 10)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	len = MIN(size, (size_t)get_le32(copy + 4));
	copy[9] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + copy[i]);
	copy[9] = (uint8_t)-sum;
	ibft_parse_table(copy, size, &fw, err, sizeof(err));
	free(copy);
	return 0;
}
