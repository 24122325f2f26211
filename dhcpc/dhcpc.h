/* SPDX-License-Identifier: MIT */
/*
 * Network bring-up: links, DHCPv4 (RFC 2131) or static ip=, routes, and the
 * hand-over files; plus the RFC 4173 root-path parser the initiator uses.
 *
 * Everything runs inside the caller's struct ev_loop; dhcpc_run() is the
 * synchronous wrapper for the `iscsiroot dhcp` subcommand.
 */
#ifndef ISCSIROOT_DHCPC_H
#define ISCSIROOT_DHCPC_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* ---- RFC 4173 root-path, with dracut's extensions ----
 *   iscsi:[user:pass[:ruser:rpass]@]<server>:<proto>:<port>
 *         [:<iscsi-iface>:<netdev>]:<LUN>:<targetname>
 * Plain data: nothing points into the parsed string. */

#define DHCPC_DEFAULT_ISCSI_PORT 3260
#define DHCPC_DEFAULT_ISCSI_PROTO 6 /* TCP, RFC 4173 */

struct dhcpc_rootpath {
	char host[256];      /* IPv4, host name or IPv6 literal (no brackets);
	                      * empty: the server was left out */
	uint16_t port;       /* default 3260 */
	uint8_t protocol;    /* default 6 */
	uint64_t lun;        /* the 8-byte SAM LUN field as a big-endian
	                      * integer, exactly as it goes on the wire:
	                      * "1" -> 0x0001000000000000 */
	char target[224];    /* iSCSI name (RFC 7143: at most 223 bytes) */
	char user[256];      /* CHAP; empty when not given */
	char password[256];
	char ruser[256];     /* reverse (mutual) CHAP; empty when not given */
	char rpassword[256];
	char iface[64];      /* dracut's iscsi iface name; empty if none */
	char netdev[IFNAMSIZ]; /* the interface the path goes through: dracut's
	                        * netdev field here; pivot/ also fills it from
	                        * the iBFT NIC, ip= or the lease. Empty: any */
};

/* Parses s (with its "iscsi:" prefix). Returns 0 or -EINVAL. On error
 * *rp is zeroed, so no half-parsed secret stays behind. */
int dhcpc_rootpath_parse(const char *s, struct dhcpc_rootpath *rp);

/* ---- ip= (kernel nfsroot syntax and dracut's forms) and BOOTIF= ---- */

enum dhcpc_ip_mode {
	DHCPC_IP_DHCP,   /* ip=dhcp|on|any|bootp|both, or empty */
	DHCPC_IP_STATIC, /* a client address with autoconf none|off|static */
	DHCPC_IP_OFF,    /* ip=off|none: leave the network alone */
	DHCPC_IP_DHCP6,  /* ip=dhcp6: DHCPv6 (RFC 8415) for the address,
	                  * router advertisements for the routes */
	DHCPC_IP_AUTO6,  /* ip=auto6: SLAAC, the kernel's (RFC 4862) */
	DHCPC_IP_STATIC6, /* dracut's ip=[v6addr]::[gw]:prefix:...:none */
};

struct dhcpc_ipconf {
	enum dhcpc_ip_mode mode;
	struct in_addr addr;     /* client; with DHCP: the address to ask for */
	struct in_addr server;   /* the kernel's <server-ip> / dracut's peer */
	struct in_addr gateway;
	struct in_addr netmask;  /* 0 when not given */
	struct in_addr dns[2];
	struct in_addr ntp;
	char hostname[65];
	char device[IFNAMSIZ];   /* empty: any interface */
	uint16_t mtu;            /* 0: leave as is */
	bool have_mac;           /* dracut's trailing <macaddr> */
	uint8_t mac[6];
	struct in6_addr addr6;   /* DHCPC_IP_STATIC6 */
	struct in6_addr gateway6; /* :: when not given */
	uint8_t prefix6;
};

/* Returns 0, -EINVAL, or -EOPNOTSUPP for either6, link6 and ibft. */
int dhcpc_ip_parse(const char *s, struct dhcpc_ipconf *ip);
/* BOOTIF=01-aa-bb-cc-dd-ee-ff (the 01- hardware type is optional). */
int dhcpc_bootif_parse(const char *s, uint8_t mac[6]);
/* dracut's ifname=<name>:<aa:bb:cc:dd:ee:ff>. */
int dhcpc_ifname_parse(const char *s, char name[IFNAMSIZ], uint8_t mac[6]);

/* ---- The result of a bring-up ---- */

#define DHCPC_MAX_ROUTES 16
#define DHCPC_MAX_DNS 3
#define DHCPC_INFINITE_LEASE 0xffffffffu

struct dhcpc_route {
	struct in_addr dst;
	uint8_t prefix;
	struct in_addr gateway;  /* 0.0.0.0: on-link */
};

enum dhcpc_proto { DHCPC_PROTO_NONE, DHCPC_PROTO_DHCP, DHCPC_PROTO_DHCP6,
		  DHCPC_PROTO_AUTO6 };

struct dhcpc_lease {
	char ifname[IFNAMSIZ];
	int ifindex;
	uint8_t mac[6];               /* the link's; all zero: unknown */
	enum dhcpc_proto proto;       /* "none" (static) or "dhcp" */
	struct in_addr addr;
	struct in_addr netmask;
	uint8_t prefix;
	struct in_addr broadcast;
	struct in_addr gateway;       /* default route; 0 when none */
	struct in_addr server_id;     /* option 54 */
	struct in_addr siaddr;        /* next server (klibc's ROOTSERVER) */
	struct in_addr dns[DHCPC_MAX_DNS];
	int ndns;
	struct in_addr ntp;
	uint16_t mtu;                 /* 0 when not given */
	uint32_t lease_time, t1, t2;  /* seconds; DHCPC_INFINITE_LEASE */
	struct dhcpc_route routes[DHCPC_MAX_ROUTES]; /* option 121 */
	uint32_t route_metric;        /* of the routes it adds: 0, or with
	                               * every_iface the interface's own, so
	                               * that two interfaces' default routes
	                               * stand side by side */
	int nroutes;
	bool have_classless;          /* option 121 was present */
	char hostname[256];
	char domain[256];
	char nisdomain[256];
	char rootpath[256];
	char filename[256];
	char domainsearch[512];       /* option 119 (v6: 24), space-separated */
	int64_t bound_ms;             /* now_ms() when the lease was bound */
	/* IPv6 (ip=dhcp6, auto6, [v6]): the v4 fields above stay 0 */
	bool v6;
	struct in6_addr addr6;        /* global, past DAD */
	uint8_t prefix6;
	struct in6_addr gateway6;     /* the default route's; :: when none */
	struct in6_addr dns6[DHCPC_MAX_DNS];
	int ndns6;
};

/* ---- Configuration ---- */

struct dhcpc;
/* Called as each interface is configured (status 0, lease set) or given
 * up (-ENOLINK no carrier, -ETIMEDOUT no lease in time: lease NULL; with
 * every_iface and keep_lease its client goes on and may still call with
 * 0 later), from dhcpc's handlers: fn must not stop d. */
typedef void (*dhcpc_iface_fn)(struct dhcpc *d, const char *ifname,
			       const struct dhcpc_lease *lease, int status,
			       void *ctx);

#define DHCPC_MAX_IFACES 8

struct dhcpc_config {
	/* Interface choice, in this order: names, BOOTIF MAC, given MAC,
	 * else every Ethernet interface with carrier (first lease wins). */
	char ifnames[DHCPC_MAX_IFACES][IFNAMSIZ];
	int nifnames;
	bool have_bootif;
	uint8_t bootif[6];
	bool have_mac;               /* e.g. from the iBFT */
	uint8_t mac[6];
	struct dhcpc_rename {        /* dracut's ifname=: the interface with */
		char name[IFNAMSIZ]; /* mac gets this name, and is used */
		uint8_t mac[6];
	} renames[DHCPC_MAX_IFACES];
	int nrenames;
	uint16_t vlan;               /* 802.1Q VLAN ID 1..4094 (e.g. the iBFT's):
	                              * each chosen interface gets <name>.<vlan>
	                              * (made unless there), which is configured
	                              * instead; 0: none */
	struct dhcpc_ipconf ip;      /* ip=; mode DHCP by default */
	/* More ip=, one for each further interface (each names its
	 * device); an interface none names takes ip above. */
	struct dhcpc_ipconf more_ip[DHCPC_MAX_IFACES - 1];
	int nmore_ip;
	/* Configure every chosen interface, each on its own (its own client,
	 * deadline and routes, with a metric of its own), instead of the
	 * first lease winning: the paths of a multipath disk, one a NIC.
	 * done comes with the first configured; the others go on, and
	 * dhcpc_on_iface() hears of each. */
	bool every_iface;
	dhcpc_iface_fn on_iface;     /* NULL: none */
	void *on_iface_ctx;

	int link_timeout_ms;         /* carrier wait; default 10 s */
	int timeout_ms;              /* whole DHCP exchange; default 60 s */
	int retransmit_ms;           /* first retransmission; default 4 s */

	uint8_t client_id[255];      /* option 61; empty: 0x01 + the MAC */
	uint8_t client_id_len;
	char vendor_class[256];      /* option 60; empty: not sent */
	char user_class[256];        /* option 77 (one RFC 3004 entry) */
	bool broadcast_flag;         /* ask servers to broadcast replies */

	const char *root_dir;        /* hand-over files go below it; "/" */
	bool write_files;            /* net-IF.conf, resolv.conf, ... */
	bool set_hostname;           /* sethostname() from the lease */
	bool keep_lease;             /* renew at T1/T2 after the first lease */
};

/* Fills the defaults listed above. */
void dhcpc_config_init(struct dhcpc_config *cfg);
/* More ip= (s: one, or several space-separated, read in order): one for
 * another device than ip's goes to more_ip (and sets every_iface: each
 * interface its own); one for ip's device replaces ip; one for no device
 * replaces them all. 0, -EINVAL, -EOPNOTSUPP (dhcpc_ip_parse) or -E2BIG
 * (DHCPC_MAX_IFACES interfaces). */
int dhcpc_config_add_ip(struct dhcpc_config *cfg, const char *s);
/* dracut's ifname=NAME:MAC, one or several space-separated: 0, -EINVAL,
 * or -E2BIG past DHCPC_MAX_IFACES. */
int dhcpc_config_add_ifname(struct dhcpc_config *cfg, const char *s);

/* ---- Running it inside the shared event loop ---- */

struct dhcpc;

/* Called once when the bring-up ends: status 0 with a configured lease,
 * -ENOLINK (no usable interface or no carrier), -ETIMEDOUT (no lease),
 * or another negative errno. With keep_lease the struct dhcpc goes on
 * renewing after status 0; it never calls done again. */
typedef void (*dhcpc_done_fn)(struct dhcpc *d, int status, void *ctx);

int dhcpc_start(struct ev_loop *loop, const struct dhcpc_config *cfg,
		dhcpc_done_fn done, void *ctx, struct dhcpc **out);
/* The applied lease (valid after done with status 0); renewals update it.
 * With every_iface: the first interface's to be configured. */
const struct dhcpc_lease *dhcpc_get_lease(const struct dhcpc *d);
/* Every interface configured or given up (every_iface; else: done). */
bool dhcpc_settled(const struct dhcpc *d);
/* Stops every client and frees d. Never removes an address or route. */
void dhcpc_stop(struct dhcpc *d);

/* Synchronous: its own loop, returns the done status; *out on success
 * (the first interface configured). With every_iface it returns once
 * every interface is configured or given up. */
int dhcpc_run(const struct dhcpc_config *cfg, struct dhcpc_lease *out);

/* ---- Hand-over files, below root ("/" in the initramfs) ---- */

#include <stdio.h>

/* KEY='value' lines in klibc ipconfig's format (run/net-IF.conf). */
void dhcpc_format_netconf(FILE *f, const struct dhcpc_lease *lease);
/* Writes run/net-IF.conf (run/net6-IF.conf for an IPv6 lease),
 * run/initramfs/open-iscsi.interface, etc/resolv.conf (only with DNS
 * servers), and the network managers' hand-over for the lease's family:
 * run/systemd/network/00-iscsiroot-IF.network and .link and, below
 * run/NetworkManager/, system-connections/iscsiroot-IF.nmconnection,
 * devices/IFINDEX and conf.d/15-iscsiroot-IF.conf (dhcpc/README.md). */
int dhcpc_write_handover(const char *root, const struct dhcpc_lease *lease);
/* Only run/net-IF.conf (net6-IF.conf): every_iface's further interfaces
 * (the other files belong to the first). */
int dhcpc_write_netconf(const char *root, const struct dhcpc_lease *lease);
/* The keys initramfs-tools' DHCPv6 hook writes (run/net6-IF.conf):
 * DEVICE6, IPV6PROTO, IPV6ADDR, ... */
void dhcpc_format_netconf6(FILE *f, const struct dhcpc_lease *lease);

#endif
