#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 14, the dracut module: a Debian 12 root with dracut, dracut-network
# and open-iscsi installed (debootstrap, cached as .deps/e2e-root-dracut.tar)
# gets our module as `meson install --destdir` installs it, builds its own
# generic initrd with dracut (systemd in the initrd, dracut's default) for
# the e2e kernel, and boots it from tgtd with netroot=iscsi: and no root=:
#   - the initrd holds our binary, hook and job, nbd, and none of 95iscsi;
#   - systemd in the initrd mounts /dev/root (the udev link to the
#     partition iscsiroot found), switches root, and the root's systemd
#     reaches multi-user with the daemon still serving ('@iscsiroot');
#   - the guest writes, `iscsiroot status` answers, it powers off by
#     itself, and the host's fsck of the LUN finds the filesystem clean.
# E2E_DRACUT_APPEND adds kernel arguments (e.g. systemd.journald.forward_to_console=1
# systemd.journald.max_level_console=warning to see why a boot stops).
# usage: dracut.sh ISCSIROOT_STATIC_BINARY MESON_BUILD_DIR
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-initramfs.sh"
. "$(dirname "$0")/lib-debroot.sh"

BIN=${1:?usage: $0 ISCSIROOT_STATIC_BINARY MESON_BUILD_DIR}
BUILD=${2:?usage: $0 ISCSIROOT_STATIC_BINARY MESON_BUILD_DIR}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for p in debootstrap meson qemu-system-x86_64 tgtd dnsmasq sfdisk mkfs.ext4 e2fsck unshare; do
	command -v "$p" >/dev/null || { echo "SKIP: no $p"; exit 77; }
done
e2e_kernel_find || { echo "SKIP: no Debian 6.1 kernel"; exit 77; }
[ -x "$BIN" ] || die "no binary $BIN (scripts/build.sh builds build-musl first)"
BIN=$(readlink -f "$BIN")

# Our module as meson installs it.
INST=$E2E_WORK/inst
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$INST" --tags dracut \
	>"$E2E_WORK/meson-install.log" 2>&1 || { cat "$E2E_WORK/meson-install.log" >&2; die "meson install"; }
MOD=$(find "$INST" -path '*/dracut/modules.d/95iscsiroot' -type d)
CONF=$(find "$INST" -path '*/dracut/dracut.conf.d/50-iscsiroot.conf' -type f)
[ -x "$MOD/module-setup.sh" ] && [ -f "$CONF" ] || die "meson install gave no module and conf under $INST"
pass "meson install: ${MOD#"$INST"}, ${CONF#"$INST"}"

start=$SECONDS
TAR=$(debroot_cached dracut "$DEBROOT_PKGS_DRACUT") || die "the dracut root"
debroot_unpack "$TAR" || die "unpacking $TAR"
pass "Debian root with dracut $(sed -n 's/^Version: //p' <(chroot "$DEBROOT" dpkg -s dracut-core)) ready in $((SECONDS - start)) s"
cp -a "$MOD" "$DEBROOT/usr/lib/dracut/modules.d/" &&
	install -D -m 0644 "$CONF" "$DEBROOT/usr/lib/dracut/dracut.conf.d/50-iscsiroot.conf" &&
	install -m 0755 "$BIN" "$DEBROOT/usr/sbin/iscsiroot" &&
	echo 'iscsiroot_binary=/usr/sbin/iscsiroot' >"$DEBROOT/etc/dracut.conf.d/90-e2e.conf" ||
	die "installing the module into the root"
debroot_guest_check

# dracut in the root, as `dracut --regenerate-all` would run it there.
INITRD=$E2E_WORK/initrd.img
start=$SECONDS
mkdir -p "$DEBROOT/boot"
if ! debroot_run dracut --force --no-hostonly --kver "$E2E_KVER" "/boot/initrd.img-$E2E_KVER" \
	>"$E2E_WORK/dracut.log" 2>&1; then
	tail -30 "$E2E_WORK/dracut.log" >&2
	die "dracut in the root failed"
fi
cp "$DEBROOT/boot/initrd.img-$E2E_KVER" "$INITRD"
debroot_run lsinitrd "/boot/initrd.img-$E2E_KVER" >"$INITRD.lsinitrd" 2>&1
awk '{ sub(/ -> .*/, ""); print $NF }' "$INITRD.lsinitrd" | sed 's|^/||' >"$INITRD.list"
pass "dracut built $(stat -c %s "$INITRD") bytes in $((SECONDS - start)) s, $(wc -l <"$INITRD.list") entries"
grep -q 'iscsiroot' <(sed -n '/^dracut modules:/,/^=/p' "$INITRD.lsinitrd") &&
	! grep -qx 'iscsi' <(sed -n '/^dracut modules:/,/^=/p' "$INITRD.lsinitrd") &&
	pass "dracut modules: iscsiroot in, iscsi (95iscsi) out" ||
	fail "dracut modules: $(sed -n '/^dracut modules:/,/^=/p' "$INITRD.lsinitrd" | tr '\n' ' ')"
if m=$(itools_has "$INITRD" usr/sbin/iscsiroot usr/sbin/iscsiroot-up \
	usr/lib/dracut/hooks/cmdline/90-parse-iscsiroot.sh usr/lib/systemd/systemd \
	"usr/lib/modules/$E2E_KVER/kernel/drivers/block/nbd.ko" \
	"usr/lib/modules/$E2E_KVER/kernel/drivers/net/virtio_net.ko"); then
	pass "lsinitrd shows iscsiroot, its hook and job, systemd, nbd, virtio_net"
else
	fail "$m is not in the initrd"
fi
m=$(itools_lacks "$INITRD" usr/sbin/iscsiadm usr/sbin/iscsistart usr/sbin/iscsid) &&
	pass "open-iscsi's programs are not in the initrd" || fail "$m is in the initrd"

IMG=$E2E_WORK/root.img
debroot_image "$IMG" 1024 || die "root disk image"
rm -rf "$DEBROOT"
e2e_server_up "$IMG" || die "server side"

DEBROOT_BOOT_SECONDS=480 debroot_boot "netroot=iscsi:, no root=" "$INITRD" \
	"quiet rd.iscsi.initiator=$E2E_INITIATOR netroot=$(e2e_root_path) ${E2E_DRACUT_APPEND:-}" 1
e2e_log_has 'dracut.*(FATAL|Refusing)' && fail "dracut: $(e2e_log_line 'dracut.*(FATAL|Refusing)')"
e2e_tgt_stop
if out=$(debroot_fsck "$IMG"); then
	pass "host fsck of the LUN after poweroff: $out"
else
	fail "host fsck of the LUN after poweroff: $out"
fi

[ "$FAILS" = 0 ] || { echo "e2e-dracut: $FAILS check(s) failed"; exit 1; }
echo "e2e-dracut: all checks passed"
