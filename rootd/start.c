/* SPDX-License-Identifier: MIT */
/*
 * Starting the root-storage daemon (daemon.c), the same in every mode:
 * fork, re-execute this binary from a memfd (in place when that fails),
 * hand it the configuration, and wait for its report with two limits —
 * the caller's deadline, and one per path, so that a LUN that logs in
 * and then answers nothing costs that path's time, not the boot. A daemon
 * that misses one is stopped (it is its own process group) before the
 * caller tries again, so there is never a second daemon beside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

extern char **environ;

#define WAIT_REPORT_S 30        /* a line while waiting, this often */
#define CHAP_ENV_PREFIX "ISCSIROOT_CHAP_"

/* ---- Secrets: never in a daemon's argv or environment */

bool daemon_env_is_secret(const char *entry)
{
	char name[64];
	size_t n = strcspn(entry, "=");

	if (!strncmp(entry, CHAP_ENV_PREFIX, strlen(CHAP_ENV_PREFIX)))
		return true;
	if (n >= sizeof(name))
		return false;
	memcpy(name, entry, n);
	name[n] = '\0';
	return boot_config_key_is_secret(name);
}

/* environ without its secret entries, for the daemon's execve: a new
 * array of the same strings. NULL when out of memory. */
static char **clean_environment(void)
{
	size_t n = 0, kept = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 1, sizeof(*env));
	for (size_t i = 0; env && i < n; i++)
		if (!daemon_env_is_secret(environ[i]))
			env[kept++] = environ[i];
	return env;
}

void daemon_wipe_secrets(char **argv)
{
	size_t kept = 0;

	for (int i = 1; argv && argv[0] && argv[i]; i++)
		secure_zero(argv[i], strlen(argv[i]));
	for (size_t i = 0; environ && environ[i]; i++) {
		char *eq = strchr(environ[i], '=');
		if (!daemon_env_is_secret(environ[i]))
			environ[kept++] = environ[i];
		else if (eq)
			secure_zero(eq + 1, strlen(eq + 1));
	}
	if (environ)
		environ[kept] = NULL;
}

/* ---- Running it */

/* The boot's trace points (util/steps.c) go on in the daemon: its table
 * comes as argv[3], or stays out of argv when there is none. */
static void pass_steps(char *arg, size_t len, char **args)
{
	int fd = boot_steps_share();

	if (fd >= 0 && fcntl(fd, F_SETFD, 0) == 0)
		snprintf(arg, len, "%d", fd);
	else
		args[3] = NULL;
}

/* Returns only when it could not: a system without /proc, or one whose
 * memfds may not be executed (vm.memfd_noexec). */
static void exec_daemon_from_memory(int fd)
{
	char fdarg[16], stepsarg[16];
	char *args[] = { (char *)"@iscsiroot", (char *)"daemon", fdarg, stepsarg, NULL };
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int mfd = memfd_create("iscsiroot", MFD_CLOEXEC);
	char buf[65536], **env = clean_environment();
	ssize_t n = -1;

	if (src >= 0 && mfd >= 0)
		while ((n = read(src, buf, sizeof(buf))) > 0)
			if (write(mfd, buf, (size_t)n) != n) {
				n = -1;
				break;
			}
	if (src >= 0)
		close(src);
	if (n == 0 && env && fcntl(fd, F_SETFD, 0) == 0) {
		snprintf(fdarg, sizeof(fdarg), "%d", fd);
		pass_steps(stepsarg, sizeof(stepsarg), args);
		fexecve(mfd, args, env);
	}
	log_debug("running the daemon in place: %s", strerror(errno));
	free(env);
	if (mfd >= 0)
		close(mfd);
}

/* The daemon is a process group of its own (it calls setsid() first):
 * this ends the keeper and its worker. SIGKILL, since it ignores TERM. */
static void stop_daemon(pid_t pid)
{
	if (kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);     /* so early that it has no group yet */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ---- Waiting for its report */

void daemon_wait_init(struct daemon_wait *w, int64_t deadline_ms, int64_t path_limit_ms,
		      int64_t answer_limit_ms)
{
	memset(w, 0, sizeof(*w));
	w->deadline_ms = deadline_ms;
	w->path_limit_ms = path_limit_ms;
	w->answer_limit_ms = answer_limit_ms;
	w->path_deadline_ms = -1;
	w->path = -1;
}

static void path_started(struct daemon_wait *w, unsigned index, const char *host)
{
	w->path = (int)index;
	w->logged_in = false;
	snprintf(w->host, sizeof(w->host), "%s", host);
	snprintf(w->hosts[index], sizeof(w->hosts[index]), "%s", host);
	w->path_deadline_ms = w->path_limit_ms >= 0 ? now_ms() + w->path_limit_ms : -1;
}

/* From the login on, the LUN has answer_limit_ms to answer. The path
 * that logged in is the one in question, whichever started last. */
static void path_logged_in(struct daemon_wait *w, unsigned index)
{
	if (!w->hosts[index][0])
		return;
	w->path = (int)index;
	snprintf(w->host, sizeof(w->host), "%s", w->hosts[index]);
	w->logged_in = true;
	w->path_deadline_ms = now_ms() + w->answer_limit_ms;
}

/* "path I HOST" and "login I" move the path's clock; any other line is
 * the last one. */
static bool take_line(struct daemon_wait *w, const char *line)
{
	bool path = !strncmp(line, "path ", 5), login = !strncmp(line, "login ", 6);
	unsigned long index;
	char *end;

	if (!path && !login) {
		snprintf(w->line, sizeof(w->line), "%s", line);
		return true;
	}
	index = strtoul(line + (path ? 5 : 6), &end, 10);
	if (index >= BOOT_MAX_PATHS)
		return false;
	if (path && *end == ' ')
		path_started(w, (unsigned)index, end + 1);
	else if (login && !*end)
		path_logged_in(w, (unsigned)index);
	return false;
}

/* Takes every whole line in w->buf; true once the last one came. */
static bool take_lines(struct daemon_wait *w)
{
	char *nl;

	while ((nl = memchr(w->buf, '\n', w->got)) != NULL) {
		size_t len = (size_t)(nl - w->buf) + 1;
		*nl = '\0';
		if (take_line(w, w->buf))
			return true;
		memmove(w->buf, w->buf + len, w->got - len);
		w->got -= len;
	}
	return false;
}

/* The sooner of the two deadlines; -1 when there is none. */
static int64_t next_deadline(const struct daemon_wait *w)
{
	if (w->deadline_ms < 0)
		return w->path_deadline_ms;
	if (w->path_deadline_ms < 0)
		return w->deadline_ms;
	return MIN(w->deadline_ms, w->path_deadline_ms);
}

/* Reads what is there; 1: the last line came, 0: more to wait for. */
static int read_report(int fd, struct daemon_wait *w)
{
	ssize_t n;

	if (w->got >= sizeof(w->buf) - 1)
		return -EMSGSIZE;
	n = read(fd, w->buf + w->got, sizeof(w->buf) - 1 - w->got);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	w->got += (size_t)n;
	return take_lines(w) ? 1 : 0;
}

static void say_waiting(const struct daemon_wait *w, int64_t s)
{
	if (w->path < 0)
		log_info("still waiting for the network (%lld s)", (long long)s);
	else if (!w->logged_in)
		log_info("still waiting for a login to the target at %s (%lld s)", w->host,
			 (long long)s);
	else
		log_info("still waiting for the LUN at %s to answer (%lld s)", w->host,
			 (long long)s);
}

int daemon_wait_report(int fd, struct daemon_wait *w)
{
	int64_t start = now_ms(), said = start;

	for (;;) {
		int64_t until = next_deadline(w), now = now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r;

		if (until >= 0 && now >= until)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(until >= 0 ? MIN(until - now, 1000) : 1000));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && (r = read_report(fd, w)) != 0)
			return r < 0 ? r : 0;
		if (now_ms() - said >= WAIT_REPORT_S * 1000) {
			said = now_ms();
			say_waiting(w, (said - start) / 1000);
		}
	}
}

int64_t daemon_path_limit_ms(const struct boot_config *bc)
{
	struct serve_options opt;
	struct dhcpc_rootpath any = { 0 };
	char err[256];
	int64_t limit = -1;

	if (daemon_target_config(bc, bc->npaths ? &bc->paths[0] : &any, &opt, err,
				 sizeof(err)) == 0 &&
	    opt.iscsi.first_login_timeout_ms >= 0)
		limit = (int64_t)opt.iscsi.first_login_timeout_ms + opt.iscsi.login_timeout_ms +
			DAEMON_ANSWER_MS;
	secure_zero(&opt, sizeof(opt));
	return limit;
}

/* ---- Starting it */

/* "ready DEV LUN" */
static void parse_ready(const char *line, struct daemon_start *ds)
{
	const char *sp = strchr(line, ' ');
	size_t n = sp ? (size_t)(sp - line) : strlen(line);

	snprintf(ds->dev, sizeof(ds->dev), "%.*s", (int)n, line);
	ds->lun = sp ? strtoull(sp + 1, NULL, 16) : 0;
}

/* bc with paths[] starting at first: the daemon tries them in order. */
static void rotate_paths(struct boot_config *bc, unsigned first)
{
	struct dhcpc_rootpath paths[BOOT_MAX_PATHS];

	if (bc->npaths < 2 || first % bc->npaths == 0)
		return;
	for (unsigned i = 0; i < bc->npaths; i++)
		paths[i] = bc->paths[(first + i) % bc->npaths];
	memcpy(bc->paths, paths, sizeof(paths[0]) * bc->npaths);
	secure_zero(paths, sizeof(paths));
}

/* Whether the path's own limit ran out (not the caller's deadline). */
static bool path_limit_hit(const struct daemon_wait *w)
{
	return w->path >= 0 && w->path_deadline_ms >= 0 && now_ms() >= w->path_deadline_ms;
}

/* Why the daemon was stopped, one line: where it was stuck. */
static void say_stuck(const struct daemon_wait *w, const char *where, char *msg, size_t len)
{
	bool on_path = path_limit_hit(w);

	if (w->path < 0)
		snprintf(msg, len, "no network or no target in time; stopped the daemon");
	else if (on_path && w->logged_in)
		snprintf(msg, len, "the target at %s logged in but its LUN did not answer "
			 "within %lld s; stopped the daemon", where,
			 (long long)w->answer_limit_ms / 1000);
	else if (on_path)
		snprintf(msg, len, "no login to the target at %s within %lld s; stopped "
			 "the daemon", where, (long long)w->path_limit_ms / 1000);
	else
		snprintf(msg, len, "no disk in time (the target at %s %s); stopped the "
			 "daemon", where, w->logged_in ? "logged in but has not answered"
						     : "has not let it log in");
}

/* After a deadline: the path the daemon was stuck on, the next one to
 * try (ds->first_path) and why, in ds->msg. */
static void timed_out(const struct boot_config *bc, const struct daemon_wait *w,
		      struct daemon_start *ds)
{
	char where[HOST_PORT_LEN], next[HOST_PORT_LEN];
	unsigned stuck;
	size_t n;

	if (w->path < 0 || bc->npaths == 0) {  /* no path yet, or DHCP's root-path */
		say_stuck(w, w->host, ds->msg, sizeof(ds->msg));
		return;
	}
	stuck = (ds->first_path + (unsigned)w->path) % bc->npaths;
	say_stuck(w, host_port(where, bc->paths[stuck].host, bc->paths[stuck].port), ds->msg,
		  sizeof(ds->msg));
	ds->first_path = (stuck + 1) % bc->npaths;
	ds->last_mute = w->logged_in && bc->npaths > 1;
	n = strlen(ds->msg);
	if (bc->npaths > 1 && path_limit_hit(w))
		snprintf(ds->msg + n, sizeof(ds->msg) - n, " (next path: %s)",
			 host_port(next, bc->paths[ds->first_path].host,
				   bc->paths[ds->first_path].port));
}

/* Sends the configuration, does the caller's work of the meantime, and
 * waits; 0 with the last line in w->line. */
static int talk_to_daemon(int fd, const struct boot_config *bc, struct daemon_wait *w,
			  const struct daemon_start *ds)
{
	int r = write_full(fd, bc, sizeof(*bc));

	if (r == 0 && ds->meanwhile)
		ds->meanwhile(ds->meanwhile_ctx);
	return r < 0 ? r : daemon_wait_report(fd, w);
}

/* A daemon that did not report ready: stopped (if it still runs) and
 * reaped; why, in ds->msg. */
static int not_ready(const struct boot_config *bc, pid_t pid, int r,
		     const struct daemon_wait *w, struct daemon_start *ds)
{
	if (r == 0) {           /* it said why, and ends by itself */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		snprintf(ds->msg, sizeof(ds->msg), "%s",
			 strchr(w->line, ' ') ? strchr(w->line, ' ') + 1 : w->line);
		return !strncmp(w->line, "fatal", 5) ? -EACCES : -EAGAIN;
	}
	stop_daemon(pid);
	if (r == -ETIMEDOUT) {
		timed_out(bc, w, ds);
		return r;
	}
	if (r == -EPIPE || r == -ECONNRESET)
		snprintf(ds->msg, sizeof(ds->msg), "the daemon exited without a word");
	else
		snprintf(ds->msg, sizeof(ds->msg), "waiting for the daemon failed: %s",
			 strerror(-r));
	return -EAGAIN;
}

/* The child: the daemon, from memory or in place. */
static void become_daemon(const struct boot_config *bc, int fd, char **argv)
{
	exec_daemon_from_memory(fd);
	/* In place: the configuration is already here; the caller's argv and
	 * environment may hold secrets (iscsistart -w). */
	daemon_wipe_secrets(argv);
	daemon_run(bc, fd, argv);
}

/* Forks the daemon; its PID, with our end of the socketpair in *fd, or a
 * negative errno. */
static pid_t spawn_daemon(const struct boot_config *bc, char **argv, int *fd)
{
	int fds[2], r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	/* Shared before the fork: a daemon run in place keeps the mapping. */
	if (boot_steps_share() < 0)
		log_debug("the daemon's boot steps will not be shown");
	boot_steps_clear(BOOT_STEP_DAEMON, BOOT_STEP_BLOCKDEV);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		become_daemon(bc, fds[1], argv);
	}
	r = -errno;
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return r;
	}
	*fd = fds[0];
	return pid;
}

int rootd_start(const struct boot_config *bc, char **argv, struct daemon_start *ds)
{
	struct boot_config *rotated = malloc(sizeof(*rotated));
	struct daemon_wait w;
	int fd = -1, r = 0;
	pid_t pid;

	if (!rotated) {
		snprintf(ds->msg, sizeof(ds->msg), "cannot start the daemon: out of memory");
		return -EAGAIN;
	}
	*rotated = *bc;
	rotate_paths(rotated, ds->first_path);
	rotated->last_path_mute = ds->last_mute;
	daemon_wait_init(&w, ds->deadline_ms, daemon_path_limit_ms(bc), DAEMON_ANSWER_MS);
	pid = spawn_daemon(rotated, argv, &fd);
	if (pid > 0) {
		r = talk_to_daemon(fd, rotated, &w, ds);
		close(fd);
	}
	secure_zero(rotated, sizeof(*rotated));
	free(rotated);
	if (pid < 0) {
		snprintf(ds->msg, sizeof(ds->msg), "cannot start the daemon: %s",
			 strerror((int)-pid));
		return -EAGAIN;
	}
	/* w.path counts in the rotated list; no line: DHCP's root-path */
	ds->path = bc->npaths && w.path >= 0
		   ? (ds->first_path + (unsigned)w.path) % bc->npaths : 0;
	if (r == 0 && !strncmp(w.line, "ready ", 6)) {
		parse_ready(w.line + 6, ds);
		ds->pid = pid;
		return 0;
	}
	return not_ready(bc, pid, r, &w, ds);
}
