#!/bin/bash
# Several portals of one LUN, against one tgtd listening on two addresses
# (127.0.0.1 and 127.0.0.2, each its own port) and a third portal where
# nothing listens (connection refused):
#  1. read -p DEAD -p B: a warning names the dead portal and the next one,
#     and the bytes are the LUN's, through B; write -p DEAD -p B, read back
#     through A: the same bytes.
#  2. -p B -p DEAD: B serves, no warning; -p A -p A is one portal; every
#     portal dead: the unreachable exit code (3) and an error line naming
#     the last; five portals: invalid arguments (2).
#  3. discover with both portals (and a dead one first) lists the target at
#     both, each line once (tgtd lists only the portal it was asked
#     through), with a warning for the dead one; all dead: exit 3.
#  4. The iscsistart drop-in with -a DEAD -a B (one -p for both): the
#     daemon logs in through B (the host has no nbd, so it ends there,
#     exit 1, with that reason and not a login failure, naming B).
. "$(dirname "$0")/lib.sh"

tgt_simple 8M
PORT_B=$(pick_port)
tgtadm_ --lld iscsi --op new --mode portal --param portal=127.0.0.2:$PORT_B ||
	die "second portal"
A=127.0.0.1:$TGT_PORT
B=127.0.0.2:$PORT_B
DEAD=127.0.0.3:$TGT_PORT        # same port, an address nothing listens on
DEAD2=127.0.0.1:$(pick_port)
# A portal gets 2 s for its first login (a refused one is tried again
# until then).
FAST=(--retry-for 2 --login-timeout 2)
head -c 1048576 /dev/urandom >"$WORK/data"

expect_err() { # PATTERN DESCRIPTION
	if grep -q -- "$1" "$WORK/err"; then pass "$2: $(grep -- "$1" "$WORK/err" | head -1)"
	else fail "$2: stderr lacks '$1':"; cat "$WORK/err" >&2; fi
}

irp() { # CMD PORTAL-ARGS... -- ARGS...: the binary against our target and LUN 1
	local cmd=$1 args=()
	shift
	while [ "$1" != "--" ]; do args+=(-p "$1"); shift; done
	shift
	"$ISCSIROOT" "$cmd" "${args[@]}" -t "$IQN" -i "$INITIATOR" -l 1 "${FAST[@]}" "$@"
}

# 1. The first portal dead: the second serves, both ways.
"$ISCSIROOT" write -p "$A" -t "$IQN" -i "$INITIATOR" -l 1 <"$WORK/data" ||
	die "writing the data through A"
expect_exit 0 "read -p DEAD -p B" irp read "$DEAD" "$B" -- --length 1M
cmp -s "$WORK/out" "$WORK/data" && pass "read through B: the LUN's bytes" ||
	fail "read through B: other bytes"
expect_err "$DEAD: .*trying the next portal, $B" "the dead portal is a warning"
grep -qi "error" "$WORK/err" && fail "an error line although B served"
head -c 1048576 /dev/urandom >"$WORK/data2"
irp write "$DEAD" "$B" -- <"$WORK/data2" >"$WORK/out" 2>"$WORK/err" ||
	fail "write -p DEAD -p B: exit $?"
"$ISCSIROOT" read -p "$A" -t "$IQN" -i "$INITIATOR" -l 1 --length 1M >"$WORK/back" ||
	fail "reading back through A"
cmp -s "$WORK/back" "$WORK/data2" && pass "written through B, read through A" ||
	fail "written through B: other bytes through A"

# 2. Order, duplicates, all dead, too many.
expect_exit 0 "read -p B -p DEAD" irp read "$B" "$DEAD" -- --length 4096
[ -s "$WORK/err" ] && { fail "a line although the first portal served"; cat "$WORK/err"; }
expect_exit 0 "inquiry -p A -p A" irp inquiry "$A" "$A" --
grep -q "^portal: $A " "$WORK/out" || fail "inquiry does not name the portal that served"
expect_exit 3 "every portal dead" irp read "$DEAD" "$DEAD2" -- --length 4096
expect_err "$DEAD: .*trying the next portal, $DEAD2" "first dead portal"
expect_err "$DEAD2: " "last dead portal"
expect_exit 2 "five portals" irp read "$A" "$B" "$DEAD" "$DEAD2" 127.0.0.4:1 -- --length 4096
expect_err "more than 4 portals" "five portals"

# 3. discover: every portal's answer, each line once.
expect_exit 0 "discover DEAD A B A" "$ISCSIROOT" discover -i "$INITIATOR" "${FAST[@]}" \
	"$DEAD" "$A" "$B" "$A"
cat "$WORK/out"
grep -qx "$A,1 $IQN" "$WORK/out" || fail "discover lacks the target at A"
grep -qx "$B,1 $IQN" "$WORK/out" || fail "discover lacks the target at B"
[ "$(wc -l <"$WORK/out")" = 2 ] && pass "discover lists both portals, once each" ||
	fail "discover printed $(wc -l <"$WORK/out") lines, expected 2"
expect_err "$DEAD: " "discover warns about the dead portal"
expect_exit 3 "discover, every portal dead" "$ISCSIROOT" discover -i "$INITIATOR" \
	"${FAST[@]}" -p "$DEAD" -p "$DEAD2"

# 4. iscsistart -a DEAD -a B: one -p, so both on port B.
ln -s "$ISCSIROOT" "$WORK/iscsistart"
expect_exit 1 "iscsistart -a DEAD -a B" "$WORK/iscsistart" -i "$INITIATOR" -t "$IQN" -g 1 \
	-a 127.0.0.3 -a 127.0.0.2 -p "$PORT_B" -P node.conn[0].timeo.login_timeout=2 \
	-P node.session.initial_login_retry_max=1
expect_err "cannot attach $IQN at 127.0.0.2: " "the daemon went on to B"
grep -q "not found\|authentication\|cannot attach .*: .*connect" "$WORK/err" &&
	fail "the login through B failed"
grep -qi "nbd\|ublk\|block device" "$WORK/err" && pass "B logged in; it ended at the block device" ||
	{ fail "no block-device reason"; cat "$WORK/err" >&2; }
finish
