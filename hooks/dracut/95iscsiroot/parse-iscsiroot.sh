#!/bin/sh
# SPDX-License-Identifier: MIT
# dracut cmdline hook (sourced by dracut-cmdline): when the command line
# (root=iscsi: netroot=iscsi: rd.iscsi.* iscsi_target_name= ip=ibft
# iscsi_auto), /etc/iscsi.initramfs or the iBFT asks for an iSCSI root,
# queues iscsiroot-up for when udev has settled, and with root= naming the
# target (or empty, or dhcp) mounts /dev/root, which iscsiroot-up makes a
# udev link to the partition iscsiroot found.

# /dev/root on /sysroot. Without systemd, dracut's rootfs-block mounts
# root=/dev/root. With it, dracut's rootfs generator ran before this hook
# saw the target, so sysroot.mount is written here as that generator
# writes it, with the device's wait unbounded as rd.timeout (default 0)
# says. (95iscsi calls write_fs_tab instead; Debian's 059 appends the
# fstab line only when /etc/fstab holds it already, and its initrd has no
# /etc/fstab.)
iscsiroot_sysroot_mount() {
    local units=/run/systemd/system flags
    [ -n "$DRACUT_SYSTEMD" ] || return 0
    flags=$(getarg rootflags=)
    if getargbool 0 rw; then flags="rw${flags:+,$flags}"; else flags="ro${flags:+,$flags}"; fi
    mkdir -p "$units/initrd-root-fs.target.requires" "$units/dev-root.device.d"
    {
        echo "[Unit]"
        echo "Before=initrd-root-fs.target"
        echo "Requires=systemd-fsck@dev-root.service"
        echo "After=systemd-fsck@dev-root.service"
        echo "[Mount]"
        echo "What=/dev/root"
        echo "Where=/sysroot"
        echo "Options=$flags"
        echo "Type=$(getarg rootfstype=)"
    } | sed 's/^Type=$/Type=auto/' > "$units/sysroot.mount"
    ln -sf ../sysroot.mount "$units/initrd-root-fs.target.requires/sysroot.mount"
    {
        echo "[Unit]"
        echo "JobTimeoutSec=$(getarg rd.timeout)"
        echo "JobRunningTimeoutSec=$(getarg rd.timeout)"
    } | sed 's/=$/=0/' > "$units/dev-root.device.d/iscsiroot.conf"
    systemctl daemon-reload
    systemctl --no-block start initrd-root-fs.target
}

iscsiroot_wanted() {
    local arg
    [ -f /etc/iscsi.initramfs ] && return 0
    for arg in $(getcmdline); do
        case $arg in
            root=iscsi:* | netroot=iscsi:* | rd.iscsi.* | iscsi_target_name=* | ip=ibft | iscsi_auto | root=dhcp) return 0 ;;
        esac
    done
    modprobe -q iscsi_ibft 2> /dev/null
    [ -d /sys/firmware/ibft/target0 ] || [ -d /sys/firmware/ibft/target1 ]
}

if [ -x /sbin/iscsiroot ] && iscsiroot_wanted; then
    case "$root" in
        iscsi:* | dhcp | "")
            # iscsiroot-up writes the udev rule for /dev/root
            root=/dev/root
            iscsiroot_sysroot_mount
            echo '[ -e /dev/root ]' > "$hookdir"/initqueue/finished/iscsiroot-root.sh
            ;;
    esac
    # The target is ours: no other module acts on it.
    unset netroot
    echo '[ -e /run/initramfs/iscsiroot.done ]' > "$hookdir"/initqueue/finished/iscsiroot.sh
    initqueue --settled --onetime --unique /sbin/iscsiroot-up
    # shellcheck disable=SC2034 # read by dracut-cmdline
    rootok=1
fi
