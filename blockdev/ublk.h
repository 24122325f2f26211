/* SPDX-License-Identifier: MIT */
/*
 * ublk internals shared by ublk.c, ublk-uring.c and the unit test: the
 * raw io_uring, the UAPI constants newer than Debian 12's 6.1 headers,
 * and the pure computation of the device parameters.
 */
#ifndef ISCSIROOT_UBLK_H
#define ISCSIROOT_UBLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/io_uring.h>
#include <linux/ublk_cmd.h>

#include "blockdev.h"

/* ---- UAPI past 6.1's <linux/ublk_cmd.h> (values from the 6.12 header). */

/* ioctl-encoded command numbers (6.2+); the legacy bare numbers may be
 * compiled out (CONFIG_BLKDEV_UBLK_LEGACY_OPCODES). */
#ifndef UBLK_U_CMD_ADD_DEV
#define UBLK_U_CMD_GET_DEV_INFO _IOR('u', UBLK_CMD_GET_DEV_INFO, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_ADD_DEV _IOWR('u', UBLK_CMD_ADD_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_DEL_DEV _IOWR('u', UBLK_CMD_DEL_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_START_DEV _IOWR('u', UBLK_CMD_START_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_STOP_DEV _IOWR('u', UBLK_CMD_STOP_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_SET_PARAMS _IOWR('u', UBLK_CMD_SET_PARAMS, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_START_USER_RECOVERY \
	_IOWR('u', UBLK_CMD_START_USER_RECOVERY, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_END_USER_RECOVERY \
	_IOWR('u', UBLK_CMD_END_USER_RECOVERY, struct ublksrv_ctrl_cmd)
#define UBLK_U_IO_FETCH_REQ _IOWR('u', UBLK_IO_FETCH_REQ, struct ublksrv_io_cmd)
#define UBLK_U_IO_COMMIT_AND_FETCH_REQ \
	_IOWR('u', UBLK_IO_COMMIT_AND_FETCH_REQ, struct ublksrv_io_cmd)
#define UBLK_U_IO_NEED_GET_DATA _IOWR('u', UBLK_IO_NEED_GET_DATA, struct ublksrv_io_cmd)
#endif
/* 6.5+: the flags this kernel supports, as a u64 at addr. */
#ifndef UBLK_U_CMD_GET_FEATURES
#define UBLK_U_CMD_GET_FEATURES _IOR('u', 0x13, struct ublksrv_ctrl_cmd)
#endif
#ifndef UBLK_F_CMD_IOCTL_ENCODE
#define UBLK_F_CMD_IOCTL_ENCODE (1ULL << 6)
#endif

/* ---- The ring */

#define URING_SQE_SIZE 128      /* IORING_SETUP_SQE128 */

struct uring {
	int fd;
	void *ring, *sqes;
	size_t ring_len, sqes_len;
	uint32_t *sq_head, *sq_tail, *sq_array;
	uint32_t sq_mask, sq_entries, local_tail;
	uint32_t *cq_head, *cq_tail;
	uint32_t cq_mask;
	struct io_uring_cqe *cqes;
};

int uring_init(struct uring *r, unsigned entries);
void uring_exit(struct uring *r);
/* A zeroed SQE to fill, or NULL when the submission ring is full. */
struct io_uring_sqe *uring_get_sqe(struct uring *r);
/* Submits what was filled; with wait_nr, also waits for that many CQEs.
 * Returns the number submitted or a negative errno. */
int uring_submit(struct uring *r, unsigned wait_nr);
/* Takes the next completion, if any. */
bool uring_next_cqe(struct uring *r, struct io_uring_cqe *out);

/* ---- Parameters */

/* The I/O buffer per tag: the largest request the kernel may send us. */
uint32_t ublk_io_buf_bytes(const struct bdev_config *cfg, uint32_t page_size);
/* Fills SET_PARAMS' basic and discard parts from the LUN's geometry.
 * Returns -EINVAL for a geometry ublk cannot take (block size not a power
 * of two in [512, page]). */
int ublk_params_fill(const struct bdev_config *cfg, uint32_t io_buf_bytes,
		     uint32_t page_size, struct ublk_params *p);

#endif
