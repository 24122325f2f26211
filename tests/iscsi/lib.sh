#!/bin/bash
# Shared by the iSCSI integration tests: a private tgtd on 127.0.0.1 with
# its own control port, file LUNs on tmpfs, and cleanup by PID.
# Each test sources this, calls tgt_start, and everything it started is
# stopped by the EXIT trap, even when the test fails.
set -u

: "${ISCSIROOT:?ISCSIROOT must name the binary under test}"
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/dev/shm/iscsiroot-$TEST_NAME.XXXXXX")
IQN=iqn.2025-01.org.iscsiroot:test
INITIATOR=iqn.2025-01.org.iscsiroot:initiator
TGT_PID=
TGT_TID=1
FAILS=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

# expect_exit CODE DESCRIPTION CMD...: runs CMD with its output in
# $WORK/out and $WORK/err, and checks its exit code.
expect_exit() {
	local want=$1 what=$2
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err"
	local rc=$?
	if [ "$rc" = "$want" ]; then pass "$what (exit $rc)"; else
		fail "$what: exit $rc, expected $want"; cat "$WORK/out" "$WORK/err" >&2; fi
}

# tgtd listens on a port of its own; the control socket index is
# derived from it, so parallel tests never share either.
pick_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port"
}

tgt_cleanup() {
	if [ -n "$TGT_PID" ] && kill -0 "$TGT_PID" 2>/dev/null; then
		tgtadm -C "$TGT_CTL" --op update --mode target --tid "$TGT_TID" \
			-n state -v offline >/dev/null 2>&1
		tgtadm -C "$TGT_CTL" --op delete --mode target --tid "$TGT_TID" \
			--force >/dev/null 2>&1
		tgtadm -C "$TGT_CTL" --op delete --mode system >/dev/null 2>&1
		for _ in $(seq 1 20); do
			kill -0 "$TGT_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$TGT_PID" 2>/dev/null
		wait "$TGT_PID" 2>/dev/null
	fi
	TGT_PID=
}

cleanup() {
	local pids
	pids=$(jobs -p)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	tgt_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT

tgtadm_() { tgtadm -C "$TGT_CTL" "$@"; }

# tgt_start: tgtd in the foreground of a background job, ready to serve;
# $TGTD_ARGS adds options (bench/storm.sh: --nr_iothreads N).
tgt_start() {
	TGT_PORT=${TGT_PORT:-$(pick_port)}
	TGT_CTL=$((TGT_PORT % 10000 + 100))
	# shellcheck disable=SC2086
	tgtd -f -C "$TGT_CTL" ${TGTD_ARGS:-} --iscsi portal=${TGT_ADDR:-127.0.0.1}:$TGT_PORT \
		>"$WORK/tgtd.log" 2>&1 &
	TGT_PID=$!
	for _ in $(seq 1 50); do
		tgtadm_ --op show --mode system >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$WORK/tgtd.log" >&2
	die "tgtd did not start"
}

# tgt_target [IQN]: a target that accepts any initiator.
tgt_target() {
	tgtadm_ --op new --mode target --tid "$TGT_TID" -T "${1:-$IQN}" || die "new target"
	tgtadm_ --op bind --mode target --tid "$TGT_TID" -I ALL || die "bind"
}

# tgt_lun LUN FILE [extra tgtadm args...]
tgt_lun() {
	local lun=$1 file=$2
	shift 2
	tgtadm_ --op new --mode logicalunit --tid "$TGT_TID" --lun "$lun" \
		-b "$file" "$@" || die "new lun $lun"
}

tgt_param() {
	tgtadm_ --op update --mode target --tid "$TGT_TID" --name "$1" --value "$2" ||
		die "set $1"
}

# tgt_chap USER PASS: one-way CHAP; tgt_chap_out USER PASS: mutual.
tgt_chap() {
	tgtadm_ --op new --mode account --user "$1" --password "$2" || die "account"
	tgtadm_ --op bind --mode account --tid "$TGT_TID" --user "$1" || die "bind account"
}
tgt_chap_out() {
	tgtadm_ --op new --mode account --user "$1" --password "$2" || die "account"
	tgtadm_ --op bind --mode account --tid "$TGT_TID" --user "$1" --outgoing ||
		die "bind outgoing account"
}

# The standard setup: tgtd, a target and a file LUN 1 of SIZE.
tgt_simple() {
	local size=${1:-64M}
	tgt_start
	tgt_target
	truncate -s "$size" "$WORK/lun1.img"
	tgt_lun 1 "$WORK/lun1.img"
}

# ir ARGS...: the binary under test against our target and LUN 1.
ir() {
	local cmd=$1
	shift
	"$ISCSIROOT" "$cmd" -p "127.0.0.1:$TGT_PORT" -t "$IQN" -i "$INITIATOR" -l 1 "$@"
}

# now_ms: the time in milliseconds (EPOCHREALTIME has six decimals,
# whatever the locale writes between them).
now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((10#$t / 1000))
}

# ms_s MS: milliseconds as seconds with three decimals.
ms_s() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# wait_for PID SECONDS [START_MS]: waits for a background job of this
# shell until SECONDS after START_MS (default: now), then stops it and its
# children (a wrapper's command) by PID, TERM then KILL. WAIT_RC is its
# exit status, 124 when it had to be stopped; WAIT_END_MS when it was seen
# to end (0.1 s resolution).
wait_for() {
	local pid=$1 deadline=$((${3:-$(now_ms)} + $2 * 1000)) kids
	while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do
		sleep 0.1
	done
	WAIT_END_MS=$(now_ms)
	if kill -0 "$pid" 2>/dev/null; then
		kids=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
		kill $kids "$pid" 2>/dev/null
		sleep 0.3
		kill -9 $kids "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		WAIT_RC=124
	else
		wait "$pid"
		WAIT_RC=$?
	fi
}

# proc_mem PID: "VmRSS VmHWM" of a live process, in KiB; nothing once it
# has ended.
proc_mem() {
	awk '$1 == "VmRSS:" { r = $2 } $1 == "VmHWM:" { h = $2 }
	     END { if (h) print r, h }' "/proc/$1/status" 2>/dev/null
}

# watch_mem PID FILE: run in the background, samples proc_mem every 0.1 s
# while PID lives (at most 3 minutes); each line of FILE is "MS RSS HWM",
# MS since the first sample. VmHWM only grows, so the last line holds the
# peak, however short the peak was.
watch_mem() {
	local pid=$1 out=$2 t0 m
	t0=$(now_ms)
	: >"$out"
	for _ in $(seq 1 1800); do
		m=$(proc_mem "$pid")
		[ -n "$m" ] || break
		echo "$(($(now_ms) - t0)) $m" >>"$out"
		sleep 0.1
	done
}

# peak_kib FILE: the largest VmHWM in a watch_mem file (0 if empty).
peak_kib() { awk '$3 > p { p = $3 } END { print p + 0 }' "$1"; }

# fake_accepts LOG: the connections fake-target.py accepted, by its log;
# fake_accept_times LOG: when (seconds since the fake started), one a line.
fake_accepts() { grep -c "accepted from" "$1"; }
fake_accept_times() { sed -n 's/^\[ *\([0-9.]*\)\] conn [0-9]*: accepted from.*/\1/p' "$1"; }

# fake_launch LOG PORT ARGS...: fake-target.py on PORT in the background,
# its output in LOG; returns once it listens, its PID in LAUNCHED_PID.
fake_launch() {
	local log=$1 port=$2
	shift 2
	python3 "$(dirname "${BASH_SOURCE[0]}")/fake-target.py" "$port" "$@" >"$log" 2>&1 &
	LAUNCHED_PID=$!
	for _ in $(seq 1 50); do
		grep -qx listening "$log" && return 0
		sleep 0.1
	done
	cat "$log" >&2
	die "the fake target on port $port did not start"
}

finish() {
	if [ "$FAILS" -gt 0 ]; then
		echo "$TEST_NAME: $FAILS check(s) failed"
		exit 1
	fi
	echo "$TEST_NAME: all checks passed"
	exit 0
}
