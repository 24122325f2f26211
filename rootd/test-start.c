/* SPDX-License-Identifier: MIT */
/*
 * The starter's side of the daemon (start.c): reading its report with the
 * caller's deadline and each path's limit, over a real socketpair with a
 * child process writing the lines as the daemon does; each path's limit
 * from the node settings; and the secrets kept out of a daemon's argv and
 * environment.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "test.h"

extern char **environ;

struct step {
	int delay_ms;           /* before writing text */
	const char *text;       /* NULL: stay silent (and keep the socket) */
};

/* A stand-in for the daemon: writes the steps' text on its end of a
 * socketpair, then stays until killed, or closes when close_after. */
static pid_t fake_daemon(const struct step *steps, size_t n, bool close_after, int *fd)
{
	int fds[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		for (size_t i = 0; i < n; i++) {
			usleep((useconds_t)steps[i].delay_ms * 1000);
			if (steps[i].text && write_full(fds[1], steps[i].text,
							strlen(steps[i].text)) < 0)
				_exit(1);
		}
		if (!close_after)
			pause();
		_exit(0);
	}
	close(fds[1]);
	*fd = fds[0];
	return pid;
}

/* Runs the wait against the steps; its result, the time it took in *ms. */
static int wait_for(const struct step *steps, size_t n, bool close_after,
		    struct daemon_wait *w, int64_t *ms)
{
	int fd = -1, r;
	int64_t start = now_ms();
	pid_t pid = fake_daemon(steps, n, close_after, &fd);

	if (pid < 0)
		return -ECHILD;
	r = daemon_wait_report(fd, w);
	*ms = now_ms() - start;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	return r;
}

static void test_ready_after_progress(void)
{
	/* Lines split across writes, and the last one after the path lines. */
	const struct step steps[] = {
		{ 0, "path 0 10.0.0.1\npa" }, { 20, "th 1 10.0.0.2\nlog" },
		{ 20, "in 1\nready /dev/nbd0 " }, { 20, "0001000000000000\n" },
	};
	struct daemon_wait w;
	int64_t ms;

	daemon_wait_init(&w, now_ms() + 5000, 2000, 2000);
	CHECK_EQ(wait_for(steps, ARRAY_SIZE(steps), false, &w, &ms), 0);
	CHECK_STR(w.line, "ready /dev/nbd0 0001000000000000");
	CHECK_EQ(w.path, 1);
	CHECK_STR(w.host, "10.0.0.2");
	CHECK(w.logged_in);
}

static void test_login_on_an_earlier_path(void)
{
	/* Every path starts at once; path 0 answers first. */
	const struct step steps[] = {
		{ 0, "path 0 a\npath 1 b\npath 2 c\n" }, { 20, "login 0\n" }, { 0, NULL },
	};
	struct daemon_wait w;
	int64_t ms;

	daemon_wait_init(&w, -1, 10000, 200);
	CHECK_EQ(wait_for(steps, ARRAY_SIZE(steps), false, &w, &ms), -ETIMEDOUT);
	CHECK_EQ(w.path, 0);
	CHECK_STR(w.host, "a");
	CHECK(w.logged_in);
	CHECK(ms < 2000);               /* the answer limit, not the path's */
}

static void test_path_limit(void)
{
	/* Path 0 moves on in time; path 1 never logs in. */
	const struct step steps[] = {
		{ 0, "path 0 a\n" }, { 150, "path 1 b\n" }, { 0, NULL },
	};
	struct daemon_wait w;
	int64_t ms;

	daemon_wait_init(&w, -1, 300, 10000);
	CHECK_EQ(wait_for(steps, ARRAY_SIZE(steps), false, &w, &ms), -ETIMEDOUT);
	CHECK_EQ(w.path, 1);
	CHECK_STR(w.host, "b");
	CHECK(!w.logged_in);
	CHECK(ms >= 440 && ms < 2000);  /* 150 ms on path 0, then 300 on path 1 */
}

static void test_answer_limit(void)
{
	/* Logged in, and then the LUN answers nothing: the answer limit runs
	 * from the login, shorter here than what is left of the path's. */
	const struct step steps[] = {
		{ 0, "path 0 a\n" }, { 100, "login 0\n" }, { 0, NULL },
	};
	struct daemon_wait w;
	int64_t ms;

	daemon_wait_init(&w, -1, 10000, 200);
	CHECK_EQ(wait_for(steps, ARRAY_SIZE(steps), false, &w, &ms), -ETIMEDOUT);
	CHECK_EQ(w.path, 0);
	CHECK(w.logged_in);
	CHECK(ms >= 290 && ms < 2000);
}

static void test_deadline_and_end(void)
{
	const struct step silent[] = { { 0, NULL } };
	const struct step ends[] = { { 0, "path 0 a\n" } };
	struct daemon_wait w;
	int64_t ms;

	/* No path line at all (the network never came): the caller's deadline. */
	daemon_wait_init(&w, now_ms() + 200, 50, 50);
	CHECK_EQ(wait_for(silent, ARRAY_SIZE(silent), false, &w, &ms), -ETIMEDOUT);
	CHECK_EQ(w.path, -1);
	CHECK(ms >= 190 && ms < 2000);
	/* The daemon went without its last line. */
	daemon_wait_init(&w, now_ms() + 5000, -1, -1);
	CHECK_EQ(wait_for(ends, ARRAY_SIZE(ends), true, &w, &ms), -EPIPE);
	CHECK(ms < 2000);
}

static void test_path_limit_from_settings(void)
{
	struct boot_config bc;

	boot_config_init(&bc);
	/* 30 s first login, 15 s for an attempt that starts just before its
	 * end, then DAEMON_ANSWER_MS. */
	CHECK_EQ(daemon_path_limit_ms(&bc), 30000 + 15000 + DAEMON_ANSWER_MS);
	snprintf(bc.params[bc.nparams++], sizeof(bc.params[0]),
		 "node.conn[0].timeo.login_timeout=2");
	snprintf(bc.params[bc.nparams++], sizeof(bc.params[0]),
		 "node.session.initial_login_retry_max=3");
	CHECK_EQ(daemon_path_limit_ms(&bc), 6000 + 2000 + DAEMON_ANSWER_MS);
}

static void test_secret_variables(void)
{
	static const char *const secret[] = {
		"ISCSIROOT_CHAP_PASSWORD=x", "ISCSIROOT_CHAP_RPASSWORD=x",
		"ISCSIROOT_CHAP_USER=alice", "iscsi_password=x", "iscsi_in_password=x",
		"ISCSI_PASSWORD=x", "ISCSI_IN_PASSWORD=x",
		"netroot=iscsi:u:p@10.0.0.1::3260:1:iqn.x", "iscsi_param=x",
	};
	static const char *const plain[] = {
		"PATH=/bin", "HOME=/", "iscsi_username=alice", "ISCSI_TARGET_NAME=iqn.x",
		"iscsi_auto", "iscsi_password_hint=x", "TERM=linux", "",
	};

	for (size_t i = 0; i < ARRAY_SIZE(secret); i++)
		CHECK(daemon_env_is_secret(secret[i]));
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		CHECK(!daemon_env_is_secret(plain[i]));
}

static void test_wipe_in_place(void)
{
	/* As the kernel lays them out: argv's strings, then the environment's. */
	static char area[] = "iscsistart\0-w\0sekrit-one\0-i\0iqn.x\0"
			     "PATH=/bin\0ISCSIROOT_CHAP_PASSWORD=sekrit-two\0netroot=iscsi:u:"
			     "sekrit-three@h::::iqn.x\0TERM=linux";
	char *argv[6], *env[5], **saved = environ;
	char *p = area;

	for (int i = 0; i < 5; i++, p += strlen(p) + 1)
		argv[i] = p;
	argv[5] = NULL;
	for (int i = 0; i < 4; i++, p += strlen(p) + 1)
		env[i] = p;
	env[4] = NULL;
	environ = env;
	daemon_wipe_secrets(argv);
	environ = saved;
	CHECK(memmem(area, sizeof(area), "sekrit", 6) == NULL);
	CHECK_STR(argv[0], "iscsistart");
	CHECK_STR(argv[1], "");
	CHECK_STR(env[0], "PATH=/bin");
	CHECK_STR(env[1], "TERM=linux");
	CHECK(env[2] == NULL);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_ready_after_progress();
	test_path_limit();
	test_login_on_an_earlier_path();
	test_answer_limit();
	test_deadline_and_end();
	test_path_limit_from_settings();
	test_secret_variables();
	test_wipe_in_place();
	return test_report("start");
}
