/* SPDX-License-Identifier: MIT */
/* NBD set up through ioctls (linux/nbd.h), the fallback when the kernel
 * has no "nbd" generic netlink family. NBD_DO_IT blocks for the life of
 * the device, so a child process makes that call. */
#include <errno.h>
#include <fcntl.h>
#include <linux/nbd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "nbd-genl.h"

#define NBD_DEVICES_MAX 16
/* Requests wait out iSCSI recovery (30 days): without netlink no new
 * socket can replace one the kernel would declare dead (nbd-genl.c). */
#define NBD_IOCTL_TIMEOUT_S (30ul * 24 * 3600)

static int configure(int dev, const struct bdev_config *cfg, const int *fds, unsigned n)
{
	if (ioctl(dev, NBD_SET_BLKSIZE, (unsigned long)cfg->block_size) < 0 ||
	    ioctl(dev, NBD_SET_SIZE_BLOCKS, (unsigned long)(cfg->size / cfg->block_size)) < 0 ||
	    ioctl(dev, NBD_SET_FLAGS, (unsigned long)nbd_server_flags(cfg)) < 0 ||
	    ioctl(dev, NBD_SET_TIMEOUT, NBD_IOCTL_TIMEOUT_S) < 0)
		return -errno;
	for (unsigned i = 0; i < n; i++)
		if (ioctl(dev, NBD_SET_SOCK, (unsigned long)fds[i]) < 0)
			return -errno;
	return 0;
}

/* The device's first free instance: one whose socket we may set. */
static int open_free_device(int want, int *index)
{
	for (int i = want >= 0 ? want : 0; i < (want >= 0 ? want + 1 : NBD_DEVICES_MAX); i++) {
		char path[32];
		int dev;

		snprintf(path, sizeof(path), "/dev/nbd%d", i);
		dev = open(path, O_RDWR | O_CLOEXEC);
		if (dev < 0)
			continue;
		/* A device in use refuses a new size with EBUSY. */
		if (ioctl(dev, NBD_SET_BLKSIZE, 512ul) == 0) {
			*index = i;
			return dev;
		}
		close(dev);
	}
	return -ENODEV;
}

int nbd_ioctl_connect(const struct bdev_config *cfg, const int *fds, unsigned n,
		      int *index, char *err, size_t errlen)
{
	int dev = open_free_device(*index, index), r;
	pid_t pid;

	if (dev < 0) {
		snprintf(err, errlen, "no free /dev/nbdN (is the nbd module loaded?)");
		return dev;
	}
	r = configure(dev, cfg, fds, n);
	if (r < 0) {
		snprintf(err, errlen, "NBD ioctl set-up of /dev/nbd%d failed: %s", *index,
			 strerror(-r));
		ioctl(dev, NBD_CLEAR_SOCK);
		close(dev);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		ioctl(dev, NBD_CLEAR_SOCK);
		close(dev);
		return r;
	}
	if (pid == 0) {
		/* Here until the device is disconnected. */
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		ioctl(dev, NBD_DO_IT);
		ioctl(dev, NBD_CLEAR_SOCK);
		_exit(0);
	}
	close(dev);
	return 0;
}
