#!/bin/sh
# SPDX-License-Identifier: MIT
# /sbin/init of the e2e root disk (busybox sh). It proves the boot worked
# and leaves: every line it prints starts with "ISCSIROOT-E2E:" so the host
# can grep the serial console. Kernel command line keys it reads:
#   e2e.rootdev=GLOB  the device / must be mounted from (e.g. /dev/nbd0p1)
#   e2e.stress=SECS   a write + verify loop for SECS seconds
#   e2e.status       prints what /sbin/iscsiroot status says (E2E_ROOT_EXTRA)
#   e2e.readbench=MIB  reads MIB MiB of the whole disk with O_DIRECT, three
#                    times, and prints each time (bench/vm-multipath.sh)
# Then the root is remounted read-only and the machine powers off.
# A root without /proc (bare_root below) is checked read-only instead.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
M='ISCSIROOT-E2E:'
P=/proc                 # where proc is mounted
Q=/dev/null             # where error output goes

# arg KEY: the value of KEY=… on the kernel command line
arg() {
	for w in $(cat $P/cmdline); do
		case $w in "$1"=*) echo "${w#*=}"; return ;; esac
	done
}

check_root() {
	local dev want
	dev=$(awk '$2 == "/" { d = $1 } END { print d }' $P/mounts)
	want=$(arg e2e.rootdev)
	case $dev in
	${want:-*}) echo "$M root on $dev" ;;
	*) echo "$M root FAILED: on $dev, expected $want" ;;
	esac
}

count_boot() {
	local f=/var/lib/e2e/boot-count n
	n=$(cat $f 2>/dev/null)
	n=$((${n:-0} + 1))
	echo "$n" >$f.new && sync $f.new && mv $f.new $f && sync ||
		{ echo "$M boot count FAILED to write"; return; }
	echo "$M boot count $n"
}

# stress SECS: 1 MiB of random data written, synced, dropped from the page
# cache and read back from the disk, over and over across 8 files.
stress() {
	local secs=$1 end now i=0 a b f
	read -r now _ </proc/uptime
	end=$((${now%.*} + secs))
	while [ "$i" -lt 100000 ]; do
		read -r now _ </proc/uptime
		[ "${now%.*}" -lt "$end" ] || break
		f=/var/lib/e2e/stress.$((i % 8))
		a=$(dd if=/dev/urandom bs=64k count=16 2>/dev/null | tee $f | md5sum)
		sync
		echo 3 >/proc/sys/vm/drop_caches
		b=$(md5sum <$f)
		if [ "$a" != "$b" ]; then
			echo "$M stress FAILED at round $i"
			return
		fi
		i=$((i + 1))
	done
	echo "$M stress ok rounds=$i"
}

# readbench MIB: 1 MiB reads of the whole disk (the root's device without
# its partition number), O_DIRECT, timed by the uptime clock (10 ms).
readbench() {
	local disk round a b
	disk=$(arg e2e.rootdev)
	disk=${disk%p[0-9]*}
	for round in 1 2 3; do
		read -r a _ </proc/uptime
		dd if="$disk" of=/dev/null bs=1M count="$1" iflag=direct 2>/dev/null ||
			{ echo "$M readbench FAILED: dd of $disk"; return; }
		read -r b _ </proc/uptime
		echo "$M readbench round=$round mib=$1 cs=$(( (${b%.*} - ${a%.*}) * 100 + 1${b#*.} - 1${a#*.} ))"
	done
}

# daemon_check: the root-storage daemon's rules, seen from the booted
# system: '@' argv[0], oom_score_adj, locked memory, no file of the root
# or of the initramfs open (its exe is a memfd), and it survives TERM, INT
# and the STOP/CONT sweep with the root disk still working afterwards.
daemon_check() {
	local p pid= keeper= a exe n=0 fd t
	for p in /proc/[0-9]*; do
		t=$(tr '\0' ' ' <$p/cmdline 2>/dev/null)
		case $t in
		"@iscsiroot daemon "*) pid=${p#/proc/}; a=$t ;;
		"@iscsiroot keeper "*) keeper=${p#/proc/} ;;
		esac
	done
	[ -n "$pid" ] || { echo "$M daemon FAILED: no @iscsiroot daemon process"; return; }
	exe=$(readlink /proc/$pid/exe)
	for fd in /proc/$pid/fd/* /proc/$keeper/fd/*; do
		t=$(readlink "$fd")
		case $t in /dev/*|/proc/*|socket:*|pipe:*|anon_inode:*|/memfd:*) ;; *) n=$((n + 1)); echo "$M daemon open file $t" ;; esac
	done
	echo "$M daemon argv0=${a%% *} oom=$(cat /proc/$pid/oom_score_adj)" \
		"locked_kb=$(awk '/VmLck/ {print $2}' /proc/$pid/status)" \
		"rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status) exe=$exe files_on_root=$n" \
		"keeper=${keeper:-none} keeper_oom=$(cat /proc/$keeper/oom_score_adj)" \
		"keeper_locked_kb=$(awk '/VmLck/ {print $2}' /proc/$keeper/status)" \
		"keeper_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$keeper/status)"
	kill -TERM $pid $keeper; kill -INT $pid $keeper; kill -STOP $pid; sleep 1; kill -CONT $pid
	echo after-signals >/var/lib/e2e/daemon-check && sync
	kill -0 $pid 2>/dev/null && kill -0 $keeper 2>/dev/null &&
		[ "$(cat /var/lib/e2e/daemon-check)" = after-signals ] &&
		echo "$M daemon survived signals" || echo "$M daemon FAILED signals"
}

# count_daemons: the root-storage daemon's processes, which must be one
# of each (a second daemon for the same LUN would fight the first for the
# session).
count_daemons() {
	local p workers=0 keepers=0
	for p in $P/[0-9]*; do
		case $(tr '\0' ' ' <$p/cmdline 2>$Q) in
		"@iscsiroot daemon "*) workers=$((workers + 1)) ;;
		"@iscsiroot keeper "*) keepers=$((keepers + 1)) ;;
		esac
	done
	echo "$M daemon processes workers=$workers keepers=$keepers"
}

io_errors() {
	echo "$M kernel io errors $(dmesg | grep -cE 'I/O error|blk_update_request|EXT4-fs error|Remounting filesystem read-only')"
}

# bare_root: a root filesystem with none of /dev /proc /sys /run, mounted
# read-only, where iscsiroot detached the API filesystems it had nowhere
# to move. Nothing is written to it: proc goes on a tmpfs on /tmp.
#   ISCSIROOT-E2E: bare root: missing /dev /proc /sys /run
#   ISCSIROOT-E2E: root read-only                 a write fails, mounts say ro
#   ISCSIROOT-E2E: api mounts left 0              none of them mounted anywhere
#   ISCSIROOT-E2E: payload md5 SUM                read from the disk, through the daemon
bare_root() {
	local d missing= opts
	mount -t tmpfs tmp /tmp || echo "$M bare root FAILED: no tmpfs on /tmp"
	P=/tmp/proc
	Q=/tmp/errors
	mkdir -p $P && mount -t proc proc $P || echo "$M bare root FAILED: no proc"
	read -r up _ <$P/uptime
	echo "$M init reached uptime=$up"
	for d in dev proc sys run; do
		[ -e /$d ] || missing="$missing /$d"
	done
	echo "$M bare root: missing${missing:- nothing}"
	check_root
	opts=$(awk '$2 == "/" { o = $4 } END { print o }' $P/mounts)
	if ! touch /e2e-write-probe 2>$Q && [ "${opts%%,*}" = ro ]; then
		echo "$M root read-only"
	else
		echo "$M root FAILED: writable (options $opts)"
	fi
	echo "$M api mounts left $(awk '$5 ~ /^\/(dev|proc|sys|run)$/' $P/self/mountinfo | wc -l)"
	echo 3 >$P/sys/vm/drop_caches
	echo "$M payload md5 $(md5sum </var/lib/e2e/payload | cut -d' ' -f1)"
	count_daemons
	io_errors
	echo "$M poweroff"
	poweroff -f
	sleep 5
	echo o >$P/sysrq-trigger
}

[ -d /proc ] || bare_root
[ -r /proc/uptime ] || mount -t proc proc /proc
read -r up _ </proc/uptime
echo "$M init reached uptime=$up"
[ -d /sys/kernel ] || mount -t sysfs sys /sys
[ -c /dev/null ] || mount -t devtmpfs dev /dev

check_root
mount -o remount,rw / || echo "$M remount rw FAILED"
count_boot
[ -z "$(arg e2e.daemon)" ] || { daemon_check; count_daemons; }
s=$(arg e2e.stress)
[ -z "$s" ] || stress "$s"
s=$(arg e2e.readbench)
[ -z "$s" ] || readbench "$s"
# e2e.status: what `iscsiroot status` says (the binary is in the root)
if [ -n "$(arg e2e.status)" ]; then
	/sbin/iscsiroot status 2>&1 | sed "s/^/$M status: /"
	echo "$M status json: $(/sbin/iscsiroot status --json 2>&1)"
fi
io_errors
sync
mount -o remount,ro / || echo "$M remount ro FAILED"
echo "$M poweroff"
poweroff -f
sleep 5
echo o >/proc/sysrq-trigger
