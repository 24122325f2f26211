/* SPDX-License-Identifier: MIT */
/* Boot trace points: durations counted from the step before, a step
 * with its own begin, the summary line, and the table shared with a
 * child process through the memfd. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "util.h"

static void test_durations(void)
{
	char line[256];

	boot_steps_clear(0, BOOT_STEPS - 1);
	CHECK_EQ(boot_step_ms(BOOT_STEP_DHCP, 1000), -1);
	boot_step_end(BOOT_STEP_MODULES, 1100);
	boot_step_end(BOOT_STEP_LINK, 1250);      /* no "daemon": from modules */
	boot_step_end(BOOT_STEP_DHCP, 1662);
	boot_step_end(BOOT_STEP_LOGIN, 1732);
	CHECK_EQ(boot_step_ms(BOOT_STEP_MODULES, 1000), 100);
	CHECK_EQ(boot_step_ms(BOOT_STEP_DAEMON, 1000), -1);
	CHECK_EQ(boot_step_ms(BOOT_STEP_LINK, 1000), 150);
	CHECK_EQ(boot_step_ms(BOOT_STEP_DHCP, 1000), 412);
	CHECK_EQ(boot_step_ms(BOOT_STEP_LOGIN, 1000), 70);
	/* a step beside the others counts from its own begin */
	boot_step_begin(BOOT_STEP_FSMODULE, 1200);
	boot_step_end(BOOT_STEP_FSMODULE, 1380);
	CHECK_EQ(boot_step_ms(BOOT_STEP_FSMODULE, 1000), 180);
	boot_step_end(BOOT_STEP_MOUNT, 1800);
	/* after login's end, the latest: not fs-module's, which ran beside */
	CHECK_EQ(boot_step_ms(BOOT_STEP_MOUNT, 1000), 68);
	boot_steps_format(line, sizeof(line), 1000, 1900);
	CHECK_STR(line, "900 ms: modules 100, link 150, dhcp 412, login 70, "
		  "fs-module 180, mount 68");
	/* cut short, still terminated */
	CHECK_EQ(boot_steps_format(line, 12, 1000, 1900), 11);
	CHECK_STR(line, "900 ms: mod");
	boot_steps_clear(BOOT_STEP_DAEMON, BOOT_STEP_BLOCKDEV);
	CHECK_EQ(boot_step_ms(BOOT_STEP_DHCP, 1000), -1);
	CHECK_EQ(boot_step_ms(BOOT_STEP_MODULES, 1000), 100);
	CHECK_STR(boot_step_name(BOOT_STEP_SWITCH), "switch_root");
}

/* A child that execs attaches the fd; one that only forks shares the
 * mapping. Either way PID 1 reads what the child recorded. */
static int run_child(int fd, bool attach)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		if (attach && boot_steps_attach(dup(fd)) < 0)
			_exit(1);
		boot_step_end(attach ? BOOT_STEP_PROBE : BOOT_STEP_BLOCKDEV, 1900);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_shared(void)
{
	int fd = boot_steps_share(), pipefd[2];

	CHECK(fd >= 0);
	CHECK_EQ(boot_steps_share(), fd);          /* once */
	CHECK_EQ(boot_step_ms(BOOT_STEP_MODULES, 1000), 100);  /* kept */
	CHECK_EQ(run_child(fd, true), 0);          /* as the exec'd daemon does */
	CHECK_EQ(boot_step_ms(BOOT_STEP_PROBE, 1000), 800);
	CHECK_EQ(run_child(fd, false), 0);         /* a daemon run in place */
	CHECK_EQ(boot_step_ms(BOOT_STEP_BLOCKDEV, 1000), 0);   /* ended with probe */
	/* not a table: refused, and the fd is closed either way */
	CHECK_EQ(pipe(pipefd), 0);
	CHECK(boot_steps_attach(pipefd[0]) < 0);
	CHECK(close(pipefd[0]) < 0);
	close(pipefd[1]);
}

static void test_idle(void)
{
	CHECK_EQ(boot_idle_parse("2.43 1.87"), 1870);
	CHECK_EQ(boot_idle_parse("12345.67 23456.7"), 23456700);
	CHECK_EQ(boot_idle_parse("1.00 5"), 5000);
	CHECK_EQ(boot_idle_parse("1.00"), -1);
	CHECK_EQ(boot_idle_parse("1.00 x"), -1);
	CHECK_EQ(boot_idle_parse("1.00 2.5z"), -1);
	CHECK_EQ(boot_idle_parse("1 99999999999999999999"), -1);
	CHECK(boot_idle_ms() >= 0);
}

int main(void)
{
	test_idle();
	test_durations();
	test_shared();
	return test_report("test-steps");
}
