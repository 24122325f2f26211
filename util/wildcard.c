/* SPDX-License-Identifier: MIT */
/* Shell-style wildcards on bytes, as modules.alias and modprobe.d use
 * them. In the static binary this is fnmatch(3) (util/fnmatch-static.c):
 * libkmod calls it with flags 0 only, and musl's brings its wide-character
 * tables, about 10 KB of the 320 KiB budget. */
#include <stdbool.h>

#include "util.h"

/* One [...] set at p (just past '['); *end gets what follows it. A set
 * without its ']' is no set: the '[' is then an ordinary character. */
static bool set_match(const char *p, unsigned char c, const char **end)
{
	bool negate = *p == '!' || *p == '^', found = false;

	if (negate)
		p++;
	for (const char *first = p; *p && (*p != ']' || p == first); p++) {
		unsigned char lo = (unsigned char)*p, hi = lo;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			hi = (unsigned char)p[2];
			p += 2;
		}
		if (c >= lo && c <= hi)
			found = true;
	}
	if (*p != ']') {
		*end = NULL;
		return false;
	}
	*end = p + 1;
	return found != negate;
}

bool wildcard_match(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		const char *next = NULL;
		bool in_set = *p == '[' && set_match(p + 1, (unsigned char)*s, &next);

		if (*p == '*') {
			star = ++p;
			resume = s;
			continue;
		}
		if (in_set || (!next && *p && (*p == '?' || *p == *s))) {
			p = in_set ? next : p + 1;
			s++;
			continue;
		}
		if (!star)
			return false;
		p = star;          /* let the last '*' take one more character */
		s = ++resume;
	}
	while (*p == '*')
		p++;
	return !*p;
}
