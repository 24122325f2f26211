#!/bin/bash
# One root disk over two paths (issue 13), iscsiroot as /init: tgtd
# listens on both addresses of the lab bridge, each a path.
#  1. Degraded boot: the first path's portal refuses connections; the
#     machine boots on the second, and the first keeps being retried.
#  2. Failover: both paths up (policy failover), the guest writes and
#     verifies while the active path's address vanishes from the bridge
#     for 25 s: the commands in flight move to the other path, no I/O
#     error, no wrong byte; the path comes back as standby.
#  3. Round-robin: writes and verifies spread over both paths while one
#     of them goes away and comes back.
#  4. A flapping path: its address leaves and comes back every 2 s for
#     30 s while both paths carry verified writes.
#  5. tgtd killed (both paths at once) and started again 3 s later.
# usage: multipath.sh ISCSIROOT_STATIC_BINARY   (E2E_BLOCKDEV=ublk: ublk;
#        E2E_MP_CASES="1 2 5": only those cases, default all)
. "$(dirname "$0")/lib.sh"

BIN=${1:?usage: $0 ISCSIROOT_STATIC_BINARY}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); e2e_console_dump 60; }
pass() { echo "ok: $*"; }
# want N: case N is among $E2E_MP_CASES
want() { [[ " ${E2E_MP_CASES:-1 2 3 4 5} " == *" $1 "* ]]; }

SECOND_IP=10.99.0.3
export E2E_TGT_PORTAL=0.0.0.0:3260
e2e_iscsiroot_blockdev
# loglevel=7: the daemon's lines (kernel log) show on the console
BASE="$BASE e2e.rootdev=${DISK}p1 loglevel=7"
P1="netroot=iscsi:$E2E_SERVER_IP::3260:1:$E2E_IQN"
P2="netroot=iscsi:$SECOND_IP::3260:1:$E2E_IQN"
DEAD="netroot=iscsi:$E2E_SERVER_IP::3261:1:$E2E_IQN"

e2e_kernel_find || exit 1
# the binary in the root too, for e2e.status
E2E_ROOT_EXTRA="$BIN:sbin/iscsiroot" e2e_rootdisk_build "$E2E_WORK/root.img" 64 || exit 1
e2e_server_up "$E2E_WORK/root.img" || exit 1
# Either address may go while the other stays: without promotion, taking
# the bridge's first address away would take the second (and the
# subnet's route) with it.
e2e_nsexec sysctl -qw net.ipv4.conf.br0.promote_secondaries=1 || exit 1
e2e_nsexec ip addr add "$SECOND_IP/$E2E_PREFIX" dev br0 || exit 1
e2e_make_initramfs "$E2E_WORK/initrd" "$BIN" || exit 1

# clean_end WHAT: the VM powered off by itself after its writes, with the
# data verified and no I/O error.
clean_end() {
	local what=$1
	e2e_log_has "$E2E_MARK init reached" || { fail "$what: init not reached"; return 1; }
	e2e_log_has "$E2E_MARK root on ${DISK}p1" || { fail "$what: root not on ${DISK}p1"; return 1; }
	e2e_log_has "$E2E_MARK kernel io errors 0" || { fail "$what: kernel I/O errors"; return 1; }
	e2e_log_has "Kernel panic" && { fail "$what: kernel panic"; return 1; }
	return 0
}

# 1. Degraded boot.
if ! want 1; then
	:
elif e2e_vm_boot "$E2E_WORK/initrd" "$BASE $DEAD $P2" 180 && clean_end "degraded boot"; then
	e2e_log_has "logged in to $E2E_IQN at $SECOND_IP:3260" &&
		pass "degraded boot: the second path serves (init at $(e2e_marker_uptime) s)" ||
		fail "degraded boot: not served through $SECOND_IP"
	e2e_log_has "2 paths to the disk, policy failover" && pass "degraded boot: both paths kept" ||
		fail "degraded boot: the dead path was dropped"
else
	fail "degraded boot: the VM did not boot and power off"
fi

# cut_path IP SECONDS: the address leaves the bridge (the path's packets
# go nowhere, as on a pulled cable), then comes back.
cut_path() {
	e2e_nsexec ip addr del "$1/$E2E_PREFIX" dev br0 || fail "cannot take $1 away"
	sleep "$2"
	e2e_nsexec ip addr add "$1/$E2E_PREFIX" dev br0 || fail "cannot put $1 back"
}

# writes_across_cut WHAT APPEND IP: stress writes while IP's path is cut
# for 25 s; the data must verify and no I/O error may reach the kernel.
# IP "active": the path the daemon serves from (both log in at once: the
# first to answer serves), found in its "logged in" line. Sets CUT_IP.
writes_across_cut() {
	local what=$1
	e2e_vm_start "$E2E_WORK/initrd" "$BASE $2 e2e.stress=60 e2e.status=1"
	if ! e2e_vm_wait_marker "$E2E_MARK boot count" 150; then
		fail "$what: the stress boot did not start"
		e2e_vm_kill
		return 1
	fi
	CUT_IP=$3
	if [ "$CUT_IP" = active ]; then
		CUT_IP=$(e2e_log_line "logged in to $E2E_IQN at " | sed -n 's/.* at \([0-9.]*\):3260.*/\1/p')
		[ -n "$CUT_IP" ] || { fail "$what: no 'logged in' line"; e2e_vm_kill; return 1; }
	fi
	sleep 5
	cut_path "$CUT_IP" 25
	if ! e2e_vm_wait_exit 240; then
		fail "$what: the VM did not finish after the cut"
		e2e_vm_kill
		return 1
	fi
	clean_end "$what" || return 1
	e2e_log_has "$E2E_MARK stress ok" &&
		pass "$what: data verified across the cut: $(e2e_log_line "stress ok")" ||
		fail "$what: data not verified: $(e2e_log_line "stress")"
}

# 2. Failover: the active path (path 1 or 2, whichever answered first) is
# cut while writes are in flight on it.
if want 2 && writes_across_cut failover "$P1 $P2" active; then
	if [ "$CUT_IP" = "$E2E_SERVER_IP" ]; then
		CUT=1 OTHER=2 OTHER_IP=$SECOND_IP
	else
		CUT=2 OTHER=1 OTHER_IP=$E2E_SERVER_IP
	fi
	e2e_log_has "path $CUT \\($CUT_IP\\) is down: [0-9]+ command\\(s\\) go on path $OTHER" &&
		pass "failover: commands moved to path $OTHER: $(e2e_log_line "is down: ")" ||
		fail "failover: no commands moved from path $CUT to path $OTHER"
	e2e_log_has "path $CUT \\($CUT_IP\\) carries I/O" &&
		pass "failover: path $CUT came back" || fail "failover: path $CUT did not come back"
	# what the daemon says of itself, in text and JSON
	e2e_log_has "status: policy failover, 2 paths, [1-9][0-9]* failover" &&
		e2e_log_has "status: path $CUT $CUT_IP:3260 $E2E_IQN: standby" &&
		e2e_log_has "status: path $OTHER $OTHER_IP:3260 $E2E_IQN: active" &&
		pass "status: $(e2e_log_line "status: policy")" ||
		fail "status: $(grep -a "status: " "$E2E_VM_LOG" | head -8)"
	e2e_log_has 'status json: \{"device":"/dev/(nbd0|ublkb0)",.*"policy":"failover","failovers":[1-9].*"state":"(standby|active)".*"state":"(active|standby)"' &&
		pass "status --json" || fail "status --json: $(e2e_log_line "status json")"
fi

# 3. Round-robin: both carry I/O; path 2 is cut.
if want 3 && writes_across_cut round-robin "$P1 $P2 iscsiroot.multipath=round-robin" "$SECOND_IP"; then
	e2e_log_has "2 paths to the disk, policy round-robin" && pass "round-robin: policy taken" ||
		fail "round-robin: policy not taken"
fi

# during_writes WHAT APPEND SECONDS CMD...: stress writes for SECONDS
# while CMD runs (from 5 s after the boot count); verified data, no I/O
# error, a clean power-off.
during_writes() {
	local what=$1 append=$2 secs=$3
	shift 3
	e2e_vm_start "$E2E_WORK/initrd" "$BASE $append e2e.stress=$secs"
	if ! e2e_vm_wait_marker "$E2E_MARK boot count" 150; then
		fail "$what: the stress boot did not start"
		e2e_vm_kill
		return 1
	fi
	sleep 5
	"$@"
	if ! e2e_vm_wait_exit 300; then
		fail "$what: the VM did not finish"
		e2e_vm_kill
		return 1
	fi
	clean_end "$what" || return 1
	e2e_log_has "$E2E_MARK stress ok" &&
		pass "$what: data verified: $(e2e_log_line "stress ok")" ||
		fail "$what: data not verified: $(e2e_log_line "stress")"
}

# flap IP ROUNDS: the address leaves for 1 s and is back for 1 s, ROUNDS times.
flap() {
	for _ in $(seq 1 "$2"); do
		e2e_nsexec ip addr del "$1/$E2E_PREFIX" dev br0 || fail "cannot take $1 away"
		sleep 1
		e2e_nsexec ip addr add "$1/$E2E_PREFIX" dev br0 || fail "cannot put $1 back"
		sleep 1
	done
}

# 4. A path that flaps every 2 s for 30 s, round-robin.
want 4 && during_writes "flapping path" "$P1 $P2 iscsiroot.multipath=round-robin" 45 \
	flap "$E2E_SERVER_IP" 15

# 5. tgtd killed: both paths gone at once for 3 s, then back.
want 5 && during_writes "tgtd killed and back" "$P1 $P2" 30 e2e_tgt_restart hard 3 &&
	{ e2e_log_has "path [12] \\(.*\\) carries I/O" && pass "tgtd killed and back: a path carries I/O again" ||
	  fail "tgtd killed and back: no path came back"; }

[ "$FAILS" = 0 ] && echo "multipath: all passed" || echo "multipath: $FAILS failed"
[ "$FAILS" = 0 ]
