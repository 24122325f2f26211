#!/bin/bash
# A target restarted with another volume behind the same name and LUN gets
# no byte meant for the disk that was attached: after the reconnect the
# session's gate reads the LUN's identity (serial number, designator, block
# size, capacity) and holds every command; the write fails at the
# replacement timeout with one line saying why, and the other volume is
# untouched. Restarted with the same volume, the write goes on.
. "$(dirname "$0")/lib.sh"

# restart_tgtd IMAGE SERIAL: tgtd again on the same port, LUN 1 = IMAGE.
restart_tgtd() {
	tgt_cleanup
	tgt_start
	tgt_target
	tgt_lun 1 "$1"
	tgtadm_ --op update --mode logicalunit --tid "$TGT_TID" --lun 1 \
		--params "scsi_sn=$2" || die "scsi_sn"
}

# A write of two 1 MiB pieces with a pause between them, during which the
# target restarts; its exit code and output in $WORK/write.{rc,out}.
write_across_restart() {
	local image=$1 serial=$2
	{ head -c 1M "$WORK/data"; sleep 5; tail -c 1M "$WORK/data"; } |
		ir write --offset 0 --io-size 64k --replacement-timeout 10 \
			--nop-interval 1 --nop-timeout 2 >"$WORK/write.out" 2>&1 &
	local pid=$!
	sleep 2
	restart_tgtd "$image" "$serial"
	wait "$pid"
	echo $? >"$WORK/write.rc"
	cat "$WORK/write.out"
}

head -c 2M /dev/urandom >"$WORK/data"
truncate -s 64M "$WORK/a.img" "$WORK/b.img"
restart_tgtd "$WORK/a.img" disk-A
b_before=$(md5sum <"$WORK/b.img")

# Another volume: the write must not complete, and must touch nothing.
write_across_restart "$WORK/b.img" disk-B
[ "$(cat "$WORK/write.rc")" != 0 ] && pass "write to another disk failed" ||
	fail "write completed on another disk"
grep -q "is not the disk that was attached (its serial number was disk-A, now disk-B)" \
	"$WORK/write.out" && pass "the line says why" || fail "no identity line"
[ "$(md5sum <"$WORK/b.img")" = "$b_before" ] && pass "the other volume is untouched" ||
	fail "bytes reached the other volume"

# The same volume again: the write goes on after the check.
restart_tgtd "$WORK/a.img" disk-A
write_across_restart "$WORK/a.img" disk-A
[ "$(cat "$WORK/write.rc")" = 0 ] && pass "write across a restart of the same disk" ||
	fail "write across a restart of the same disk failed"
cmp -n 2097152 "$WORK/a.img" "$WORK/data" >/dev/null && pass "both pieces landed" ||
	fail "the disk does not hold what was written"
finish
