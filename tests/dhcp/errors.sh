#!/bin/bash
# SPDX-License-Identifier: MIT
# The failures and their exit codes: no server (1, after the time-out,
# having retransmitted), bad arguments (2), no carrier or no such
# interface (3).
. "$(dirname "$0")/lib.sh"

add_link vs0 vc0 10.81.0.1/24

start=$(date +%s%N)
client -v --timeout=3 --retransmit=400ms vc0
took=$((($(date +%s%N) - start) / 1000000))
expect_rc 1
grep -q "no DHCP lease within 3000 ms" "$TMP/client.err" || fail "message"
[ "$took" -ge 2900 ] && [ "$took" -lt 8000 ] || fail "took $took ms"
n=$(grep -c "sent DISCOVER" "$TMP/client.err")
[ "$n" -ge 3 ] || fail "only $n DISCOVERs in 3 s with a 400 ms start"
expect_eq "$(addr_of vc0)" "" "address without a server"
[ ! -e "$ROOT/run/net-vc0.conf" ] || fail "net-vc0.conf without a lease"

ip -n "$NS_S" link set vs0 down
client --timeout=3 --link-timeout=1 vc0
expect_rc 3
grep -q "no carrier" "$TMP/client.err" || fail "no-carrier message"

client --link-timeout=500ms nosuch0
expect_rc 3
grep -q "no matching network interface" "$TMP/client.err" || fail "message"

for bad in --timeout=abc --retransmit=0 --bogus --bootif=01-zz \
	--client-id= --ip=1.2.3.4.5::::::off; do
	client "$bad" vc0
	[ "$RC" = 2 ] || fail "$bad: exit $RC, expected 2"
done

client --help
expect_rc 0
grep -q "exit codes: 0 configured" "$TMP/client.out" || fail "--help"
echo "ok: errors"
