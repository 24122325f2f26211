#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of bench/vm-fio.sh's initramfs (busybox sh): attaches the lab's
# LUN one way, runs fio's job file /etc/bench.fio on the raw disk and
# prints the results as console lines, then powers off. The same
# initramfs serves every contender; the kernel command line picks one:
#   bench.contender=ublk|nbd   iscsiroot up (its keys: ip=, netroot=,
#                              rd.iscsi.initiator=, iscsiroot.blockdev=)
#   bench.contender=kernel     open-iscsi's iscsistart + iscsi_tcp, with
#                              bench.ip=ADDR/PREFIX bench.portal=IP
#                              bench.target=IQN bench.initiator=IQN
# Lines (all begin with ISCSIROOT-E2E:):
#   init reached uptime=S            first thing
#   bench attached DEV uptime=S ...  the disk and its queue limits
#   bench fio job=NAME err=E rbw=KiB/s riops=N rlat=us wbw=… wiops=… wlat=…
#             usr=% sys=% busy=T idle=T ctxt=N daemon=T
#   bench done | bench FAILED: why   then poweroff
# busy/idle: the CPU's ticks (USER_HZ) from the job's start to its end
# (fio's exec_prerun/exec_postrun run this script with BENCH_SNAP=FILE),
# ctxt: context switches, daemon: the iscsiroot daemon's user+system ticks.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
M='ISCSIROOT-E2E:'

# snapshot FILE: "busy idle ctxt daemon" now; the daemon is the process
# whose argv[0] begins with '@' (the root-storage daemon's mark).
snapshot() {
	d=0
	for p in /proc/[0-9]*; do
		a=
		read -r a <"$p/cmdline" 2>/dev/null
		case $a in @*) d=$(awk '{ print $14 + $15 }' "$p/stat"); break ;; esac
	done
	awk -v d="$d" '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; i = $5 + $6 }
		/^ctxt/ { c = $2 } END { print b, i, c, d }' /proc/stat >"$1"
}
if [ -n "${BENCH_SNAP:-}" ]; then
	snapshot "$BENCH_SNAP"
	exit 0
fi

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
read -r up _ </proc/uptime
echo "$M init reached uptime=$up"

fail() {
	echo "$M bench FAILED: $*"
	poweroff -f
	sleep 5
}

arg() {
	for w in $(cat /proc/cmdline); do
		case $w in "$1"=*) echo "${w#*=}"; return ;; esac
	done
}

# wait_for PATH TENTHS: until PATH exists, bounded.
wait_for() {
	n=$2
	while [ ! -e "$1" ] && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ -e "$1" ]
}

# Every contender gets the same modules, loaded in the same order, so the
# kernels differ only in what the contender itself does.
load_modules() {
	dir=/lib/modules/$(uname -r)
	for m in $(cat /etc/bench-modules); do
		# a softdep alternative that does not fit this CPU fails: fine
		insmod "$dir/$m" 2>/dev/null
	done
	for m in virtio_net iscsi_tcp sd_mod nbd ublk_drv; do
		[ -d "/sys/module/$m" ] || fail "module $m did not load"
	done
}

attach_iscsiroot() {
	dev=$(iscsiroot up 2>/tmp/up.err)
	[ -b "$dev" ] || fail "iscsiroot up: $(tail -1 /tmp/up.err)"
}

attach_kernel() {
	wait_for /sys/class/net/eth0 50 || fail "no eth0"
	ip link set eth0 up || fail "eth0 up"
	ip addr add "$(arg bench.ip)" dev eth0 || fail "ip addr add"
	iscsistart -i "$(arg bench.initiator)" -t "$(arg bench.target)" -g 1 \
		-a "$(arg bench.portal)" -p 3260 >/dev/null 2>/tmp/iscsistart.err ||
		fail "iscsistart: $(tail -1 /tmp/iscsistart.err)"
	dev=/dev/sda
	wait_for "$dev" 200 || fail "no $dev"
}

# describe DEV: the queue limits the block layer got from the driver.
describe() {
	q=/sys/block/${1#/dev/}/queue
	read -r up _ </proc/uptime
	echo "$M bench attached $1 uptime=$up max_sectors_kb=$(cat $q/max_sectors_kb)" \
		"max_hw_sectors_kb=$(cat $q/max_hw_sectors_kb) nr_requests=$(cat $q/nr_requests)" \
		"scheduler=$(tr ' ' , <$q/scheduler) size_mib=$(($(cat /sys/block/${1#/dev/}/size) / 2048))"
}

# fio's terse v3 fields: 3 job name, 5 error, 7/8 read KiB/s and IOPS,
# 40 read total latency mean (us), 48/49/81 the same for writes, 88/89
# user and system CPU of the fio process; then the job's snapshots.
run_fio() {
	cd /tmp || fail "no /tmp"
	BENCH_DEV=$1 fio --output-format=terse --terse-version=3 /etc/bench.fio \
		2>/tmp/fio.err >/tmp/fio.out || fail "fio: $(tail -1 /tmp/fio.err)"
	awk -F';' -v m="$M" '$1 == 3 {
		snap = "/tmp/snap." $3
		getline pre <(snap ".pre"); getline post <(snap ".post")
		split(pre, a, " "); split(post, b, " ")
		printf "%s bench fio job=%s err=%s rbw=%s riops=%s rlat=%s wbw=%s wiops=%s wlat=%s " \
		       "usr=%s sys=%s busy=%d idle=%d ctxt=%d daemon=%d\n",
		       m, $3, $5, $7, $8, $40, $48, $49, $81, $88, $89,
		       b[1] - a[1], b[2] - a[2], b[3] - a[3], b[4] - a[4] }' /tmp/fio.out
}

load_modules
case $(arg bench.contender) in
ublk | nbd) attach_iscsiroot ;;
kernel) attach_kernel ;;
*) fail "no bench.contender=ublk|nbd|kernel" ;;
esac
describe "$dev"
run_fio "$dev"
echo "$M bench done"
poweroff -f
sleep 5
echo o >/proc/sysrq-trigger
