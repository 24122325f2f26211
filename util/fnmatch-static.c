/* SPDX-License-Identifier: MIT */
/* fnmatch(3) for the static binary only: linked as an object of its own,
 * so that libkmod's calls land here and musl's fnmatch (and the
 * wide-character tables it needs) stays out. Every caller in the binary
 * is libkmod's module and alias lookup (libkmod-module.c, libkmod.c,
 * libkmod-index.c), always with flags 0: '*', '?' and '[...]' on bytes,
 * which is what wildcard_match() does; no escapes, as no alias or module
 * name holds a backslash. */
#include <fnmatch.h>

#include "util.h"

int fnmatch(const char *pattern, const char *string, int flags)
{
	(void)flags;
	return wildcard_match(pattern, string) ? 0 : FNM_NOMATCH;
}
