#!/bin/bash
# SPDX-License-Identifier: MIT
# Network faults on one path of a multipath disk (issue 13), in network
# namespaces: the initiator's namespace has a veth link to each of three
# target namespaces, each with its own tgtd. Targets A and B serve ONE
# backing file under the same LUN identity (scsi_id, scsi_sn); C serves
# another file under another identity. mpath-stress drives the disk over
# the paths (iscsi_mpath_*) with verified writes and reads; every case
# must end with 0 I/O errors and 0 wrong bytes:
#  a. the active path's link goes down mid-write, and comes back;
#  b. 5 % packet loss on the active path (iptables statistic match: the
#     kernel here has no sch_netem);
#  c. 200 ms delay on the active path (iptables NFQUEUE into nfq-delay),
#     the delay measured first;
#  d. the standby path's interface loses its address and gets another:
#     the active path carries on (no failover), the standby rejoins;
#  e. a third portal to another disk: refused in one line, never given a
#     command, its file untouched, even while both good paths are down.
. "$(dirname "$0")/lib.sh"
: "${NFQ_DELAY:?NFQ_DELAY must name the nfq-delay tool}"
. "$(dirname "$0")/mpath-lib.sh"

NOP=(-n 1 -N 3)  # a dead link is seen within 4 s

# stress NAME SECONDS ARGS... PORTALS...: mpath_stress with the short
# NOP-Out settings.
stress() {
	local name=$1 secs=$2
	shift 2
	mpath_stress "$name" "$secs" "${NOP[@]}" "$@" && return 0
	fail "$name: mpath-stress did not start"
	return 1
}

# stress_end NAME: waits for it (at most 3 minutes after its start) and
# checks the verdict: exit 0, no I/O error, no wrong byte, the whole
# region read back.
stress_end() {
	local name=$1 out=$WORK/$1.out
	wait_for "$STRESS_PID" 180 "$STRESS_T0"
	SUMMARY=$(grep '^mpath-stress: ' "$out")
	if [ "$WAIT_RC" = 0 ] && grep -q ' errors 0 wrong_bytes 0 ' <<<"$SUMMARY" &&
		grep -q '^verified: 0 wrong bytes, 0 errors in all' "$out" &&
		! grep -q ' ios 0 ' <<<"$SUMMARY"; then
		pass "$name: no I/O error, no wrong byte: ${SUMMARY#mpath-stress: }"
		return 0
	fi
	fail "$name: exit $WAIT_RC: ${SUMMARY:-no summary}"
	cat "$out" >&2
	tail -30 "$WORK/$name.err" >&2
	return 1
}

# field NAME KEY: a number from the summary line.
field() { sed -n "s/^mpath-stress: .* $2 \([0-9]*\).*/\1/p" "$WORK/$1.out"; }

# connect_us ADDR...: for each ADDR, the quickest of three TCP connects
# to ADDR:3260 from our namespace, in µs, timed inside one shell (no
# process start in the time); each connect at most 5 s.
connect_us() {
	in_ini timeout 60 bash -c '
		for a in "$@"; do
			best=
			for _ in 1 2 3; do
				t0=${EPOCHREALTIME/[.,]/}
				exec 3<>"/dev/tcp/$a/3260" || exit 1
				t=$((${EPOCHREALTIME/[.,]/} - t0))
				exec 3>&-
				[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
			done
			echo "$best"
		done' connect "$@"
}

mpath_topology A B C
truncate -s 64M "$WORK/disk.img" "$WORK/other.img"
tgt_in A "$WORK/disk.img" mpath-disk
tgt_in B "$WORK/disk.img" mpath-disk
tgt_in C "$WORK/other.img" other-disk
PA=${A[1]}:3260 PB=${B[1]}:3260 PC=${C[1]}:3260

# a. The active path's link goes down mid-write (path 1: the tool probes
# on the first portal, which makes it the active one), back 8 s later.
if stress link-down 20 "$IQN" 1 "$PA" "$PB"; then
	sleep 3
	in_ini ip link set "${A[3]}" down || fail "link-down: cannot take the link down"
	sleep 8
	in_ini ip link set "${A[3]}" up || fail "link-down: cannot bring the link up"
	if stress_end link-down; then
		line=$(grep -m1 '^failover 1: path 1 -> path 2: ' "$WORK/link-down.out")
		stall=$(sed -n 's/.*: \([0-9]*\) ms from the last.*/\1/p' <<<"$line")
		# NOP-Out every 1 s, answered within 3 s: the cut is seen in 4 s
		if [ -n "$stall" ] && [ "$stall" -lt 10000 ]; then
			pass "link-down: I/O moved to path 2 after $stall ms without a completion"
		else
			fail "link-down: no failover to path 2 within 10 s: ${line:-none}"
		fi
		grep -qE '^event .* path 1 \(10.231.1.1\): down -> standby' "$WORK/link-down.out" &&
			pass "link-down: path 1 came back as standby" ||
			fail "link-down: path 1 did not come back: $(grep '^path 1 ' "$WORK/link-down.out")"
	fi
fi

# b. 5 % of the active path's packets dropped, both ways.
rules=(OUTPUT -d "${A[1]}" INPUT -s "${A[1]}")
for i in 0 3; do
	in_ini iptables -A "${rules[i]}" "${rules[i + 1]}" "${rules[i + 2]}" -m statistic \
		--mode random --probability 0.05 -j DROP || die "iptables statistic"
done
if stress loss 15 "$IQN" 1 "$PA" "$PB"; then
	stress_end loss
	dropped=$(in_ini iptables -L -v -x -n | awk '/statistic/ { n += $1 } END { print n + 0 }')
	[ "$dropped" -gt 0 ] && pass "loss: $dropped packets dropped on path 1" ||
		fail "loss: the rule dropped nothing"
	[ "$(field loss ios)" -gt 100 ] && pass "loss: I/O went on ($(field loss ios) commands)" ||
		fail "loss: only $(field loss ios) commands in 15 s"
fi
in_ini iptables -F

# c. 200 ms on every packet from us to the active path's target, held on
# its side of the link (held on ours, a packet would still count against
# the sending socket's small-queue budget, and TCP would crawl as no
# delay in a network makes it): measured by TCP connects, then verified
# I/O through it.
ip netns exec "${A[0]}" "$NFQ_DELAY" 7 200 4096 120 >"$WORK/nfq.out" 2>&1 &
NFQ_PID=$!
MPATH_PIDS+=("$NFQ_PID")
for _ in $(seq 1 50); do grep -q ready "$WORK/nfq.out" && break; sleep 0.1; done
grep -q ready "$WORK/nfq.out" || { cat "$WORK/nfq.out" >&2; die "nfq-delay did not start"; }
ip netns exec "${A[0]}" iptables -A INPUT -s "${A[2]}" -j NFQUEUE --queue-num 7 ||
	die "iptables NFQUEUE"
read -r -d '' slow fast < <(connect_us "${A[1]}" "${B[1]}")
# at least 200 ms slower, to the millisecond
if [ -n "$fast" ] && [ $(((slow - fast + 500) / 1000)) -ge 200 ]; then
	pass "delay: a connect takes $slow µs on path 1, $fast µs on path 2"
else
	fail "delay: connects took ${slow:-?} µs on path 1, ${fast:-?} µs on path 2"
fi
if stress delay 15 -z 4 "$IQN" 1 "$PA" "$PB"; then
	stress_end delay
	lat=$(field delay max_latency_ms)
	[ "${lat:-0}" -ge 200 ] && pass "delay: commands took up to $lat ms (through the delay)" ||
		fail "delay: the slowest command took ${lat:-?} ms, under the 200 ms delay"
fi
ip netns exec "${A[0]}" iptables -F
kill "$NFQ_PID" 2>/dev/null
wait "$NFQ_PID" 2>/dev/null
grep -q 'packets delayed by 200 ms' "$WORK/nfq.out" && pass "$(tail -1 "$WORK/nfq.out")" ||
	fail "nfq-delay: $(cat "$WORK/nfq.out")"

# d. The standby path's interface loses its address for 8 s, then gets
# another one: the standby goes down and rejoins; the active path never
# notices.
if stress addr-change 22 "$IQN" 1 "$PA" "$PB"; then
	sleep 3
	in_ini ip addr del "${B[2]}/24" dev "${B[3]}" || fail "addr-change: cannot remove the address"
	sleep 8
	in_ini ip addr add 10.231.2.3/24 dev "${B[3]}" || fail "addr-change: cannot add the address"
	# target B sees path 2 come from the new address
	# its second join, after its start
	if wait_line "$WORK/addr-change.out" '^event .* path 2 .*: down -> standby$' 15 2 &&
		tgtadm -C "${TGT_CTL[B]}" --lld iscsi --op show --mode conn --tid 1 |
		grep -q 'IP Address: 10.231.2.3$'; then
		pass "addr-change: path 2 logged in again from 10.231.2.3"
	else
		fail "addr-change: path 2 not back from 10.231.2.3: $(tgtadm -C "${TGT_CTL[B]}" \
			--lld iscsi --op show --mode conn --tid 1 | grep 'IP Address')"
	fi
	if stress_end addr-change; then
		[ "$(field addr-change failovers)" = 0 ] && pass "addr-change: no failover" ||
			fail "addr-change: $(field addr-change failovers) failover(s)"
		# after the start, path 1 stays active: no event of path 1 but its first
		[ "$(grep -c '^event .* path 1 ' "$WORK/addr-change.out")" = 1 ] &&
			pass "addr-change: path 1 active throughout" ||
			fail "addr-change: path 1 changed: $(grep '^event .* path 1 ' "$WORK/addr-change.out")"
		# after its first join: down once, and back
		[ "$(grep -E '^event .* path 2 ' "$WORK/addr-change.out" | sed 's/.*: //' |
			sed '1,/-> standby$/d' | tr '\n' ' ')" = "standby -> down down -> standby " ] &&
			grep -q '^path 2 .*: standby, reconnects [1-9]' "$WORK/addr-change.out" &&
			pass "addr-change: path 2 went down and rejoined" ||
			fail "addr-change: path 2: $(grep '^event .* path 2 \|^path 2 ' "$WORK/addr-change.out")"
	fi
fi

# e. A third portal to another disk (round-robin, so every usable path
# would get commands), and both good paths down for 6 s meanwhile.
other_sum=$(md5sum <"$WORK/other.img")
if stress other-disk 20 -P round-robin "$IQN" 1 "$PA" "$PB" "$PC"; then
	sleep 3
	in_ini ip link set "${A[3]}" down && in_ini ip link set "${B[3]}" down ||
		fail "other-disk: cannot take the links down"
	sleep 6
	in_ini ip link set "${A[3]}" up && in_ini ip link set "${B[3]}" up ||
		fail "other-disk: cannot bring the links up"
	if stress_end other-disk; then
		grep -q '^path 3 10.231.3.1:3260: other disk, reconnects [0-9]*, mismatches [1-9][0-9]*, commands 0$' \
			"$WORK/other-disk.out" &&
			grep -qE '^path 1 .* commands [1-9]' "$WORK/other-disk.out" &&
			grep -qE '^path 2 .* commands [1-9]' "$WORK/other-disk.out" &&
			pass "other-disk: path 3 refused, no command given to it; paths 1 and 2 shared the rest" ||
			fail "other-disk: $(grep '^path ' "$WORK/other-disk.out")"
		refusals=$(grep -c 'is no longer the disk that was attached' "$WORK/other-disk.err")
		[ "$refusals" = 1 ] && pass "other-disk: one line: $(grep 'is no longer the disk' "$WORK/other-disk.err")" ||
			fail "other-disk: $refusals refusal lines"
	fi
fi
[ "$(md5sum <"$WORK/other.img")" = "$other_sum" ] && pass "other-disk: its file untouched" ||
	fail "other-disk: its file changed"

finish
