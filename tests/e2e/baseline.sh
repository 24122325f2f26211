#!/bin/bash
# SPDX-License-Identifier: MIT
# The baseline contender, sourced after lib.sh: an initramfs that boots
# the e2e root disk with open-iscsi's iscsistart and the kernel's
# iscsi_tcp, busybox doing the rest (tests/e2e/baseline-init.sh).

BASELINE_MODULES="virtio_net virtio_pci e1000 iscsi_tcp sd_mod ext4"

# _baseline_copy_exe TREE EXE: EXE and the shared libraries ldd finds for
# it, at the same paths, with the dynamic loader.
_baseline_copy_exe() {
	local tree=$1 exe=$2 lib
	mkdir -p "$tree/sbin"
	cp -L "$exe" "$tree/sbin/" || return 1
	for lib in $(ldd "$exe" | grep -oE '/[^ ]+'); do
		mkdir -p "$tree/$(dirname "$lib")"
		cp -L "$lib" "$tree/$lib" || return 1
	done
}

# baseline_make_initramfs OUT: the baseline initramfs (busybox-static,
# iscsistart with its libraries, $BASELINE_MODULES with their closure).
baseline_make_initramfs() {
	local out=$1 tree=$E2E_WORK/baseline-tree.$$ iscsistart
	iscsistart=$(command -v iscsistart) || { e2e_log "no iscsistart (open-iscsi)"; return 1; }
	rm -rf "$tree"
	mkdir -p "$tree"/{dev,proc,sys,run,tmp,etc,newroot}
	e2e_busybox_tree "$tree" || return 1
	_baseline_copy_exe "$tree" "$iscsistart" || return 1
	# shellcheck disable=SC2086
	e2e_modules_install "$tree" $BASELINE_MODULES || return 1
	e2e_modules_closure $BASELINE_MODULES >"$tree/etc/e2e-modules" || return 1
	install -m 0755 "$E2E_DIR/baseline-init.sh" "$tree/init" || return 1
	cat >"$tree/etc/udhcpc.script" <<-'EOF'
		#!/bin/sh
		case $1 in
		bound|renew)
			ip addr flush dev "$interface"
			ip addr add "$ip/${mask:-24}" dev "$interface"
			[ -z "$router" ] || ip route add default via "${router%% *}" dev "$interface"
			;;
		esac
		exit 0
	EOF
	chmod 0755 "$tree/etc/udhcpc.script"
	e2e_pack_cpio "$tree" "$out" || return 1
	rm -rf "$tree"
}

# baseline_append [dhcp|static]: the kernel command line for a baseline
# boot against the lab's target (default: DHCP for the address).
baseline_append() {
	local ip=dhcp
	[ "${1:-dhcp}" = static ] && ip=$E2E_GUEST_IP/$E2E_PREFIX
	echo "quiet panic=-1 e2e.ip=$ip e2e.portal=$E2E_SERVER_IP e2e.target=$E2E_IQN" \
		"e2e.initiator=$E2E_INITIATOR e2e.rootpart=/dev/sda1 e2e.rootdev=/dev/sda1"
}
