#!/bin/bash
# SPDX-License-Identifier: MIT
# dracut module: iscsiroot brings the iSCSI root disk up in the initrd in
# place of 95iscsi (open-iscsi's iscsistart/iscsiadm). See hooks/README.md.
# Settings, in any dracut.conf(.d) file:
#   iscsiroot_binary=PATH   the binary to put in the initrd (default: where
#                           meson installed it)
#   iscsiroot_conf=PATH     the target configuration (default
#                           /etc/iscsi/iscsi.initramfs, as initramfs-tools)

iscsiroot_bin() {
    echo "${iscsiroot_binary:-@ISCSIROOT_BINARY@}"
}

# called by dracut
check() {
    require_binaries "$(iscsiroot_bin)" || return 1
    # A host-only initrd gets us when this machine boots from iSCSI: its
    # command line, its iBFT, its initramfs-tools configuration, or a root
    # disk our daemon serves now. A generic one always does: the binary
    # does nothing (exit 6) when no iSCSI root is configured at boot.
    if [[ $hostonly ]]; then
        [[ -d /sys/firmware/ibft ]] && return 0
        [[ -r ${iscsiroot_conf:-/etc/iscsi/iscsi.initramfs} ]] && return 0
        grep -qE '(^| )(root=iscsi:|netroot=iscsi:|rd\.iscsi\.|iscsi_target_name=)' /proc/cmdline &&
            return 0
        "$(iscsiroot_bin)" status > /dev/null 2>&1 && return 0
        return 255
    fi
    return 0
}

# called by dracut
depends() {
    # rootfs-block: root=/dev/...; fs-lib: fsck and its helpers; the NIC
    # drivers (iscsiroot brings the network up itself: no network module)
    echo rootfs-block fs-lib kernel-network-modules
}

# called by dracut
installkernel() {
    # nbd is the root disk's device; ublk_drv where the kernel has it,
    # iscsi_ibft for firmware-configured boots
    hostonly='' instmods nbd
    hostonly='' instmods -o ublk_drv iscsi_ibft
}

# /etc/iscsi/iscsi.initramfs into the initrd as /etc/iscsi.initramfs, with
# /etc/iscsi/initiatorname.iscsi's name when it gives none (as the
# initramfs-tools hook does).
install_conf() {
    local src=${iscsiroot_conf:-/etc/iscsi/iscsi.initramfs} dst=$initdir/etc/iscsi.initramfs name
    [[ -r $src ]] && inst_simple "$src" /etc/iscsi.initramfs
    if ! grep -qs '^[[:space:]]*ISCSI_INITIATOR=' "$dst" && [[ -r /etc/iscsi/initiatorname.iscsi ]]; then
        name=$(sed -n 's/^[[:space:]]*InitiatorName=\([^[:space:]]*\).*/\1/p' \
            /etc/iscsi/initiatorname.iscsi | tail -n 1)
        [[ $name ]] || return 0
        mkdir -p "$initdir/etc"
        {
            echo "ISCSI_INITIATOR=$name"
            [[ -f $dst ]] && cat "$dst"
        } > "$dst.new" && mv "$dst.new" "$dst"
    fi
}

# Two initiators must never log in to one LUN. 50-iscsiroot.conf omits
# 95iscsi; if it was added anyway (add_dracutmodules+=" iscsi "), its
# boot scripts and iscsid's sockets go, and its /sbin/iscsiroot script
# gives way to our binary (we install after it: 95iscsi < 95iscsiroot).
displace_95iscsi() {
    dracut_module_included iscsi || return 0
    dwarning "iscsiroot: module iscsi is included too; removing its boot scripts (iscsiroot logs in)"
    rm -f -- "$initdir/sbin/iscsiroot" "$initdir/usr/sbin/iscsiroot" \
        "$initdir"/lib/dracut/hooks/cmdline/*-parse-iscsiroot.sh \
        "$initdir"/lib/dracut/hooks/cleanup/*-cleanup-iscsi.sh \
        "$initdir/$systemdsystemunitdir"/sockets.target.wants/iscsid.socket \
        "$initdir/$systemdsystemunitdir"/sockets.target.wants/iscsiuio.socket
}

# called by dracut
install() {
    displace_95iscsi
    inst_binary "$(iscsiroot_bin)" /sbin/iscsiroot
    inst_script "$moddir/iscsiroot-up.sh" /sbin/iscsiroot-up
    inst_multiple sed udevadm
    inst_hook cmdline 90 "$moddir/parse-iscsiroot.sh"
    install_conf
    dracut_need_initqueue
}
