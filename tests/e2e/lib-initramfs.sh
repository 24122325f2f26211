#!/bin/bash
# SPDX-License-Identifier: MIT
# Debian's initramfs-tools in the e2e lab, sourced after lib.sh by
# initramfs-tools.sh and debian-iscsistart.sh: a private configuration
# folder (mkinitramfs -d), a real mkinitramfs run for the e2e kernel, the
# initrd's file list, and the target's session count. The host's
# /etc/initramfs-tools and /etc/iscsi are only read, never changed.

# itools_confdir DIR: DIR becomes a copy of /etc/initramfs-tools with
# MODULES=$ITOOLS_MODULES (default most, Debian's default) and BUSYBOX=y,
# and empty hooks/, conf.d/ and scripts/local-top/ ready for more.
itools_confdir() {
	local dir=$1
	rm -rf "$dir"
	cp -a /etc/initramfs-tools "$dir" || { e2e_log "cannot copy /etc/initramfs-tools"; return 1; }
	mkdir -p "$dir/hooks" "$dir/conf.d" "$dir/scripts/local-top" || return 1
	sed -i -e '/^[[:space:]]*MODULES=/d' -e '/^[[:space:]]*BUSYBOX=/d' "$dir/initramfs.conf" &&
		printf 'MODULES=%s\nBUSYBOX=y\n' "${ITOOLS_MODULES:-most}" >>"$dir/initramfs.conf"
}

# itools_mkinitramfs CONFDIR OUT: mkinitramfs -d CONFDIR -o OUT for the e2e
# kernel ($E2E_KVER); its output goes to OUT.log, the file list
# (lsinitramfs) to OUT.list.
itools_mkinitramfs() {
	local conf=$1 out=$2
	e2e_kernel_find || return 1
	if ! mkinitramfs -d "$conf" -o "$out" "$E2E_KVER" >"$out.log" 2>&1; then
		e2e_log "mkinitramfs failed; its last lines:"
		tail -n 20 "$out.log" >&2
		return 1
	fi
	lsinitramfs "$out" >"$out.list" || { e2e_log "lsinitramfs $out failed"; return 1; }
}

# itools_has INITRD PATH...: every PATH (as lsinitramfs prints it, no
# leading slash) is in INITRD's list; names the first one missing.
itools_has() {
	local list=$1.list p
	shift
	for p in "$@"; do
		grep -qxF -- "$p" "$list" || { echo "$p"; return 1; }
	done
}

# itools_lacks INITRD PATH...: no PATH is in INITRD's list; names the
# first one present.
itools_lacks() {
	local list=$1.list p
	shift
	for p in "$@"; do
		! grep -qxF -- "$p" "$list" || { echo "$p"; return 1; }
	done
}

# itools_append_files INITRD SRC:DEST...: appends an uncompressed newc
# cpio with the files (DEST without a leading slash) to INITRD; the
# kernel unpacks the archives in order, so these replace earlier ones.
# The kernel takes an uncompressed archive only at an offset that is a
# multiple of 4 (and skips zero bytes between archives): INITRD is padded
# first.
itools_append_files() {
	local initrd=$1 tree=$E2E_WORK/append.$$.$RANDOM spec size
	shift
	size=$(stat -c %s "$initrd") || return 1
	head -c $(((4 - size % 4) % 4)) /dev/zero >>"$initrd" || return 1
	for spec in "$@"; do
		mkdir -p "$tree/$(dirname "${spec#*:}")"
		cp "${spec%%:*}" "$tree/${spec#*:}" || return 1
	done
	(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) >>"$initrd" || return 1
	rm -rf "$tree"
}

# itools_nexus_count: the I_T nexuses (sessions) tgtd has on target 1.
itools_nexus_count() {
	e2e_tgtadm --op show --mode target 2>/dev/null | grep -cE '^[[:space:]]*I_T nexus: [0-9]+'
}

# itools_sessions_while_up SECONDS: waits for the guest's init marker (at
# most SECONDS), then prints the session count tgtd sees at that moment
# (the guest is up and still running its init); nothing on a timeout.
itools_sessions_while_up() {
	e2e_vm_wait_marker "$E2E_MARK boot count" "$1" || return 1
	itools_nexus_count
}

# itools_boot WHAT INITRD APPEND COUNT: one checked boot (the caller
# defines pass MSG and fail MSG): root on /dev/nbd0p1, one session on the
# target while the guest runs (a 3 s write + verify keeps it up), the boot
# counter at COUNT, writes verified, no I/O error, no panic, poweroff.
itools_boot() {
	local what=$1 initrd=$2 append=$3 count=$4 n bad=0
	e2e_vm_start "$initrd" "quiet panic=-1 e2e.rootdev=/dev/nbd0p1 e2e.stress=3 $append" ||
		{ fail "$what: VM start"; return 1; }
	n=$(itools_sessions_while_up 240)
	if ! e2e_vm_wait_exit 180; then
		e2e_vm_kill
		fail "$what: the VM did not power off by itself"
		e2e_console_dump 60
		return 1
	fi
	e2e_log_has "$E2E_MARK init reached" ||
		{ fail "$what: init not reached"; e2e_console_dump 60; return 1; }
	_itools_check "$what: root on /dev/nbd0p1 (init at $(e2e_marker_uptime) s)" \
		e2e_log_has "$E2E_MARK root on /dev/nbd0p1\$" || bad=1
	if [ "$n" = 1 ]; then
		pass "$what: tgtd saw one session while the guest ran"
	else
		fail "$what: tgtd saw '${n}' sessions while the guest ran"
		bad=1
	fi
	_itools_check "$what: boot count $count" e2e_log_has "$E2E_MARK boot count $count\$" || bad=1
	_itools_check "$what: writes verified" e2e_log_has "$E2E_MARK stress ok" || bad=1
	_itools_check "$what: no I/O error" e2e_log_has "$E2E_MARK kernel io errors 0\$" || bad=1
	_itools_check "$what: no kernel panic" eval '! e2e_log_has "Kernel panic"' || bad=1
	_itools_check "$what: powered off" e2e_log_has "$E2E_MARK poweroff" || bad=1
	[ "$bad" = 0 ] || e2e_console_dump 60
	return "$bad"
}

# _itools_check MSG CMD...: pass MSG when CMD succeeds, else fail MSG.
_itools_check() {
	local msg=$1
	shift
	if "$@"; then pass "$msg"; else fail "not: $msg"; return 1; fi
}
