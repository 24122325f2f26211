#!/bin/bash
# SPDX-License-Identifier: MIT
# Two NICs, each configured on its own and at once (issue 13: one path a
# NIC): two veth links with a dnsmasq each, both answering only after a
# delay, are configured in about the slower delay, not the sum; each keeps
# its own default route (a session bound to one NIC goes out through its
# gateway); a NIC whose server never answers is said in one line while the
# other is configured and printed; ip= for two devices (one static, one
# DHCP) configures both; iscsistart -N with an iBFT naming both NICs
# configures both before it exits.
. "$(dirname "$0")/lib.sh"

add_link vs0 vc0 10.81.0.1/24
add_link vs1 vc1 10.81.1.1/24

# serve N DELAY: dnsmasq on vsN, offering after DELAY seconds
serve() {
	start_dnsmasq "vs$1" --no-ping --dhcp-reply-delay="$2" \
		--dhcp-range="10.81.$1.50,10.81.$1.99,255.255.255.0,10m" \
		--dhcp-option=3,"10.81.$1.1"
}

# routes_of: "DEV GATEWAY" of each default route, sorted
default_routes() {
	client_json route show default | python3 -c '
import json, sys
for r in sorted(json.load(sys.stdin), key=lambda r: r["dev"]):
    print(r["dev"], r.get("gateway", "-"), r.get("metric", 0))'
}

# via_oif DEV: the gateway a socket bound to DEV would use for an address
# behind both routers
via_oif() {
	client_json route get 192.0.2.7 oif "$1" | python3 -c '
import json, sys; r = json.load(sys.stdin)[0]; print(r["dev"], r.get("gateway", "-"))'
}

# --- 1. Both slow: the time is the slower one's, not the sum (5 + 7 s).
# dnsmasq waits before each OFFER without serving anything else, so one
# DISCOVER each (the first retransmission after 15 s) keeps the times
# those of the delays.
serve 0 5
serve 1 7
start=$(date +%s%N)
client -v --each --timeout=30 --retransmit=15s vc0 vc1
elapsed=$((($(date +%s%N) - start) / 1000000))
expect_rc 0
echo "both configured in $elapsed ms (server delays 5 s and 7 s: 12 s one after the other)"
[ "$elapsed" -ge 6500 ] || fail "configured in $elapsed ms: faster than the slower server?"
[ "$elapsed" -lt 10500 ] || fail "configured in $elapsed ms: the NICs were not brought up at once"
case "$(addr_of vc0)" in 10.81.0.*/24) ;; *) fail "vc0: '$(addr_of vc0)'" ;; esac
case "$(addr_of vc1)" in 10.81.1.*/24) ;; *) fail "vc1: '$(addr_of vc1)'" ;; esac
# each printed once, the faster first
expect_eq "$(grep -c '^DEVICE=' "$TMP/client.out")" 2 "leases printed"
expect_eq "$(sed -n "s/^DEVICE='\\(.*\\)'\$/\\1/p" "$TMP/client.out" | tr '\n' ' ')" \
	"vc0 vc1 " "the order they were configured in"
[ -f "$ROOT/run/net-vc0.conf" ] && [ -f "$ROOT/run/net-vc1.conf" ] ||
	fail "a net-IF.conf is missing"
expect_eq "$(cat "$ROOT/run/initramfs/open-iscsi.interface")" vc0 \
	"open-iscsi.interface (the first configured)"

# Two default routes side by side, each on its NIC with its own metric:
# the second lease did not replace the first's.
i0=$(ip -n "$NS_C" -j link show vc0 |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
i1=$(ip -n "$NS_C" -j link show vc1 |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
expect_eq "$(default_routes)" "vc0 10.81.0.1 $((1000 + i0))
vc1 10.81.1.1 $((1000 + i1))" "default routes"
expect_eq "$(via_oif vc0)" "vc0 10.81.0.1" "route of a socket bound to vc0"
expect_eq "$(via_oif vc1)" "vc1 10.81.1.1" "route of a socket bound to vc1"

# Bringing vc1 up again (a renewal, a new lease) touches vc0's route not.
client --each --timeout=30 --retransmit=15s vc1
expect_rc 0
expect_eq "$(via_oif vc0)" "vc0 10.81.0.1" "vc0's route after vc1 was configured again"
# An address change on vc1 leaves vc0's path where it was.
ip -n "$NS_C" addr flush dev vc1
expect_eq "$(via_oif vc0)" "vc0 10.81.0.1" "vc0's route after vc1 lost its address"

# --- 2. vc1's server never answers: vc0 is configured and printed, vc1's
# failure is one line, the exit code says that one failed.
kill "${PIDS[1]}"
wait "${PIDS[1]}" 2>/dev/null || true
ip -n "$NS_C" addr flush dev vc0
start=$(date +%s%N)
client --each --timeout=8 --retransmit=15s vc0 vc1
elapsed=$((($(date +%s%N) - start) / 1000000))
expect_rc 1
case "$(addr_of vc0)" in 10.81.0.*/24) ;; *) fail "vc0 after vc1 failed: '$(addr_of vc0)'" ;; esac
expect_eq "$(grep -c '^DEVICE=' "$TMP/client.out")" 1 "leases printed with vc1 dead"
grep -q "^DEVICE='vc0'$" "$TMP/client.out" || fail "vc0's lease not printed"
expect_eq "$(grep vc1 "$TMP/client.err" | grep -vc ': carrier$')" 1 "lines about vc1 (but its carrier)"
grep -q "vc1: no DHCP lease within 8000 ms$" "$TMP/client.err" ||
	fail "vc1's line: $(grep vc1 "$TMP/client.err")"
[ "$elapsed" -lt 14000 ] || fail "took $elapsed ms with an 8 s time-out"

# --- 3. ip= for two devices: vc1 static at once, vc0 by DHCP.
ip -n "$NS_C" addr flush dev vc0
client --timeout=30 --retransmit=15s --ip=10.81.1.5::10.81.1.1:255.255.255.0::vc1:off \
	--ip=:::::vc0:dhcp
expect_rc 0
expect_eq "$(addr_of vc1)" 10.81.1.5/24 "static vc1"
case "$(addr_of vc0)" in 10.81.0.*/24) ;; *) fail "vc0 by DHCP: '$(addr_of vc0)'" ;; esac
expect_eq "$(conf_value "$ROOT/run/net-vc1.conf" PROTO)" none "vc1's PROTO"
expect_eq "$(conf_value "$ROOT/run/net-vc0.conf" PROTO)" dhcp "vc0's PROTO"
# the static one was configured before the 5 s the DHCP server waits
expect_eq "$(sed -n "s/^DEVICE='\\(.*\\)'\$/\\1/p" "$TMP/client.out" | head -1)" vc1 \
	"configured first"
# --- 4. iscsistart -N with an iBFT naming both NICs, both by DHCP: it
# returns once both are configured (open-iscsi's brings up every NIC the
# firmware names), not at the first lease. vc1's server answers after
# 2 s, vc0's after 5 s.
serve 1 2
fw=$TMP/fw/sys
mkdir -p "$fw/class/net"
cp -r "$(dirname "$0")/../fixtures/ibft/sysfs/two-targets/sys/firmware" "$fw/"
for i in 0 1; do
	mac=$(ip -n "$NS_C" -j link show "vc$i" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
	mkdir "$fw/class/net/vc$i"
	echo "$mac" >"$fw/class/net/vc$i/address"
	echo "$mac" >"$fw/firmware/ibft/ethernet$i/mac"
	echo 3 >"$fw/firmware/ibft/ethernet$i/origin"   # DHCP
done
ip -n "$NS_C" addr flush dev vc0
ip -n "$NS_C" addr flush dev vc1
ln -s "$ISCSIROOT" "$TMP/iscsistart"
RC=0
timeout 60 ip netns exec "$NS_C" env ISCSIROOT_FW_ROOT="$TMP/fw" \
	"$TMP/iscsistart" -N >"$TMP/client.out" 2>"$TMP/client.err" || RC=$?
expect_rc 0
case "$(addr_of vc1)" in 10.81.1.*/24) ;; *) fail "-N: vc1: '$(addr_of vc1)'" ;; esac
case "$(addr_of vc0)" in
10.81.0.*/24) ;;
*) fail "-N returned before vc0 (the slower NIC) was configured: '$(addr_of vc0)'" ;;
esac
echo "ok: two NICs"
