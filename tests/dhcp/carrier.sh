#!/bin/bash
# SPDX-License-Identifier: MIT
# DHCP starts at carrier: the client's link is up long before its peer,
# and once the peer comes up the lease follows within a few tens of ms:
# the kernel's link notification (rtnetlink) wakes the client, where the
# poll left for a missed one would wait up to a second.
. "$(dirname "$0")/lib.sh"

add_link vs0 vc0 10.85.0.1/24
start_dnsmasq vs0 --no-ping --dhcp-range=10.85.0.50,10.85.0.99,255.255.255.0,10m
ip -n "$NS_S" link set vs0 down         # no carrier on vc0 while down

timeout 60 ip netns exec "$NS_C" "$ISCSIROOT" dhcp --root="$ROOT" -v --timeout=20 vc0 \
	>"$TMP/client.out" 2>"$TMP/client.err" &
pid=$!
PIDS+=("$pid")
sleep 1.3                               # past the first poll after the start
wait_for grep -q "vc0: set up" "$TMP/client.err" || fail "vc0 not set up"
up=$(date +%s%N)
ip -n "$NS_S" link set vs0 up
RC=0
wait "$pid" || RC=$?
took=$((($(date +%s%N) - up) / 1000000))
expect_rc 0
case "$(addr_of vc0)" in 10.85.0.*/24) ;; *) fail "vc0: '$(addr_of vc0)'" ;; esac
echo "carrier -> lease: $took ms"
[ "$took" -lt 400 ] || fail "the lease took $took ms after carrier"
echo "ok: carrier"
