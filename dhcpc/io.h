/* SPDX-License-Identifier: MIT */
/*
 * The DHCP client's sockets: a packet socket for everything sent before
 * the address is ours (and every reply), a UDP socket for the unicast
 * renewal (RFC 2131 §4.4.5). The unit test links its own version.
 */
#ifndef ISCSIROOT_DHCPC_IO_H
#define ISCSIROOT_DHCPC_IO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A non-blocking packet socket on ifindex that sees only UDP to port 68. */
int dhcp_io_open(int ifindex);
void dhcp_io_close(int fd);
/* Sends an IPv4 frame to the Ethernet broadcast address. */
int dhcp_io_send_broadcast(int fd, int ifindex, const uint8_t *frame,
			   size_t len);
/* Sends a DHCP payload by UDP from src:68 to dst:67 out of ifname. */
int dhcp_io_send_unicast(const char *ifname, struct in_addr src,
			 struct in_addr dst, const uint8_t *payload,
			 size_t len);
/* Reads one frame; -EAGAIN when there is none (or it was our own).
 * *csum_partial is set when the sender's checksum offload left the UDP
 * checksum unfilled (a veth or local peer): it cannot be verified. */
ssize_t dhcp_io_recv(int fd, uint8_t *buf, size_t cap, bool *csum_partial);

#endif
