/* SPDX-License-Identifier: MIT */
/*
 * What a wake-up costs on this CPU, as the guest's /init (bench/vm-switch.sh):
 * the price of a ublk round trip at QD1, where every request passes from
 * the submitting process to the daemon and back, against the kernel
 * initiator, which never leaves the submitter's address space.
 *
 * Four ping-pongs over two pipes, each side touching PAGES pages of its
 * own memory per wake (a working set, as a real daemon has one):
 *   - between two threads (one address space: no TLB flush);
 *   - between two processes (another address space at every switch).
 * Plus a null system call for scale. Prints one line per case, µs per
 * one-way hand-over, then powers the machine off when it is PID 1.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

struct side {
	int in, out;
	unsigned rounds, pages;
	volatile uint8_t *mem;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void touch(struct side *s)
{
	for (unsigned p = 0; p < s->pages; p++)
		s->mem[(size_t)p * PAGE]++;
}

/* Waits for a byte, touches the working set, passes the byte on. */
static void *echo(void *arg)
{
	struct side *s = arg;
	char b;

	for (unsigned i = 0; i < s->rounds; i++) {
		if (read(s->in, &b, 1) != 1)
			break;
		touch(s);
		if (write(s->out, &b, 1) != 1)
			break;
	}
	return NULL;
}

static volatile uint8_t *working_set(unsigned pages)
{
	void *m = mmap(NULL, (size_t)(pages + 1) * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (m == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return m;
}

/* Microseconds per one-way hand-over between the two sides. */
static double ping_pong(bool threads, unsigned rounds, unsigned pages)
{
	int ab[2], ba[2];
	struct side far, near;
	pthread_t t;
	pid_t pid = -1;
	double t0, t1;

	if (pipe(ab) < 0 || pipe(ba) < 0) {
		perror("pipe");
		exit(1);
	}
	far = (struct side){ ab[0], ba[1], rounds, pages, working_set(pages) };
	near = (struct side){ ba[0], ab[1], rounds, pages, working_set(pages) };
	if (threads) {
		if (pthread_create(&t, NULL, echo, &far) != 0)
			exit(1);
	} else {
		pid = fork();
		if (pid == 0) {
			echo(&far);
			_exit(0);
		}
	}
	t0 = now_us();
	for (unsigned i = 0; i < rounds; i++) {
		char b = 'x';
		if (write(near.out, &b, 1) != 1 || read(near.in, &b, 1) != 1)
			break;
		touch(&near);
	}
	t1 = now_us();
	if (threads)
		pthread_join(t, NULL);
	else
		waitpid(pid, NULL, 0);
	close(ab[0]), close(ab[1]), close(ba[0]), close(ba[1]);
	return (t1 - t0) / (2.0 * rounds);
}

static double null_syscall(unsigned n)
{
	double t0 = now_us();

	for (unsigned i = 0; i < n; i++)
		syscall(SYS_getppid);
	return (now_us() - t0) / n;
}

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 0;
	static const unsigned sets[] = { 0, 16, 64, 256 };

	if (rounds == 0)
		rounds = 2000;

	printf("SWITCH-COST: null syscall %.2f us\n", null_syscall(rounds * 10));
	for (unsigned i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		double th = ping_pong(true, rounds, sets[i]);
		double pr = ping_pong(false, rounds, sets[i]);
		printf("SWITCH-COST: pages=%u threads %.1f us processes %.1f us ratio %.2f\n",
		       sets[i], th, pr, pr / th);
	}
	printf("SWITCH-COST: done\n");
	fflush(stdout);
	if (getpid() == 1) {
		sync();
		reboot(RB_POWER_OFF);
	}
	return 0;
}
