#!/bin/bash
# The main job: a VM boots Linux from an iSCSI disk that this script serves
# itself, with iscsiroot as the only program of its initramfs. It builds
# everything, creates a network namespace with a bridge, tgtd (the disk)
# and dnsmasq (DHCP), then boots Debian's kernel in QEMU (software
# emulation, tap networking inside the namespace) and shows the console.
# The guest's init proves the root is on the iSCSI disk, writes a file and
# powers off; the script then reads that file back out of the disk image.
# Everything it started is stopped by PID and the namespace is removed.
set -u
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 1
scripts/build.sh || exit 1
. tests/e2e/lib.sh

step() { printf '\n== %s\n' "$*" >&2; }

step "building the root disk image and the initramfs"
e2e_kernel_find || exit 1
e2e_rootdisk_build "$E2E_WORK/root.img" 64 || exit 1
e2e_make_initramfs "$E2E_WORK/initrd" build-musl/iscsiroot || exit 1
echo "kernel $E2E_KERNEL; initramfs $(stat -c %s "$E2E_WORK/initrd") bytes:" \
	"the static iscsiroot ($(stat -c %s build-musl/iscsiroot) bytes) and" \
	"$E2E_MODULES_ISCSIROOT modules" >&2

step "serving it: a network namespace with a bridge, tgtd and dnsmasq"
e2e_server_up "$E2E_WORK/root.img" || exit 1
echo "namespace $E2E_NS: tgtd on $E2E_SERVER_IP:3260 serves $E2E_IQN LUN 1" >&2

append="quiet panic=-1 ip=dhcp netroot=iscsi:$E2E_SERVER_IP::3260:1:$E2E_IQN"
append+=" rd.iscsi.initiator=$E2E_INITIATOR e2e.rootdev=/dev/nbd0p1"
step "booting: qemu -kernel … -append '$append'"
E2E_VM_SHOW=1 e2e_vm_boot "$E2E_WORK/initrd" "$append" 300 || {
	echo "the VM did not power off in time" >&2
	exit 1
}

step "after power-off, on the server: the guest's boot counter in the image"
echo "boot count written by the guest: $(e2e_rootdisk_boot_count "$E2E_WORK/root.img")" >&2
e2e_log_has "$E2E_MARK root on /dev/nbd0p1" || { echo "root was not on the iSCSI disk" >&2; exit 1; }
echo "booted from iSCSI: init reached $(e2e_marker_uptime) s after the kernel started" >&2
