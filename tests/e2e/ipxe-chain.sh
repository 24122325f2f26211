#!/bin/bash
# SPDX-License-Identifier: MIT
# The classic network-boot chain (issue 5), with no -kernel: QEMU's iPXE
# ROM gets DHCP from dnsmasq, sanboots the iSCSI disk served by tgtd, the
# disk's own GRUB loads the kernel and the initrd (iscsiroot as /init) from
# that disk, and iscsiroot brings the root up and boots to /sbin/init.
#   ibft      iPXE sanboots the DHCP root-path it gets and describes the
#             disk in an iBFT; no iSCSI parameter on the kernel command
#             line: iscsiroot takes the target from the iBFT
#   rootpath  iPXE runs a script from TFTP, "sanboot --no-describe": no
#             iBFT (it would win, pivot/README.md); the target from the
#             DHCP root-path (option 17, given only to clients that are not
#             iPXE) and BOOTIF= on the kernel command line
# usage: ipxe-chain.sh ISCSIROOT_STATIC_BINARY [CASE...]   (default: both)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ipxe.sh"

BIN=${1:?usage: $0 ISCSIROOT_STATIC_BINARY [ibft] [rootpath]}
shift
CASES=${*:-ibft rootpath}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

BASE="quiet panic=-1 e2e.rootdev=/dev/nbd0p1"
BOOTIF=01-${E2E_GUEST_MAC//:/-}
# the end of a boot, good or bad
END_RE="$E2E_MARK poweroff|giving up after repeated failures|not retrying|Kernel panic|No bootable device"

# step WHAT ERE: passes when a console line matches, with its host time.
step() {
	local t
	t=$(e2e_log_time "$2") || { fail "$1: no \"$2\" on the console"; return 1; }
	pass "$1 (at $t s)"
}

# chain_boot CASE IMG IPXE_SCRIPT LINUX_ROOT_PATH: one boot through the
# whole chain (ipxe_dhcp_start says what the last two mean), then the
# checks in the chain's order; a step that fails ends the case.
chain_boot() {
	local name=$1 img=$2 rc
	echo "--- $name"
	DHCP_LOG_FROM=$(cat "$E2E_WORK/dnsmasq.log" 2>/dev/null | wc -l)
	e2e_tgt_start "$img" && ipxe_dhcp_start "$3" "$4" || { fail "$name: server side"; return 1; }
	ipxe_vm_start || { fail "$name: QEMU did not start"; return 1; }
	case " ${IPXE_QEMU_ARGS[*]} " in
	*" -kernel "* | *" -initrd "*) fail "$name: QEMU was given a kernel" ;;
	esac
	e2e_vm_wait_marker "$END_RE" 300
	rc=$?
	if [ $rc = 0 ] && ! e2e_vm_wait_exit 30; then
		e2e_log "$name: the VM did not power off; killed"
		e2e_vm_kill
	elif [ $rc = 1 ]; then
		e2e_log "$name: nothing ended the boot within 300 s; VM killed"
		e2e_vm_kill
	fi
	e2e_dhcp_stop
	e2e_tgt_stop
	chain_checks "$name" "$img" || { e2e_console_dump 40; return 1; }
}

chain_checks() {
	local name=$1 img=$2
	step "$name: 1. iPXE sanbooted the iSCSI disk" "Booting from SAN device 0x80" || return 1
	step "$name: 2. the disk's GRUB ran" "e2e-grub: loading the kernel" || return 1
	step "$name: 2. GRUB loaded the kernel and the initrd" "e2e-grub: booting" || return 1
	step "$name: 3. the kernel ran iscsiroot as /init" \
		"iscsiroot: starting \(PID 1 mode\)" || return 1
	step "$name: 4. iscsiroot booted to /sbin/init" "$E2E_MARK init reached" || return 1
	e2e_log_has "$E2E_MARK root on /dev/nbd0p1" || { fail "$name: root not on /dev/nbd0p1"; return 1; }
	e2e_log_has "$E2E_MARK kernel io errors 0" || { fail "$name: kernel I/O errors"; return 1; }
	e2e_log_has "$E2E_MARK poweroff" || { fail "$name: no poweroff"; return 1; }
	e2e_log_has "Kernel panic" && { fail "$name: kernel panic"; return 1; }
	[ "$(e2e_rootdisk_boot_count "$img")" = 1 ] ||
		{ fail "$name: the disk's boot counter is not 1"; return 1; }
	pass "$name: root on /dev/nbd0p1, no I/O error, poweroff, boot counter 1 on the disk"
	echo "$name: QEMU start -> init marker $(e2e_log_time "$E2E_MARK init reached") s" \
		"(guest uptime $(e2e_marker_uptime) s)"
}

# The daemon logs "target from the DHCP root-path" to the kernel log only
# (hidden by quiet), so the proof is: no iBFT line from PID 1, no target on
# the command line, the boot worked, and the only root-path dnsmasq sent
# went to the kernel's client (iPXE got a filename).
rootpath_used() {
	e2e_log_has "target from the firmware" &&
		{ fail "root-path case: the target came from an iBFT"; return 1; }
	tail -n "+$((DHCP_LOG_FROM + 1))" "$E2E_WORK/dnsmasq.log" |
		grep -q "option: 17 root-path  $(e2e_root_path 1)" ||
		{ fail "root-path case: dnsmasq sent no root-path"; return 1; }
	pass "root-path case: no iBFT, the root-path went to the kernel's DHCP client"
}

e2e_kernel_find || exit 1
# iscsi_ibft: the kernel's view of the table iPXE leaves (/sys/firmware/ibft)
E2E_INITRAMFS_MODULES="$E2E_MODULES_ISCSIROOT iscsi_ibft" \
	e2e_make_initramfs "$E2E_WORK/initrd" "$BIN" || exit 1
e2e_net_up || exit 1
echo "initramfs $(stat -c %s "$E2E_WORK/initrd") bytes; kernel $E2E_KERNEL; ROM $IPXE_ROM"

for c in $CASES; do
	case $c in
	ibft)
		ipxe_disk_build "$E2E_WORK/ibft.img" "$E2E_WORK/initrd" "$BASE" || exit 1
		chain_boot "iBFT, no iSCSI parameter" "$E2E_WORK/ibft.img" "" "" &&
			step "iBFT: iscsiroot took the target from the iBFT" \
				"iscsiroot: target from the firmware \(iBFT\)" ;;
	rootpath)
		ipxe_disk_build "$E2E_WORK/rootpath.img" "$E2E_WORK/initrd" "$BASE BOOTIF=$BOOTIF" ||
			exit 1
		ipxe_script_sanboot "$E2E_WORK/no-describe.ipxe" --no-describe
		chain_boot "DHCP root-path + BOOTIF" "$E2E_WORK/rootpath.img" \
			"$E2E_WORK/no-describe.ipxe" "$(e2e_root_path 1)" && rootpath_used ;;
	*) fail "unknown case $c" ;;
	esac
done

[ "$FAILS" = 0 ] && { echo "ipxe chain: all cases passed"; exit 0; }
echo "ipxe chain: $FAILS failure(s)"
exit 1
