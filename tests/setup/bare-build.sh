#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's promise, checked on a bare Debian 12: in a fresh copy of a
# debootstrap --variant=minbase bookworm tree, with this working tree's
# sources copied in, scripts/deps.sh first refuses and names what is
# missing, then scripts/setup.sh installs everything and builds nettle, and
# scripts/build.sh builds a static iscsiroot that runs. See README.md here.
#
#   tests/setup/bare-build.sh          # as root; BARE_KEEP=1 keeps the tree
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
deps=$top/.deps
# The pristine minbase tree, made once by debootstrap; every run unpacks a
# fresh copy, so nothing an earlier run installed can hide a missing package.
pristine=$deps/bare-bookworm.tar
project=/root/iscsiroot   # where the sources go inside the tree
logs=$deps/bare-logs      # the last run's logs
# shellcheck source=scripts/debian-mirror.sh
. "$top/scripts/debian-mirror.sh"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
step() { printf '[%4d s] %s\n' "$SECONDS" "$*"; }
# Any other command that fails ends the run with a line that names it.
trap 'rc=$?; echo "FAIL: line $LINENO: $BASH_COMMAND (exit $rc)" >&2' ERR

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, mounts)"
for tool in debootstrap unshare chroot findmnt; do
	command -v "$tool" >/dev/null || fail "no $tool on this machine (scripts/setup.sh installs debootstrap)"
done
mirror=$(debian_mirror)
[ -n "$mirror" ] || fail "no bookworm mirror in /etc/apt/sources.list(.d)"

# The mounts below DIR in this namespace, deepest first.
mounts_under() {
	findmnt -rn -o TARGET | awk -v d="$1/" 'index($0, d) == 1' | sort -r
}

# Removes DIR, but only once nothing is mounted below it.
remove_tree() {
	local dir=$1 m
	[ -d "$dir" ] || return 0
	for m in $(mounts_under "$dir"); do
		umount -l "$m" || true
	done
	if [ -n "$(mounts_under "$dir")" ]; then
		echo "bare-build: still mounted below $dir, left in place" >&2
		return 1
	fi
	rm -rf --one-file-system "$dir"
}

work=
cleanup() {
	local rc=$?
	if [ -n "$work" ]; then
		if [ "${BARE_KEEP:-0}" = 1 ] && [ -d "$work/root" ]; then
			echo "bare-build: kept $work/root (the next run removes it)" >&2
		else
			remove_tree "$work" || rc=1
		fi
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

mkdir -p "$deps" "$logs"
# One run at a time on this machine: the tarball and the logs are shared by
# every clone that shares .deps, and two runs would only slow each other.
exec 8>"$deps/.bare.lock"
if ! flock -n 8; then
	step "waiting for another run of this test"
	flock 8
fi
rm -f "$logs"/*
# What a run that was killed left (with the lock held, no run is using any).
for old in /var/tmp/iscsiroot-bare.* "$deps"/bare-debootstrap.*; do
	[ -d "$old" ] || continue
	remove_tree "$old" || fail "cannot remove $old"
done

# The pristine tree: remade when the mirror changes or after 30 days, so
# that the base system does not drift far from the archive.
recipe="debootstrap --variant=minbase bookworm $mirror"
if [ ! -f "$pristine" ] || [ "$(cat "$pristine.recipe" 2>/dev/null)" != "$recipe" ] ||
	[ -n "$(find "$pristine" -mtime +30)" ]; then
	step "$recipe"
	work=$(mktemp -d "$deps/bare-debootstrap.XXXXXX")
	# Its own mount namespace: what debootstrap mounts in the tree cannot
	# outlive it.
	if ! unshare --mount --propagation private \
		debootstrap --variant=minbase bookworm "$work/root" "$mirror" \
		>"$work/log" 2>&1; then
		tail -20 "$work/log" >&2
		fail "debootstrap of the bare tree failed (log above)"
	fi
	# A fresh install keeps no downloaded packages.
	rm -f "$work/root/var/cache/apt/archives/"*.deb
	tar --numeric-owner -C "$work/root" -cf "$pristine.tmp" .
	mv "$pristine.tmp" "$pristine"
	echo "$recipe" >"$pristine.recipe"
	remove_tree "$work"
	work=
fi

work=$(mktemp -d /var/tmp/iscsiroot-bare.XXXXXX)
root=$work/root
mkdir "$root"
step "unpacking a fresh copy of $pristine"
tar --numeric-owner -C "$root" -xf "$pristine"

# The sources: the working tree as it is (committed, changed and new files
# that git does not ignore), so the scripts tested are the ones here; never
# build trees or .deps.
step "copying the sources to $project"
mkdir -p "$root$project"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			case $f in .deps | .deps/*) continue ;; esac
			if [ -e "$top/$f" ] || [ -L "$top/$f" ]; then printf '%s\0' "$f"; fi
		done | tar -C "$top" --null -T - -cf - | tar -C "$root$project" -xf -
else
	tar -C "$top" --exclude=./.git --exclude=./.deps --exclude='./build-*' \
		-cf - . | tar -C "$root$project" -xf -
fi

# apt inside reaches the same mirror the same way: the machine's resolver
# and its apt.conf.d snippets (proxies and the like), less those with hooks,
# which are the machine's own. The tree's sources.list is debootstrap's:
# bookworm main from that mirror.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
for f in /etc/apt/apt.conf.d/*; do
	if [ -f "$f" ] && ! grep -q Invoke "$f"; then
		cp "$f" "$root/etc/apt/apt.conf.d/"
	fi
done
# No package's maintainer script starts a service in the tree (dnsmasq or
# tgtd would run on this machine's network otherwise).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# Runs a command in the tree, in a mount and PID namespace of its own: its
# mounts (/proc, a read-only /sys, a /dev of its own with only the usual
# nodes) vanish with the namespace however the run ends, and so does every
# process it started. The network is the machine's, for apt; with --offline
# a network namespace of its own with nothing in it. No /run from the
# machine: nothing in the tree can reach the machine's systemd.
# shellcheck disable=SC2016 # expanded by the inner bash
in_tree() {
	local net=()
	if [ "$1" = --offline ]; then
		net=(--net)
		shift
	fi
	unshare "${net[@]}" --mount --propagation private --pid --fork --kill-child -- \
		/bin/bash -c '
		set -e
		root=$1
		shift
		mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
		mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
		mount -t tmpfs -o nosuid,mode=755 dev "$root/dev"
		mknod -m 666 "$root/dev/null" c 1 3
		mknod -m 666 "$root/dev/zero" c 1 5
		mknod -m 666 "$root/dev/full" c 1 7
		mknod -m 666 "$root/dev/random" c 1 8
		mknod -m 666 "$root/dev/urandom" c 1 9
		mknod -m 666 "$root/dev/tty" c 5 0
		mkdir "$root/dev/pts" "$root/dev/shm"
		mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
		mount -t tmpfs -o nosuid,nodev tmpfs "$root/dev/shm"
		ln -s pts/ptmx "$root/dev/ptmx"
		ln -s /proc/self/fd "$root/dev/fd"
		ln -s /proc/self/fd/0 "$root/dev/stdin"
		ln -s /proc/self/fd/1 "$root/dev/stdout"
		ln -s /proc/self/fd/2 "$root/dev/stderr"
		chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			"$@"
		' in-tree "$root" "$@"
}

# 1. Before setup.sh, deps.sh must stop at once and name what is missing.
step "scripts/deps.sh before scripts/setup.sh: must fail naming the missing tools"
rc=0
in_tree /bin/bash -c "cd $project && scripts/deps.sh" >"$logs/deps-bare.log" 2>&1 || rc=$?
cat "$logs/deps-bare.log"
[ "$rc" != 0 ] || fail "scripts/deps.sh succeeded in the bare tree, where it has no compiler"
line=$(grep '^deps: missing ' "$logs/deps-bare.log" || true)
[ -n "$line" ] || fail "scripts/deps.sh failed (exit $rc) without naming the missing tools"
for tool in gcc musl-gcc make m4 autoheader pkg-config dpkg-source; do
	grep -qw -- "$tool" <<<"${line%%(*}" ||
		fail "scripts/deps.sh in the bare tree did not name $tool: $line"
done
[ ! -e "$root$project/.deps/musl" ] ||
	fail "scripts/deps.sh started building before naming the missing tools"

# 2. setup.sh installs everything and runs deps.sh, which builds nettle.
step "scripts/setup.sh in the bare tree"
rc=0
in_tree /bin/bash -c "cd $project && scripts/setup.sh" >"$logs/setup.log" 2>&1 || rc=$?
if [ "$rc" != 0 ]; then
	tail -40 "$logs/setup.log"
	# The reason: deps.sh's or apt's last word, else the last line.
	why=$(grep -E '^(deps|setup|E): ' "$logs/setup.log" | tail -1 || true)
	[ -n "$why" ] || why=$(tail -1 "$logs/setup.log")
	fail "scripts/setup.sh exited $rc in a bare Debian 12 tree: $why"
fi
grep '^setup:' "$logs/setup.log" | cut -c1-300 || true
[ -f "$root$project/.deps/musl/lib/libnettle.a" ] ||
	fail "scripts/setup.sh succeeded but scripts/deps.sh built no libnettle.a"
step "scripts/deps.sh again: nothing left to do"
in_tree /bin/bash -c "cd $project && scripts/deps.sh" ||
	fail "scripts/deps.sh failed after scripts/setup.sh had run"

# 3. The rest of scripts/test.sh's set-up: the three build trees, then
# bookworm-backports' kernel for the ublk tests.
step "scripts/build.sh in the tree"
rc=0
# Offline: a build that would download anything fails here.
in_tree --offline /bin/bash -c "cd $project && scripts/build.sh" || rc=$?
if [ "$rc" != 0 ]; then
	# build.sh logs each tree to build-NAME[.setup].log, in order: the
	# newest is the tree that failed.
	# shellcheck disable=SC2012 # names of build.sh's own making
	tree=$(cd "$root$project" && ls -t build-*.log 2>/dev/null | head -1)
	fail "scripts/build.sh exited $rc in the tree that scripts/setup.sh set up (${tree%%.*}, its log's tail above)"
fi
step "scripts/fetch-kernel.sh in the tree"
rc=0
in_tree /bin/bash -c "cd $project && scripts/fetch-kernel.sh" >"$logs/fetch-kernel.log" 2>&1 || rc=$?
if [ "$rc" != 0 ]; then
	tail -20 "$logs/fetch-kernel.log"
	fail "scripts/fetch-kernel.sh exited $rc in the tree that scripts/setup.sh set up"
fi

# 4. The shipped binary: static, and it runs.
bin=$project/build-musl/iscsiroot
[ -x "$root$bin" ] || fail "scripts/build.sh made no build-musl/iscsiroot"
if readelf -lW "$root$bin" | grep -q 'Requesting program interpreter' ||
	readelf -dW "$root$bin" | grep -q NEEDED; then
	fail "build-musl/iscsiroot is not static"
fi
rc=0
in_tree --offline "$bin" --help >"$logs/help.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "build-musl/iscsiroot --help exited $rc in the tree"
grep -q '^usage: iscsiroot' "$logs/help.out" ||
	fail "build-musl/iscsiroot --help printed no usage line"
step "ok: $(stat -c %s "$root$bin") bytes static iscsiroot, built on a bare Debian 12"
