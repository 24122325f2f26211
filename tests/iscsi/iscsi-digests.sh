#!/bin/bash
# HeaderDigest and DataDigest CRC32C: negotiated, and data crosses intact.
. "$(dirname "$0")/lib.sh"

tgt_simple 32M
# tgtd offers no digests until told to.
ir inquiry --header-digest crc32c 2>"$WORK/err" >/dev/null
[ $? = 5 ] && grep -q "refused HeaderDigest=CRC32C, which was required" "$WORK/err" &&
	pass "required digest refused: $(cat "$WORK/err")" || fail "digest refusal not reported"
tgt_param HeaderDigest CRC32C,None
tgt_param DataDigest CRC32C,None
head -c 3M /dev/urandom >"$WORK/data"
for hd in none crc32c; do
	for dd in none crc32c; do
		out=$(ir inquiry --header-digest "$hd" --data-digest "$dd") ||
			{ fail "inquiry with digests $hd/$dd"; continue; }
		want_h=None want_d=None
		[ "$hd" = crc32c ] && want_h=CRC32C
		[ "$dd" = crc32c ] && want_d=CRC32C
		grep -qx "header digest: $want_h" <<<"$out" || fail "header digest not $want_h"
		grep -qx "data digest: $want_d" <<<"$out" || fail "data digest not $want_d"
		ir write --header-digest "$hd" --data-digest "$dd" <"$WORK/data" ||
			fail "write with $hd/$dd"
		ir read --header-digest "$hd" --data-digest "$dd" --length 3M >"$WORK/back" ||
			fail "read with $hd/$dd"
		cmp -s "$WORK/data" "$WORK/back" && pass "data intact with digests $hd/$dd" ||
			fail "data differs with digests $hd/$dd"
	done
done
# A list lets the target choose (tgtd picks its own favourite, CRC32C,
# where RFC 7143 §6.2.1 asks for the first of ours it supports).
for list in none,crc32c crc32c,none; do
	out=$(ir inquiry --header-digest $list) || fail "inquiry with the list $list"
	grep -qx "header digest: \(None\|CRC32C\)" <<<"$out" &&
		pass "list $list: $(grep 'header digest' <<<"$out")" || fail "list $list"
done
finish
