#!/bin/bash
# Login with AuthMethod None, one-way CHAP, mutual CHAP; a wrong password,
# a wrong target and an unreachable portal each give one clear line and
# their documented exit code. Secrets never appear in any output.
. "$(dirname "$0")/lib.sh"

expect_err_line() { # PATTERN DESCRIPTION
	if [ "$(wc -l <"$WORK/err")" = 1 ] && grep -q "$1" "$WORK/err"; then
		pass "$2: $(cat "$WORK/err")"
	else
		fail "$2: expected one line matching '$1', got:"; cat "$WORK/err" >&2
	fi
}

tgt_simple 16M

expect_exit 0 "login without authentication" ir inquiry
grep -q "vendor: IET" "$WORK/out" || fail "inquiry output lacks the vendor"

SECRET=chap-secret-1234
RSECRET=target-secret-987
tgt_chap alice "$SECRET"
expect_exit 4 "CHAP required, none offered" ir inquiry
expect_err_line "authentication failure (0x0201)\|target chose CHAP" "no credentials"
expect_exit 0 "one-way CHAP" ir inquiry -u alice -w "$SECRET"
echo -n "$SECRET" >"$WORK/secret"
expect_exit 0 "one-way CHAP, secret from a file" ir inquiry -u alice -w "file:$WORK/secret"
ISCSIROOT_CHAP_USER=alice ISCSIROOT_CHAP_PASSWORD=$SECRET \
	expect_exit 0 "one-way CHAP, credentials from the environment" ir inquiry
expect_exit 4 "wrong CHAP password" ir inquiry -u alice -w wrong-password-1
expect_err_line "authentication failure (0x0201)" "wrong password"
grep -rq "wrong-password-1\|$SECRET" "$WORK/err" "$WORK/out" && fail "a secret was printed"

tgt_chap_out target-user "$RSECRET"
expect_exit 0 "mutual CHAP" ir inquiry -d -u alice -w "$SECRET" -U target-user -W "$RSECRET"
grep -q "$SECRET\|$RSECRET" "$WORK/err" && fail "debug log shows a secret"
expect_exit 4 "mutual CHAP, target knows another secret" \
	ir inquiry -u alice -w "$SECRET" -U target-user -W not-the-target-secret
expect_err_line "target failed mutual CHAP authentication" "mutual failure"
expect_exit 4 "mutual CHAP, unexpected target user" \
	ir inquiry -u alice -w "$SECRET" -U someone-else -W "$RSECRET"

expect_exit 5 "unknown target" "$ISCSIROOT" inquiry -p "127.0.0.1:$TGT_PORT" \
	-t iqn.2025-01.org.iscsiroot:nosuch -u alice -w "$SECRET"
expect_err_line "not found (0x0203)" "unknown target"

DEAD=$(pick_port)
expect_exit 3 "unreachable portal" "$ISCSIROOT" inquiry -p "127.0.0.1:$DEAD" \
	-t "$IQN" --retry-for 2
expect_err_line "connecting to 127.0.0.1" "unreachable portal"

expect_exit 2 "bad arguments" "$ISCSIROOT" inquiry --lun banana -p 127.0.0.1 -t x
"$ISCSIROOT" inquiry --help | grep -q "exit codes" || fail "--help lacks exit codes"
finish
