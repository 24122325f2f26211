#!/bin/bash
# SPDX-License-Identifier: MIT
# The initiator's cost per I/O on the host (issue 6): user-space
# instructions (valgrind --tool=callgrind, total Ir) and system calls
# (strace -c -f, total calls) per 4 KiB I/O of `iscsiroot bench` against
# bench/libiscsi-bench (libiscsi's async API) doing the same I/O, on a
# private tgtd on 127.0.0.1: LUN 1 the null backing store, LUN 2 a tmpfs
# file; random reads and writes at QD1 and QD16. Counts, not times: they
# repeat from run to run.
#
# usage: bench/host-cost.sh [--short SEC] [--long SEC] [--qd N,N] [--profile]
#   --short, --long  the two run lengths (default 1 and 4 s); see below
#   --qd             queue depths (default 1,16)
#   --profile        also callgrind_annotate's top functions and strace's
#                    top system calls of both clients (null LUN, QD16),
#                    with ISCSIROOT_SYMBOLS (an unstripped build of the
#                    same binary) for iscsiroot's function names
# ISCSIROOT  the binary (default build-musl/iscsiroot)
#
# Per I/O, not per run: both clients run for a time, not an I/O count, so
# each configuration runs twice, --short and --long seconds, and the cost
# per I/O is (count_long - count_short) / (ios_long - ios_short). The
# fixed part (start-up, the dynamic loader for libiscsi, login, logout,
# the commands drained at the end) is the same in both runs and drops
# out; it is printed as "fixed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export ISCSIROOT=${ISCSIROOT:-$top/build-musl/iscsiroot}
SHORT=1
LONG=4
QDS=1,16
PROFILE=0
while [ $# -gt 0 ]; do
	case $1 in
	--short) SHORT=${2:?}; shift ;;
	--long) LONG=${2:?}; shift ;;
	--qd) QDS=${2:?}; shift ;;
	--profile) PROFILE=1 ;;
	*) sed -n '11,18s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "host-cost: run as root (tgtd needs it)" >&2; exit 2; }
[ -x "$ISCSIROOT" ] || { echo "host-cost: no binary at $ISCSIROOT" >&2; exit 2; }
for tool in tgtd tgtadm gcc valgrind callgrind_annotate strace; do
	command -v "$tool" >/dev/null || { echo "host-cost: $tool is missing" >&2; exit 2; }
done

# tgtd by PID, WORK on tmpfs, the EXIT trap.
. "$top/tests/iscsi/lib.sh"

LIBISCSI_BENCH=$WORK/libiscsi-bench
RESULTS=$WORK/results.tsv
NULL_LUN=1
FILE_LUN=2

build_client() {
	gcc -O2 -Wall -Wextra -Werror -std=gnu11 -o "$LIBISCSI_BENCH" \
		"$top/bench/libiscsi-bench.c" -liscsi || die "cannot build libiscsi-bench"
}

# bench/host.sh's target: large PDUs, immediate and unsolicited data.
setup_target() {
	tgt_start
	tgt_target
	tgt_lun "$NULL_LUN" nullb --bstype null
	dd if=/dev/zero of="$WORK/lun.img" bs=1M count=256 status=none ||
		die "cannot fill $WORK/lun.img"
	tgt_lun "$FILE_LUN" "$WORK/lun.img"
	tgt_param MaxRecvDataSegmentLength 262144
	tgt_param MaxXmitDataSegmentLength 262144
	tgt_param MaxBurstLength 1048576
	tgt_param FirstBurstLength 262144
	tgt_param InitialR2T No
	tgt_param ImmediateData Yes
	tgt_param MaxOutstandingR2T 8
}

# client WHO BIN LUN PATTERN QD SECS: the command line of one run.
client() {
	local who=$1 bin=$2 lun=$3 pattern=$4 qd=$5 secs=$6
	local args=(--pattern "$pattern" --bs 4096 --qd "$qd" --time "$secs"
		    --lun "$lun" --target "$IQN")
	case $who in
	iscsiroot) echo "$bin" bench -p "127.0.0.1:$TGT_PORT" -i "$INITIATOR" "${args[@]}" ;;
	libiscsi) echo "$LIBISCSI_BENCH" --portal "127.0.0.1:$TGT_PORT" "${args[@]}" ;;
	esac
}

# ios OUTPUT_FILE: the ios= of the client's bench: line.
ios_of() { sed -n 's/^bench: .* ios=\([0-9]*\) .*/\1/p' "$1" | tail -1; }

# measure TOOL WHO LUN PATTERN QD SECS: "IOS COUNT" of one run under
# callgrind (COUNT = total Ir) or strace -c -f (COUNT = total calls).
measure() {
	local tool=$1 who=$2 lun=$3 pattern=$4 qd=$5 secs=$6 out=$WORK/run.out
	local data=$WORK/$tool.$who.$lun.$pattern.$qd.$secs n count
	case $tool in
	callgrind)
		# shellcheck disable=SC2046
		valgrind --tool=callgrind --callgrind-out-file="$data" \
			$(client "$who" "$ISCSIROOT" "$lun" "$pattern" "$qd" "$secs") \
			>"$out" 2>"$out.err"
		count=$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$data" | head -1) ;;
	strace)
		# shellcheck disable=SC2046
		strace -c -f -o "$data" \
			$(client "$who" "$ISCSIROOT" "$lun" "$pattern" "$qd" "$secs") \
			>"$out" 2>"$out.err"
		count=$(awk '$NF == "total" { print $4 }' "$data") ;;
	esac
	n=$(ios_of "$out")
	if [ -z "$n" ] || [ -z "$count" ]; then
		echo "FAILED: $tool $who lun=$lun $pattern qd=$qd ${secs}s:" >&2
		cat "$out" "$out.err" >&2
		return 1
	fi
	echo "$n $count"
}

# per_io TOOL WHO LUN PATTERN QD: a row of results.tsv with the cost per
# I/O from the two run lengths and the fixed part. A load spike on the
# machine can leave the long run with no more I/Os than the short one:
# then the pair runs again (three tries).
per_io() {
	local tool=$1 who=$2 lun=$3 pattern=$4 qd=$5 a b
	for _ in 1 2 3; do
		a=$(measure "$tool" "$who" "$lun" "$pattern" "$qd" "$SHORT") &&
			b=$(measure "$tool" "$who" "$lun" "$pattern" "$qd" "$LONG") ||
			{ FAILS=$((FAILS + 1)); return; }
		[ "${b%% *}" -gt "${a%% *}" ] && break
		echo "  $tool $who lun=$lun $pattern qd=$qd: ${a%% *} then ${b%% *} I/Os; again" >&2
	done
	[ "${b%% *}" -gt "${a%% *}" ] || { FAILS=$((FAILS + 1)); return; }
	awk -v a="$a" -v b="$b" -v t="$tool" -v w="$who" -v l="$lun" -v p="$pattern" \
		-v q="$qd" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		per = (y[2] - x[2]) / (y[1] - x[1])
		printf "%s\t%s\t%s\t%s\t%s\t%.2f\t%.0f\t%d\t%d\n", t, w, l, p, q, per,
		       x[2] - per * x[1], x[1], y[1]
	}' | tee -a "$RESULTS" | awk -F'\t' '{ printf "  %-9s %-9s lun=%s %-9s qd=%-3s per_io=%-9s fixed=%-10s ios=%s/%s\n",
		$1, $2, $3, $4, $5, $6, $7, $8, $9 }'
}

print_table() {
	awk -F'\t' -v null="$NULL_LUN" '
	{
		k = $3 SUBSEP $4 SUBSEP $5
		v[k SUBSEP $1 SUBSEP $2] = $6
		if (!(k in seen)) { seen[k] = 1; order[n++] = k }
	}
	function get(k) { return (k in v) ? v[k] : "-" }
	function ratio(a, b) { return (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.2f", a / b) }
	END {
		printf "%-4s %-9s %-3s | %10s %10s %5s | %9s %9s %5s\n", "lun", "pattern", "qd",
		       "Ir_ours", "Ir_libiscsi", "ratio", "sys_ours", "sys_lib", "ratio"
		for (i = 0; i < n; i++) {
			split(order[i], f, SUBSEP)
			io = get(order[i] SUBSEP "callgrind" SUBSEP "iscsiroot")
			il = get(order[i] SUBSEP "callgrind" SUBSEP "libiscsi")
			so = get(order[i] SUBSEP "strace" SUBSEP "iscsiroot")
			sl = get(order[i] SUBSEP "strace" SUBSEP "libiscsi")
			printf "%-4s %-9s %-3s | %10s %10s %5s | %9s %9s %5s\n",
			       (f[1] == null ? "null" : "file"), f[2], f[3],
			       (io == "-" ? io : sprintf("%.0f", io)), (il == "-" ? il : sprintf("%.0f", il)),
			       ratio(io, il), so, sl, ratio(so, sl)
		}
	}' "$RESULTS"
}

# profile WHO BIN: where the instructions and the system calls go, for
# random reads and writes on the null LUN: callgrind's top functions by
# exclusive Ir at the largest queue depth, divided by the run's I/Os
# (start-up and login included: a few hundred Ir per I/O at most), and
# strace's calls per I/O at each queue depth.
profile() {
	local who=$1 bin=$2 qd pattern data n
	for pattern in randread randwrite; do
		qd=${QDS##*,}
		data=$WORK/profile.$who.$pattern
		# shellcheck disable=SC2046
		valgrind --tool=callgrind --callgrind-out-file="$data.cg" \
			$(client "$who" "$bin" "$NULL_LUN" "$pattern" "$qd" "$LONG") \
			>"$data.out" 2>/dev/null
		n=$(ios_of "$data.out")
		echo
		echo "== $who $pattern 4k qd=$qd, null LUN, ${LONG} s, ios=$n: callgrind, top 15 by exclusive Ir"
		printf '%9s %7s  %s\n' "Ir/IO" "share" "function (object)"
		callgrind_annotate --threshold=100 "$data.cg" 2>/dev/null |
			sed -n '/file:function/,$p' | grep -E '^ *[0-9,]+ \(' | head -15 |
			awk -v n="$n" '{
				ir = $0; sub(/^ */, "", ir); sub(/ .*/, "", ir); gsub(",", "", ir)
				pct = $0; sub(/^[^(]*\( */, "", pct); sub(/%\).*/, "", pct)
				rest = $0; sub(/^[^)]*\) +/, "", rest)
				fn = rest; sub(/ .*/, "", fn); sub(/.*\.\.\//, "", fn)
				obj = ""
				if (rest ~ /\[/) { obj = rest; sub(/.*\[/, "", obj); sub(/\].*/, "", obj); sub(/.*\//, "", obj) }
				printf "%9.0f %6.2f%%  %s (%s)\n", ir / n, pct, fn, obj }'
		for qd in ${QDS//,/ }; do
			# shellcheck disable=SC2046
			strace -c -f -o "$data.st" \
				$(client "$who" "$bin" "$NULL_LUN" "$pattern" "$qd" "$LONG") >"$data.out" 2>/dev/null
			n=$(ios_of "$data.out")
			echo "== $who $pattern 4k qd=$qd, null LUN, ${LONG} s, ios=$n: strace -c -f, calls per I/O"
			awk -v n="$n" '$1 ~ /^[0-9.]+$/ { c = $4; sc = $NF; if (sc == "total") t = c; else printf "%9.3f  %s\n", c / n, sc }
				END { printf "%9.3f  total\n", t / n }' "$data.st" | sort -rn | head -6
		done
	done
}

build_client
setup_target
echo "host-cost: $("$ISCSIROOT" version) ($(file -b "$ISCSIROOT" | cut -d, -f1-2))," \
	"libiscsi $(dpkg-query -W -f '${Version}' libiscsi7 2>/dev/null), tgtd on 127.0.0.1:$TGT_PORT," \
	"$(valgrind --version), strace $(strace -V | sed -n '1s/.*version //p')"
echo "host-cost: runs of $SHORT s and $LONG s, 4 KiB, queue depths $QDS; per_io = the difference"
: >"$RESULTS"
start=$(date +%s)
for lun in "$NULL_LUN" "$FILE_LUN"; do
	for pattern in randread randwrite; do
		for qd in ${QDS//,/ }; do
			for tool in callgrind strace; do
				per_io "$tool" iscsiroot "$lun" "$pattern" "$qd"
				per_io "$tool" libiscsi "$lun" "$pattern" "$qd"
			done
		done
	done
done
echo
print_table
echo
echo "host-cost: Ir = user-space instructions per I/O (callgrind); sys = system calls per I/O" \
	"(strace -c -f); ratio = iscsiroot / libiscsi (goal: <= 0.50); $(($(date +%s) - start)) s"
if [ "$PROFILE" = 1 ]; then
	profile iscsiroot "${ISCSIROOT_SYMBOLS:-$ISCSIROOT}"
	profile libiscsi "$LIBISCSI_BENCH"
fi
[ "$FAILS" = 0 ] || { echo "host-cost: $FAILS run(s) failed" >&2; exit 1; }
