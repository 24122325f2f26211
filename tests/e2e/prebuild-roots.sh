#!/bin/bash
# SPDX-License-Identifier: MIT
# Makes the cached Debian 12 roots of the e2e tests ahead of them
# (.deps/e2e-root-dracut.tar, e2e-root-itools.tar, handover-root-networkd.tar,
# handover-root-nm.tar): scripts/test.sh runs it beside the VM boots, so
# that dracut.sh, deb-boot.sh and handover.sh find their roots made. Each
# root is made under its library's lock, so a test that gets there first
# makes it and this waits; a root already made is left as it is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-debroot.sh"
. "$(dirname "$0")/handover-lib.sh"

rc=0
debroot_cached dracut "$DEBROOT_PKGS_DRACUT" >/dev/null || rc=1
debroot_cached itools "$DEBROOT_PKGS_ITOOLS" >/dev/null || rc=1
handover_root_tar nm >/dev/null || rc=1     # the networkd root first, as its base
[ "$rc" = 0 ] && echo "prebuild-roots: ready" || echo "prebuild-roots: a root failed (its test makes it again)"
exit "$rc"
