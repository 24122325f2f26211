#!/bin/bash
# UNMAP on a thin LUN: allowed by its Block Limits VPD, the space is
# freed in the backing file and the range reads back as zeroes.
. "$(dirname "$0")/lib.sh"

tgt_start
tgt_target
truncate -s 64M "$WORK/thin.img"
tgt_lun 1 "$WORK/thin.img"
tgtadm_ --op update --mode logicalunit --tid 1 --lun 1 --params thin_provisioning=1 ||
	die "thin provisioning"
out=$(ir inquiry) || fail "inquiry"
grep -qx "unmap: yes" <<<"$out" || fail "UNMAP not offered: $out"
head -c 8M /dev/urandom | ir write --offset 1M || fail "write"
before=$(du -k "$WORK/thin.img" | cut -f1)
ir write --discard --offset 1M --length 8M </dev/null || fail "discard"
after=$(du -k "$WORK/thin.img" | cut -f1)
echo "allocated: ${before} KiB before, ${after} KiB after"
[ "$after" -le $((before - 7000)) ] && pass "space freed" || fail "space not freed"
ir read --offset 1M --length 8M | cmp -s - <(head -c 8M /dev/zero) &&
	pass "unmapped range reads as zeroes" || fail "unmapped range is not zero"
# A thick LUN does not offer UNMAP, and the tool says so.
tgtadm_ --op update --mode logicalunit --tid 1 --lun 1 --params thin_provisioning=0
ir write --discard --length 1M </dev/null 2>"$WORK/err" && fail "discard on a thick LUN"
grep -q "UNMAP" "$WORK/err" || fail "no clear message: $(cat "$WORK/err")"
finish
