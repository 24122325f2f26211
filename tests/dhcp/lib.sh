#!/bin/bash
# SPDX-License-Identifier: MIT
# Shared set-up for the DHCP integration tests: two network namespaces
# joined by veth pairs (the server side "S", the client side "C"), DHCP
# servers started inside S, iscsiroot run inside C. Everything is removed
# on exit, also after a failure or a signal. Names carry $$ so that
# parallel runs do not collide.
set -euo pipefail

: "${ISCSIROOT:?ISCSIROOT must name the iscsiroot binary}"
NS_S=dhcps-$$
NS_C=dhcpc-$$
TMP=$(mktemp -d /tmp/dhcp-test.XXXXXX)
ROOT=$TMP/root
PIDS=()
mkdir -p "$ROOT"

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		# bounded: a server that ignores SIGTERM gets SIGKILL after 2 s
		for _ in $(seq 20); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	ip netns del "$NS_S" 2>/dev/null || true
	ip netns del "$NS_C" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$TMP"/*.log "$TMP"/client.err; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -40 "$f" >&2; }
	done
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"

ip netns add "$NS_S"
ip netns add "$NS_C"
ip -n "$NS_S" link set lo up
ip -n "$NS_C" link set lo up

# add_link SERVER_IF CLIENT_IF SERVER_CIDR [CLIENT_MAC]: a veth pair
# between S and C, the server end addressed and up, the client end left
# down for iscsiroot.
add_link() {
	ip link add "$1" netns "$NS_S" type veth peer name "$2" netns "$NS_C"
	[ -z "${4:-}" ] || ip -n "$NS_C" link set "$2" address "$4"
	ip -n "$NS_S" addr add "$3" dev "$1"
	ip -n "$NS_S" link set "$1" up
}

# wait_for CMD...: up to 5 s for a condition, as servers start.
wait_for() {
	for _ in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# start_dnsmasq IFACE ARGS...: a DHCP-only dnsmasq on IFACE in S.
start_dnsmasq() {
	local iface=$1
	shift
	ip netns exec "$NS_S" dnsmasq -k --port=0 --conf-file=/dev/null \
		--bind-interfaces --interface="$iface" \
		--pid-file="$TMP/dnsmasq-$iface.pid" \
		--dhcp-leasefile="$TMP/dnsmasq-$iface.leases" \
		--log-dhcp --log-facility=- "$@" >"$TMP/dnsmasq-$iface.log" 2>&1 &
	PIDS+=($!)
	wait_for test -s "$TMP/dnsmasq-$iface.pid" || fail "dnsmasq did not start"
}

# start_dhcpd CONF IFACE...: ISC dhcpd in the foreground in S, logging to
# stderr (-d) so that the tests can read what it answered.
start_dhcpd() {
	local conf=$1
	shift
	touch "$TMP/dhcpd.leases"
	ip netns exec "$NS_S" dhcpd -f -d -4 -cf "$conf" -lf "$TMP/dhcpd.leases" \
		-pf "$TMP/dhcpd.pid" "$@" >"$TMP/dhcpd.log" 2>&1 &
	PIDS+=($!)
	wait_for grep -q "^Sending on" "$TMP/dhcpd.log" ||
		fail "dhcpd did not start"
}

# client ARGS...: iscsiroot dhcp in C, bounded by 60 s; sets RC, keeps
# stdout in $TMP/client.out and stderr in $TMP/client.err.
client() {
	RC=0
	timeout 60 ip netns exec "$NS_C" "$ISCSIROOT" dhcp --root="$ROOT" \
		"$@" >"$TMP/client.out" 2>"$TMP/client.err" || RC=$?
}

# The client's view through netlink, read back with ip -j.
client_json() {
	ip -n "$NS_C" -j "$@"
}

# addr_of IFACE: "a.b.c.d/prefix" of its first IPv4 address, or "".
addr_of() {
	client_json addr show dev "$1" | python3 -c '
import json, sys
for link in json.load(sys.stdin):
    for a in link.get("addr_info", []):
        if a["family"] == "inet":
            print("%s/%d" % (a["local"], a["prefixlen"])); sys.exit()
print("")'
}

mtu_of() {
	client_json link show dev "$1" | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["mtu"])'
}

# route_via DST: the gateway of the route to DST ("default" or a.b.c.d/n),
# "onlink" for a route without one, "" when there is none.
route_via() {
	client_json route show | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["dst"] == sys.argv[1]:
        print(r.get("gateway", "onlink")); sys.exit()
print("")' "$1"
}

# conf_value FILE KEY: the value of KEY='value' in a net-IF.conf.
conf_value() {
	sed -n "s/^$2='\\(.*\\)'\$/\\1/p" "$1"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

expect_rc() {
	[ "$RC" = "$1" ] || fail "iscsiroot dhcp exited $RC, expected $1"
}
