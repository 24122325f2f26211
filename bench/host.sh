#!/bin/bash
# SPDX-License-Identifier: MIT
# Host benchmark: `iscsiroot bench` against libiscsi on the same tgtd LUNs.
#
# Starts a private tgtd on 127.0.0.1 (own port, own control port) with two
# LUNs, tuned for large PDUs: LUN 1 on the null backing store, LUN 2 a
# 1 GiB file on tmpfs. For each LUN and workload (1 MiB sequential read and
# write, 4 KiB random read and write, each at QD1 and QD32) it runs, one
# after the other, iscsiroot bench and bench/libiscsi-bench (libiscsi's
# async API, built here with gcc), plus libiscsi's own iscsi-perf for the
# reads, then prints a table. Run as root; see bench/README.md.
#
# usage: bench/host.sh [--quick] [--time SEC] [--ramp SEC] [--reps N]
#   ISCSIROOT  the binary to measure (default: build-musl/iscsiroot, the
#              static musl release build from scripts/build.sh)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export ISCSIROOT=${ISCSIROOT:-$top/build-musl/iscsiroot}
RUN_SECONDS=5
RAMP=1
REPS=2

usage() { sed -n '13,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--quick) RUN_SECONDS=1; RAMP=0; REPS=1 ;;
	--time) RUN_SECONDS=${2:?}; shift ;;
	--ramp) RAMP=${2:?}; shift ;;
	--reps) REPS=${2:?}; shift ;;
	*) usage ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "bench: run as root (tgtd needs it)" >&2; exit 2; }
[ -x "$ISCSIROOT" ] || { echo "bench: no binary at $ISCSIROOT (run scripts/build.sh)" >&2; exit 2; }
for tool in tgtd tgtadm iscsi-perf gcc /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done

# tgtd start/stop by PID, WORK on tmpfs and the EXIT trap come from here.
. "$top/tests/iscsi/lib.sh"

LIBISCSI_BENCH=$WORK/libiscsi-bench
RESULTS=$WORK/results.tsv
NULL_LUN=1
FILE_LUN=2

build_client() {
	gcc -O2 -Wall -Wextra -Werror -std=gnu11 -o "$LIBISCSI_BENCH" \
		"$top/bench/libiscsi-bench.c" -liscsi || die "cannot build libiscsi-bench"
}

# RFC 7143 keys for large transfers; tgtd's defaults are 8 KiB PDUs,
# InitialR2T=Yes and one outstanding R2T.
setup_target() {
	tgt_start
	tgt_target
	tgt_lun "$NULL_LUN" nullb --bstype null
	# Written through once, so reads hit real tmpfs pages, not holes.
	head -c 1G /dev/zero >"$WORK/lun.img" || die "cannot fill $WORK/lun.img"
	tgt_lun "$FILE_LUN" "$WORK/lun.img"
	tgt_param MaxRecvDataSegmentLength 262144
	tgt_param MaxXmitDataSegmentLength 262144
	tgt_param MaxBurstLength 1048576
	tgt_param FirstBurstLength 262144
	tgt_param InitialR2T No
	tgt_param ImmediateData Yes
	tgt_param MaxOutstandingR2T 8
}

tgt_ticks() { awk '{ print $14 + $15 }' "/proc/$TGT_PID/stat"; }

# field NAME LINE: the value of NAME=... in a bench: line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# record LUN PATTERN BS QD WHO LINE TGT_PCT: one row of results.tsv.
record() {
	local line=$6
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
		"$5" "$(field iops "$line")" "$(field mib_s "$line")" \
		"$(field cpu_us_per_io "$line")" "$(field lat_us_p50 "$line")" "$7" \
		"$(field recoveries "$line")" >>"$RESULTS"
}

# run_one LUN PATTERN BS QD WHO: one measured run, logged and recorded.
run_one() {
	local lun=$1 pattern=$2 bs=$3 qd=$4 who=$5 out line t0 t1 k0 k1 pct
	local args=(--pattern "$pattern" --bs "$bs" --qd "$qd" --time "$RUN_SECONDS"
		    --ramp "$RAMP" --lun "$lun" --target "$IQN")
	k0=$(tgt_ticks)
	t0=$(date +%s%N)
	case $who in
	iscsiroot)
		out=$("$ISCSIROOT" bench -p "127.0.0.1:$TGT_PORT" -i "$INITIATOR" \
			"${args[@]}" 2>&1) ;;
	libiscsi)
		out=$("$LIBISCSI_BENCH" --portal "127.0.0.1:$TGT_PORT" "${args[@]}" 2>&1) ;;
	iscsi-perf)
		out=$(run_iscsi_perf "$lun" "$pattern" "$bs" "$qd") ;;
	esac
	t1=$(date +%s%N)
	k1=$(tgt_ticks)
	line=$(grep '^bench: ' <<<"$out" | tail -1)
	if [ -z "$line" ]; then
		echo "FAILED: $who $pattern bs=$bs qd=$qd lun=$lun:" >&2
		echo "$out" >&2
		FAILS=$((FAILS + 1))
		return
	fi
	pct=$(awk -v k="$((k1 - k0))" -v ns="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.0f", k / hz / (ns / 1e9) * 100 }')
	printf '%-10s lun=%s tgtd_cpu_pct=%s %s\n' "$who" "$lun" "$pct" "${line#bench: }"
	record "$lun" "$pattern" "$bs" "$qd" "$who" "$line" "$pct"
}

# iscsi-perf reports only "iops average N"; CPU comes from /usr/bin/time
# (its whole run, login included). Its output is turned into a bench: line.
run_iscsi_perf() {
	local lun=$1 pattern=$2 bs=$3 qd=$4 out iops cpu random=()
	[ "$pattern" = randread ] && random=(-r)
	out=$(/usr/bin/time -f 'cpu_s=%U+%S' -o "$WORK/time" iscsi-perf -i "$INITIATOR" \
		-m "$qd" -b "$((bs / 512))" -t "$RUN_SECONDS" "${random[@]}" \
		"iscsi://127.0.0.1:$TGT_PORT/$IQN/$lun" 2>&1 | tr '\r' '\n')
	iops=$(sed -n 's/^iops average \([0-9]*\).*/\1/p' <<<"$out" | tail -1)
	if [ -z "$iops" ]; then
		echo "$out"
		return
	fi
	cpu=$(awk -F'[=+]' '/^cpu_s=/ { print $2 + $3 }' "$WORK/time")
	awk -v iops="$iops" -v t="$RUN_SECONDS" -v cpu="$cpu" -v bs="$bs" \
		-v p="$pattern" -v qd="$qd" 'BEGIN {
		ios = iops * t
		printf "bench: pattern=%s bs=%d qd=%d ios=%d seconds=%d iops=%d " \
		       "mib_s=%.1f lat_us_p50=- cpu_us_per_io=%.2f\n", p, bs, qd, ios, t,
		       iops, iops * bs / 1048576, ios ? cpu * 1e6 / ios : 0 }'
}

WORKLOADS=(
	"read 1048576 1" "read 1048576 32" "write 1048576 1" "write 1048576 32"
	"randread 4096 1" "randread 4096 32" "randwrite 4096 1" "randwrite 4096 32"
)

# Contenders alternate their order from one repetition to the next, so a
# slow spell on this shared machine does not always hit the same one.
run_all() {
	local rep lun w who order
	for rep in $(seq 1 "$REPS"); do
		order="iscsiroot libiscsi"
		[ $((rep % 2)) = 0 ] && order="libiscsi iscsiroot"
		for lun in "$NULL_LUN" "$FILE_LUN"; do
			for w in "${WORKLOADS[@]}"; do
				set -- $w
				for who in $order; do
					run_one "$lun" "$1" "$2" "$3" "$who"
				done
				case $1 in
				read | randread) run_one "$lun" "$1" "$2" "$3" iscsi-perf ;;
				esac
			done
		done
	done
}

# The best of the repetitions for each contender (noise only slows a run
# down); the null-LUN ceiling is the best any client got from that LUN.
print_table() {
	awk -F'\t' -v null="$NULL_LUN" '
	function key(l, p, b, q) { return l SUBSEP p SUBSEP b SUBSEP q }
	{
		k = key($1, $2, $3, $4) SUBSEP $5
		v = $3 >= 1048576 ? $7 : $6
		if (!(k in best) || v > best[k]) {
			best[k] = v; cpu[k] = $8; p50[k] = $9; tgt[k] = $10
			shown[k] = v ($11 > 0 ? "*" : "")
		}
		if ($1 == null) {
			c = $2 SUBSEP $3 SUBSEP $4
			if (!(c in ceil) || v > ceil[c]) ceil[c] = v
		}
		if (!(key($1, $2, $3, $4) in seen)) {
			seen[key($1, $2, $3, $4)] = 1; order[n++] = key($1, $2, $3, $4)
		}
	}
	function get(a, k) { return (k in a) ? a[k] : "-" }
	function ratio(a, b) { return (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.2f", a / b) }
	END {
		printf "%-4s %-9s %-5s %-4s %-6s %10s %10s %6s %10s %8s %8s %6s %6s %8s\n",
		       "lun", "pattern", "bs", "qd", "unit", "iscsiroot", "libiscsi",
		       "ratio", "iscsi-perf", "cpu_ours", "cpu_lib", "cpu_r",
		       "tgtd%", "of_ceil"
		for (i = 0; i < n; i++) {
			split(order[i], f, SUBSEP)
			o = order[i] SUBSEP "iscsiroot"; l = order[i] SUBSEP "libiscsi"
			ip = order[i] SUBSEP "iscsi-perf"
			c = f[2] SUBSEP f[3] SUBSEP f[4]
			big = f[3] >= 1048576
			printf "%-4s %-9s %-5s %-4s %-6s %10s %10s %6s %10s %8s %8s %6s %6s %8s\n",
			       (f[1] == null ? "null" : "file"), f[2],
			       (big ? f[3] / 1048576 "M" : f[3] / 1024 "k"), f[4],
			       (big ? "MiB/s" : "IOPS"), get(shown, o), get(best, l),
			       ratio(get(best, o), get(best, l)), get(best, ip), get(cpu, o),
			       get(cpu, l), ratio(get(cpu, o), get(cpu, l)), get(tgt, o),
			       ratio(get(best, o), get(ceil, c))
		}
	}' "$RESULTS"
}

build_client
setup_target
echo "bench: $("$ISCSIROOT" version) ($(file -b "$ISCSIROOT" | cut -d, -f1-2))"
echo "bench: tgtd $(tgtd --version 2>&1 | head -1) on 127.0.0.1:$TGT_PORT, libiscsi $(dpkg-query -W -f '${Version}' libiscsi7 2>/dev/null)"
echo "bench: ${RUN_SECONDS}s runs after ${RAMP}s ramp, $REPS repetition(s), $(nproc) CPUs ($(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1))"
: >"$RESULTS"
start=$(date +%s)
run_all
echo
print_table
echo
echo "bench: finished in $(($(date +%s) - start)) s; unit is MiB/s for 1M, IOPS for 4k;" \
	"cpu_* in us per I/O; tgtd% is tgtd's CPU during the iscsiroot run;" \
	"of_ceil is iscsiroot over the best any client got from the null LUN;" \
	"* marks a run in which iscsiroot's session reconnected"
[ "$FAILS" = 0 ] || { echo "bench: $FAILS run(s) failed" >&2; exit 1; }
