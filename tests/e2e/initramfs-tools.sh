#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 5, initramfs-tools integration: a real mkinitramfs (Debian's
# initramfs-tools, the e2e kernel, MODULES=most, BUSYBOX=y) with our hook
# and local-top script as `meson install --destdir` installs them, put in
# a private CONFDIR; the initrd holds our files and not open-iscsi's login
# script, and boots the e2e VM with root on /dev/nbd0p1:
#   a. target in initramfs-tools' command-line dialect (iscsi_target_name=
#      iscsi_target_ip=), root=UUID= resolved by initramfs-tools;
#   b. target in /etc/iscsi/iscsi.initramfs (a CONFDIR copy, through the
#      hook's ISCSIROOT_INITRAMFS_CONF), no root= and no ip=: ROOT comes from
#      /conf/param.conf; the first boot's write is there.
# tgtd sees one session while the guest runs, in both.
# usage: initramfs-tools.sh ISCSIROOT_STATIC_BINARY MESON_BUILD_DIR
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-initramfs.sh"

BIN=${1:?usage: $0 ISCSIROOT_STATIC_BINARY MESON_BUILD_DIR}
BUILD=${2:?usage: $0 ISCSIROOT_STATIC_BINARY MESON_BUILD_DIR}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for p in mkinitramfs lsinitramfs meson qemu-system-x86_64 tgtd dnsmasq sfdisk mkfs.ext4 debugfs cpio; do
	command -v "$p" >/dev/null || { echo "SKIP: no $p"; exit 77; }
done
e2e_kernel_find || { echo "SKIP: no Debian 6.1 kernel"; exit 77; }
[ -x "$BIN" ] || die "no binary $BIN (scripts/build.sh builds build-musl first)"
BIN=$(readlink -f "$BIN")

# Our files as meson installs them (only the hook and the script).
INST=$E2E_WORK/inst
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$INST" --tags initramfs-tools \
	>"$E2E_WORK/meson-install.log" 2>&1 || { cat "$E2E_WORK/meson-install.log" >&2; die "meson install"; }
HOOK=$(find "$INST" -path '*/initramfs-tools/hooks/iscsiroot' -type f)
SCRIPT=$(find "$INST" -path '*/initramfs-tools/scripts/local-top/iscsiroot' -type f)
[ -x "$HOOK" ] && [ -x "$SCRIPT" ] || die "meson install gave no executable hook and script under $INST"
pass "meson install: ${HOOK#"$INST"}, ${SCRIPT#"$INST"}"

# confdir DIR [CONF.D LINES]: the private configuration with our hook and
# script, and conf.d/iscsiroot naming the static binary (+ more lines).
confdir() {
	local dir=$1
	shift
	itools_confdir "$dir" || return 1
	install -m 0755 "$HOOK" "$dir/hooks/iscsiroot" &&
		install -m 0755 "$SCRIPT" "$dir/scripts/local-top/iscsiroot" &&
		printf '%s\n' "ISCSIROOT_BINARY=$BIN" "$@" >"$dir/conf.d/iscsiroot"
}

# check_initrd INITRD WHAT: our files in, open-iscsi's boot scripts out.
check_initrd() {
	local m
	if m=$(itools_has "$1" usr/sbin/iscsiroot scripts/local-top/iscsiroot etc/iscsi.initramfs \
		"usr/lib/modules/$E2E_KVER/kernel/drivers/block/nbd.ko" \
		"usr/lib/modules/$E2E_KVER/kernel/drivers/firmware/iscsi_ibft.ko" \
		"usr/lib/modules/$E2E_KVER/kernel/drivers/net/virtio_net.ko"); then
		pass "$2: lsinitramfs shows iscsiroot, its script, nbd, iscsi_ibft, virtio_net, iscsi.initramfs"
	else
		fail "$2: $m is not in the initrd"
	fi
	m=$(itools_lacks "$1" scripts/local-top/iscsi scripts/local-bottom/iscsi) &&
		pass "$2: open-iscsi's boot scripts are not in the initrd" ||
		fail "$2: $m is still in the initrd"
}

# The hook alone, as mkinitramfs calls it (its exported variables, a
# usr-merged DESTDIR with the boot scripts already copied): the settings
# that the boots below do not use.
run_hook() { # DESTDIR CONF.D-LINES...
	local d=$1 sub
	shift
	rm -rf "$d" "$d.conf"
	mkdir -p "$d/scripts/local-top" "$d/scripts/local-bottom" "$d/etc" "$d.conf/conf.d"
	for sub in bin sbin lib; do
		mkdir -p "$d/usr/$sub" && ln -s "usr/$sub" "$d/$sub"
	done
	: >"$d/scripts/local-top/iscsi"
	: >"$d/scripts/local-bottom/iscsi"
	cp "$SCRIPT" "$d/scripts/local-top/iscsiroot"
	printf '%s\n' "$@" >"$d.conf/conf.d/iscsiroot"
	DESTDIR=$d CONFDIR=$d.conf version=$E2E_KVER MODULESDIR=/lib/modules/$E2E_KVER \
		verbose=n MODULES=${HOOK_MODULES:-most} "$HOOK" >"$d.log" 2>&1
}
H=$E2E_WORK/hook
if run_hook "$H" "ISCSIROOT_IN_INITRAMFS=no" && [ ! -e "$H/scripts/local-top/iscsiroot" ] &&
	[ -e "$H/scripts/local-top/iscsi" ] && [ ! -e "$H/usr/sbin/iscsiroot" ]; then
	pass "hook: ISCSIROOT_IN_INITRAMFS=no leaves open-iscsi's script and removes ours"
else
	fail "hook: ISCSIROOT_IN_INITRAMFS=no: $(cat "$H.log")"
fi
if ! run_hook "$H" "ISCSIROOT_BINARY=$E2E_WORK/none" && grep -q "^E: iscsiroot: no executable" "$H.log"; then
	pass "hook: a missing binary fails the build: $(head -1 "$H.log")"
else
	fail "hook: a missing binary did not fail the build"
fi
printf 'ISCSI_TARGET_NAME=%s\nISCSI_TARGET_IP=%s\n' "$E2E_IQN" "$E2E_SERVER_IP" >"$E2E_WORK/no-initiator"
if HOOK_MODULES=dep run_hook "$H" "ISCSIROOT_BINARY=$BIN" "ISCSIROOT_INITRAMFS_CONF=$E2E_WORK/no-initiator" &&
	cmp -s "$BIN" "$H/usr/sbin/iscsiroot" && [ ! -e "$H/scripts/local-top/iscsi" ] &&
	[ ! -e "$H/scripts/local-bottom/iscsi" ] &&
	[ -n "$(find "$H/usr/lib/modules" -name 'nbd.ko*')" ] &&
	[ -n "$(find "$H/usr/lib/modules" -path '*/drivers/net/*.ko*')" ] &&
	grep -qxF "ISCSI_TARGET_NAME=$E2E_IQN" "$H/etc/iscsi.initramfs"; then
	pass "hook: MODULES=dep gets the binary, nbd, network drivers; open-iscsi's scripts removed"
else
	fail "hook: MODULES=dep: $(tail -3 "$H.log")"
fi
name=$(sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi 2>/dev/null | tail -n 1)
if [ -n "$name" ]; then
	grep -qxF "ISCSI_INITIATOR=$name" "$H/etc/iscsi.initramfs" &&
		pass "hook: no ISCSI_INITIATOR in the file: /etc/iscsi/initiatorname.iscsi's name added" ||
		fail "hook: the initiator name was not added: $(cat "$H/etc/iscsi.initramfs")"
fi
rm -rf "$H" "$H.conf"

IMG=$E2E_WORK/root.img
e2e_rootdisk_build "$IMG" || die "root disk"
e2e_server_up "$IMG" || die "server side"

# a. The command-line dialect; root=UUID= for initramfs-tools to resolve.
A=$E2E_WORK/a
confdir "$A.conf" || die "CONFDIR a"
itools_mkinitramfs "$A.conf" "$A.initrd" || die "mkinitramfs a"
pass "a: mkinitramfs built $(stat -c %s "$A.initrd") bytes, $(wc -l <"$A.initrd.list") entries"
check_initrd "$A.initrd" a
itools_boot "a: iscsi_target_name= iscsi_target_ip=, root=UUID=" "$A.initrd" \
	"ip=dhcp root=UUID=$E2E_ROOT_UUID iscsi_initiator=$E2E_INITIATOR iscsi_target_name=$E2E_IQN iscsi_target_ip=$E2E_SERVER_IP e2e.daemon=1" 1
e2e_log_has "$E2E_MARK daemon survived signals" && pass "a: the daemon survived run-init and the signals" ||
	fail "a: $(e2e_log_line "$E2E_MARK daemon" || echo 'no daemon line')"

# b. /etc/iscsi/iscsi.initramfs (CONFDIR's copy); no root=, no ip=.
B=$E2E_WORK/b
cat >"$E2E_WORK/iscsi.initramfs" <<-EOF
	# as /etc/iscsi/iscsi.initramfs (open-iscsi's README.Debian)
	ISCSI_INITIATOR=$E2E_INITIATOR
	ISCSI_TARGET_NAME=$E2E_IQN
	ISCSI_TARGET_IP=$E2E_SERVER_IP
	ISCSI_TARGET_PORT=3260
	ISCSI_TARGET_GROUP=1
EOF
confdir "$B.conf" "ISCSIROOT_INITRAMFS_CONF=$B.conf/iscsi.initramfs" || die "CONFDIR b"
cp "$E2E_WORK/iscsi.initramfs" "$B.conf/iscsi.initramfs"
itools_mkinitramfs "$B.conf" "$B.initrd" || die "mkinitramfs b"
pass "b: mkinitramfs built $(stat -c %s "$B.initrd") bytes"
check_initrd "$B.initrd" b
itools_boot "b: /etc/iscsi.initramfs, ROOT from param.conf" "$B.initrd" "" 2

count=$(e2e_rootdisk_boot_count "$IMG")
[ "$count" = 2 ] && pass "the host reads boot count 2 from the image" ||
	fail "the host reads boot count '${count}' from the image"

[ "$FAILS" = 0 ] || { echo "e2e-initramfs-tools: $FAILS check(s) failed"; exit 1; }
echo "e2e-initramfs-tools: all checks passed"
