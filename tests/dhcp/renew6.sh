#!/bin/bash
# SPDX-License-Identifier: MIT
# DHCPv6 lease keeping (--renew, as the long-running daemon does it),
# against ISC dhcpd -6 with short times (T1 8 s, T2 14 s, valid 30 s) and
# dnsmasq sending the router advertisements: the client renews at T1 with
# its server; with dhcpd stopped it goes on to Rebind at T2, and a dhcpd
# started again (the same leases file, so the same server DUID) answers
# the Rebind before the lease runs out. The address stays all along, and
# on SIGTERM the client exits 0 leaving it in place.
. "$(dirname "$0")/lib.sh"
command -v dhcpd >/dev/null || skip "no dhcpd"

ip link add vs0 netns "$NS_S" type veth peer name vc0 netns "$NS_C"
ip -n "$NS_S" addr add fd78::1/64 dev vs0 nodad
ip -n "$NS_S" link set vs0 up
cat >"$TMP/dhcpd6.conf" <<CONF
default-lease-time 30;
max-lease-time 30;
preferred-lifetime 16;
option dhcp-renewal-time 8;
option dhcp-rebinding-time 14;
subnet6 fd78::/64 {
	range6 fd78::100 fd78::1ff;
}
CONF
touch "$TMP/dhcpd6.leases"

# dhcpd6 LOG: dhcpd -6 in the foreground in S; its PID in DHCPD.
dhcpd6() {
	ip netns exec "$NS_S" dhcpd -f -d -6 -cf "$TMP/dhcpd6.conf" \
		-lf "$TMP/dhcpd6.leases" -pf "$TMP/dhcpd6.pid" vs0 \
		>"$TMP/$1" 2>&1 &
	DHCPD=$!
	PIDS+=($DHCPD)
	wait_for grep -q "^Sending on" "$TMP/$1" || fail "dhcpd -6 did not start"
}

# lines PATTERN: how many lines of the client's log match
lines() { grep -c "$1" "$TMP/client.err" || true; }

# wait_lines PATTERN N SECONDS: until PATTERN is on N lines (bounded)
wait_lines() {
	for _ in $(seq $(($3 * 10))); do
		[ "$(lines "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

addr6() {
	ip -n "$NS_C" -6 -o addr show dev vc0 scope global permanent |
		awk '{ print $4 }'
}

# the routes come from router advertisements (dhcpd sends none)
start_dnsmasq vs0 --enable-ra --dhcp-range=fd78::,ra-only,64,10m
dhcpd6 dhcpd-1.log

# no timeout(1) in between: ip netns exec execs, so $! is iscsiroot itself
ip netns exec "$NS_C" "$ISCSIROOT" dhcp --root="$ROOT" --renew -6 -v \
	--timeout=30 vc0 >"$TMP/client.out" 2>"$TMP/client.err" &
pid=$!
PIDS+=($pid)
wait_lines "dhcp6 vc0: address fd78::1" 1 30 || fail "no DHCPv6 address"
mine=$(addr6)
case "$mine" in
fd78::1[0-9a-f][0-9a-f]/128) ;;
*) fail "DHCPv6 address on vc0: '$mine'" ;;
esac

# T1 is 8 s after the Reply
wait_lines "dhcp6 vc0: renewed ${mine%/128}" 1 20 || fail "not renewed at T1"
grep -q "Renew message from" "$TMP/dhcpd-1.log" || fail "dhcpd saw no Renew"
expect_eq "$(addr6)" "$mine" "address after the Renew"

# No server from now: the next Renew goes unanswered until T2, the Rebind
# is answered by a dhcpd started again.
kill "$DHCPD"
wait "$DHCPD" 2>/dev/null || true
wait_lines "dhcp6 vc0: Renew" 2 20 || fail "no second Renew"
wait_lines "dhcp6 vc0: Rebind" 1 20 || fail "no Rebind at T2"
[ "$(lines "dhcp6 vc0: renewed")" -eq 1 ] || fail "renewed with no server"
dhcpd6 dhcpd-2.log
wait_lines "dhcp6 vc0: renewed ${mine%/128}" 2 20 ||
	fail "the Rebind was not answered before the lease ran out"
grep -q "Rebind message from" "$TMP/dhcpd-2.log" || fail "dhcpd saw no Rebind"
[ "$(lines "expired")" -eq 0 ] || fail "the lease ran out"
expect_eq "$(addr6)" "$mine" "address after the Rebind"

kill -TERM "$pid"
wait_for sh -c "! kill -0 $pid 2>/dev/null" || fail "no exit on SIGTERM"
RC=0
wait "$pid" || RC=$?
expect_rc 0
expect_eq "$(addr6)" "$mine" "address after exit"
echo "ok: renew6"
