#!/bin/bash
# SPDX-License-Identifier: MIT
# IPv6 against dnsmasq (router advertisements + DHCPv6): ip=auto6 (the
# kernel's SLAAC), iscsiroot dhcp -6 (DHCPv6 for the address, the RA for
# the route), with Rapid Commit and without; the address, the default
# route, the boot file URL as the root-path, and run/net6-IF.conf.
. "$(dirname "$0")/lib.sh"

ip link add vs0 netns "$NS_S" type veth peer name vc0 netns "$NS_C"
ip -n "$NS_S" addr add fd77::1/64 dev vs0 nodad
ip -n "$NS_S" link set vs0 up
ROOTPATH='iscsi:[fd77::1]::3260:1:iqn.2024-01.test:root6'

# addr6_of IFACE KIND: its global addresses ("a/p"), one a line, with
# KIND "dynamic" (SLAAC) or "permanent" (ours) only
addr6_of() {
	client_json addr show dev "$1" | python3 -c '
import json, sys
for a in json.load(sys.stdin)[0].get("addr_info", []):
    if a["family"] == "inet6" and a["scope"] == "global" and \
       (sys.argv[1] == "permanent") == ("dynamic" not in a):
        print("%s/%d" % (a["local"], a["prefixlen"]))' "$2"
}

route6_default() {
	client_json -6 route show default | python3 -c '
import json, sys
r = json.load(sys.stdin); print(r[0]["gateway"] if r else "")'
}

# ---- SLAAC ----
start_dnsmasq vs0 --enable-ra --dhcp-range=fd77::,ra-only,64,10m
client --timeout=30 --ip=auto6 vc0
expect_rc 0
# the router's link-local address (there once the client's end was up)
server_ll=$(ip -n "$NS_S" -j addr show dev vs0 | python3 -c '
import json, sys
for a in json.load(sys.stdin)[0]["addr_info"]:
    if a["family"] == "inet6" and a["scope"] == "link": print(a["local"])')
[ -n "$server_ll" ] || fail "no link-local address on vs0"
slaac=$(addr6_of vc0 dynamic)
case "$slaac" in
fd77::*/64) ;;
*) fail "SLAAC address on vc0: '$slaac'" ;;
esac
expect_eq "$(route6_default)" "$server_ll" "IPv6 default route"
conf=$ROOT/run/net6-vc0.conf
expect_eq "$(conf_value "$conf" DEVICE6)" vc0 "DEVICE6"
expect_eq "$(conf_value "$conf" IPV6PROTO)" auto6 "IPV6PROTO"
expect_eq "$(conf_value "$conf" IPV6ADDR)/64" "$slaac" "IPV6ADDR"
expect_eq "$(conf_value "$conf" IPV6NETMASK)" 64 "IPV6NETMASK"
expect_eq "$(conf_value "$conf" IPV6GATEWAY)" "$server_ll" "IPV6GATEWAY"
expect_eq "$(cat "$ROOT/run/initramfs/open-iscsi.interface")" vc0 \
	"open-iscsi.interface"
kill "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null || true
PIDS=()

# ---- DHCPv6: dnsmasq answers our Rapid Commit at once (the four-message
# exchange is stepped in test-dhcpc-dhcp6) ----
for run in 1 2; do
	rm -rf "${ROOT:?}"/*
	start_dnsmasq vs0 --enable-ra --dhcp-range=fd77::100,fd77::1ff,64,10m \
		--dhcp-option=option6:dns-server,[fd77::53] \
		--dhcp-option=option6:domain-search,lab.example,example.org \
		--dhcp-option="option6:bootfile-url,$ROOTPATH"
	client --timeout=30 -6 -v vc0
	expect_rc 0
	mine=$(addr6_of vc0 permanent)
	case "$mine" in
	fd77::1[0-9a-f][0-9a-f]/128) ;;
	*) fail "DHCPv6 address on vc0: '$mine' (run $run)" ;;
	esac
	expect_eq "$(route6_default)" "$server_ll" "IPv6 default route"
	conf=$ROOT/run/net6-vc0.conf
	expect_eq "$(conf_value "$conf" IPV6PROTO)" dhcp6 "IPV6PROTO"
	expect_eq "$(conf_value "$conf" IPV6ADDR)/128" "$mine" "IPV6ADDR"
	expect_eq "$(conf_value "$conf" IPV6DNS0)" fd77::53 "IPV6DNS0"
	expect_eq "$(conf_value "$conf" ROOTPATH)" "$ROOTPATH" "ROOTPATH"
	expect_eq "$(conf_value "$conf" IPV6DOMAINSEARCH)" "lab.example example.org" \
		"IPV6DOMAINSEARCH (option 24)"
	expect_eq "$(cat "$ROOT/etc/resolv.conf")" "search lab.example example.org
nameserver fd77::53" "resolv.conf (option 24 as search, as 119 for v4)"
	# the same text on stdout
	head -n "$(wc -l <"$conf")" "$TMP/client.out" | cmp -s - "$conf" ||
		fail "stdout differs from $conf"
	grep -q "root-path: target iqn.2024-01.test:root6 at fd77::1 port 3260" \
		"$TMP/client.err" || fail "root-path not parsed"
	grep -q "DHCPSOLICIT.*00:03:00:01:" "$TMP/dnsmasq-vs0.log" ||
		fail "no Solicit with a DUID-LL seen by the server"
	grep -q "rapid-commit" "$TMP/dnsmasq-vs0.log" ||
		fail "no Rapid Commit"
	grep -q "DHCPADVERTISE" "$TMP/dnsmasq-vs0.log" &&
		fail "Rapid Commit, yet the server sent an Advertise"
	kill "${PIDS[0]}"
	wait "${PIDS[0]}" 2>/dev/null || true
	PIDS=()
	# the second run starts from a link without our address
	ip -n "$NS_C" addr del "$mine" dev vc0
done
echo "ok: dhcp6"
