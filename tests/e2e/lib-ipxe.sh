#!/bin/bash
# SPDX-License-Identifier: MIT
# The classic network-boot chain on top of lib.sh (issue 5): QEMU without
# -kernel boots its iPXE option ROM, iPXE gets DHCP from dnsmasq in our
# namespace and sanboots the iSCSI disk served by tgtd, the disk's own GRUB
# loads the kernel and the initrd from the disk, and the initrd's /init
# (iscsiroot) brings up the root. Sourced after lib.sh; see README.md.
#
# lib.sh's e2e_vm_start always passes -kernel and turns the NIC's ROM off,
# so this file has its own VM starter, ipxe_vm_start. It takes the same VM
# lock (e2e_vm_wait_idle), uses the same console reader (_e2e_stamp) and
# sets E2E_VM_PID/E2E_VM_LOG, so e2e_vm_wait_exit, e2e_vm_wait_marker,
# e2e_vm_kill and the e2e_log_* functions work on it unchanged.

# Debian's iPXE ROM for virtio-net-pci (ipxe-qemu), which QEMU loads by
# itself when the device has no romfile= property. Naming it (romfile=
# efi-virtio.rom, or its full path) gives a NIC whose ROM SeaBIOS never
# runs here (QEMU 7.2: straight to "No bootable device"), so the file is
# only checked, and IPXE_ROMFILE=FILE passes one explicitly.
IPXE_ROM=/usr/lib/ipxe/qemu/efi-virtio.rom
# An IPv6 prefix on br0, only for dnsmasq's router advertisements: iPXE
# waits ~16 s for one otherwise (NOTES.md).
IPXE_SERVER_IP6=fd99:e2e::1
IPXE_LOOP=
IPXE_QEMU_ARGS=()

ipxe_cleanup() {
	[ -n "$IPXE_LOOP" ] || return 0
	partx -d "$IPXE_LOOP" 2>/dev/null
	losetup -d "$IPXE_LOOP" 2>/dev/null
	IPXE_LOOP=
}
trap 'ipxe_cleanup; e2e_cleanup' EXIT

# ----------------------------------------------------------------- disk

# ipxe_grub_cfg APPEND: a grub.cfg that boots /boot/vmlinuz with
# "console=ttyS0 APPEND" and /boot/initrd.img at once, no menu. GRUB
# writes to the UART itself (through the firmware's serial console its
# lines come out cut by cursor moves); the echo lines are what the test
# looks for. IPXE_GRUB_LOADER=linux16 boots through the kernel's 16-bit
# set-up code instead of GRUB's default 32-bit entry (no faster here).
ipxe_grub_cfg() {
	local linux=${IPXE_GRUB_LOADER:-linux}
	cat <<-EOF
		serial --unit=0 --speed=115200
		terminal_output serial
		echo 'e2e-grub: loading the kernel'
		$linux /boot/vmlinuz console=ttyS0 $1
		echo 'e2e-grub: loading the initrd'
		${linux/linux/initrd} /boot/initrd.img
		echo 'e2e-grub: booting'
		boot
	EOF
}

# _ipxe_part_geometry IMG: "START SIZE" (sectors) of the image's first
# partition, as sfdisk reads it.
_ipxe_part_geometry() {
	sfdisk -d "$1" 2>/dev/null | awk -F'[=,]' '
		/start=/ { for (i = 1; i < NF; i++) {
			gsub(/ /, "", $i)
			if ($i ~ /start$/) s = $(i + 1)
			if ($i ~ /size$/) z = $(i + 1) }
			gsub(/ /, "", s); gsub(/ /, "", z); print s, z; exit }'
}

# _ipxe_install_boot IMG BOOTDIR: attaches IMG to a loop device with its
# partition node (partx: losetup -P makes none here), copies BOOTDIR's
# files into the partition's /boot and installs GRUB for BIOS: boot.img in
# the MBR, core.img in the gap before the partition, modules in
# /boot/grub. The mount lives in a mount namespace of its own, so nothing
# stays mounted if this is interrupted; the loop device is detached here or
# by the EXIT trap.
_ipxe_install_boot() {
	local img=$1 boot=$2 mnt=$E2E_WORK/mnt.$$ rc=0
	IPXE_LOOP=$(losetup -f --show "$img") || { IPXE_LOOP=; e2e_log "losetup failed"; return 1; }
	partx -a "$IPXE_LOOP" 2>/dev/null
	e2e_wait_until 5 test -b "${IPXE_LOOP}p1" ||
		{ e2e_log "no ${IPXE_LOOP}p1 after partx -a"; ipxe_cleanup; return 1; }
	mkdir -p "$mnt"
	unshare -m --propagation private sh -c '
		mount -t ext4 "$1p1" "$2" || exit 1
		mkdir -p "$2/boot" && cp -r "$3"/. "$2/boot/" &&
			grub-install --target=i386-pc --boot-directory="$2/boot" \
				--locales= --fonts= --themes= "$1" 2>&1
		rc=$?
		umount "$2" || rc=1
		exit $rc' _ "$IPXE_LOOP" "$mnt" "$boot" >"$E2E_WORK/grub-install.log" || rc=1
	ipxe_cleanup
	rmdir "$mnt"
	[ "$rc" = 0 ] || { e2e_log "grub-install failed: $(tail -3 "$E2E_WORK/grub-install.log")"; return 1; }
}

# ipxe_disk_build IMG INITRD APPEND [SIZE_MIB]: the lab's root disk
# (e2e_rootdisk_build: busybox, root-init.sh as /sbin/init, boot counter)
# made bootable by itself: its GPT label replaced by an MBR one with the
# same partition (grub-pc needs no BIOS boot partition then), and in the
# partition /boot/vmlinuz ($E2E_KERNEL), /boot/initrd.img (INITRD) and
# /boot/grub/grub.cfg (ipxe_grub_cfg APPEND), GRUB in the MBR. Default
# 128 MiB. The e2e_rootdisk_* readers work on it as on the lab's disk.
ipxe_disk_build() {
	local img=$1 initrd=$2 append=$3 size=${4:-128} boot=$E2E_WORK/boot.$$ geo
	command -v grub-install >/dev/null && [ -d /usr/lib/grub/i386-pc ] ||
		{ e2e_log "no grub-install for i386-pc (install grub-pc-bin grub2-common)"; return 1; }
	e2e_kernel_find || return 1
	e2e_rootdisk_build "$img" "$size" || return 1
	geo=$(_ipxe_part_geometry "$img")
	[ -n "$geo" ] || { e2e_log "no partition in $img"; return 1; }
	# sfdisk wipes the old label (both GPT headers) and keeps the data
	printf 'label: dos\nstart=%s, size=%s, type=83, bootable\n' "${geo% *}" "${geo#* }" |
		sfdisk -q "$img" >/dev/null 2>&1 || { e2e_log "sfdisk (dos) failed"; return 1; }
	rm -rf "$boot"
	mkdir -p "$boot/grub"
	cp "$E2E_KERNEL" "$boot/vmlinuz" && cp "$initrd" "$boot/initrd.img" || return 1
	ipxe_grub_cfg "$append" >"$boot/grub/grub.cfg"
	_ipxe_install_boot "$img" "$boot" || return 1
	rm -rf "$boot"
}

# ----------------------------------------------------------------- DHCP

# ipxe_script_sanboot OUT [SANBOOT-OPTIONS...]: an iPXE script that
# sanboots our target, e.g. with --no-describe (no iBFT left behind).
ipxe_script_sanboot() {
	local out=$1
	shift
	printf '#!ipxe\nsanboot %s%s\n' "${*:+$* }" "$(e2e_root_path 1)" >"$out"
}

# ipxe_dhcp_start IPXE_SCRIPT [LINUX_ROOT_PATH [DNSMASQ-ARGS...]]: dnsmasq
# on br0 (through e2e_dhcp_start) that tells iPXE (user-class "iPXE", or
# option 175) how to boot: with IPXE_SCRIPT empty, the root-path
# $(e2e_root_path 1) and no filename, so that iPXE sanboots it and leaves
# an iBFT; else the filename boot.ipxe, IPXE_SCRIPT served by dnsmasq's
# TFTP, and no root-path. Always option 175.176=1, so that iPXE does not
# wait for ProxyDHCP, and IPv6 router advertisements on br0, so that it
# does not wait for one. Other clients (the kernel's initramfs) get
# LINUX_ROOT_PATH as option 17 when it is not empty, no root-path else.
ipxe_dhcp_start() {
	local script=$1 linux_rp=${2:-} tftp=$E2E_WORK/tftp opts=()
	shift
	[ $# -gt 0 ] && shift
	ip -n "$E2E_NS" -6 addr show dev br0 | grep -q "$IPXE_SERVER_IP6" ||
		ip -n "$E2E_NS" addr add "$IPXE_SERVER_IP6/64" dev br0 nodad ||
		{ e2e_log "no IPv6 address on br0"; return 1; }
	opts+=("--dhcp-userclass=set:ipxe,iPXE" "--dhcp-match=set:ipxe,175"
		"--dhcp-option=tag:ipxe,encap:175,176,1b"
		--enable-ra "--dhcp-range=::,constructor:br0,ra-only")
	if [ -z "$script" ]; then
		opts+=("--dhcp-option=tag:ipxe,17,$(e2e_root_path 1)")
	else
		rm -rf "$tftp"
		mkdir -p "$tftp" && cp "$script" "$tftp/boot.ipxe" || return 1
		# root: the work directory is private to root (mktemp -d)
		opts+=(--enable-tftp "--tftp-root=$tftp" --user=root
			"--dhcp-boot=tag:ipxe,boot.ipxe")
	fi
	[ -z "$linux_rp" ] || opts+=("--dhcp-option=tag:!ipxe,17,$linux_rp")
	e2e_dhcp_start "" "${opts[@]}" "$@"
}

# ----------------------------------------------------------------- QEMU

# ipxe_vm_start [LOG]: QEMU (TCG, 512 MiB, one CPU) in the namespace on
# tap0 with virtio-net-pci and its default iPXE ROM ($IPXE_ROM), MAC
# $E2E_GUEST_MAC, booting from the network (-boot order=n) with no -kernel,
# no disk, and the firmware's console on serial (fw_cfg etc/sercon-port =
# 0x3f8: SeaBIOS, iPXE and GRUB print there), -no-reboot. Takes the VM lock
# like e2e_vm_start and returns at once; sets E2E_VM_PID, E2E_VM_LOG
# (default $E2E_WORK/console.log, host-stamped lines) and IPXE_QEMU_ARGS
# (the command). E2E_VM_SHOW=1 shows the console live, E2E_VM_MEM the
# memory, $E2E_VM_QEMU_ARGS adds arguments (word-split).
ipxe_vm_start() {
	local fifo t0 sercon=$E2E_WORK/sercon-port nic
	E2E_VM_LOG=${1:-$E2E_WORK/console.log}
	[ -z "$E2E_VM_PID" ] || { e2e_log "a VM of ours is already running"; return 1; }
	[ -r "$IPXE_ROM" ] || { e2e_log "no $IPXE_ROM (install ipxe-qemu)"; return 1; }
	nic="virtio-net-pci,netdev=n0,mac=$E2E_GUEST_MAC"
	[ -z "${IPXE_ROMFILE:-}" ] || nic+=",romfile=$IPXE_ROMFILE"
	printf '\370\003' >"$sercon"
	# shellcheck disable=SC2206
	IPXE_QEMU_ARGS=(qemu-system-x86_64 -nodefaults -nographic -no-reboot
		-machine pc -accel tcg -smp 1 -m "${E2E_VM_MEM:-512}"
		-serial stdio -fw_cfg "name=etc/sercon-port,file=$sercon" -boot order=n
		-netdev "tap,id=n0,ifname=tap0,script=no,downscript=no"
		-device "$nic"
		${E2E_VM_QEMU_ARGS:-})
	e2e_vm_wait_idle || return 1
	fifo=$E2E_WORK/console.fifo.$RANDOM
	rm -f "$fifo" "$E2E_VM_LOG"
	mkfifo "$fifo" || { _e2e_vm_unlock; return 1; }
	t0=${EPOCHREALTIME/./}
	_e2e_stamp "$t0" "${E2E_VM_SHOW:-0}" <"$fifo" >"$E2E_VM_LOG" 209>&- &
	E2E_VM_STAMP_PID=$!
	ip netns exec "$E2E_NS" "${IPXE_QEMU_ARGS[@]}" \
		</dev/null >"$fifo" 2>>"$E2E_WORK/qemu.err" 209>&- &
	E2E_VM_PID=$!
	E2E_VM_RC=
}
