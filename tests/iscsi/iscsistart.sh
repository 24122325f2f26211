#!/bin/bash
# The iscsistart drop-in on the host against a real tgtd: its options and
# exit codes (0/1/7/21), one clear line per failure, secrets never shown,
# and -f's node records from a fixture iBFT. The host has no nbd module, so
# a login that succeeds ends at the block device (exit 1 with that reason);
# the VM tests (tests/e2e/debian-iscsistart.sh) take it all the way.
. "$(dirname "$0")/lib.sh"

FIXTURES=$(cd "$(dirname "$0")/../fixtures/ibft" 2>/dev/null && pwd)

expect_err() { # PATTERN DESCRIPTION
	if grep -q -- "$1" "$WORK/err"; then pass "$2: $(head -1 "$WORK/err")"
	else fail "$2: stderr lacks '$1':"; cat "$WORK/err" >&2; fi
}

# The name it is called by selects the mode, as a symlink in an initramfs.
ln -s "$ISCSIROOT" "$WORK/iscsistart"
IS=$WORK/iscsistart

expect_exit 7 "no arguments" "$IS"
expect_err "are required unless -b" "no arguments"
[ "$(wc -l <"$WORK/err")" = 1 ] || fail "more than one line for missing arguments"
expect_exit 7 "-g missing" "$IS" -i iqn.2025-01.x:i -t iqn.2025-01.x:t -a 127.0.0.1
expect_exit 7 "bad port" "$IS" -i iqn.2025-01.x:i -t iqn.2025-01.x:t -g 1 -a 127.0.0.1 -p 99999
expect_exit 7 "unknown option" "$IS" --frobnicate
expect_exit 7 "-P without =" "$IS" -P node.session.timeo.replacement_timeout
expect_exit 7 "-P bad value" "$IS" -P node.conn[0].iscsi.HeaderDigest=MD5 \
	-i iqn.2025-01.x:i -t iqn.2025-01.x:t -g 1 -a 127.0.0.1
expect_exit 0 "-h" "$IS" -h
grep -q -- "--fwparam_connect" "$WORK/out" || fail "-h does not list the long options"
expect_exit 0 "-v" "$ISCSIROOT" iscsistart -v
grep -q "iscsistart" "$WORK/out" || fail "-v says nothing"

# No iBFT on this tree: 21 (ISCSI_ERR_NO_OBJS_FOUND).
ISCSIROOT_FW_ROOT=$WORK/empty expect_exit 21 "-f without firmware" "$IS" -f
ISCSIROOT_FW_ROOT=$WORK/empty expect_exit 21 "-N without firmware" "$IS" -N
ISCSIROOT_FW_ROOT=$WORK/empty expect_exit 21 "-b without firmware" "$IS" -b

# -f prints the records Debian's initramfs script parses.
if [ -d "$FIXTURES/sysfs/chap-mutual" ]; then
	ISCSIROOT_FW_ROOT=$FIXTURES/sysfs/chap-mutual expect_exit 0 "-f with a CHAP iBFT" "$IS" -f
	for key in "# BEGIN RECORD" "iface.initiatorname = iqn" "iface.bootproto = " \
		   "iface.ipaddress = " "node.name = iqn" "node.conn\[0\].address = " \
		   "node.conn\[0\].port = " "node.boot_lun = " "# END RECORD"; do
		grep -q "^$key" "$WORK/out" || fail "-f output lacks '$key'"
	done
	grep -q "^node.session.auth.password = \*\*\*\*\*\*\*\*$" "$WORK/out" ||
		fail "-f does not mask the CHAP secret"
	for f in "$FIXTURES"/sysfs/chap-mutual/sys/firmware/ibft/target*/*secret; do
		[ -f "$f" ] && grep -qF -- "$(cat "$f")" "$WORK/out" && fail "-f printed a secret"
	done
	pass "-f records"
else
	fail "no iBFT fixture tree at $FIXTURES/sysfs/chap-mutual"
fi

tgt_simple 16M
SECRET=istart-secret-4321
A=(-i "$INITIATOR" -g 1 -a 127.0.0.1 -p "$TGT_PORT")
expect_exit 1 "unknown target" "$IS" "${A[@]}" -t iqn.2025-01.org.iscsiroot:nosuch
expect_err "not found (0x0203)" "unknown target"
tgt_chap alice "$SECRET"
expect_exit 1 "wrong CHAP password" "$IS" "${A[@]}" -t "$IQN" -u alice -w wrong-pass-77
expect_err "authentication failure" "wrong password"
grep -q "wrong-pass-77\|$SECRET" "$WORK/err" "$WORK/out" && fail "a secret was printed"
# Right password: the login and the LUN probe succeed; the block device
# cannot exist on this host (no nbd), and that is what it says.
expect_exit 1 "login, no nbd on the host" "$IS" "${A[@]}" -t "$IQN" -u alice -w "$SECRET" \
	-d 1 -P node.conn[0].iscsi.HeaderDigest=None
grep -q "authentication failure\|not found" "$WORK/err" && fail "login itself failed"
grep -q "$SECRET" "$WORK/err" "$WORK/out" && fail "debug output shows the secret"
finish
