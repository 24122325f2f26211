#!/bin/bash
# SPDX-License-Identifier: MIT
# DHCP Rapid Commit (RFC 4039): DISCOVER offers it; dnsmasq with
# --dhcp-rapid-commit answers with an ACK that carries option 80 and the
# lease is bound in two messages; without the flag dnsmasq offers, and
# the usual four messages bind it. Each case on a link of its own.
. "$(dirname "$0")/lib.sh"

add_link vs0 vc0 10.84.0.1/24
add_link vs1 vc1 10.84.1.1/24
start_dnsmasq vs0 --no-ping --dhcp-rapid-commit \
	--dhcp-range=10.84.0.50,10.84.0.99,255.255.255.0,10m
start_dnsmasq vs1 --no-ping --dhcp-range=10.84.1.50,10.84.1.99,255.255.255.0,10m

# messages TYPE... LOG: each of dnsmasq's DHCP<TYPE>(iface) lines counted
count() { grep -c "DHCP$1(" "$2" || true; }

client -v --timeout=20 vc0
expect_rc 0
case "$(addr_of vc0)" in 10.84.0.*/24) ;; *) fail "vc0: '$(addr_of vc0)'" ;; esac
grep -q "ACK with Rapid Commit" "$TMP/client.err" || fail "no Rapid Commit ACK taken"
! grep -q "sent REQUEST" "$TMP/client.err" || fail "a REQUEST was sent"
log=$TMP/dnsmasq-vs0.log
expect_eq "$(count DISCOVER "$log") $(count OFFER "$log") $(count REQUEST "$log") $(count ACK "$log")" \
	"1 0 0 1" "dnsmasq's DISCOVER OFFER REQUEST ACK with --dhcp-rapid-commit"
[ "$(conf_value "$ROOT/run/net-vc0.conf" PROTO)" = dhcp ] || fail "no hand-over file"

client -v --timeout=20 vc1
expect_rc 0
case "$(addr_of vc1)" in 10.84.1.*/24) ;; *) fail "vc1: '$(addr_of vc1)'" ;; esac
! grep -q "Rapid Commit" "$TMP/client.err" || fail "Rapid Commit without the server's"
grep -q "sent REQUEST in REQUESTING" "$TMP/client.err" || fail "no REQUEST"
log=$TMP/dnsmasq-vs1.log
expect_eq "$(count DISCOVER "$log") $(count OFFER "$log") $(count REQUEST "$log") $(count ACK "$log")" \
	"1 1 1 1" "dnsmasq's DISCOVER OFFER REQUEST ACK without it"
echo "ok: rapid-commit"
