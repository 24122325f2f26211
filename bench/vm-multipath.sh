#!/bin/bash
# SPDX-License-Identifier: MIT
# Round-robin against one path, in the VM (issue 13 item 9): the lab of
# tests/e2e/multipath.sh (tgtd on both addresses of the lab bridge, each a
# path), booted with iscsiroot as /init, policy failover (one path carries
# every command) and then round-robin (commands spread over both); in
# each boot the guest reads 192 MiB of the whole disk (a 256 MiB LUN) with O_DIRECT, 1 MiB
# at a time, three times (tests/e2e/root-init.sh, e2e.readbench). Prints
# each boot's best MiB/s and the ratio round-robin / failover. The order
# of the two is reversed every other round.
#
# usage: bench/vm-multipath.sh [-n ROUNDS]   (as root; default 2 rounds)
# ISCSIROOT=path of the static binary (default build-musl/iscsiroot);
# E2E_BLOCKDEV=ublk for ublk on 6.12 (default NBD on 6.1).
set -u
cd "$(dirname "$0")/.."
. tests/e2e/lib.sh

ROUNDS=2
[ "${1:-}" = -n ] && ROUNDS=$2
BIN=$(readlink -f "${ISCSIROOT:-build-musl/iscsiroot}")
MIB=192
SECOND_IP=10.99.0.3
export E2E_TGT_PORTAL=0.0.0.0:3260
[ "$(id -u)" = 0 ] || { echo "vm-multipath: run as root" >&2; exit 2; }
e2e_iscsiroot_blockdev
e2e_kernel_find || exit 1
e2e_rootdisk_build "$E2E_WORK/root.img" 256 || exit 1
e2e_server_up "$E2E_WORK/root.img" || exit 1
e2e_nsexec ip addr add "$SECOND_IP/$E2E_PREFIX" dev br0 || exit 1
e2e_make_initramfs "$E2E_WORK/initrd" "$BIN" || exit 1
BASE="$BASE e2e.rootdev=${DISK}p1 e2e.readbench=$MIB"
BASE="$BASE netroot=iscsi:$E2E_SERVER_IP::3260:1:$E2E_IQN netroot=iscsi:$SECOND_IP::3260:1:$E2E_IQN"

# best_mibs POLICY: boots once with that policy, prints the best of the
# three reads in MiB/s (two decimals), or fails.
best_mibs() {
	local cs
	e2e_vm_boot "$E2E_WORK/initrd" "$BASE iscsiroot.multipath=$1" 300 || return 1
	e2e_log_has "2 paths to the disk, policy $1" || { echo "vm-multipath: policy $1 not taken" >&2; return 1; }
	cs=$(grep -a "$E2E_MARK readbench round=" "$E2E_VM_LOG" | sed -n 's/.* cs=\([0-9]*\).*/\1/p' |
		sort -n | head -1)
	[ -n "$cs" ] && [ "$cs" -gt 0 ] || { echo "vm-multipath: no readbench line" >&2; return 1; }
	awk -v m="$MIB" -v cs="$cs" 'BEGIN { printf "%.2f\n", m * 100 / cs }'
}

printf '%-6s %-12s %-12s %s\n' round failover round-robin ratio
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		fo=$(best_mibs failover) && rr=$(best_mibs round-robin) || exit 1
	else
		rr=$(best_mibs round-robin) && fo=$(best_mibs failover) || exit 1
	fi
	printf '%-6s %-12s %-12s %s\n' "$r" "$fo MiB/s" "$rr MiB/s" \
		"$(awk -v a="$rr" -v b="$fo" 'BEGIN { printf "%.2fx", a / b }')"
done
echo "vm-multipath: $(basename "$BIN") on ${E2E_BLOCKDEV:-nbd}, kernel ${E2E_KERNEL_VERSION:-6.1}, $MIB MiB O_DIRECT reads, best of 3 per boot"
