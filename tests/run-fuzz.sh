#!/bin/bash
# Runs one libFuzzer target for a bounded time: the committed corpus is
# read, new inputs go to a scratch folder that is removed afterwards.
set -eu
exe=$1 corpus=$2 seconds=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
dirs=("$scratch")
[ -d "$corpus" ] && dirs+=("$corpus")
"$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
	-print_final_stats=1 "${dirs[@]}"
