#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# /init of the LIO guest (tests/e2e/lio.sh): Debian's kernel with the
# kernel's iSCSI target, configured by writing configfs directly (as
# targetcli does underneath), serving file LUNs on the lab bridge. Then it
# obeys one-word commands on TCP port 7000 (from the host's namespace):
#   flap SECONDS   a target portal group disabled (its sessions dropped,
#                  logins refused) for SECONDS, then enabled again
#   poweroff       the end
# Kernel command line: lio.ip=A,B (its addresses, /24 on eth0),
# lio.base=IQN-PREFIX, lio.initiator=IQN (the one ACL).
# With lio.root=DEV instead: one target, BASE:root, LUN 0 a fileio
# backstore on the block device DEV (no write cache: no DPOFUA), on
# 127.0.0.1:3260, and then the static iscsiroot execs as PID 1 and boots
# from it, as from any target (the root disk on LIO, in one VM).
# Targets, each LUN 0 a 16 MiB fileio backstore on the guest's tmpfs:
#   BASE:disk    no CHAP, any initiator (generate_node_acls), portals A and B
#   BASE:chap    one-way CHAP at the portal group (demo mode's auth)
#   BASE:mutual  mutual CHAP in the ACL of lio.initiator, no other initiator
#   BASE:digest  no CHAP, CRC32C header and data digests required
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /srv
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev 2>/dev/null
M='ISCSIROOT-E2E:'
say() { echo "$M $*" >/dev/console; }
die() { say "lio setup failed: $*"; poweroff -f; }

arg() { # arg KEY: the value of KEY= on the kernel command line
	for w in $(cat /proc/cmdline); do
		case $w in "$1"=*) echo "${w#*=}"; return ;; esac
	done
}
IPS=$(arg lio.ip)
ROOT=$(arg lio.root)
BASE=$(arg lio.base)
INITIATOR=$(arg lio.initiator)

# in dependency order; one that does not load is said and passed over (an
# accelerated crc-t10dif on a CPU without PCLMULQDQ): what is missing
# shows below, when configfs is written
for m in $(cat /lio-modules); do
	insmod "/lib/modules/$(uname -r)/$m" 2>/dev/null || say "insmod $m failed"
done
mount -t configfs configfs /sys/kernel/config || die "configfs"
ip link set lo up

C=/sys/kernel/config/target/core
I=/sys/kernel/config/target/iscsi
mkdir -p "$I" || die "no iscsi fabric"

if [ -n "$ROOT" ]; then
	b=$C/fileio_0/root t=$I/$BASE:root/tpgt_1
	mkdir -p "$b" && echo "fd_dev_name=$ROOT" >"$b/control" &&
		echo lio-root >"$b/wwn/vpd_unit_serial" && echo 1 >"$b/enable" &&
		mkdir -p "$t/lun/lun_0" && ln -s "$b" "$t/lun/lun_0/root" &&
		mkdir "$t/np/127.0.0.1:3260" &&
		echo 1 >"$t/attrib/generate_node_acls" && echo 1 >"$t/attrib/cache_dynamic_acls" &&
		echo 0 >"$t/attrib/demo_mode_write_protect" &&
		echo 0 >"$t/attrib/authentication" && echo 1 >"$t/enable" || die "root target"
	say "lio root ready"
	# as the kernel left it for an /init (lazily: LIO holds DEV open)
	umount -l /sys/kernel/config /sys /proc /dev
	exec /sbin/iscsiroot
fi

ip link set eth0 up || die "no eth0"
for a in ${IPS//,/ }; do ip addr add "$a/24" dev eth0 || die "address $a"; done

# target NAME: a fileio backstore NAME and target BASE:NAME, LUN 0 on it,
# portal group 1 listening on the first address.
target() {
	local b=$C/fileio_0/$1 t=$I/$BASE:$1/tpgt_1
	mkdir -p "$b" &&
		echo "fd_dev_name=/srv/$1.img,fd_dev_size=16777216" >"$b/control" &&
		echo "lio-$1" >"$b/wwn/vpd_unit_serial" &&
		echo 1 >"$b/enable" &&
		mkdir -p "$t/lun/lun_0" &&
		ln -s "$b" "$t/lun/lun_0/$1" &&
		mkdir "$t/np/${IPS%%,*}:3260" || die "target $1"
}

# open NAME AUTH: any initiator may log in and write; AUTH 0 or 1.
open() {
	local a=$I/$BASE:$1/tpgt_1/attrib
	echo 1 >"$a/generate_node_acls" && echo 1 >"$a/cache_dynamic_acls" &&
		echo 0 >"$a/demo_mode_write_protect" && echo "$2" >"$a/authentication" ||
		die "attrib $1"
}

enable() { echo 1 >"$I/$BASE:$1/tpgt_1/enable" || die "enable $1"; }

# put VALUE FILE: a string attribute without the newline echo adds: LIO
# keeps it in the CHAP names and secrets (targetcli writes none either)
put() { printf '%s' "$1" >"$2"; }

target disk
open disk 0
mkdir "$I/$BASE:disk/tpgt_1/np/${IPS#*,}:3260" || die "second portal"
enable disk

target chap
open chap 1
put alice "$I/$BASE:chap/tpgt_1/auth/userid" &&
	put alice-secret-1 "$I/$BASE:chap/tpgt_1/auth/password" || die "chap auth"
enable chap

target mutual
acl=$I/$BASE:mutual/tpgt_1/acls/$INITIATOR
echo 1 >"$I/$BASE:mutual/tpgt_1/attrib/authentication" &&
	mkdir -p "$acl/lun_0" &&
	ln -s "$I/$BASE:mutual/tpgt_1/lun/lun_0" "$acl/lun_0/lun_0" &&
	put bob "$acl/auth/userid" && put bob-secret-123 "$acl/auth/password" &&
	put tgtuser "$acl/auth/userid_mutual" &&
	put target-secret1 "$acl/auth/password_mutual" || die "mutual acl"
enable mutual

target digest
open digest 0
echo CRC32C >"$I/$BASE:digest/tpgt_1/param/HeaderDigest" &&
	echo CRC32C >"$I/$BASE:digest/tpgt_1/param/DataDigest" || die "digest params"
enable digest

say "lio ready"

while :; do
	cmd=$(nc -l -p 7000 </dev/null)
	case $cmd in
	flap\ *)
		echo 0 >"$I/$BASE:disk/tpgt_1/enable" && say "tpg disabled" ||
			say "tpg disable failed"
		sleep "${cmd#flap }"
		echo 1 >"$I/$BASE:disk/tpgt_1/enable" && say "tpg enabled" ||
			say "tpg enable failed" ;;
	poweroff)
		say "poweroff"
		poweroff -f ;;
	*) say "unknown command '$cmd'" ;;
	esac
done
