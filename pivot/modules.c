/* SPDX-License-Identifier: MIT */
/* Kernel modules without udev, modprobe or libkmod: by name or by a
 * device's modalias, from the text files depmod writes in
 * /lib/modules/$(uname -r), with modprobe's rules (facts from kmod 30:
 * tools/depmod.c, libkmod/libkmod-module.c, libkmod/libkmod-config.c):
 * - "path: dep dep ..." in modules.dep lists a module's whole dependency
 *   closure, topologically sorted with the users first; modprobe inserts
 *   it in reverse (libkmod prepends each dep as it parses the line), so the
 *   deepest goes first;
 * - a name is looked up in the modprobe.d aliases, then modules.dep, then
 *   modules.alias (shell wildcards), then modules.builtin, and the first
 *   that knows it wins; '-' and '_' are one outside [...];
 * - "softdep M pre: a b post: c" (modprobe.d and modules.softdep, the first
 *   line matching M counts; words before pre:/post: count for nothing):
 *   libkmod's probe list is each dependency with its softdeps around it,
 *   then M's pre ones, M, M's post ones. Softdeps and what they need are
 *   wishes, their failure is ignored; M's dependencies are not;
 * - options: every "options M ..." of the modprobe.d files, then the
 *   kernel command line's "M.param=value", then the caller's (last wins).
 * Not done (libkmod's modprobe did not do them for us either): blacklists,
 * install/remove commands, modules.symbols, the builtin alias index.
 *
 * We insert each file with finit_module; compressed ones (Debian's 6.12:
 * .ko.xz) the kernel decompresses itself (CONFIG_MODULE_DECOMPRESS) when
 * finit_module says the file is.
 *
 * Memory: one struct module_index per public call maps modules.dep,
 * modules.alias and modules.builtin read-only and holds the modprobe.d
 * text (a few KB); all of it goes at the end of the call, so the daemon
 * keeps nothing. In an initramfs the files are a few KB (tmpfs: the pages
 * are there anyway). On a full Debian 6.1 system (modules.dep 0.5 MB,
 * modules.alias 1.3 MB) a lookup and its plan take 0.1-2.5 ms once the
 * pages are cached (ext4 with its softdeps the most; a modalias 1.5 ms),
 * measured here: cheap enough that nothing is indexed or kept.
 * Every line is untrusted: parsing works on (pointer, length) spans that
 * never leave the mapping, any length is allowed, and a word that does not
 * fit its buffer is skipped, not cut. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "pivot.h"

/* <linux/module.h>, Linux 6.4+. */
#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif
/* Dependency chains are flat in modules.dep; only softdeps nest, and a
 * softdep loop is stopped by the visited list or, at worst, here. */
#define MODULE_DEPTH_MAX 12
#define MODULE_NAME_MAX 64       /* the kernel's MODULE_NAME_LEN is 56 */
#define MODULE_PATTERN_MAX 512   /* an alias pattern or a modalias */
#define MODULE_PLAN_MAX 64       /* modules one lookup may insert */
#define MODULE_MATCH_MAX 16      /* modules one alias may name */
#define MODULE_OPTIONS_MAX 2048  /* x86's COMMAND_LINE_SIZE */
#define MODULE_CONF_MAX (1u << 20)
#define MODULE_CONF_FILES 64
#define MODULE_FILE_MAX (64u << 20)

/* A piece of an index file: never NUL-terminated. */
struct span {
	const char *p;
	size_t len;
};

/* Where to look; the system's unless a test says otherwise. */
struct module_paths {
	const char *modules_dir;      /* NULL: /lib/modules/$(uname -r) */
	const char *sys_module;       /* where the kernel shows modules */
	const char *const *conf_dirs; /* kmod's order: a file name's first wins */
	const char *cmdline;          /* module.param=value words */
};

static const char *const system_conf_dirs[] = {
	"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
	"/lib/modprobe.d", NULL,
};

static const struct module_paths system_paths = {
	.modules_dir = NULL,
	.sys_module = "/sys/module",
	.conf_dirs = system_conf_dirs,
	.cmdline = "/proc/cmdline",
};

struct module_index {
	char dir[256];                   /* relative module paths start here */
	char sys_module[128];
	struct span dep, alias, builtin; /* mapped read-only (or a test's) */
	struct span conf;                /* "options/alias/softdep" lines */
	char *conf_buf;                  /* conf's memory, ours */
	bool mapped;
};

/* One module to insert: its name, its file (in index.dep), and whether
 * it is only a softdep's wish. */
struct module_step {
	char name[MODULE_NAME_MAX];
	struct span path;
	bool wish;
};

struct module_plan {
	struct module_step step[MODULE_PLAN_MAX];
	unsigned n;
	char visited[MODULE_PLAN_MAX][MODULE_NAME_MAX];
	unsigned nvisited;
};

/* What a lookup found: module names, or that it is built in. */
struct module_names {
	char name[MODULE_MATCH_MAX][MODULE_NAME_MAX];
	unsigned n;
	bool builtin;
};

/* ---- Spans: lines and words of untrusted text */

static bool next_line(struct span *text, struct span *line)
{
	const char *nl;

	if (text->len == 0)
		return false;
	nl = memchr(text->p, '\n', text->len);
	line->p = text->p;
	line->len = nl ? (size_t)(nl - text->p) : text->len;
	text->p += line->len + (nl ? 1 : 0);
	text->len -= line->len + (nl ? 1 : 0);
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool next_word(struct span *line, struct span *word)
{
	while (line->len && is_blank(*line->p)) {
		line->p++;
		line->len--;
	}
	if (line->len == 0)
		return false;
	word->p = line->p;
	while (line->len && !is_blank(*line->p)) {
		line->p++;
		line->len--;
	}
	word->len = (size_t)(line->p - word->p);
	return true;
}

/* The last word, taken off the end (modules.dep's deps, deepest first). */
static bool last_word(struct span *line, struct span *word)
{
	size_t end = line->len, start;

	while (end && is_blank(line->p[end - 1]))
		end--;
	if (end == 0)
		return false;
	start = end;
	while (start && !is_blank(line->p[start - 1]))
		start--;
	word->p = line->p + start;
	word->len = end - start;
	line->len = start;
	return true;
}

static bool span_is(struct span s, const char *str)
{
	return s.len == strlen(str) && !memcmp(s.p, str, s.len);
}

/* A NUL-terminated copy, or -ENAMETOOLONG: a cut word would be another. */
static int span_copy(struct span s, char *buf, size_t len)
{
	if (s.len >= len || memchr(s.p, '\0', s.len))
		return -ENAMETOOLONG;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	return 0;
}

/* '-' is '_' outside [...], as libkmod's alias_normalize; -EINVAL for
 * brackets that do not pair. */
static int normalize(char *s)
{
	for (; *s; s++) {
		if (*s == '-')
			*s = '_';
		else if (*s == ']')
			return -EINVAL;
		else if (*s == '[') {
			s = strchr(s, ']');
			if (!s)
				return -EINVAL;
		}
	}
	return 0;
}

static int word_to_name(struct span word, char name[static MODULE_NAME_MAX])
{
	int r = span_copy(word, name, MODULE_NAME_MAX);

	if (r == 0)
		r = normalize(name);
	return r < 0 || !name[0] ? -EINVAL : 0;
}

/* A file's module name: its base name up to the first '.', '-' as '_'. */
static int path_to_name(struct span path, char name[static MODULE_NAME_MAX])
{
	const char *slash = path.len ? memrchr(path.p, '/', path.len) : NULL;
	struct span base = path;
	const char *dot;

	if (slash) {
		base.p = slash + 1;
		base.len = path.len - (size_t)(base.p - path.p);
	}
	dot = memchr(base.p, '.', base.len);
	if (dot)
		base.len = (size_t)(dot - base.p);
	return word_to_name(base, name);
}

/* ---- Opening the index */

static int map_file(const char *path, struct span *out)
{
	struct stat st;
	void *p;
	int r = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	out->p = NULL;
	out->len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((uint64_t)st.st_size > MODULE_FILE_MAX)
		r = -EFBIG;
	else if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			r = -errno;
		else
			*out = (struct span){ p, (size_t)st.st_size };
	}
	close(fd);
	return r;
}

/* The modprobe.d text grows here, capped at MODULE_CONF_MAX. */
struct conf_buf {
	char *p;
	size_t len, cap;
};

static int conf_append(struct conf_buf *b, const char *s, size_t len)
{
	if (len > MODULE_CONF_MAX - b->len)
		return -EFBIG;
	if (b->len + len > b->cap) {
		size_t cap = MAX(b->cap * 2, b->len + len);
		char *p = realloc(b->p, MIN(cap, MODULE_CONF_MAX));
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = MIN(cap, MODULE_CONF_MAX);
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	return 0;
}

/* A config file, with "\<newline>" joining lines as libkmod reads them.
 * One that cannot be read is left out, as libkmod does. */
static int conf_append_file(struct conf_buf *b, const char *path)
{
	struct span text;
	int r = map_file(path, &text);

	if (r < 0) {
		if (r != -ENOENT)
			log_warn("%s: %s, left out", path, strerror(-r));
		return 0;
	}
	for (size_t i = 0; r == 0 && i < text.len; i++) {
		if (text.p[i] == '\\' && i + 1 < text.len && text.p[i + 1] == '\n')
			i++;
		else
			r = conf_append(b, &text.p[i], 1);
	}
	if (r == 0)
		r = conf_append(b, "\n", 1);
	if (text.len)
		munmap((void *)text.p, text.len);
	return r;
}

struct conf_file {
	char name[64];
	const char *dir;
};

static bool conf_wanted(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && ((len > 5 && !strcmp(name + len - 5, ".conf")) ||
				  (len > 6 && !strcmp(name + len - 6, ".alias")));
}

/* Adds name in name order unless a file of that name came first. */
static void conf_files_add(struct conf_file *f, unsigned *n, const char *dir, const char *name)
{
	unsigned i = 0;

	if (strlen(name) >= sizeof(f->name) || *n >= MODULE_CONF_FILES)
		return;
	while (i < *n && strcmp(f[i].name, name) < 0)
		i++;
	if (i < *n && !strcmp(f[i].name, name))
		return;
	memmove(&f[i + 1], &f[i], (*n - i) * sizeof(*f));
	snprintf(f[i].name, sizeof(f[i].name), "%s", name);
	f[i].dir = dir;
	(*n)++;
}

static void conf_files_list(struct conf_file *f, unsigned *n, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL)
		if (conf_wanted(de->d_name))
			conf_files_add(f, n, dir, de->d_name);
	if (d)
		closedir(d);
}

/* A command-line word "mod.param[=value]" as an "options" line. A word
 * quoted whole ("mod.p=a b", as GRUB passes it) becomes p="a b". */
static int cmdline_word_option(struct conf_buf *b, struct span w)
{
	bool whole = w.len && w.p[0] == '"';
	struct span mod, param;
	const char *dot, *eq;
	char name[MODULE_NAME_MAX];

	if (whole) {
		w.p++;
		w.len--;
	}
	dot = memchr(w.p, '.', w.len);
	if (!dot)
		return 0;
	mod = (struct span){ w.p, (size_t)(dot - w.p) };
	param = (struct span){ dot + 1, w.len - mod.len - 1 };
	eq = memchr(param.p, '=', param.len);
	size_t key_len = eq ? (size_t)(eq - param.p) : param.len;
	if (memchr(mod.p, '=', mod.len) || memchr(mod.p, '"', mod.len) || key_len == 0 ||
	    memchr(param.p, '.', key_len) || memchr(param.p, '"', key_len) ||
	    (whole && !eq) || word_to_name(mod, name) < 0)
		return 0;
	int r = conf_append(b, "options ", 8);
	if (r == 0)
		r = conf_append(b, name, strlen(name));
	if (r == 0)
		r = conf_append(b, " ", 1);
	if (r == 0 && whole) {
		r = conf_append(b, param.p, key_len + 1);
		if (r == 0)
			r = conf_append(b, "\"", 1);
		if (r == 0)
			r = conf_append(b, eq + 1, param.len - key_len - 1);
	} else if (r == 0)
		r = conf_append(b, param.p, param.len);
	return r == 0 ? conf_append(b, "\n", 1) : r;
}

static int conf_append_cmdline(struct conf_buf *b, const char *path)
{
	char line[4096];
	struct span rest;
	int r;

	if (!path || read_text_file(path, line, sizeof(line)) < 0)
		return 0;
	rest = (struct span){ line, strlen(line) };
	for (;;) {
		/* Words split at blanks outside double quotes. */
		while (rest.len && is_blank(*rest.p)) {
			rest.p++;
			rest.len--;
		}
		if (rest.len == 0)
			return 0;
		struct span w = { rest.p, 0 };
		bool quoted = false;
		while (w.len < rest.len && (quoted || !is_blank(rest.p[w.len])))
			quoted ^= rest.p[w.len++] == '"';
		rest.p += w.len;
		rest.len -= w.len;
		r = cmdline_word_option(b, w);
		if (r < 0)
			return r;
	}
}

/* modprobe.d's files in kmod's order (by file name, merged across the
 * directories with modules.softdep), then the command line's options. */
static int conf_load(struct module_index *ix, const struct module_paths *paths)
{
	struct conf_file files[MODULE_CONF_FILES];
	struct conf_buf b = { 0 };
	char path[512];
	unsigned n = 0;
	int r = 0;

	conf_files_add(files, &n, ix->dir, "modules.softdep");
	for (const char *const *d = paths->conf_dirs; d && *d; d++)
		conf_files_list(files, &n, *d);
	for (unsigned i = 0; r == 0 && i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", files[i].dir, files[i].name);
		r = conf_append_file(&b, path);
	}
	if (r == 0)
		r = conf_append_cmdline(&b, paths->cmdline);
	if (r < 0) {
		free(b.p);
		return r;
	}
	ix->conf_buf = b.p;
	ix->conf = (struct span){ b.p, b.len };
	return 0;
}

static void module_index_close(struct module_index *ix)
{
	struct span *maps[] = { &ix->dep, &ix->alias, &ix->builtin };

	for (size_t i = 0; ix->mapped && i < ARRAY_SIZE(maps); i++)
		if (maps[i]->len)
			munmap((void *)maps[i]->p, maps[i]->len);
	free(ix->conf_buf);
	memset(ix, 0, sizeof(*ix));
}

/* Missing files are empty: an initramfs may hold no modules at all. */
static int module_index_open(struct module_index *ix, const struct module_paths *paths)
{
	static const char *const names[] = { "modules.dep", "modules.alias", "modules.builtin" };
	struct span *maps[] = { &ix->dep, &ix->alias, &ix->builtin };
	struct utsname u;
	char path[512];
	int r;

	memset(ix, 0, sizeof(*ix));
	ix->mapped = true;
	if (paths->modules_dir)
		snprintf(ix->dir, sizeof(ix->dir), "%s", paths->modules_dir);
	else if (uname(&u) == 0)
		snprintf(ix->dir, sizeof(ix->dir), "/lib/modules/%s", u.release);
	else
		return -errno;
	snprintf(ix->sys_module, sizeof(ix->sys_module), "%s", paths->sys_module);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", ix->dir, names[i]);
		r = map_file(path, maps[i]);
		if (r < 0 && r != -ENOENT) {
			log_warn("%s: %s", path, strerror(-r));
			module_index_close(ix);
			return r;
		}
	}
	r = conf_load(ix, paths);
	if (r < 0) {
		log_warn("modprobe.d: %s", strerror(-r));
		module_index_close(ix);
	}
	return r;
}

/* ---- Lookups */

/* The modules.dep line of a module: its file and its dependencies. */
static bool dep_find(const struct module_index *ix, const char *name, struct span *path,
		     struct span *deps)
{
	struct span text = ix->dep, line;
	char have[MODULE_NAME_MAX];

	while (next_line(&text, &line)) {
		const char *colon = memchr(line.p, ':', line.len);
		if (!colon)
			continue;
		*path = (struct span){ line.p, (size_t)(colon - line.p) };
		if (path_to_name(*path, have) == 0 && !strcmp(have, name)) {
			*deps = (struct span){ colon + 1, line.len - path->len - 1 };
			return path->len > 0;
		}
	}
	return false;
}

static bool builtin_has(const struct module_index *ix, const char *name)
{
	struct span text = ix->builtin, line;
	char have[MODULE_NAME_MAX];

	while (next_line(&text, &line))
		if (line.len && path_to_name(line, have) == 0 && !strcmp(have, name))
			return true;
	return false;
}

/* Loaded means live or coming in /sys/module; a directory there without
 * initstate, or a line in modules.builtin, means built in. */
static bool module_is_loaded(const struct module_index *ix, const char *name)
{
	char path[320], state[16];

	if (builtin_has(ix, name))
		return true;
	snprintf(path, sizeof(path), "%s/%s/initstate", ix->sys_module, name);
	if (read_text_file(path, state, sizeof(state)) == 0)
		return !strcmp(state, "live") || !strcmp(state, "coming");
	snprintf(path, sizeof(path), "%s/%s", ix->sys_module, name);
	return access(path, F_OK) == 0;
}

static void names_add(struct module_names *out, const char *name)
{
	for (unsigned i = 0; i < out->n; i++)
		if (!strcmp(out->name[i], name))
			return;
	if (out->n < MODULE_MATCH_MAX)
		snprintf(out->name[out->n++], MODULE_NAME_MAX, "%s", name);
	else
		log_warn("more than %d modules for one alias: %s left out", MODULE_MATCH_MAX, name);
}

/* Whether the literal start of the pattern at the head of line (up to a
 * wildcard or its end) can start key. Most of modules.alias's 26,000
 * lines (Debian 6.1) fail here, after a few bytes, before any copy. */
static bool alias_prefix_fits(struct span line, const char *key)
{
	for (size_t i = 0; i < line.len && !is_blank(line.p[i]); i++) {
		char c = line.p[i] == '-' ? '_' : line.p[i];
		if (c == '*' || c == '?' || c == '[' || c == '\\')
			return true;
		if (key[i] != c)
			return false;
	}
	return true;
}

/* The modules "alias PATTERN MODULE" lines of text give key. */
static void alias_scan(struct span text, const char *key, struct module_names *out)
{
	char pattern[MODULE_PATTERN_MAX], name[MODULE_NAME_MAX];
	struct span line, pat, mod;

	while (next_line(&text, &line)) {
		if (line.len < 6 || memcmp(line.p, "alias", 5) || !is_blank(line.p[5]))
			continue;
		line.p += 6;
		line.len -= 6;
		while (line.len && is_blank(*line.p)) {
			line.p++;
			line.len--;
		}
		if (!alias_prefix_fits(line, key) || !next_word(&line, &pat) || !next_word(&line, &mod))
			continue;
		if (span_copy(pat, pattern, sizeof(pattern)) < 0 || normalize(pattern) < 0 ||
		    !wildcard_match(pattern, key) || word_to_name(mod, name) < 0)
			continue;
		names_add(out, name);
	}
}

/* What a name or modalias resolves to, as kmod_module_new_from_lookup:
 * the first source that knows it wins. -ENOENT when none does. */
static int module_lookup(const struct module_index *ix, const char *what,
			 struct module_names *out)
{
	char key[MODULE_PATTERN_MAX];
	struct span path, deps;

	memset(out, 0, sizeof(*out));
	if (strlen(what) >= sizeof(key) || !what[0])
		return -EINVAL;
	strcpy(key, what);
	if (normalize(key) < 0)
		return -EINVAL;
	alias_scan(ix->conf, key, out);
	if (out->n)
		return 0;
	if (strlen(key) < MODULE_NAME_MAX && dep_find(ix, key, &path, &deps)) {
		names_add(out, key);
		return 0;
	}
	alias_scan(ix->alias, key, out);
	if (out->n)
		return 0;
	out->builtin = strlen(key) < MODULE_NAME_MAX && module_is_loaded(ix, key);
	return out->builtin ? 0 : -ENOENT;
}

/* The first "softdep PATTERN ..." line whose pattern matches name: the
 * words after the name. */
static bool softdep_find(const struct module_index *ix, const char *name, struct span *words)
{
	char pattern[MODULE_PATTERN_MAX];
	struct span text = ix->conf, line, w, pat;

	while (next_line(&text, &line)) {
		if (!next_word(&line, &w) || !span_is(w, "softdep") || !next_word(&line, &pat))
			continue;
		if (span_copy(pat, pattern, sizeof(pattern)) == 0 && normalize(pattern) == 0 &&
		    wildcard_match(pattern, name)) {
			*words = line;
			return true;
		}
	}
	return false;
}

/* ---- The plan: what to insert, in order */

static int plan_visit(struct module_plan *plan, const char *name)
{
	for (unsigned i = 0; i < plan->nvisited; i++)
		if (!strcmp(plan->visited[i], name))
			return 0;
	if (plan->nvisited == MODULE_PLAN_MAX)
		return -E2BIG;
	snprintf(plan->visited[plan->nvisited++], MODULE_NAME_MAX, "%s", name);
	return 1;
}

/* Appends a module unless it is loaded, built in or there already (a
 * wish that turns out to be needed stops being one). */
static int plan_add(const struct module_index *ix, struct module_plan *plan, const char *name,
		    struct span path, bool wish)
{
	for (unsigned i = 0; i < plan->n; i++) {
		if (!strcmp(plan->step[i].name, name)) {
			plan->step[i].wish &= wish;
			return 0;
		}
	}
	if (path.len == 0 || module_is_loaded(ix, name))
		return 0;
	if (plan->n == MODULE_PLAN_MAX)
		return -E2BIG;
	struct module_step *s = &plan->step[plan->n++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->path = path;
	s->wish = wish;
	return 0;
}

static int plan_module(const struct module_index *ix, struct module_plan *plan, const char *name,
		       bool wish, int depth);

/* A softdep's word: whatever it resolves to, as a wish. */
static void plan_softdep(const struct module_index *ix, struct module_plan *plan,
			 struct span word, int depth)
{
	char what[MODULE_PATTERN_MAX];
	struct module_names found;

	if (span_copy(word, what, sizeof(what)) < 0 || module_lookup(ix, what, &found) < 0)
		return;
	for (unsigned i = 0; i < found.n; i++)
		plan_module(ix, plan, found.name[i], true, depth);
}

/* The pre softdeps, the module, the post softdeps. */
static int plan_with_softdeps(const struct module_index *ix, struct module_plan *plan,
			      const char *name, struct span path, bool wish, int depth)
{
	struct span words, rest, w;
	bool pre = false;
	int r;

	if (!softdep_find(ix, name, &words))
		return plan_add(ix, plan, name, path, wish);
	for (rest = words; next_word(&rest, &w);) {
		if (span_is(w, "pre:") || span_is(w, "post:"))
			pre = span_is(w, "pre:");
		else if (pre)
			plan_softdep(ix, plan, w, depth + 1);
	}
	r = plan_add(ix, plan, name, path, wish);
	bool post = false;
	for (rest = words; r == 0 && next_word(&rest, &w);) {
		if (span_is(w, "pre:") || span_is(w, "post:"))
			post = span_is(w, "post:");
		else if (post)
			plan_softdep(ix, plan, w, depth + 1);
	}
	return r;
}

/* A module and all it needs, as libkmod's probe list: each dependency
 * (deepest first) with its softdeps, then the module with its own. */
static int plan_module(const struct module_index *ix, struct module_plan *plan, const char *name,
		       bool wish, int depth)
{
	struct span path = { 0 }, deps = { 0 }, dep;
	char dep_name[MODULE_NAME_MAX];
	int r;

	if (depth > MODULE_DEPTH_MAX)
		return -ELOOP;
	r = plan_visit(plan, name);
	if (r <= 0)
		return r;
	/* Built in or loaded without a file here: only its softdeps. */
	if (!dep_find(ix, name, &path, &deps) && !module_is_loaded(ix, name))
		return -ENOENT;
	while (last_word(&deps, &dep)) {
		r = path_to_name(dep, dep_name);
		if (r == 0)
			r = plan_with_softdeps(ix, plan, dep_name, dep, wish, depth + 1);
		if (r < 0)
			return r;
	}
	return plan_with_softdeps(ix, plan, name, path, wish, depth);
}

/* ---- Inserting */

/* Every "options NAME ..." of the configuration (the command line's last),
 * then the caller's. */
static int module_options(const struct module_index *ix, const char *name, const char *extra,
			  char *buf, size_t len)
{
	struct span text = ix->conf, line, w, mod;
	char have[MODULE_NAME_MAX];
	size_t n = 0;

	buf[0] = '\0';
	while (next_line(&text, &line)) {
		if (!next_word(&line, &w) || !span_is(w, "options") || !next_word(&line, &mod) ||
		    word_to_name(mod, have) < 0 || strcmp(have, name))
			continue;
		while (line.len && is_blank(*line.p)) {
			line.p++;
			line.len--;
		}
		while (line.len && is_blank(line.p[line.len - 1]))
			line.len--;
		if (line.len == 0)
			continue;
		if (n + line.len + 2 > len || memchr(line.p, '\0', line.len))
			return -E2BIG;
		n += (size_t)snprintf(buf + n, len - n, "%s%.*s", n ? " " : "", (int)line.len, line.p);
	}
	if (extra && extra[0]) {
		if (n + strlen(extra) + 2 > len)
			return -E2BIG;
		snprintf(buf + n, len - n, "%s%s", n ? " " : "", extra);
	}
	return 0;
}

static bool is_compressed(const char *path)
{
	static const char *const ext[] = { ".xz", ".zst", ".gz" };
	size_t len = strlen(path);

	for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
		size_t n = strlen(ext[i]);
		if (len > n && !strcmp(path + len - n, ext[i]))
			return true;
	}
	return false;
}

/* Returns 1 when inserted, 0 when the kernel had it already. */
static int insert_file(const struct module_index *ix, const struct module_step *s,
		       const char *options)
{
	char path[512];
	int fd, r, n;

	if (s->path.p[0] == '/')
		n = snprintf(path, sizeof(path), "%.*s", (int)s->path.len, s->path.p);
	else
		n = snprintf(path, sizeof(path), "%s/%.*s", ix->dir, (int)s->path.len, s->path.p);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = (int)syscall(SYS_finit_module, fd, options,
			 is_compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0);
	r = r == 0 ? 1 : errno == EEXIST ? 0 : -errno;
	close(fd);
	return r;
}

/* Inserts the plan in order; the caller's options go to top. Returns how
 * many modules were inserted, or the first required module's error. */
static int plan_run(const struct module_index *ix, const struct module_plan *plan,
		    const char *top, const char *options)
{
	char opts[MODULE_OPTIONS_MAX];
	int inserted = 0, r;

	for (unsigned i = 0; i < plan->n; i++) {
		const struct module_step *s = &plan->step[i];
		r = module_options(ix, s->name, strcmp(s->name, top) ? NULL : options, opts,
				   sizeof(opts));
		if (r == 0)
			r = insert_file(ix, s, opts);
		if (r < 0 && s->wish) {
			log_debug("module %s (a softdep) not loaded: %s", s->name, strerror(-r));
		} else if (r < 0) {
			log_warn("loading module %s failed: %s", s->name, strerror(-r));
			return r;
		} else {
			log_debug("module %s %s", s->name, r ? "inserted" : "was loaded");
			inserted += r;
		}
	}
	return inserted;
}

/* Loads what a name or modalias resolves to: returns how many modules it
 * inserted (0 when all were there or built in), -ENOENT when none knows
 * it, or a negative errno. */
static int load_lookup(const struct module_index *ix, const char *what, const char *options)
{
	struct module_names found;
	struct module_plan plan;
	int loaded = 0, err = 0, r;

	r = module_lookup(ix, what, &found);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < found.n; i++) {
		memset(&plan, 0, sizeof(plan));
		r = plan_module(ix, &plan, found.name[i], false, 0);
		if (r < 0)
			log_warn("module %s: %s", found.name[i], strerror(-r));
		else
			r = plan_run(ix, &plan, found.name[i], options);
		if (r < 0)
			err = err ? err : r;
		else
			loaded += r;
	}
	return loaded > 0 || !err ? loaded : err;
}

int pivot_load_module(const char *name, const char *options)
{
	struct module_index ix;
	int r = module_index_open(&ix, &system_paths);

	if (r < 0)
		return r;
	r = load_lookup(&ix, name, options);
	module_index_close(&ix);
	return r < 0 ? r : 0;
}

/* One pass over a bus: returns how many new modules loaded. */
static int load_bus(const struct module_index *ix, const char *bus)
{
	char dir[64], path[320], alias[MODULE_PATTERN_MAX];
	struct dirent *de;
	DIR *d;
	int loaded = 0;

	snprintf(dir, sizeof(dir), "/sys/bus/%s/devices", bus);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/modalias", dir, de->d_name);
		if (read_text_file(path, alias, sizeof(alias)) == 0 && load_lookup(ix, alias, NULL) > 0)
			loaded++;
	}
	closedir(d);
	return loaded;
}

int pivot_load_nic_drivers(void)
{
	struct module_index ix;
	int r = module_index_open(&ix, &system_paths);

	if (r < 0)
		return r;
	/* A bus driver (virtio_pci) makes new devices (virtio-net) appear:
	 * go round until nothing new loads. */
	for (int round = 0; round < 5; round++) {
		int n = load_bus(&ix, "pci") + load_bus(&ix, "virtio") + load_bus(&ix, "usb") +
			load_bus(&ix, "vmbus");
		if (n == 0)
			break;
		usleep(100 * 1000);
	}
	module_index_close(&ix);
	return 0;
}
