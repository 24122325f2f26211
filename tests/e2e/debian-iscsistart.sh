#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 5, the iscsistart drop-in: Debian's own open-iscsi initramfs hook
# and scripts (from the installed package, unchanged) boot the e2e VM with
# OUR static binary as /sbin/iscsistart. A real mkinitramfs (Debian's
# initramfs-tools, the e2e kernel, MODULES=most, BUSYBOX=y) with a private
# CONFDIR whose one extra hook runs after open-iscsi's and copies our binary
# over the iscsistart it put in. Debian's script calls iscsistart twice for
# one portal (the second must answer "session exists", not log in again),
# then initramfs-tools finds root=UUID= on /dev/nbd0p1 with blkid.
#   1. target on the command line (iscsi_target_name= iscsi_target_ip=);
#   2. target in /etc/iscsi.initramfs (appended to the same initrd), the
#      first boot's write is there.
# usage: debian-iscsistart.sh ISCSIROOT_STATIC_BINARY
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-initramfs.sh"

BIN=${1:?usage: $0 ISCSIROOT_STATIC_BINARY}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for p in mkinitramfs lsinitramfs qemu-system-x86_64 tgtd dnsmasq sfdisk mkfs.ext4 debugfs cpio; do
	command -v "$p" >/dev/null || { echo "SKIP: no $p"; exit 77; }
done
[ -x /usr/share/initramfs-tools/hooks/iscsi ] &&
	[ -x /usr/share/initramfs-tools/scripts/local-top/iscsi ] ||
	{ echo "SKIP: open-iscsi's initramfs hook and script are not installed"; exit 77; }
e2e_kernel_find || { echo "SKIP: no Debian 6.1 kernel"; exit 77; }
[ -x "$BIN" ] || die "no binary $BIN (scripts/build.sh builds build-musl first)"
BIN=$(readlink -f "$BIN")

# open-iscsi's hook reads /etc/initramfs-tools/conf.d/open-iscsi itself
# (not CONFDIR's): it must not switch iSCSI off on this host.
if [ -r /etc/initramfs-tools/conf.d/open-iscsi ] &&
	grep -qE '^[[:space:]]*NO_ISCSI_IN_INITRAMFS="?yes' /etc/initramfs-tools/conf.d/open-iscsi; then
	echo "SKIP: NO_ISCSI_IN_INITRAMFS=yes on this host"
	exit 77
fi

# The private configuration: a copy of /etc/initramfs-tools and one hook
# that, after open-iscsi's (CONFDIR hooks run after /usr/share's), puts
# our binary where open-iscsi's put iscsistart.
CONF=$E2E_WORK/conf
INITRD=$E2E_WORK/initrd
itools_confdir "$CONF" || die "CONFDIR"
cat >"$CONF/hooks/zz-iscsistart-is-iscsiroot" <<-EOF
	#!/bin/sh
	# e2e: iscsiroot as /sbin/iscsistart, for Debian's open-iscsi script.
	case \$1 in prereqs) exit 0 ;; esac
	[ -e "\$DESTDIR/sbin/iscsistart" ] || { echo "E: open-iscsi's hook put no /sbin/iscsistart" >&2; exit 1; }
	rm -f "\$DESTDIR/sbin/iscsistart"
	cp "$BIN" "\$DESTDIR/sbin/iscsistart"
	chmod 0755 "\$DESTDIR/sbin/iscsistart"
EOF
chmod 0755 "$CONF/hooks/zz-iscsistart-is-iscsiroot"
itools_mkinitramfs "$CONF" "$INITRD" || die "mkinitramfs"
pass "mkinitramfs built $(stat -c %s "$INITRD") bytes, $(wc -l <"$INITRD.list") entries"
m=$(itools_has "$INITRD" usr/sbin/iscsistart scripts/local-top/iscsi scripts/local-top/ORDER \
	etc/initiatorname.iscsi "usr/lib/modules/$E2E_KVER/kernel/drivers/block/nbd.ko") &&
	pass "lsinitramfs shows open-iscsi's script, iscsistart and nbd" || die "$m is not in the initrd"
m=$(itools_lacks "$INITRD" usr/sbin/iscsiroot scripts/local-top/iscsiroot) ||
	die "$m is in the initrd: our own hook must not be part of this test"

# Open-iscsi's script and hook are the package's own, byte for byte.
for f in hooks/iscsi scripts/local-top/iscsi; do
	dpkg --verify open-iscsi 2>/dev/null | grep -q "/usr/share/initramfs-tools/$f\$" &&
		die "/usr/share/initramfs-tools/$f differs from the open-iscsi package"
done
pass "open-iscsi's hook and script match the package (dpkg --verify)"

IMG=$E2E_WORK/root.img
e2e_rootdisk_build "$IMG" || die "root disk"
e2e_server_up "$IMG" || die "server side"

# 1. The command-line dialect. ip=dhcp: Debian's configure_networking
# (klibc ipconfig) brings the NIC up, as with the real iscsistart.
itools_boot "1: iscsi_target_name= iscsi_target_ip=" "$INITRD" \
	"ip=dhcp root=UUID=$E2E_ROOT_UUID iscsi_initiator=$E2E_INITIATOR iscsi_target_name=$E2E_IQN iscsi_target_ip=$E2E_SERVER_IP" 1

# 2. /etc/iscsi.initramfs, as open-iscsi's hook copies it from
# /etc/iscsi/iscsi.initramfs (added to this initrd as a second archive;
# the host's /etc stays as it is).
cat >"$E2E_WORK/iscsi.initramfs" <<-EOF
	ISCSI_INITIATOR=$E2E_INITIATOR
	ISCSI_TARGET_NAME=$E2E_IQN
	ISCSI_TARGET_IP=$E2E_SERVER_IP
	ISCSI_TARGET_PORT=3260
EOF
cp "$INITRD" "$INITRD.2" && itools_append_files "$INITRD.2" "$E2E_WORK/iscsi.initramfs:etc/iscsi.initramfs" ||
	die "initrd with /etc/iscsi.initramfs"
itools_boot "2: /etc/iscsi.initramfs" "$INITRD.2" "ip=dhcp root=UUID=$E2E_ROOT_UUID" 2

count=$(e2e_rootdisk_boot_count "$IMG")
[ "$count" = 2 ] && pass "the host reads boot count 2 from the image" ||
	fail "the host reads boot count '${count}' from the image"

[ "$FAILS" = 0 ] || { echo "e2e-debian-iscsistart: $FAILS check(s) failed"; exit 1; }
echo "e2e-debian-iscsistart: all checks passed"
