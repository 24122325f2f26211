#!/bin/bash
# SPDX-License-Identifier: MIT
# Debian 12 roots run by a network manager, for handover.sh: a debootstrap
# tree per manager, cached as a tar under .deps/, made into a root disk
# image with the test's own systemd unit. Sourced after lib.sh.

HANDOVER_DEPS=$(cd "$E2E_DIR/../.." && pwd)/.deps
# The packages of the networkd root beside minbase: systemd as init, udev,
# D-Bus (networkctl talks to networkd over it), iproute2 for the checks.
# The NetworkManager root is that root plus network-manager, installed by
# apt inside it (debootstrap's --include cannot configure polkitd). Both
# from Debian's archive.
HANDOVER_PKGS=systemd,systemd-sysv,udev,dbus,iproute2

# handover_root_tar KIND: prints the path of .deps/handover-root-KIND.tar
# (KIND networkd or nm), made by debootstrap when missing, when its recipe
# (mirror, packages) changed, or after 30 days. One maker at a time.
handover_root_tar() {
	local kind=$1 tar=$HANDOVER_DEPS/handover-root-$1.tar mirror recipe work base=
	if [ "$kind" != networkd ]; then
		base=$(handover_root_tar networkd) || return 1
	fi
	# shellcheck source=scripts/debian-mirror.sh
	. "$E2E_DIR/../../scripts/debian-mirror.sh"
	mirror=$(debian_mirror)
	[ -n "$mirror" ] || { e2e_log "no bookworm mirror in /etc/apt/sources.list(.d)"; return 1; }
	recipe="debootstrap --variant=minbase --include=$HANDOVER_PKGS bookworm $mirror"
	[ "$kind" = networkd ] || recipe="$recipe; apt-get install network-manager"
	exec 208>>"$HANDOVER_DEPS/.handover-root.lock" && flock 208 || return 1
	if [ -f "$tar" ] && [ "$(cat "$tar.recipe" 2>/dev/null)" = "$recipe" ] &&
		[ -z "$(find "$tar" -mtime +30)" ]; then
		exec 208>&-
		echo "$tar"
		return 0
	fi
	e2e_log "$recipe (once; cached as $tar)"
	work=$(mktemp -d "$HANDOVER_DEPS/handover-debootstrap.XXXXXX")
	if ! _handover_make_tree "$work" "$mirror" "$base" >"$work/log" 2>&1; then
		tail -20 "$work/log" >&2
		rm -rf "$work"
		exec 208>&-
		e2e_log "debootstrap failed (log above)"
		return 1
	fi
	rm -f "$work/root/var/cache/apt/archives/"*.deb
	rm -rf "$work/root/usr/share/doc" "$work/root/usr/share/man" "$work/root/usr/share/locale"
	tar --numeric-owner -C "$work/root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar" &&
		echo "$recipe" >"$tar.recipe"
	rm -rf "$work"
	exec 208>&-
	[ -f "$tar" ] && echo "$tar"
}

# _handover_make_tree WORK MIRROR [BASE_TAR]: WORK/root made by debootstrap,
# or from BASE_TAR plus network-manager. In mount and PID namespaces of
# their own, so nothing mounted or started in the tree outlives the call;
# policy-rc.d keeps packages from starting services.
_handover_make_tree() {
	local work=$1 mirror=$2 base=${3:-}
	if [ -z "$base" ]; then
		unshare --mount --propagation private debootstrap --variant=minbase \
			--include="$HANDOVER_PKGS" bookworm "$work/root" "$mirror"
		return
	fi
	mkdir -p "$work/root" && tar --numeric-owner -C "$work/root" -xf "$base" || return 1
	cp -L /etc/resolv.conf "$work/root/etc/resolv.conf"
	printf '#!/bin/sh\nexit 101\n' >"$work/root/usr/sbin/policy-rc.d"
	chmod 755 "$work/root/usr/sbin/policy-rc.d"
	unshare --mount --pid --fork --propagation private sh -ec '
		r=$1
		mount -t proc proc "$r/proc"
		mount -t sysfs -o ro sysfs "$r/sys"
		mount --bind /dev "$r/dev"
		chroot "$r" apt-get update
		chroot "$r" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends network-manager
		chroot "$r" apt-get clean
	' sh "$work/root" || return 1
	rm -f "$work/root/usr/sbin/policy-rc.d" "$work/root/etc/resolv.conf"
	rm -rf "$work/root/var/lib/apt/lists/"*
}
