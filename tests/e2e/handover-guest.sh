#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the Debian 12 root that handover.sh boots (a systemd unit,
# once multi-user is up): with the root disk's link handed over to the
# network manager KIND (networkd or nm; networkd6 or nm6 for an IPv6
# lease), writes and verifies data on the root disk while the manager
# restarts and is told to reconfigure the link and while the root disk's
# daemon renews its DHCP lease; then says what it saw and powers the
# system off the usual way (systemctl). IPv6: the writes go on for at
# least 30 s after the manager's restart, past the router lifetime (30 s)
# of the RAs, which the managers stop the kernel from taking; the DHCPv6
# renewal is waited for only with "renew6".
# Every line it prints begins with ISCSIROOT-E2E: (the host checks them).
# usage: handover-guest.sh KIND [renew6]
exec >/dev/console 2>&1
M=ISCSIROOT-E2E:
KIND=${1%6}
FAM=4
[ "$KIND" = "$1" ] || FAM=6
WAIT_RENEW=1
[ "$FAM" = 4 ] || [ "${2:-}" = renew6 ] || WAIT_RENEW=0
say() { echo "$M $*"; }

say "init reached uptime=$(cut -d' ' -f1 /proc/uptime)"
say "root on $(findmnt -no SOURCE /)"
IF=$(cat /run/initramfs/open-iscsi.interface)
ADDR=$(ip -$FAM -o addr show dev "$IF" scope global | awk '{ print $4; exit }')
say "link $IF address $ADDR"
# both managers' files are written whichever runs
say "hand-over: $(grep -h -e '^Address=' -e '^address1=' \
	"/run/systemd/network/00-iscsiroot-$IF.network" \
	"/run/NetworkManager/system-connections/iscsiroot-$IF.nmconnection" | tr '\n' ' ')"

manager_state() {
	case $KIND in
	networkd) networkctl status "$IF" --no-pager 2>&1 |
		sed -n 's/^ *State: *//p' | head -1 ;;
	nm) nmcli -t -f GENERAL.STATE,GENERAL.CONNECTION device show "$IF" 2>&1 |
		tr '\n' ' ' ;;
	esac
}
renewals() { # the daemon's kernel log lines, one per lease bound or renewed
	if [ "$FAM" = 4 ]; then dmesg | grep -c "dhcp $IF: bound to"
	else dmesg | grep -c "dhcp6 $IF: renewed "; fi
}
# settled: networkd's "configured", NM's "connected"; at most 60 s
settle() {
	i=0
	while [ $i -lt 60 ] && ! manager_state | grep -qE '\(configured\)|\(connected\)'; do
		sleep 1
		i=$((i + 1))
	done
}
settle
say "manager before: $(manager_state)"
say "udev named it: $(udevadm info -q property -p "/sys/class/net/$IF" | grep -c '^ID_NET_LINK_FILE=.*iscsiroot')"

# The writer: 1 MiB of random bytes, written, synced, the page cache
# dropped, read back and compared, until told to stop.
writer() {
	n=0
	while [ ! -e /run/handover-stop ]; do
		head -c 1048576 /dev/urandom >/var/tmp/hw.src
		cp /var/tmp/hw.src /var/tmp/hw.dst && sync
		echo 3 >/proc/sys/vm/drop_caches
		cmp -s /var/tmp/hw.src /var/tmp/hw.dst || { say "writer MISMATCH round $n"; exit 1; }
		n=$((n + 1))
	done
	echo "$n" >/run/handover-rounds
}
bound0=$(renewals)
writer &
wpid=$!

sleep 3
case $KIND in
networkd) systemctl restart systemd-networkd && say "manager restarted" ;;
nm) systemctl restart NetworkManager && say "manager restarted" ;;
esac
sleep 5
case $KIND in
networkd) networkctl reconfigure "$IF" && say "manager reconfigured $IF" ;;
nm) nmcli device reapply "$IF" && say "manager reapplied $IF" ;;
esac

# The daemon renews at T1 (IPv4 20 s, IPv6 1 minute after it was bound);
# wait for that, at most 150 s, the writer still running. IPv6: at least
# 25 s more in any case (30 s after the restart).
i=0
while { [ "$WAIT_RENEW" = 1 ] && [ "$(renewals)" -le "$bound0" ] && [ $i -lt 150 ]; } ||
	{ [ "$FAM" = 6 ] && [ $i -lt 25 ]; }; do
	sleep 1
	i=$((i + 1))
done
if [ "$WAIT_RENEW" = 0 ]; then
	say "dhcp renewal not waited for ($(renewals) renewed lines)"
elif [ "$(renewals)" -gt "$bound0" ]; then
	say "dhcp renewed ($(renewals) bound lines)"
else
	say "dhcp NOT renewed within 150 s"
fi
sleep 5
: >/run/handover-stop
if wait "$wpid"; then
	say "writes verified rounds=$(cat /run/handover-rounds)"
else
	say "writes FAILED"
fi
settle
say "manager after: $(manager_state)"
[ "$KIND" != networkd ] || networkctl status "$IF" --no-pager 2>&1 | sed "s/^/$M networkctl: /" | head -20
[ "$KIND" != nm ] || nmcli -t connection show 2>&1 | sed "s/^/$M nmcli: /" | head -10
say "link after: $(ip -$FAM -o addr show dev "$IF" scope global | awk '{ print $4 }' | tr '\n' ' ')"
say "default route: $(ip -$FAM route show default | head -1)"
[ "$FAM" = 4 ] || ip -6 route show dev "$IF" | sed "s/^/$M route6: /"
say "kernel io errors $(dmesg | grep -ciE 'I/O error|EXT4-fs error|EXT4-fs warning|blk_update_request|Buffer I/O')"
say "poweroff"
systemctl poweroff
