#!/bin/bash
# SPDX-License-Identifier: MIT
# One boot by hand, console shown live: the lab's disk served by tgtd in a
# namespace of its own, the VM booted once, everything removed at the end.
# usage: tests/e2e/boot-once.sh [--iscsiroot BINARY] [--keep] [KEY=VALUE...]
#   default: the baseline initramfs (busybox + iscsistart)
#   --iscsiroot BINARY   iscsiroot's initramfs, BINARY as /init
#   --keep               keep the work directory (console log, image)
#   KEY=VALUE...         added to the kernel command line (e2e.trace=1,
#                        e2e.stress=SECS, root=UUID=…)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/baseline.sh"

BIN=
while [ $# -gt 0 ]; do
	case $1 in
	--iscsiroot) BIN=$2; shift ;;
	--keep) E2E_KEEP=1 ;;
	-h | --help) sed -n '3,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) break ;;
	esac
	shift
done

e2e_kernel_find || exit 1
e2e_rootdisk_build "$E2E_WORK/root.img" || exit 1
e2e_server_up "$E2E_WORK/root.img" || exit 1
if [ -n "$BIN" ]; then
	e2e_make_initramfs "$E2E_WORK/initrd" "$BIN" || exit 1
	APPEND="quiet panic=-1 ip=dhcp rd.iscsi.initiator=$E2E_INITIATOR"
	APPEND+=" netroot=$(e2e_root_path) e2e.rootdev=/dev/nbd0p1"
else
	baseline_make_initramfs "$E2E_WORK/initrd" || exit 1
	APPEND=$(baseline_append dhcp)
fi
[ $# -eq 0 ] || APPEND+=" $*"
echo "initramfs $(stat -c %s "$E2E_WORK/initrd") bytes; kernel $E2E_KERNEL"
echo "append: console=ttyS0 $APPEND"
E2E_VM_SHOW=1 e2e_vm_boot "$E2E_WORK/initrd" "$APPEND" 300
rc=$?
echo "---"
if t=$(e2e_log_time "$E2E_MARK init reached"); then
	echo "QEMU start -> init marker: $t s (host), $(e2e_marker_uptime) s guest uptime"
fi
echo "boot count on the disk: $(e2e_rootdisk_boot_count "$E2E_WORK/root.img")"
[ "$rc" = 0 ] && echo "the VM powered off by itself" || echo "the VM was killed after 300 s"
[ -z "${E2E_KEEP:-}" ] || echo "console log: $E2E_VM_LOG"
exit "$rc"
