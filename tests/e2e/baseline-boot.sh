#!/bin/bash
# SPDX-License-Identifier: MIT
# Proves the VM lab with the baseline initramfs (busybox + iscsistart +
# iscsi_tcp): the guest boots from the tgtd LUN, its init reports the root
# device and powers off by itself, and the boot counter written by the
# first boot is read by the second one and by the host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/baseline.sh"

FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for p in qemu-system-x86_64 tgtd dnsmasq iscsistart busybox sfdisk mkfs.ext4 debugfs cpio; do
	command -v "$p" >/dev/null || { echo "SKIP: no $p"; exit 77; }
done
e2e_kernel_find || { echo "SKIP: no Debian 6.1 kernel"; exit 77; }

IMG=$E2E_WORK/root.img
INITRD=$E2E_WORK/baseline.cpio
baseline_make_initramfs "$INITRD" || die "baseline initramfs"
e2e_rootdisk_build "$IMG" || die "root disk"
e2e_server_up "$IMG" || die "server side"
APPEND=$(baseline_append dhcp)

# boot N: one boot, checked; the boot counter must read N.
boot() {
	local n=$1 t
	if ! e2e_vm_boot "$INITRD" "$APPEND" 90; then
		e2e_console_dump
		die "boot $n: the VM did not power off within 90 s"
	fi
	pass "boot $n: the VM powered off by itself"
	if t=$(e2e_log_time "$E2E_MARK init reached"); then
		pass "boot $n: init reached at ${t} s (guest uptime $(e2e_marker_uptime) s)"
	else
		fail "boot $n: no init marker"
		e2e_console_dump
		return
	fi
	e2e_log_has "$E2E_MARK root on /dev/sda1\$" && pass "boot $n: root on /dev/sda1" ||
		fail "boot $n: $(e2e_log_line "$E2E_MARK root" || echo 'no root line')"
	e2e_log_has "$E2E_MARK boot count $n\$" && pass "boot $n: boot count $n" ||
		fail "boot $n: $(e2e_log_line "$E2E_MARK boot count" || echo 'no boot count')"
	e2e_log_has "$E2E_MARK kernel io errors 0\$" && pass "boot $n: no I/O error" ||
		fail "boot $n: $(e2e_log_line "$E2E_MARK kernel io errors" || echo 'no error count')"
	e2e_log_has "$E2E_MARK poweroff" || fail "boot $n: no poweroff line"
	[ "$FAILS" = 0 ] || e2e_console_dump
}

boot 1
boot 2
count=$(e2e_rootdisk_boot_count "$IMG")
[ "$count" = 2 ] && pass "the host reads boot count 2 from the image" ||
	fail "the host reads boot count '${count}' from the image"

[ "$FAILS" = 0 ] || { echo "e2e-baseline-boot: $FAILS check(s) failed"; exit 1; }
echo "e2e-baseline-boot: all checks passed"
