#!/bin/bash
# Installs everything iscsiroot needs to build and test on Debian 12, then
# builds the static dependencies for the musl binary. Idempotent and quiet
# when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	# build
	meson ninja-build gcc musl-tools clang libclang-rt-14-dev lld pkg-config
	nettle-dev libkmod-dev
	# scripts/deps.sh: Debian's sources through apt, built for musl (nettle's
	# build needs m4 for its assembly and autoheader, from autoconf, because
	# the unpacked timestamps trigger a regeneration; kmod's source has no
	# configure: autogen.sh needs automake and libtool)
	dpkg-dev debian-archive-keyring make m4 autoconf automake libtool binutils
	util-linux
	# peers and tools the tests drive
	tgt libiscsi-bin libiscsi-dev open-iscsi dnsmasq isc-dhcp-server
	iproute2 qemu-system-x86 busybox-static e2fsprogs fdisk linux-image-amd64
	python3 kmod cpio xz-utils
	fio valgrind strace # bench/vm-fio.sh (fio in the VM), bench/host-cost.sh
	time linux-perf     # bench/host.sh (/usr/bin/time), bench/vm-fio.sh --perf
	debootstrap         # tests/setup: the build in a bare Debian 12 tree; bench/storm-record.sh
	gnuplot-nox         # bench/storm.sh: the plot (SVG)
	grub-pc-bin  # tests/e2e/ipxe-chain.sh: GRUB for BIOS installed into a disk image
	grub2-common # grub-install (the grub-pc package would install onto the host)
	ipxe-qemu    # QEMU's iPXE option ROMs: the network-boot chain
	debhelper lintian # tests/deb: the Debian package, built and checked
	istgt        # tests/iscsi/iscsi-istgt.sh: a second userspace target
	mandoc       # tests/deb: the man page's lint (mandoc -T lint)
	iptables     # tests/iscsi/mpath-faults.sh: loss and delay on one path (no sch_netem)
	iputils-ping # tests/dhcp/static6.sh: the IPv6 gateway answers over the static address
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The packaged DHCP servers and targets must not run as system services
# here: the tests start their own instances inside namespaces.
for svc in isc-dhcp-server dnsmasq tgt istgt; do
	systemctl disable --now "$svc" >/dev/null 2>&1 || true
done

if [ -x scripts/deps.sh ]; then
	scripts/deps.sh
fi
