#!/bin/bash
# The whole test suite: set-up, build, unit and integration tests under
# ASan+UBSan, the VM boots with short fuzz runs and the set-up itself once
# more in a bare Debian 12 tree (tests/setup) beside them, then one summary
# line from the results. With arguments: only what they select (meson
# test's own arguments, e.g. a test's name), no summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 1
scripts/build.sh || exit 1
# The ublk e2e test boots bookworm-backports' 6.12 kernel (6.1 has no ublk).
scripts/fetch-kernel.sh >/dev/null || exit 1

status=0
if [ $# -gt 0 ]; then   # a part of the suite, as meson test takes it
	meson test -C build-asan --no-rebuild --print-errorlogs "$@"
	exit
fi
asan=(meson test -C build-asan --no-rebuild --print-errorlogs)
"${asan[@]}" --logbase host --suite unit --suite integration || status=1
# The Debian roots of the VM tests, the fuzzers and the set-up checks
# (the build in a bare tree, the package) need CPU and disk only: they run
# beside the VM boots (one QEMU thread in software emulation) at the
# lowest priority, so they cost the suite no time of its own and the
# boots none of theirs.
(
	rc=0
	# the Debian roots of the last VM tests, made ahead (each test makes
	# its own if this did not)
	nice -n 19 tests/e2e/prebuild-roots.sh
	nice -n 19 meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzz \
		--num-processes 1 || rc=1
	nice -n 19 "${asan[@]}" --logbase setup --suite setup || rc=1
	exit $rc
) >build-asan/beside.out 2>&1 &
beside=$!
"${asan[@]}" --logbase vm --suite e2e --suite e2e-baseline || status=1
wait "$beside" || status=1
cat build-asan/beside.out

python3 scripts/summary.py build-asan/meson-logs/host.json build-asan/meson-logs/vm.json \
	build-asan/meson-logs/setup.json build-fuzz/meson-logs/testlog.json || status=1
exit $status
