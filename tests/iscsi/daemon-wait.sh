#!/bin/bash
# The starter's limits on the root-storage daemon, and its secrets, on the
# host against the fake target's "mute" scenario: a LUN that logs in and
# then answers nothing (no command, no NOP-Out), on every connection.
#  1. The iscsistart drop-in with -w SECRET (and secrets in its
#     environment, as the kernel and the CLI would leave them): while the
#     daemon waits, neither /proc/PID/cmdline nor /proc/PID/environ of its
#     two processes holds a secret; 30 s after the login the starter stops
#     it and exits 1 with one line saying why; nothing of it is left.
#  2. The same with the daemon run in place (a PID namespace with
#     vm.memfd_noexec=1: its memfd copy may not be executed).
#  3. `iscsiroot up` (kernel command line bind-mounted over /proc/cmdline
#     in a mount namespace of its own) with two paths: the mute one, and a
#     real tgtd that comes up only after the first daemon logged in on the
#     mute one. That daemon is stopped after 30 s; the next ones log in on
#     every path but the mute one first, so tgtd serves (the host has no
#     nbd, so each ends in "retry"), never the mute one again; up gives up
#     at iscsiroot.timeout.
. "$(dirname "$0")/lib.sh"

FAKE_IQN=iqn.2025-01.org.iscsiroot:fake
FAKE_PID=
SECRET=argv-secret-8472
ENV_SECRET=env-secret-5913
KERNEL_SECRET=kernel-secret-3306
ANSWER_S=30             # DAEMON_ANSWER_MS

# fake_start: the mute fake, CHAP user alice with $SECRET, on a port of
# its own (FAKE_PORT); it ends by itself after 60 s.
fake_start() {
	FAKE_PORT=$(pick_port)
	FAKE_LOG=$WORK/fake-$FAKE_PORT.log
	fake_launch "$FAKE_LOG" "$FAKE_PORT" --iqn "$FAKE_IQN" --timeout 60 \
		--scenario mute --chap-user alice --chap-secret "$SECRET"
	FAKE_PID=$LAUNCHED_PID
}

fake_stop() {
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=
}

# descendants PID: every process below PID, children first.
descendants() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# daemons PID: the processes below PID that became the daemon: they left
# the starter's session (setsid).
daemons() {
	local p sid
	sid=$(awk '{print $6}' /proc/"$1"/stat 2>/dev/null)
	for p in $(descendants "$1"); do
		[ "$(awk '{print $6}' /proc/"$p"/stat 2>/dev/null)" != "$sid" ] && echo "$p"
	done
}

# alive PID: running, not a zombie.
alive() { [ -n "$(ps -o stat= -p "$1" 2>/dev/null | grep -v Z)" ]; }

# check_no_secrets WHAT PID...: no secret in their argv or environment.
check_no_secrets() {
	local what=$1 p s bad=0
	shift
	for p in "$@"; do
		for s in "$SECRET" "$ENV_SECRET" "$KERNEL_SECRET"; do
			if grep -aqF -- "$s" /proc/"$p"/cmdline /proc/"$p"/environ; then
				fail "$what: a secret in /proc/$p/cmdline or environ ($(tr '\0' ' ' </proc/"$p"/cmdline))"
				bad=1
			fi
		done
	done
	[ "$bad" = 0 ] && pass "$what: no secret in the argv or environment of daemon PIDs $*"
}

# watch_starter WHAT PID KIND: while the starter PID waits on the mute
# LUN: two daemon processes, no secret in them, run KIND (exec: from a
# memfd; in-place: this binary). Then it must exit 1 about ANSWER_S after
# the login, the daemon gone. Its output is in $WORK/out.$WHAT / err.$WHAT.
watch_starter() {
	local what=$1 pid=$2 kind=$3 start=$4 ds=() p exe rc t starter name
	for _ in $(seq 1 100); do
		grep -q "login complete" "$FAKE_LOG" && break
		sleep 0.1
	done
	grep -q "login complete" "$FAKE_LOG" || { fail "$what: no login on the fake"; return; }
	sleep 1
	mapfile -t ds < <(daemons "$pid")
	[ "${#ds[@]}" = 2 ] && pass "$what: one daemon, two processes (keeper, worker)" ||
		fail "$what: ${#ds[@]} daemon processes: ${ds[*]}"
	check_no_secrets "$what" "${ds[@]}"
	# The starter waits too: the -w it was given no longer shows (the
	# starter: our binary below PID, or PID itself, not a daemon).
	starter=$(for p in "$pid" $(descendants "$pid"); do
		[ "$(readlink /proc/"$p"/exe)" = "$(readlink -f "$ISCSIROOT")" ] &&
			[[ " ${ds[*]} " != *" $p "* ]] && echo "$p"
	done | head -1)
	if [ -z "$starter" ]; then
		fail "$what: no starter process found below $pid"
	elif grep -aqF -- "$SECRET" /proc/"$starter"/cmdline; then
		fail "$what: the starter's argv shows the secret"
	else
		pass "$what: no secret in the starter's argv ($(tr '\0' ' ' </proc/"$starter"/cmdline | cut -c1-60)…)"
	fi
	for p in "${ds[@]}"; do
		exe=$(readlink /proc/"$p"/exe)
		case $kind:$exe in
		exec:/memfd:iscsiroot*|in-place:"$(readlink -f "$ISCSIROOT")") ;;
		*) fail "$what: daemon $p runs $exe, expected it $kind" ;;
		esac
		# '@' in front of its name (systemd spares it), the name whole
		name=$(tr '\0' '\n' </proc/"$p"/cmdline | head -1)
		case $kind:$name in
		exec:@iscsiroot|in-place:@*/iscsistart) pass "$what: daemon $p is named $name" ;;
		*) fail "$what: daemon $p is named '$name'" ;;
		esac
	done
	wait "$pid"
	rc=$?
	t=$(( $(date +%s) - start ))
	[ "$rc" = 1 ] && pass "$what: exit 1 after $t s" || fail "$what: exit $rc after $t s"
	[ "$t" -ge $((ANSWER_S - 2)) ] && [ "$t" -le $((ANSWER_S + 10)) ] ||
		fail "$what: $t s, expected about $ANSWER_S s after the login"
	# one line says why; "still waiting" lines may come before it
	grep -v "still waiting for" "$WORK/err.$what" >"$WORK/why.$what"
	grep -q "logged in but its LUN did not answer within $ANSWER_S s; stopped the daemon" \
		"$WORK/why.$what" && pass "$what: $(cat "$WORK/why.$what")" ||
		{ fail "$what: no clear line:"; cat "$WORK/err.$what" >&2; }
	[ "$(wc -l <"$WORK/why.$what")" = 1 ] || fail "$what: more than one line on stderr"
	grep -qF -e "$SECRET" -e "$ENV_SECRET" -e "$KERNEL_SECRET" "$WORK/err.$what" \
		"$WORK/out.$what" && fail "$what: a secret was printed"
	sleep 0.5
	for p in "${ds[@]}"; do
		alive "$p" && fail "$what: daemon process $p still runs"
	done
}

ln -s "$ISCSIROOT" "$WORK/iscsistart"
IS_ARGS=(-i "$INITIATOR" -g 1 -a 127.0.0.1 -u alice -w "$SECRET"
	 -P "node.conn[0].timeo.login_timeout=2" -P "node.session.initial_login_retry_max=1")
# What the kernel hands PID 1 from its command line, and the CLI's own.
SECRET_ENV=(ISCSIROOT_CHAP_PASSWORD="$ENV_SECRET" iscsi_password="$KERNEL_SECRET"
	    netroot="iscsi:alice:$KERNEL_SECRET@127.0.0.1::3260:1:$FAKE_IQN")

# 1. The drop-in, the daemon re-executed from memory.
fake_start
start=$(date +%s)
env "${SECRET_ENV[@]}" "$WORK/iscsistart" "${IS_ARGS[@]}" -t "$FAKE_IQN" -p "$FAKE_PORT" \
	>"$WORK/out.exec" 2>"$WORK/err.exec" &
watch_starter exec $! exec "$start"
fake_stop

# 2. The same, run in place: memfds may not be executed in this PID
# namespace. sh stays its PID 1, so that iscsistart is not in PID 1 mode.
if [ -e /proc/sys/vm/memfd_noexec ]; then
	fake_start
	start=$(date +%s)
	env "${SECRET_ENV[@]}" unshare --pid --fork --mount-proc sh -c \
		'echo 1 >/proc/sys/vm/memfd_noexec && "$@"' sh \
		"$WORK/iscsistart" "${IS_ARGS[@]}" -t "$FAKE_IQN" -p "$FAKE_PORT" \
		>"$WORK/out.in-place" 2>"$WORK/err.in-place" &
	watch_starter in-place $! in-place "$start"
	fake_stop
else
	echo "skipped: in place (this kernel has no vm.memfd_noexec)"
fi

# 3. iscsiroot up, two paths: the mute fake, and a real tgtd that starts late.
fake_start
TGT_PORT=$(pick_port)
UP_TIMEOUT=45
printf '%s\n' "ip=off rd.iscsi.initiator=$INITIATOR iscsiroot.timeout=$UP_TIMEOUT \
netroot=iscsi:alice:$SECRET@127.0.0.1::$FAKE_PORT:1:$FAKE_IQN \
netroot=iscsi:127.0.0.1::$TGT_PORT:1:$IQN iscsiroot.blockdev=nbd \
rd.iscsi.param=node.conn[0].timeo.login_timeout=2 \
rd.iscsi.param=node.session.initial_login_retry_max=1" >"$WORK/cmdline"
start=$(date +%s)
unshare --mount --propagation private sh -c \
	'mount --bind "$1" /proc/cmdline && "$0" up --conf /dev/null' \
	"$ISCSIROOT" "$WORK/cmdline" >"$WORK/out.up" 2>"$WORK/err.up" &
up_pid=$!
for _ in $(seq 1 100); do
	grep -q "login complete" "$FAKE_LOG" && break
	sleep 0.1
done
sleep 5                 # the tgtd path's first login has failed by now
tgt_simple 16M
wait "$up_pid"
rc=$?
t=$(( $(date +%s) - start ))
[ "$rc" = 1 ] && pass "up: exit 1 after $t s" || fail "up: exit $rc after $t s"
[ "$t" -ge $((UP_TIMEOUT - 2)) ] && [ "$t" -le $((UP_TIMEOUT + 15)) ] ||
	fail "up: $t s, expected iscsiroot.timeout=$UP_TIMEOUT"
grep -q "the target at 127.0.0.1:$FAKE_PORT logged in but its LUN did not answer within $ANSWER_S s; stopped the daemon (next path: 127.0.0.1:$TGT_PORT)" "$WORK/err.up" &&
	pass "up: the mute path stopped, the next one named" ||
	{ fail "up: no line about the mute path:"; cat "$WORK/err.up" >&2; }
# The daemons log to the kernel's log (/dev/kmsg) the path each one
# serves from, in order: the mute one once, then tgtd (found with no nbd
# on this host, each a "retry") until up's own deadline.
order=$(dmesg | grep -oE "iscsiroot: logged in to [^ ]+ at 127\.0\.0\.1:($FAKE_PORT|$TGT_PORT)$" |
	sed -e "s/.*:$FAKE_PORT$/mute/" -e "s/.*:$TGT_PORT$/tgtd/" | tr '\n' ' ')
[[ "$order" =~ ^mute\ (tgtd\ )+$ ]] && pass "up: served from, in order: $order" ||
	fail "up: served from '$order', expected 'mute' once, then only 'tgtd'"
grep -q "in time.*; stopped the daemon$" "$WORK/err.up" &&
	pass "up: iscsiroot.timeout ended the last daemon: $(grep "in time" "$WORK/err.up" | tail -1)" ||
	{ fail "up: no line about iscsiroot.timeout:"; cat "$WORK/err.up" >&2; }
[ "$(grep -c "login complete" "$FAKE_LOG")" -ge 1 ] || fail "up: no login on the fake"
grep -qF -e "$SECRET" "$WORK/err.up" "$WORK/out.up" && fail "up: a secret was printed"
fake_stop
finish
