#!/bin/bash
# Random data at random offsets and sizes (crossing the PDU, first-burst
# and burst sizes) read back byte-exact, with tgtd's small defaults and
# with tuned values, on 512- and 4096-byte blocks.
. "$(dirname "$0")/lib.sh"

tgt_start
tgt_target
truncate -s 96M "$WORK/lun1.img" "$WORK/lun2.img"
tgt_lun 1 "$WORK/lun1.img"
tgt_lun 2 "$WORK/lun2.img" --blocksize 4096

run_stress() { # LUN SECONDS QD MAX_KIB SEED WHAT
	local out
	out=$("$STRESS" "127.0.0.1:$TGT_PORT" "$IQN" "$1" "$2" "$3" "$4" "$5" 2>&1)
	if [ $? = 0 ]; then pass "$6: $out"; else fail "$6"; echo "$out" >&2; fi
}

run_stress 1 8 8 2048 1 "defaults (8 KiB PDUs, InitialR2T, 1 R2T), 512-byte blocks"
run_stress 2 8 8 2048 2 "defaults, 4096-byte blocks"
tgt_param MaxRecvDataSegmentLength 262144
tgt_param MaxXmitDataSegmentLength 262144
tgt_param FirstBurstLength 131072
tgt_param MaxBurstLength 1048576
tgt_param InitialR2T No
tgt_param ImmediateData Yes
tgt_param MaxOutstandingR2T 8
tgt_param HeaderDigest CRC32C,None
tgt_param DataDigest CRC32C,None
out=$(ir inquiry)
grep -qx "initial r2t: no" <<<"$out" || fail "InitialR2T=No was not negotiated"
grep -qx "max xmit data segment: 262144" <<<"$out" || fail "target's 256 KiB PDUs not seen"
run_stress 1 8 8 4096 3 "tuned (256 KiB PDUs, unsolicited data, 8 R2Ts), 512-byte blocks"
run_stress 2 8 8 4096 4 "tuned, 4096-byte blocks"
STRESS_DIGESTS=1 run_stress 1 5 8 1024 5 "tuned, with CRC32C digests"
# The write tool's partial last block keeps the block's old tail.
head -c 1000 /dev/urandom >"$WORK/small"
ir read --offset 8192 --length 4096 >"$WORK/before"
ir write --offset 8192 <"$WORK/small" || fail "write of 1000 bytes"
ir read --offset 8192 --length 4096 >"$WORK/after"
cmp -s <(head -c 1000 "$WORK/after") "$WORK/small" || fail "partial write: head differs"
cmp -s <(tail -c +1001 "$WORK/after") <(tail -c +1001 "$WORK/before") ||
	fail "partial write changed the rest of the block"
finish
