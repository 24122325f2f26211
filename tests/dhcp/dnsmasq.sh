#!/bin/bash
# SPDX-License-Identifier: MIT
# Against dnsmasq: address, prefix, default route, option 121 routes, MTU,
# host name, DNS and root-path are applied (read back through netlink) and
# written to the hand-over files.
. "$(dirname "$0")/lib.sh"

add_link vs0 vc0 10.77.0.1/24
start_dnsmasq vs0 --no-ping --dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,10m \
	--dhcp-option=3,10.77.0.1 \
	--dhcp-option=6,10.77.0.53,10.77.0.54 \
	--dhcp-option=26,1400 \
	--dhcp-option=121,192.168.50.0/24,10.77.0.2,10.99.0.0/16,10.77.0.3,0.0.0.0/0,10.77.0.1 \
	--dhcp-option=12,client1 --domain=lab.test \
	--dhcp-option=119,lab.test,example.org \
	--dhcp-option=17,"iscsi:10.77.0.1::3260:1:iqn.2024-01.test:root"

# The host name goes into a UTS namespace of the test's own.
RC=0
unshare --uts sh -c 'timeout 60 ip netns exec "$1" "$2" dhcp --root="$3" \
	--timeout=20 --set-hostname -v vc0 && hostname' sh \
	"$NS_C" "$ISCSIROOT" "$ROOT" >"$TMP/client.out" 2>"$TMP/client.err" ||
	RC=$?
expect_rc 0
expect_eq "$(tail -1 "$TMP/client.out")" client1 "host name set"

addr=$(addr_of vc0)
case "$addr" in
10.77.0.*/24) ;;
*) fail "address on vc0: '$addr'" ;;
esac
ip=${addr%/24}
expect_eq "$(mtu_of vc0)" 1400 "MTU"
# RFC 3442: with option 121 the routes come from it, option 3 is ignored
expect_eq "$(route_via default)" 10.77.0.1 "default route"
expect_eq "$(route_via 192.168.50.0/24)" 10.77.0.2 "option 121 route"
expect_eq "$(route_via 10.99.0.0/16)" 10.77.0.3 "option 121 route"

conf=$ROOT/run/net-vc0.conf
[ -f "$conf" ] || fail "no $conf"
expect_eq "$(conf_value "$conf" DEVICE)" vc0 "DEVICE"
expect_eq "$(conf_value "$conf" PROTO)" dhcp "PROTO"
expect_eq "$(conf_value "$conf" IPV4ADDR)" "$ip" "IPV4ADDR"
expect_eq "$(conf_value "$conf" IPV4NETMASK)" 255.255.255.0 "IPV4NETMASK"
expect_eq "$(conf_value "$conf" IPV4BROADCAST)" 10.77.0.255 "IPV4BROADCAST"
expect_eq "$(conf_value "$conf" IPV4GATEWAY)" 10.77.0.1 "IPV4GATEWAY"
expect_eq "$(conf_value "$conf" IPV4DNS0)" 10.77.0.53 "IPV4DNS0"
expect_eq "$(conf_value "$conf" IPV4DNS1)" 10.77.0.54 "IPV4DNS1"
expect_eq "$(conf_value "$conf" HOSTNAME)" client1 "HOSTNAME"
expect_eq "$(conf_value "$conf" DNSDOMAIN)" lab.test "DNSDOMAIN"
expect_eq "$(conf_value "$conf" DOMAINSEARCH)" "lab.test example.org" \
	"DOMAINSEARCH"
expect_eq "$(conf_value "$conf" ROOTPATH)" \
	"iscsi:10.77.0.1::3260:1:iqn.2024-01.test:root" "ROOTPATH"
expect_eq "$(conf_value "$conf" DHCPLEASETIME)" 600 "DHCPLEASETIME"
grep -q "^IPV4ROUTE0SUBNET='192.168.50.0/24'$" "$conf" || fail "IPV4ROUTE0"
# the same text on stdout
head -n "$(wc -l <"$conf")" "$TMP/client.out" | cmp -s - "$conf" ||
	fail "stdout differs from $conf"
expect_eq "$(cat "$ROOT/run/initramfs/open-iscsi.interface")" vc0 \
	"open-iscsi.interface"
expect_eq "$(cat "$ROOT/etc/resolv.conf")" "search lab.test example.org
nameserver 10.77.0.53
nameserver 10.77.0.54" "resolv.conf"
grep -q "root-path: target iqn.2024-01.test:root at 10.77.0.1 port 3260 LUN 0001000000000000" \
	"$TMP/client.err" || fail "root-path not parsed"
# what the server saw: our options 55 and 61
grep -q "requested options: 1:netmask, 121:classless-static-route" \
	"$TMP/dnsmasq-vs0.log" || fail "parameter request list"

# A second run on the configured interface refreshes, never duplicates.
client --timeout=20 vc0
expect_rc 0
n=$(client_json addr show dev vc0 | python3 -c '
import json, sys
print(sum(a["family"] == "inet" for a in json.load(sys.stdin)[0]["addr_info"]))')
expect_eq "$n" 1 "IPv4 addresses after a second run"
echo "ok: dnsmasq"
