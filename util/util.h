/* SPDX-License-Identifier: MIT */
/*
 * Shared plumbing for every iscsiroot library: big-endian wire helpers,
 * logging, monotonic time and the single epoll event loop.
 */
#ifndef ISCSIROOT_UTIL_H
#define ISCSIROOT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- Big-endian wire access: the only way any file touches wire bytes. */

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* ---- Little-endian access, for the one firmware format that needs it
 * (ACPI tables such as the iBFT). */

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The value of a hex digit, or -1. */
static inline int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- Logging. The level is the one process-wide setting we allow. */

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Also copy every line to this fd (e.g. /dev/kmsg); -1 disables. When
 * stderr is the console, console_level is the kernel's console_loglevel:
 * lines the kernel echoes there anyway are not written twice (0: none). */
void log_set_kmsg_fd(int fd, int console_level);
/* The same for /dev/kmsg, with the level from /proc/sys/kernel/printk. */
void log_use_kmsg(void);
/* When kmsg is in use, opens it again: a fresh rate limit for a line
 * that must not be dropped. */
void log_renew_kmsg(void);
void log_set_prefix(const char *prefix);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                        \
	do {                                                                  \
		if (log_get_level() >= LOG_DEBUG)                             \
			log_msg(LOG_DEBUG, __VA_ARGS__);                      \
	} while (0)

/* ---- Time. Milliseconds of CLOCK_MONOTONIC. */

int64_t now_ms(void);
/* A retry delay spread uniformly over [delay/2, delay]: machines that
 * failed at the same moment (a fleet against one target) do not come
 * back in step, and none waits longer than the backoff says. */
int64_t jitter_ms(int64_t delay);

/* ---- Boot trace points (steps.c). Each step is recorded when it ends,
 * at a time of the loop's clock; its duration runs from the latest end of
 * the steps before it in this list (or the boot's start), unless its own
 * begin was recorded (a step done beside the others). PID 1 prints them
 * all at the end of the boot, the daemon's steps too: the two processes
 * share the table (boot_steps_share, boot_steps_attach). */

enum boot_step {
	BOOT_STEP_MODULES,      /* PID 1: configuration, NIC and iBFT modules */
	BOOT_STEP_DAEMON,       /* fork and exec of the daemon, up to its network */
	BOOT_STEP_LINK,         /* links set up, until one has carrier */
	BOOT_STEP_DHCP,         /* DHCP (or ip=) until the address is set */
	BOOT_STEP_LOGIN,        /* TCP connect and the iSCSI login */
	BOOT_STEP_PROBE,        /* the LUN's TEST UNIT READY, INQUIRY, capacity... */
	BOOT_STEP_BLOCKDEV,     /* the block device set up (NBD or ublk) */
	BOOT_STEP_PARTITIONS,   /* PID 1: the kernel's partitions of the disk */
	BOOT_STEP_ROOT,         /* root= resolved: partition table, superblocks */
	BOOT_STEP_FSMODULE,     /* the root filesystem's module */
	BOOT_STEP_MOUNT,        /* the root mounted */
	BOOT_STEP_SWITCH,       /* the API filesystems moved, the initramfs emptied */
	BOOT_STEPS
};

const char *boot_step_name(enum boot_step s);
void boot_step_begin(enum boot_step s, int64_t now);
void boot_step_end(enum boot_step s, int64_t now);
/* Forgets the steps first..last (a daemon started again). */
void boot_steps_clear(enum boot_step first, enum boot_step last);
/* Moves the table into a memfd (once; what was recorded is kept) and
 * returns its fd (close-on-exec), for a child that execs to attach. */
int boot_steps_share(void);
/* In that child: maps the table from fd, then closes fd. */
int boot_steps_attach(int fd);
/* A step's duration in ms, counted as above; -1 when it did not end. */
int64_t boot_step_ms(enum boot_step s, int64_t start);
/* "1034 ms: modules 120, daemon 80, ..." (the steps that ended), into
 * out; returns its length. */
size_t boot_steps_format(char *out, size_t len, int64_t start, int64_t end);
/* The one place the steps are printed: with debug logging a line per
 * step ("boot: dhcp 412 ms"), and always one summary line,
 * "boot: WHAT 1034 ms: modules 120, ... (at 2.699 s, CPU idle 80 ms)",
 * from start (now_ms()) to now; the idle time since idle_start (what
 * boot_idle_ms() read at start; -1 leaves it out). */
void boot_steps_log(const char *what, int64_t start, int64_t idle_start);
/* The CPUs' idle time since boot, summed (/proc/uptime's second number),
 * in ms; -1 when unknown. boot_idle_parse reads it from the file's text. */
int64_t boot_idle_ms(void);
int64_t boot_idle_parse(const char *uptime);

/* ---- Strict number parsing for anything a peer or a user wrote. */

/* Parses all of s as an unsigned decimal number in [min, max]. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Reads a small file (sysfs, procfs) into buf, NUL-terminated, cutting
 * at the first newline. */
int read_text_file(const char *path, char *buf, size_t len);
/* "10.0.0.1:3260", "[fd00::1]:3260": a host with a ':' (IPv6) in
 * brackets (RFC 3986), as every log and status line writes a portal. */
#define HOST_PORT_LEN 272
const char *host_port(char buf[HOST_PORT_LEN], const char *host, unsigned port);
/* Shell-style wildcards as modules.alias uses them: '*', '?', and
 * '[...]' with ranges and '!' or '^' negation; bytes, no locale, no
 * escapes (fnmatch with flags 0 on ASCII). */
bool wildcard_match(const char *pattern, const char *s);

/* O_NONBLOCK on, keeping the other file status flags. */
int set_nonblocking(int fd);
/* Blocking I/O until len bytes are done, across EINTR and short counts.
 * read_full stops early only at EOF: returns the bytes read or -errno.
 * write_full returns 0 or -errno (-EPIPE when nothing more is taken). */
ssize_t read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);

/* Constant-time comparison, for secrets. Returns 0 when equal. */
int ct_memcmp(const void *a, const void *b, size_t len);

/* Overwrites memory in a way the compiler may not drop. */
void secure_zero(void *p, size_t len);

/* ---- Event loop (epoll). Sources are caller-owned and intrusively linked.
 *
 * A source has an optional fd with wanted events and an optional deadline.
 * The loop never allocates: a subsystem embeds its struct ev_source. */

struct ev_loop;

struct ev_source {
	int fd;                 /* -1 when the source is a timer only */
	uint32_t events;        /* EPOLLIN/EPOLLOUT currently registered */
	int64_t deadline;       /* now_ms() value, or -1 for none */
	void (*on_io)(struct ev_source *src, uint32_t revents);
	void (*on_timer)(struct ev_source *src);
	void *ctx;
	/* private to the loop */
	struct ev_source *next;
	struct ev_loop *loop;
	bool fd_registered;
};

struct ev_loop {
	int epfd;
	struct ev_source *sources;
	/* sources with events still to dispatch in this round; ev_del()
	 * clears its entry so a removed source is never called back */
	struct ev_source *pending[32];
	int npending;
	/* The loop's time: now_ms() unless a test hands it another clock
	 * (ev_set_clock), which then drives every timer of the loop and of
	 * whatever reads ev_now(). */
	int64_t (*clock)(void *ctx);
	void *clock_ctx;
};

int ev_loop_init(struct ev_loop *loop);
void ev_set_clock(struct ev_loop *loop, int64_t (*clock)(void *ctx), void *ctx);
/* The loop's time in ms (deadlines are in it). */
int64_t ev_now(const struct ev_loop *loop);
void ev_loop_close(struct ev_loop *loop);
/* Links src into the loop; registers src->fd when it is >= 0. */
int ev_add(struct ev_loop *loop, struct ev_source *src);
void ev_del(struct ev_source *src);
/* Changes the epoll interest of a source whose fd is registered. */
int ev_set_events(struct ev_source *src, uint32_t events);
/* Replaces src->fd (closing nothing) and registers it with events. */
int ev_set_fd(struct ev_source *src, int fd, uint32_t events);
/* Waits at most max_wait_ms (or until the next deadline) and dispatches.
 * Returns the number of events handled, or a negative errno. */
int ev_run_once(struct ev_loop *loop, int max_wait_ms);
/* Runs the loop until done(ctx) is true, asked before every round (so not
 * one round runs when it already is). Returns 0 then; -ETIMEDOUT once the
 * loop's clock (ev_now) reaches deadline_ms (-1: none); or the negative
 * errno of a round that failed (epoll): never 0 unless done. A NULL done
 * is never true: a serving loop, which ends only on a failure. */
int ev_run_until(struct ev_loop *loop, bool (*done)(void *ctx), void *ctx,
		 int64_t deadline_ms);
/* The done() for the common case of a bool a callback sets: ctx is its
 * address. */
bool ev_flag_done(void *flag);

#endif
