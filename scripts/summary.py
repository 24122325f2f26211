#!/usr/bin/env python3
"""Prints 'N passed, N failed' from meson's testlog.json files.

A skipped test asserted nothing, so it counts as failed: the suite sets up
everything its tests need (scripts/setup.sh, deps.sh, fetch-kernel.sh)."""
import json
import sys

passed = failed = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        print(f"summary: no results in {path}")
        failed += 1
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
            print(f"FAILED: {json.loads(line)['name']} ({r})")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
