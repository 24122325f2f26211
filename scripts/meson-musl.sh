#!/bin/bash
# `meson setup` of the shipped binary (static, musl, stripped, built for
# size) in BUILDDIR, with any further meson options after it. The one place
# that configuration lives: scripts/build.sh uses it for build-musl and
# debian/rules for the package. Needs scripts/deps.sh's .deps/musl.
#   usage: scripts/meson-musl.sh BUILDDIR [MESON OPTION...]
# A rebuild may re-run meson, which must again see only the musl libraries:
# run ninja with PKG_CONFIG_LIBDIR=.deps/musl/lib/pkgconfig too.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

# musl-gcc sees only musl's headers; give it the kernel's UAPI ones.
kh=$top/.deps/kheaders
mkdir -p "$kh"
ln -sfn /usr/include/linux "$kh/linux"
ln -sfn /usr/include/asm-generic "$kh/asm-generic"
ln -sfn "/usr/include/$(gcc -dumpmachine)/asm" "$kh/asm"

# The flags below are the binary's whole recipe: flags from the
# environment (dpkg-buildflags sets -O2 -g and glibc's hardening) would
# override -Os and grow it.
unset CFLAGS CPPFLAGS LDFLAGS

# The shipped binary is built for size (as musl itself is): -Oz (GCC 12's
# -Os that also picks shorter encodings over fewer instructions: 3.8 KB
# less, no loss in bench/host.sh, bench/README.md "Size"), each
# function its own section so the linker drops what nothing calls, and no
# unwind tables (C, no exceptions; the sanitizer build keeps its own), and
# segments not padded to pages of their own (-z noseparate-code), and no
# RELRO segment: only a dynamic linker applies it, and a static musl
# binary has none, so its page alignment was padding alone (-z norelro).
PKG_CONFIG_LIBDIR=$top/.deps/musl/lib/pkgconfig CC=musl-gcc \
	exec meson setup "$@" --buildtype=minsize \
	-Dstrip=true -Dstatic=true -Dkernel_headers="$kh" \
	-Dc_args="-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables -Oz" \
	-Dc_link_args="-Wl,--gc-sections -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,--build-id=none"
