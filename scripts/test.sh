#!/bin/bash
# The whole test suite: set-up, build, unit and integration tests under
# ASan+UBSan, short fuzz runs, the set-up itself once more in a bare Debian 12
# tree (tests/setup), then one summary line from the results.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 1
scripts/build.sh || exit 1
# The ublk e2e test boots bookworm-backports' 6.12 kernel (6.1 has no ublk).
scripts/fetch-kernel.sh >/dev/null || exit 1

status=0
meson test -C build-asan --no-rebuild --print-errorlogs \
	--suite unit --suite integration --suite e2e --suite e2e-baseline \
	--suite setup "$@" ||
	status=1
meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzz || status=1

python3 scripts/summary.py build-asan/meson-logs/testlog.json \
	build-fuzz/meson-logs/testlog.json || status=1
exit $status
