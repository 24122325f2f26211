#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 14 item 6, LIO: the kernel's iSCSI target, in a VM running Debian's
# 6.1 kernel (a busybox initramfs whose /init, lio-guest.sh, writes
# configfs directly), serving four targets on the lab bridge to our
# initiator in the lab's namespace (the cases of tests/iscsi/iscsi-istgt.sh):
#  1. discover lists both portals of the disk target and every target.
#  2. inquiry: LIO's LUN 0 is the disk; 2 MiB written through one portal
#     read back through the other, same bytes.
#  3. CHAP: one-way (the portal group's own account, demo mode) and
#     mutual (the initiator's ACL) log in and read; a wrong secret and a
#     wrong target secret exit 4; an initiator without an ACL is refused.
#  4. Digests: CRC32C both ways required by the target; data moves with
#     them, a login without them is refused.
#  5. Reconnect: during a verified random read/write run the target
#     portal group is disabled for 3 s (LIO drops its sessions and
#     refuses logins) twice, then the VM's link is down for 15 s: no
#     error, no byte lost, reinstatements seen.
#  6. The root disk on LIO: a second boot (after the first VM is off: one
#     VM at a time) configures a target on a virtio disk holding the lab's
#     root image, on the guest's 127.0.0.1, then execs the static iscsiroot
#     as PID 1, which boots from it (DHCP on the bridge, NBD, switch_root);
#     the root's init writes and verifies for 20 s and powers off; no I/O
#     error, no FUA write refused, and the host's fsck of the image clean.
# usage: lio.sh ISCSIROOT STRESS [STATIC_ISCSIROOT]   (the asan builds:
#        build-asan/iscsiroot, build-asan/tests/iscsi/stress; the musl
#        build-musl/iscsiroot for case 6, left out without it)
. "$(dirname "$0")/lib.sh"

BIN=${1:?usage: $0 ISCSIROOT STRESS}
STRESS=${2:?usage: $0 ISCSIROOT STRESS}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; e2e_console_dump 40; exit 1; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for p in qemu-system-x86_64 busybox; do
	command -v "$p" >/dev/null || { echo "SKIP: no $p"; exit 77; }
done
e2e_kernel_find || { echo "SKIP: no Debian 6.1 kernel"; exit 77; }
BIN=$(readlink -f "$BIN")
STRESS=$(readlink -f "$STRESS")
STATIC=${3:+$(readlink -f "$3")}

LIO_IP=$E2E_GUEST_IP
LIO_IP2=10.99.0.3
BASE=iqn.2025-01.org.iscsiroot:lio
INITIATOR=$E2E_INITIATOR
OUT=$E2E_WORK/out
ERR=$E2E_WORK/err

# expect_exit CODE DESCRIPTION CMD...: CMD with its output in $OUT and
# $ERR, its exit code checked.
expect_exit() {
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" = "$want" ]; then pass "$what (exit $rc)"; else
		fail "$what: exit $rc, expected $want"; cat "$OUT" "$ERR" >&2; fi
}

# ir CMD TARGET ARGS...: the binary (in the namespace) against one of
# LIO's targets.
ir() {
	local cmd=$1 target=$2
	shift 2
	e2e_nsexec "$BIN" "$cmd" -t "$BASE:$target" -i "$INITIATOR" --retry-for 10 "$@"
}

# guest WORDS: one command to the guest's /init (TCP port 7000).
guest() { e2e_nsexec bash -c "echo '$*' >/dev/tcp/$LIO_IP/7000"; }

# The guest: busybox, the target modules with their closure (crc32c for
# the digests; sha3 for CHAP_A 8, which LIO offers), lio-guest.sh as /init.
export E2E_INITRAMFS_MODULES="virtio_net virtio_pci crc32c_generic sha3_generic
	target_core_mod target_core_file iscsi_target_mod"
# shellcheck disable=SC2086
e2e_modules_closure $E2E_INITRAMFS_MODULES >"$E2E_WORK/lio-modules" || exit 1
e2e_make_initramfs "$E2E_WORK/initrd" "$E2E_DIR/lio-guest.sh" \
	"$(command -v busybox):bin/busybox" "$E2E_WORK/lio-modules:lio-modules" || exit 1
e2e_net_up || exit 1
e2e_vm_start "$E2E_WORK/initrd" "quiet panic=-1 lio.ip=$LIO_IP,$LIO_IP2 lio.base=$BASE lio.initiator=$INITIATOR" ||
	exit 1
e2e_vm_wait_marker "$E2E_MARK lio (ready|setup failed)" 300 ||
	die "the LIO guest did not come up"
e2e_log_has "$E2E_MARK lio ready" || die "$(e2e_log_line "setup failed")"
pass "LIO configured through configfs ($(e2e_log_time "lio ready") s after QEMU start)"

# 1. Discovery: every target, the disk target on both portals, tag 1.
expect_exit 0 "discover" e2e_nsexec "$BIN" discover -i "$INITIATOR" -p "$LIO_IP"
for want in "$LIO_IP:3260,1 $BASE:disk" "$LIO_IP2:3260,1 $BASE:disk" \
	"$LIO_IP:3260,1 $BASE:chap" "$LIO_IP:3260,1 $BASE:mutual" "$LIO_IP:3260,1 $BASE:digest"; do
	grep -qxF "$want" "$OUT" && pass "discover: $want" ||
		{ fail "discover lacks '$want'"; cat "$OUT" >&2; }
done

# 2. LUN 0 is the disk; data through one portal, back through the other.
expect_exit 0 "inquiry" ir inquiry disk -p "$LIO_IP"
cat "$OUT"
grep -q "LIO-ORG" "$OUT" && pass "inquiry: LIO-ORG's LUN" || fail "inquiry names no LIO-ORG LUN"
head -c 2097152 /dev/urandom >"$E2E_WORK/data"
expect_exit 0 "write 2 MiB at 1 MiB through $LIO_IP" ir write disk -p "$LIO_IP" \
	--offset 1M <"$E2E_WORK/data"
e2e_nsexec "$BIN" read -t "$BASE:disk" -i "$INITIATOR" -p "$LIO_IP2" --offset 1M --length 2M \
	>"$E2E_WORK/back" 2>"$ERR" && cmp -s "$E2E_WORK/data" "$E2E_WORK/back" &&
	pass "read back through $LIO_IP2: same bytes" ||
	{ fail "read back through $LIO_IP2 differs"; cat "$ERR" >&2; }

# 3. CHAP.
expect_exit 0 "one-way CHAP (portal group account)" ir read chap -p "$LIO_IP" --length 64k \
	-u alice -w alice-secret-1
expect_exit 4 "one-way CHAP, wrong secret" ir read chap -p "$LIO_IP" --length 64k \
	-u alice -w wrong-secret-1
# LIO closes the connection, with no Login Response, when the AuthMethod
# offer has nothing it takes: to us a target that went away (exit 3)
expect_exit 3 "one-way CHAP, no credentials where LIO requires them" ir read chap \
	-p "$LIO_IP" --length 64k --retry-for 2
grep -q "connection closed by the target" "$ERR" &&
	pass "no credentials: LIO closed the connection without a Login Response" ||
	{ fail "no credentials: not a closed connection"; cat "$ERR" >&2; }
expect_exit 0 "mutual CHAP (ACL)" ir read mutual -p "$LIO_IP" --length 64k \
	-u bob -w bob-secret-123 -U tgtuser -W target-secret1
expect_exit 4 "mutual CHAP, the target's secret is not the one we know" \
	ir read mutual -p "$LIO_IP" --length 64k \
	-u bob -w bob-secret-123 -U tgtuser -W other-secret-1
e2e_nsexec "$BIN" read -t "$BASE:mutual" -i "$INITIATOR.other" --retry-for 3 -p "$LIO_IP" \
	--length 64k -u bob -w bob-secret-123 >/dev/null 2>"$ERR"
rc=$?
[ "$rc" = 4 ] || [ "$rc" = 5 ] &&
	pass "an initiator without an ACL is refused (exit $rc: $(tail -1 "$ERR"))" ||
	{ fail "an initiator without an ACL: exit $rc"; cat "$ERR" >&2; }

# 4. Digests required by the target.
head -c 1048576 /dev/urandom >"$E2E_WORK/data"
expect_exit 0 "write with CRC32C digests" ir write digest -p "$LIO_IP" \
	--header-digest crc32c --data-digest crc32c <"$E2E_WORK/data"
e2e_nsexec "$BIN" read -t "$BASE:digest" -i "$INITIATOR" -p "$LIO_IP" --header-digest crc32c \
	--data-digest crc32c --length 1M >"$E2E_WORK/back" 2>"$ERR" &&
	cmp -s "$E2E_WORK/data" "$E2E_WORK/back" && pass "read with CRC32C digests: same bytes" ||
	{ fail "read with digests"; cat "$ERR" >&2; }
timeout 60 ip netns exec "$E2E_NS" "$BIN" read -t "$BASE:digest" -i "$INITIATOR" --retry-for 3 \
	-p "$LIO_IP" --header-digest none --data-digest none --length 4k >/dev/null 2>"$ERR"
rc=$?
[ "$rc" != 0 ] && pass "no digests where LIO requires them: refused (exit $rc: $(tail -1 "$ERR"))" ||
	fail "a login without digests was accepted by a target that requires them"

# 5. Reconnect during verified random I/O.
# bounded: a guest whose network died (a virtio TX queue stuck once, in
# TCG) must not hold the suite until meson's time-out
e2e_nsexec timeout 200 "$STRESS" "$LIO_IP:3260" "$BASE:disk" 0 60 8 256 7 \
	>"$E2E_WORK/stress.out" 2>&1 &
STRESS_PID=$!
for round in 1 2; do
	sleep 12
	guest flap 3
	e2e_wait_until 30 eval \
		'[ "$(grep -c "$E2E_MARK tpg enabled" "$E2E_VM_LOG")" -ge "$round" ]' ||
		fail "round $round: the portal group was not disabled and enabled"
	echo "round $round: LIO's portal group disabled for 3 s"
done
sleep 5
e2e_nsexec ip link set tap0 down
echo "the VM's link down for 15 s"
sleep 15
e2e_nsexec ip link set tap0 up
wait "$STRESS_PID"
rc=$?
cat "$E2E_WORK/stress.out"
[ "$rc" = 0 ] && pass "no error, no byte lost across two portal-group drops and a link cut" ||
	fail "stress run failed (exit $rc$([ "$rc" != 124 ] || echo ": not done in 200 s"))"
rec=$(sed -n 's/.*recoveries=\([0-9]*\).*/\1/p' "$E2E_WORK/stress.out")
[ "${rec:-0}" -ge 3 ] && pass "$rec reinstatements" || fail "only ${rec:-0} reinstatements"

guest poweroff
e2e_vm_wait_exit 60 || { fail "the guest did not power off"; e2e_vm_kill; }
! e2e_log_has "Kernel panic|BUG:|WARNING:" && pass "no kernel BUG, WARNING or panic in the guest" ||
	fail "the guest's kernel complained"
# LIO's fileio LUN without a write cache has no DPOFUA in MODE SENSE and
# fails a WRITE with FUA (ILLEGAL REQUEST, invalid field in CDB): we must
# send none there (the stress run's writes set FUA only where DPOFUA is)
! e2e_log_has "with FUA bit set" && pass "no FUA write reached a LUN without DPOFUA" ||
	fail "a FUA write reached LIO's LUN without DPOFUA"
[ "$FAILS" = 0 ] || e2e_console_dump 80

# 6. The root disk on LIO.
root_boot() {
	local img=$E2E_WORK/root.img
	e2e_rootdisk_build "$img" 64 || { fail "root image"; return 1; }
	E2E_INITRAMFS_MODULES="$E2E_INITRAMFS_MODULES virtio_blk nbd ext4"
	# shellcheck disable=SC2086
	e2e_modules_closure $E2E_INITRAMFS_MODULES >"$E2E_WORK/lio-modules" || return 1
	e2e_make_initramfs "$E2E_WORK/initrd-root" "$E2E_DIR/lio-guest.sh" \
		"$(command -v busybox):bin/busybox" "$E2E_WORK/lio-modules:lio-modules" \
		"$STATIC:sbin/iscsiroot" || { fail "root initramfs"; return 1; }
	e2e_dhcp_start || { fail "dnsmasq"; return 1; }
	E2E_VM_QEMU_ARGS="-drive file=$img,if=virtio,format=raw" \
		e2e_vm_boot "$E2E_WORK/initrd-root" "quiet panic=-1 lio.root=/dev/vda lio.base=$BASE \
ip=dhcp rd.iscsi.initiator=$INITIATOR netroot=iscsi:127.0.0.1::3260:0:$BASE:root \
e2e.rootdev=/dev/nbd0p1 e2e.stress=20" 300 ||
		{ fail "root on LIO: the VM did not power off by itself"; e2e_console_dump 60; return 1; }
	local ok=1 m
	for m in "lio root ready" "root on /dev/nbd0p1" "stress ok" "kernel io errors 0" "poweroff"; do
		e2e_log_has "$E2E_MARK $m( |\$)" && pass "root on LIO: $m" ||
			{ fail "root on LIO: no '$m'"; ok=0; }
	done
	! e2e_log_has "with FUA bit set|Kernel panic|BUG:|WARNING:" &&
		pass "root on LIO: no FUA write refused, no kernel complaint" ||
		{ fail "root on LIO: the kernel complained"; ok=0; }
	# the partition (from 1 MiB, 62 MiB long) as a file of its own
	dd if="$img" of="$E2E_WORK/part" bs=1M skip=1 count=62 conv=sparse status=none &&
		e2fsck -fn "$E2E_WORK/part" >"$E2E_WORK/fsck.log" 2>&1 &&
		pass "root on LIO: the host's fsck of the image is clean" ||
		{ fail "root on LIO: fsck"; tail -5 "$E2E_WORK/fsck.log" >&2; ok=0; }
	[ "$ok" = 1 ] || e2e_console_dump 60
}
if [ -n "$STATIC" ]; then
	root_boot
else
	echo "SKIP (case 6): no static binary given"
fi
if [ "$FAILS" != 0 ]; then
	echo "lio: $FAILS failed"
	exit 1
fi
echo "lio: all passed"
