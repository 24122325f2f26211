#!/bin/bash
# SPDX-License-Identifier: MIT
# Fetches Debian's bookworm-backports 6.12 kernel (the first Debian kernel
# with ublk_drv) into .deps/kernel-6.12/, without touching the system's apt
# setup: a private sources list, lists and cache under .deps/apt-bpo/, then
# `apt-get download` and `dpkg-deb -x`. Prints the kernel version.
#
#   scripts/fetch-kernel.sh            # .deps/kernel-6.12/{boot,lib/modules}/…
#   KERNEL_SERIES=6.12 scripts/fetch-kernel.sh
set -eu

cd "$(dirname "$0")/.."
SERIES=${KERNEL_SERIES:-6.12}
DEST=$PWD/.deps/kernel-$SERIES
APT=$PWD/.deps/apt-bpo

# debian_mirror: the mirror the machine already uses for Debian.
# shellcheck source=scripts/debian-mirror.sh
. scripts/debian-mirror.sh

if ls "$DEST"/boot/vmlinuz-"$SERIES".* >/dev/null 2>&1; then
	basename "$(ls -d "$DEST"/lib/modules/"$SERIES".* | sort -V | tail -1)"
	exit 0
fi

mirror=$(debian_mirror)
[ -n "$mirror" ] || { echo "fetch-kernel: no bookworm mirror in /etc/apt" >&2; exit 1; }
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$DEST"
echo "deb $mirror bookworm-backports main" >"$APT/sources.list"
opts=(-o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache"
      -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Get::List-Cleanup=0)
echo "fetch-kernel: apt-get update ($mirror bookworm-backports)" >&2
apt-get "${opts[@]}" update >&2

# The newest linux-image-6.12.*-amd64 (unsigned or signed, either boots
# under QEMU's -kernel).
pkg=$(apt-cache "${opts[@]}" pkgnames "linux-image-$SERIES." |
      grep -E "^linux-image-${SERIES//./\\.}\.[0-9]+(\+[a-z0-9.~]+)?-amd64(-unsigned)?$" | sort -V | tail -1)
[ -n "$pkg" ] || { echo "fetch-kernel: no linux-image-$SERIES.*-amd64 in bookworm-backports" >&2; exit 1; }
echo "fetch-kernel: $pkg" >&2
(cd "$APT/cache/archives" && apt-get "${opts[@]}" download "$pkg" >&2)
deb=$(ls -t "$APT"/cache/archives/"${pkg}"_*.deb | head -1)
dpkg-deb -x "$deb" "$DEST"
kver=$(basename "$(ls -d "$DEST"/lib/modules/"$SERIES".* | sort -V | tail -1)")
# modules.dep etc. are built at install time by depmod, not shipped.
depmod -b "$DEST" "$kver"
echo "$kver"
