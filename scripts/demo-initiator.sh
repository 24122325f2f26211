#!/bin/bash
# The initiator alone: serve a demo LUN from a private tgtd on
# 127.0.0.1, then use the static iscsiroot binary to discover it, log in,
# describe it, write a block and read it back. Everything started here is
# stopped again (by PID) when the script ends.
set -u
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 1
scripts/build.sh || exit 1

export ISCSIROOT=$PWD/build-musl/iscsiroot
. tests/iscsi/lib.sh

step() { printf '\n== %s\n' "$*"; }

step "starting tgtd with a 256 MiB demo LUN"
tgt_simple 256M
echo "portal 127.0.0.1:$TGT_PORT, target $IQN, LUN 1 (backed by $WORK/lun1.img)"

step "iscsiroot discover 127.0.0.1:$TGT_PORT"
"$ISCSIROOT" discover -i "$INITIATOR" "127.0.0.1:$TGT_PORT" || die "discovery failed"

step "iscsiroot inquiry"
ir inquiry || die "inquiry failed"

step "writing one block at offset 1 MiB, reading it back"
block=$(printf 'hello from iscsiroot, %s' "$(date -u +%FT%TZ)")
printf '%s' "$block" | ir write --offset 1M || die "write failed"
back=$(ir read --offset 1M --length 512 | tr -d '\0')
echo "read back: $back"
[ "$back" = "$block" ] || die "the block read back differs"
echo "the block read back is identical"

step "done; stopping tgtd"
