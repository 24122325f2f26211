#!/bin/bash
# SPDX-License-Identifier: MIT
# Records bench/storm-trace.txt: the block reads of a real Debian 12 boot
# to multi-user.target, root on iSCSI, as bench/storm.sh replays them.
#
# A Debian 12 tree (debootstrap minbase + systemd-sysv, udev, dbus, kmod,
# iproute2, procps, openssh-server, cron, e2fsprogs) on a GPT disk image
# served by the e2e lab's tgtd; the VM boots it with iscsiroot's PID 1
# initramfs and iscsiroot.trace=/run/iscsiroot.trace, so the daemon writes
# a line per read request (rootd/serve.c). A unit ordered after
# multi-user.target prints the trace on the serial console (gzip, base64)
# with the monotonic time systemd reached the target, and powers off. The
# host keeps the reads issued until then, times made relative to the
# first. Run as root, once; the fixture is committed.
#
# usage: bench/storm-record.sh [OUT]     (default bench/storm-trace.txt)
#   ISCSIROOT       the binary (default build-musl/iscsiroot)
#   STORM_ROOTFS    a debootstrap tree made as above, reused (else one is
#                   made in the work directory: ~100 MB from the Debian
#                   mirror the machine's apt uses)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$top/bench/storm-trace.txt}
ISCSIROOT=${ISCSIROOT:-$top/build-musl/iscsiroot}
PACKAGES=systemd-sysv,udev,dbus,kmod,iproute2,procps,openssh-server,cron,e2fsprogs
MIRROR=${STORM_MIRROR:-http://deb.debian.org/debian}
TRACE=/run/iscsiroot.trace

[ "$(id -u)" = 0 ] || { echo "storm-record: run as root" >&2; exit 2; }
[ -x "$ISCSIROOT" ] || { echo "storm-record: no binary at $ISCSIROOT" >&2; exit 2; }
. "$top/tests/e2e/lib.sh"
die() { e2e_log "storm-record: $*"; exit 1; }

make_tree() {
	local tree=$1
	if [ -n "${STORM_ROOTFS:-}" ]; then
		cp -a "$STORM_ROOTFS/." "$tree/" || return 1
	else
		debootstrap --variant=minbase --include="$PACKAGES" bookworm "$tree" \
			"$MIRROR" >"$E2E_WORK/debootstrap.log" 2>&1 ||
			{ tail -5 "$E2E_WORK/debootstrap.log" >&2; return 1; }
	fi
	rm -rf "$tree/var/cache/apt/archives/"*.deb
}

# The unit that hands the trace over once multi-user.target is reached.
add_trace_unit() {
	local tree=$1
	cat >"$tree/usr/local/sbin/storm-trace-out" <<-EOF
		#!/bin/sh
		at=\$(systemctl show -P ActiveEnterTimestampMonotonic multi-user.target)
		exec >/dev/ttyS0
		echo "$E2E_MARK multi-user reached at_us=\$at"
		echo "$E2E_MARK trace begin"
		gzip -9c $TRACE | base64 -w 76
		echo "$E2E_MARK trace end"
		systemctl poweroff
	EOF
	chmod 0755 "$tree/usr/local/sbin/storm-trace-out"
	cat >"$tree/etc/systemd/system/storm-trace.service" <<-EOF
		[Unit]
		Description=Hand the boot's read trace to the host
		After=multi-user.target

		[Service]
		Type=oneshot
		ExecStart=/usr/local/sbin/storm-trace-out

		[Install]
		WantedBy=multi-user.target
	EOF
	ln -sf /etc/systemd/system/storm-trace.service \
		"$tree/etc/systemd/system/multi-user.target.wants/storm-trace.service"
}

# build_image IMG: the tree on a GPT disk, ext4 from 1 MiB, fstab by UUID.
build_image() {
	local img=$1 tree=$E2E_WORK/tree part=$E2E_WORK/part mib bytes
	mkdir -p "$tree"
	make_tree "$tree" || return 1
	add_trace_unit "$tree"
	E2E_ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
	E2E_ROOT_PARTUUID=$(cat /proc/sys/kernel/random/uuid)
	echo "UUID=$E2E_ROOT_UUID / ext4 errors=remount-ro 0 1" >"$tree/etc/fstab"
	echo storm >"$tree/etc/hostname"
	mib=$(( $(du -sm "$tree" | cut -f1) * 3 / 2 + 64 ))
	bytes=$(((mib - 2) * 1024 * 1024))
	truncate -s "${mib}M" "$img" || return 1
	_e2e_partition "$img" 512 "$bytes" || return 1
	truncate -s "$bytes" "$part"
	mkfs.ext4 -q -F -U "$E2E_ROOT_UUID" -L storm -d "$tree" "$part" || return 1
	dd if="$part" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none || return 1
	rm -rf "$tree" "$part"
}

# The console's lines between two markers, the host's time stamps off.
console_between() {
	sed -n "/$E2E_MARK $1/,/$E2E_MARK $2/p" "$E2E_VM_LOG" |
		sed 's/^\[ *[0-9.]*\] //' | grep -v "$E2E_MARK" | tr -d '\r'
}

# fixture RAW AT_US: the header and the reads issued by AT_US, times
# relative to the first read.
fixture() {
	local raw=$1 at=$2 capacity block
	capacity=$(sed -n 's/^# capacity=\([0-9]*\) .*/\1/p' "$raw" | head -1)
	block=$(sed -n 's/^# capacity=[0-9]* block=\([0-9]*\)/\1/p' "$raw" | head -1)
	echo "# iscsiroot read trace v1: t_us offset len depth"
	echo "# capacity=$capacity block=$block"
	echo "# Debian 12 ($PACKAGES) booted to multi-user.target from tgtd,"
	echo "# iscsiroot $(git -C "$top" rev-parse --short HEAD) PID 1 mode, NBD, kernel $E2E_KVER,"
	echo "# QEMU TCG 1 vCPU; bench/storm-record.sh on $(date -u +%F)"
	grep -v '^#' "$raw" | awk -v at="$at" '
		$1 > at { exit }
		NR == 1 { t0 = $1 }
		{ print $1 - t0, $2, $3, $4 }'
}

e2e_kernel_find || exit 1
build_image "$E2E_WORK/root.img" || die "cannot build the root image"
e2e_server_up "$E2E_WORK/root.img" || die "cannot start the lab"
e2e_make_initramfs "$E2E_WORK/initrd" "$ISCSIROOT" || die "cannot make the initramfs"
APPEND="quiet panic=-1 ip=dhcp rd.iscsi.initiator=$E2E_INITIATOR"
APPEND+=" netroot=$(e2e_root_path) root=UUID=$E2E_ROOT_UUID iscsiroot.trace=$TRACE"
E2E_VM_MEM=1024 e2e_vm_start "$E2E_WORK/initrd" "$APPEND" || die "cannot start the VM"
e2e_vm_wait_marker "$E2E_MARK trace end" 900 ||
	{ e2e_console_dump 40; die "no trace on the console"; }
e2e_vm_wait_exit 60 || e2e_vm_kill
at=$(e2e_log_line "$E2E_MARK multi-user reached" | sed -n 's/.*at_us=\([0-9]*\).*/\1/p')
[ -n "$at" ] || die "no multi-user time"
console_between "trace begin" "trace end" | base64 -d | gunzip >"$E2E_WORK/raw" ||
	die "the trace did not decode"
fixture "$E2E_WORK/raw" "$at" >"$OUT" || die "cannot write $OUT"
echo "storm-record: $(grep -vc '^#' "$OUT") reads to multi-user.target" \
	"($(grep -vc '^#' "$E2E_WORK/raw") traced in all) in $OUT"
