#!/bin/sh
# SPDX-License-Identifier: MIT
# dracut cmdline hook (sourced by dracut-cmdline): when the command line
# (root=iscsi: netroot=iscsi: rd.iscsi.* iscsi_target_name= ip=ibft
# iscsi_auto), /etc/iscsi.initramfs or the iBFT asks for an iSCSI root,
# queues iscsiroot-up for when udev has settled, and with root= naming the
# target (or empty, or dhcp) mounts /dev/root, which iscsiroot-up makes a
# udev link to the partition iscsiroot found.

# /dev/root on /sysroot, as dracut's write_fs_tab means to (Debian's
# 059 appends only when /etc/fstab already has the line, and its initrd
# has no /etc/fstab): systemd's fstab generator makes sysroot.mount of it.
iscsiroot_fstab() {
    local flags passno=0
    flags=$(getarg rootflags=)
    flags="ro${flags:+,$flags},x-initrd.mount"
    if getargbool 0 rw; then
        flags="$flags,rw"
        getargbool 0 rd.skipfsck || passno=1
    fi
    grep -qs '^/dev/root /sysroot ' /etc/fstab ||
        echo "/dev/root /sysroot $(getarg rootfstype=) $flags $passno 0" | sed 's/  / auto /' >> /etc/fstab
    if [ -n "$DRACUT_SYSTEMD" ]; then
        systemctl daemon-reload
        systemctl --no-block start initrd-root-fs.target
    fi
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
            iscsiroot_fstab
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
