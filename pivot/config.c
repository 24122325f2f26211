/* SPDX-License-Identifier: MIT */
/*
 * Where the configuration of every mode comes from, in the order of
 * precedence (pivot/README.md, "Configuration"): the kernel command line,
 * then initramfs-tools' /etc/iscsi.initramfs, then the firmware's iBFT,
 * then (in the daemon, once it has a lease) the DHCP root-path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pivot.h"

int boot_config_load(struct boot_config *bc, const char *conf_file,
		     const char *cmdline_file, char *err, size_t errlen)
{
	char cmdline[4096] = "";
	int r = 0;

	boot_config_init(bc);
	if (conf_file)
		r = boot_config_read_initramfs_file(conf_file, bc, err, errlen);
	if (r == 0 && cmdline_file) {
		if (read_text_file(cmdline_file, cmdline, sizeof(cmdline)) < 0)
			cmdline[0] = '\0';
		r = boot_cmdline_parse(cmdline, bc, err, errlen);
		secure_zero(cmdline, sizeof(cmdline));
	}
	if (r == 0)
		boot_config_finish(bc);
	return r;
}

static bool firmware_wanted(const struct boot_config *bc)
{
	return bc->npaths == 0 || bc->firmware == BOOT_FW_FORCE;
}

/* Each boot target's NIC its own ip= naming its interface (when the
 * kernel has named it), in the kernel's form, the one syntax the
 * daemon's network step already takes, added to the others (two NICs:
 * both brought up, each with its own address): static as the table
 * says, else DHCP. */
/* An IPv6 NIC: dracut's [v6] form, or DHCPv6 when the firmware used DHCP. */
static void nic_ip6(struct boot_config *bc, const struct ibft_nic *nic, size_t have)
{
	char addr[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN] = "";
	char *out = bc->ip + have;
	size_t len = sizeof(bc->ip) - have;

	if (nic->origin == 3) {
		snprintf(out, len, "%s:::::%s:dhcp6", have ? " " : "", nic->ifname);
		return;
	}
	inet_ntop(AF_INET6, &nic->ip6, addr, sizeof(addr));
	if (!IN6_IS_ADDR_UNSPECIFIED(&nic->gateway6))
		inet_ntop(AF_INET6, &nic->gateway6, gw, sizeof(gw));
	snprintf(out, len, "%s[%s]::%s%s%s:%u:%s:%s:none", have ? " " : "", addr,
		 gw[0] ? "[" : "", gw, gw[0] ? "]" : "", nic->prefix,
		 strchr(nic->hostname, ':') ? "" : nic->hostname, nic->ifname);
}

static void nic_ip(struct boot_config *bc, const struct ibft_nic *nic)
{
	char addr[INET_ADDRSTRLEN] = "", gw[INET_ADDRSTRLEN] = "", mask[INET_ADDRSTRLEN] = "";
	struct in_addr m = { .s_addr = nic->prefix ? htonl(~0u << (32 - MIN(nic->prefix, 32))) : 0 };
	size_t have = strlen(bc->ip);
	bool fixed = nic->origin != 3 && nic->ip.s_addr;

	if (nic->v6)
		return nic_ip6(bc, nic, have);
	if (!fixed && !nic->ifname[0])
		return;
	if (fixed)
		inet_ntop(AF_INET, &nic->ip, addr, sizeof(addr));
	if (fixed && nic->gateway.s_addr)
		inet_ntop(AF_INET, &nic->gateway, gw, sizeof(gw));
	if (fixed && m.s_addr)
		inet_ntop(AF_INET, &m, mask, sizeof(mask));
	snprintf(bc->ip + have, sizeof(bc->ip) - have, "%s%s::%s:%s:%s:%s:%s", have ? " " : "",
		 addr, gw, mask, fixed && !strchr(nic->hostname, ':') ? nic->hostname : "",
		 nic->ifname, fixed ? "off" : "dhcp");
}

static void apply_nics(struct boot_config *bc, const struct ibft *fw,
		       const struct ibft_target *const *t, unsigned n)
{
	const struct ibft_nic *first = ibft_target_nic(fw, t[0]);
	bool cmdline_ip = bc->ip[0];

	/* The command line's ip= and BOOTIF= win over the firmware's. */
	if (first && !bc->bootif[0]) {
		bc->have_mac = true;
		memcpy(bc->mac, first->mac, sizeof(bc->mac));
	}
	if (first)
		bc->vlan = first->vlan;
	/* a NIC again later is harmless: dhcpc_config_add_ip() keeps one
	 * ip= an interface */
	for (unsigned i = 0; i < n && !cmdline_ip; i++) {
		const struct ibft_nic *nic = ibft_target_nic(fw, t[i]);

		if (nic && (!i || nic != ibft_target_nic(fw, t[i - 1])))
			nic_ip(bc, nic);
	}
}

/* Each boot target a path through its own NIC; the command line's and
 * the file's paths, if rd.iscsi.firmware... brought us here, stay first. */
static void add_ibft_paths(struct boot_config *bc, const struct ibft *fw,
			   const struct ibft_target *const *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct ibft_nic *nic = ibft_target_nic(fw, t[i]);
		struct dhcpc_rootpath rp = t[i]->rp;

		if (nic && !rp.netdev[0])
			memcpy(rp.netdev, nic->ifname, sizeof(rp.netdev));
		boot_config_add_path(bc, &rp, "the iBFT");
		secure_zero(&rp, sizeof(rp));
	}
}

int boot_config_apply_ibft(struct boot_config *bc, const struct ibft *fw,
			   char *err, size_t errlen)
{
	const struct ibft_target *t[IBFT_MAX_TARGETS];
	unsigned n;

	if (!firmware_wanted(bc))
		return 0;
	n = fw ? ibft_boot_targets(fw, t, IBFT_MAX_TARGETS) : 0;
	if (n == 0) {
		if (bc->firmware != BOOT_FW_FORCE)
			return 0;
		snprintf(err, errlen, "the firmware's iBFT names no iSCSI boot target, "
			 "but the command line asks for it (rd.iscsi.firmware, ip=ibft "
			 "or iscsi_auto)");
		return -ENOENT;
	}
	add_ibft_paths(bc, fw, t, n);
	if (!bc->initiator[0])
		snprintf(bc->initiator, sizeof(bc->initiator), "%s", fw->initiator);
	apply_nics(bc, fw, t, n);
	log_info("target from the firmware (iBFT): %s (%u boot target%s)", t[0]->rp.target,
		 n, n == 1 ? "" : "s");
	return 1;
}

int boot_config_use_firmware(struct boot_config *bc, const char *root,
			     char *err, size_t errlen)
{
	struct ibft fw;
	int r;

	if (!firmware_wanted(bc))
		return 0;
	r = ibft_load(root, &fw, err, errlen);
	if (r < 0 && bc->firmware != BOOT_FW_FORCE) {
		/* Without a demand for it, a broken table is worth a warning,
		 * not a failed boot: DHCP may still name the target. */
		if (r != -ENOENT)
			log_warn("ignoring the firmware's iBFT: %s", err);
		err[0] = '\0';
		return 0;
	}
	if (r == -ENOENT)
		snprintf(err, errlen, "no iBFT on this machine, but the command line asks "
			 "for it (rd.iscsi.firmware, ip=ibft or iscsi_auto)");
	if (r == 0)
		r = boot_config_apply_ibft(bc, &fw, err, errlen);
	secure_zero(&fw, sizeof(fw));
	return r;
}

/* When every path names its NIC, those NICs are the network: each is
 * brought up, each on its own when they are several, all at once. A
 * path that names none may need any, so then the choice stays as it was. */
static void path_interfaces(const struct boot_config *bc, struct dhcpc_config *dc)
{
	for (unsigned i = 0; i < bc->npaths; i++)
		if (!bc->paths[i].netdev[0])
			return;
	for (unsigned i = 0; i < bc->npaths && i < DHCPC_MAX_IFACES; i++) {
		memcpy(dc->ifnames[dc->nifnames++], bc->paths[i].netdev, IFNAMSIZ);
		if (strcmp(bc->paths[i].netdev, bc->paths[0].netdev))
			dc->every_iface = true;
	}
}

int pivot_network_config(const struct boot_config *bc, struct dhcpc_config *dc,
			 char *err, size_t errlen)
{
	int r = 0;

	dhcpc_config_init(dc);
	r = dhcpc_config_add_ip(dc, bc->ip);
	if (r < 0) {
		snprintf(err, errlen, "invalid ip=%s", bc->ip);
		return r;
	}
	r = dhcpc_config_add_ifname(dc, bc->ifname);
	if (r < 0) {
		snprintf(err, errlen, "invalid ifname=%s", bc->ifname);
		return r;
	}
	path_interfaces(bc, dc);
	if (bc->bootif[0] && dhcpc_bootif_parse(bc->bootif, dc->bootif) == 0)
		dc->have_bootif = true;
	if (bc->have_mac) {
		dc->have_mac = true;
		memcpy(dc->mac, bc->mac, sizeof(dc->mac));
	}
	dc->vlan = bc->vlan;           /* the iBFT NIC's */
	dc->root_dir = "/";
	dc->write_files = true;
	dc->keep_lease = true;
	return 0;
}
