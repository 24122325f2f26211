#!/bin/bash
# SPDX-License-Identifier: MIT
# The shipped static binary (scripts/build.sh's build-musl, with libkmod
# and nettle in it) stays within its budget of 320 KiB (issue 14).
# usage: binary-size.sh BINARY
BIN=${1:?usage: $0 BINARY}
BUDGET=$((320 * 1024))
[ -f "$BIN" ] || { echo "FAIL: no $BIN (scripts/build.sh builds it)"; exit 1; }
size=$(stat -c %s "$BIN")
if [ "$size" -le "$BUDGET" ]; then
	echo "ok: $size bytes, $((BUDGET - size)) under the budget of $BUDGET"
else
	echo "FAIL: $size bytes, $((size - BUDGET)) over the budget of $BUDGET"
	exit 1
fi
