#!/bin/bash
# SPDX-License-Identifier: MIT
# Against ISC dhcpd configured the way admins write it for PXE/iSCSI boot:
# a host block with a fixed address, and a user-class class that gives
# iPXE the root-path while the PXE ROM gets a boot file name.
. "$(dirname "$0")/lib.sh"
command -v dhcpd >/dev/null || skip "no dhcpd"

mac=52:54:00:12:34:56
add_link vs0 vc0 10.78.0.1/24 "$mac"
cat >"$TMP/dhcpd.conf" <<CONF
authoritative;
allow booting;
allow bootp;
default-lease-time 600;
max-lease-time 600;
option domain-name-servers 10.78.0.53;

class "ipxe" {
	match if exists user-class and option user-class = "iPXE";
	option root-path "iscsi:10.78.0.1::3260:1:iqn.2024-01.test:ipxe-root";
}

subnet 10.78.0.0 netmask 255.255.255.0 {
	option routers 10.78.0.1;
	option subnet-mask 255.255.255.0;
	filename "undionly.kpxe";
	next-server 10.78.0.1;
	range 10.78.0.100 10.78.0.150;
}

host bootclient {
	hardware ethernet $mac;
	fixed-address 10.78.0.42;
	option host-name "fixedhost";
}
CONF
start_dhcpd "$TMP/dhcpd.conf" vs0
conf=$ROOT/run/net-vc0.conf

# The PXE ROM's view: no user class, so a file name and no root-path.
client --timeout=20 --vendor-class=PXEClient:Arch:00000:UNDI:002001 vc0
expect_rc 0
expect_eq "$(addr_of vc0)" 10.78.0.42/24 "fixed address"
expect_eq "$(route_via default)" 10.78.0.1 "default route"
expect_eq "$(conf_value "$conf" ROOTPATH)" "" "ROOTPATH without user class"
expect_eq "$(conf_value "$conf" filename)" undionly.kpxe "filename"
expect_eq "$(conf_value "$conf" HOSTNAME)" fixedhost "HOSTNAME"
expect_eq "$(conf_value "$conf" ROOTSERVER)" 10.78.0.1 "ROOTSERVER"
expect_eq "$(conf_value "$conf" IPV4DNS0)" 10.78.0.53 "IPV4DNS0"

# With the user class iPXE sends: the root-path for the initiator.
client --timeout=20 --user-class=iPXE vc0
expect_rc 0
expect_eq "$(addr_of vc0)" 10.78.0.42/24 "fixed address"
expect_eq "$(conf_value "$conf" ROOTPATH)" \
	"iscsi:10.78.0.1::3260:1:iqn.2024-01.test:ipxe-root" "ROOTPATH"
grep -q "root-path: target iqn.2024-01.test:ipxe-root" "$TMP/client.err" ||
	fail "root-path not parsed"
echo "ok: dhcpd"
