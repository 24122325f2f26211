#!/bin/bash
# A hostile target: one that lies about the data it moved, fills every
# queue it can, or never lets go. The fake target (fake-target.py) plays
# it, one misbehaviour per run, against the iscsiroot CLI. The initiator
# must never hand out wrong bytes, never grow without bound, never loop
# without end. One class per argument, each a test of its own
# (meson.build: hostile-CLASS); no argument runs them all.
#
#   lies      READ Data-In that does not add up with its GOOD status: half
#             the data and no residual, a gap, an overlap, DataSNs out of
#             order, a SCSI Response whose ExpDataSN counts a Data-In that
#             never came. Once: a reconnect, the READ again, the right
#             bytes. On every READ: exit 1 within the replacement timeout
#             plus one reconnect delay (5.6 s at most), whether that
#             timeout is shorter (3 s) or longer (8 s) than the delay; not
#             one wrong byte on stdout either way. GOOD with a matching
#             underflow residual: exit 1, "moved fewer bytes", no reconnect.
#   memory    NOP-In pings (0 and 256 KiB of data) flooded by a target that
#             reads nothing; R2Ts repeated, out of order, beyond
#             MaxOutstandingR2T, or with the reserved Target Transfer Tag.
#             The connection goes (pings: within nop-interval + nop-timeout
#             + 2 s; R2Ts: at once, no Data-Out for them), the I/O
#             completes on a new one with the right bytes, and the peak
#             RSS stays within MEM_GROWTH_MAX_KIB of an idle session's.
#   loops     every login redirected to the same portal, with --retry-for 5:
#             exit within 5 s + one reconnect delay, at most 8 attempts of
#             9 connections (1 + 8 redirects); every SCSI command answered
#             by a close: at most 12 connections in 10 s (the backoff);
#             Async Messages (drop, logout) with Time2Wait 65535: the
#             reconnect after 30 s (the cap), and with
#             --replacement-timeout 5 the READ fails after ~5 s instead.
#   capacity  READ CAPACITY with a block size of 3, 2^31 or 0, 0 blocks
#             (last LBA 2^64-1), more bytes than 64 bits hold: one clear
#             line, exit 1, and no READ or WRITE ever sent.
#
# Login text abuse (thousands of keys, text in parts) is in
# iscsi-faults.sh (login-continue). A failure known to come from the
# initiator prints "KNOWN BUG: ..." and counts as a failure like any other.
. "$(dirname "$0")/lib.sh"

FAKE_IQN=iqn.2025-01.org.iscsiroot:fake
IMAGE=$WORK/image                       # the fake's LUN: lies show in it
head -c 8M /dev/urandom >"$IMAGE"
# ASan keeps up to 256 MiB of freed blocks in quarantine: a 256 KiB ping
# copied and freed thousands of times would measure ASan, not us.
MEM_ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
MEM_GROWTH_MAX_KIB=6144                 # over an idle session's peak
MEM_MAX_KIB=32768                       # absolute, for the ASan build
RECONNECT_DELAY_MAX_MS=5000             # the backoff cap; jitter only shortens it (session.c)
declare -A FPID FPORT IPID ISTART
RC=0
MS=0

known_bug() { echo "KNOWN BUG: $*" >&2; FAILS=$((FAILS + 1)); }

# fake NAME SCENARIO [OPTIONS...]: a fake target of its own for case NAME,
# on port FAKE_AT_PORT or a free one; its log is $WORK/NAME.fake.
fake() {
	local name=$1 port=${FAKE_AT_PORT:-$(pick_port)}
	shift
	fake_launch "$WORK/$name.fake" "$port" --iqn "$FAKE_IQN" --image "$IMAGE" \
		--timeout 60 --scenario "$@"
	FPID[$name]=$LAUNCHED_PID
	FPORT[$name]=$port
}

fake_end() {
	kill "${FPID[$1]}" 2>/dev/null
	wait "${FPID[$1]}" 2>/dev/null
}

# start NAME CMD [OPTIONS...]: the binary under test against the fake of
# NAME (or of FAKE_OF), in the background: stdin from IN (/dev/null),
# stdout to $WORK/NAME.out, stderr to $WORK/NAME.err. With MAXRSS=1 it
# runs under GNU time, which writes its peak RSS (KiB, the kernel's
# ru_maxrss: no sample can miss it) to $WORK/NAME.maxrss.
start() {
	local name=$1 cmd=$2 wrap=()
	shift 2
	[ -n "${MAXRSS:-}" ] && wrap=(/usr/bin/time -f %M -o "$WORK/$name.maxrss")
	"${wrap[@]}" "$ISCSIROOT" "$cmd" -p "127.0.0.1:${FPORT[${FAKE_OF:-$name}]}" \
		-t "$FAKE_IQN" -i "$INITIATOR" -l 1 "$@" <"${IN:-/dev/null}" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	IPID[$name]=$!
	ISTART[$name]=$(now_ms)
}

# end_run NAME SECONDS: waits for NAME's run until SECONDS after its start
# (then stops it); RC is its exit status (124: it was still running), MS
# how long it ran. A sanitizer report fails it whatever else it shows.
end_run() {
	local name=$1
	wait_for "${IPID[$name]}" "$2" "${ISTART[$name]}"
	RC=$WAIT_RC
	MS=$((WAIT_END_MS - ISTART[$name]))
	if grep -q "Sanitizer\|runtime error:" "$WORK/$name.err"; then
		fail "$name: sanitizer report"
		cat "$WORK/$name.err" >&2
	fi
}

said() { grep -qF "$2" "$WORK/$1.err"; }
fake_said() { grep -qF "$2" "$WORK/$1.fake"; }
fake_count() { grep -cF "$2" "$WORK/$1.fake"; }

# The output holds exactly the first BYTES of the LUN.
output_is() { # NAME BYTES
	[ "$(stat -c %s "$WORK/$1.out")" = "$2" ] &&
		cmp -s -n "$2" "$WORK/$1.out" "$IMAGE"
}

# Whatever the output holds is the LUN's own bytes, from its start.
output_prefix_ok() { # NAME
	cmp -s -n "$(stat -c %s "$WORK/$1.out")" "$WORK/$1.out" "$IMAGE"
}

show() {
	echo "----- $1: fake target:" >&2
	grep -v "ignoring\|SCSI command 0x" "$WORK/$1.fake" | tail -40 >&2
	echo "----- $1: initiator (exit $RC after $(ms_s "$MS") s):" >&2
	tail -20 "$WORK/$1.err" >&2
}

# The fake saw no RFC breach by the initiator.
fake_clean() {
	if fake_said "$1" VIOLATION; then
		fail "$1: the fake saw a protocol violation"
		grep VIOLATION "$WORK/$1.fake" >&2
	fi
}

# ---- lies ------------------------------------------------------------

declare -A LIE_LINE=(
	[read-short]="GOOD status for a READ of 262144 bytes after 131072 bytes moved"
	[read-gap]="the target sent Data-In at offset 131072, where 65536 bytes had come"
	[read-overlap]="the target sent Data-In at offset 0, where 65536 bytes had come"
	[read-datasn]="the target sent Data-In DataSN 2, expected 1"
	[read-expdatasn]="SCSI Response ExpDataSN 5, but 4 Data-In PDUs came"
)
LIES=(read-short read-gap read-overlap read-datasn read-expdatasn)
# 1 MiB in 256 KiB READs of four 64 KiB Data-In: the second READ lies.
READ_1M=(read --length 1M --io-size 256k)

# A lie told on every READ: exit 1 within the replacement timeout and one
# reconnect delay, none of the lie on stdout.
check_lied_always() { # NAME SCENARIO TIMEOUT_S
	local name=$1 sc=$2 limit_ms=$(($3 * 1000 + RECONNECT_DELAY_MAX_MS + 2000))
	if [ "$RC" = 124 ]; then
		if [ "$(fake_count "$name" FAULT)" -ge 3 ] &&
			[ "$(fake_count "$name" "login complete")" -ge 3 ]; then
			known_bug "$sc on every READ, --replacement-timeout $3: still" \
				"running after $(ms_s "$MS") s ($(fake_count "$name" FAULT) lies," \
				"$(fake_accepts "$WORK/$name.fake") connections): session.c's" \
				"login_complete() disarms the replacement timer (replacement_at = -1)" \
				"on every login, though no command completes on the new" \
				"connection; with reconnect delays (5 s at most) shorter than" \
				"the timeout, the READ is re-issued for ever"
		else
			fail "$name: still running after $(ms_s "$MS") s"
			show "$name"
		fi
		return
	fi
	if [ "$RC" = 1 ] && [ "$MS" -ge $(($3 * 1000)) ] && [ "$MS" -le "$limit_ms" ] &&
		said "$name" "replacement timeout" && said "$name" "${LIE_LINE[$sc]}"; then
		pass "$name: exit 1 after $(ms_s "$MS") s (replacement timeout $3 s, bound" \
			"$(ms_s "$limit_ms") s), $(fake_count "$name" FAULT) lies told"
	else
		fail "$name: exit $RC after $(ms_s "$MS") s; expected exit 1 between $3 and" \
			"$(ms_s "$limit_ms") s with the replacement timeout and the lie named"
		show "$name"
	fi
	output_prefix_ok "$name" ||
		fail "$name: wrong bytes on stdout ($(stat -c %s "$WORK/$name.out") bytes)"
}

lies() {
	local sc
	# All at once: most of the time is reconnect delays.
	for sc in "${LIES[@]}"; do
		fake "$sc-once" "$sc" --after 1
		start "$sc-once" "${READ_1M[@]}" --replacement-timeout 10
		fake "$sc-always" "$sc" --after 1 --repeat
		start "$sc-always" "${READ_1M[@]}" --replacement-timeout 3
	done
	fake read-underflow read-underflow --after 1
	start read-underflow "${READ_1M[@]}" --replacement-timeout 10
	# A replacement timeout longer than the longest reconnect delay.
	fake read-gap-always-8 read-gap --after 1 --repeat
	start read-gap-always-8 "${READ_1M[@]}" --replacement-timeout 8

	for sc in "${LIES[@]}"; do
		end_run "$sc-once" 30
		fake_end "$sc-once"
		if [ "$RC" = 0 ] && output_is "$sc-once" 1048576 &&
			said "$sc-once" "${LIE_LINE[$sc]}" &&
			[ "$(fake_count "$sc-once" FAULT)" = 1 ] &&
			[ "$(fake_count "$sc-once" "login complete")" = 2 ]; then
			pass "$sc once: caught ('${LIE_LINE[$sc]}'), reconnected, 1 MiB" \
				"byte-exact"
		else
			fail "$sc once: exit $RC, or wrong bytes, or no reconnect"
			show "$sc-once"
		fi
		output_prefix_ok "$sc-once" || fail "$sc once: wrong bytes on stdout"
		fake_clean "$sc-once"

		end_run "$sc-always" 30
		fake_end "$sc-always"
		check_lied_always "$sc-always" "$sc" 3
	done

	end_run read-gap-always-8 18
	fake_end read-gap-always-8
	check_lied_always read-gap-always-8 read-gap 8

	end_run read-underflow 30
	fake_end read-underflow
	if [ "$RC" = 1 ] && said read-underflow "I/O failed: the target moved fewer bytes" \
		&& said read-underflow "than the 262144 asked for (residual 131072)" &&
		[ "$(fake_count read-underflow "login complete")" = 1 ]; then
		pass "read-underflow: exit 1: $(grep "moved fewer" "$WORK/read-underflow.err")"
	else
		fail "read-underflow: exit $RC; expected 1, 'moved fewer bytes', no reconnect"
		show read-underflow
	fi
	output_prefix_ok read-underflow || fail "read-underflow: wrong bytes on stdout"
}

# ---- memory ----------------------------------------------------------

MEM_BASE_KIB=0

# The peak RSS of an idle session: logged in, READs in flight that a
# silent target never answers (no keepalive), sampled for 2.5 s; and of
# the same 1 MiB READ from a target that behaves. The larger is the base.
mem_baseline() {
	fake idle silent --after 1
	ASAN_OPTIONS=$MEM_ASAN_OPTIONS start idle "${READ_1M[@]}" --nop-interval 0
	watch_mem "${IPID[idle]}" "$WORK/idle.mem" &
	sleep 2.5
	end_run idle 0
	fake_end idle
	MEM_BASE_KIB=$(peak_kib "$WORK/idle.mem")
	[ "$MEM_BASE_KIB" -gt 0 ] || die "no memory sample of the idle session"
	fake plain none
	MAXRSS=1 ASAN_OPTIONS=$MEM_ASAN_OPTIONS start plain "${READ_1M[@]}"
	end_run plain 30
	fake_end plain
	[ "$RC" = 0 ] && output_is plain 1048576 || die "plain read: exit $RC"
	local plain
	plain=$(tail -1 "$WORK/plain.maxrss")
	pass "base: peak RSS $MEM_BASE_KIB KiB idle (sampled), $plain KiB for a" \
		"plain 1 MiB read"
	[ "$plain" -gt "$MEM_BASE_KIB" ] && MEM_BASE_KIB=$plain
}

check_mem() { # NAME
	local peak
	peak=$(tail -1 "$WORK/$1.maxrss" 2>/dev/null)
	peak=${peak:-0}
	if [ "$peak" -gt 0 ] && [ $((peak - MEM_BASE_KIB)) -le "$MEM_GROWTH_MAX_KIB" ] &&
		[ "$peak" -le "$MEM_MAX_KIB" ]; then
		pass "$1: peak RSS $peak KiB, $((peak - MEM_BASE_KIB)) KiB over the base" \
			"(bound $MEM_GROWTH_MAX_KIB)"
	else
		fail "$1: peak RSS $peak KiB, $((peak - MEM_BASE_KIB)) KiB over the base" \
			"(bound $MEM_GROWTH_MAX_KIB, at most $MEM_MAX_KIB)"
	fi
}

# Pings from a target that reads nothing: with --nop-interval 1
# --nop-timeout 2 the connection is dead within 5 s of the flood's start,
# whatever the pings carry.
flood_case() { # PING_BYTES
	local name=flood-$1 dead
	fake "$name" nop-flood --ping-size "$1" --after 1 --flood-seconds 10
	MAXRSS=1 ASAN_OPTIONS=$MEM_ASAN_OPTIONS start "$name" "${READ_1M[@]}" \
		--nop-interval 1 --nop-timeout 2
	end_run "$name" 30
	fake_end "$name"
	dead=$(sed -n 's/.*initiator closed the connection \([0-9.]*\) s after the fault.*/\1/p' \
		"$WORK/$name.fake" | head -1)
	if [ -n "$dead" ] && awk -v d="$dead" 'BEGIN { exit !(d <= 5) }' &&
		{ said "$name" "the target has read nothing we sent for the NOP timeout" ||
		  said "$name" "no answer to NOP-Out"; }; then
		pass "$name: connection declared dead $dead s after the flood began" \
			"($(sed -n 's/.*; \([0-9]* pings\) .*/\1/p' "$WORK/$name.fake") sent)"
	elif [ "$1" = 0 ] && fake_said "$name" "flood stopped after"; then
		known_bug "$name: pings with no data, sent without end by a target" \
			"that reads nothing, hold the connection for the whole flood" \
			"($(sed -n 's/.*; \([0-9]* pings\) .*/\1/p' "$WORK/$name.fake") in 10 s)" \
			"while the READ waits: session.c's on_pdu() counts every PDU as" \
			"traffic (last_rx), so keepalive() never sends a NOP-Out, and one" \
			"48-byte answer per loop round never fills the socket for the" \
			"send-stall check"
	else
		fail "$name: connection not declared dead within 5 s (${dead:-never})"
		show "$name"
	fi
	if [ "$RC" = 0 ] && output_is "$name" 1048576 &&
		[ "$(fake_count "$name" "login complete")" = 2 ]; then
		pass "$name: reconnected, 1 MiB byte-exact"
	else
		fail "$name: exit $RC, or wrong bytes, or no reconnect"
		show "$name"
	fi
	check_mem "$name"
}

declare -A R2T_LINE=(
	[r2t-repeat]="R2T out of order (R2TSN 0, offset 65536; expected 1, 262144)"
	[r2t-order]="R2T out of order (R2TSN 1, offset 163840; expected 0, 65536)"
	[r2t-excess]="more R2Ts outstanding than MaxOutstandingR2T=1"
	[r2t-ttt]="R2T with the reserved Target Transfer Tag 0xffffffff"
)

# R2Ts a correct initiator refuses: the connection goes before any
# Data-Out answers them (the fake flags one as a VIOLATION), the WRITE is
# issued again and lands whole.
r2t_case() { # SCENARIO
	local sc=$1
	head -c 1M /dev/urandom >"$WORK/$sc.data"
	fake "$sc" "$sc" --after 1 --sessions 2
	IN=$WORK/$sc.data MAXRSS=1 ASAN_OPTIONS=$MEM_ASAN_OPTIONS start "$sc" write \
		--io-size 256k --replacement-timeout 10
	end_run "$sc" 30
	if [ "$RC" = 0 ] && said "$sc" "${R2T_LINE[$sc]}" &&
		[ "$(fake_count "$sc" FAULT)" = 1 ] &&
		[ "$(fake_count "$sc" "login complete")" = 2 ]; then
		pass "$sc: refused ('${R2T_LINE[$sc]}'), reconnected, write done"
	else
		fail "$sc: write exit $RC; expected 0 after '${R2T_LINE[$sc]}' and a reconnect"
		show "$sc"
	fi
	FAKE_OF=$sc start "$sc-back" read --length 1M
	end_run "$sc-back" 30
	fake_end "$sc"
	if [ "$RC" = 0 ] && cmp -s "$WORK/$sc.data" "$WORK/$sc-back.out"; then
		pass "$sc: 1 MiB read back byte-exact"
	else
		fail "$sc: read back exit $RC, or the data differs"
	fi
	fake_clean "$sc"
	check_mem "$sc"
}

memory() {
	mem_baseline
	flood_case 262144
	flood_case 0
	r2t_case r2t-repeat
	r2t_case r2t-order
	r2t_case r2t-excess
	r2t_case r2t-ttt
}

# ---- loops -----------------------------------------------------------

# Time2Wait 65535 from the target: the reconnect waits 30 s, not 18 hours.
check_capped_wait() { # NAME BYTES
	local gap
	gap=$(sed -n 's/.*accepted from .*, \([0-9.]*\) s after the fault/\1/p' \
		"$WORK/$1.fake" | head -1)
	if [ "$RC" = 0 ] && output_is "$1" "$2" && [ -n "$gap" ] &&
		awk -v g="$gap" 'BEGIN { exit !(g >= 29 && g <= 34) }'; then
		pass "$1: Time2Wait 65535 capped: reconnected $gap s after the fault," \
			"$(($2 >> 20)) MiB byte-exact"
	else
		fail "$1: exit $RC, reconnect ${gap:-never} s after the fault; expected" \
			"exit 0 and 29-34 s"
		show "$1"
	fi
}

# With --replacement-timeout 5, the same READ fails after ~5 s instead.
check_replacement() { # NAME
	if [ "$RC" = 1 ] && [ "$MS" -ge 5000 ] && [ "$MS" -le 8000 ] &&
		said "$1" "replacement timeout"; then
		pass "$1: exit 1 after $(ms_s "$MS") s (replacement timeout 5 s)"
	else
		fail "$1: exit $RC after $(ms_s "$MS") s; expected 1 within 5-8 s"
		show "$1"
	fi
	output_prefix_ok "$1" || fail "$1: wrong bytes on stdout"
}

loops() {
	local port n attempts gaps
	# Everything at once: the 30 s waits dominate.
	port=$(pick_port)
	FAKE_AT_PORT=$port fake redirect redirect --redirect-port "$port" \
		--sessions 1000000
	start redirect read --length 64k --retry-for 5
	fake drop drop-command
	start drop read --length 64k
	fake async-drop async-drop --time2wait 65535 --after 1 --sessions 2
	start async-drop "${READ_1M[@]}"
	fake async-drop-5 async-drop --time2wait 65535 --after 1
	start async-drop-5 "${READ_1M[@]}" --replacement-timeout 5
	# 16 READs: 8 in flight drain before the Logout, 8 wait for the login.
	fake async-logout async-logout --time2wait 65535 --after 1 --sessions 2
	start async-logout read --length 4M --io-size 256k
	fake async-logout-5 async-logout --time2wait 65535 --after 1
	start async-logout-5 read --length 4M --io-size 256k --replacement-timeout 5

	end_run async-drop-5 20
	fake_end async-drop-5
	check_replacement async-drop-5
	end_run async-logout-5 20
	fake_end async-logout-5
	check_replacement async-logout-5

	# A redirect to itself at every login: 1 + 8 redirects per attempt,
	# then the backoff (0, 0.25, 0.5, 1, 2, 4 s...) until --retry-for 5
	# has passed: 7 attempts, 63 connections.
	end_run redirect 20
	fake_end redirect
	n=$(fake_accepts "$WORK/redirect.fake")
	if [ "$RC" != 0 ] && [ "$RC" != 124 ] && [ "$MS" -ge 5000 ] &&
		[ "$MS" -le $((5000 + RECONNECT_DELAY_MAX_MS + 1500)) ] &&
		said redirect "too many redirects in one login" &&
		[ "$n" -ge 9 ] && [ "$n" -le 72 ]; then
		pass "redirect to itself: exit $RC after $(ms_s "$MS") s (--retry-for 5)," \
			"$n connections (at most 8 attempts of 9)"
	else
		fail "redirect to itself: exit $RC after $(ms_s "$MS") s, $n connections;" \
			"expected an end within $(ms_s $((5000 + RECONNECT_DELAY_MAX_MS + 1500))) s," \
			"'too many redirects', 9-72 connections"
		show redirect
	fi

	# A close for every SCSI command: a root disk keeps trying, but with
	# the backoff: 0, 0, 0.25, 0.5, 1, 2, 4 s... about 7 connections in 10 s.
	end_run drop 10
	fake_end drop
	n=$(fake_accepts "$WORK/drop.fake")
	gaps=$(fake_accept_times "$WORK/drop.fake" |
		awk 'NR > 1 { printf "%s%.2f", sep, $1 - p; sep = " " } { p = $1 }')
	if [ "$RC" = 124 ] && [ "$n" -ge 4 ] && [ "$n" -le 12 ] &&
		[ "$(fake_count drop FAULT)" = "$n" ]; then
		pass "close on every command: $n connections in 10 s, gaps $gaps s"
	else
		fail "close on every command: exit $RC, $n connections in 10 s" \
			"(gaps $gaps); expected 4-12, still retrying"
		show drop
	fi

	end_run async-drop 45
	fake_end async-drop
	check_capped_wait async-drop 1048576
	said async-drop "target is dropping the connection; reconnecting in 30000 ms" ||
		fail "async-drop: the initiator did not say it waits 30000 ms"
	end_run async-logout 45
	fake_end async-logout
	check_capped_wait async-logout 4194304
	fake_said async-logout "Logout Request reason=0 (the target asked for it)" ||
		fail "async-logout: no Logout Request"
	for n in async-drop async-logout async-drop-5 async-logout-5; do
		fake_clean "$n"
	done
}

# ---- capacity --------------------------------------------------------

cap_case() { # WHAT BLOCK_SIZE LAST_LBA
	local what=$1 name=cap-$2-$3 reads
	fake "$name" bad-capacity --cap-block-size "$2" --cap-last-lba "$3" --log-commands
	start "$name" read --length 64k
	end_run "$name" 20
	fake_end "$name"
	fake_said "$name" "FAULT: READ CAPACITY" ||
		fail "$what: READ CAPACITY was never sent"
	reads=$(grep -c "SCSI command 0x\(28\|88\|2a\|8a\) " "$WORK/$name.fake")
	if [ "$RC" = 1 ] && [ "$reads" = 0 ] && [ "$(grep -c . "$WORK/$name.err")" = 1 ] &&
		grep -Eq "block size|capacity" "$WORK/$name.err"; then
		pass "$what: exit 1, no READ: $(cat "$WORK/$name.err")"
	elif [ "$RC" = 0 ] && [ "$reads" != 0 ] && [ "$3" = 18446744073709551615 ]; then
		known_bug "$what: taken as 2^32 blocks and read (exit 0, $reads READ(s)):" \
			"disk.c's read_capacity() ignores what scsi_parse_read_capacity16()" \
			"returns, so after READ CAPACITY(10)'s 0xffffffff ('ask (16)') an" \
			"answer (16) refuses keeps (10)'s 2^32 blocks"
	elif [ "$RC" = 1 ] && [ "$reads" = 0 ] && [ "$2" = 0 ] &&
		grep -qx "iscsiroot: .*" "$WORK/$name.err" &&
		! grep -Eq "block size|capacity" "$WORK/$name.err"; then
		known_bug "$what: exit 1 but the line is '$(head -c 200 "$WORK/$name.err")':" \
			"disk.c's read_capacity() returns scsi_parse_read_capacity10()'s" \
			"-EBADMSG without a message, and cmd_iscsi.c's login_and_probe()" \
			"then prints its err buffer, never written (uninitialised), or strerror"
	else
		fail "$what: exit $RC, $reads READ/WRITE sent; expected exit 1, none, one line" \
			"naming the block size or capacity"
		show "$name"
	fi
}

capacity() {
	cap_case "block size 3" 3 16383
	cap_case "block size 2^31" 2147483648 16383
	cap_case "block size 0" 0 16383
	cap_case "0 blocks (last LBA 2^64-1)" 512 18446744073709551615
	cap_case "2^62+1 blocks of 4096 bytes (past 64 bits)" 4096 4611686018427387904
}

case "${1:-all}" in
lies | memory | loops | capacity) "$1" ;;
all) lies; memory; loops; capacity ;;
*) die "usage: $0 [lies|memory|loops|capacity]" ;;
esac
finish
