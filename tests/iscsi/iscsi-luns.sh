#!/bin/bash
# Without -l the tools use the target's first disk LUN, as the daemon
# does: on tgtd LUN 0 is the controller (type 12) and the disks are 1 and
# 2 here, so read, write and bench go to LUN 1. inquiry without -l lists
# the LUNs and describes LUN 1; with -l 0 it describes the controller
# (no READ CAPACITY). A target with no disk LUN: read fails with one line,
# inquiry still lists. (attach needs the nbd module, which this host's
# kernel lacks: tests/e2e boots it.)
. "$(dirname "$0")/lib.sh"

tgt_start
tgt_target
head -c 8M /dev/urandom >"$WORK/lun1.img"
head -c 4M /dev/urandom >"$WORK/lun2.img"
cp "$WORK/lun2.img" "$WORK/lun2.orig"
tgt_lun 1 "$WORK/lun1.img"
tgt_lun 2 "$WORK/lun2.img"

# irx ARGS...: the binary under test against our target, no LUN.
irx() {
	local cmd=$1
	shift
	"$ISCSIROOT" "$cmd" -p "127.0.0.1:$TGT_PORT" -t "$IQN" -i "$INITIATOR" "$@"
}

expect_exit 0 "read without -l" irx read --length 1M
cmp -s "$WORK/out" <(head -c 1M "$WORK/lun1.img") ||
	fail "read without -l did not read LUN 1"
expect_exit 0 "read of the whole first disk without -l" irx read
cmp -s "$WORK/out" "$WORK/lun1.img" || fail "read without -l: not all of LUN 1"

expect_exit 0 "inquiry without -l" irx inquiry
grep -qx "luns: 3" "$WORK/out" || fail "inquiry without -l: not 3 LUNs listed"
grep -qx "  0x0000000000000000: type 12 (storage array controller) IET Controller" \
	"$WORK/out" || fail "inquiry without -l: LUN 0, the controller, not listed"
grep -qx "  0x0001000000000000: type 0 (direct-access block device) IET VIRTUAL-DISK" \
	"$WORK/out" || fail "inquiry without -l: LUN 1 not listed"
grep -q "^  0x0002000000000000: type 0 " "$WORK/out" || fail "inquiry without -l: LUN 2 not listed"
grep -qx "lun: 0x0001000000000000" "$WORK/out" || fail "inquiry without -l: LUN 1 not described"
grep -qx "size: 8388608 bytes (0.01 GiB)" "$WORK/out" || fail "inquiry without -l: no size of LUN 1"
grep -qx "max outstanding r2t: 1" "$WORK/out" || fail "inquiry without -l: no session"

expect_exit 0 "inquiry -l 0 (the controller)" irx inquiry -l 0
grep -qx "lun: 0x0000000000000000" "$WORK/out" || fail "inquiry -l 0: not LUN 0"
grep -qx "device type: 12 (storage array controller)" "$WORK/out" ||
	fail "inquiry -l 0: not the controller's type"
grep -q "^size:\|^luns:" "$WORK/out" && fail "inquiry -l 0: a size or a LUN list"
grep -qx "initial r2t: yes" "$WORK/out" || fail "inquiry -l 0: no session"

expect_exit 0 "inquiry -l 2" irx inquiry -l 2
grep -qx "size: 4194304 bytes (0.00 GiB)" "$WORK/out" || fail "inquiry -l 2: not LUN 2's size"

head -c 4096 /dev/urandom >"$WORK/block"
expect_exit 0 "write without -l" irx write --offset 1M <"$WORK/block"
cmp -s <(tail -c +$((1048576 + 1)) "$WORK/lun1.img" | head -c 4096) "$WORK/block" ||
	fail "write without -l did not write LUN 1"
cp "$WORK/lun1.img" "$WORK/lun1.before"
expect_exit 0 "bench without -l" irx bench --pattern write --time 1 --size 1M
cmp -s <(head -c 1M "$WORK/lun1.img") <(head -c 1M "$WORK/lun1.before") &&
	fail "bench without -l did not write LUN 1"
cmp -s "$WORK/lun2.img" "$WORK/lun2.orig" || fail "write or bench without -l changed LUN 2"

# Only the controller left.
tgtadm_ --op delete --mode logicalunit --tid "$TGT_TID" --lun 1 || die "delete lun 1"
tgtadm_ --op delete --mode logicalunit --tid "$TGT_TID" --lun 2 || die "delete lun 2"
expect_exit 1 "read from a target without a disk LUN" irx read --length 4096
grep -q "the target has no disk LUN" "$WORK/err" || fail "read: no reason given"
[ "$(wc -l <"$WORK/err")" = 1 ] || fail "read without a disk LUN: not one line"
expect_exit 0 "inquiry of a target without a disk LUN" irx inquiry
grep -qx "luns: 1" "$WORK/out" && grep -qx "lun: none (the target has no disk LUN)" "$WORK/out" ||
	fail "inquiry without a disk LUN: no list or no 'lun: none'"
finish
