/* SPDX-License-Identifier: MIT */
/* The NBD transmission wire format (linux/nbd.h, the NBD protocol's
 * "simple reply"): the only file that knows its byte offsets. */
#ifndef ISCSIROOT_NBD_PROTO_H
#define ISCSIROOT_NBD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NBD_REQUEST_LEN 28
#define NBD_REPLY_LEN 16

enum nbd_cmd_type {
	NBD_TYPE_READ = 0,
	NBD_TYPE_WRITE = 1,
	NBD_TYPE_DISC = 2,
	NBD_TYPE_FLUSH = 3,
	NBD_TYPE_TRIM = 4,
};

struct nbd_req {
	uint16_t flags;         /* NBD_CMD_FLAG_* >> 16, e.g. FUA = 1 */
	uint16_t type;
	uint8_t handle[8];
	uint64_t from;
	uint32_t len;
};

#define NBD_REQ_FLAG_FUA 0x1

/* Returns 0, or -EBADMSG for a short buffer or a wrong magic. */
int nbd_req_decode(const uint8_t *buf, size_t len, struct nbd_req *out);
void nbd_req_encode(uint8_t *buf, const struct nbd_req *req);
/* error is an NBD error number (a positive errno value, 0 for success). */
void nbd_reply_encode(uint8_t *buf, const uint8_t handle[8], uint32_t error);
int nbd_reply_decode(const uint8_t *buf, size_t len, uint8_t handle[8],
		     uint32_t *error);

#endif
