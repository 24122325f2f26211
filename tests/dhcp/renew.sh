#!/bin/bash
# SPDX-License-Identifier: MIT
# Lease keeping (--renew, as the long-running daemon does it): with an
# 8 s lease from ISC dhcpd the client renews by unicast at T1, stays
# bound, and on SIGTERM exits 0 leaving the address in place.
. "$(dirname "$0")/lib.sh"
command -v dhcpd >/dev/null || skip "no dhcpd"

mac=52:54:00:12:34:84
add_link vs0 vc0 10.84.0.1/24 "$mac"
cat >"$TMP/dhcpd.conf" <<CONF
authoritative;
default-lease-time 8;
max-lease-time 8;
subnet 10.84.0.0 netmask 255.255.255.0 {
	option routers 10.84.0.1;
	range 10.84.0.100 10.84.0.150;
}
host renewer {
	hardware ethernet $mac;
	fixed-address 10.84.0.42;
}
CONF
start_dhcpd "$TMP/dhcpd.conf" vs0

# no timeout(1) in between: ip netns exec execs, so $! is iscsiroot itself
# and the clean-up's kill reaches it; the waits below are bounded
ip netns exec "$NS_C" "$ISCSIROOT" dhcp --root="$ROOT" --renew \
	-v --timeout=20 vc0 >"$TMP/client.out" 2>"$TMP/client.err" &
pid=$!
PIDS+=($pid)
# T1 is 4 s after the first REQUEST; allow twice that
for _ in $(seq 100); do
	[ "$(grep -c "bound to 10.84.0.42" "$TMP/client.err")" -ge 2 ] && break
	sleep 0.1
done
grep -q "BOUND -> RENEWING" "$TMP/client.err" || fail "no renewal at T1"
grep -q "sent REQUEST in RENEWING" "$TMP/client.err" || fail "no REQUEST"
[ "$(grep -c "bound to 10.84.0.42" "$TMP/client.err")" -ge 2 ] ||
	fail "not bound again"
[ "$(grep -c "DHCPACK on 10.84.0.42" "$TMP/dhcpd.log")" -ge 2 ] ||
	fail "dhcpd acknowledged no renewal"
expect_eq "$(addr_of vc0)" 10.84.0.42/24 "address while renewing"
kill -TERM "$pid"
wait_for sh -c "! kill -0 $pid 2>/dev/null" || fail "no exit on SIGTERM"
RC=0
wait "$pid" || RC=$?
expect_rc 0
# stopping never takes the root disk's address away
expect_eq "$(addr_of vc0)" 10.84.0.42/24 "address after exit"
expect_eq "$(conf_value "$ROOT/run/net-vc0.conf" IPV4ADDR)" 10.84.0.42 \
	"IPV4ADDR"
echo "ok: renew"
