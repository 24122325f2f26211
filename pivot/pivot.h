/* SPDX-License-Identifier: MIT */
/*
 * PID 1 mode: what iscsiroot does as /init of an initramfs — read the
 * kernel command line, mount the API filesystems, load modules, find the
 * root filesystem on the attached disk, and switch_root into it — and the
 * configuration every mode reads. The daemon that serves the disk is
 * rootd/'s (rootd.h).
 */
#ifndef ISCSIROOT_PIVOT_H
#define ISCSIROOT_PIVOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

#include "dhcpc.h"
#include "iscsi.h"

#define BOOT_MAX_PATHS 4       /* portals / netroot= paths to the one LUN;
                                * more: a warning each, and they are left out */
#define BOOT_MAX_PARAMS 16      /* rd.iscsi.param= / -P node settings */
#define BOOT_LUN_ANY UINT64_MAX /* a path's lun: the target's first disk LUN */

/* Where the iSCSI target came from, in the order of precedence (see
 * pivot/README.md "Configuration"): an earlier source wins per key. */
enum boot_firmware {
	BOOT_FW_AUTO,    /* no target given: iBFT if present, then DHCP */
	BOOT_FW_FORCE,   /* rd.iscsi.firmware, rd.iscsi.ibft, ip=ibft, iscsi_auto */
};

struct boot_config {
	/* the root filesystem */
	char root[256];              /* root=, unless it is iscsi: */
	char rootfstype[32];
	char rootflags[256];
	bool read_only;              /* ro (the default) / rw */
	char init[256];              /* init=, default /sbin/init */
	/* the iSCSI disk: paths[] are ways to the same LUN, each one full
	 * (host, port, target, LUN, CHAP, the interface it goes through in
	 * netdev), none twice (boot_config_add_path); the daemon logs in on
	 * all at once, the first that answers is probed, the others join
	 * (multipath) */
	unsigned npaths;             /* netroot=/root=iscsi:, iscsi_target_*,
	                              * rd.iscsi.target.*, ISCSI_TARGET_*
	                              * (space-separated IPs), the iBFT */
	struct dhcpc_rootpath paths[BOOT_MAX_PATHS];
	enum iscsi_mpath_policy mpath_policy; /* iscsiroot.multipath= */
	bool last_path_mute;         /* the starter saw the last path log in and
	                              * its LUN not answer: the others go first */
	char initiator[224];         /* rd.iscsi.initiator=, iscsi_initiator= */
	unsigned target_group;       /* portal group tag; 0: any */
	/* CHAP for paths that carry none of their own (rd.iscsi.username=,
	 * iscsi_username=, ISCSI_USERNAME...) */
	char user[256], password[256], ruser[256], rpassword[256];
	/* initramfs-tools' target (iscsi_target_name/ip/port=, ISCSI_TARGET_*):
	 * kept apart until boot_config_finish() makes paths[] of it, so the
	 * order of the keys does not matter */
	char it_target[224];
	char it_ips[256];            /* space-separated: one path per address */
	bool it_ips_dracut;          /* it_ips came from rd.iscsi.target.ip=,
	                              * which adds to itself when repeated */
	uint16_t it_port;            /* 0: 3260 */
	unsigned nparams;            /* rd.iscsi.param=KEY=VALUE (open-iscsi keys) */
	char params[BOOT_MAX_PARAMS][256];
	enum boot_firmware firmware;
	int login_retry_max;         /* rd.iscsi.login_retry_max=; -1: default */
	bool waitnet;                /* rd.iscsi.waitnet= (default yes) */
	bool testroute;              /* rd.iscsi.testroute= (default yes) */
	/* the network */
	char ip[512];                /* ip=, empty: DHCP; one per interface
	                              * when several name one each
	                              * (space-separated) */
	char bootif[64];             /* BOOTIF= */
	char ifname[256];            /* dracut's ifname=NAME:MAC, each given
	                              * (space-separated) */
	bool have_mac;               /* the iBFT's NIC: use the interface */
	uint8_t mac[6];              /* with this MAC... */
	uint16_t vlan;               /* ...on this VLAN (0: none) */
	/* iscsiroot.* */
	bool debug;                  /* iscsiroot.debug */
	bool shell;                  /* iscsiroot.shell=1 */
	int wait_s;                  /* iscsiroot.timeout=: give up after; 0 never */
	char blockdev[8];            /* iscsiroot.blockdev=nbd|ublk; empty: auto */
	bool nbd_ioctl;              /* iscsiroot.nbd=ioctl (default netlink) */
	unsigned queues;             /* iscsiroot.queues=N; 0: one per CPU */
	unsigned ublk_buffer_mib;    /* iscsiroot.ublk_buffers=MiB; 0: 2 */
	char trace[128];             /* iscsiroot.trace=PATH; empty: none */
	int64_t replacement_timeout_ms; /* iscsiroot.replacement_timeout= (s) */
};

/* Sets the defaults (ro, /sbin/init, no target, waitnet, testroute...). */
void boot_config_init(struct boot_config *bc);

/* Parses a kernel command line (quotes as the kernel handles them) on top
 * of bc, which boot_config_init() or an earlier source filled: each key
 * given replaces what was there. Every dialect goes through one table:
 * the kernel's, dracut's (netroot=, rd.iscsi.*), initramfs-tools' (iscsi_*)
 * and iscsiroot.*. A malformed known key gives -EINVAL and a message
 * naming it; unknown keys are ignored. Secrets never reach err. */
int boot_cmdline_parse(const char *cmdline, struct boot_config *bc,
		       char *err, size_t errlen);

/* Reads initramfs-tools' /etc/iscsi.initramfs (ISCSI_INITIATOR=...,
 * shell-style assignments, quotes allowed, comments ignored) on top of bc.
 * A missing file is not an error (returns 0 and leaves bc alone). */
int boot_config_read_initramfs_file(const char *path, struct boot_config *bc,
				    char *err, size_t errlen);
/* The same for the file's text (the reader, tests and the fuzzer). */
int boot_config_parse_initramfs(const char *text, struct boot_config *bc,
				char *err, size_t errlen);
/* One key through the table every dialect shares: value NULL for a bare
 * key ("iscsi_auto"); from_file takes the file's names (ISCSI_TARGET_IP)
 * and only the keys the file may set. where ends the error message ("on
 * the kernel command line"). 0, -ENOENT (unknown: callers ignore it) or
 * -EINVAL with a message in err that never holds a secret. */
int boot_config_apply(struct boot_config *bc, const char *key, const char *value,
		      bool from_file, const char *where, char *err, size_t errlen);
/* Whether the key (either spelling: iscsi_password, ISCSI_PASSWORD) may
 * carry a password: root=, netroot=, rd.iscsi.param=, every *password*.
 * The kernel hands the unknown name=value parameters of its command line
 * (netroot=, iscsi_password=…) to PID 1 as environment variables. */
bool boot_config_key_is_secret(const char *name);
/* After every source is read (every mode calls it): builds paths[] from
 * initramfs-tools' target when no root=/netroot=iscsi: gave any, gives
 * the dialect-wide CHAP to the paths that carry none of their own, and
 * ip='s interface to the paths that name none. */
void boot_config_finish(struct boot_config *bc);

/* ---- Paths to the disk, from every source (paths.c) */

/* The same path: host (an address in any spelling of it, or a name
 * without regard to case), port, target name (without regard to case)
 * and LUN. CHAP and the interface do not count. */
bool boot_path_same(const struct dhcpc_rootpath *a, const struct dhcpc_rootpath *b);
/* Appends rp to bc->paths unless the same path is there (the earlier
 * source's copy stays, CHAP and interface included). 1 added, 0 already
 * there, -E2BIG: BOOT_MAX_PATHS are there; a one-line warning naming the
 * path and source (e.g. "netroot=") says it is left out. */
int boot_config_add_path(struct boot_config *bc, const struct dhcpc_rootpath *rp,
			 const char *source);
/* The portals a SendTargets answer (text, len: NUL-separated key=value,
 * as iscsi_send_targets() hands it over; split in place) lists for
 * tmpl->target, in the answer's order, each appended to bc as a copy of
 * tmpl with that host and port (boot_config_add_path: no duplicates).
 * tpgt < 0 takes every portal group, else only that tag (rd.iscsi.target.group,
 * iscsistart -g). Returns how many portals matched (0: the answer does
 * not list the target there), or -EBADMSG for a malformed answer, which
 * adds no path. */
int boot_paths_from_send_targets(struct boot_config *bc, const struct dhcpc_rootpath *tmpl,
				 char *text, size_t len, int tpgt);

/* ---- iBFT: the iSCSI Boot Firmware Table left by iPXE or a NIC ROM */

#define IBFT_MAX_NICS 4
#define IBFT_MAX_TARGETS 4

struct ibft_nic {
	unsigned index;              /* N of ethernetN */
	uint8_t flags;               /* bit 0 valid, bit 1 boot selected */
	uint8_t origin;              /* 0 other, 1 manual, 2 well known, 3 DHCP */
	uint8_t mac[6];
	uint16_t vlan;               /* 0: none */
	struct in_addr ip, gateway, dns[2], dhcp;
	uint8_t prefix;              /* subnet mask length (up to 128 with v6) */
	bool v6;                     /* an IPv6 NIC: ip6 and gateway6, not the
	                              * v4 fields (the iBFT's 16-byte fields
	                              * hold either; v4 is v4-mapped) */
	struct in6_addr ip6, gateway6;
	char hostname[256];
	char ifname[IFNAMSIZ];       /* the interface with this MAC (ibft_load
	                              * looks it up); empty: none (yet) */
};

struct ibft_target {
	unsigned index;              /* N of targetN */
	uint8_t flags;
	unsigned nic_index;          /* the ethernetN it boots through */
	struct dhcpc_rootpath rp;    /* host, port, lun, target, CHAP */
};

struct ibft {
	char initiator[224];
	unsigned nnics, ntargets;
	struct ibft_nic nics[IBFT_MAX_NICS];
	struct ibft_target targets[IBFT_MAX_TARGETS];
};

/* Reads /sys/firmware/ibft under root ("" for the running system; tests
 * pass a fixture tree). -ENOENT when there is none. */
int ibft_read_sysfs(const char *root, struct ibft *out, char *err, size_t errlen);
/* Parses the ACPI table itself (as in /sys/firmware/acpi/tables/iBFT),
 * checking signature, lengths, offsets and the checksum. */
int ibft_parse_table(const uint8_t *buf, size_t len, struct ibft *out,
		     char *err, size_t errlen);
/* sysfs first; without the iscsi_ibft driver, the ACPI table. -ENOENT:
 * this machine has no iBFT. Each NIC's ifname is then looked up by MAC
 * under root's /sys/class/net. */
int ibft_load(const char *root, struct ibft *out, char *err, size_t errlen);
/* The interface whose MAC is mac, as root's /sys/class/net names it:
 * 0, or -ENOENT (out empty). */
int ibft_ifname_by_mac(const char *root, const uint8_t mac[6], char *out, size_t len);
/* Fills each NIC's ifname that way (ibft_load does). */
void ibft_name_nics(const char *root, struct ibft *fw);
/* The targets to boot from, boot-selected ones first; only valid ones. */
unsigned ibft_boot_targets(const struct ibft *fw, const struct ibft_target **out,
			   unsigned max);
/* The NIC a target boots through, or NULL. */
const struct ibft_nic *ibft_target_nic(const struct ibft *fw, const struct ibft_target *t);

/* ---- Finding the root filesystem (no blkid, no udev) */

struct fs_info {
	char type[16];               /* "ext4", "xfs", "btrfs" or "" */
	char uuid[40];
	char label[64];
};
/* Reads a filesystem superblock from a device or file at offset. */
int fs_probe(int fd, uint64_t offset, struct fs_info *out);

struct part_info {
	unsigned number;             /* 1-based */
	uint64_t start, size;        /* bytes */
	char partuuid[40];           /* GPT unique GUID, or MBR "sig-NN" */
	char name[72];               /* GPT partition name (ASCII part) */
};
/* Reads an MBR or GPT partition table (sector size ss). Returns the
 * number of partitions found (0: none), or a negative errno. */
int part_probe(int fd, uint32_t ss, struct part_info *out, unsigned max);

/* Resolves root= (UUID=, PARTUUID=, LABEL=, PARTLABEL=, a path, or empty
 * for "the first partition holding a filesystem") on disk (e.g.
 * "/dev/nbd0"), whose partition devices are disk + "p" + N. */
int root_resolve(const char *spec, const char *disk, uint32_t sector_size,
		 char *dev, size_t devlen, struct fs_info *fs);

/* ---- PID 1 plumbing */
int pivot_mount_api_filesystems(void);
/* Loads a module by name or alias, with what it needs, as modprobe does
 * (modules.c: libkmod resolves, from /lib/modules/$(uname -r)); options
 * go to that module after modprobe.d's and the command line's. 0 when it
 * is loaded or built in; -ENOENT when nothing knows the name; -EPERM when
 * it is blacklisted; or the error of the module or a dependency. */
int pivot_load_module(const char *name, const char *options);
/* Loads the driver of every network device, by modalias. */
int pivot_load_nic_drivers(void);
/* modules-io.c: finit_module(2) on the file at path. Returns 1 when
 * inserted, 0 when the kernel had the module already, or -errno. */
int modules_finit(const char *path, const char *options, int flags);
/* Mounts dev on /root, moves /dev /proc /sys /run there (detaching the
 * ones the new root has no directory for, as util-linux's switch_root
 * does), deletes the initramfs's files, chroots, and returns so the
 * caller can exec init. When dev cannot be mounted, nothing changes. */
int pivot_switch_root(const char *dev, const char *fstype, const char *flags,
		      bool read_only, char *err, size_t errlen);

/* ---- Every mode's configuration, in the order of precedence */

/* boot_config_init, then conf_file (initramfs-tools' /etc/iscsi.initramfs;
 * NULL: none), then the command line in cmdline_file (NULL: none), then
 * boot_config_finish. */
int boot_config_load(struct boot_config *bc, const char *conf_file,
		     const char *cmdline_file, char *err, size_t errlen);
/* Takes the targets, the initiator name and the NIC from the firmware
 * when nothing else named a target, or when rd.iscsi.firmware / ip=ibft /
 * iscsi_auto asked for it: every usable boot target becomes a path
 * (boot-selected ones first) after those of the command line and the
 * file, each going through its own NIC's interface. Returns 1 if it did,
 * 0 if not needed, or a negative errno (firmware demanded but no usable
 * boot target). */
int boot_config_apply_ibft(struct boot_config *bc, const struct ibft *fw,
			   char *err, size_t errlen);
/* The same with the running system's iBFT (root "" or a test tree). */
int boot_config_use_firmware(struct boot_config *bc, const char *root,
			     char *err, size_t errlen);

/* The network step's configuration from bc: ip=, BOOTIF=, the iBFT NIC;
 * hand-over files under /, the lease kept. */
int pivot_network_config(const struct boot_config *bc, struct dhcpc_config *dc,
			 char *err, size_t errlen);

/* ---- PID 1 mode and `iscsiroot up` (boot.c, up.c: on top of rootd/) */

/* Every mode's start: boot_config_load (conf_file, then /proc/cmdline),
 * the modules attaching needs (NIC drivers, iscsi_ibft; the daemon loads
 * nbd or ublk_drv), then the firmware's iBFT. One line in err on failure. */
int pivot_configure(struct boot_config *bc, const char *conf_file, char *err,
		    size_t errlen);
void pivot_load_boot_modules(void);
/* Re-reads disk's partition table and resolves root= on it, in the
 * device's logical block size (BLKSSZGET: 4096 on a 4Kn LUN), waiting up
 * to 10 s for the device node. */
int pivot_find_root(const struct boot_config *bc, const char *disk, char *dev,
		    size_t devlen, struct fs_info *fs);
/* `iscsiroot up`, initramfs-tools' local-top step: configure, start the
 * daemon (retrying as iscsiroot.timeout= / rd.iscsi.login_retry_max= say),
 * print the disk, and append ROOT=partition to param_conf (if not NULL)
 * when root= named no device. Returns an exit code: 0 ready, 6 no iSCSI
 * root configured, 1 failure (said in one line). */
int pivot_up(const char *conf_file, const char *param_conf, char **argv);

/* PID 1 mode: never returns except by exec'ing init. */
int pivot_boot(int argc, char **argv);

#endif
