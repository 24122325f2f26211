#!/bin/bash
# SPDX-License-Identifier: MIT
# Whole Debian 12 roots for the e2e lab (systemd as init), sourced after
# lib.sh by dracut.sh and deb-boot.sh: a root tree made once by
# debootstrap with its packages and cached as .deps/e2e-root-NAME.tar, a
# fresh copy of it for each run, commands run inside it (mkinitramfs,
# dracut, dpkg -i) against the e2e kernel's modules, and the copy made
# into a GPT + ext4 disk image whose systemd runs a check at multi-user
# and powers off. The machine's own /etc and /lib/modules are only read.

DEBROOT_TOP=$(cd "$E2E_DIR/../.." && pwd)
DEBROOT_DEPS=$DEBROOT_TOP/.deps
DEBROOT=
# The roots' packages beside minbase (prebuild-roots.sh makes them ahead):
# dracut.sh's (Debian's dracut-network needs procps and dbus) and
# deb-boot.sh's (initramfs-tools).
DEBROOT_PKGS_DRACUT=systemd-sysv,udev,kmod,procps,dbus,dracut,dracut-network,open-iscsi
DEBROOT_PKGS_ITOOLS=systemd-sysv,udev,kmod,initramfs-tools,busybox

# debroot_cached NAME PACKAGES: the path of .deps/e2e-root-NAME.tar,
# made first when missing, older than 30 days or made for another package
# list or mirror (debootstrap --variant=minbase with PACKAGES, a comma
# list; no service starts in the tree). One builder at a time.
debroot_cached() {
	local name=$1 pkgs=$2 tar=$DEBROOT_DEPS/e2e-root-$1.tar mirror recipe work
	# shellcheck source=scripts/debian-mirror.sh
	. "$DEBROOT_TOP/scripts/debian-mirror.sh"
	mirror=$(debian_mirror)
	[ -n "$mirror" ] || { e2e_log "no bookworm mirror in /etc/apt/sources.list(.d)"; return 1; }
	recipe="debootstrap --variant=minbase --include=$pkgs bookworm $mirror"
	mkdir -p "$DEBROOT_DEPS"
	exec 207>"$DEBROOT_DEPS/.e2e-root.lock"
	flock -w 1200 207 || { exec 207>&-; e2e_log "e2e root lock busy"; return 1; }
	if [ ! -f "$tar" ] || [ "$(cat "$tar.recipe" 2>/dev/null)" != "$recipe" ] ||
		[ -n "$(find "$tar" -mtime +30)" ]; then
		e2e_log "making $tar ($recipe), once"
		work=$(mktemp -d /var/tmp/iscsiroot-debroot.XXXXXX)
		if ! unshare --mount --propagation private debootstrap --variant=minbase \
			--include="$pkgs" bookworm "$work/root" "$mirror" >"$work/log" 2>&1; then
			tail -20 "$work/log" >&2
			rm -rf --one-file-system "$work"
			exec 207>&-
			e2e_log "debootstrap failed"
			return 1
		fi
		rm -f "$work/root/var/cache/apt/archives/"*.deb
		tar --numeric-owner -C "$work/root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar" &&
			echo "$recipe" >"$tar.recipe"
		rm -rf --one-file-system "$work"
	fi
	exec 207>&-
	echo "$tar"
}

# debroot_unpack TAR: a fresh copy in $E2E_WORK/debroot, as DEBROOT, with
# policy-rc.d forbidding service starts (dpkg -i of a package).
debroot_unpack() {
	DEBROOT=$E2E_WORK/debroot
	rm -rf "$DEBROOT"
	mkdir -p "$DEBROOT"
	tar --numeric-owner -C "$DEBROOT" -xf "$1" || return 1
	printf '#!/bin/sh\nexit 101\n' >"$DEBROOT/usr/sbin/policy-rc.d" &&
		chmod 755 "$DEBROOT/usr/sbin/policy-rc.d"
}

# debroot_run CMD...: CMD chrooted in DEBROOT, in mount and PID namespaces
# of its own (its mounts and processes end with it), with /proc, /sys
# (read-only), /dev and the e2e kernel's modules (read-only) at
# /lib/modules/$E2E_KVER; no network (a namespace with nothing in it).
debroot_run() {
	e2e_kernel_find || return 1
	local mods=${E2E_MODROOT:-}/lib/modules/$E2E_KVER
	mkdir -p "$DEBROOT/lib/modules/$E2E_KVER"
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare --net --mount --propagation private --pid --fork --kill-child -- /bin/bash -c '
		set -e
		root=$1 mods=$2 kver=$3
		shift 3
		mount -t proc proc "$root/proc"
		mount -t sysfs -o ro sysfs "$root/sys"
		mount --rbind /dev "$root/dev"
		mount --bind -o ro "$mods" "$root/lib/modules/$kver"
		mount -t tmpfs tmpfs "$root/run"
		mount -t tmpfs tmpfs "$root/tmp"
		chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
		' debroot "$DEBROOT" "$mods" "$E2E_KVER" "$@"
}

# debroot_guest_check: the guest's side of a boot, in DEBROOT: a unit run
# once systemd reached multi-user.target that prints markers on the
# console (root device, boot count, writes verified, `iscsiroot status`,
# the daemon's process names), and powers off. /etc/fstab mounts the root
# by UUID ($E2E_ROOT_UUID, chosen here).
debroot_guest_check() {
	E2E_ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
	printf 'UUID=%s / ext4 defaults 0 1\n' "$E2E_ROOT_UUID" >"$DEBROOT/etc/fstab"
	echo e2e-guest >"$DEBROOT/etc/hostname"
	mkdir -p "$DEBROOT/var/lib/e2e"
	echo 0 >"$DEBROOT/var/lib/e2e/boot-count"
	install -m 0755 /dev/stdin "$DEBROOT/usr/local/sbin/e2e-check" <<-'EOF'
		#!/bin/sh
		# the e2e check, run by e2e-check.service at multi-user
		m() { echo "ISCSIROOT-E2E: $*" >/dev/console; }
		m "init reached uptime=$(cut -d' ' -f1 /proc/uptime) state=$(systemctl is-system-running)"
		m "root on $(findmnt -n -o SOURCE /)"
		n=$(($(cat /var/lib/e2e/boot-count) + 1))
		echo "$n" >/var/lib/e2e/boot-count
		m "boot count $n"
		head -c 4194304 /dev/urandom >/var/lib/e2e/written
		sum=$(md5sum </var/lib/e2e/written)
		sync
		echo 3 >/proc/sys/vm/drop_caches
		[ "$(md5sum </var/lib/e2e/written)" = "$sum" ] && m "stress ok"
		iscsiroot status 2>&1 | sed 's/^/ISCSIROOT-E2E: status: /' >/dev/console
		for p in /proc/[0-9]*; do
			tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q '^@iscsiroot' &&
				m "daemon process $(tr '\0' ' ' <"$p/cmdline")"
		done
		m "kernel io errors $(dmesg | grep -c 'I/O error')"
		m "poweroff"
		systemctl poweroff
	EOF
	cat >"$DEBROOT/etc/systemd/system/e2e-check.service" <<-'EOF'
		[Unit]
		Description=iscsiroot e2e check
		After=multi-user.target
		[Service]
		Type=oneshot
		ExecStart=/usr/local/sbin/e2e-check
		[Install]
		WantedBy=multi-user.target
	EOF
	mkdir -p "$DEBROOT/etc/systemd/system/multi-user.target.wants"
	ln -sf ../e2e-check.service "$DEBROOT/etc/systemd/system/multi-user.target.wants/"
	# No login prompt on the console, no units that wait for a network.
	ln -sf /dev/null "$DEBROOT/etc/systemd/system/serial-getty@.service"
	ln -sf /dev/null "$DEBROOT/etc/systemd/system/getty@.service"
}

# debroot_image IMG SIZE_MIB: DEBROOT as a GPT disk image with one ext4
# partition from 1 MiB (UUID $E2E_ROOT_UUID), as e2e_rootdisk_build makes
# it; sets E2E_ROOT_OFFSET and E2E_ROOT_PARTUUID.
debroot_image() {
	local img=$1 size=$2 part=$E2E_WORK/debroot.part bytes
	E2E_ROOT_PARTUUID=$(cat /proc/sys/kernel/random/uuid)
	E2E_ROOT_OFFSET=$((1024 * 1024))
	bytes=$(((size - 2) * 1024 * 1024))
	rm -f "$img" "$part"
	truncate -s "${size}M" "$img" && _e2e_partition "$img" 512 "$bytes" || return 1
	truncate -s "$bytes" "$part"
	rm -rf "$DEBROOT/lib/modules/$E2E_KVER"
	mkfs.ext4 -q -F -U "$E2E_ROOT_UUID" -L e2eroot -d "$DEBROOT" "$part" ||
		{ e2e_log "mkfs.ext4 failed"; return 1; }
	dd if="$part" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none || return 1
	rm -f "$part"
}

# debroot_fsck IMG: fsck -n of the image's root partition (the guest is
# off); prints e2fsck's verdict and the filesystem state, fails when
# either is not clean.
debroot_fsck() {
	local part=$E2E_WORK/fsck.part out state
	dd if="$1" of="$part" bs=1M skip=1 count=$(($(stat -c %s "$1") / 1048576 - 2)) \
		conv=sparse status=none || return 1
	out=$(e2fsck -f -n "$part" 2>&1)
	local rc=$?
	state=$(dumpe2fs -h "$part" 2>/dev/null | sed -n 's/^Filesystem state: *//p')
	rm -f "$part"
	echo "e2fsck -f -n exit $rc, state '$state': $(echo "$out" | tail -1)"
	[ "$rc" = 0 ] && [ "$state" = clean ]
}

# debroot_boot WHAT INITRD APPEND COUNT: one checked boot of the image
# being served (the caller defines pass MSG and fail MSG): systemd reaches
# multi-user with root on the iSCSI disk, boot count COUNT, writes
# verified, `iscsiroot status` answers, the daemon's processes carry the
# '@' name, no I/O error, and the guest powers off by itself.
debroot_boot() {
	local what=$1 initrd=$2 append=$3 count=$4 bad=0
	e2e_vm_start "$initrd" "panic=-1 rw $append" || { fail "$what: VM start"; return 1; }
	if ! e2e_vm_wait_exit "${DEBROOT_BOOT_SECONDS:-420}"; then
		e2e_vm_kill
		fail "$what: the VM did not power off by itself"
		e2e_console_dump 80
		return 1
	fi
	e2e_log_has "$E2E_MARK init reached" ||
		{ fail "$what: multi-user not reached"; e2e_console_dump 80; return 1; }
	_itools_check "$what: multi-user reached ($(e2e_log_line "$E2E_MARK init reached" | sed 's/.*uptime=//'))" true
	_itools_check "$what: $(e2e_log_line "$E2E_MARK root on" | sed "s/$E2E_MARK //")" \
		e2e_log_has "$E2E_MARK root on /dev/(nbd0p1|root)\$" || bad=1
	_itools_check "$what: boot count $count" e2e_log_has "$E2E_MARK boot count $count\$" || bad=1
	_itools_check "$what: writes verified" e2e_log_has "$E2E_MARK stress ok" || bad=1
	_itools_check "$what: iscsiroot status: $(e2e_log_line "$E2E_MARK status: " | sed "s/$E2E_MARK status: //")" \
		e2e_log_has "$E2E_MARK status: .*$E2E_IQN" || bad=1
	_itools_check "$what: $(e2e_log_line "$E2E_MARK daemon process" | sed "s/$E2E_MARK //")" \
		e2e_log_has "$E2E_MARK daemon process @iscsiroot" || bad=1
	_itools_check "$what: no I/O error" e2e_log_has "$E2E_MARK kernel io errors 0\$" || bad=1
	_itools_check "$what: no kernel panic" eval '! e2e_log_has "Kernel panic"' || bad=1
	_itools_check "$what: powered off (the kernel's 'reboot: Power down')" \
		e2e_log_has "reboot: Power down" || bad=1
	[ "$bad" = 0 ] || e2e_console_dump 80
	return "$bad"
}
