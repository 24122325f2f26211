#!/bin/bash
# SPDX-License-Identifier: MIT
# What a hand-over between two processes costs in the bench's VM against
# one between two threads (bench/switch-cost.c as the guest's /init, the
# same QEMU, kernel and CPU as bench/vm-fio.sh). It is the measurement
# behind the 4 KiB QD1 row of bench/README.md: a ublk round trip passes
# fio -> daemon -> fio, two switches of address space per I/O, where the
# kernel initiator stays in fio's.
#
# usage: bench/vm-switch.sh [ROUNDS]   (default 2000 round trips a case)
# E2E_KERNEL_VERSION=series (default 6.12, as bench/vm-fio.sh).
set -u
cd "$(dirname "$0")/.."
export E2E_KERNEL_VERSION=${E2E_KERNEL_VERSION:-6.12}
. tests/e2e/lib.sh
ROUNDS=${1:-2000}
case $ROUNDS in ''|*[!0-9]*|0) sed -n '10,11s/^# \{0,1\}//p' "$0" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "vm-switch: run as root" >&2; exit 2; }
command -v musl-gcc >/dev/null || { echo "vm-switch: no musl-gcc" >&2; exit 2; }
PROBE=$E2E_WORK/switch-cost
musl-gcc -O2 -static -Wall -Wextra -Werror -o "$PROBE" bench/switch-cost.c -lpthread ||
	exit 1
e2e_net_up || exit 1
E2E_INITRAMFS_MODULES=virtio_net e2e_make_initramfs "$E2E_WORK/initrd" "$PROBE" || exit 1
e2e_vm_start "$E2E_WORK/initrd" "quiet rdinit=/init -- $ROUNDS" || exit 1
e2e_vm_wait_exit 300 || { e2e_log "vm-switch: the guest did not finish in 300 s"; exit 1; }
grep -o 'SWITCH-COST: .*' "$E2E_VM_LOG" | sed 's/^SWITCH-COST: //' | tr -d '\r'
grep -q 'SWITCH-COST: done' "$E2E_VM_LOG"
