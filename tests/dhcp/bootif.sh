#!/bin/bash
# SPDX-License-Identifier: MIT
# Interface choice across two interfaces: all at once when nothing is
# named (the first lease wins), BOOTIF= by MAC, an explicit name,
# dracut's ifname= (once, and once per NIC).
. "$(dirname "$0")/lib.sh"

add_link vs0 vc0 10.80.0.1/24 52:54:00:00:00:a0
add_link vs1 vc1 10.80.1.1/24 52:54:00:00:00:a1
dnsmasq_on() {
	start_dnsmasq "$1" --no-ping \
		--dhcp-range="$2.50,$2.99,255.255.255.0,10m"
}
flush() {
	ip -n "$NS_C" addr flush dev vc0
	ip -n "$NS_C" addr flush dev vc1
}

# Only vc1 has a server: both interfaces ask at once, vc1's lease wins
# and the bring-up does not wait for vc0.
dnsmasq_on vs1 10.80.1
start=$(date +%s)
client --timeout=20
expect_rc 0
case "$(addr_of vc1)" in 10.80.1.*/24) ;; *) fail "vc1: $(addr_of vc1)" ;; esac
expect_eq "$(addr_of vc0)" "" "vc0 without a server"
[ $(($(date +%s) - start)) -lt 15 ] || fail "waited for the other interface"
[ -f "$ROOT/run/net-vc1.conf" ] || fail "no net-vc1.conf"
[ ! -f "$ROOT/run/net-vc0.conf" ] || fail "net-vc0.conf written"
flush

# Both have servers; BOOTIF= picks vc0 by its MAC.
dnsmasq_on vs0 10.80.0
client --timeout=20 --bootif=01-52-54-00-00-00-a0
expect_rc 0
case "$(addr_of vc0)" in 10.80.0.*/24) ;; *) fail "vc0: $(addr_of vc0)" ;; esac
expect_eq "$(addr_of vc1)" "" "vc1 with BOOTIF= naming vc0"
flush

# BOOTIF= from a kernel command line, as PXELINUX writes it
echo "BOOT_IMAGE=/vmlinuz BOOTIF=01-52-54-00-00-00-a1 quiet" >"$TMP/cmdline"
client --timeout=20 --cmdline="$TMP/cmdline"
expect_rc 0
case "$(addr_of vc1)" in 10.80.1.*/24) ;; *) fail "vc1: $(addr_of vc1)" ;; esac
expect_eq "$(addr_of vc0)" "" "vc0 with BOOTIF= naming vc1"
flush

# An explicit name wins over BOOTIF=, as does ip=...:<device>:...
client --timeout=20 --bootif=01-52-54-00-00-00-a1 vc0
expect_rc 0
case "$(addr_of vc0)" in 10.80.0.*/24) ;; *) fail "vc0: $(addr_of vc0)" ;; esac
expect_eq "$(addr_of vc1)" "" "vc1 when vc0 is named"
flush
client --timeout=20 --ip=:::::vc1:dhcp
expect_rc 0
case "$(addr_of vc1)" in 10.80.1.*/24) ;; *) fail "vc1: $(addr_of vc1)" ;; esac
expect_eq "$(addr_of vc0)" "" "vc0 when ip= names vc1"

# dracut's ifname=: vc1, down as at boot, is renamed and used
flush
ip -n "$NS_C" link set vc1 down
client --timeout=20 --ifname=boot0:52:54:00:00:00:a1
expect_rc 0
case "$(addr_of boot0)" in 10.80.1.*/24) ;; *) fail "boot0: $(addr_of boot0)" ;; esac
[ -f "$ROOT/run/net-boot0.conf" ] || fail "no net-boot0.conf"

# ifname= once per NIC, from a command line with an ip= for each name:
# both renamed (while down), both configured
ip -n "$NS_C" addr flush dev boot0
ip -n "$NS_C" link set boot0 down
ip -n "$NS_C" link set vc0 down
echo "ifname=nic0:52:54:00:00:00:a0 ifname=nic1:52:54:00:00:00:a1" \
	"ip=nic0:dhcp ip=nic1:dhcp" >"$TMP/cmdline"
client --timeout=20 --cmdline="$TMP/cmdline"
expect_rc 0
case "$(addr_of nic0)" in 10.80.0.*/24) ;; *) fail "nic0: $(addr_of nic0)" ;; esac
case "$(addr_of nic1)" in 10.80.1.*/24) ;; *) fail "nic1: $(addr_of nic1)" ;; esac

# A BOOTIF= MAC no interface has: no link
client --timeout=5 --link-timeout=1 --bootif=01-52-54-00-00-00-ff
expect_rc 3
echo "ok: bootif"
