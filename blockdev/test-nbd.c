/* SPDX-License-Identifier: MIT */
/* The NBD server against a test playing the kernel's side of the
 * socketpair, with a memory disk as the consumer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blockdev.h"
#include "nbd-proto.h"
#include "test.h"

#define DISK_SIZE (1u << 20)

static uint8_t disk[DISK_SIZE];
static struct bdev_io *held[64];
static unsigned nheld;
static bool hold_requests;
static const uint8_t *last_buf;         /* of the last request submitted */

static void mem_submit(void *ctx, struct bdev_io *io)
{
	(void)ctx;
	last_buf = io->buf;
	if (hold_requests) {
		held[nheld++] = io;
		return;
	}
	switch (io->op) {
	case BDEV_OP_READ:
		memcpy(io->buf, disk + io->offset, io->len);
		break;
	case BDEV_OP_WRITE:
		memcpy(disk + io->offset, io->buf, io->len);
		break;
	case BDEV_OP_DISCARD:
		memset(disk + io->offset, 0, io->len);
		break;
	case BDEV_OP_FLUSH:
		break;
	}
	bdev_nbd_io_complete(io, 0);
}

static struct ev_loop loop;
static int kfd;         /* the "kernel" end */
static struct bdev_nbd *dev;

static void send_req(uint16_t type, uint16_t flags, uint64_t from, uint32_t len,
		     uint8_t tag, const uint8_t *payload)
{
	uint8_t b[NBD_REQUEST_LEN];
	struct nbd_req r = { .type = type, .flags = flags, .from = from, .len = len };

	memset(r.handle, tag, 8);
	nbd_req_encode(b, &r);
	CHECK_EQ(write(kfd, b, sizeof(b)), (ssize_t)sizeof(b));
	if (payload)
		CHECK_EQ(write(kfd, payload, len), (ssize_t)len);
}

static void pump(void)
{
	for (int i = 0; i < 20; i++)
		ev_run_once(&loop, 5);
}

/* Reads one reply; returns its error, checks the tag, fills data. */
static int recv_reply(uint8_t tag, uint8_t *data, uint32_t len)
{
	uint8_t b[NBD_REPLY_LEN], handle[8], want[8];
	uint32_t error;
	size_t got = 0;

	pump();
	while (got < sizeof(b)) {
		ssize_t n = recv(kfd, b + got, sizeof(b) - got, MSG_DONTWAIT);
		if (n <= 0)
			return -1000;
		got += (size_t)n;
	}
	CHECK_EQ(nbd_reply_decode(b, sizeof(b), handle, &error), 0);
	memset(want, tag, 8);
	CHECK(memcmp(handle, want, 8) == 0);
	for (got = 0; error == 0 && data && got < len;) {
		ssize_t n = recv(kfd, data + got, len - got, 0);
		if (n <= 0)
			return -1001;
		got += (size_t)n;
	}
	return (int)error;
}

static void setup(void)
{
	struct bdev_config cfg = { .size = DISK_SIZE, .block_size = 512,
				   .max_io_bytes = 128 * 1024, .can_flush = true,
				   .can_fua = true, .can_discard = true, .queues = 1,
				   .index = -1 };
	struct bdev_consumer consumer = { .submit = mem_submit };
	int sv[2];

	CHECK_EQ(ev_loop_init(&loop), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	set_nonblocking(sv[0]);
	kfd = sv[1];
	CHECK_EQ(bdev_nbd_serve(&loop, &cfg, &consumer, &sv[0], 1, &dev), 0);
}

static void test_read_write(void)
{
	uint8_t data[8192], back[8192];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	send_req(NBD_TYPE_WRITE, NBD_REQ_FLAG_FUA, 4096, sizeof(data), 1, data);
	CHECK_EQ(recv_reply(1, NULL, 0), 0);
	CHECK(memcmp(disk + 4096, data, sizeof(data)) == 0);
	send_req(NBD_TYPE_READ, 0, 4096, sizeof(back), 2, NULL);
	CHECK_EQ(recv_reply(2, back, sizeof(back)), 0);
	CHECK(memcmp(back, data, sizeof(data)) == 0);
	send_req(NBD_TYPE_FLUSH, 0, 0, 0, 3, NULL);
	CHECK_EQ(recv_reply(3, NULL, 0), 0);
	send_req(NBD_TYPE_TRIM, 0, 4096, 4096, 4, NULL);
	CHECK_EQ(recv_reply(4, NULL, 0), 0);
	CHECK_EQ(disk[4096], 0);
	CHECK_EQ(disk[8192], data[4096]);
}

/* A large request's buffer serves the next one of its size: no new
 * mapping (faulted in and locked under mlockall) per request. */
static void test_large_buffers_reused(void)
{
	static uint8_t back[128 * 1024];
	const uint8_t *first;

	send_req(NBD_TYPE_READ, 0, 0, sizeof(back), 30, NULL);
	CHECK_EQ(recv_reply(30, back, sizeof(back)), 0);
	first = last_buf;
	send_req(NBD_TYPE_READ, 0, 128 * 1024, sizeof(back), 31, NULL);
	CHECK_EQ(recv_reply(31, back, sizeof(back)), 0);
	CHECK(last_buf == first);
	CHECK(memcmp(back, disk + 128 * 1024, sizeof(back)) == 0);
}

static void test_invalid_requests(void)
{
	uint8_t data[1024] = { 1 };

	send_req(NBD_TYPE_READ, 0, DISK_SIZE, 512, 5, NULL);    /* past the end */
	CHECK_EQ(recv_reply(5, NULL, 0), EINVAL);
	send_req(NBD_TYPE_READ, 0, 100, 512, 6, NULL);          /* unaligned */
	CHECK_EQ(recv_reply(6, NULL, 0), EINVAL);
	/* A bad write's payload is consumed; the stream stays in step. */
	send_req(NBD_TYPE_WRITE, 0, DISK_SIZE - 512, 1024, 7, data);
	CHECK_EQ(recv_reply(7, NULL, 0), EINVAL);
	send_req(NBD_TYPE_READ, 0, 0, 512, 8, NULL);
	CHECK_EQ(recv_reply(8, data, 512), 0);
	send_req(9, 0, 0, 0, 9, NULL);                          /* unknown type */
	CHECK_EQ(recv_reply(9, NULL, 0), EINVAL);
	CHECK_EQ(bdev_nbd_pending(dev), 0);
}

static void test_requests_wait(void)
{
	uint8_t back[512];

	/* The consumer holds requests (an iSCSI session recovering): no reply
	 * until it answers, however long; then in its order. */
	hold_requests = true;
	send_req(NBD_TYPE_READ, 0, 0, 512, 10, NULL);
	send_req(NBD_TYPE_READ, 0, 512, 512, 11, NULL);
	pump();
	CHECK_EQ(nheld, 2);
	CHECK_EQ(bdev_nbd_pending(dev), 2);
	CHECK_EQ(recv(kfd, back, sizeof(back), MSG_DONTWAIT), -1);
	hold_requests = false;
	memset(held[1]->buf, 0xab, 512);
	bdev_nbd_io_complete(held[1], 0);
	bdev_nbd_io_complete(held[0], -EIO);
	CHECK_EQ(recv_reply(11, back, 512), 0);
	CHECK_EQ(back[0], 0xab);
	CHECK_EQ(recv_reply(10, NULL, 0), EIO);
	nheld = 0;
}

static void test_bad_magic_closes(void)
{
	uint8_t junk[NBD_REQUEST_LEN] = { 0xde, 0xad };
	char c;

	CHECK_EQ(write(kfd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	pump();
	CHECK(bdev_nbd_closed(dev));
	CHECK_EQ(recv(kfd, &c, 1, 0), 0);       /* EOF on the kernel side */
}

/* The kernel closed a socket (its request timeout): what that socket
 * brought in and still runs is stale, and no request goes on to the
 * consumer until the last stale one is done, because the kernel sends
 * the stale ones again; a waiting request of a socket that closes too is
 * dropped. Three queues: A closes with a request running, C with one
 * waiting, B keeps serving. */
static void test_closed_socket_waits_for_stale(void)
{
	struct bdev_config cfg = { .size = DISK_SIZE, .block_size = 512,
				   .max_io_bytes = 128 * 1024, .queues = 3, .index = -1 };
	struct bdev_consumer consumer = { .submit = mem_submit };
	int ours[3], kernel[3], main_kfd = kfd;
	struct bdev_nbd *d;
	uint8_t data[512];

	for (int i = 0; i < 3; i++) {
		int sv[2];
		CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		set_nonblocking(sv[0]);
		ours[i] = sv[0];
		kernel[i] = sv[1];
	}
	CHECK_EQ(bdev_nbd_serve(&loop, &cfg, &consumer, ours, 3, &d), 0);
	memset(data, 0x5c, sizeof(data));
	hold_requests = true;
	nheld = 0;
	kfd = kernel[0];
	send_req(NBD_TYPE_READ, 0, 0, 512, 20, NULL);
	pump();
	CHECK_EQ(nheld, 1);
	close(kernel[0]);                       /* A: the kernel gives up */
	pump();
	kfd = kernel[2];
	send_req(NBD_TYPE_READ, 0, 512, 512, 23, NULL);
	pump();
	CHECK_EQ(nheld, 1);                     /* waits for the stale one */
	CHECK_EQ(bdev_nbd_pending(d), 2);
	close(kernel[2]);                       /* C goes: its waiting request too */
	pump();
	CHECK_EQ(bdev_nbd_pending(d), 1);
	kfd = kernel[1];
	send_req(NBD_TYPE_WRITE, 0, 8192, sizeof(data), 21, data);
	pump();
	CHECK_EQ(nheld, 1);
	CHECK(disk[8192] != 0x5c);
	hold_requests = false;
	bdev_nbd_io_complete(held[0], 0);           /* stale: no answer anywhere */
	CHECK_EQ(recv_reply(21, NULL, 0), 0);   /* the write ran only now */
	CHECK_EQ(disk[8192], 0x5c);
	CHECK_EQ(bdev_nbd_pending(d), 0);
	CHECK(!bdev_nbd_closed(d));
	CHECK_EQ(bdev_nbd_index(d), -1);        /* served sockets: no takeover */
	bdev_nbd_destroy(d);
	close(kernel[1]);
	kfd = main_kfd;
	nheld = 0;
}

int main(void)
{
	setup();
	test_read_write();
	test_large_buffers_reused();
	test_invalid_requests();
	test_requests_wait();
	test_closed_socket_waits_for_stale();
	test_bad_magic_closes();
	bdev_nbd_destroy(dev);
	close(kfd);
	ev_loop_close(&loop);
	return test_report("nbd");
}
