#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/failover.sh in a tiny mode (2 kills of tgtd, 2 s throughput
# runs): each kill moved I/O to the other path (path 1, then path 2) with
# a time in a sane range, the percentiles are ordered, no I/O failed or
# read back wrong, and both throughput runs and their ratio are numbers.
# Numbers are not judged here (bench/README.md has them).
set -u
: "${ISCSIROOT:?ISCSIROOT must name the binary under test}"
: "${MPATH_STRESS:?MPATH_STRESS must name the mpath-stress tool}"
top=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(mktemp /dev/shm/iscsiroot-bench-failover.XXXXXX)
trap 'rm -f "$OUT"' EXIT
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

"$top/bench/failover.sh" --kills 2 --seconds 2 >"$OUT" 2>&1
rc=$?
cat "$OUT"
[ "$rc" = 0 ] && pass "failover.sh exit 0" || fail "failover.sh exit $rc"

# kill K: path P, MS ms ...: the active path alternates, each time within
# 0..30 s (tgtd killed: the connection closes at once)
kills=$(sed -n 's/^kill \([0-9]*\): path \([12]\), \(-\{0,1\}[0-9]*\) ms to the first completion.*/\1 \2 \3/p' "$OUT")
if [ "$kills" != "" ] && awk 'NR == 1 && ($1 != 1 || $2 != 1) { bad = 1 }
	NR == 2 && ($1 != 2 || $2 != 2) { bad = 1 } $3 < 0 || $3 > 30000 { bad = 1 }
	END { exit bad || NR != 2 }' <<<"$kills"; then
	pass "two kills, path 1 then path 2, times $(awk '{ printf "%s ms ", $3 }' <<<"$kills")"
else
	fail "kill lines: ${kills:-none}"
fi

row=$(grep '^| kill to the first completion on the other path |' "$OUT")
if awk -F'|' '{ exit !($3 ~ /^ [0-9]+ $/ && $3 + 0 <= $4 + 0 && $4 + 0 <= $5 + 0) }' <<<"$row"; then
	pass "percentiles ordered: $row"
else
	fail "percentile row: ${row:-none}"
fi

grep -qE '^I/O during the kills: policy failover, 2 paths: ios [1-9][0-9]* .* errors 0 wrong_bytes 0 failovers ([2-9]|[1-9][0-9]+) .*; verified: 0 wrong bytes, 0 errors in all$' "$OUT" &&
	pass "no I/O error, no wrong byte, a failover per kill" ||
	fail "I/O line: $(grep '^I/O during' "$OUT")"

one=$(sed -n 's/^| single | 1 | \([0-9.]*\) |$/\1/p' "$OUT")
rr=$(sed -n 's/^| round-robin | 2 | \([0-9.]*\) |$/\1/p' "$OUT")
ratio=$(sed -n 's/^round-robin \/ one path: \([0-9.]*\)$/\1/p' "$OUT")
if awk -v a="$one" -v b="$rr" -v r="$ratio" 'BEGIN { exit !(a > 0 && b > 0 && r > 0) }'; then
	pass "throughput: one path $one MiB/s, round-robin $rr MiB/s, ratio $ratio"
else
	fail "throughput: '${one}' '${rr}' '${ratio}'"
fi

[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed" >&2; exit 1; }
echo "bench-failover: all checks passed"
