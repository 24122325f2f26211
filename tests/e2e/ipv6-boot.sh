#!/bin/bash
# The VM boots over an IPv6-only bridge, iscsiroot as the initramfs's only
# program and tgtd on the portal [fd99::1]:3260 (the bridge has no IPv4
# address at all):
#  1. ip=dhcp6: the address from DHCPv6, the route from the RA, and the
#     target from the boot file URL (option 59), an RFC 4173 iscsi:[v6]
#     root-path — nothing about the target on the command line;
#  2. ip=auto6 (SLAAC) with netroot=iscsi:[fd99::1]::3260:1:IQN;
#  3. dracut's static ip=[fd99::7]::[fd99::1]:64::: with the same netroot.
# usage: ipv6-boot.sh ISCSIROOT_STATIC_BINARY
. "$(dirname "$0")/lib.sh"

BIN=${1:?usage: $0 ISCSIROOT_STATIC_BINARY}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); e2e_console_dump 40; }
pass() { echo "ok: $*"; }
V6=fd99::1
ROOTPATH="iscsi:[$V6]::3260:1:$E2E_IQN"

e2e_iscsiroot_blockdev

boot_ok() { # WHAT APPEND
	local what=$1
	if ! e2e_vm_boot "$E2E_WORK/initrd" "$BASE $2" 240; then
		fail "$what: the VM did not power off by itself"
		return 1
	fi
	e2e_log_has "$E2E_MARK init reached" || { fail "$what: init not reached"; return 1; }
	e2e_log_has "$E2E_MARK root on ${DISK}p1" || { fail "$what: root not on ${DISK}p1"; return 1; }
	e2e_log_has "$E2E_MARK kernel io errors 0" || { fail "$what: kernel I/O errors"; return 1; }
	e2e_log_has "Kernel panic" && { fail "$what: kernel panic"; return 1; }
	pass "$what (init at $(e2e_marker_uptime) s guest uptime)"
}

# dnsmasq6 ARGS...: router advertisements and DHCPv6 on br0, nothing else.
dnsmasq6() {
	rm -f "$E2E_WORK/dnsmasq.pid"
	ip netns exec "$E2E_NS" dnsmasq -k --port=0 --conf-file=/dev/null --interface=br0 \
		--bind-interfaces --enable-ra --pid-file="$E2E_WORK/dnsmasq.pid" \
		--dhcp-leasefile="$E2E_WORK/dnsmasq.leases" --log-dhcp --log-facility=- \
		"$@" >>"$E2E_WORK/dnsmasq.log" 2>&1 209>&- &
	E2E_DNSMASQ_PID=$!
	e2e_wait_until 5 test -s "$E2E_WORK/dnsmasq.pid" ||
		{ e2e_log "dnsmasq did not start"; return 1; }
}

e2e_kernel_find || exit 1
e2e_rootdisk_build "$E2E_WORK/root.img" 64 || exit 1
BASE="quiet panic=-1 rd.iscsi.initiator=$E2E_INITIATOR e2e.rootdev=${DISK}p1 root=UUID=$E2E_ROOT_UUID"
e2e_net_up || exit 1
# IPv6 only: the v4 address goes (not a flush: the bridge's link-local
# address, the source of its RAs and the address the guest answers
# neighbour solicitations to, comes once QEMU gives the bridge carrier);
# the v6 one needs no DAD on our own bridge
ip -n "$E2E_NS" addr del "$E2E_SERVER_IP/$E2E_PREFIX" dev br0 &&
	ip -n "$E2E_NS" addr add "$V6/64" dev br0 nodad || exit 1
E2E_TGT_PORTAL="[$V6]:3260" e2e_tgt_start "$E2E_WORK/root.img" || exit 1
e2e_make_initramfs "$E2E_WORK/initrd" "$BIN" || exit 1

# 1. DHCPv6 + RA; the target from option 59
dnsmasq6 --dhcp-range=fd99::100,fd99::1ff,64,1h \
	--dhcp-option="option6:bootfile-url,$ROOTPATH" || exit 1
boot_ok "ip=dhcp6, the target from the DHCPv6 boot file URL" "ip=dhcp6" && {
	e2e_log_has "dhcp6 [a-z0-9]+: address fd99::1[0-9a-f][0-9a-f]" &&
		pass "a DHCPv6 address from fd99::100-1ff" || fail "no DHCPv6 address said"
	e2e_log_has "target from the DHCP root-path" && pass "the option 59 root-path was used" ||
		fail "no sign the boot file URL was used"
	grep -q "DHCPREPLY.*fd99::1" "$E2E_WORK/dnsmasq.log" && pass "dnsmasq replied" ||
		fail "dnsmasq logged no Reply"
}
e2e_dhcp_stop

# 2. SLAAC, the target on the command line
dnsmasq6 --dhcp-range=fd99::,ra-only,64,1h || exit 1
boot_ok "ip=auto6 (SLAAC)" "ip=auto6 netroot=$ROOTPATH" && {
	e2e_log_has "dhcp6 " && fail "ip=auto6 ran DHCPv6"
	e2e_log_has "boot count 2" && pass "the first boot's write survived" ||
		fail "boot count is not 2"
}

# 3. dracut's static form; the RA is still there but not needed
boot_ok "static ip=[fd99::7]" "ip=[fd99::7]::[$V6]:64:guest6::none netroot=$ROOTPATH"
e2e_dhcp_stop
e2e_tgt_stop
exit $((FAILS > 0))
