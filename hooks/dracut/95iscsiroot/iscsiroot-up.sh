#!/bin/sh
# SPDX-License-Identifier: MIT
# dracut initqueue job, once udev has settled (interface names final):
# `iscsiroot up` brings the network up, logs in and leaves its daemon
# serving the disk. The daemon is re-executed as "@iscsiroot", which
# systemd spares at switch-root and shutdown; dracut-initqueue.service has
# KillMode=process, so its end does not take the daemon with it. When
# iscsiroot names the root partition, udev links /dev/root to it.

type getarg > /dev/null 2>&1 || . /lib/dracut-lib.sh

mkdir -p /run/initramfs
param=/run/initramfs/iscsiroot.param
rm -f "$param"
# stdout to a file: the daemon keeps no pipe of ours open
/sbin/iscsiroot up --param-conf "$param" > /run/initramfs/iscsiroot.disk
rc=$?
: > /run/initramfs/iscsiroot.done
case $rc in
    0) ;;
    6)
        info "iscsiroot: no iSCSI root configured"
        exit 0
        ;;
    *) die "iscsiroot failed (exit $rc, the reason is above); no iSCSI root disk" ;;
esac

dev=$(sed -n 's|^ROOT=/dev/||p' "$param" 2> /dev/null | sed '$!d')
if [ -n "$dev" ]; then
    echo "SUBSYSTEM==\"block\", KERNEL==\"$dev\", SYMLINK+=\"root\"" \
        > /etc/udev/rules.d/99-iscsiroot-root.rules
    udevadm control --reload
    udevadm trigger --action=change --settle "/sys/class/block/$dev"
    info "iscsiroot: /dev/root is /dev/$dev"
fi
exit 0
