#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 14, the Debian package booted: the .deb that tests/deb/build.sh
# builds (or $ISCSIROOT_DEB) is installed with dpkg -i into a Debian 12 root
# with initramfs-tools and systemd (debootstrap, cached as
# .deps/e2e-root-itools.tar); update-initramfs there builds the initrd for
# the e2e kernel with the package's hook, lsinitramfs shows our files, and
# the root boots from tgtd (initramfs-tools' command-line dialect,
# root=UUID=) to multi-user: writes, `iscsiroot status` from the package's
# binary, poweroff, and a clean fsck of the LUN on the host. When the
# dracut root is cached (tests/e2e/dracut.sh made it), the package goes
# there too and dracut takes its module from it.
# usage: deb-boot.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-initramfs.sh"
. "$(dirname "$0")/lib-debroot.sh"

FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for p in debootstrap dpkg-buildpackage qemu-system-x86_64 tgtd dnsmasq sfdisk mkfs.ext4 e2fsck unshare; do
	command -v "$p" >/dev/null || { echo "SKIP: no $p"; exit 77; }
done
e2e_kernel_find || { echo "SKIP: no Debian 6.1 kernel"; exit 77; }

DEB=${ISCSIROOT_DEB:-}
if [ -z "$DEB" ]; then
	start=$SECONDS
	mkdir -p "$E2E_WORK/deb"
	ISCSIROOT_DEB_KEEP=$E2E_WORK/deb "$DEBROOT_TOP/tests/deb/build.sh" >"$E2E_WORK/deb.log" 2>&1 ||
		{ tail -20 "$E2E_WORK/deb.log" >&2; die "tests/deb/build.sh"; }
	DEB=$(ls "$E2E_WORK"/deb/iscsiroot_*.deb)
	pass "tests/deb/build.sh built ${DEB##*/} in $((SECONDS - start)) s"
fi
[ -f "$DEB" ] || die "no package $DEB"

# debroot_dpkg_i: the package into DEBROOT, as an admin installs it.
debroot_dpkg_i() {
	cp "$DEB" "$DEBROOT/root/" &&
		debroot_run dpkg -i "/root/${DEB##*/}" >"$E2E_WORK/dpkg.log" 2>&1 ||
		{ tail -20 "$E2E_WORK/dpkg.log" >&2; return 1; }
	rm -f "$DEBROOT/root/${DEB##*/}"
}

# 1. initramfs-tools: dpkg -i, update-initramfs, boot.
TAR=$(debroot_cached itools "$DEBROOT_PKGS_ITOOLS") || die "the initramfs-tools root"
debroot_unpack "$TAR" || die "unpacking $TAR"
debroot_dpkg_i || die "dpkg -i ${DEB##*/} in the initramfs-tools root"
pass "dpkg -i ${DEB##*/}: $(chroot "$DEBROOT" dpkg-query -W -f '${Package} ${Version} ${Status}' iscsiroot)"
debroot_guest_check
mkdir -p "$DEBROOT/boot"
cp "/boot/config-$E2E_KVER" "$DEBROOT/boot/" 2>/dev/null
INITRD=$E2E_WORK/initrd.img
start=$SECONDS
if ! debroot_run update-initramfs -c -k "$E2E_KVER" >"$E2E_WORK/update-initramfs.log" 2>&1; then
	tail -20 "$E2E_WORK/update-initramfs.log" >&2
	die "update-initramfs -c -k $E2E_KVER in the root"
fi
cp "$DEBROOT/boot/initrd.img-$E2E_KVER" "$INITRD"
lsinitramfs "$INITRD" >"$INITRD.list" || die "lsinitramfs"
pass "update-initramfs built $(stat -c %s "$INITRD") bytes in $((SECONDS - start)) s"
if m=$(itools_has "$INITRD" usr/sbin/iscsiroot scripts/local-top/iscsiroot \
	"usr/lib/modules/$E2E_KVER/kernel/drivers/block/nbd.ko"); then
	pass "lsinitramfs shows the package's iscsiroot, its local-top script, nbd"
else
	fail "$m is not in the initrd"
fi

IMG=$E2E_WORK/root.img
debroot_image "$IMG" 768 || die "root disk image"
e2e_server_up "$IMG" || die "server side"
debroot_boot "initramfs-tools" "$INITRD" \
	"quiet ip=dhcp root=UUID=$E2E_ROOT_UUID iscsi_initiator=$E2E_INITIATOR iscsi_target_name=$E2E_IQN iscsi_target_ip=$E2E_SERVER_IP" 1
e2e_tgt_stop
if out=$(debroot_fsck "$IMG"); then
	pass "initramfs-tools: host fsck of the LUN after poweroff: $out"
else
	fail "initramfs-tools: host fsck of the LUN after poweroff: $out"
fi

# 2. dracut, when its root is cached: the package's module in the initrd.
DTAR=$DEBROOT_DEPS/e2e-root-dracut.tar
if [ -f "$DTAR" ]; then
	debroot_unpack "$DTAR" || die "unpacking $DTAR"
	debroot_dpkg_i || die "dpkg -i ${DEB##*/} in the dracut root"
	mkdir -p "$DEBROOT/boot"
	if debroot_run dracut --force --no-hostonly --kver "$E2E_KVER" /boot/initrd.img \
		>"$E2E_WORK/dracut.log" 2>&1 &&
		debroot_run lsinitrd /boot/initrd.img >"$E2E_WORK/lsinitrd" 2>&1; then
		sed -n '/^dracut modules:/,/^=/p' "$E2E_WORK/lsinitrd" | grep -qx iscsiroot &&
			grep -q ' usr/sbin/iscsiroot-up$' "$E2E_WORK/lsinitrd" &&
			pass "dracut root: the package's module is in dracut's initrd" ||
			fail "dracut root: no iscsiroot module in dracut's initrd"
	else
		tail -20 "$E2E_WORK/dracut.log" >&2
		fail "dracut root: dracut with the package's module failed"
	fi
else
	echo "note: no $DTAR (tests/e2e/dracut.sh makes it); the dracut half was not run"
fi

[ "$FAILS" = 0 ] || { echo "e2e-deb-boot: $FAILS check(s) failed"; exit 1; }
echo "e2e-deb-boot: all checks passed"
