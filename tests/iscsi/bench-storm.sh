#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/storm.sh in a tiny mode (N = 1 and 2, the trace's first 100
# reads): its table, its per-process lines and its plot are well-formed,
# and no initiator failed. Also: a malformed trace is refused before any
# connection. Numbers are not judged here (bench/README.md has them).
set -u
: "${ISCSIROOT:?ISCSIROOT must name the binary under test}"
top=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /dev/shm/iscsiroot-bench-storm.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

printf '# capacity=1048576 block=512\n0 0 4096 1\n5 4096 4096 0\n' >"$WORK/bad.txt"
"$ISCSIROOT" bench -p 127.0.0.1:1 -t iqn.2025-01.org.iscsiroot:none \
	--replay "$WORK/bad.txt" >"$WORK/bad.out" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q 'bad.txt line 3' "$WORK/bad.out"; then
	pass "a malformed trace: exit 2, the line named"
else
	fail "a malformed trace: exit $rc"; cat "$WORK/bad.out" >&2
fi

"$top/bench/storm.sh" --n 1,2 --reps 1 --reads 100 --plot "$WORK/storm.svg" \
	--tsv "$WORK/procs.tsv" >"$WORK/out" 2>"$WORK/err"
rc=$?
cat "$WORK/out"
[ "$rc" = 0 ] && pass "storm.sh exit 0" || { fail "storm.sh exit $rc"; cat "$WORK/err" >&2; }

grep -q '^storm: 100 reads per initiator, reps 1' "$WORK/out" &&
	pass "the header names the trace's 100 reads" || fail "no header line"

# Table rows: | N | client | 14 numbers or ratios |; p50 <= p99 <= max; no
# login failure.
rows=$(grep -E '^\| [0-9]+ \| (iscsiroot|libiscsi) \|' "$WORK/out")
if [ "$(wc -l <<<"$rows")" = 4 ] &&
	awk -F'|' 'NF != 18 || $4 + 0 > $5 + 0 || $5 + 0 > $6 + 0 || $9 + 0 != 0 ||
		   $4 !~ /^ [0-9]+ $/ || $13 !~ /^ [0-9]+ % $/ || $15 !~ /^ [0-9]+ % $/ {
		bad = 1 } END { exit bad }' <<<"$rows"; then
	pass "four table rows (N 1 and 2, both clients), ordered percentiles, no login failure"
else
	fail "table rows malformed:"; echo "$rows" >&2
fi
for n in 1 2; do
	for c in iscsiroot libiscsi; do
		grep -qE "^\| $n \| $c \|" <<<"$rows" || fail "no row for N=$n $c"
	done
done

# Per process: client n rep i rc total_ms login_ms retries recoveries cpu_ms.
if [ "$(wc -l <"$WORK/procs.tsv")" = 6 ] &&
	awk -F'\t' '$5 != 0 || $6 !~ /^[0-9.]+$/ || $7 !~ /^[0-9.]+$/ || $10 !~ /^[0-9.]+$/ {
		bad = 1 } END { exit bad }' "$WORK/procs.tsv"; then
	pass "six processes, each exit 0 with its times"
else
	fail "per-process lines malformed:"; cat "$WORK/procs.tsv" >&2
fi

if grep -q '<svg' "$WORK/storm.svg" 2>/dev/null && grep -q 'iscsiroot p99' "$WORK/storm.svg"; then
	pass "the plot is an SVG with both clients' lines"
else
	fail "no plot"
fi

[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed" >&2; exit 1; }
