#!/bin/bash
# SPDX-License-Identifier: MIT
# dracut's static IPv6 ip=[v6addr]:[peer]:[gw]:prefix:hostname:iface:none:
# the address (past DAD), the default route, run/net6-IF.conf, and the
# peer reachable over it; a duplicate address fails DAD and the run.
. "$(dirname "$0")/lib.sh"

ip link add vs0 netns "$NS_S" type veth peer name vc0 netns "$NS_C"
ip -n "$NS_S" addr add fd78::1/64 dev vs0 nodad
ip -n "$NS_S" link set vs0 up

client --timeout=20 "--ip=[fd78::5]::[fd78::1]:64:host6:vc0:none"
expect_rc 0
got=$(client_json addr show dev vc0 | python3 -c '
import json, sys
for a in json.load(sys.stdin)[0]["addr_info"]:
    if a["family"] == "inet6" and a["scope"] == "global":
        print("%s/%d%s" % (a["local"], a["prefixlen"],
                           " tentative" if a.get("tentative") else ""))')
expect_eq "$got" "fd78::5/64" "address on vc0"
expect_eq "$(client_json -6 route show default | python3 -c '
import json, sys; r = json.load(sys.stdin); print(r[0]["gateway"] if r else "")')" \
	fd78::1 "default route"
conf=$ROOT/run/net6-vc0.conf
expect_eq "$(conf_value "$conf" DEVICE6)" vc0 "DEVICE6"
expect_eq "$(conf_value "$conf" IPV6PROTO)" none "IPV6PROTO"
expect_eq "$(conf_value "$conf" IPV6ADDR)" fd78::5 "IPV6ADDR"
expect_eq "$(conf_value "$conf" IPV6NETMASK)" 64 "IPV6NETMASK"
expect_eq "$(conf_value "$conf" IPV6GATEWAY)" fd78::1 "IPV6GATEWAY"
expect_eq "$(conf_value "$conf" HOSTNAME)" host6 "HOSTNAME"
ip netns exec "$NS_C" ping -6 -c 1 -W 2 fd78::1 >/dev/null ||
	fail "fd78::1 not reachable from the client"

# Two NICs, each its own ip=: vc0 IPv6 (static), vc1 IPv4 (static), both
# configured, each with its own file.
add_link vs1 vc1 10.82.0.1/24
ip -n "$NS_C" addr flush dev vc0 scope global
rm -rf "${ROOT:?}"/*
client --timeout=20 "--ip=[fd78::6]:::64::vc0:none" \
	--ip=10.82.0.5:::255.255.255.0::vc1:off
expect_rc 0
[ -f "$ROOT/run/net6-vc0.conf" ] || fail "no net6-vc0.conf"
expect_eq "$(conf_value "$ROOT/run/net6-vc0.conf" IPV6ADDR)" fd78::6 "vc0's IPV6ADDR"
expect_eq "$(conf_value "$ROOT/run/net-vc1.conf" IPV4ADDR)" 10.82.0.5 "vc1's IPV4ADDR"
expect_eq "$(addr_of vc1)" 10.82.0.5/24 "vc1's address"
ip netns exec "$NS_C" ping -6 -c 1 -W 2 fd78::1 >/dev/null ||
	fail "fd78::1 not reachable from fd78::6"

# The server's own address: DAD fails, the run ends at once with exit 4.
ip -n "$NS_C" link set vc0 down
ip -n "$NS_C" addr flush dev vc0
start=$(date +%s)
client --timeout=20 "--ip=[fd78::1]:::64::vc0:none"
expect_rc 4
[ $(($(date +%s) - start)) -lt 15 ] || fail "a failed DAD waited for the time-out"
grep -q "failed duplicate address detection" "$TMP/client.err" ||
	fail "no word of the failed DAD"
echo "ok: static6"
