#!/bin/bash
# SendTargets discovery lists every target of the portal with its TPGT.
. "$(dirname "$0")/lib.sh"

tgt_start
tgt_target "$IQN"
truncate -s 8M "$WORK/a.img"
tgt_lun 1 "$WORK/a.img"
TGT_TID=2 tgt_target "$IQN-second"

out=$("$ISCSIROOT" discover -i "$INITIATOR" "127.0.0.1:$TGT_PORT")
rc=$?
[ "$rc" = 0 ] || fail "discover exited $rc"
echo "$out"
grep -qx "127.0.0.1:$TGT_PORT,1 $IQN" <<<"$out" || fail "first target missing"
grep -qx "127.0.0.1:$TGT_PORT,1 $IQN-second" <<<"$out" || fail "second target missing"
[ "$(wc -l <<<"$out")" = 2 ] || fail "expected exactly two lines"
tgtadm_ --op delete --mode target --tid 2 --force
finish
