#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the baseline initramfs: the same boot as iscsiroot's, done by
# busybox + open-iscsi's iscsistart + the kernel's iscsi_tcp. Kernel
# command line keys:
#   e2e.ip=dhcp | ADDR/PREFIX   the guest's address (udhcpc or static)
#   e2e.portal=IP e2e.target=IQN e2e.initiator=IQN   the iSCSI login
#   e2e.rootpart=/dev/sda1      the partition to mount
#   e2e.trace=1                 the guest's uptime at each step
# Failures print one "ISCSIROOT-E2E: initramfs FAILED: …" line and power
# off, so that a test never waits for a hung guest.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
M='ISCSIROOT-E2E:'

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

fail() {
	echo "$M initramfs FAILED: $*"
	poweroff -f
	sleep 5
}

arg() {
	for w in $(cat /proc/cmdline); do
		case $w in "$1"=*) echo "${w#*=}"; return ;; esac
	done
}

# trace STEP: the guest's uptime after STEP, with e2e.trace=1
trace() {
	local up
	[ "$TRACE" = 1 ] || return 0
	read -r up _ </proc/uptime
	echo "$M baseline $1 uptime=$up"
}

load_modules() {
	local dir=/lib/modules/$(uname -r) m
	for m in $(cat /etc/e2e-modules); do
		# a softdep alternative that does not fit this CPU fails: fine
		insmod "$dir/$m" 2>/dev/null
	done
}

# wait_for PATH TENTHS: until PATH exists, bounded.
wait_for() {
	local n=$2
	while [ ! -e "$1" ] && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ -e "$1" ]
}

net_up() {
	local ip
	ip=$(arg e2e.ip)
	wait_for /sys/class/net/eth0 50 || fail "no eth0"
	ip link set eth0 up || fail "eth0 up"
	case ${ip:-dhcp} in
	dhcp) udhcpc -i eth0 -f -q -n -t 10 -T 1 -s /etc/udhcpc.script >/dev/null 2>&1 ||
		fail "no DHCP lease" ;;
	*) ip addr add "$ip" dev eth0 || fail "ip addr add $ip" ;;
	esac
}

TRACE=$(arg e2e.trace)
trace start
load_modules
trace modules
net_up
trace network
iscsistart -i "$(arg e2e.initiator)" -t "$(arg e2e.target)" -g 1 \
	-a "$(arg e2e.portal)" -p 3260 >/dev/null 2>/tmp/iscsistart.err ||
	fail "iscsistart: $(tail -1 /tmp/iscsistart.err)"
part=$(arg e2e.rootpart)
part=${part:-/dev/sda1}
trace iscsistart
wait_for "$part" 200 || fail "no $part"
trace "$part"
mkdir -p /newroot
mount -t ext4 -o rw "$part" /newroot || fail "mount $part"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
