#!/bin/bash
# SPDX-License-Identifier: MIT
# fio in the VM (issue 6): the same kernel, tgtd target, LUN and fio for
# iscsiroot's ublk and NBD backends and for the kernel's iscsi_tcp logged
# in by open-iscsi's iscsistart. One boot attaches the LUN all three ways
# (bench/vm-fio-init.sh) and runs every fio job on each contender in turn,
# the order reversed every other round; then bench/boot.sh for boot times.
#
# usage: bench/vm-fio.sh [-n ROUNDS] [-c NAME,...] [--runtime SEC]
#                        [--boot-rounds N] [--show] [--perf JOB]
#   -n             rounds (default 3) of every job on every contender
#   -c             contenders (default ublk,nbd,kernel; ublk is needed:
#                  its `iscsiroot up` brings the guest's network up)
#   --runtime      seconds per fio job (default 5, after 1 s of ramp)
#   --boot-rounds  rounds of bench/boot.sh (default 3; 0 skips it)
#   --show         the console live on stderr
#   --perf JOB     also profile JOB (e.g. randread-4k-qd1) on every
#                  contender: perf record -a -e cpu-clock in the guest
#                  (software sampling: TCG has no PMU), the report on the
#                  console and in console.fio
#   --tables LOG   only print the tables of a kept console log (E2E_KEEP=1
#                  keeps the work folder; the log is console.fio there)
# ISCSIROOT=path of the static binary (default build-musl/iscsiroot);
# E2E_KERNEL_VERSION=series (default 6.12: scripts/fetch-kernel.sh).
#
# The jobs, on the raw disk: 1 MiB sequential read and write and 4 KiB
# random read and write, each at QD1 and QD32, libaio, O_DIRECT. The LUN
# is a 256 MiB file on tmpfs, written through once, served by one tgtd
# tuned for large PDUs. A contender's row keeps its best round of the job
# (noise only slows a run down).
set -u
cd "$(dirname "$0")/.."
export E2E_KERNEL_VERSION=${E2E_KERNEL_VERSION:-6.12}
. tests/e2e/lib.sh

ROUNDS=3
CONTENDERS=ublk,nbd,kernel
RUNTIME=5
BOOT_ROUNDS=3
TABLES_FROM=
PERF_JOB=
while [ $# -gt 0 ]; do
	case $1 in
	-n) ROUNDS=$2; shift ;;
	-c) CONTENDERS=$2; shift ;;
	--runtime) RUNTIME=$2; shift ;;
	--boot-rounds) BOOT_ROUNDS=$2; shift ;;
	--show) export E2E_VM_SHOW=1 ;;
	--tables) TABLES_FROM=$2; shift ;;
	--perf) PERF_JOB=$2; shift ;;
	*) sed -n '9,24s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done
ISCSIROOT=${ISCSIROOT:-build-musl/iscsiroot}
export ISCSIROOT
RESULTS=$E2E_WORK/results.tsv

[ "$(id -u)" = 0 ] || { echo "vm-fio: run as root" >&2; exit 2; }
for p in qemu-system-x86_64 tgtd iscsistart fio busybox cpio; do
	command -v "$p" >/dev/null || { echo "vm-fio: no $p" >&2; exit 2; }
done
[ -x "$ISCSIROOT" ] || { echo "vm-fio: no static binary at $ISCSIROOT" >&2; exit 2; }

# crc32c: iscsi_tcp allocates it at login (on 6.1 ext4's softdep brought it)
BENCH_MODULES="virtio_net virtio_pci e1000 iscsi_tcp crc32c_generic sd_mod nbd ublk_drv"
LUN_MIB=256
JOBS="read:1M:1 read:1M:32 write:1M:1 write:1M:32"
JOBS+=" randread:4k:1 randread:4k:32 randwrite:4k:1 randwrite:4k:32"
# fio's libraries make the initramfs ~90 MB: room for it in the guest
E2E_VM_MEM=${E2E_VM_MEM:-1024}
INITRD=$E2E_WORK/bench.initrd

# copy_exe TREE EXE: EXE into TREE/sbin, with the shared libraries ldd
# lists at their own paths (the dynamic loader among them).
copy_exe() {
	local tree=$1 exe lib
	exe=$(command -v "$2") || { e2e_log "no $2"; return 1; }
	mkdir -p "$tree/sbin"
	cp -L "$exe" "$tree/sbin/" || return 1
	for lib in $(ldd "$exe" | grep -oE '/[^ ]+'); do
		[ -e "$tree/$lib" ] && continue
		mkdir -p "$tree/$(dirname "$lib")"
		cp -L "$lib" "$tree/$lib" || return 1
	done
}

# fio's job file: one section per workload (the guest runs one at a
# time with --section), the device from the environment ($BENCH_DEV);
# the guest's /init takes its CPU snapshots before and after each job.
write_jobfile() {
	local j rw bs qd
	printf '[global]\nfilename=${BENCH_DEV}\ndirect=1\nioengine=libaio\n'
	printf 'time_based=1\nruntime=%s\nramp_time=1\nnorandommap=1\nrandrepeat=1\n' "$RUNTIME"
	printf 'exec_prerun=BENCH_SNAP=/tmp/snap.pre /init\n'
	printf 'exec_postrun=BENCH_SNAP=/tmp/snap.post /init\n'
	for j in $JOBS; do
		IFS=: read -r rw bs qd <<<"$j"
		printf '\n[%s-%s-qd%s]\nrw=%s\nbs=%s\niodepth=%s\n' "$rw" "$bs" "$qd" "$rw" "$bs" "$qd"
	done
}

# One initramfs for every contender: busybox, fio, iscsistart (each with
# its libraries), iscsiroot, the modules of all of them.
build_initramfs() {
	local tree=$E2E_WORK/bench-tree
	rm -rf "$tree"
	mkdir -p "$tree"/{dev,proc,sys,run,tmp,etc,root}
	e2e_busybox_tree "$tree" || return 1
	copy_exe "$tree" fio && copy_exe "$tree" iscsistart || return 1
	[ -z "$PERF_JOB" ] || copy_exe "$tree" perf || return 1
	install -m 0755 "$ISCSIROOT" "$tree/sbin/iscsiroot" || return 1
	# shellcheck disable=SC2086
	e2e_modules_install "$tree" $BENCH_MODULES || return 1
	# shellcheck disable=SC2086
	e2e_modules_closure $BENCH_MODULES >"$tree/etc/bench-modules" || return 1
	write_jobfile >"$tree/etc/bench.fio"
	install -m 0755 bench/vm-fio-init.sh "$tree/init" || return 1
	e2e_pack_cpio "$tree" "$INITRD" || return 1
	rm -rf "$tree"
}

# The target: tgtd's defaults are 8 KiB PDUs, InitialR2T=Yes and one R2T;
# these are bench/host.sh's keys. MaxBurstLength is also ublk's largest
# request (one burst), so 1 MiB requests reach the target whole.
server_up() {
	dd if=/dev/zero of="$E2E_WORK/lun.img" bs=1M count="$LUN_MIB" status=none || return 1
	e2e_net_up && e2e_tgt_start "$E2E_WORK/lun.img" || return 1
	e2e_tgt_param MaxRecvDataSegmentLength 262144 &&
		e2e_tgt_param MaxXmitDataSegmentLength 262144 &&
		e2e_tgt_param MaxBurstLength 1048576 &&
		e2e_tgt_param FirstBurstLength 262144 &&
		e2e_tgt_param InitialR2T No &&
		e2e_tgt_param ImmediateData Yes &&
		e2e_tgt_param MaxOutstandingR2T 8
}

# The kernel command line: iscsiroot up's keys (ublk; a static address,
# no DHCP server runs), the others' login, the contenders and rounds.
append() {
	local a="quiet panic=-1 bench.contenders=$CONTENDERS bench.rounds=$ROUNDS"
	a+=" ip=$E2E_GUEST_IP::$E2E_SERVER_IP:$E2E_NETMASK::eth0:off"
	a+=" netroot=$(e2e_root_path) rd.iscsi.initiator=$E2E_INITIATOR-ublk"
	a+=" iscsiroot.blockdev=ublk root=/dev/ublkb0"
	a+=" bench.portal=$E2E_SERVER_IP bench.target=$E2E_IQN bench.initiator=$E2E_INITIATOR"
	[ -z "$PERF_JOB" ] || a+=" bench.perf=$PERF_JOB"
	echo "$a"
}

# run_boot: the one boot; its fio lines go to $RESULTS as "CONTENDER
# ROUND JOB MiB/s IOPS lat_us err busy idle ctxt dusr dsys". 0 when every
# job reported on every contender.
run_boot() {
	local secs n want
	want=$((ROUNDS * 8 * $(tr , '\n' <<<"$CONTENDERS" | wc -l)))
	secs=$((want * (RUNTIME + 9) + 240))
	e2e_vm_boot "$INITRD" "$(append)" "$secs"
	cp "$E2E_VM_LOG" "$E2E_WORK/console.fio" 2>/dev/null
	parse_console "$E2E_VM_LOG"
	grep -E "$E2E_MARK bench (attached|daemon) " "$E2E_VM_LOG" | sed 's/.*bench /  /'
	grep -aE "$E2E_MARK bench perf " "$E2E_VM_LOG" | sed 's/.*bench perf /  perf /' | tr -d '\r'
	n=$(wc -l <"$RESULTS")
	if ! e2e_log_has "$E2E_MARK bench done" || [ "$n" != "$want" ]; then
		echo "vm-fio: $n of $want jobs: $(e2e_log_line "$E2E_MARK bench FAILED" || echo 'no end')" >&2
		e2e_console_dump 20
		return 1
	fi
}

# parse_console LOG: the fio lines of a console log into $RESULTS.
parse_console() {
	grep -aE "$E2E_MARK bench fio " "$1" | sed 's/.*bench fio //' |
		awk '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			bw = f["rbw"] + f["wbw"]; iops = f["riops"] + f["wiops"]
			lat = f["rbw"] > 0 ? f["rlat"] : f["wlat"]
			printf "%s\t%s\t%s\t%.1f\t%d\t%.0f\t%s\t%d\t%d\t%d\t%d\t%d\n", f["contender"],
			       f["round"], f["job"], bw / 1024, iops, lat, f["err"], f["busy"],
			       f["idle"], f["ctxt"], f["dusr"], f["dsys"]
		}' >"$RESULTS"
}

# The tables, from each contender's best round of a job: its MiB/s (1M)
# or IOPS (4k) and the ratios to the kernel initiator; then where the
# guest's one CPU went in that run: busy share, CPU time per I/O (busy
# share / IOPS), the serving iscsiroot process's user and system time per
# I/O, context switches per I/O (/proc/stat counts USER_HZ = 100 ticks a
# second).
print_tables() {
	awk -F'\t' -v names="$CONTENDERS" '
	BEGIN { nc = split(names, cn, ",") }
	$7 != 0 { next }
	{
		k = $3 SUBSEP $1
		v = ($3 ~ /-1M-/) ? $4 : $5
		if (!(k in best) || v > best[k]) {
			best[k] = v; lat[k] = $6; iops[k] = $5
			busy[k] = $8; idle[k] = $9; ctxt[k] = $10; dusr[k] = $11; dsys[k] = $12
		}
		if (!($3 in seen)) { seen[$3] = 1; order[n++] = $3 }
	}
	function get(j, c) { return ((j SUBSEP c) in best) ? best[j SUBSEP c] : "-" }
	function ratio(a, b) { return (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.2f", a / b) }
	function cpu(k,   w, ios) {
		if (!(k in best) || busy[k] + idle[k] == 0 || iops[k] == 0) return sprintf(" %32s", "-")
		w = busy[k] + idle[k]; ios = iops[k] * w / 100
		return sprintf(" %4.0f%% %7.0f %6.0f %6.0f %5.1f", 100 * busy[k] / w, busy[k] / w * 1e6 / iops[k],
			       dusr[k] * 1e4 / ios, dsys[k] * 1e4 / ios, ctxt[k] / ios)
	}
	END {
		printf "%-17s %-6s", "job", "unit"
		for (i = 1; i <= nc; i++) printf " %9s", cn[i]
		for (i = 1; i <= nc; i++) if (cn[i] != "kernel") printf " %12s", cn[i] "/kernel"
		for (i = 1; i <= nc; i++) printf " %9s", "lat_" cn[i]
		printf "\n"
		for (r = 0; r < n; r++) {
			j = order[r]
			printf "%-17s %-6s", j, (j ~ /-1M-/) ? "MiB/s" : "IOPS"
			for (i = 1; i <= nc; i++) printf " %9s", get(j, cn[i])
			for (i = 1; i <= nc; i++) if (cn[i] != "kernel")
				printf " %12s", ratio(get(j, cn[i]), get(j, "kernel"))
			for (i = 1; i <= nc; i++)
				printf " %9s", ((j SUBSEP cn[i]) in lat) ? lat[j SUBSEP cn[i]] : "-"
			printf "\n"
		}
		printf "\nthe guest CPU in those runs: busy %%, CPU us per I/O (all), of it the serving iscsiroot\n"
		printf "process in user and in system mode (us per I/O), context switches per I/O\n"
		printf "%-17s", "job"
		for (i = 1; i <= nc; i++) printf " %-32s", "| " cn[i] ": busy cpu usr sys ctx"
		printf "\n"
		for (r = 0; r < n; r++) {
			j = order[r]
			printf "%-17s", j
			for (i = 1; i <= nc; i++) printf " |%s", cpu(j SUBSEP cn[i])
			printf "\n"
		}
	}' "$RESULTS"
}

if [ -n "$TABLES_FROM" ]; then
	parse_console "$TABLES_FROM"
	grep -aE "$E2E_MARK bench (attached|daemon) " "$TABLES_FROM" | sed 's/.*bench /  /'
	print_tables
	exit 0
fi
start=$(date +%s)
e2e_kernel_find || exit 1
build_initramfs || { e2e_log "initramfs failed"; exit 1; }
server_up || { e2e_log "server side failed"; exit 1; }
echo "vm-fio: kernel $E2E_KVER, $($ISCSIROOT version), fio $(fio --version)," \
	"initramfs $(stat -c %s "$INITRD") B, LUN $LUN_MIB MiB tmpfs file, ${RUNTIME} s per job" \
	"after 1 s ramp, $ROUNDS rounds, QEMU TCG one CPU"
run_boot
rc=$?
echo
print_tables
echo "(best of $ROUNDS rounds; lat_* = fio's mean completion latency in us in that run)"
fio_secs=$(($(date +%s) - start))

# Boot time: bench/boot.sh boots its own lab, after ours is gone.
e2e_dhcp_stop
e2e_tgt_stop
e2e_net_down
if [ "$BOOT_ROUNDS" -gt 0 ]; then
	echo
	echo "boot time (bench/boot.sh -n $BOOT_ROUNDS, kernel $E2E_KVER):"
	bench/boot.sh -n "$BOOT_ROUNDS" 2>&1 | grep -vE '^  round '
fi
echo
echo "vm-fio: fio part ${fio_secs} s, all $(($(date +%s) - start)) s"
exit "$rc"
