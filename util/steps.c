/* SPDX-License-Identifier: MIT */
/*
 * Boot trace points: the moment each step of a boot ended, on the loop's
 * clock (now_ms(), CLOCK_MONOTONIC: one clock for every process of the
 * guest). PID 1 and the daemon it starts share one table, a memfd both
 * map, so that PID 1 prints every step, the daemon's too, in one place at
 * the end of the boot. A process that shares nothing (the CLI, a test)
 * records into a table of its own that nobody prints.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

struct boot_steps {
	int64_t begin[BOOT_STEPS];   /* 0: from the step before's end */
	int64_t end[BOOT_STEPS];     /* 0: not reached */
};

static const char *const step_names[BOOT_STEPS] = {
	[BOOT_STEP_MODULES] = "modules",
	[BOOT_STEP_DAEMON] = "daemon",
	[BOOT_STEP_LINK] = "link",
	[BOOT_STEP_DHCP] = "dhcp",
	[BOOT_STEP_LOGIN] = "login",
	[BOOT_STEP_PROBE] = "probe",
	[BOOT_STEP_BLOCKDEV] = "blockdev",
	[BOOT_STEP_PARTITIONS] = "partitions",
	[BOOT_STEP_ROOT] = "root",
	[BOOT_STEP_FSMODULE] = "fs-module",
	[BOOT_STEP_MOUNT] = "mount",
	[BOOT_STEP_SWITCH] = "switch_root",
};

static struct boot_steps own;
static struct boot_steps *table = &own;

const char *boot_step_name(enum boot_step s)
{
	return (unsigned)s < BOOT_STEPS ? step_names[s] : "?";
}

/* 0 means "not recorded": a clock that reads 0 is moved to 1 ms. */
static void store(int64_t *slot, int64_t now)
{
	__atomic_store_n(slot, now > 0 ? now : 1, __ATOMIC_RELAXED);
}

void boot_step_begin(enum boot_step s, int64_t now)
{
	if ((unsigned)s < BOOT_STEPS)
		store(&table->begin[s], now);
}

void boot_step_end(enum boot_step s, int64_t now)
{
	if ((unsigned)s < BOOT_STEPS)
		store(&table->end[s], now);
}

void boot_steps_clear(enum boot_step first, enum boot_step last)
{
	for (unsigned s = first; s <= last && s < BOOT_STEPS; s++) {
		__atomic_store_n(&table->begin[s], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&table->end[s], 0, __ATOMIC_RELAXED);
	}
}

static int map_shared(int fd)
{
	struct boot_steps *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED,
				    fd, 0);

	if (t == MAP_FAILED)
		return -errno;
	table = t;
	return 0;
}

int boot_steps_share(void)
{
	static int fd = -1;
	int r;

	if (fd >= 0)
		return fd;
	fd = memfd_create("iscsiroot-steps", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(struct boot_steps)) < 0 || (r = map_shared(fd)) < 0) {
		r = -errno;
		close(fd);
		fd = -1;
		return r;
	}
	memcpy(table, &own, sizeof(own));
	return fd;
}

int boot_steps_attach(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	int r;

	if (size != (off_t)sizeof(struct boot_steps))
		r = size < 0 ? -errno : -EINVAL;
	else
		r = map_shared(fd);
	close(fd);
	return r;
}

/* The step's duration: from its own begin, else from the latest end of
 * the steps before it (one done beside the others may have ended long
 * before), else from start. -1: not reached. */
static int64_t duration(const struct boot_steps *t, unsigned s, int64_t start)
{
	int64_t from = start;

	if (!t->end[s])
		return -1;
	if (t->begin[s])
		from = t->begin[s];
	else
		for (unsigned p = 0; p < s; p++)
			from = MAX(from, t->end[p]);
	return t->end[s] > from ? t->end[s] - from : 0;
}

int64_t boot_step_ms(enum boot_step s, int64_t start)
{
	return (unsigned)s < BOOT_STEPS ? duration(table, s, start) : -1;
}

/* Appends to out (len bytes, NUL-terminated) from n on; the new length,
 * at most len - 1 (a line cut short, never an overrun). */
__attribute__((format(printf, 4, 5)))
static size_t append(char *out, size_t len, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (n + 1 >= len)
		return n;
	va_start(ap, fmt);
	w = vsnprintf(out + n, len - n, fmt, ap);
	va_end(ap);
	return w < 0 ? n : MIN(n + (size_t)w, len - 1);
}

size_t boot_steps_format(char *out, size_t len, int64_t start, int64_t end)
{
	const char *sep = ":";
	size_t n;

	if (!len)
		return 0;
	out[0] = '\0';
	n = append(out, len, 0, "%lld ms", (long long)(end - start));
	for (unsigned s = 0; s < BOOT_STEPS; s++) {
		int64_t ms = duration(table, s, start);
		if (ms < 0)
			continue;
		n = append(out, len, n, "%s %s %lld", sep, step_names[s], (long long)ms);
		sep = ",";
	}
	return n;
}

int64_t boot_idle_parse(const char *uptime)
{
	const char *p = strchr(uptime, ' ');
	int64_t ms = 0, scale = 1000;

	if (!p || p[1] < '0' || p[1] > '9')
		return -1;
	for (p++; *p >= '0' && *p <= '9'; p++) {
		if (ms > INT64_MAX / 10000)
			return -1;
		ms = ms * 10 + (*p - '0');
	}
	ms *= 1000;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && scale > 1; p++) {
			scale /= 10;
			ms += (*p - '0') * scale;
		}
	return *p == '\0' ? ms : -1;
}

int64_t boot_idle_ms(void)
{
	char text[64];

	return read_text_file("/proc/uptime", text, sizeof(text)) < 0 ? -1
									  : boot_idle_parse(text);
}

void boot_steps_log(const char *what, int64_t start, int64_t idle_start)
{
	int64_t end = now_ms(), idle_ms = boot_idle_ms();
	char line[512], idle[48] = "";

	for (unsigned s = 0; s < BOOT_STEPS; s++) {
		int64_t ms = duration(table, s, start);
		if (ms >= 0)
			log_debug("boot: %s %lld ms", step_names[s], (long long)ms);
	}
	/* The kernel lets one open of /dev/kmsg write 10 lines in 5 s. */
	log_renew_kmsg();
	boot_steps_format(line, sizeof(line), start, end);
	if (idle_start >= 0 && idle_ms >= idle_start)
		snprintf(idle, sizeof(idle), ", CPU idle %lld ms",
			 (long long)(idle_ms - idle_start));
	log_info("boot: %s %s (at %lld.%03lld s%s)", what, line, (long long)(end / 1000),
		 (long long)(end % 1000), idle);
}
