#!/bin/bash
# Configures and builds the three build trees:
#   build-musl  the shipped binary: static, musl, stripped
#   build-asan  glibc debug build with ASan+UBSan; unit and integration tests
#   build-fuzz  clang with libFuzzer; the fuzz targets
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

configure() {
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		"$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; exit 1; }
	fi
}

# The shipped binary: its configuration is scripts/meson-musl.sh's (which
# debian/rules uses too).
configure build-musl scripts/meson-musl.sh build-musl
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
