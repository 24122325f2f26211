#!/bin/bash
# Configures and builds the three build trees:
#   build-musl  the shipped binary: static, musl, stripped
#   build-asan  glibc debug build with ASan+UBSan; unit and integration tests
#   build-fuzz  clang with libFuzzer; the fuzz targets
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

# musl-gcc sees only musl's headers; give it the kernel's UAPI ones.
kh=$top/.deps/kheaders
mkdir -p "$kh"
ln -sfn /usr/include/linux "$kh/linux"
ln -sfn /usr/include/asm-generic "$kh/asm-generic"
ln -sfn "/usr/include/$(gcc -dumpmachine)/asm" "$kh/asm"

configure() {
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		"$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; exit 1; }
	fi
}

# The shipped binary is built for size (as musl itself is): -Os, each
# function its own section so the linker drops what nothing calls, and no
# unwind tables (C, no exceptions; the sanitizer build keeps its own), and
# segments not padded to pages of their own (-z noseparate-code).
PKG_CONFIG_LIBDIR=$top/.deps/musl/lib/pkgconfig CC=musl-gcc \
	configure build-musl meson setup build-musl --buildtype=minsize \
	-Dstrip=true -Dstatic=true -Dkernel_headers="$kh" \
	-Dc_args="-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables" \
	-Dc_link_args="-Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none"
CC=gcc configure build-asan meson setup build-asan --buildtype=debug \
	-Db_sanitize=address,undefined -Db_lundef=false
CC=clang configure build-fuzz meson setup build-fuzz --buildtype=debug \
	-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false

# A rebuild may re-run meson, which must again see only the musl libraries.
musl_pc=$top/.deps/musl/lib/pkgconfig
for dir in build-musl build-asan build-fuzz; do
	env=()
	[ "$dir" = build-musl ] && env=("PKG_CONFIG_LIBDIR=$musl_pc")
	env "${env[@]}" ninja -C "$dir" >"$dir.log" 2>&1 ||
		{ tail -50 "$dir.log"; exit 1; }
done
echo "build: ok ($(stat -c %s build-musl/iscsiroot) bytes static binary)"
