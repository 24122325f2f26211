/* SPDX-License-Identifier: MIT */
/* One-line log messages to stderr and, in PID 1 mode, to /dev/kmsg. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static enum log_level current_level = LOG_INFO;
static int kmsg_fd = -1;
static int kmsg_console_level;
static const char *log_prefix = "iscsiroot";

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }
void log_set_kmsg_fd(int fd, int console_level)
{
	kmsg_fd = fd;
	kmsg_console_level = console_level;
}
void log_use_kmsg(void)
{
	char printk[64];
	int console_level = 0;

	if (read_text_file("/proc/sys/kernel/printk", printk, sizeof(printk)) == 0)
		console_level = atoi(printk);
	/* A new open is a new rate limit (the kernel's is per open file). */
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	log_set_kmsg_fd(open("/dev/kmsg", O_WRONLY | O_CLOEXEC), console_level);
}
void log_renew_kmsg(void)
{
	if (kmsg_fd >= 0)
		log_use_kmsg();
}
void log_set_prefix(const char *prefix) { log_prefix = prefix; }

/* kmsg priorities, see Documentation/ABI/testing/dev-kmsg */
static int kmsg_priority(enum log_level level)
{
	static const int prio[] = { 3, 4, 6, 7 };
	return prio[level];
}

/* One write per message: /dev/kmsg makes a record of every write (an
 * unbuffered dprintf would split one line into several, some empty, and
 * spend the kernel's per-file rate limit on them), and lines of several
 * processes on one console must not interleave. */
static void write_record(int fd, const char *prio, const char *prefix, const char *line)
{
	char rec[1100];
	int n = snprintf(rec, sizeof(rec), "%s%s: %s\n", prio, prefix, line);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(rec)) {
		n = sizeof(rec) - 1;
		rec[n - 1] = '\n';
	}
	if (write(fd, rec, (size_t)n) < 0)
		return;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (kmsg_fd < 0 || kmsg_priority(level) >= kmsg_console_level)
		write_record(2, "", log_prefix, line);
	if (kmsg_fd >= 0) {
		char prio[8];
		snprintf(prio, sizeof(prio), "<%d>", kmsg_priority(level));
		write_record(kmsg_fd, prio, log_prefix, line);
	}
}
