#!/bin/bash
# A tgtd portal on IPv6 loopback, [::1]: login, writes read back, and
# SendTargets, whose TargetAddress comes back as [v6]:port.
. "$(dirname "$0")/lib.sh"

[ -e /proc/sys/net/ipv6/conf/lo/disable_ipv6 ] &&
	[ "$(cat /proc/sys/net/ipv6/conf/lo/disable_ipv6)" = 0 ] ||
	{ echo "SKIP: no IPv6 on lo"; exit 77; }
TGT_ADDR='[::1]' tgt_simple 16M
grep -q "::1" <(ss -Hltn "sport = :$TGT_PORT") || die "tgtd does not listen on [::1]"
P="[::1]:$TGT_PORT"
v6() { "$ISCSIROOT" "$1" -p "$P" -t "$IQN" -i "$INITIATOR" -l 1 "${@:2}"; }

head -c 1M /dev/urandom >"$WORK/data"
v6 write --offset 1M <"$WORK/data" || fail "write through $P"
v6 read --offset 1M --length 1M >"$WORK/back" || fail "read through $P"
cmp -s "$WORK/data" "$WORK/back" && pass "1 MiB written and read back through $P" ||
	fail "the data read back through $P differs"
# the same bytes through the v4 side of the machine are not there: tgtd
# listens on [::1] only
"$ISCSIROOT" read -p "127.0.0.1:$TGT_PORT" -t "$IQN" -i "$INITIATOR" -l 1 \
	--length 4k --login-timeout 2 --retry-for 0 >/dev/null 2>&1 &&
	fail "a login through 127.0.0.1 worked, yet tgtd listens on [::1] only"

out=$("$ISCSIROOT" discover -i "$INITIATOR" "$P") || fail "discover $P exited $?"
echo "$out"
grep -qx "\[::1\]:$TGT_PORT,1 $IQN" <<<"$out" || fail "SendTargets: no [::1] portal"

expect_exit 0 "inquiry through $P" v6 inquiry
# a v6 portal is written in brackets, in output and in log lines
grep -qxF "portal: $P (tpgt 1)" <(v6 inquiry) && pass "inquiry names the portal $P" ||
	fail "inquiry does not name the portal $P"
closed=$(pick_port)
"$ISCSIROOT" read -p "[::1]:$closed" -t "$IQN" -i "$INITIATOR" -l 1 --length 4k \
	--login-timeout 2 --retry-for 0 >/dev/null 2>"$WORK/err" &&
	fail "a read through a closed port worked"
grep -qF "connecting to [::1]:$closed: " "$WORK/err" &&
	pass "the failure names [::1]:$closed" ||
	{ cat "$WORK/err" >&2; fail "the failure does not name [::1]:$closed"; }

# A login on 127.0.0.1 redirected (0x0101) to TargetAddress=[::1]:port,1:
# the read comes from tgtd on [::1].
fport=$(pick_port)
fake_launch "$WORK/fake.log" "$fport" --scenario redirect --iqn "$IQN" \
	--redirect-host '[::1]' --redirect-port "$TGT_PORT"
"$ISCSIROOT" read -p "127.0.0.1:$fport" -t "$IQN" -i "$INITIATOR" -l 1 \
	--offset 1M --length 1M >"$WORK/redirected" 2>"$WORK/err" ||
	{ cat "$WORK/err" >&2; fail "read through the redirect"; }
cmp -s "$WORK/data" "$WORK/redirected" &&
	grep -qF "redirected to [::1]:$TGT_PORT" "$WORK/err" &&
	pass "redirected to [::1]:$TGT_PORT, the data read there" ||
	{ cat "$WORK/err" >&2; fail "the redirect to [::1] did not serve the data"; }
finish
