/* SPDX-License-Identifier: MIT */
/*
 * initramfs-tools' /etc/iscsi.initramfs (Debian's hook copies
 * /etc/iscsi/iscsi.initramfs there), which open-iscsi's local-top script
 * sources before reading the command line. We run no shell: we read its
 * NAME=value assignments (quotes, comments, "export") and hand every
 * ISCSI_* name to the key table the command line's iscsi_* keys use
 * (cmdline.c), so the two can never disagree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pivot.h"

#define FILE_MAX 65536
#define NAME_MAX_LEN 64
#define VALUE_MAX 1024

struct lexer {
	const char *p;
	unsigned line;
	const char *label;      /* the file's name, for messages */
	char *err;
	size_t errlen;
};

static int lex_error(struct lexer *lx, const char *what)
{
	snprintf(lx->err, lx->errlen, "%s line %u: %s", lx->label, lx->line, what);
	return -EINVAL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool ends_word(char c)
{
	return !c || is_blank(c) || c == '\n' || c == ';';
}

static bool is_name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

/* A shell variable name; 0 if there is none here. */
static size_t read_name(struct lexer *lx, char *out)
{
	size_t n = 0;

	while (is_name_char(lx->p[n], n == 0) && n + 1 < NAME_MAX_LEN) {
		out[n] = lx->p[n];
		n++;
	}
	if (is_name_char(lx->p[n], n == 0))
		return 0;   /* longer than any name we read: treated as no name */
	out[n] = '\0';
	lx->p += n;
	return n;
}

static int put(struct lexer *lx, char *out, size_t *n, char c)
{
	if (*n + 1 >= VALUE_MAX)
		return lex_error(lx, "value too long");
	out[(*n)++] = c;
	return 0;
}

/* After a backslash outside single quotes: a newline continues the line;
 * any other character stands for itself. */
static int read_escape(struct lexer *lx, char *out, size_t *n, bool in_double)
{
	char c = *++lx->p;

	if (!c)
		return lex_error(lx, "backslash at the end of the file");
	lx->p++;
	if (c == '\n') {
		lx->line++;
		return 0;
	}
	/* Inside double quotes, a backslash only escapes $ ` " \. */
	if (in_double && !strchr("$`\"\\", c) && put(lx, out, n, '\\') < 0)
		return -EINVAL;
	return put(lx, out, n, c);
}

static int read_quoted(struct lexer *lx, char *out, size_t *n)
{
	char quote = *lx->p++;

	while (*lx->p != quote) {
		char c = *lx->p;

		if (!c)
			return lex_error(lx, "unterminated quote");
		if (quote == '"' && (c == '$' || c == '`'))
			return lex_error(lx, "shell expansion ($ or `), which iscsiroot does not do");
		if (quote == '"' && c == '\\') {
			if (read_escape(lx, out, n, true) < 0)
				return -EINVAL;
			continue;
		}
		if (c == '\n')
			lx->line++;
		if (put(lx, out, n, c) < 0)
			return -EINVAL;
		lx->p++;
	}
	lx->p++;
	return 0;
}

/* One shell word: plain, 'single', "double" and \-escaped parts, joined. */
static int read_word(struct lexer *lx, char *out)
{
	size_t n = 0;
	int r = 0;

	while (r == 0 && !ends_word(*lx->p)) {
		char c = *lx->p;

		if (c == '\'' || c == '"')
			r = read_quoted(lx, out, &n);
		else if (c == '\\')
			r = read_escape(lx, out, &n, false);
		else if (c == '$' || c == '`')
			r = lex_error(lx, "shell expansion ($ or `), which iscsiroot does not do");
		else if (strchr("|&<>()", c))
			r = lex_error(lx, "not a plain NAME=value assignment");
		else if ((r = put(lx, out, &n, c)) == 0)
			lx->p++;
	}
	out[n] = '\0';
	return r;
}

static void skip_comment(struct lexer *lx)
{
	lx->p += strcspn(lx->p, "\n");
}

/* NAME=value, after an optional "export". "export NAME" alone exports
 * what is already set: nothing to do. */
static int read_assignment(struct lexer *lx, struct boot_config *bc, char *value)
{
	char name[NAME_MAX_LEN], where[96];
	int r;

	if (!read_name(lx, name))
		return lex_error(lx, "not a NAME=value assignment");
	if (!strcmp(name, "export") && is_blank(*lx->p)) {
		lx->p += strspn(lx->p, " \t\r");
		if (!read_name(lx, name))
			return lex_error(lx, "not a NAME=value assignment");
		if (*lx->p != '=')
			return ends_word(*lx->p) ? 0 : lex_error(lx, "not a NAME=value assignment");
	}
	if (*lx->p++ != '=')
		return lex_error(lx, "not a NAME=value assignment");
	r = read_word(lx, value);
	if (r < 0)
		return r;
	snprintf(where, sizeof(where), "in %.48s line %u", lx->label, lx->line);
	r = boot_config_apply(bc, name, value, true, where, lx->err, lx->errlen);
	return r == -ENOENT ? 0 : r;
}

static int parse_text(const char *text, const char *label, struct boot_config *bc,
		      char *err, size_t errlen)
{
	struct lexer lx = { .p = text, .line = 1, .label = label, .err = err,
			    .errlen = errlen };
	char value[VALUE_MAX];
	int r = 0;

	while (r == 0 && *lx.p) {
		lx.p += strspn(lx.p, " \t\r;");
		if (*lx.p == '\n') {
			lx.line++;
			lx.p++;
		} else if (*lx.p == '#') {
			skip_comment(&lx);
		} else if (*lx.p) {
			r = read_assignment(&lx, bc, value);
		}
	}
	secure_zero(value, sizeof(value));
	return r;
}

int boot_config_parse_initramfs(const char *text, struct boot_config *bc,
				char *err, size_t errlen)
{
	return parse_text(text, "/etc/iscsi.initramfs", bc, err, errlen);
}

int boot_config_read_initramfs_file(const char *path, struct boot_config *bc,
				    char *err, size_t errlen)
{
	char *buf;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	buf = malloc(FILE_MAX + 1);
	n = buf ? read_full(fd, buf, FILE_MAX + 1) : -ENOMEM;
	close(fd);
	if (n >= 0 && n <= FILE_MAX && !memchr(buf, '\0', (size_t)n)) {
		buf[n] = '\0';
		r = parse_text(buf, path, bc, err, errlen);
	} else {
		r = n < 0 ? (int)n : n > FILE_MAX ? -EFBIG : -EINVAL;
		snprintf(err, errlen, "%s: %s", path,
			 r == -EINVAL ? "not a text file" : strerror(-r));
	}
	if (buf)
		secure_zero(buf, FILE_MAX + 1);
	free(buf);
	return r;
}
