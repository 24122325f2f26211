#!/bin/bash
# SPDX-License-Identifier: MIT
# 802.1Q: `iscsiroot dhcp --vlan=42 vc0` makes vc0.42 over vc0 and gets its
# lease there (as an iBFT NIC with a VLAN needs). The server side is a veth
# peer vs0 with a VLAN link vs0.42: udhcpd serves 10.78.0.0/24 on vs0.42
# and 10.79.0.0/24 untagged on vs0, so a lease in the wrong place shows.
# The client runs in a network namespace of its own with vc0 moved in.
#
# The scenario is one busybox script (below). It runs in a namespace made
# here when the host kernel has 802.1Q; when it has not (CONFIG_VLAN_8021Q
# unset, as on the machine this was written on), the same script runs as
# the /init of a QEMU guest with the Debian kernel and its 8021q.ko, with
# $ISCSIROOT and the libraries it links copied in. Skips (77) without
# root, busybox, or, for the guest, the kernel or a free VM lab.
set -euo pipefail

: "${ISCSIROOT:?ISCSIROOT must name the iscsiroot binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d /tmp/vlan-test.XXXXXX)
NS=vlan-$$
MARK='ISCSIROOT-VLAN:'

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
BUSYBOX=$(command -v busybox) || skip "no busybox"

# ---- the scenario: busybox sh, args ISCSIROOT WORKDIR; exit 0 passed,
# 1 failed, 77 no VLAN support in this kernel
cat >"$TMP/scenario.sh" <<'SCENARIO'
set -u
ISCSIROOT=$1 W=$2
PIDS=
say() { echo "ISCSIROOT-VLAN: $*"; }
bb() { busybox "$@"; }
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
mkdir -p "$W/root"

bb ip link set lo up
# busybox ip ignores "peer name": the peer is veth0
bb ip link add vs0 type veth || { say "no veth"; exit 77; }
bb ip link set veth0 name vc0
bb ip link set vs0 up
if ! bb ip link add link vs0 name vs0.42 type vlan id 42 2>/dev/null &&
	! bb vconfig add vs0 42 >/dev/null 2>&1; then
	say "no 802.1Q in this kernel"
	exit 77
fi
bb ip addr add 10.78.0.1/24 dev vs0.42
bb ip link set vs0.42 up
bb ip addr add 10.79.0.1/24 dev vs0

# udhcpd IFACE NET: a DHCP server for NET.50-99 on IFACE
udhcpd() {
	cat >"$W/$1.conf" <<EOF
interface $1
start $2.50
end $2.99
lease_file $W/$1.leases
pidfile $W/$1.pid
option subnet 255.255.255.0
option router $2.1
option lease 600
EOF
	touch "$W/$1.leases"
	bb udhcpd -f "$W/$1.conf" >"$W/$1.log" 2>&1 &
	PIDS="$PIDS $!"
}
udhcpd vs0.42 10.78.0
udhcpd vs0 10.79.0

# v4_of IFACE: its IPv4 addresses, a.b.c.d/n, one a line
v4_of() {
	bb ip -o -4 addr show dev "$1" 2>/dev/null |
		bb sed -n 's/.* inet \([0-9.]*\/[0-9]*\) .*/\1/p'
}

# the client, in a namespace of its own; vc0 comes in once it is there
cat >"$W/client.sh" <<'EOF'
ISCSIROOT=$1 W=$2
say() { echo "ISCSIROOT-VLAN: $*"; }
fail() { say "FAIL: $*"; tail -20 "$W/client.err"; exit 1; }
for _ in $(busybox seq 50); do
	busybox ip link show vc0 >/dev/null 2>&1 && break
	busybox sleep 0.1
done
busybox ip link set lo up
run() {
	busybox timeout 40 "$ISCSIROOT" dhcp --vlan=42 --timeout=20 \
		--root="$W/root" -v vc0 >"$W/client.out" 2>"$W/client.err"
}
v4_of() {
	busybox ip -o -4 addr show dev "$1" 2>/dev/null |
		busybox sed -n 's/.* inet \([0-9.]*\/[0-9]*\) .*/\1/p'
}
run || fail "iscsiroot dhcp --vlan=42 exited $?"
a=$(v4_of vc0.42)
case $a in
10.78.0.*/24) say "lease on vc0.42: $a" ;;
*) fail "address on vc0.42: '$a'" ;;
esac
[ -z "$(v4_of vc0)" ] || fail "vc0 itself got '$(v4_of vc0)'"
# 8021q lists its links per namespace: "vc0.42  | 42  | vc0"
busybox grep -Eq '^vc0\.42 +\| 42 +\| vc0$' /proc/net/vlan/config ||
	fail "vc0.42 is not VLAN 42 over vc0: $(busybox cat /proc/net/vlan/config)"
busybox grep -q "^DEVICE='vc0.42'$" "$W/root/run/net-vc0.42.conf" ||
	fail "no DEVICE='vc0.42' in run/net-vc0.42.conf"
# a second run finds vc0.42 there and refreshes, never duplicates
run || fail "second run exited $?"
n=$(v4_of vc0.42 | busybox wc -l)
[ "$n" = 1 ] || fail "$n addresses on vc0.42 after a second run"
# a VLAN ID out of range is a usage error, and makes nothing
busybox timeout 10 "$ISCSIROOT" dhcp --vlan=4095 --timeout=2 vc0 \
	>/dev/null 2>&1 && fail "--vlan=4095 accepted"
say "client ok"
EOF
# (not through bb: $! must be the unshare process itself)
busybox unshare -n sh "$W/client.sh" "$ISCSIROOT" "$W" &
CPID=$!
# move vc0 only once the child has its own namespace (bounded)
for _ in $(bb seq 50); do
	[ "$(bb readlink /proc/$CPID/ns/net)" != "$(bb readlink /proc/self/ns/net)" ] && break
	bb sleep 0.1
done
bb ip link set vc0 netns "$CPID" || { say "FAIL: moving vc0"; exit 1; }
rc=0
wait "$CPID" || rc=$?
if [ "$rc" != 0 ]; then
	for f in "$W"/vs0*.log; do say "--- $f"; tail -10 "$f"; done
	exit 1
fi
grep -q "10.78.0" "$W/vs0.42.log" 2>/dev/null || say "(udhcpd on vs0.42 logged no offer)"
exit 0
SCENARIO

# ---- on this host, in a namespace of our own
cleanup() {
	local pids
	pids=$(ip netns pids "$NS" 2>/dev/null || true)
	[ -z "$pids" ] || kill $pids 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
rc=0
timeout 120 ip netns exec "$NS" "$BUSYBOX" sh "$TMP/scenario.sh" "$ISCSIROOT" \
	"$TMP/w" || rc=$?
ip netns del "$NS"
case $rc in
0) echo "ok: vlan (host namespace)"; exit 0 ;;
77) echo "this kernel has no 802.1Q: running the scenario in a QEMU guest" ;;
*) echo "FAIL: vlan (host namespace), rc $rc" >&2; exit 1 ;;
esac

# ---- in a QEMU guest: the Debian kernel, veth and 8021q, busybox
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
trap 'e2e_cleanup; rm -rf "$TMP"' EXIT
set +e
e2e_kernel_find || skip "no Debian kernel for the guest"
TREE=$E2E_WORK/tree
mkdir -p "$TREE"/{dev,proc,sys,tmp,run}
e2e_busybox_tree "$TREE" || exit 1
# the modules in load order, as modprobe would insmod them
mkdir -p "$TREE/modules"
for m in veth 8021q; do
	modprobe -S "$E2E_KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done >"$TMP/modules" || exit 1
[ -s "$TMP/modules" ] || skip "no veth/8021q modules for $E2E_KVER"
n=0
while read -r ko; do
	n=$((n + 1))
	cp "$ko" "$TREE/modules/$n-$(basename "$ko")" || exit 1
done <"$TMP/modules"
cp "$TMP/scenario.sh" "$TREE/scenario.sh" || exit 1
# iscsiroot and whatever it links (an ASan build links a few libraries)
cp "$ISCSIROOT" "$TREE/iscsiroot" || exit 1
for lib in $(ldd "$ISCSIROOT" 2>/dev/null | grep -o '/[^ ]*'); do
	mkdir -p "$TREE/$(dirname "$lib")"
	cp -L "$lib" "$TREE/$lib" || exit 1
done
cat >"$TREE/init" <<EOF
#!/bin/busybox sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
for m in \$(ls /modules | sort -n); do insmod /modules/\$m; done
sh /scenario.sh /iscsiroot /tmp/w
echo "$MARK result rc=\$?"
poweroff -f
EOF
chmod 755 "$TREE/init"
e2e_pack_cpio "$TREE" "$E2E_WORK/initrd" || exit 1
rm -rf "$TREE"

# one VM at a time on this machine; a busy lab is a skip, not a failure
# (meson gives this test 120 s; VLAN_VM_WAIT=S waits longer by hand)
e2e_vm_wait_idle "${VLAN_VM_WAIT:-20}" || skip "the VM lab is busy"
e2e_net_up || exit 1
if ! e2e_vm_boot "$E2E_WORK/initrd" "quiet panic=-1" 70; then
	e2e_console_dump 60
	echo "FAIL: vlan (guest): the VM did not finish" >&2
	exit 1
fi
grep -o "$MARK.*" "$E2E_VM_LOG"
if e2e_log_has "$MARK result rc=0"; then
	echo "ok: vlan (QEMU guest, $E2E_KVER)"
	exit 0
fi
if e2e_log_has "$MARK result rc=77"; then
	skip "no 802.1Q in the guest kernel either"
fi
e2e_console_dump 60
echo "FAIL: vlan (guest)" >&2
exit 1
