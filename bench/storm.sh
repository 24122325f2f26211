#!/bin/bash
# SPDX-License-Identifier: MIT
# Boot storm: N initiators boot at once against one tgtd on 127.0.0.1.
#
# Each initiator is a process of its own with its own initiator name: it
# logs in, probes the LUN as the daemon does, and replays the reads of a
# real boot (bench/storm-trace.txt, recorded by bench/storm-record.sh) at
# the boot's queue depth: `iscsiroot bench --replay`, then, as the peer,
# bench/libiscsi-bench --replay (libiscsi's async API), N of them at once
# too. For each N and client it reports the time from a process's start
# to its last read (p50, p99, max over the processes), login failures and
# retries, tgtd's CPU over the storm (utime+stime from /proc/PID/stat, and
# its main thread's share of the wall time), and fairness (max / median).
# Prints a markdown table and draws p50 and p99 against N with gnuplot.
# Run as root; see bench/README.md.
#
# usage: bench/storm.sh [--n 1,8,16,32,64] [--reps R] [--reads K]
#                       [--trace FILE] [--plot FILE|none] [--tsv FILE]
#   --reps R     storms per N and client (3); percentiles pool the
#                processes of all R, fairness and tgtd CPU are means
#   --reads K    replay only the trace's first K reads (all)
#   --plot FILE  the SVG (default bench/storm.svg); none: no plot
#   --tsv FILE   one line per process: client n rep i rc total_ms
#                login_ms retries recoveries cpu_ms
#   ISCSIROOT    the binary; unset: scripts/setup.sh and scripts/build.sh
#                run first (as scripts/demo.sh does), then build-musl's
#   TGTD_ARGS    more tgtd options, e.g. "--nr_iothreads 4"
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
COUNTS="1 8 16 32 64"
REPS=3
READS=0
TRACE_SRC=$top/bench/storm-trace.txt
PLOT=$top/bench/storm.svg
TSV_OUT=

usage() { sed -n '17,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--n) COUNTS=${2//,/ }; shift ;;
	--reps) REPS=${2:?}; shift ;;
	--reads) READS=${2:?}; shift ;;
	--trace) TRACE_SRC=${2:?}; shift ;;
	--plot) PLOT=${2:?}; shift ;;
	--tsv) TSV_OUT=${2:?}; shift ;;
	*) usage ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "storm: run as root (tgtd needs it)" >&2; exit 2; }
if [ -z "${ISCSIROOT:-}" ]; then
	"$top/scripts/setup.sh" && "$top/scripts/build.sh" >&2 || exit 1
	ISCSIROOT=$top/build-musl/iscsiroot
fi
export ISCSIROOT
[ -x "$ISCSIROOT" ] || { echo "storm: no binary at $ISCSIROOT (run scripts/build.sh)" >&2; exit 2; }
[ -r "$TRACE_SRC" ] || { echo "storm: no trace at $TRACE_SRC" >&2; exit 2; }
for tool in tgtd tgtadm gcc; do
	command -v "$tool" >/dev/null || { echo "storm: $tool is missing" >&2; exit 2; }
done
[ "$PLOT" = none ] || command -v gnuplot >/dev/null ||
	{ echo "storm: gnuplot is missing (scripts/setup.sh installs gnuplot-nox)" >&2; exit 2; }

# tgtd start/stop by PID, WORK on tmpfs and the EXIT trap come from here.
. "$top/tests/iscsi/lib.sh"

TRACE=$WORK/trace.txt
LIBISCSI_BENCH=$WORK/libiscsi-bench
PROCS=$WORK/procs.tsv
RUNS=$WORK/runs.tsv
HZ=$(getconf CLK_TCK)
STORM_TIMEOUT=300       # seconds an initiator may take; then it failed (124)

# The trace, cut to --reads; the LUN's size from its header.
prepare_trace() {
	if [ "$READS" -gt 0 ]; then
		{ grep '^#' "$TRACE_SRC"; grep -v '^#' "$TRACE_SRC" | head -n "$READS"; } >"$TRACE"
	else
		cp "$TRACE_SRC" "$TRACE"
	fi
	CAPACITY=$(sed -n 's/^# capacity=\([0-9]*\).*/\1/p' "$TRACE" | head -1)
	[ -n "$CAPACITY" ] || die "the trace has no '# capacity=' line"
}

# One LUN of the trace's size on tmpfs, written through (reads hit real
# pages), with bench/host.sh's keys for large transfers.
setup_target() {
	tgt_start
	tgt_target
	head -c "$CAPACITY" /dev/zero >"$WORK/lun.img" || die "cannot fill $WORK/lun.img"
	tgt_lun 1 "$WORK/lun.img"
	tgt_param MaxRecvDataSegmentLength 262144
	tgt_param MaxXmitDataSegmentLength 262144
	tgt_param MaxBurstLength 1048576
	tgt_param FirstBurstLength 262144
	tgt_param InitialR2T No
	tgt_param ImmediateData Yes
	tgt_param MaxOutstandingR2T 8
}

# ticks FILE: utime + stime of a /proc stat file.
ticks() { awk '{ print $14 + $15 }' "$1"; }
# host_ticks: "busy total" of all CPUs (/proc/stat; idle and iowait idle).
host_ticks() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i
			   print t - $5 - $6, t }' /proc/stat
}

# field NAME FILE: NAME=value in the file's replay: line.
field() { sed -n "s/^replay: .*\\b$1=\\([^ ]*\\).*/\\1/p" "$2"; }

# retries CLIENT ERRFILE: failed login attempts that were retried.
retries() {
	case $1 in
	iscsiroot) grep -c '; retrying$' "$2" ;;
	libiscsi) sed -n 's/.*login failed after \([0-9]*\) retries.*/\1/p' "$2" |
		grep . || echo 0 ;;
	esac
}

# storm CLIENT N REP: N processes at once; a line per process in PROCS,
# one for the storm in RUNS (wall ms, tgtd's CPU ms, its main thread's,
# how busy all the machine's CPUs were, %).
storm() {
	local client=$1 n=$2 rep=$3 i pids=() rcs=() t0 t1 all0 main0 host0 host1 who dir
	dir=$WORK/run.$client.$n.$rep
	mkdir -p "$dir"
	all0=$(ticks "/proc/$TGT_PID/stat")
	main0=$(ticks "/proc/$TGT_PID/task/$TGT_PID/stat")
	host0=$(host_ticks)
	t0=$(now_ms)
	for i in $(seq 1 "$n"); do
		who=iqn.2025-01.org.iscsiroot:storm-$client-$i
		case $client in
		iscsiroot) timeout "$STORM_TIMEOUT" "$ISCSIROOT" bench -d \
			-p "127.0.0.1:$TGT_PORT" -t "$IQN" -i "$who" -l 1 \
			--replay "$TRACE" >"$dir/$i.out" 2>"$dir/$i.err" & ;;
		libiscsi) timeout "$STORM_TIMEOUT" "$LIBISCSI_BENCH" \
			--portal "127.0.0.1:$TGT_PORT" --target "$IQN" --initiator "$who" \
			--lun 1 --replay "$TRACE" >"$dir/$i.out" 2>"$dir/$i.err" & ;;
		esac
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		rcs+=($?)
	done
	t1=$(now_ms)
	host1=$(host_ticks)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$client" "$n" "$rep" $((t1 - t0)) \
		$((($(ticks "/proc/$TGT_PID/stat") - all0) * 1000 / HZ)) \
		$((($(ticks "/proc/$TGT_PID/task/$TGT_PID/stat") - main0) * 1000 / HZ)) \
		"$(awk -v a="$host0" -v b="$host1" 'BEGIN { split(a, x, " "); split(b, y, " ")
			if (y[2] > x[2]) printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2])
			else print 0 }')" >>"$RUNS"
	for i in $(seq 1 "$n"); do
		local total
		total=$(field total_ms "$dir/$i.out")
		[ "${rcs[$((i - 1))]}" = 0 ] && [ -n "$total" ] || total=-
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$client" "$n" "$rep" \
			"$i" "${rcs[$((i - 1))]}" "$total" "$(field login_ms "$dir/$i.out")" \
			"$(retries "$client" "$dir/$i.err")" \
			"$(field recoveries "$dir/$i.out")" "$(field cpu_ms "$dir/$i.out")" >>"$PROCS"
		[ "$total" != - ] || sed "s/^/storm: $client $n #$i: /" "$dir/$i.err" | tail -3 >&2
	done
}

# summary: per N and client, "n client p50_ms p99_ms max_ms fair fails
# retries recoveries tgtd_cpu_s tgtd_main_pct wall_ms clients_cpu_s
# host_busy_pct".
summary() {
	awk -F'\t' -f - "$RUNS" "$PROCS" <<-'EOF' | sort -k1,1n -k2,2
		function sortn(a, len,   i, j, x) {
			for (i = 2; i <= len; i++) {
				x = a[i]
				for (j = i - 1; j > 0 && a[j] > x; j--)
					a[j + 1] = a[j]
				a[j + 1] = x
			}
		}
		# nearest rank: the smallest value with a share q at or below it
		function rank(a, len, q,   i) {
			i = int(q * len)
			if (i < q * len)
				i++
			return a[i < 1 ? 1 : i]
		}
		FNR == NR {
			k = $2 " " $1
			runs[k]++; wall[k] += $4; cpu[k] += $5
			if ($4 > 0)
				mainpct[k] += 100 * $6 / $4
			busy[k] += $7
			next
		}
		{
			k = $2 " " $1; kr = k " " $3
			seen[k] = 1; retr[k] += $8; rec[k] += $9; ccpu[k] += $10
			if ($6 == "-") { fails[k]++; next }
			t[k, ++m[k]] = $6
			if (!(kr in mr)) { reps[k, ++nreps[k]] = kr }
			u[kr, ++mr[kr]] = $6
		}
		END {
			for (k in seen) {
				len = m[k]
				for (i = 1; i <= len; i++) a[i] = t[k, i]
				sortn(a, len)
				fair = 0
				for (j = 1; j <= nreps[k]; j++) {
					kr = reps[k, j]; lb = mr[kr]
					for (i = 1; i <= lb; i++) b[i] = u[kr, i]
					sortn(b, lb)
					fair += b[lb] / rank(b, lb, 0.5)
				}
				printf "%s %.1f %.1f %.1f %.2f %d %d %d %.2f %.0f %.0f %.2f %.0f\n", k,
				       len ? rank(a, len, 0.5) : -1, len ? rank(a, len, 0.99) : -1,
				       len ? a[len] : -1, nreps[k] ? fair / nreps[k] : 0,
				       fails[k], retr[k], rec[k], cpu[k] / runs[k] / 1000,
				       mainpct[k] / runs[k], wall[k] / runs[k],
				       ccpu[k] / runs[k] / 1000, busy[k] / runs[k]
			}
		}
	EOF
}

# table SUMMARY: markdown, with the ratios to libiscsi.
table() {
	echo "| N | client | p50 ms | p99 ms | max ms | p99/p50 | max/median | login failures | login retries | reconnects | tgtd CPU s | tgtd main thread | clients' CPU s | CPUs busy | storm wall ms | p50, p99 vs libiscsi |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	awk '{ if ($2 == "libiscsi") { l50[$1] = $3; l99[$1] = $4 } row[NR] = $0 }
	END { for (i = 1; i <= NR; i++) { split(row[i], f, " ")
		vs = "—"
		if (f[2] == "iscsiroot" && l50[f[1]] > 0)
			vs = sprintf("%.2f×, %.2f×", f[3] / l50[f[1]], f[4] / l99[f[1]])
		printf "| %d | %s | %.0f | %.0f | %.0f | %.2f | %.2f | %d | %d | %d | %.2f | %d %% | %.2f | %d %% | %.0f | %s |\n",
			f[1], f[2], f[3], f[4], f[5], (f[3] > 0 ? f[4] / f[3] : 0), f[6], f[7], f[8],
			f[9], f[10], f[11], f[13], f[14], f[12], vs } }' "$1"
}

# plot SUMMARY FILE: p50 and p99 against N, both clients.
plot() {
	awk '$2 == "iscsiroot" { a[$1] = $3 " " $4 } $2 == "libiscsi" { b[$1] = $3 " " $4 }
	     END { for (n in a) print n, a[n], (n in b ? b[n] : "NaN NaN") }' "$1" |
		sort -n >"$WORK/plot.dat"
	local reads mib
	reads=$(grep -vc '^#' "$TRACE")
	mib=$(awk '!/^#/ { b += $3 } END { printf "%.1f", b / 1048576 }' "$TRACE")
	gnuplot <<-EOF || die "gnuplot failed"
		set terminal svg size 720,440 dynamic font "sans,12"
		set output "$2"
		set title "Boot storm: $reads reads ($mib MiB) per initiator, one tgtd on loopback"
		set logscale xy
		set xrange [0.8:80]
		set xtics (1, 2, 4, 8, 16, 32, 64)
		set xlabel "initiators booting at once (N)"
		set ylabel "start to last read (ms)"
		set key top left
		set grid
		plot "$WORK/plot.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "iscsiroot p50", \
		     "" using 1:3 with linespoints lw 2 pt 7 dt 2 lc rgb "#1f77b4" title "iscsiroot p99", \
		     "" using 1:4 with linespoints lw 2 pt 5 lc rgb "#d62728" title "libiscsi p50", \
		     "" using 1:5 with linespoints lw 2 pt 5 dt 2 lc rgb "#d62728" title "libiscsi p99"
	EOF
}

prepare_trace
gcc -O2 -Wall -Wextra -Werror -std=gnu11 -o "$LIBISCSI_BENCH" \
	"$top/bench/libiscsi-bench.c" -liscsi || die "cannot build libiscsi-bench"
setup_target
: >"$PROCS"
: >"$RUNS"
order="iscsiroot libiscsi"
for rep in $(seq 1 "$REPS"); do
	for n in $COUNTS; do
		for client in $order; do
			storm "$client" "$n" "$rep"
			sleep 1
		done
		# the other one first next time: drift of the machine evens out
		order=$(echo "$order" | awk '{ print $2, $1 }')
	done
done
summary >"$WORK/summary"
echo "storm: $(grep -vc '^#' "$TRACE") reads per initiator, reps $REPS, tgtd $(tgtd -V 2>&1 | head -1) ${TGTD_ARGS:-}"
table "$WORK/summary"
[ -z "$TSV_OUT" ] || cp "$PROCS" "$TSV_OUT"
[ "$PLOT" = none ] || { plot "$WORK/summary" "$PLOT"; echo "storm: plot in $PLOT"; }
