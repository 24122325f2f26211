#!/bin/bash
# SPDX-License-Identifier: MIT
# Boot time, QEMU start -> the root's init marker, of several initramfs
# "contenders" booting the same disk from the same tgtd, interleaved in one
# run (ABBA order) so that the load of the machine hits them alike.
#
# usage: bench/boot.sh [-n ROUNDS] [-c NAME,NAME...] [--net dhcp|static] [--show]
#   -n       rounds (default 3); each round boots every contender once
#   -c       contenders (default baseline,iscsiroot; also iscsiroot_ublk,
#            with E2E_KERNEL_VERSION=6.12, and iscsiroot_b, iscsiroot_ublk_b
#            with $ISCSIROOT_B); the first is the reference of the ratios
#   --net    how the guest gets its address (default dhcp)
#   --show   the consoles live on stderr
# ISCSIROOT=path of the static binary, for the iscsiroot contender
# (default build-musl/iscsiroot); ISCSIROOT_B=another, for iscsiroot_b
# and iscsiroot_ublk_b (two builds compared in one run).
#
# Two clocks per boot:
#  - host: host seconds from QEMU's start to the arrival of the marker line
#    on the serial console (each line is stamped as it arrives; the marker is
#    printed at once by the guest, so unlike the kernel's early lines it is
#    not held back). This is the figure to compare: it holds firmware,
#    kernel load and decompression, and the initramfs's unpacking.
#  - guest: the guest's /proc/uptime printed in the marker line: time since
#    the kernel's clock started (after decompression), free of the host's
#    QEMU start-up and of serial latency.
# host - guest is the part before the guest clock starts (~3.5 s here).
#
# Then the initrd phase step by step, on the guest clock (medians): for
# iscsiroot its own summary line ("boot: /init to init N ms: modules …",
# pivot/boot.c), for the baseline the uptimes its /init prints with
# e2e.trace=1 (start, modules, network, iscsistart, partition); "phase" is
# /init's start -> the root init's marker for both (it holds the root's
# busybox shell start-up, ~0.1 s, which iscsiroot's own total does not).
set -u
cd "$(dirname "$0")/.."
. tests/e2e/lib.sh
. tests/e2e/baseline.sh

ROUNDS=3
CONTENDERS=baseline,iscsiroot
BENCH_NET=dhcp
while [ $# -gt 0 ]; do
	case $1 in
	-n) ROUNDS=$2; shift ;;
	-c) CONTENDERS=$2; shift ;;
	--net) BENCH_NET=$2; shift ;;
	--show) export E2E_VM_SHOW=1 ;;
	*) sed -n '7,16s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done

# A contender is a function contender_NAME INITRD: it writes its initramfs
# to INITRD and sets C_APPEND, the kernel command line (console=ttyS0 is
# added), for a boot of the lab's disk (target $E2E_IQN, LUN 1, on
# $E2E_SERVER_IP:3260; the guest's address by $BENCH_NET: dhcp, or static
# $E2E_GUEST_IP/$E2E_PREFIX). The server side is up when it is called.
# It returns non-zero, with one line on stderr, when it cannot run.

contender_baseline() {
	baseline_make_initramfs "$1" || return 1
	C_APPEND="$(baseline_append "$BENCH_NET") e2e.trace=1"
}

# The same baseline packed with gzip: to measure what compression costs.
contender_baseline_gzip() {
	E2E_INITRAMFS_COMPRESS=gzip baseline_make_initramfs "$1" || return 1
	C_APPEND=$(baseline_append "$BENCH_NET")
}

# iscsiroot as the only program of the initramfs (owner: the PID 1 mode
# work of issue 4, which may adapt the command line to its keys).
contender_iscsiroot() {
	local bin=${ISCSIROOT:-build-musl/iscsiroot} ip=dhcp
	[ -x "$bin" ] || { e2e_log "iscsiroot: no static binary at $bin (set ISCSIROOT)"; return 1; }
	e2e_make_initramfs "$1" "$bin" || return 1
	[ "$BENCH_NET" = static ] &&
		ip=$E2E_GUEST_IP::$E2E_SERVER_IP:$E2E_NETMASK::eth0:off
	C_APPEND="quiet panic=-1 ip=$ip rd.iscsi.initiator=$E2E_INITIATOR"
	C_APPEND+=" netroot=iscsi:$E2E_SERVER_IP::3260:1:$E2E_IQN e2e.rootdev=/dev/nbd0p1"
}

# iscsiroot on ublk (the 6.12 kernel's ublk_drv: E2E_KERNEL_VERSION=6.12).
contender_iscsiroot_ublk() {
	E2E_INITRAMFS_MODULES="virtio_net virtio_pci e1000 ublk_drv nbd ext4" \
		contender_iscsiroot "$1" || return 1
	C_APPEND="${C_APPEND/nbd0p1/ublkb0p1} iscsiroot.blockdev=ublk"
}

# The same two with the binary $ISCSIROOT_B.
contender_iscsiroot_b() {
	[ -n "${ISCSIROOT_B:-}" ] || { e2e_log "iscsiroot_b: set ISCSIROOT_B"; return 1; }
	ISCSIROOT=$ISCSIROOT_B contender_iscsiroot "$1"
}
contender_iscsiroot_ublk_b() {
	[ -n "${ISCSIROOT_B:-}" ] || { e2e_log "iscsiroot_ublk_b: set ISCSIROOT_B"; return 1; }
	ISCSIROOT=$ISCSIROOT_B contender_iscsiroot_ublk "$1"
}

# stats FILE: "min / median / max" of the numbers in FILE
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f / %.2f / %.2f s", v[1], m, v[NR] }'
}
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

e2e_kernel_find || exit 1
IMG=$E2E_WORK/root.img
e2e_rootdisk_build "$IMG" || exit 1
e2e_server_up "$IMG" || exit 1

NAMES=()
for name in ${CONTENDERS//,/ }; do
	declare -F "contender_$name" >/dev/null || { e2e_log "no contender $name"; continue; }
	C_APPEND=
	if "contender_$name" "$E2E_WORK/$name.initrd"; then
		NAMES+=("$name")
		echo "$C_APPEND" >"$E2E_WORK/$name.append"
		: >"$E2E_WORK/$name.host"
		: >"$E2E_WORK/$name.guest"
		: >"$E2E_WORK/$name.fails"
		: >"$E2E_WORK/$name.steps"
	else
		e2e_log "contender $name skipped"
	fi
done
[ ${#NAMES[@]} -gt 0 ] || { e2e_log "no contender can run"; exit 1; }

# steps_of GUEST_MARKER: "STEP MS" lines of the boot in $E2E_VM_LOG, from
# iscsiroot's summary line or the baseline's e2e.trace lines.
steps_of() {
	local l
	if l=$(e2e_log_line 'iscsiroot: boot: /init to init'); then
		awk -v m="$1" '{
			sub(/.*boot: \/init to init /, ""); total = $1
			at = $0; sub(/.*\(at /, "", at); sub(/ s.*/, "", at)
			idle = ""; if (match($0, /CPU idle [0-9]+/)) idle = substr($0, RSTART + 9, RLENGTH - 9)
			sub(/^[0-9]+ ms: /, ""); sub(/ \(at .*/, "")
			n = split($0, s, ", ")
			for (i = 1; i <= n; i++) { split(s[i], kv, " "); print kv[1], kv[2] }
			print "total", total; if (idle ~ /^[0-9]+$/) print "idle", idle
			printf "phase %.0f\n", (m - at) * 1000 + total }' <<<"$l"
	else
		grep -oE "$E2E_MARK baseline [^ ]+ uptime=[0-9.]+" "$E2E_VM_LOG" |
			awk -v m="$1" '{ split($4, u, "="); t[$3] = u[2]; o[++n] = $3 }
			END { if (!n) exit
				for (i = 2; i <= n; i++) printf "%s %.0f\n", o[i], (t[o[i]] - t[o[i-1]]) * 1000
				printf "mount+switch %.0f\n", (m - t[o[n]]) * 1000
				printf "phase %.0f\n", (m - t["start"]) * 1000 }'
	fi
}

# boot_once NAME ROUND: one timed boot, the figures appended to the files
boot_once() {
	local name=$1 round=$2 host guest
	e2e_vm_boot "$E2E_WORK/$name.initrd" "$(cat "$E2E_WORK/$name.append")" 120
	if host=$(e2e_log_time "$E2E_MARK init reached") && guest=$(e2e_marker_uptime); then
		echo "$host" >>"$E2E_WORK/$name.host"
		echo "$guest" >>"$E2E_WORK/$name.guest"
		steps_of "$guest" | sed "s/^/$round /" >>"$E2E_WORK/$name.steps"
		printf '  round %d %-16s host %6.2f s  guest %6.2f s\n' "$round" "$name" "$host" "$guest"
	else
		echo x >>"$E2E_WORK/$name.fails"
		printf '  round %d %-16s FAILED (no marker); not booted again\n' "$round" "$name"
		e2e_console_dump 15
	fi
}

echo "kernel $E2E_KVER, $ROUNDS rounds, guest address by $BENCH_NET, QEMU TCG one CPU"
for round in $(seq 1 "$ROUNDS"); do
	order=("${NAMES[@]}")
	if [ $((round % 2)) = 0 ]; then # ABBA: reverse every other round
		order=()
		for ((i = ${#NAMES[@]} - 1; i >= 0; i--)); do order+=("${NAMES[i]}"); done
	fi
	for name in "${order[@]}"; do
		[ -s "$E2E_WORK/$name.fails" ] || boot_once "$name" "$round"
	done
done

echo
printf '%-16s %10s  %-30s %-30s %s\n' contender "initramfs" \
	"host: QEMU start -> marker" "guest uptime at marker" fails
for name in "${NAMES[@]}"; do
	printf '%-16s %8d B  %-30s %-30s %d\n' "$name" "$(stat -c %s "$E2E_WORK/$name.initrd")" \
		"$(stats "$E2E_WORK/$name.host")" "$(stats "$E2E_WORK/$name.guest")" \
		"$(wc -l <"$E2E_WORK/$name.fails")"
done
ref=${NAMES[0]}
for name in "${NAMES[@]:1}"; do
	for clock in host guest; do
		a=$(median "$E2E_WORK/$name.$clock")
		b=$(median "$E2E_WORK/$ref.$clock")
		[ -n "$a" ] && [ -n "$b" ] &&
			awk -v a="$a" -v b="$b" -v n="$name" -v r="$ref" -v c="$clock" \
				'BEGIN { printf "ratio %s / %s (%s medians): %.2f\n", n, r, c, a / b }'
	done
done

# The initrd phase step by step: each contender's median per step, ms.
echo
echo "initrd phase on the guest clock, ms (median of the rounds; - : no such step)"
for name in "${NAMES[@]}"; do
	awk -v n="$name" '{ print n, $2, $3 }' "$E2E_WORK/$name.steps"
done | awk '
	{ key = $1 SUBSEP $2; v[key, ++c[key]] = $3
	  if (!($2 in seen)) { seen[$2] = 1; order[++ns] = $2 }
	  if (!($1 in cs)) { cs[$1] = 1; cont[++nc] = $1 } }
	function med(key,   i, j, t, k, a) {
		k = c[key]; if (!k) return "-"
		for (i = 1; i <= k; i++) a[i] = v[key, i]
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
	END {
		printf "%-14s", "step"; for (j = 1; j <= nc; j++) printf " %16s", cont[j]; print ""
		for (i = 1; i <= ns; i++) {
			printf "%-14s", order[i]
			for (j = 1; j <= nc; j++) printf " %16s", med(cont[j] SUBSEP order[i])
			print ""
		} }'
