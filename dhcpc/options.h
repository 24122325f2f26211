/* SPDX-License-Identifier: MIT */
/*
 * DHCP options (RFC 2132): parsing with option overload (option 52) and
 * long options split over several instances (RFC 3396), decoding into a
 * lease, and building the options we send.
 */
#ifndef ISCSIROOT_DHCPC_OPTIONS_H
#define ISCSIROOT_DHCPC_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "dhcpc.h"
#include "msg.h"

/* Option codes, RFC 2132 unless noted. */
enum dhcp_option {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_DOMAIN = 15,
	DHCP_OPT_ROOT_PATH = 17,
	DHCP_OPT_MTU = 26,
	DHCP_OPT_BROADCAST = 28,
	DHCP_OPT_NIS_DOMAIN = 40,
	DHCP_OPT_NTP = 42,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_LIST = 55,
	DHCP_OPT_MAX_SIZE = 57,
	DHCP_OPT_T1 = 58,
	DHCP_OPT_T2 = 59,
	DHCP_OPT_VENDOR_CLASS = 60,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_BOOTFILE = 67,
	DHCP_OPT_USER_CLASS = 77,      /* RFC 3004 */
	DHCP_OPT_RAPID_COMMIT = 80,    /* RFC 4039 */
	DHCP_OPT_DOMAIN_SEARCH = 119,  /* RFC 3397 */
	DHCP_OPT_CLASSLESS = 121,      /* RFC 3442 */
	DHCP_OPT_END = 255,
};

enum dhcp_msg_type {
	DHCPDISCOVER = 1, DHCPOFFER = 2, DHCPREQUEST = 3, DHCPDECLINE = 4,
	DHCPACK = 5, DHCPNAK = 6, DHCPRELEASE = 7, DHCPINFORM = 8,
};

/* Every option of a message, each code's instances already joined
 * (RFC 3396 §6: options field, then file, then sname). */
#define DHCP_OPTSET_DATA 4096
struct dhcp_optset {
	uint16_t off[256];
	uint16_t len[256];
	bool present[256];
	uint8_t data[DHCP_OPTSET_DATA];
};

/* Returns 0 or -EBADMSG (an option runs past its field, or too much). */
/* The prefix length of a netmask: its leading one bits. */
uint8_t dhcp_mask_to_prefix(struct in_addr mask);

int dhcp_optset_parse(const struct dhcp_msg *m, struct dhcp_optset *os);
const uint8_t *dhcp_optset_get(const struct dhcp_optset *os, uint8_t code,
			       size_t *len);
/* The message type (option 53), or -ENOMSG when missing or malformed. */
int dhcp_optset_msg_type(const struct dhcp_optset *os);
/* Whether the message carries Rapid Commit (RFC 4039: option 80, which
 * has no value; one with a value is malformed and does not count). */
bool dhcp_optset_rapid_commit(const struct dhcp_optset *os);

/* Fills lease from an OFFER/ACK. Options with a bad length are dropped
 * (logged at debug), the rest kept; -EBADMSG only if yiaddr is 0. */
/* RFC 3397 (v4 option 119) and RFC 8415 §21.20 (v6 option 24): a list of
 * RFC 1035 names (backward pointers allowed), joined by spaces into out,
 * which is left as it was on -EBADMSG (malformed, or not host names). */
#define DHCP_SEARCH_LEN 512
int dhcp_search_decode(const uint8_t *v, size_t len, char out[DHCP_SEARCH_LEN]);
int dhcp_lease_decode(const struct dhcp_msg *m, const struct dhcp_optset *os,
		      struct dhcpc_lease *lease);

/* A growing options area; put() splits values over 255 bytes into
 * several instances (RFC 3396). */
struct dhcp_obuf {
	uint8_t *p;
	size_t cap;
	size_t len;
};

int dhcp_opt_put(struct dhcp_obuf *b, uint8_t code, const void *data,
		 size_t len);
int dhcp_opt_put_u8(struct dhcp_obuf *b, uint8_t code, uint8_t v);
int dhcp_opt_put_u16(struct dhcp_obuf *b, uint8_t code, uint16_t v);
int dhcp_opt_put_addr(struct dhcp_obuf *b, uint8_t code, struct in_addr a);
/* Writes the END option and pads to the BOOTP minimum size. */
int dhcp_opt_finish(struct dhcp_obuf *b, size_t header_len);

/* The parameter request list we send (option 55). */
extern const uint8_t dhcp_requested_options[];
extern const size_t dhcp_requested_options_len;

#endif
