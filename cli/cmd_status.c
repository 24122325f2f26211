/* SPDX-License-Identifier: MIT */
/* iscsiroot status [--json] [DEVICE]: asks each running daemon (its
 * socket in /run/iscsiroot, rootd/status.c) for its disk and paths. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "rootd.h"

/* How long a daemon has to answer: it answers at once, from its loop. */
#define STATUS_WAIT_MS 5000

static const char status_help[] =
	"usage: iscsiroot status [--json] [DEVICE]\n"
	"Asks the running daemons (as root) for their disk, its identity, the\n"
	"multipath policy, and each path: portal, target, state (active,\n"
	"standby, down, other disk, failed), reconnects and commands given to it.\n"
	"DEVICE (e.g. nbd0 or /dev/ublkb0) asks that disk's daemon only.\n"
	"  --json   one JSON object per daemon, one per line\n"
	"Exit codes: 0 answered, 1 no daemon answered, 2 invalid arguments.\n";

/* Reads the whole answer: text, a NUL, JSON. */
static ssize_t read_answer(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, STATUS_WAIT_MS) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			break;
		got += n > 0 ? (size_t)n : 0;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static int ask(const char *path, bool json)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[16384];
	ssize_t n;
	size_t text;
	int fd, r = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	n = r == 0 ? read_answer(fd, buf, sizeof(buf)) : r;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		log_err("%s: %s", path, n == 0 ? "no answer" : strerror((int)-n));
		return -EIO;
	}
	text = strlen(buf);
	if (text + 1 >= (size_t)n) {
		log_err("%s: a malformed answer", path);
		return -EBADMSG;
	}
	fputs(json ? buf + text + 1 : buf, stdout);
	return 0;
}

/* "nbd0" or "/dev/nbd0" -> the daemon's socket. */
static void socket_of(const char *dev, char *out, size_t len)
{
	const char *base = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;

	snprintf(out, len, "%s/%s.sock", SERVE_STATUS_DIR, base);
}

static int ask_all(bool json)
{
	DIR *d = opendir(SERVE_STATUS_DIR);
	struct dirent *e;
	char path[300];
	int answered = 0, first = 1;

	while (d && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n < 6 || strcmp(e->d_name + n - 5, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", SERVE_STATUS_DIR, e->d_name);
		if (!json && !first)
			putchar('\n');
		first = 0;
		answered += ask(path, json) == 0;
	}
	if (d)
		closedir(d);
	if (!answered)
		log_err("no iscsiroot daemon answered (nothing in %s)", SERVE_STATUS_DIR);
	return answered ? EXIT_OK : EXIT_IO;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char path[300];
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			cli_print_help(stdout, status_help);
			return EXIT_OK;
		} else {
			cli_print_help(stderr, status_help);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		cli_print_help(stderr, status_help);
		return EXIT_USAGE;
	}
	if (optind == argc)
		return ask_all(json);
	socket_of(argv[optind], path, sizeof(path));
	return ask(path, json) == 0 ? EXIT_OK : EXIT_IO;
}
