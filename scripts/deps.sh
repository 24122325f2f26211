#!/bin/bash
# Builds the static libraries the musl binary links against from Debian 12's
# own source packages: nettle (hashes for iSCSI CHAP) and kmod's libkmod
# (kernel modules: lookup, aliases, dependencies, options, blacklists).
# Debian ships no musl archive of either.
#
# Installs into .deps/musl with pkg-config files in .deps/musl/lib/pkgconfig
# (scripts/build.sh points PKG_CONFIG_LIBDIR there). Sources come from
# `apt-get source` through a private apt configuration under .deps/apt, so the
# machine's apt setup is never touched. One stamp per library records the
# recipe it was built with: a second run with nothing to do takes no time.
# Quiet on success; on failure it prints the tail of the library's log.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
# The physical path: the pkg-config files name it, and .deps may be a link
# into another clone's.
mkdir -p "$top/.deps"
deps=$(cd "$top/.deps" && pwd -P)
prefix=$deps/musl
kh=$deps/kheaders
aptdir=$deps/apt
srcdir=$deps/src

# The flags are part of each stamp, so changing them here rebuilds.
cflags='-Os -g0 -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables'
nettle_flags=(
	--disable-shared --enable-static --disable-pic --disable-public-key
	--disable-documentation --disable-openssl --disable-fat --disable-gcov
	--disable-x86-aesni --disable-x86-sha-ni --disable-x86-pclmul
)
# No compression or signature libraries (the kernel decompresses .ko.xz
# itself, pivot/modules.c), no tools, no log messages (iscsiroot prints its
# own). /etc is where modprobe.d is looked for, not under the prefix.
kmod_flags=(
	--sysconfdir=/etc --without-pic --disable-tools --disable-manpages
	--disable-test-modules --disable-python --disable-logging
	--without-xz --without-zstd --without-zlib --without-openssl
)

die() {
	echo "deps: $*" >&2
	exit 1
}

# Runs a step with its output in the library's log; on failure shows the tail.
run() {
	if ! "$@" >>"$log" 2>&1; then
		echo "deps: failed: $*" >&2
		tail -40 "$log" >&2
		exit 1
	fi
}

# musl-gcc sees only musl's headers; give it the kernel's UAPI ones, exactly
# as scripts/build.sh does (whichever of the two runs first).
make_kheaders() {
	mkdir -p "$kh"
	ln -sfn /usr/include/linux "$kh/linux"
	ln -sfn /usr/include/asm-generic "$kh/asm-generic"
	ln -sfn "/usr/include/$(gcc -dumpmachine)/asm" "$kh/asm"
}

# debian_mirror: the machine's Debian mirror, for the private apt below.
. "$top/scripts/debian-mirror.sh"

apt_opts=()
# A private apt: its own source list, index lists and cache under .deps/apt.
# The machine's apt.conf.d is kept (proxies and the like) except the snippets
# with hooks, which would act on the machine's own caches.
setup_apt() {
	[ ${#apt_opts[@]} -gt 0 ] && return
	local mirror f
	mirror=$(debian_mirror)
	[ -n "$mirror" ] || die "no bookworm mirror in /etc/apt/sources.list(.d)"
	rm -rf "$aptdir/conf.d"
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" \
		"$aptdir/sources.list.d" "$aptdir/conf.d"
	for f in /etc/apt/apt.conf.d/*; do
		if [ -f "$f" ] && ! grep -q Invoke "$f"; then
			cp "$f" "$aptdir/conf.d/"
		fi
	done
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
		"$mirror bookworm main" >"$aptdir/sources.list"
	# The sandbox user _apt may not be able to enter a clone under /root.
	apt_opts=(
		-o "Dir::Etc::SourceList=$aptdir/sources.list"
		-o "Dir::Etc::SourceParts=$aptdir/sources.list.d"
		-o "Dir::Etc::Parts=$aptdir/conf.d"
		-o "Dir::State::Lists=$aptdir/lists"
		-o "Dir::Cache=$aptdir/cache"
		-o "APT::Sandbox::User=root"
	)
	run apt-get -q "${apt_opts[@]}" update
}

# Unpacks Debian's source package (with Debian's patches applied) into
# .deps/src/NAME/ and changes into the source tree.
fetch() {
	local name=$1 tree
	setup_apt
	rm -rf "${srcdir:?}/$name"
	mkdir -p "$srcdir/$name"
	cd "$srcdir/$name"
	run apt-get -q "${apt_opts[@]}" source "$name"
	tree=$(find . -mindepth 1 -maxdepth 1 -type d | head -1)
	[ -n "$tree" ] || die "apt-get source $name unpacked nothing"
	cd "$tree"
}

build_nettle() {
	fetch nettle
	run ./configure CC=musl-gcc CFLAGS="$cflags" --prefix="$prefix" \
		--libdir="$prefix/lib" "${nettle_flags[@]}"
	# Only the library: the tools, tests and examples are not needed.
	run make -j2 libnettle.a
	run make install-headers install-static install-pkgconfig
	# configure adds -ggdb3 to any CFLAGS; the binary is stripped anyway.
	run strip --strip-debug "$prefix/lib/libnettle.a"
	cd "$top"
}

# kmod refuses --enable-static, but its build makes the same objects into a
# static convenience archive (libkmod-internal, for its own tools and
# tests). Its helpers have global names (hash_add, now_usec, underscores,
# strbuf_*...) that a program's own could take the place of without a
# word: the archive becomes one object in which only kmod_* stays global,
# and that is libkmod.a. The source is a git snapshot without configure:
# autogen.sh makes it (autoconf, automake, libtool; gtk-doc is optional
# and left out).
build_kmod() {
	fetch kmod
	run ./autogen.sh
	run ./configure CC=musl-gcc CFLAGS="$cflags" --prefix="$prefix" \
		--libdir="$prefix/lib" "${kmod_flags[@]}"
	run make -j2 libkmod/libkmod-internal.la libkmod/libkmod.pc
	run make install-includeHEADERS install-pkgconfigDATA
	rm -rf objs && mkdir objs
	(cd objs && run ar x ../libkmod/.libs/libkmod-internal.a)
	run ld -r -o libkmod-all.o objs/*.o
	run objcopy --strip-debug -w --keep-global-symbol='kmod_*' libkmod-all.o libkmod.o
	rm -f "$prefix/lib/libkmod.a"
	run ar rcs "$prefix/lib/libkmod.a" libkmod.o
	cd "$top"
}

# Proof that the archives link statically with musl and work: hash a known
# string; resolve an alias from a modprobe.d file.
check_link() {
	local dir=$deps/check
	mkdir -p "$dir"
	cat >"$dir/check.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <libkmod.h>
#include <nettle/sha2.h>

static int check_kmod(const char *dir)
{
	const char *conf[] = { dir, NULL };
	struct kmod_ctx *ctx = kmod_new(dir, conf);
	struct kmod_list *l = NULL;
	int ok;

	if (!ctx)
		return 0;
	ok = kmod_module_new_from_lookup(ctx, "check-alias", &l) == 0 && l &&
	     !strcmp(kmod_module_get_name(kmod_module_get_module(l)), "check_module");
	kmod_unref(ctx);
	return ok;
}

int main(int argc, char **argv)
{
	/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
	static const unsigned char want[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	struct sha256_ctx h;
	unsigned char got[32];
	sha256_init(&h);
	sha256_update(&h, 3, (const unsigned char *)"abc");
	sha256_digest(&h, sizeof(got), got);
	if (memcmp(got, want, sizeof(got))) {
		fprintf(stderr, "nettle: wrong SHA-256\n");
		return 1;
	}
	if (argc < 2 || !check_kmod(argv[1])) {
		fprintf(stderr, "libkmod: an alias of modprobe.d did not resolve\n");
		return 1;
	}
	return 0;
}
EOF
	echo "alias check-alias check-module" >"$dir/check.conf"
	log=$dir/check.log
	: >"$log"
	local pc=$prefix/lib/pkgconfig
	# shellcheck disable=SC2046 # pkg-config prints several words
	run musl-gcc -static -o "$dir/check" "$dir/check.c" \
		$(PKG_CONFIG_LIBDIR=$pc pkg-config --static --cflags --libs nettle libkmod)
	run "$dir/check" "$dir"
}

# Builds NAME unless its stamp holds the same recipe.
ensure() {
	local name=$1 recipe=$2
	local stamp=$prefix/.stamp-$name
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ] && return 0
	log=$deps/deps-$name.log
	: >"$log"
	rm -f "$stamp"
	"build_$name"
	echo "$recipe" >"$stamp"
	built=1
}

# Every tool the recipes below run, with the Debian package that has it; all
# are checked before anything starts, and every missing one is named.
required_tools=(
	apt-get:apt dpkg-source:dpkg-dev gcc:gcc musl-gcc:musl-tools make:make
	m4:m4 autoheader:autoconf autoreconf:autoconf automake:automake
	libtoolize:libtool strip:binutils ld:binutils objcopy:binutils
	pkg-config:pkg-config install:coreutils
	flock:util-linux
)
check_tools() {
	local entry missing=() pkgs=()
	for entry in "${required_tools[@]}"; do
		command -v "${entry%%:*}" >/dev/null 2>&1 && continue
		missing+=("${entry%%:*}")
		pkgs+=("${entry#*:}")
	done
	[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || {
		missing+=(debian-archive-keyring.gpg)
		pkgs+=(debian-archive-keyring)
	}
	[ ${#missing[@]} -eq 0 ] && return
	die "missing ${missing[*]} (apt-get install ${pkgs[*]}; scripts/setup.sh installs them)"
}

check_tools
mkdir -p "$deps" "$prefix"
# setup.sh and build.sh may both run this at once.
exec 9>"$deps/.deps.lock"
flock 9
make_kheaders
built=0
ensure nettle "cflags=$cflags ${nettle_flags[*]} rev=1"
ensure kmod "cflags=$cflags ${kmod_flags[*]} rev=2"
if [ $built = 1 ] || [ ! -x "$deps/check/check" ]; then
	check_link
fi
