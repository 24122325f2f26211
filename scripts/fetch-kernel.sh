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

# The mirror the machine already uses for Debian (deb822 or one-line form).
find_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		 /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		case $f in
		*.sources) awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f" ;;
		*) awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f" ;;
		esac
	done | grep -v -e security -e '^$' | grep -m1 -e /debian -e debian.org
}

if ls "$DEST"/boot/vmlinuz-"$SERIES".* >/dev/null 2>&1; then
	basename "$(ls -d "$DEST"/lib/modules/"$SERIES".* | sort -V | tail -1)"
	exit 0
fi

mirror=$(find_mirror) || { echo "fetch-kernel: no Debian mirror in /etc/apt" >&2; exit 1; }
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
