/* SPDX-License-Identifier: MIT */
/* Packet and UDP sockets for the DHCP client (see io.h). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "msg.h"

/* Classic BPF, so that the socket does not copy the iSCSI traffic that
 * shares the interface: accept only unfragmented IPv4 UDP to port 68.
 * With SOCK_DGRAM the filter sees the IP header at offset 0. */
static const struct sock_filter udp68_filter[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),               /* protocol */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),               /* fragment */
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 0),
	BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),              /* X = IHL*4 */
	BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),               /* dst port */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_CLIENT_PORT, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

int dhcp_io_open(int ifindex)
{
	struct sock_fprog prog = {
		.len = ARRAY_SIZE(udp68_filter),
		.filter = (struct sock_filter *)udp68_filter,
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_IP),
				   .sll_ifindex = ifindex };
	int fd, r, one = 1;

	/* protocol 0: nothing arrives until bind() names the interface */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
		       sizeof(prog)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

void dhcp_io_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int dhcp_io_send_broadcast(int fd, int ifindex, const uint8_t *frame,
			   size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_IP),
				   .sll_ifindex = ifindex,
				   .sll_halen = ETH_ALEN };

	memset(sll.sll_addr, 0xff, ETH_ALEN);
	if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll,
		   sizeof(sll)) < 0)
		return -errno;
	return 0;
}

/* The socket lives only for one send: replies come in on the packet
 * socket, and port 68 stays free for the booted system's own client. */
int dhcp_io_send_unicast(const char *ifname, struct in_addr src,
			 struct in_addr dst, const uint8_t *payload,
			 size_t len)
{
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_addr = src,
				    .sin_port = htons(DHCP_CLIENT_PORT) };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dst,
				  .sin_port = htons(DHCP_SERVER_PORT) };
	int one = 1, r = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
		       (socklen_t)strlen(ifname) + 1) < 0)
		r = -errno;
	/* another client may hold port 68; then any port will do */
	if (r == 0 && bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0) {
		from.sin_port = 0;
		if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0)
			r = -errno;
	}
	if (r == 0 && sendto(fd, payload, len, 0, (struct sockaddr *)&to,
			     sizeof(to)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* TP_STATUS_CSUMNOTREADY in the PACKET_AUXDATA message. */
static bool checksum_partial(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct tpacket_auxdata aux;
		if (c->cmsg_level != SOL_PACKET ||
		    c->cmsg_type != PACKET_AUXDATA ||
		    c->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		return (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
	}
	return false;
}

ssize_t dhcp_io_recv(int fd, uint8_t *buf, size_t cap, bool *csum_partial)
{
	struct sockaddr_ll sll;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} control;
	struct msghdr mh = { .msg_name = &sll, .msg_namelen = sizeof(sll),
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(fd, &mh, MSG_TRUNC);

	if (n < 0)
		return -errno;
	if (sll.sll_pkttype == PACKET_OUTGOING)
		return -EAGAIN;
	if ((size_t)n > cap || (mh.msg_flags & MSG_TRUNC))
		return -EMSGSIZE;
	*csum_partial = checksum_partial(&mh);
	return n;
}
