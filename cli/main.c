/* SPDX-License-Identifier: MIT */
/* iscsiroot: dispatch argv[1] to a subcommand. Only wiring lives here. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("iscsiroot %s\n", ISCSIROOT_VERSION);
	return 0;
}

/* One row per subcommand; each file cmd_*.c adds its own. */
static const struct subcommand subcommands[] = {
	{ "bench", cmd_bench, "measure a LUN: IOPS, MiB/s, latency, CPU per I/O" },
	{ "dhcp", cmd_dhcp, "bring the network up: DHCP or ip=, routes, hand-over files" },
	{ "discover", cmd_discover, "list the targets a portal offers (SendTargets)" },
	{ "inquiry", cmd_inquiry, "log in and describe a LUN" },
	{ "read", cmd_read, "copy a LUN or a range of it to stdout" },
	{ "write", cmd_write, "copy stdin to a range of a LUN" },
	{ "boot", cmd_boot, "PID 1 mode: boot from the iSCSI disk (as /init)" },
	{ "up", cmd_up, "initramfs-tools' step: attach the iSCSI root, start the daemon" },
	{ "iscsistart", cmd_iscsistart, "open-iscsi's iscsistart, as a drop-in (also as argv[0])" },
	{ "attach", cmd_attach, "serve a LUN as a local block device (NBD)" },
	{ "status", cmd_status, "ask the running daemons for their disk and paths" },
	{ "version", cmd_version, "print the version" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: iscsiroot COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-10s %s\n", subcommands[i].name,
			subcommands[i].summary);
	fprintf(out, "\n'iscsiroot COMMAND --help' describes each one.\n");
}

/* As /init (or any PID 1), iscsiroot boots: the kernel gives no command. */
static bool pid1_mode(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	return getpid() == 1 || !strcmp(base, "init");
}

static bool called_as(const char *argv0, const char *name)
{
	const char *base = strrchr(argv0, '/');

	return !strcmp(base ? base + 1 : argv0, name);
}

int main(int argc, char **argv)
{
	if (pid1_mode(argv[0]))
		return cmd_boot(argc, argv);
	if (called_as(argv[0], "iscsistart"))
		return cmd_iscsistart(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "daemon"))
		return cmd_daemon(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "iscsiroot: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
