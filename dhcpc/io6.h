/* SPDX-License-Identifier: MIT */
/*
 * The DHCPv6 client's socket: UDP on port 546 of one interface, sending
 * to All_DHCP_Relay_Agents_and_Servers (ff02::1:2). The unit test links
 * its own version.
 */
#ifndef ISCSIROOT_DHCPC_IO6_H
#define ISCSIROOT_DHCPC_IO6_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A non-blocking socket on [::]:546 bound to the interface. */
int dhcp6_io_open(const char *ifname);
int dhcp6_io_send(int fd, int ifindex, const uint8_t *buf, size_t len);
/* One datagram; -EAGAIN when there is none, -EMSGSIZE when cut. */
ssize_t dhcp6_io_recv(int fd, uint8_t *buf, size_t cap);

#endif
