/* SPDX-License-Identifier: MIT */
/* NBD request and simple reply encoding (linux/nbd.h). */
#include <errno.h>
#include <string.h>

#include "nbd-proto.h"
#include "util.h"

#define NBD_REQUEST_MAGIC_VALUE 0x25609513u
#define NBD_REPLY_MAGIC_VALUE 0x67446698u

int nbd_req_decode(const uint8_t *b, size_t len, struct nbd_req *r)
{
	uint32_t type;

	if (len < NBD_REQUEST_LEN || get_be32(b) != NBD_REQUEST_MAGIC_VALUE)
		return -EBADMSG;
	type = get_be32(b + 4);
	r->flags = (uint16_t)(type >> 16);
	r->type = (uint16_t)type;
	memcpy(r->handle, b + 8, 8);
	r->from = get_be64(b + 16);
	r->len = get_be32(b + 24);
	return 0;
}

void nbd_req_encode(uint8_t *b, const struct nbd_req *r)
{
	put_be32(b, NBD_REQUEST_MAGIC_VALUE);
	put_be32(b + 4, (uint32_t)r->flags << 16 | r->type);
	memcpy(b + 8, r->handle, 8);
	put_be64(b + 16, r->from);
	put_be32(b + 24, r->len);
}

void nbd_reply_encode(uint8_t *b, const uint8_t handle[8], uint32_t error)
{
	put_be32(b, NBD_REPLY_MAGIC_VALUE);
	put_be32(b + 4, error);
	memcpy(b + 8, handle, 8);
}

int nbd_reply_decode(const uint8_t *b, size_t len, uint8_t handle[8],
		     uint32_t *error)
{
	if (len < NBD_REPLY_LEN || get_be32(b) != NBD_REPLY_MAGIC_VALUE)
		return -EBADMSG;
	*error = get_be32(b + 4);
	memcpy(handle, b + 8, 8);
	return 0;
}
