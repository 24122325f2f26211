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

/* A static iBFT NIC becomes an ip= of the kernel's form, the one syntax
 * the daemon's network step already takes. */
static void static_ip(const struct ibft_nic *nic, char *out, size_t len)
{
	char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN] = "", mask[INET_ADDRSTRLEN] = "";
	struct in_addr m = { .s_addr = nic->prefix ? htonl(~0u << (32 - MIN(nic->prefix, 32))) : 0 };

	inet_ntop(AF_INET, &nic->ip, addr, sizeof(addr));
	if (nic->gateway.s_addr)
		inet_ntop(AF_INET, &nic->gateway, gw, sizeof(gw));
	if (m.s_addr)
		inet_ntop(AF_INET, &m, mask, sizeof(mask));
	snprintf(out, len, "%s::%s:%s:%s:%s:off", addr, gw, mask,
		 strchr(nic->hostname, ':') ? "" : nic->hostname, nic->ifname);
}

/* Each boot target's NIC its own ip= naming its interface (when the
 * kernel has named it), so that two NICs are both brought up, each with
 * its own address: static as the table says, else DHCP. */
static void nic_ip(struct boot_config *bc, const struct ibft_nic *nic)
{
	char ip[256], err[128];

	if (nic->origin != 3 && nic->ip.s_addr)
		static_ip(nic, ip, sizeof(ip));
	else if (nic->ifname[0])
		snprintf(ip, sizeof(ip), ":::::%s:dhcp", nic->ifname);
	else
		return;
	if (boot_config_apply(bc, "ip", ip, false, "in the iBFT", err, sizeof(err)) < 0)
		log_warn("iBFT NIC %u: %s", nic->index, err);
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
	for (unsigned i = 0; i < n && !cmdline_ip; i++) {
		const struct ibft_nic *nic = ibft_target_nic(fw, t[i]);
		bool seen = false;

		for (unsigned j = 0; j < i; j++)
			seen |= ibft_target_nic(fw, t[j]) == nic;
		if (nic && !seen)
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

/* Each word of bc->ip (one ip= per interface) into dc. */
static int add_ips(const char *ips, struct dhcpc_config *dc, char *err, size_t errlen)
{
	for (const char *w = ips + strspn(ips, " "); *w; w += strspn(w, " ")) {
		size_t len = strcspn(w, " ");
		char v[256];

		snprintf(v, sizeof(v), "%.*s", (int)len, w);
		if (len >= sizeof(v) || dhcpc_config_add_ip(dc, v) < 0) {
			snprintf(err, errlen, "invalid ip=%s", v);
			return -EINVAL;
		}
		w += len;
	}
	return 0;
}

static bool named(const struct dhcpc_config *dc, const char *name)
{
	for (int i = 0; i < dc->nifnames; i++)
		if (!strcmp(dc->ifnames[i], name))
			return true;
	for (int i = 0; i < dc->nmore_ip; i++)
		if (!strcmp(dc->more_ip[i].device, name))
			return true;
	return !strcmp(dc->ip.device, name);
}

/* When every path names its NIC, those NICs are the network: each is
 * brought up (every_iface when they are several), all at once. A path
 * that names none may need any, so then the choice stays as it was. */
static void path_interfaces(const struct boot_config *bc, struct dhcpc_config *dc)
{
	int distinct = (dc->ip.device[0] != 0) + dc->nmore_ip;

	for (unsigned i = 0; i < bc->npaths; i++)
		if (!bc->paths[i].netdev[0])
			return;
	for (unsigned i = 0; i < bc->npaths && dc->nifnames < DHCPC_MAX_IFACES; i++) {
		if (named(dc, bc->paths[i].netdev))
			continue;
		memcpy(dc->ifnames[dc->nifnames++], bc->paths[i].netdev, IFNAMSIZ);
		distinct++;
	}
	if (distinct > 1)
		dc->every_iface = true;
}

int pivot_network_config(const struct boot_config *bc, struct dhcpc_config *dc,
			 char *err, size_t errlen)
{
	int r;

	dhcpc_config_init(dc);
	r = add_ips(bc->ip, dc, err, errlen);
	if (r < 0)
		return r;
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
