#!/bin/bash
# Builds the Debian package as a user would, from a copy of the checkout
# (the files git knows, as they are now), with `dpkg-buildpackage -us -uc -b`,
# then checks it: the files are in it (dpkg-deb -c; the dracut module too), the binary is static
# and runs, the hook names the installed binary, and lintian reports no
# error (its warnings and notes are printed). See debian/README.source.
#
# The copy gets a link to this checkout's .deps when that holds the built
# static libraries, so no network is needed; without it scripts/deps.sh
# fetches Debian's sources as in any build.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD

for t in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian; do
	command -v "${t%%:*}" >/dev/null || {
		echo "SKIP: ${t%%:*} missing (apt-get install ${t#*:}; scripts/setup.sh installs it)"
		exit 77
	}
done

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg --print-architecture)
work=$(mktemp -d /tmp/iscsiroot-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/iscsiroot-$version
mkdir "$src"

# A clean checkout: tracked and new (not ignored) files only, no build trees.
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude=./.deps --exclude='./build-*' --exclude=./.git -cf - . |
		tar -xf - -C "$src"
fi
if [ -f .deps/musl/.stamp-nettle ] && [ -f .deps/musl/.stamp-kmod ]; then
	ln -s "$(cd .deps && pwd -P)" "$src/.deps"
fi

fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

start=$SECONDS
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	tail -40 "$work/build.log"
	echo "FAIL: dpkg-buildpackage -us -uc -b"
	exit 1
fi
echo "dpkg-buildpackage -us -uc -b: ok in $((SECONDS - start)) s"
# The unit tests ran inside the build (dh_auto_test), unless nocheck.
grep -E '^(Ok|Fail|Skipped|Timeout):' "$work/build.log" | tr '\n' ' ' | tr -s ' ' | sed 's/^/unit tests in the build: /; s/ *$/\n/'

deb=$work/iscsiroot_${version}_$arch.deb
[ -f "$deb" ] || { ls "$work"; echo "FAIL: no $deb"; exit 1; }


dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/sbin/iscsiroot \
	./usr/share/initramfs-tools/hooks/iscsiroot \
	./usr/share/initramfs-tools/scripts/local-top/iscsiroot \
	./usr/lib/dracut/modules.d/95iscsiroot/module-setup.sh \
	./usr/lib/dracut/modules.d/95iscsiroot/parse-iscsiroot.sh \
	./usr/lib/dracut/modules.d/95iscsiroot/iscsiroot-up.sh \
	./usr/lib/dracut/dracut.conf.d/50-iscsiroot.conf \
	./usr/share/man/man8/iscsiroot.8.gz \
	./usr/share/doc/iscsiroot/copyright \
	./usr/share/doc/iscsiroot/changelog.gz; do
	awk '{ print $6 }' "$work/contents" | grep -qx -- "$f" || bad "$f not in the package"
done
# Executables must be executable by all.
for f in ./usr/sbin/iscsiroot ./usr/share/initramfs-tools/hooks/iscsiroot \
	./usr/share/initramfs-tools/scripts/local-top/iscsiroot; do
	awk -v f="$f" '$6 == f { print $1 }' "$work/contents" | grep -q '^-rwxr-xr-x$' ||
		bad "$f is not -rwxr-xr-x"
done

mkdir "$work/root"
dpkg-deb -x "$deb" "$work/root"
bin=$work/root/usr/sbin/iscsiroot
if readelf -lW "$bin" | grep -q 'INTERP'; then
	bad "/usr/sbin/iscsiroot is dynamically linked"
fi
out=$("$bin" version 2>&1) || true
[ "$out" = "iscsiroot ${version%%-*}" ] || bad "iscsiroot version printed '$out'"
grep -q 'ISCSIROOT_BINARY:-/usr/sbin/iscsiroot\|/usr/sbin/iscsiroot' \
	"$work/root/usr/share/initramfs-tools/hooks/iscsiroot" ||
	bad "the hook does not name /usr/sbin/iscsiroot"
grep -q '@ISCSIROOT_BINARY@' "$work/root/usr/share/initramfs-tools/hooks/iscsiroot" &&
	bad "the hook still holds @ISCSIROOT_BINARY@"
dpkg-deb -f "$deb" Built-Using | grep -q 'nettle (= ' || bad "no Built-Using for nettle"
echo "package: $(stat -c %s "$deb") bytes, binary $(stat -c %s "$bin") bytes;" \
	"Built-Using: $(dpkg-deb -f "$deb" Built-Using)"

# The man page: it lints clean, and names every subcommand of --help.
man=man/iscsiroot.8
if command -v mandoc >/dev/null; then
	mandoc -T lint "$man" || bad "mandoc -T lint $man"
else
	groff -man -ww -z "$man" 2>&1 | grep . && bad "groff -ww warns about $man"
fi
for cmd in $("$bin" --help | awk '/^commands:/ { on = 1; next } on && !NF { exit } on { print $1 }'); do
	grep -q "^\.B[IR]* \"*$cmd\b" "$man" || bad "$man does not describe '$cmd'"
done
zcat "$work/root/usr/share/man/man8/iscsiroot.8.gz" | cmp -s - "$man" ||
	bad "the packaged man page is not $man"

# lintian: errors fail the test; warnings and notes are listed.
changes=$work/iscsiroot_${version}_${arch}.changes
lintian --display-info "$changes" >"$work/lintian.log" 2>&1 || true
echo "lintian:"
sed 's/^/  /' "$work/lintian.log"
if grep -q '^E: ' "$work/lintian.log"; then
	bad "lintian reports errors"
fi
echo "lintian: $(grep -c '^E: ' "$work/lintian.log") errors," \
	"$(grep -c '^W: ' "$work/lintian.log") warnings," \
	"$(grep -c '^I: ' "$work/lintian.log") notes"

# ISCSIROOT_DEB_KEEP=DIR keeps the package (e.g. for a boot test).
if [ -n "${ISCSIROOT_DEB_KEEP:-}" ]; then
	cp "$deb" "$ISCSIROOT_DEB_KEEP/" && echo "kept $ISCSIROOT_DEB_KEEP/${deb##*/}"
fi
[ $fail = 0 ] && echo "deb: ok"
exit $fail
