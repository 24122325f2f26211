#!/bin/bash
# A sparse 3 TiB LUN: 16-byte CDBs, and data past 2 TiB reads back.
. "$(dirname "$0")/lib.sh"

tgt_start
tgt_target
truncate -s 3T "$WORK/big.img"
tgt_lun 1 "$WORK/big.img"
out=$(ir inquiry) || fail "inquiry"
grep -qx "cdb size: 16" <<<"$out" && pass "16-byte CDBs chosen" || fail "not 16-byte CDBs"
grep -q "^size: 3298534883328 bytes" <<<"$out" || fail "wrong size: $(grep ^size <<<"$out")"
head -c 2M /dev/urandom >"$WORK/data"
off=$((5 * 512 * 1024 * 1024 * 1024))  # 2.5 TiB
ir write --offset "$off" <"$WORK/data" || fail "write at 2.5 TiB"
ir read --offset "$off" --length 2M >"$WORK/back" || fail "read at 2.5 TiB"
cmp -s "$WORK/data" "$WORK/back" && pass "data at 2.5 TiB intact" || fail "data at 2.5 TiB differs"
# And on the target's side the bytes landed at that offset.
cmp -s "$WORK/data" <(tail -c +$((off + 1)) "$WORK/big.img" | head -c 2M) ||
	fail "backing file differs at 2.5 TiB"
finish
