#!/bin/bash
# SPDX-License-Identifier: MIT
# INIT-REBOOT and NAK: asking for an address of another network gets a
# NAK, and the client goes back to DISCOVER and gets a lease; asking for
# a valid one gets it in one REQUEST/ACK.
. "$(dirname "$0")/lib.sh"

add_link vs0 vc0 10.82.0.1/24
start_dnsmasq vs0 --no-ping --dhcp-authoritative \
	--dhcp-range=10.82.0.50,10.82.0.99,255.255.255.0,10m

client -v --timeout=20 --request=10.99.0.5 vc0
expect_rc 0
grep -q "INIT-REBOOT -> REBOOTING" "$TMP/client.err" || fail "no INIT-REBOOT"
grep -q "NAK in REBOOTING" "$TMP/client.err" || fail "no NAK seen"
grep -q "DHCPNAK(vs0) 10.99.0.5" "$TMP/dnsmasq-vs0.log" || fail "server NAK"
grep -q "sent DISCOVER" "$TMP/client.err" || fail "no DISCOVER after NAK"
addr=$(addr_of vc0)
case "$addr" in 10.82.0.*/24) ;; *) fail "address: '$addr'" ;; esac

# INIT-REBOOT for the address we hold: no DISCOVER at all
ip=${addr%/24}
client -v --timeout=20 --ip="$ip:::::vc0:dhcp"
expect_rc 0
grep -q "sent REQUEST in REBOOTING" "$TMP/client.err" || fail "no REQUEST"
! grep -q "sent DISCOVER" "$TMP/client.err" || fail "DISCOVER in INIT-REBOOT"
expect_eq "$(addr_of vc0)" "$addr" "address kept"
echo "ok: nak"
