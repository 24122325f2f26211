#!/bin/bash
# SPDX-License-Identifier: MIT
# A peer sending malformed replies (see peer.py): each is ignored, with
# no crash under ASan/UBSan; then a valid reply still binds the lease,
# with the malformed options inside it dropped one by one.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "no python3"

add_link vs0 vc0 10.83.0.1/24
peer() {
	ip netns exec "$NS_S" python3 "$(dirname "$0")/peer.py" vs0 "$1" \
		10.83.0.1 10.83.0.77 >"$TMP/peer-$1.log" 2>&1 &
	PIDS+=($!)
	wait_for grep -q ready "$TMP/peer-$1.log" || fail "peer did not start"
}
no_sanitizer_report() {
	! grep -qE "AddressSanitizer|runtime error|LeakSanitizer" \
		"$TMP/client.err" || fail "sanitizer report"
}

# Only bad replies: no lease, a clean time-out.
peer bad
client -v --timeout=3 --retransmit=1s vc0
expect_rc 1
no_sanitizer_report
n=$(grep -c "ignoring packet" "$TMP/client.err")
[ "$n" -ge 20 ] || fail "only $n packets ignored"
for why in "malformed options" "no message type" "another xid" \
	"another chaddr" "not a reply" "short message" "no address" \
	"no server identifier" "not a DHCP frame" \
	"ACK to DISCOVER without Rapid Commit"; do
	grep -q "ignoring packet: $why" "$TMP/client.err" ||
		fail "no packet dropped for: $why"
done
expect_eq "$(addr_of vc0)" "" "address after bad replies"
kill "${PIDS[-1]}"

# Bad replies, then good ones.
peer good
client -v --timeout=20 vc0
expect_rc 0
no_sanitizer_report
grep -q "sent good type 5" "$TMP/peer-good.log" || fail "peer sent no ACK"
expect_eq "$(addr_of vc0)" 10.83.0.77/24 "address"
conf=$ROOT/run/net-vc0.conf
# overload: the host name came in the file field
expect_eq "$(conf_value "$conf" HOSTNAME)" peerhost "HOSTNAME"
# RFC 3396: the root-path came in two instances
expect_eq "$(conf_value "$conf" ROOTPATH)" \
	"iscsi:10.83.0.1::::iqn.2024-01.peer:x" "ROOTPATH"
# the bad option 121 was dropped whole, so option 3 gives the route
expect_eq "$(route_via default)" 10.83.0.1 "default route"
expect_eq "$(mtu_of vc0)" 1500 "MTU with a bad option 26"
expect_eq "$(conf_value "$conf" DOMAINSEARCH)" "" "bad option 119"
echo "ok: malformed"
