/* SPDX-License-Identifier: MIT */
/* The module loader's one system call, in a file of its own so that tests
 * link their own instead (test-modules.c records what would go in). */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pivot.h"

int modules_finit(const char *path, const char *options, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = (int)syscall(SYS_finit_module, fd, options, flags);
	r = r == 0 ? 1 : errno == EEXIST ? 0 : -errno;
	close(fd);
	return r;
}
