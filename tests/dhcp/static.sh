#!/bin/bash
# SPDX-License-Identifier: MIT
# Static ip= in the kernel's and in dracut's syntax, ip=off, and ip= read
# from a kernel command line file. No DHCP server runs.
. "$(dirname "$0")/lib.sh"

add_link vs0 vc0 10.79.0.1/24
add_link vs1 vc1 10.79.1.1/24

# kernel: client:server:gw:netmask:hostname:device:autoconf:dns0:dns1
client --ip=10.79.0.5:10.79.0.1:10.79.0.254:255.255.255.0:statichost:vc0:none:10.79.0.53:10.79.0.54
expect_rc 0
expect_eq "$(addr_of vc0)" 10.79.0.5/24 "address"
expect_eq "$(addr_of vc1)" "" "the other interface"
expect_eq "$(route_via default)" 10.79.0.254 "default route"
conf=$ROOT/run/net-vc0.conf
expect_eq "$(conf_value "$conf" PROTO)" none "PROTO"
expect_eq "$(conf_value "$conf" IPV4ADDR)" 10.79.0.5 "IPV4ADDR"
expect_eq "$(conf_value "$conf" IPV4GATEWAY)" 10.79.0.254 "IPV4GATEWAY"
expect_eq "$(conf_value "$conf" IPV4DNS1)" 10.79.0.54 "IPV4DNS1"
expect_eq "$(conf_value "$conf" HOSTNAME)" statichost "HOSTNAME"
expect_eq "$(conf_value "$conf" ROOTSERVER)" 10.79.0.1 "ROOTSERVER"
expect_eq "$(conf_value "$conf" DHCPLEASETIME)" 0 "DHCPLEASETIME"
grep -q "^nameserver 10.79.0.53$" "$ROOT/etc/resolv.conf" || fail "resolv.conf"

# dracut: ...:<iface>:none:<mtu>, here from a kernel command line file;
# the netmask is left out, so the classful one (/8 for 10.x) applies.
echo "quiet ip=10.79.1.5::10.79.1.1::h2:vc1:none:1300 rw" >"$TMP/cmdline"
client --cmdline="$TMP/cmdline"
expect_rc 0
expect_eq "$(addr_of vc1)" 10.79.1.5/8 "address"
expect_eq "$(mtu_of vc1)" 1300 "MTU"
expect_eq "$(conf_value "$ROOT/run/net-vc1.conf" HOSTNAME)" h2 "HOSTNAME"

# dracut's trailing <macaddr> sets the interface's MAC
client --ip=10.79.1.6::10.79.1.1:255.255.255.0:h3:vc1:none::52:54:00:aa:bb:cc
expect_rc 0
mac=$(client_json link show dev vc1 | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["address"])')
expect_eq "$mac" 52:54:00:aa:bb:cc "MAC from ip="

# ip=off leaves everything alone
ip -n "$NS_C" addr flush dev vc1
client --ip=off vc1
expect_rc 0
expect_eq "$(addr_of vc1)" "" "address with ip=off"

# a bad ip= is a usage error
client --ip=10.79.1.5:::::vc1:bogus
expect_rc 2
echo "ok: static"
