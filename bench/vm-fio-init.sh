#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of bench/vm-fio.sh's initramfs (busybox sh). One boot attaches the
# lab's LUN three ways at once, then runs each fio job of /etc/bench.fio
# on each contender in turn, so that the machine's load hits them alike:
#   ublk    iscsiroot up (the root-storage daemon; its keys on the kernel
#           command line: ip=, netroot=, rd.iscsi.initiator=,
#           iscsiroot.blockdev=ublk, root=/dev/ublkb0)    -> /dev/ublkb0
#   nbd     iscsiroot attach (same serving code, NBD)     -> /dev/nbdN
#   kernel  open-iscsi's iscsistart + iscsi_tcp           -> /dev/sdX
# Keys: bench.contenders=ublk,nbd,kernel (the order of round 1; reversed
# every other round), bench.rounds=N, bench.portal=IP bench.target=IQN
# bench.initiator=IQN: attach logs in as IQN-nbd and iscsistart as
# IQN-kernel (one initiator name each: the same name and ISID twice would
# be a session reinstatement, which ends the other session).
# Lines (all begin with ISCSIROOT-E2E:):
#   init reached uptime=S
#   bench attached NAME DEV max_sectors_kb=… …   each disk and its queue limits
#   bench fio contender=C round=R job=NAME err=E rbw=KiB/s riops=N rlat=us
#             wbw=… wiops=… wlat=… usr=% sys=% busy=T idle=T ctxt=N dusr=T dsys=T
#   bench daemon NAME VmHWM:KB VmLck:KB VmRSS:KB   iscsiroot's processes at the end
#   bench done | bench FAILED: why                then poweroff
# busy/idle: the CPU's ticks (USER_HZ) from the job's start to its end
# (fio's exec_prerun/exec_postrun run this script with BENCH_SNAP=FILE),
# ctxt: context switches, dusr/dsys: the serving iscsiroot process's user
# and system ticks (its system time holds the TCP sends and receives).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
M='ISCSIROOT-E2E:'

# snapshot FILE: "busy idle ctxt dusr dsys" now, for process $BENCH_PID.
snapshot() {
	d="0 0"
	[ "${BENCH_PID:-0}" = 0 ] || d=$(awk '{ print $14, $15 }' "/proc/$BENCH_PID/stat")
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

# wait_for PATH TENTHS: until PATH exists and is not empty, bounded.
wait_for() {
	n=$2
	while [ ! -s "$1" ] && [ ! -b "$1" ] && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ -s "$1" ] || [ -b "$1" ]
}

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

# the root-storage daemon's serving process ("@iscsiroot daemon …"; its
# keeper is "@iscsiroot keeper …")
daemon_pid() {
	for p in /proc/[0-9]*; do
		case $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) in
		"@iscsiroot daemon "*) echo "${p#/proc/}"; return ;;
		esac
	done
}

# The network comes up with `iscsiroot up` (ip= on the command line).
attach_ublk() {
	DEV_ublk=$(iscsiroot up 2>/tmp/up.err)
	[ -b "$DEV_ublk" ] || fail "iscsiroot up: $(tail -1 /tmp/up.err)"
	PID_ublk=$(daemon_pid)
	[ -n "$PID_ublk" ] || fail "no iscsiroot daemon"
}

attach_nbd() {
	iscsiroot attach -p "$(arg bench.portal)" -t "$(arg bench.target)" \
		-i "$(arg bench.initiator)-nbd" -l 1 >/tmp/attach.out 2>/tmp/attach.err &
	PID_nbd=$!
	wait_for /tmp/attach.out 300 || fail "iscsiroot attach: $(tail -1 /tmp/attach.err)"
	read -r DEV_nbd </tmp/attach.out
	[ -b "$DEV_nbd" ] || fail "iscsiroot attach: no device"
}

attach_kernel() {
	iscsistart -i "$(arg bench.initiator)-kernel" -t "$(arg bench.target)" -g 1 \
		-a "$(arg bench.portal)" -p 3260 >/dev/null 2>/tmp/iscsistart.err ||
		fail "iscsistart: $(tail -1 /tmp/iscsistart.err)"
	n=200
	while [ "$n" -gt 0 ]; do
		for d in /sys/class/scsi_disk/*/device/block/sd*; do
			[ -e "$d" ] && DEV_kernel=/dev/${d##*/} && break 2
		done
		sleep 0.1
		n=$((n - 1))
	done
	wait_for "${DEV_kernel:-/dev/none}" 100 || fail "no iSCSI disk from iscsistart"
	PID_kernel=0
}

# describe NAME DEV: the queue limits the block layer got from the driver.
describe() {
	q=/sys/block/${2#/dev/}/queue
	echo "$M bench attached $1 $2 max_sectors_kb=$(cat $q/max_sectors_kb)" \
		"max_hw_sectors_kb=$(cat $q/max_hw_sectors_kb) nr_requests=$(cat $q/nr_requests)" \
		"scheduler=$(tr ' ' , <$q/scheduler) size_mib=$(($(cat /sys/block/${2#/dev/}/size) / 2048))"
}

# run_job NAME DEV PID ROUND JOB: one fio job on one disk, one line out.
# fio's terse v3 fields: 3 job name, 5 error, 7/8 read KiB/s and IOPS,
# 40 read total latency mean (us), 48/49/81 the same for writes, 88/89
# user and system CPU of the fio process.
run_job() {
	perf=
	[ "$5" = "$(arg bench.perf)" ] && perf="perf record -q -a -e cpu-clock -o /tmp/perf.data --"
	BENCH_DEV=$2 BENCH_PID=$3 $perf fio --section="$5" --output-format=terse --terse-version=3 \
		/etc/bench.fio 2>/tmp/fio.err >/tmp/fio.out || fail "fio $1 $5: $(tail -1 /tmp/fio.err)"
	[ -z "$perf" ] || perf_report "$1" "$5"
	awk -F';' -v m="$M" -v c="$1" -v r="$4" '$1 == 3 {
		getline pre <"/tmp/snap.pre"; getline post <"/tmp/snap.post"
		split(pre, a, " "); split(post, b, " ")
		printf "%s bench fio contender=%s round=%s job=%s err=%s rbw=%s riops=%s rlat=%s " \
		       "wbw=%s wiops=%s wlat=%s usr=%s sys=%s busy=%d idle=%d ctxt=%d dusr=%d dsys=%d\n",
		       m, c, r, $3, $5, $7, $8, $40, $48, $49, $81, $88, $89,
		       b[1] - a[1], b[2] - a[2], b[3] - a[3], b[4] - a[4], b[5] - a[5] }' /tmp/fio.out
}

# perf_report NAME JOB: where the CPU went in the profiled job (bench.perf),
# by process, by process and object, by function, each line marked. No
# call graphs: perf record -g double-faulted this guest kernel under TCG.
# cpu-clock is an hrtimer, so a sample taken while interrupts were off
# lands where they come back on (finish_task_switch, *_unlock_irqrestore,
# the halt of the idle loop).
perf_report() {
	for sort in comm comm,dso dso,sym; do
		perf report -i /tmp/perf.data --stdio --no-children --sort "$sort" \
			--percent-limit 0.3 -g none 2>/dev/null | grep -v '^#' | grep -v '^$' |
			head -60 | sed "s/^/$M bench perf contender=$1 job=$2 sort=$sort: /"
	done
	rm -f /tmp/perf.data
}

# daemon_memory NAME PID: resident and locked memory of an iscsiroot process.
daemon_memory() {
	[ "$2" = 0 ] && return
	echo "$M bench daemon $1 $(awk '/^Vm(RSS|HWM|Lck)/ { printf "%s%s ", $1, $2 }' "/proc/$2/status")"
}

load_modules
CONTENDERS=$(arg bench.contenders | tr , ' ')
ROUNDS=$(arg bench.rounds)
# ublk first: `iscsiroot up` brings the network up for the others
case " $CONTENDERS " in *" ublk "*) attach_ublk ;; *) fail "bench.contenders needs ublk" ;; esac
case " $CONTENDERS " in *" nbd "*) attach_nbd ;; esac
case " $CONTENDERS " in *" kernel "*) attach_kernel ;; esac
for c in $CONTENDERS; do
	eval "describe $c \$DEV_$c"
done
REVERSED=
for c in $CONTENDERS; do REVERSED="$c $REVERSED"; done
JOBS=$(sed -n 's/^\[\(.*\)\]$/\1/p' /etc/bench.fio | grep -v '^global$')
cd /tmp || fail "no /tmp"
r=1
while [ "$r" -le "${ROUNDS:-1}" ]; do
	order=$CONTENDERS
	[ $((r % 2)) = 0 ] && order=$REVERSED
	for job in $JOBS; do
		for c in $order; do
			eval "run_job $c \$DEV_$c \$PID_$c $r $job"
		done
	done
	r=$((r + 1))
done
for c in $CONTENDERS; do
	eval "daemon_memory $c \$PID_$c"
done
echo "$M bench done"
poweroff -f
sleep 5
echo o >/proc/sysrq-trigger
