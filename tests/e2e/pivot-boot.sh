#!/bin/bash
# PID 1 mode's root handling, booted (issue 12, items 7-9):
#  1. a 4Kn LUN (tgtd --blocksize 4096) with a GPT in 4096-byte sectors,
#     ext4 with 4096-byte blocks and no /run, found by root=PARTUUID=;
#  2. a root with none of /dev /proc /sys /run, mounted read-only: the
#     API filesystems are detached, init mounts proc on a tmpfs of its own
#     and reads a file through the daemon;
#  3. a root= that names no device yet, iscsiroot.shell=1 and a scripted
#     /bin/sh: after each shell PID 1 looks for the root again with the
#     same daemon (the shell counts its processes), the second shell makes
#     the device, and the boot goes on with one session on the target.
# usage: pivot-boot.sh ISCSIROOT_STATIC_BINARY
# E2E_BLOCKDEV=ublk: the same on ublk, with the 6.12 kernel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-initramfs.sh"

BIN=${1:?usage: $0 ISCSIROOT_STATIC_BINARY}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
# check MSG ERE: the console has a line matching ERE
check() {
	if e2e_log_has "$2"; then pass "$1"; else fail "not: $1"; return 1; fi
}

e2e_iscsiroot_blockdev
PART=${DISK}p1

# boot WHAT INITRD APPEND: one boot that must power off by itself.
boot() {
	local start=$SECONDS
	if ! e2e_vm_boot "$2" "$BASE $3" 300; then
		fail "$1: the VM did not power off by itself"
		e2e_console_dump 60
		return 1
	fi
	echo "$1: booted and powered off in $((SECONDS - start)) s (init at $(e2e_marker_uptime) s guest uptime)"
}

# serve IMG [BLOCKSIZE]: tgtd serves IMG as LUN 1 (in BLOCKSIZE-byte blocks).
serve() {
	e2e_tgt_stop
	E2E_TGT_BLOCKSIZE=${2:-} e2e_tgt_start "$1" || exit 1
}

e2e_kernel_find || exit 1
e2e_net_up && e2e_dhcp_start "" || exit 1
e2e_make_initramfs "$E2E_WORK/initrd" "$BIN" || exit 1

# 1. A 4Kn LUN, GPT, root=PARTUUID=, no /run on the root.
E2E_ROOT_SECTOR_SIZE=4096 E2E_ROOT_OMIT=run e2e_rootdisk_build "$E2E_WORK/root4k.img" 64 || exit 1
serve "$E2E_WORK/root4k.img" 4096
if boot "4Kn" "$E2E_WORK/initrd" "$NETROOT root=PARTUUID=$E2E_ROOT_PARTUUID e2e.rootdev=$PART"; then
	check "4Kn: the daemon serves 4096-byte blocks" "$DISK: .* 4096-byte blocks" &&
		check "4Kn: root=PARTUUID= found on the 4Kn GPT: root on $PART" \
			"$E2E_MARK root on $PART\$" &&
		check "4Kn: /run detached, the root has none" \
			"/run: the new root has no such directory; detached ours" &&
		check "4Kn: boot count 1 written" "$E2E_MARK boot count 1\$" &&
		check "4Kn: no I/O error" "$E2E_MARK kernel io errors 0\$" || e2e_console_dump 40
	[ "$(e2e_rootdisk_boot_count "$E2E_WORK/root4k.img")" = 1 ] &&
		pass "4Kn: the host reads boot count 1 from the image" ||
		fail "4Kn: the image's boot count is not 1"
fi

# 2. No /dev /proc /sys /run on a read-only root.
E2E_ROOT_OMIT="dev proc sys run" e2e_rootdisk_build "$E2E_WORK/bare.img" 64 || exit 1
serve "$E2E_WORK/bare.img"
if boot "bare root" "$E2E_WORK/initrd" "$NETROOT root=UUID=$E2E_ROOT_UUID ro e2e.rootdev=$PART"; then
	n=$(grep -cE "/(dev|proc|sys|run): the new root has no such directory; detached ours" "$E2E_VM_LOG")
	[ "$n" = 4 ] && pass "bare root: /dev /proc /sys /run detached" ||
		fail "bare root: $n of the four detached"
	check "bare root: init reached" "$E2E_MARK init reached" &&
		check "bare root: none of the four on the root" \
			"$E2E_MARK bare root: missing /dev /proc /sys /run\$" &&
		check "bare root: root on $PART" "$E2E_MARK root on $PART\$" &&
		check "bare root: mounted read-only" "$E2E_MARK root read-only\$" &&
		check "bare root: no API filesystem left mounted" "$E2E_MARK api mounts left 0\$" &&
		check "bare root: a file read through the daemon after the switch" \
			"$E2E_MARK payload md5 $E2E_ROOT_PAYLOAD_MD5\$" &&
		check "bare root: one daemon" "$E2E_MARK daemon processes workers=1 keepers=1\$" &&
		check "bare root: no I/O error" "$E2E_MARK kernel io errors 0\$" || e2e_console_dump 40
	[ "$(e2e_rootdisk_boot_count "$E2E_WORK/bare.img")" = 0 ] &&
		pass "bare root: nothing written" || fail "bare root: the image changed"
fi

# 3. The emergency shell keeps the daemon. /bin/sh counts its processes
# and makes /dev/e2e-root (the root= given) on its second run.
cat >"$E2E_WORK/shell.sh" <<EOF
#!/bin/busybox sh
B=/bin/busybox
w=0 k=0
for p in /proc/[0-9]*; do
	case \$(\$B tr '\\0' ' ' <\$p/cmdline 2>/dev/null) in
	"@iscsiroot daemon "*) w=\$((w + 1)) ;;
	"@iscsiroot keeper "*) k=\$((k + 1)) ;;
	esac
done
n=\$((\$(\$B cat /run/e2e-shell-runs 2>/dev/null || echo 0) + 1))
echo \$n >/run/e2e-shell-runs
echo "$E2E_MARK emergency shell \$n workers=\$w keepers=\$k"
[ \$n -lt 2 ] || \$B ln -s ${PART#/dev/} /dev/e2e-root
exit 0
EOF
chmod +x "$E2E_WORK/shell.sh"
e2e_make_initramfs "$E2E_WORK/initrd-shell" "$BIN" "$(command -v busybox):/bin/busybox" \
	"$E2E_WORK/shell.sh:/bin/sh" || exit 1
e2e_rootdisk_build "$E2E_WORK/root.img" 64 || exit 1
serve "$E2E_WORK/root.img"
start=$SECONDS
e2e_vm_start "$E2E_WORK/initrd-shell" "$BASE $NETROOT root=/dev/e2e-root iscsiroot.shell=1 \
e2e.rootdev=/dev/e2e-root e2e.daemon=1 e2e.stress=5" || exit 1
sessions=$(itools_sessions_while_up 240)
if e2e_vm_wait_exit 240; then
	echo "emergency shell: booted and powered off in $((SECONDS - start)) s"
	n=$(grep -c "starting an emergency shell" "$E2E_VM_LOG")
	[ "$n" = 2 ] && pass "emergency shell: started twice" || fail "emergency shell: started $n times"
	check "emergency shell: one daemon in the first shell" \
		"$E2E_MARK emergency shell 1 workers=1 keepers=1\$" &&
		check "emergency shell: the same one in the second" \
			"$E2E_MARK emergency shell 2 workers=1 keepers=1\$" &&
		check "emergency shell: then the root found: root on /dev/e2e-root" \
			"$E2E_MARK root on /dev/e2e-root\$" &&
		check "emergency shell: one daemon after the switch" \
			"$E2E_MARK daemon processes workers=1 keepers=1\$" &&
		check "emergency shell: writes verified" "$E2E_MARK stress ok" &&
		check "emergency shell: no I/O error" "$E2E_MARK kernel io errors 0\$" ||
		e2e_console_dump 60
	[ "$sessions" = 1 ] && pass "emergency shell: tgtd saw one session while the guest ran" ||
		fail "emergency shell: tgtd saw '$sessions' sessions"
	e2e_log_has "reinstat" && fail "emergency shell: a session was reinstated"
	n=$(grep -cE "iscsiroot: /dev/[a-z]+[0-9]+: .*-byte blocks" "$E2E_VM_LOG")
	[ "$n" = 1 ] && pass "emergency shell: the disk was attached once" ||
		fail "emergency shell: the disk was attached $n times"
else
	fail "emergency shell: the VM did not power off by itself"
	e2e_console_dump 60
	e2e_vm_kill
fi

[ "$FAILS" = 0 ] && { echo "pivot e2e: all cases passed"; exit 0; }
echo "pivot e2e: $FAILS failure(s)"
exit 1
