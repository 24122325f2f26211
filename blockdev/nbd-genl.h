/* SPDX-License-Identifier: MIT */
/* Setting an NBD device up through the kernel's generic netlink "nbd"
 * family (linux/nbd-netlink.h, Linux >= 4.12). */
#ifndef ISCSIROOT_NBD_GENL_H
#define ISCSIROOT_NBD_GENL_H

#include <stddef.h>
#include <stdint.h>

#include "blockdev.h"

/* Connects the kernel's ends of the sockets as device *index (-1: any
 * free one; the one chosen is returned there). */
int nbd_genl_connect(const struct bdev_config *cfg, const int *fds, unsigned n,
		     int *index, char *err, size_t errlen);
int nbd_genl_disconnect(int index);
/* Gives device index the kernel's end of a new socket in place of a dead
 * one. -EINVAL: the device is not connected (any more); -ENOSPC: none of
 * its sockets is dead. */
int nbd_genl_reconfigure(int index, int fd);
/* NBD_FLAG_* for what the device can do; both set-ups send the same. */
uint64_t nbd_server_flags(const struct bdev_config *cfg);

/* The older interface, for kernels without the netlink family: ioctls on
 * /dev/nbdN, and a child process that sits in NBD_DO_IT while the device
 * lives. Same contract as nbd_genl_connect(). */
int nbd_ioctl_connect(const struct bdev_config *cfg, const int *fds, unsigned n,
		      int *index, char *err, size_t errlen);

#endif
