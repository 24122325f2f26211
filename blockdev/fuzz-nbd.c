/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the NBD server as if the kernel sent them. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blockdev.h"
#include "nbd-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t disk[1 << 16];

static void submit(void *ctx, struct bdev_io *io)
{
	(void)ctx;
	if (io->op == BDEV_OP_READ)
		memcpy(io->buf, disk + io->offset, io->len);
	else if (io->op == BDEV_OP_WRITE)
		memcpy(disk + io->offset, io->buf, io->len);
	bdev_nbd_io_complete(io, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bdev_config cfg = { .size = sizeof(disk), .block_size = 512,
				   .max_io_bytes = 8192, .queues = 1, .index = -1 };
	struct bdev_consumer consumer = { .submit = submit };
	struct ev_loop loop;
	struct bdev_nbd *dev;
	struct nbd_req req;
	uint8_t sink[4096];
	int sv[2];

	nbd_req_decode(data, size, &req);
	if (size > 65536 || ev_loop_init(&loop) < 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		ev_loop_close(&loop);
		return 0;
	}
	set_nonblocking(sv[0]);
	set_nonblocking(sv[1]);
	if (bdev_nbd_serve(&loop, &cfg, &consumer, &sv[0], 1, &dev) == 0) {
		if (write(sv[1], data, size) >= 0) {
			for (int i = 0; i < 8; i++) {
				ev_run_once(&loop, 0);
				while (read(sv[1], sink, sizeof(sink)) > 0)
					;
			}
		}
		bdev_nbd_destroy(dev);
	} else {
		close(sv[0]);
	}
	close(sv[1]);
	ev_loop_close(&loop);
	return 0;
}
