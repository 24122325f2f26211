#!/bin/bash
# The initiator against istgt (Debian's istgt 0.4), a second real target
# beside tgtd, on 127.0.0.1-3. One istgt serves four targets:
#   disk    (no CHAP) in portal group 1 (127.0.0.1:P1, 127.0.0.2:P2) and
#           portal group 2 (127.0.0.3:P3);
#   chap    one-way CHAP; mutual: mutual CHAP; digest: digests required.
#  1. discover lists every portal of disk with its group tag.
#  2. Paths from SendTargets: the iscsistart drop-in given only P1 asks
#     the target for its portals and takes the other portals of the group
#     -g names (and not the other group's); -g 2 takes P3. (The host has
#     no nbd: the daemon ends at the block device, its lines are read on
#     a pty, where it keeps its stderr.)
#  3. Data: 2 MiB written through P1 read back through P2 and P3, same bytes.
#  4. CHAP: one-way and mutual log in and read; a wrong secret exits 4;
#     a wrong target secret (mutual) exits 4.
#  5. Digests: with CRC32C both ways data moves; offering none where
#     istgt requires them is refused.
#  6. Reconnect: istgt killed and restarted twice during a verified
#     random read/write run: no error, no byte lost, reinstatements seen.
. "$(dirname "$0")/lib.sh"

command -v istgt >/dev/null || die "istgt is not installed (scripts/setup.sh)"
BASE=iqn.2025-01.org.iscsiroot
DISK=$BASE:disk
P1=$(pick_port) P2=$(pick_port) P3=$(pick_port) UC=$(pick_port)
ISTGT_PID=

write_config() {
	cat >"$WORK/auth.conf" <<-EOF
	[AuthGroup1]
	  Auth "alice" "alice-secret-1"
	[AuthGroup2]
	  Auth "bob" "bob-secret-123" "tgtuser" "target-secret1"
	EOF
	cat >"$WORK/istgt.conf" <<-EOF
	[Global]
	  NodeBase "$BASE"
	  PidFile $WORK/istgt.pid
	  AuthFile $WORK/auth.conf
	  MediaDirectory $WORK
	  LogFacility "local7"
	  Timeout 30
	  NopInInterval 20
	  DiscoveryAuthMethod Auto
	  MaxSessions 16
	  MaxConnections 4
	  FirstBurstLength 65536
	  MaxBurstLength 262144
	  MaxRecvDataSegmentLength 65536
	[UnitControl]
	  AuthMethod None
	  Portal UC1 127.0.0.1:$UC
	  Netmask 127.0.0.1
	[PortalGroup1]
	  Portal DA1 127.0.0.1:$P1
	  Portal DA2 127.0.0.2:$P2
	[PortalGroup2]
	  Portal DA1 127.0.0.3:$P3
	[InitiatorGroup1]
	  InitiatorName "ALL"
	  Netmask 127.0.0.0/8
	EOF
	local n=0 name auth digest
	for spec in "disk None Auto" "chap CHAP Auto" "mutual CHAP_Mutual Auto" \
		    "digest None Header_Data"; do
		read -r name auth digest <<<"$spec"
		n=$((n + 1))
		truncate -s 16M "$WORK/$name.img"
		cat >>"$WORK/istgt.conf" <<-EOF
		[LogicalUnit$n]
		  TargetName $name
		  Mapping PortalGroup1 InitiatorGroup1
		  Mapping PortalGroup2 InitiatorGroup1
		  AuthMethod ${auth/_/ }
		  AuthGroup AuthGroup$((n == 3 ? 2 : 1))
		  UseDigest ${digest/_/ }
		  UnitType Disk
		  LUN0 Storage $WORK/$name.img 16MB
		EOF
	done
}

istgt_start() {
	istgt -c "$WORK/istgt.conf" -D >>"$WORK/istgt.log" 2>&1 &
	ISTGT_PID=$!
	for _ in $(seq 1 50); do
		(exec 3<>/dev/tcp/127.0.0.1/$P1) 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$WORK/istgt.log" >&2
	die "istgt did not start"
}

istgt_kill() {
	kill -9 "$ISTGT_PID" 2>/dev/null
	wait "$ISTGT_PID" 2>/dev/null
	ISTGT_PID=
}

ir() { # CMD TARGET ARGS...: the binary against one of istgt's targets
	local cmd=$1 target=$2
	shift 2
	"$ISCSIROOT" "$cmd" -t "$BASE:$target" -i "$INITIATOR" --retry-for 3 "$@"
}

write_config
istgt_start

# 1. Every portal, with its group.
expect_exit 0 "discover" "$ISCSIROOT" discover -p "127.0.0.1:$P1"
for want in "127.0.0.1:$P1,1 $DISK" "127.0.0.2:$P2,1 $DISK" "127.0.0.3:$P3,2 $DISK"; do
	grep -qxF "$want" "$WORK/out" && pass "discover: $want" ||
		{ fail "discover lacks '$want'"; cat "$WORK/out" >&2; }
done

# 2. The daemon's paths from SendTargets, by portal group.
ln -s "$ISCSIROOT" "$WORK/iscsistart"
for g in 1 2; do
	script -qec "$WORK/iscsistart -i $INITIATOR -t $DISK -g $g -a 127.0.0.1 -p $P1" \
		/dev/null >"$WORK/st$g" 2>&1
done
grep -q "path 2: 127.0.0.2:$P2, from the target's SendTargets answer" "$WORK/st1" &&
	! grep -q "127.0.0.3:$P3" "$WORK/st1" &&
	pass "-g 1: P2 joined from SendTargets, P3 (group 2) left out" ||
	{ fail "-g 1: not P2 alone from SendTargets"; cat "$WORK/st1" >&2; }
grep -q "path 2: 127.0.0.3:$P3, from the target's SendTargets answer" "$WORK/st2" &&
	! grep -q "127.0.0.2:$P2" "$WORK/st2" &&
	pass "-g 2: P3 joined from SendTargets, P2 (group 1) left out" ||
	{ fail "-g 2: not P3 alone from SendTargets"; cat "$WORK/st2" >&2; }
grep -qi "nbd" "$WORK/st1" && pass "the daemon ended at the block device (no nbd here)" ||
	fail "no block-device reason in the daemon's lines"

# 3. Data through one portal, read back through the others.
head -c 2097152 /dev/urandom >"$WORK/data"
expect_exit 0 "write 2 MiB at 1 MiB through P1" ir write disk -p "127.0.0.1:$P1" \
	--offset 1M <"$WORK/data"
for p in "127.0.0.2:$P2" "127.0.0.3:$P3"; do
	ir read disk -p "$p" --offset 1M --length 2M >"$WORK/back" 2>"$WORK/err" &&
		cmp -s "$WORK/data" "$WORK/back" && pass "read back through $p: same bytes" ||
		{ fail "read back through $p differs"; cat "$WORK/err" >&2; }
done

# 4. CHAP, one-way and mutual.
expect_exit 0 "one-way CHAP" ir read chap -p "127.0.0.1:$P1" --length 64k \
	-u alice -w alice-secret-1
expect_exit 4 "one-way CHAP, wrong secret" ir read chap -p "127.0.0.1:$P1" --length 64k \
	-u alice -w wrong-secret-1
expect_exit 0 "mutual CHAP" ir read mutual -p "127.0.0.1:$P1" --length 64k \
	-u bob -w bob-secret-123 -U tgtuser -W target-secret1
expect_exit 4 "mutual CHAP, the target's secret is not the one we know" \
	ir read mutual -p "127.0.0.1:$P1" --length 64k \
	-u bob -w bob-secret-123 -U tgtuser -W other-secret-1

# 5. Digests: required by the target.
head -c 1048576 /dev/urandom >"$WORK/data"
expect_exit 0 "write with CRC32C digests" ir write digest -p "127.0.0.1:$P1" \
	--header-digest crc32c --data-digest crc32c <"$WORK/data"
ir read digest -p "127.0.0.2:$P2" --header-digest crc32c --data-digest crc32c \
	--length 1M >"$WORK/back" 2>"$WORK/err" && cmp -s "$WORK/data" "$WORK/back" &&
	pass "read with CRC32C digests: same bytes" ||
	{ fail "read with digests"; cat "$WORK/err" >&2; }
timeout 30 "$ISCSIROOT" read -t "$BASE:digest" -i "$INITIATOR" --retry-for 3 -p "127.0.0.1:$P1" --header-digest none --data-digest none \
	--length 4k >/dev/null 2>"$WORK/err"
rc=$?
[ "$rc" != 0 ] && pass "no digests where istgt requires them: refused (exit $rc: $(tail -1 "$WORK/err"))" ||
	fail "a login without digests was accepted by a target that requires them"

# 6. istgt killed and back, twice, during verified random I/O.
"$STRESS" "127.0.0.1:$P1" "$DISK" 0 24 16 256 5 >"$WORK/stress.out" 2>&1 &
STRESS_PID=$!
for round in 1 2; do
	sleep 6
	istgt_kill
	echo "round $round: istgt killed"
	sleep 1
	istgt_start
done
wait "$STRESS_PID"
rc=$?
cat "$WORK/stress.out"
[ "$rc" = 0 ] && pass "no error, no byte lost across two istgt restarts" ||
	fail "stress run failed (exit $rc)"
rec=$(sed -n 's/.*recoveries=\([0-9]*\).*/\1/p' "$WORK/stress.out")
[ "${rec:-0}" -ge 2 ] && pass "$rec reinstatements" || fail "only ${rec:-0} reinstatements"
istgt_kill
finish
