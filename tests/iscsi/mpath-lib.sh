#!/bin/bash
# SPDX-License-Identifier: MIT
# Shared by mpath-faults.sh and bench/failover.sh (after lib.sh): an
# initiator's network namespace with a veth link to each target's
# namespace, a tgtd in each on its own address, and mpath-stress
# (one disk over those portals, verified I/O) run in the initiator's.
# Everything is stopped by PID and the namespaces deleted (their veth
# ends and iptables rules with them) in the EXIT trap.
: "${MPATH_STRESS:?MPATH_STRESS must name the mpath-stress tool}"

NS=irmp$$
NI=$NS-i
NSES=()
TGTDS=()                # "pid ctl" of every tgtd started
MPATH_PIDS=()           # more processes to stop at the end
declare -A TGT_PID TGT_CTL
# a path: its namespace, the target's address, ours, our device (used
# through namerefs)
# shellcheck disable=SC2034
A=("$NS-a" 10.231.1.1 10.231.1.2 va)
# shellcheck disable=SC2034
B=("$NS-b" 10.231.2.1 10.231.2.2 vb)
# shellcheck disable=SC2034
C=("$NS-c" 10.231.3.1 10.231.3.2 vc)

# tgt_stop PID CTL: tgtd's targets and itself, then KILL if it lingers.
tgt_stop() {
	tgtadm -C "$2" --op update --mode target --tid 1 -n state -v offline >/dev/null 2>&1
	tgtadm -C "$2" --op delete --mode target --tid 1 --force >/dev/null 2>&1
	tgtadm -C "$2" --op delete --mode system >/dev/null 2>&1
	for _ in $(seq 1 20); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	rm -f "/var/run/tgtd/socket.$2" "/var/run/tgtd/socket.$2.lock"
}

mpath_cleanup() {
	local pids pid ctl
	pids=$(jobs -p)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	[ ${#MPATH_PIDS[@]} -gt 0 ] && kill "${MPATH_PIDS[@]}" 2>/dev/null
	for t in "${TGTDS[@]}"; do
		read -r pid ctl <<<"$t"
		tgt_stop "$pid" "$ctl"
	done
	for n in "${NSES[@]}"; do ip netns del "$n" 2>/dev/null; done
	cleanup
}
trap mpath_cleanup EXIT

in_ini() { ip netns exec "$NI" "$@"; }

# mpath_topology PATH...: our namespace and one linked to each PATH
# (A, B, C).
mpath_topology() {
	ip netns add "$NI" || die "netns $NI"
	NSES+=("$NI")
	ip -n "$NI" link set lo up
	for p in "$@"; do
		local -n q=$p
		ip netns add "${q[0]}" || die "netns ${q[0]}"
		NSES+=("${q[0]}")
		ip link add "${q[3]}" netns "$NI" type veth peer name t0 netns "${q[0]}" ||
			die "veth to ${q[0]}"
		ip -n "${q[0]}" addr add "${q[1]}/24" dev t0 &&
			ip -n "${q[0]}" link set t0 up && ip -n "${q[0]}" link set lo up &&
			ip -n "$NI" addr add "${q[2]}/24" dev "${q[3]}" &&
			ip -n "$NI" link set "${q[3]}" up || die "addresses of ${q[0]}"
		unset -n q
	done
}

# tgt_in PATH FILE SERIAL: a tgtd in PATH's namespace on its address,
# target $IQN, LUN 1 = FILE with scsi_id and scsi_sn SERIAL (the LUN's
# identity: the same on two targets makes them paths to one disk).
tgt_in() {
	local -n p=$1
	local file=$2 serial=$3 ctl pid
	for _ in $(seq 1 50); do
		ctl=$((20000 + RANDOM % 10000))  # tgtd takes up to 32767
		[ -e "/var/run/tgtd/socket.$ctl" ] || break
	done
	ip netns exec "${p[0]}" tgtd -f -C "$ctl" --iscsi "portal=${p[1]}:3260" \
		>>"$WORK/tgtd-$1.log" 2>&1 &
	pid=$!
	TGTDS+=("$pid $ctl")
	TGT_PID[$1]=$pid TGT_CTL[$1]=$ctl
	for _ in $(seq 1 50); do
		tgtadm -C "$ctl" --op show --mode system >/dev/null 2>&1 && break
		sleep 0.1
	done
	tgtadm -C "$ctl" --op new --mode target --tid 1 -T "$IQN" &&
		tgtadm -C "$ctl" --op bind --mode target --tid 1 -I ALL &&
		tgtadm -C "$ctl" --op new --mode logicalunit --tid 1 --lun 1 -b "$file" &&
		tgtadm -C "$ctl" --op update --mode logicalunit --tid 1 --lun 1 \
			--params "scsi_id=$serial,scsi_sn=$serial" ||
		{ cat "$WORK/tgtd-$1.log" >&2; die "tgtd in ${p[0]}"; }
}

# tgt_crash PATH: PATH's tgtd killed (SIGKILL: the kernel closes its
# connections at once, as on a crash).
tgt_crash() {
	kill -9 "${TGT_PID[$1]}" 2>/dev/null
	wait "${TGT_PID[$1]}" 2>/dev/null
	rm -f "/var/run/tgtd/socket.${TGT_CTL[$1]}" "/var/run/tgtd/socket.${TGT_CTL[$1]}.lock"
}

# mpath_stress NAME SECONDS ARGS...: mpath-stress in our namespace in
# the background ($STRESS_PID, started at $STRESS_T0), output in
# $WORK/NAME.{out,err}; returns once its region is filled (at most 30 s).
mpath_stress() {
	local name=$1 secs=$2
	shift 2
	ip netns exec "$NI" "$MPATH_STRESS" -t "$secs" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	STRESS_PID=$!
	# shellcheck disable=SC2034  # the callers' wait_for
	STRESS_T0=$(now_ms)
	for _ in $(seq 1 300); do
		grep -q '^filled ' "$WORK/$name.out" && return 0
		kill -0 "$STRESS_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$WORK/$name.out" "$WORK/$name.err" >&2
	return 1
}

# wait_line FILE REGEX SECONDS [N]: until N (1) lines of FILE match (0),
# or SECONDS pass (1).
wait_line() {
	local end=$(($(now_ms) + $3 * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		[ "$(grep -cE "$2" "$1")" -ge "${4:-1}" ] && return 0
		sleep 0.05
	done
	return 1
}
