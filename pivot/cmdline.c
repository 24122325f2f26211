/* SPDX-License-Identifier: MIT */
/* The kernel command line as PID 1 mode reads it: the kernel's own keys
 * (root=, ip=, init=...), dracut's netroot=/rd.iscsi.*, and iscsiroot.*. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pivot.h"

/* Splits the next parameter off like the kernel's next_arg(): spaces
 * separate, double quotes group and are dropped. */
static const char *next_param(const char *p, char *out, size_t outlen)
{
	bool quoted = false;
	size_t n = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (!*p)
		return NULL;
	for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (n + 1 < outlen)
			out[n++] = *p;
	}
	out[n] = '\0';
	return p;
}

static int copy_value(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -EINVAL;
	strcpy(dst, v);
	return 0;
}

static int parse_seconds(const char *v, int64_t max, int64_t *out)
{
	uint64_t n;

	if (parse_u64(v, 0, (uint64_t)max, &n) < 0)
		return -EINVAL;
	*out = (int64_t)n;
	return 0;
}

static bool is_true(const char *v)
{
	return !*v || !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true");
}

static int set_target(struct boot_config *bc, const char *v)
{
	if (bc->npaths >= BOOT_MAX_PATHS ||
	    dhcpc_rootpath_parse(v, &bc->paths[bc->npaths]) < 0)
		return -EINVAL;
	bc->npaths++;
	return 0;
}

/* One key=value. Returns 0, or -EINVAL for a bad value of a known key. */
static int apply(struct boot_config *bc, const char *key, const char *v)
{
	int64_t n = 0;
	int r;

	if (!strcmp(key, "root")) {
		if (!strncmp(v, "iscsi:", 6))
			return set_target(bc, v);
		return copy_value(bc->root, sizeof(bc->root), v);
	}
	if (!strcmp(key, "netroot"))
		return strncmp(v, "iscsi:", 6) ? 0 : set_target(bc, v);
	if (!strcmp(key, "rootfstype"))
		return copy_value(bc->rootfstype, sizeof(bc->rootfstype), v);
	if (!strcmp(key, "rootflags"))
		return copy_value(bc->rootflags, sizeof(bc->rootflags), v);
	if (!strcmp(key, "init"))
		return copy_value(bc->init, sizeof(bc->init), v);
	if (!strcmp(key, "ip"))
		return copy_value(bc->ip, sizeof(bc->ip), v);
	if (!strcmp(key, "BOOTIF"))
		return copy_value(bc->bootif, sizeof(bc->bootif), v);
	if (!strcmp(key, "rd.iscsi.initiator"))
		return copy_value(bc->initiator, sizeof(bc->initiator), v);
	if (!strcmp(key, "iscsiroot.debug") || !strcmp(key, "rd.debug")) {
		bc->debug = is_true(v);
		return 0;
	}
	if (!strcmp(key, "iscsiroot.shell")) {
		bc->shell = is_true(v);
		return 0;
	}
	if (!strcmp(key, "iscsiroot.timeout")) {
		r = parse_seconds(v, 86400 * 365, &n);
		bc->wait_s = (int)n;
		return r;
	}
	if (!strcmp(key, "iscsiroot.replacement_timeout")) {
		r = parse_seconds(v, 86400 * 365, &n);
		bc->replacement_timeout_ms = n * 1000;
		return r;
	}
	if (!strcmp(key, "iscsiroot.queues")) {
		r = parse_seconds(v, 16, &n);   /* a plain number, 0..16 */
		bc->queues = (unsigned)n;
		return r;
	}
	if (!strcmp(key, "iscsiroot.nbd")) {
		if (strcmp(v, "ioctl") && strcmp(v, "netlink"))
			return -EINVAL;
		bc->nbd_ioctl = !strcmp(v, "ioctl");
		return 0;
	}
	if (!strcmp(key, "iscsiroot.blockdev")) {
		if (strcmp(v, "nbd") && strcmp(v, "ublk"))
			return -EINVAL;
		return copy_value(bc->blockdev, sizeof(bc->blockdev), v);
	}
	return 0;
}

static bool is_secret_key(const char *key)
{
	return strstr(key, "password") != NULL || !strcmp(key, "root") ||
	       !strcmp(key, "netroot");
}

void boot_config_init(struct boot_config *bc)
{
	memset(bc, 0, sizeof(*bc));
	bc->read_only = true;
	bc->replacement_timeout_ms = -1;
	bc->login_retry_max = -1;
	bc->waitnet = true;
	bc->testroute = true;
	strcpy(bc->init, "/sbin/init");
}

int boot_cmdline_parse(const char *cmdline, struct boot_config *bc,
		       char *err, size_t errlen)
{
	char param[4096];
	const char *p = cmdline;

	while ((p = next_param(p, param, sizeof(param))) != NULL) {
		char *eq = strchr(param, '=');
		const char *v = eq ? eq + 1 : "";

		if (eq)
			*eq = '\0';
		if (!strcmp(param, "ro") || !strcmp(param, "rw")) {
			bc->read_only = param[1] == 'o';
			continue;
		}
		if (apply(bc, param, v) < 0) {
			/* root=/netroot= may carry CHAP secrets: name the key only. */
			if (is_secret_key(param))
				snprintf(err, errlen, "invalid value for %s= on the kernel command line",
					 param);
			else
				snprintf(err, errlen, "invalid value '%.64s' for %s= on the kernel "
					 "command line", v, param);
			return -EINVAL;
		}
	}
	return 0;
}
