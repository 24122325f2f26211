#!/bin/bash
# SPDX-License-Identifier: MIT
# The end-to-end VM lab, sourced by the e2e tests and bench/boot.sh.
#
# A boot here is: a root disk image served by tgtd as LUN 1, inside a
# network namespace of our own (bridge br0 + tap0, addresses only in there),
# dnsmasq for DHCP on the bridge, and QEMU in software emulation on the tap,
# started with -kernel/-initrd/-append and a serial console that is logged
# with host timestamps. Everything that is started is stopped by PID, and
# the namespace and the work directory are removed on exit (the EXIT trap
# set here calls e2e_cleanup; a caller with its own trap calls it too).
#
# Nothing here sets -e: the functions return non-zero and print one line
# on stderr, and the caller decides.
set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_MARK='ISCSIROOT-E2E:'

# Server side addresses, inside the namespace only.
E2E_SERVER_IP=10.99.0.1
E2E_GUEST_IP=10.99.0.2
E2E_PREFIX=24
E2E_NETMASK=255.255.255.0
E2E_GUEST_MAC=52:54:00:e2:e0:01
E2E_IQN=iqn.2025-01.org.iscsiroot:e2e-root
E2E_INITIATOR=iqn.2025-01.org.iscsiroot:e2e-guest

# The default module set of an iscsiroot initramfs (issue 4).
E2E_MODULES_ISCSIROOT="virtio_net virtio_pci e1000 nbd ext4"

E2E_WORK=$(mktemp -d /dev/shm/iscsiroot-e2e.XXXXXX)
E2E_NS=
E2E_TGT_PID=
E2E_TGT_CTL=
E2E_TGT_IMAGE=
E2E_TGT_SETUP=()
E2E_DNSMASQ_PID=
E2E_VM_PID=
E2E_VM_STAMP_PID=
E2E_VM_LOG=
E2E_VM_RC=

e2e_log() { echo "e2e: $*" >&2; }

# e2e_wait_until SECONDS CMD...: polls CMD every 0.1 s, at most SECONDS.
e2e_wait_until() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# e2e_stop_pid PID [GRACE_TENTHS]: SIGTERM, then SIGKILL after the grace
# period (default 2 s); reaps it when it is our child.
e2e_stop_pid() {
	local pid=$1 n=${2:-20}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	while [ "$n" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		n=$((n - 1))
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

e2e_cleanup() {
	e2e_vm_kill
	e2e_dhcp_stop
	e2e_tgt_stop
	e2e_net_down
	if [ -n "${E2E_KEEP:-}" ]; then
		e2e_log "kept $E2E_WORK"
	else
		rm -rf "$E2E_WORK"
	fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- kernel

# e2e_kernel_find [SERIES]: sets E2E_KVER and E2E_KERNEL to the newest
# /boot/vmlinuz-SERIES.*-amd64, unless already set. SERIES is the argument,
# else $E2E_KERNEL_VERSION, else 6.1 (Debian 12's installed kernel). A
# series not installed is taken from .deps/kernel-SERIES/ (made by
# scripts/fetch-kernel.sh, e.g. bookworm-backports' 6.12 for ublk); then
# E2E_MODROOT is that tree, where /lib/modules/VER is looked up.
e2e_kernel_find() {
	local series=${1:-${E2E_KERNEL_VERSION:-6.1}} tree
	tree=$(cd "$E2E_DIR/../.." && pwd)/.deps/kernel-$series
	if [ -z "${E2E_KERNEL:-}" ]; then
		E2E_KERNEL=$(ls /boot/vmlinuz-"$series".*-amd64 2>/dev/null | sort -V | tail -1)
		if [ -z "$E2E_KERNEL" ] && [ -d "$tree/boot" ]; then
			E2E_KERNEL=$(ls "$tree"/boot/vmlinuz-"$series".*-amd64 2>/dev/null | sort -V | tail -1)
			E2E_MODROOT=$tree
		fi
	fi
	[ -n "$E2E_KERNEL" ] && [ -r "$E2E_KERNEL" ] ||
		{ e2e_log "no /boot/vmlinuz-$series.*-amd64 (install linux-image-amd64, or scripts/fetch-kernel.sh)"; return 1; }
	: "${E2E_KVER:=${E2E_KERNEL##*/vmlinuz-}}"
	[ -d "${E2E_MODROOT:-}/lib/modules/$E2E_KVER" ] ||
		{ e2e_log "no ${E2E_MODROOT:-}/lib/modules/$E2E_KVER"; return 1; }
}

# modinfo and modprobe on $E2E_KVER, in $E2E_MODROOT when set.
_e2e_modinfo() { modinfo ${E2E_MODROOT:+-b "$E2E_MODROOT"} -k "$E2E_KVER" "$@"; }
_e2e_modprobe() { modprobe ${E2E_MODROOT:+-d "$E2E_MODROOT"} -S "$E2E_KVER" "$@"; }

# _e2e_mod_visit NAME: depth-first over depends and softdeps (pre: before
# the module, post: after it), appending paths to _E2E_ORDER.
_e2e_mod_visit() {
	local name=${1//-/_} file deps soft word alias phase=
	[ -z "${_E2E_SEEN[$name]:-}" ] || return 0
	_E2E_SEEN[$name]=1
	file=$(_e2e_modinfo -F filename "$name" 2>/dev/null) ||
		{ e2e_log "module $name not found for $E2E_KVER"; return 1; }
	case $file in /*) ;; *) return 0 ;; esac # built into the kernel
	deps=$(_e2e_modinfo -F depends "$name")
	soft=$(_e2e_modinfo -F softdep "$name")
	for word in $soft; do
		case $word in
		pre:) phase=pre ;;
		post:) phase=post ;;
		*) [ "$phase" = pre ] && deps="$deps,softdep:$word" ;;
		esac
	done
	for word in ${deps//,/ }; do
		case $word in
		softdep:*)
			# a softdep names an alias (crypto-crc32c): every module that
			# provides it, the ones that fail to load are harmless
			for alias in $(_e2e_modprobe -R "${word#softdep:}" 2>/dev/null); do
				_e2e_mod_visit "$alias" || return 1
			done ;;
		*) _e2e_mod_visit "$word" || return 1 ;;
		esac
	done
	_E2E_ORDER+=("${file#"${E2E_MODROOT:-}"/lib/modules/$E2E_KVER/}")
	phase=
	for word in $soft; do
		case $word in
		pre:) phase=pre ;;
		post:) phase=post ;;
		*) if [ "$phase" = post ]; then
			for alias in $(_e2e_modprobe -R "$word" 2>/dev/null); do
				_e2e_mod_visit "$alias" || return 1
			done
		fi ;;
		esac
	done
}

# e2e_modules_closure MODULE...: the modules with their dependency closure
# (depends + softdeps), one path relative to /lib/modules/$E2E_KVER a line,
# in an order that insmod can follow (dependencies first).
e2e_modules_closure() {
	e2e_kernel_find || return 1
	declare -gA _E2E_SEEN=()
	_E2E_ORDER=()
	local m
	for m in "$@"; do
		_e2e_mod_visit "$m" || return 1
	done
	printf '%s\n' "${_E2E_ORDER[@]}"
}

# e2e_modules_install ROOT MODULE...: copies the closure into
# ROOT/lib/modules/$E2E_KVER/<same path>, with modules.builtin*, and runs
# depmod -b ROOT so that modules.dep/alias/softdep exist for libkmod.
e2e_modules_install() {
	local root=$1 list f dst src
	shift
	e2e_kernel_find || return 1
	list=$(e2e_modules_closure "$@") || return 1
	src=${E2E_MODROOT:-}/lib/modules/$E2E_KVER
	dst=$root/lib/modules/$E2E_KVER
	mkdir -p "$dst"
	for f in $list; do
		mkdir -p "$dst/$(dirname "$f")"
		cp "$src/$f" "$dst/$f" || return 1
	done
	# what is built in (for libkmod's answers about those names), and the
	# kernel's module order reduced to ours
	for f in modules.builtin modules.builtin.modinfo; do
		[ -f "$src/$f" ] && cp "$src/$f" "$dst/"
	done
	printf '%s\n' $list | grep -Fx -f - "$src/modules.order" \
		>"$dst/modules.order"
	depmod -b "$root" "$E2E_KVER" || { e2e_log "depmod -b $root failed"; return 1; }
}

# ------------------------------------------------------------- initramfs

# e2e_pack_cpio TREE OUT: a newc cpio of TREE, owned by root, in a stable
# order; compressed with $E2E_INITRAMFS_COMPRESS (none, the default: it
# boots faster under TCG than gzip, see README.md; or gzip).
e2e_pack_cpio() {
	local tree=$1 out=$2
	(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) >"$out.cpio" || return 1
	case ${E2E_INITRAMFS_COMPRESS:-none} in
	none) mv "$out.cpio" "$out" ;;
	gzip) gzip -n -9 <"$out.cpio" >"$out" && rm -f "$out.cpio" ;;
	*) e2e_log "unknown E2E_INITRAMFS_COMPRESS"; return 1 ;;
	esac
}

# e2e_make_initramfs OUT INIT_BINARY [SRC[:DEST]...]: an initramfs that
# holds INIT_BINARY as /init, the modules $E2E_INITRAMFS_MODULES (default
# $E2E_MODULES_ISCSIROOT) with their closure under lib/modules/<ver>/, the
# extra files (DEST is the path inside, default the same as SRC) and the
# directories the kernel needs (/dev with console, /proc, /sys, /run, /root);
# nothing else. This is the iscsiroot initramfs.
e2e_make_initramfs() {
	local out=$1 init=$2 tree=$E2E_WORK/initramfs.$$.$RANDOM spec src dst
	shift 2
	mkdir -p "$tree"/{dev,proc,sys,run,root,newroot}
	install -m 0755 "$init" "$tree/init" || return 1
	# shellcheck disable=SC2086
	e2e_modules_install "$tree" ${E2E_INITRAMFS_MODULES:-$E2E_MODULES_ISCSIROOT} ||
		return 1
	for spec in "$@"; do
		src=${spec%%:*}
		dst=${spec#*:}
		[ "$dst" != "$spec" ] || dst=$src
		mkdir -p "$tree/$(dirname "$dst")"
		cp -L "$src" "$tree/$dst" || return 1
	done
	e2e_pack_cpio "$tree" "$out" || return 1
	rm -rf "$tree"
}

# ------------------------------------------------------------- root disk

# e2e_busybox_tree DIR: busybox-static with every applet linked.
e2e_busybox_tree() {
	local dir=$1 applet bb
	bb=$(command -v busybox) || { e2e_log "no busybox"; return 1; }
	mkdir -p "$dir/bin" "$dir/sbin" "$dir/usr/bin" "$dir/usr/sbin"
	cp "$bb" "$dir/bin/busybox" || return 1
	for applet in $("$bb" --list-full); do
		[ -e "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
	done
}

# _e2e_partition IMG SECTOR_SIZE BYTES: IMG's GPT with one Linux
# partition (PARTUUID $E2E_ROOT_PARTUUID, name e2eroot) of BYTES from
# 1 MiB, counted in SECTOR_SIZE-byte sectors. 512: sfdisk. 4096: fdisk -b
# (Debian 12's sfdisk, util-linux 2.38, has no --sector-size); its
# commands: g new GPT, n partition 1 from 256 to LAST, x expert: u its
# UUID, n its name, r back, w write.
_e2e_partition() {
	local img=$1 ss=$2 bytes=$3 first
	first=$((1024 * 1024 / ss))
	case $ss in
	512) printf 'label: gpt\nstart=%d, size=%d, type=linux, uuid=%s, name=e2eroot\n' \
		"$first" $((bytes / ss)) "$E2E_ROOT_PARTUUID" | sfdisk -q "$img" >/dev/null ;;
	4096) printf 'g\nn\n1\n%d\n%d\nx\nu\n%s\nn\ne2eroot\nr\nw\n' "$first" \
		$((first + bytes / ss - 1)) "$E2E_ROOT_PARTUUID" | fdisk -b 4096 "$img" >/dev/null ;;
	*) e2e_log "E2E_ROOT_SECTOR_SIZE must be 512 or 4096"; return 1 ;;
	esac || { e2e_log "partitioning $img with $ss-byte sectors failed"; return 1; }
}

# e2e_rootdisk_build IMG [SIZE_MIB]: a GPT disk image (default 64 MiB)
# with one ext4 partition from 1 MiB, made without loop devices (sfdisk or
# fdisk on the file, mkfs.ext4 -d on a separate file, dd at the offset).
# Its /sbin/init is tests/e2e/root-init.sh; /var/lib/e2e/payload is 256
# KiB of random bytes. Sets E2E_ROOT_UUID (filesystem), E2E_ROOT_PARTUUID
# (GPT partition), E2E_ROOT_LABEL, E2E_ROOT_OFFSET (bytes) and
# E2E_ROOT_PAYLOAD_MD5, also written to IMG.env.
# E2E_ROOT_SECTOR_SIZE=4096: a 4Kn disk (the GPT and its LBAs in 4096-byte
# sectors, ext4 with 4096-byte blocks), for a LUN with that block size
# (E2E_TGT_BLOCKSIZE). E2E_ROOT_OMIT="run" or "dev proc sys run": the
# root filesystem has no such directories. E2E_ROOT_EXTRA="SRC:DEST ...":
# files installed into the root (mode 0755), e.g. the iscsiroot binary.
e2e_rootdisk_build() {
	local img=$1 size=${2:-64} tree=$E2E_WORK/rootfs.$$ part=$E2E_WORK/part.$$
	local ss=${E2E_ROOT_SECTOR_SIZE:-512} bytes d blocks=()
	E2E_ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
	E2E_ROOT_PARTUUID=$(cat /proc/sys/kernel/random/uuid)
	E2E_ROOT_LABEL=e2eroot
	E2E_ROOT_OFFSET=$((1024 * 1024))
	# the partition ends 1 MiB before the end: room for the backup GPT
	bytes=$(((size - 2) * 1024 * 1024))
	rm -rf "$tree"
	mkdir -p "$tree"/{tmp,root,etc,var/lib/e2e}
	for d in dev proc sys run; do
		case " ${E2E_ROOT_OMIT:-} " in *" $d "*) ;; *) mkdir -p "$tree/$d" ;; esac
	done
	e2e_busybox_tree "$tree" || return 1
	install -m 0755 "$E2E_DIR/root-init.sh" "$tree/sbin/init" || return 1
	for d in ${E2E_ROOT_EXTRA:-}; do
		install -D -m 0755 "${d%%:*}" "$tree/${d#*:}" || return 1
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$tree/etc/passwd"
	echo 0 >"$tree/var/lib/e2e/boot-count"
	head -c 262144 /dev/urandom >"$tree/var/lib/e2e/payload" || return 1
	E2E_ROOT_PAYLOAD_MD5=$(md5sum <"$tree/var/lib/e2e/payload" | cut -d' ' -f1)
	rm -f "$img" "$part"
	truncate -s "${size}M" "$img" || return 1
	_e2e_partition "$img" "$ss" "$bytes" || return 1
	truncate -s "$bytes" "$part"
	# ext4's blocks no smaller than the disk's (mkfs picks 1 KiB for this size)
	[ "$ss" = 512 ] || blocks=(-b "$ss")
	mkfs.ext4 -q -F "${blocks[@]}" -U "$E2E_ROOT_UUID" -L "$E2E_ROOT_LABEL" \
		-d "$tree" "$part" ||
		{ e2e_log "mkfs.ext4 failed"; return 1; }
	dd if="$part" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none || return 1
	rm -rf "$tree" "$part"
	cat >"$img.env" <<-EOF
		E2E_ROOT_UUID=$E2E_ROOT_UUID
		E2E_ROOT_PARTUUID=$E2E_ROOT_PARTUUID
		E2E_ROOT_LABEL=$E2E_ROOT_LABEL
		E2E_ROOT_OFFSET=$E2E_ROOT_OFFSET
		E2E_ROOT_PAYLOAD_MD5=$E2E_ROOT_PAYLOAD_MD5
	EOF
}

# e2e_rootdisk_cat IMG PATH: a file of the root filesystem, on stdout.
e2e_rootdisk_cat() {
	debugfs -R "cat $2" "$1?offset=${E2E_ROOT_OFFSET:-1048576}" 2>/dev/null
}

# e2e_rootdisk_boot_count IMG: the boot counter the guest's init keeps.
e2e_rootdisk_boot_count() {
	e2e_rootdisk_cat "$1" /var/lib/e2e/boot-count
}

# --------------------------------------------------------------- network

# e2e_net_up: a namespace of our own (unique name) with bridge br0
# ($E2E_SERVER_IP/$E2E_PREFIX) and tap0 enslaved to it, for QEMU. Sets
# E2E_NS. No link to the host, no route out.
e2e_net_up() {
	E2E_NS=e2e-$$-$RANDOM
	ip netns add "$E2E_NS" || { E2E_NS=; e2e_log "ip netns add failed"; return 1; }
	ip -n "$E2E_NS" link set lo up &&
		ip -n "$E2E_NS" link add br0 type bridge forward_delay 0 stp_state 0 &&
		ip -n "$E2E_NS" addr add "$E2E_SERVER_IP/$E2E_PREFIX" dev br0 &&
		ip -n "$E2E_NS" link set br0 up &&
		ip -n "$E2E_NS" tuntap add dev tap0 mode tap &&
		ip -n "$E2E_NS" link set tap0 master br0 &&
		ip -n "$E2E_NS" link set tap0 up ||
		{ e2e_log "namespace set-up failed"; return 1; }
}

# e2e_net_down: ends whatever still runs in our namespace (only what we
# started can be in there: SIGTERM, SIGKILL after 2 s), then removes it.
e2e_net_down() {
	local pids n=20
	[ -n "$E2E_NS" ] || return 0
	pids=$(ip netns pids "$E2E_NS" 2>/dev/null)
	if [ -n "$pids" ]; then
		kill $pids 2>/dev/null
		while [ "$n" -gt 0 ] && [ -n "$(ip netns pids "$E2E_NS" 2>/dev/null)" ]; do
			sleep 0.1
			n=$((n - 1))
		done
		pids=$(ip netns pids "$E2E_NS" 2>/dev/null)
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null
	fi
	ip netns del "$E2E_NS" 2>/dev/null
	E2E_NS=
}

# e2e_nsexec CMD...: CMD in the namespace. Not for daemons put in the
# background: "func &" forks a subshell, and $! would not be the daemon's
# PID (the lib starts its daemons with a direct "ip netns exec … &", which
# execs, so $! is the daemon itself).
e2e_nsexec() { ip netns exec "$E2E_NS" "$@"; }

# ------------------------------------------------------------------ tgtd

e2e_tgtadm() { tgtadm -C "$E2E_TGT_CTL" "$@"; }

_e2e_tgt_ready() { e2e_tgtadm --op show --mode system >/dev/null 2>&1; }

# a control port no other tgtd uses (the socket path is global); tgtd
# takes at most 32767, and tests/iscsi uses 100-10099
_e2e_tgt_pick_ctl() {
	local c
	for _ in $(seq 1 100); do
		c=$((20000 + RANDOM % 12000))
		[ -e "/var/run/tgtd/socket.$c" ] || [ -e "/var/run/tgtd/socket.$c.lock" ] ||
			{ echo "$c"; return 0; }
	done
	return 1
}

# _e2e_tgt_launch: tgtd in the namespace on $E2E_SERVER_IP:3260 (or
# $E2E_TGT_PORTAL, e.g. 0.0.0.0:3260 for every address of the bridge) with
# the private control port, then the target, LUN 1 and the recorded set-up.
_e2e_tgt_launch() {
	local cmd
	ip netns exec "$E2E_NS" tgtd -f -C "$E2E_TGT_CTL" \
		--iscsi "portal=${E2E_TGT_PORTAL:-$E2E_SERVER_IP:3260}" \
		>>"$E2E_WORK/tgtd.log" 2>&1 209>&- &
	E2E_TGT_PID=$!
	e2e_wait_until 10 _e2e_tgt_ready || { e2e_log "tgtd did not start"; return 1; }
	e2e_tgtadm --op new --mode target --tid 1 -T "$E2E_IQN" &&
		e2e_tgtadm --op bind --mode target --tid 1 -I ALL &&
		e2e_tgtadm --op new --mode logicalunit --tid 1 --lun 1 -b "$E2E_TGT_IMAGE" \
			${E2E_TGT_BLOCKSIZE:+--blocksize "$E2E_TGT_BLOCKSIZE"} ||
		{ e2e_log "tgtd target set-up failed"; return 1; }
	for cmd in "${E2E_TGT_SETUP[@]}"; do
		eval "e2e_tgtadm $cmd" >/dev/null || { e2e_log "tgtadm $cmd failed"; return 1; }
	done
}

# e2e_tgt_start IMAGE [IQN]: serves IMAGE as LUN 1 of target IQN (default
# $E2E_IQN) on $E2E_SERVER_IP:3260, any initiator allowed; in
# $E2E_TGT_BLOCKSIZE-byte blocks when set (4096: a 4Kn LUN), else 512.
e2e_tgt_start() {
	E2E_TGT_IMAGE=$1
	E2E_IQN=${2:-$E2E_IQN}
	E2E_TGT_SETUP=()
	E2E_TGT_CTL=$(_e2e_tgt_pick_ctl) || { e2e_log "no free tgtd control port"; return 1; }
	_e2e_tgt_launch
}

# e2e_tgt_cmd TGTADM-ARGS...: a tgtadm call that is replayed after each
# restart, e.g. e2e_tgt_param/e2e_tgt_chap below.
e2e_tgt_cmd() {
	local q
	q=$(printf '%q ' "$@")
	E2E_TGT_SETUP+=("$q")
	eval "e2e_tgtadm $q" >/dev/null
}

# e2e_tgt_param KEY VALUE: a target parameter (MaxRecvDataSegmentLength…).
e2e_tgt_param() {
	e2e_tgt_cmd --op update --mode target --tid 1 --name "$1" --value "$2"
}

# e2e_tgt_chap USER PASSWORD: one-way CHAP on the target.
e2e_tgt_chap() {
	e2e_tgt_cmd --op new --mode account --user "$1" --password "$2" &&
		e2e_tgt_cmd --op bind --mode account --tid 1 --user "$1"
}

# e2e_tgt_stop [hard]: a clean stop (offline, delete --force, delete
# system, SIGKILL after 2 s), or with "hard" SIGKILL at once, as a crash.
e2e_tgt_stop() {
	local pid=$E2E_TGT_PID
	[ -n "$pid" ] || return 0
	E2E_TGT_PID=
	if [ "${1:-}" != hard ] && kill -0 "$pid" 2>/dev/null; then
		e2e_tgtadm --op update --mode target --tid 1 -n state -v offline >/dev/null 2>&1
		e2e_tgtadm --op delete --mode target --tid 1 --force >/dev/null 2>&1
		e2e_tgtadm --op delete --mode system >/dev/null 2>&1
		e2e_wait_until 2 eval "! kill -0 $pid 2>/dev/null"
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# e2e_tgt_restart [hard] [DOWN_SECONDS]: stops tgtd (see e2e_tgt_stop),
# stays down DOWN_SECONDS (default 1), starts it again on the same port and
# control port with the same image and set-up.
e2e_tgt_restart() {
	e2e_tgt_stop "${1:-}"
	sleep "${2:-1}"
	_e2e_tgt_launch
}

# ------------------------------------------------------------------ DHCP

# e2e_dhcp_start [ROOT_PATH [DNSMASQ-ARGS...]]: a DHCP-only dnsmasq on
# br0, leases 10.99.0.100-199, with root-path option 17 when ROOT_PATH is
# not empty (e.g. "iscsi:10.99.0.1::3260:1:$E2E_IQN"). It answers DHCP
# Rapid Commit (RFC 4039): iscsiroot binds in two messages; a client that
# does not ask for it (udhcpc, iPXE) gets the usual four.
e2e_dhcp_start() {
	local rp=${1:-} opts=()
	[ $# -gt 0 ] && shift
	[ -z "$rp" ] || opts+=("--dhcp-option=17,$rp")
	rm -f "$E2E_WORK/dnsmasq.pid"
	ip netns exec "$E2E_NS" dnsmasq -k --port=0 --conf-file=/dev/null --interface=br0 \
		--bind-interfaces --dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h \
		--dhcp-authoritative --no-ping --dhcp-rapid-commit \
		--pid-file="$E2E_WORK/dnsmasq.pid" --dhcp-leasefile="$E2E_WORK/dnsmasq.leases" \
		--log-dhcp --log-facility=- "${opts[@]}" "$@" >>"$E2E_WORK/dnsmasq.log" 2>&1 209>&- &
	E2E_DNSMASQ_PID=$!
	e2e_wait_until 5 test -s "$E2E_WORK/dnsmasq.pid" ||
		{ e2e_log "dnsmasq did not start"; return 1; }
}

e2e_dhcp_stop() {
	e2e_stop_pid "$E2E_DNSMASQ_PID"
	E2E_DNSMASQ_PID=
}

# e2e_root_path [LUN]: the RFC 4173 root-path of our target.
e2e_root_path() { echo "iscsi:$E2E_SERVER_IP::3260:${1:-1}:$E2E_IQN"; }

# ------------------------------------------------------------------ QEMU

_e2e_other_vm() { pgrep '^qemu-system' >/dev/null; }

# One VM at a time on the machine: every user of this lib takes this lock
# (fd 209, held by the calling shell from e2e_vm_start until the VM is
# reaped; the daemons we start close it), and then waits for any other QEMU.
E2E_VM_LOCK=/run/lock/iscsiroot-e2e-vm.lock

_e2e_vm_unlock() { exec 209>&-; }

# e2e_vm_wait_idle [SECONDS]: takes the VM lock and waits (default 600 s)
# until no QEMU runs on the machine: there are 2 cores, and a VM beside
# ours spoils both.
e2e_vm_wait_idle() {
	local secs=${1:-600}
	exec 209>>"$E2E_VM_LOCK" || return 1
	if ! flock -n 209; then
		e2e_log "another e2e VM holds $E2E_VM_LOCK; waiting"
		flock -w "$secs" 209 || { _e2e_vm_unlock; e2e_log "VM lock not free after $secs s"; return 1; }
	fi
	_e2e_other_vm || return 0
	e2e_log "another QEMU is running; waiting for it to end"
	e2e_wait_until "$secs" eval '! _e2e_other_vm' && return 0
	_e2e_vm_unlock
	e2e_log "another QEMU is still running"
	return 1
}

# _e2e_stamp T0_US SHOW: console lines from stdin to stdout, each prefixed
# with the host time since QEMU start ("[  12.345] "); copied to stderr
# as they come when SHOW is 1.
_e2e_stamp() {
	local t0=$1 show=$2 line t
	while IFS= read -r line || [ -n "$line" ]; do
		t=${EPOCHREALTIME/./}
		t=$(((t - t0) / 1000))
		line=${line%$'\r'}
		printf '[%4d.%03d] %s\n' $((t / 1000)) $((t % 1000)) "$line"
		[ "$show" != 1 ] || printf '%s\n' "$line" >&2
	done
}

# e2e_vm_start INITRD APPEND [LOG]: QEMU (TCG, 512 MiB, one CPU) in the
# namespace on tap0, NIC $E2E_VM_NIC (virtio-net-pci, or e1000), MAC
# $E2E_GUEST_MAC, no option ROM (iPXE is not needed with -kernel and costs
# boot time; E2E_VM_NIC_ROM=FILE puts one back), -kernel $E2E_KERNEL
# -initrd INITRD -append "console=ttyS0 APPEND", -no-reboot. Returns at once; sets E2E_VM_PID and
# E2E_VM_LOG (default $E2E_WORK/console.log: each line prefixed with the
# host time since QEMU start). E2E_VM_SHOW=1 also shows the console live
# on stderr. $E2E_VM_QEMU_ARGS adds QEMU arguments (word-split).
e2e_vm_start() {
	local initrd=$1 append=$2 fifo t0
	E2E_VM_LOG=${3:-$E2E_WORK/console.log}
	[ -z "$E2E_VM_PID" ] || { e2e_log "a VM of ours is already running"; return 1; }
	e2e_kernel_find || return 1
	e2e_vm_wait_idle || return 1
	fifo=$E2E_WORK/console.fifo.$RANDOM
	rm -f "$fifo" "$E2E_VM_LOG"
	mkfifo "$fifo" || { _e2e_vm_unlock; return 1; }
	t0=${EPOCHREALTIME/./}
	_e2e_stamp "$t0" "${E2E_VM_SHOW:-0}" <"$fifo" >"$E2E_VM_LOG" 209>&- &
	E2E_VM_STAMP_PID=$!
	# shellcheck disable=SC2086
	ip netns exec "$E2E_NS" qemu-system-x86_64 -nodefaults -nographic -no-reboot \
		-machine pc -accel tcg -smp 1 -m "${E2E_VM_MEM:-512}" \
		-serial stdio \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device "${E2E_VM_NIC:-virtio-net-pci},netdev=n0,mac=$E2E_GUEST_MAC,romfile=${E2E_VM_NIC_ROM:-}" \
		-kernel "$E2E_KERNEL" -initrd "$initrd" \
		-append "console=ttyS0 $append" ${E2E_VM_QEMU_ARGS:-} \
		</dev/null >"$fifo" 2>>"$E2E_WORK/qemu.err" 209>&- &
	E2E_VM_PID=$!
	E2E_VM_RC=
}

_e2e_vm_exited() { ! kill -0 "$E2E_VM_PID" 2>/dev/null; }

_e2e_vm_reap() {
	local rc=0
	wait "$E2E_VM_PID" 2>/dev/null || rc=$?
	E2E_VM_RC=$rc
	E2E_VM_PID=
	# the stamper ends at the console's end of file
	e2e_wait_until 5 eval '! kill -0 "$E2E_VM_STAMP_PID" 2>/dev/null'
	e2e_stop_pid "$E2E_VM_STAMP_PID"
	E2E_VM_STAMP_PID=
	_e2e_vm_unlock
}

# e2e_vm_wait_exit SECONDS: 0 when QEMU exits by itself in time (poweroff;
# E2E_VM_RC holds its status), 1 if it is still running after SECONDS.
e2e_vm_wait_exit() {
	[ -n "$E2E_VM_PID" ] || return 0
	e2e_wait_until "$1" _e2e_vm_exited || return 1
	_e2e_vm_reap
}

# e2e_vm_kill: ends our QEMU by PID (SIGTERM, then SIGKILL).
e2e_vm_kill() {
	[ -n "$E2E_VM_PID" ] || return 0
	e2e_stop_pid "$E2E_VM_PID" 30
	_e2e_vm_reap
}

# e2e_log_line PATTERN: the first console line matching PATTERN (extended
# regular expression), without the time stamp; fails when there is none.
e2e_log_line() {
	local l
	l=$(grep -E -m1 -- "$1" "$E2E_VM_LOG" 2>/dev/null) || return 1
	printf '%s\n' "${l#*] }"
}

# e2e_log_has PATTERN: true when a console line matches.
e2e_log_has() { grep -qE -- "$1" "$E2E_VM_LOG" 2>/dev/null; }

# e2e_log_time PATTERN: host seconds since QEMU start at which the first
# line matching PATTERN arrived.
e2e_log_time() {
	local l
	l=$(grep -E -m1 -- "$1" "$E2E_VM_LOG" 2>/dev/null) || return 1
	l=${l#[}
	l=${l%%]*}
	echo "${l// /}"
}

# e2e_vm_wait_marker PATTERN SECONDS: 0 when a console line matches in
# time, 1 on timeout, 2 when QEMU ended without it.
e2e_vm_wait_marker() {
	local n=$(($2 * 10))
	while [ "$n" -gt 0 ]; do
		e2e_log_has "$1" && return 0
		if [ -z "$E2E_VM_PID" ] || _e2e_vm_exited; then
			[ -z "$E2E_VM_PID" ] || _e2e_vm_reap
			e2e_log_has "$1" && return 0
			return 2
		fi
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# e2e_vm_boot INITRD APPEND SECONDS: one whole boot; starts the VM and waits
# until it powers off by itself. 0 then, 1 (VM killed) if it did not end
# within SECONDS. The console is in $E2E_VM_LOG for the checks.
e2e_vm_boot() {
	e2e_vm_start "$1" "$2" || return 1
	if ! e2e_vm_wait_exit "$3"; then
		e2e_log "VM still running after $3 s; killed"
		e2e_vm_kill
		return 1
	fi
}

# e2e_console_dump [LINES]: the end of the console log, for a failure.
e2e_console_dump() {
	echo "--- console ($E2E_VM_LOG), last ${1:-60} lines" >&2
	tail -n "${1:-60}" "$E2E_VM_LOG" >&2 2>/dev/null
	[ -s "$E2E_WORK/qemu.err" ] && { echo "--- qemu stderr" >&2; tail -5 "$E2E_WORK/qemu.err" >&2; }
	return 0
}

# e2e_marker_uptime: the guest's uptime (s) printed with "init reached".
e2e_marker_uptime() {
	local l
	l=$(e2e_log_line "$E2E_MARK init reached") || return 1
	l=${l##*uptime=}
	echo "${l%% *}"
}

# e2e_server_up IMG [ROOT_PATH]: the usual server side in one call:
# namespace, tgtd serving IMG as LUN 1, dnsmasq (with ROOT_PATH if given).
e2e_server_up() {
	e2e_net_up && e2e_tgt_start "$1" && e2e_dhcp_start "${2:-}"
}

# e2e_iscsiroot_blockdev: for boots with iscsiroot as /init, NETROOT (the
# target on the lab bridge), DISK (the daemon's device) and BASE (the
# common kernel command line); E2E_BLOCKDEV=ublk picks ublk, the 6.12
# kernel and the modules it needs.
e2e_iscsiroot_blockdev() {
	NETROOT="netroot=iscsi:$E2E_SERVER_IP::3260:1:$E2E_IQN"
	DISK=/dev/nbd0
	BASE="quiet panic=-1 ip=dhcp rd.iscsi.initiator=$E2E_INITIATOR"
	if [ "${E2E_BLOCKDEV:-nbd}" = ublk ]; then
		DISK=/dev/ublkb0
		export E2E_KERNEL_VERSION=${E2E_KERNEL_VERSION:-6.12}
		E2E_INITRAMFS_MODULES="virtio_net virtio_pci e1000 ublk_drv nbd ext4"
		BASE="$BASE iscsiroot.blockdev=ublk"
	fi
}
