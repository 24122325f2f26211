/* SPDX-License-Identifier: MIT */
/* Partition tables and superblocks come from the target's disk: parse
 * arbitrary disk contents (the input, repeated over 128 KiB). */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pivot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static uint8_t disk[1u << 17];
	struct part_info parts[16];
	struct fs_info fs;
	int n;

	if (fd < 0)
		fd = memfd_create("disk", 0);
	if (fd < 0 || size == 0 || ftruncate(fd, 0) < 0)
		return 0;
	for (size_t off = 0; off < sizeof(disk); off += size)
		memcpy(disk + off, data, MIN(size, sizeof(disk) - off));
	if (pwrite(fd, disk, sizeof(disk), 0) < 0)
		return 0;
	n = part_probe(fd, 512, parts, 16);
	for (int i = 0; i < n; i++)
		fs_probe(fd, parts[i].start, &fs);
	fs_probe(fd, 0, &fs);
	return 0;
}
