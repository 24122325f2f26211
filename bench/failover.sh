#!/bin/bash
# SPDX-License-Identifier: MIT
# Multipath on the host, in network namespaces: two tgtd on two portals
# (a veth link each) serve one tmpfs file under one LUN identity, and
# tests/iscsi/mpath-stress drives the disk over both with verified
# writes and reads (iscsi_mpath_*, the daemon's multipath layer).
#  1. Failover: policy failover; K times the active path is killed
#     during I/O (--kill tgtd: its tgtd gets SIGKILL, so the kernel
#     closes its connections at once; --kill link: our end of its veth
#     goes down, which only the NOP-Out keepalive notices), then
#     brought back and left to rejoin as standby. Failover time: from
#     the kill to the first I/O completing on the other path (p50, p99
#     by nearest rank: with 20 kills p99 is the slowest).
#  2. Throughput: the same verified mix for --seconds on one path, then
#     round-robin over both; MiB/s and their ratio.
# Prints both as tables; exit 1 if any I/O failed or read back wrong.
# Run as root; see bench/README.md.
#
# usage: bench/failover.sh [--kills K] [--kill tgtd|link] [--seconds S]
#                          [--depth Q] [--kib K] [--nop I,T]
#   --kills K    kills of the active path (20)
#   --kill       what kills it (tgtd)
#   --seconds S  each throughput run (10)
#   --depth Q    commands in flight (16); --kib K: largest command (64)
#   --nop I,T    NOP-Out interval and timeout in s (1,3; the daemon's
#                default is 5,10: --kill link then takes ~15 s a kill)
#   ISCSIROOT, MPATH_STRESS  the binaries; unset: build-musl's, after
#                scripts/setup.sh and scripts/build.sh
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
KILLS=20 KILL=tgtd SECONDS_RUN=10 DEPTH=16 KIB=64 NOP=1,3

usage() { sed -n '19,28p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--kills) KILLS=${2:?} ;;
	--kill) KILL=${2:?} ;;
	--seconds) SECONDS_RUN=${2:?} ;;
	--depth) DEPTH=${2:?} ;;
	--kib) KIB=${2:?} ;;
	--nop) NOP=${2:?} ;;
	*) usage ;;
	esac
	shift 2
done
case $KILL in tgtd | link) ;; *) usage ;; esac
[ "$(id -u)" = 0 ] || { echo "failover: run as root (namespaces, tgtd)" >&2; exit 2; }
if [ -z "${ISCSIROOT:-}" ] || [ -z "${MPATH_STRESS:-}" ]; then
	"$top/scripts/setup.sh" && "$top/scripts/build.sh" >&2 || exit 1
	: "${ISCSIROOT:=$top/build-musl/iscsiroot}" "${MPATH_STRESS:=$top/build-musl/tests/iscsi/mpath-stress}"
fi
export ISCSIROOT MPATH_STRESS
[ -x "$MPATH_STRESS" ] || { echo "failover: no $MPATH_STRESS (scripts/build.sh)" >&2; exit 2; }

. "$top/tests/iscsi/lib.sh"
. "$top/tests/iscsi/mpath-lib.sh"

STRESS_ARGS=(-q "$DEPTH" -k "$KIB" -n "${NOP%,*}" -N "${NOP#*,}")
PATHS=(A B)
PORTALS=("${A[1]}:3260" "${B[1]}:3260")
WAIT_S=$((${NOP%,*} + ${NOP#*,} + 30))  # for a failover or a rejoin
BAD=0

mpath_topology A B
truncate -s 256M "$WORK/disk.img"
tgt_in A "$WORK/disk.img" failover-disk
tgt_in B "$WORK/disk.img" failover-disk

# active_path: 1 or 2, the path whose latest event made it active.
active_path() {
	sed -n 's/^event .* path \([12]\) .*-> active$/\1/p' "$WORK/kills.out" | tail -1
}

# kill_path N: the kill, as --kill says.
kill_path() {
	local p=${PATHS[$1 - 1]}
	local -n q=$p
	if [ "$KILL" = tgtd ]; then tgt_crash "$p"; else in_ini ip link set "${q[3]}" down; fi
}

revive_path() {
	local p=${PATHS[$1 - 1]}
	local -n q=$p
	if [ "$KILL" = tgtd ]; then tgt_in "$p" "$WORK/disk.img" failover-disk; else
		in_ini ip link set "${q[3]}" up; fi
}

# 1. The kills.
mpath_stress kills 3600 "${STRESS_ARGS[@]}" "$IQN" 1 "${PORTALS[@]}" ||
	{ echo "failover: mpath-stress did not start" >&2; exit 1; }
wait_line "$WORK/kills.out" 'path 2 .*-> standby$' "$WAIT_S" ||
	{ echo "failover: path 2 never joined" >&2; exit 1; }
: >"$WORK/times"
for k in $(seq 1 "$KILLS"); do
	sleep 1
	act=$(active_path)
	joined=$(grep -cE "^event .* path $act .*-> standby$" "$WORK/kills.out")
	moves=$(grep -c '^failover ' "$WORK/kills.out")
	t_kill=$(now_ms)
	kill_path "$act"
	if ! wait_line "$WORK/kills.out" '^failover ' "$WAIT_S" $((moves + 1)); then
		echo "failover: kill $k: no failover within $WAIT_S s" >&2
		BAD=1
		break
	fi
	line=$(grep '^failover ' "$WORK/kills.out" | sed -n "$((moves + 1))p")
	t_done=$(sed -n 's/.*(epoch_ms \([0-9]*\))$/\1/p' <<<"$line")
	stall=$(sed -n 's/.*: \([0-9]*\) ms from the last.*/\1/p' <<<"$line")
	echo "kill $k: path $act, $((t_done - t_kill)) ms to the first completion on the other path ($stall ms without any)"
	echo "$((t_done - t_kill)) $stall" >>"$WORK/times"
	revive_path "$act"
	# the rejoin: one more "-> standby" of that path than before the kill
	if ! wait_line "$WORK/kills.out" "^event .* path $act .*-> standby$" "$WAIT_S" \
		$((joined + 1)); then
		echo "failover: kill $k: path $act did not rejoin" >&2
		BAD=1
		break
	fi
done
kill -TERM "$STRESS_PID" 2>/dev/null
wait_for "$STRESS_PID" 300 "$(now_ms)"
[ "$WAIT_RC" = 0 ] || BAD=1
summary=$(sed -n 's/^mpath-stress: //p' "$WORK/kills.out")
verified=$(grep '^verified: ' "$WORK/kills.out")

# pct FILE COLUMN P: the P-th percentile by nearest rank.
pct() {
	sort -n -k "$2" "$1" | awk -v c="$2" -v p="$3" '{ v[NR] = $c }
		END { r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r] }'
}

echo
echo "failover: $(wc -l <"$WORK/times") kills ($KILL) of the active path, policy failover," \
	"depth $DEPTH, commands up to $KIB KiB, NOP-Out every ${NOP%,*} s, ${NOP#*,} s timeout"
echo
echo "| measured | p50 ms | p99 ms | max ms |"
echo "|---|---|---|---|"
if [ -s "$WORK/times" ]; then
	echo "| kill to the first completion on the other path | $(pct "$WORK/times" 1 50) |" \
		"$(pct "$WORK/times" 1 99) | $(pct "$WORK/times" 1 100) |"
	echo "| last completion before to first after | $(pct "$WORK/times" 2 50) |" \
		"$(pct "$WORK/times" 2 99) | $(pct "$WORK/times" 2 100) |"
fi
echo
echo "I/O during the kills: ${summary:-none}; ${verified:-not verified}"

# 2. Throughput, one path and then round-robin over both.
run_tp() {
	local name=$1
	shift
	mpath_stress "$name" "$SECONDS_RUN" "${STRESS_ARGS[@]}" "$@" ||
		{ echo "failover: $name did not start" >&2; BAD=1; return; }
	wait_for "$STRESS_PID" $((SECONDS_RUN + 120)) "$STRESS_T0"
	[ "$WAIT_RC" = 0 ] || BAD=1
	sed -n 's/^mpath-stress: .* mib_s \([0-9.]*\)$/\1/p' "$WORK/$name.out"
}
one=$(run_tp one-path "$IQN" 1 "${PORTALS[0]}")
rr=$(run_tp round-robin -P round-robin "$IQN" 1 "${PORTALS[@]}")
echo
echo "| policy | paths | MiB/s (verified ${SECONDS_RUN} s mix) |"
echo "|---|---|---|"
echo "| single | 1 | ${one:-?} |"
echo "| round-robin | 2 | ${rr:-?} |"
if [ -n "$one" ] && [ -n "$rr" ]; then
	echo
	echo "round-robin / one path: $(awk -v a="$rr" -v b="$one" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
fi
for f in kills one-path round-robin; do
	grep -q '^verified: 0 wrong bytes, 0 errors in all' "$WORK/$f.out" 2>/dev/null ||
		{ echo "failover: $f: I/O failed or read back wrong" >&2; tail -5 "$WORK/$f.err" >&2; BAD=1; }
done
exit "$BAD"
