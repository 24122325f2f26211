#!/bin/bash
# At least 64 commands on the wire at once, all verified.
. "$(dirname "$0")/lib.sh"

tgt_simple 128M
out=$("$STRESS" "127.0.0.1:$TGT_PORT" "$IQN" 1 8 96 64 7 2>&1)
rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "stress at queue depth 96 failed"
max=$(sed -n 's/.*max_inflight=\([0-9]*\).*/\1/p' <<<"$out")
[ "${max:-0}" -ge 64 ] && pass "max in flight $max" || fail "only ${max:-0} commands in flight"
finish
