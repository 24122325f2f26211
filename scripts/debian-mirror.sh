#!/bin/bash
# Sourced by scripts/deps.sh and tests/setup/bare-build.sh: the Debian
# mirror that the machine's own apt uses.

# Prints the URI of the Debian mirror that the machine's sources use for
# bookworm, from either one-line (.list) or deb822 (.sources) files; prints
# nothing when there is none.
debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
			awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
			{
				uris = ""; bookworm = 0; enabled = 1
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^#/) continue
					if ($i ~ /^URIs:/) { split($i, u, /[ \t]+/); uris = u[2] }
					if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) bookworm = 1
					if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
				}
				if (uris != "" && bookworm && enabled) { print uris; exit }
			}' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
}
