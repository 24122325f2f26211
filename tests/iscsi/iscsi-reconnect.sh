#!/bin/bash
# tgtd is killed and restarted several times, and a connection is dropped
# by the target, during a long write+verify run: the run completes with
# no error and no byte lost, after as many session reinstatements.
. "$(dirname "$0")/lib.sh"

TGT_PORT=$(pick_port)
truncate -s 64M "$WORK/lun1.img"
start_target() {
	tgt_start
	tgt_target
	tgt_lun 1 "$WORK/lun1.img"
}
start_target
"$STRESS" "127.0.0.1:$TGT_PORT" "$IQN" 1 40 16 1024 11 >"$WORK/stress.out" 2>&1 &
STRESS_PID=$!
for round in 1 2 3; do
	sleep 6
	kill -9 "$TGT_PID"
	wait "$TGT_PID" 2>/dev/null
	TGT_PID=
	echo "round $round: tgtd killed"
	sleep 1
	start_target
done
sleep 4
# The target drops the session's connection itself.
sid=$(tgtadm_ --op show --mode conn --tid 1 | sed -n 's/.*Session: *\([0-9]*\).*/\1/p' | head -1)
if [ -n "$sid" ]; then
	tgtadm_ --op delete --mode conn --tid 1 --sid "$sid" --cid 0 &&
		echo "connection of session $sid dropped by the target"
fi
wait "$STRESS_PID"
rc=$?
cat "$WORK/stress.out"
[ "$rc" = 0 ] && pass "no error, no byte lost" || fail "stress run failed (exit $rc)"
rec=$(sed -n 's/.*recoveries=\([0-9]*\).*/\1/p' "$WORK/stress.out")
[ "${rec:-0}" -ge 3 ] && pass "$rec reinstatements" || fail "only ${rec:-0} reinstatements"
# Every reinstatement checked that the LUN is still the same disk, and the
# restarted tgtd's LUN (same backing file) was found to be.
checks=$(sed -n 's/.*identity_checks=\([0-9]*\).*/\1/p' "$WORK/stress.out")
[ "${checks:-0}" -ge "${rec:-1}" ] && grep -q "mismatches=0$" "$WORK/stress.out" &&
	pass "$checks identity checks, no mismatch" ||
	fail "identity checks ${checks:-none} for $rec reinstatements, or a mismatch"
finish
