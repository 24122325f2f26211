#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 14 item 5, the hand-over to the booted system's network manager:
# a Debian 12 root run by systemd-networkd, then one run by NetworkManager
# (both from Debian's archive, debootstrap trees cached under .deps/), each
# booted once from tgtd with iscsiroot as the initramfs's /init. Each root
# also has what a distribution would configure for the NIC (networkd: a
# DHCP .network for every en*/eth* link; NM: its own default "Wired
# connection"), which must lose to the hand-over. In the guest
# (handover-guest.sh): the manager restarted and told to reconfigure the
# link, and the daemon's DHCP renewal, all while 1 MiB rounds are written
# and verified on the root disk; then `systemctl poweroff`. Checked here:
# the hand-over files, the manager's state, no I/O error, the renewal in
# dnsmasq's log, the daemon's final flush after the read-only remount, and
# a clean host fsck of the LUN.
# networkd6 and nm6 boot the same roots over an IPv6-only bridge with
# ip=dhcp6 (tgtd on [fd99::1]:3260, the target from the DHCPv6 boot file
# URL, a 2-minute lease, RAs every 10 s with a 30 s router lifetime), and
# check the same: the managers' files for the IPv6 lease, the link still
# configured with its address and default route once what the kernel
# learnt from the RAs has run out. The DHCPv6 renewal ("dhcp6 IF:
# renewed" in the kernel log, seen in dnsmasq's log) is checked only with
# E2E_HANDOVER_RENEW6=1.
# usage: handover.sh ISCSIROOT_STATIC_BINARY [networkd|nm|networkd6|nm6]...
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/handover-lib.sh"

BIN=${1:?usage: $0 ISCSIROOT_STATIC_BINARY [networkd|nm|networkd6|nm6]...}
shift
KINDS=${*:-networkd nm networkd6 nm6}
RENEW6=${E2E_HANDOVER_RENEW6:-0}
V6=fd99::1
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }
check() { # MSG CMD...: pass MSG when CMD succeeds
	local msg=$1
	shift
	if "$@"; then pass "$msg"; else fail "not: $msg"; fi
}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for p in qemu-system-x86_64 tgtd dnsmasq sfdisk mkfs.ext4 e2fsck debootstrap unshare systemctl; do
	command -v "$p" >/dev/null || { echo "SKIP: no $p"; exit 77; }
done
e2e_kernel_find || { echo "SKIP: no Debian 6.1 kernel"; exit 77; }
[ -x "$BIN" ] || die "no binary $BIN (scripts/build.sh builds build-musl first)"
BIN=$(readlink -f "$BIN")

# handover_image KIND IMG: the root disk (GPT, ext4 at 1 MiB, label
# hoverroot) from the cached tree of KIND's manager, with the guest's test
# unit enabled.
handover_image() {
	local kind=$1 img=$2 tar tree=$E2E_WORK/tree part=$E2E_WORK/part renew=
	local bytes=$((1022 * 1024 * 1024))
	tar=$(handover_root_tar "${kind%6}") || return 1
	[ "$RENEW6" != 1 ] || renew=renew6
	rm -rf "$tree" && mkdir -p "$tree" && tar --numeric-owner -C "$tree" -xf "$tar" || return 1
	echo "hover-$kind" >"$tree/etc/hostname"
	# a machine ID: no first-boot questions on the console
	tr -dc 0-9a-f </dev/urandom | head -c 32 >"$tree/etc/machine-id"
	echo >>"$tree/etc/machine-id"
	: >"$tree/etc/fstab"
	install -D -m 0755 "$E2E_DIR/handover-guest.sh" "$tree/usr/local/sbin/handover-guest"
	cat >"$tree/etc/systemd/system/handover-guest.service" <<-EOF
		[Unit]
		Description=iscsiroot hand-over checks
		After=multi-user.target
		[Service]
		Type=oneshot
		ExecStart=/usr/local/sbin/handover-guest $kind $renew
		[Install]
		WantedBy=multi-user.target
	EOF
	systemctl --root="$tree" -q enable handover-guest.service || return 1
	systemctl --root="$tree" -q mask serial-getty@ttyS0.service systemd-firstboot.service \
		getty@tty1.service || return 1
	if [ "${kind%6}" = networkd ]; then
		systemctl --root="$tree" -q enable systemd-networkd.service || return 1
		# what a distribution ships: DHCP on every wired link
		printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' \
			>"$tree/etc/systemd/network/50-wired-dhcp.network"
	fi
	E2E_ROOT_PARTUUID=$(cat /proc/sys/kernel/random/uuid)
	rm -f "$img" "$part"
	truncate -s 1024M "$img" && _e2e_partition "$img" 512 "$bytes" || return 1
	truncate -s "$bytes" "$part"
	mkfs.ext4 -q -F -L hoverroot -d "$tree" "$part" || { e2e_log "mkfs.ext4 failed"; return 1; }
	dd if="$part" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none || return 1
	rm -rf "$tree" "$part"
}

# A 2-minute lease: the daemon renews it at T1, while the guest writes:
# IPv4 with T1 20 s (option 58), IPv6 1 minute after it was bound (dnsmasq
# gives half the lease, with no way to set it). dnsmasq as lib.sh starts
# it, with that lease;
# for an IPv6 KIND, RAs (every 10 s, the router's lifetime 30 s: it runs
# out while the guest writes) and DHCPv6 with the DNS server and the
# target as the boot file URL, and nothing for IPv4.
handover_dhcp_start() {
	# shellcheck disable=SC2054 # the commas are dnsmasq's
	local args=(--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,2m
		--dhcp-authoritative --no-ping --dhcp-rapid-commit
		--dhcp-option=3,"$E2E_SERVER_IP" --dhcp-option=6,"$E2E_SERVER_IP"
		--dhcp-option=option:T1,20 --dhcp-option=option:T2,60)
	[ "$1" = "${1%6}" ] || args=(--enable-ra --ra-param=br0,10,30
		--dhcp-range=fd99::100,fd99::1ff,64,2m
		--dhcp-option=option6:dns-server,"[$V6]"
		--dhcp-option=option6:bootfile-url,"iscsi:[$V6]::3260:1:$E2E_IQN")
	rm -f "$E2E_WORK/dnsmasq.pid"
	ip netns exec "$E2E_NS" dnsmasq -k --port=0 --conf-file=/dev/null --interface=br0 \
		--bind-interfaces "${args[@]}" \
		--pid-file="$E2E_WORK/dnsmasq.pid" --dhcp-leasefile="$E2E_WORK/dnsmasq.leases" \
		--log-dhcp --log-facility=- >>"$E2E_WORK/dnsmasq.log" 2>&1 209>&- &
	E2E_DNSMASQ_PID=$!
	e2e_wait_until 5 test -s "$E2E_WORK/dnsmasq.pid" ||
		{ e2e_log "dnsmasq did not start"; return 1; }
}

has() { e2e_log_has "$E2E_MARK $1"; }

# handover_net KIND: the bridge's one global address, of KIND's family
# (IPv6: no v4 address at all; the bridge's link-local address stays, the
# source of its RAs and the guest's gateway; no DAD on our own bridge).
handover_net() {
	ip -n "$E2E_NS" addr flush dev br0 scope global || return 1
	if [ "$1" = "${1%6}" ]; then
		ip -n "$E2E_NS" addr add "$E2E_SERVER_IP/$E2E_PREFIX" dev br0
	else
		ip -n "$E2E_NS" addr add "$V6/64" dev br0 nodad
	fi
}

# handover_case KIND: one boot of that root, and its checks.
handover_case() {
	local kind=$1 img=$E2E_WORK/$1.img replies t0 portal= append=ip=dhcp
	local addr='10\.99\.0\.[0-9]+/24' gw=$E2E_SERVER_IP ack="DHCPACK\(br0\) [0-9.]* $E2E_GUEST_MAC"
	local want=2
	if [ "$kind" != "${kind%6}" ]; then
		portal="[$V6]:3260" append=ip=dhcp6 addr='fd99::1[0-9a-f]{2}/128'
		gw='fe80:[0-9a-f:]+' ack="DHCPREPLY\(br0\) fd99::1[0-9a-f]+ .*$E2E_GUEST_MAC"
		[ "$RENEW6" = 1 ] || want=1
	else
		append="$append netroot=$(e2e_root_path)"
	fi
	t0=$SECONDS
	handover_image "$kind" "$img" || { fail "$kind: root image"; return; }
	pass "$kind: root image from $(basename "$(handover_root_tar "${kind%6}")")"
	handover_net "$kind" || { fail "$kind: the bridge's address"; return; }
	E2E_TGT_PORTAL=$portal e2e_tgt_start "$img" || { fail "$kind: tgtd"; return; }
	: >"$E2E_WORK/dnsmasq.log"
	handover_dhcp_start "$kind" || { fail "$kind: dnsmasq"; e2e_tgt_stop; return; }
	E2E_VM_MEM=768 e2e_vm_start "$E2E_WORK/initrd" \
		"quiet panic=-1 $append rd.iscsi.initiator=$E2E_INITIATOR root=LABEL=hoverroot rw" \
		"$E2E_WORK/console-$kind.log" || { fail "$kind: VM start"; return; }
	if ! e2e_vm_wait_exit 600; then
		e2e_vm_kill
		fail "$kind: the VM did not power off within 600 s"
	fi
	check "$kind: the guest's checks ran ($(e2e_log_line "$E2E_MARK init reached" | sed 's/.*uptime=/uptime=/'))" \
		has "init reached"
	check "$kind: root on /dev/nbd0p1" has "root on /dev/nbd0p1\$"
	check "$kind: the hand-over files hold the address ($(e2e_log_line "$E2E_MARK hand-over" | sed 's/.*: hand-over: //'))" \
		has "hand-over: Address=$addr address1=$addr *\$"
	check "$kind: $(e2e_log_line "$E2E_MARK manager before" | sed 's/.*: manager/manager/')" \
		manager_ok "$kind" before
	check "$kind: udev kept the kernel's name by our .link" has "udev named it: 1"
	check "$kind: manager restarted, link reconfigured" \
		eval 'has "manager restarted" && has "manager re(configured|applied)"'
	check "$kind: $(e2e_log_line "$E2E_MARK dhcp" | sed 's/.*: dhcp/dhcp/')" \
		has "dhcp (renewed|renewal not waited for)"
	replies=$(grep -cE "$ack" "$E2E_WORK/dnsmasq.log")
	check "$kind: dnsmasq acked the guest $replies times (bound$([ "$want" = 1 ] || echo ", then renewed"))" \
		test "$replies" -ge "$want"
	check "$kind: $(e2e_log_line "$E2E_MARK writes" | sed 's/.*: writes/writes/')" \
		has "writes verified rounds=[1-9]"
	check "$kind: $(e2e_log_line "$E2E_MARK manager after" | sed 's/.*: manager/manager/')" \
		manager_ok "$kind" after
	check "$kind: the address stayed ($(e2e_log_line "$E2E_MARK link after" | sed 's/.*: link after: //'))" \
		has "link after: $addr *\$"
	# IPv6: the managers' own route, with no lifetime (the RA's ran out)
	check "$kind: $(e2e_log_line "$E2E_MARK default route" | sed 's/.*: default/default/')" \
		eval 'has "default route: default via $gw dev eth0" && ! has "default route: .* expires"'
	check "$kind: no I/O error" has "kernel io errors 0\$"
	check "$kind: poweroff by systemctl" has "poweroff"
	check "$kind: final flush after the read-only remount" \
		e2e_log_has "no writer left: cache flushed on the target"
	check "$kind: no kernel panic" eval '! e2e_log_has "Kernel panic"'
	e2e_dhcp_stop
	e2e_tgt_stop
	check "$kind: host fsck of the LUN clean" fsck_clean "$img"
	pass "$kind: $((SECONDS - t0)) s"
	[ "$FAILS" = 0 ] || e2e_console_dump 80
	rm -f "$img"
}

manager_ok() { # KIND before|after
	case ${1%6} in
	networkd) has "manager $2: routable \\(configured\\)" ;;
	nm) has "manager $2: GENERAL.STATE:100 \\(connected\\) GENERAL.CONNECTION:iscsiroot eth0 *\$" ;;
	esac
}

fsck_clean() {
	local part=$E2E_WORK/fsck.part
	dd if="$1" of="$part" bs=1M skip=1 count=1022 conv=sparse status=none &&
		e2fsck -fn "$part" >"$E2E_WORK/fsck.log" 2>&1
	local rc=$?
	rm -f "$part"
	[ "$rc" = 0 ] || tail -5 "$E2E_WORK/fsck.log" >&2
	return "$rc"
}

e2e_net_up || die "namespace"
e2e_make_initramfs "$E2E_WORK/initrd" "$BIN" || die "initramfs"
for kind in $KINDS; do
	handover_case "$kind"
done

[ "$FAILS" = 0 ] || { echo "e2e-handover: $FAILS check(s) failed"; exit 1; }
echo "e2e-handover: all checks passed"
