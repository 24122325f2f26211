/* SPDX-License-Identifier: MIT */
/* boot: PID 1 mode (also what /init runs); attach: log in and serve the
 * LUN as a block device in the foreground. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "pivot.h"

int cmd_boot(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: iscsiroot boot\n"
		       "PID 1 mode, as /init of an initramfs: reads the kernel command line\n"
		       "(ip=, BOOTIF=, root=, rootfstype=, rootflags=, ro/rw, init=,\n"
		       "netroot=iscsi:..., root=iscsi:..., rd.iscsi.initiator=, iscsiroot.debug,\n"
		       "iscsiroot.shell=1, iscsiroot.timeout=, iscsiroot.replacement_timeout=,\n"
		       "iscsiroot.blockdev=nbd), brings up the network, logs in, attaches the\n"
		       "LUN as a block device, mounts the root filesystem and execs init.\n"
		       "It does not return; on failure it says why and retries, or starts\n"
		       "/bin/sh with iscsiroot.shell=1.\n");
		return 0;
	}
	return pivot_boot(argc, argv);
}

static const char up_help[] =
	"usage: iscsiroot up [--conf FILE] [--param-conf FILE]\n"
	"What initramfs-tools' local-top script runs: reads FILE (default\n"
	"/etc/iscsi.initramfs, ISCSI_* variables; missing is fine), then the kernel\n"
	"command line (every dialect: ISCSI_*/iscsi_*, root=iscsi:, netroot=,\n"
	"rd.iscsi.*, ip=, BOOTIF=), then the firmware's iBFT; loads nbd and the NIC\n"
	"drivers, brings up the network, logs in, starts the root-storage daemon\n"
	"and prints the disk (e.g. /dev/nbd0). With --param-conf, appends\n"
	"ROOT=<partition> to FILE when root= was empty, root=dhcp or iscsi:...\n"
	"exit codes: 0 ready, 1 failure (one line on stderr), 2 invalid arguments,\n"
	"  6 no iSCSI root configured (nothing done)\n";

int cmd_up(int argc, char **argv)
{
	static const struct option options[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "param-conf", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *conf = "/etc/iscsi.initramfs", *param_conf = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'c')
			conf = optarg;
		else if (c == 'P')
			param_conf = optarg;
		else if (c == 'h') {
			fputs(up_help, stdout);
			return 0;
		} else {
			fprintf(stderr, "try 'iscsiroot up --help'\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iscsiroot up: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	return pivot_up(conf, param_conf, argv);
}

/* Not listed: PID 1 mode starts it as "daemon FD [STEPS_FD]", with a
 * socket to report on and the boot's trace points (util/steps.c). */
int cmd_daemon(int argc, char **argv)
{
	uint64_t fd;
	int r;

	if (argc > 2 && parse_u64(argv[2], 3, 1024, &fd) == 0 &&
	    (r = boot_steps_attach((int)fd)) < 0)
		log_debug("the boot steps are not shared: %s", strerror(-r));
	return pivot_daemon_main(argc, argv);
}

static const struct option attach_options[] = { CLI_COMMON_LONG, { 0 } };

static const char attach_help[] =
	"usage: iscsiroot attach [OPTIONS] --portal HOST --target IQN [--lun N]\n"
	"Logs in, attaches the LUN (without --lun the target's first disk LUN)\n"
	"as /dev/nbdN (the nbd module must be loaded) and serves it in the\n"
	"foreground until killed. Prints the device.\n"
	"\noptions:\n" CLI_COMMON_HELP "\n" CLI_EXIT_CODES_HELP;

int cmd_attach(int argc, char **argv)
{
	struct cli_iscsi c;
	struct serve_options opt = { .queues = 1, .backend = "nbd" };
	struct serve *srv;
	char dev[64], err[512];
	int opt_c, r;

	cli_iscsi_init(&c);
	while ((opt_c = getopt_long(argc, argv, CLI_COMMON_SHORT, attach_options, NULL)) != -1) {
		if (cli_common_option(&c, opt_c, optarg) <= 0) {
			fprintf(stderr, "try 'iscsiroot attach --help'\n");
			return EXIT_USAGE;
		}
	}
	if (c.help) {
		fputs(attach_help, stdout);
		return EXIT_OK;
	}
	if (cli_finish_options(&c, true) < 0)
		return EXIT_USAGE;
	opt.iscsi = c.cfg;
	opt.lun = c.lun;
	secure_zero(&c.cfg, sizeof(c.cfg));
	if (ev_loop_init(&c.loop) < 0)
		return EXIT_IO;
	r = c.lun_given ? 0 : serve_find_lun(&c.loop, &opt, err, sizeof(err));
	if (r == 0)
		r = serve_start(&c.loop, &opt, &srv, dev, sizeof(dev), err, sizeof(err));
	secure_zero(&opt, sizeof(opt));
	if (r < 0) {
		log_err("%s", err);
		return cli_exit_for_errno(r);
	}
	printf("%s\n", dev);
	fflush(stdout);
	/* Serves until killed: only a broken epoll ends this. */
	r = ev_run_until(&c.loop, NULL, NULL, -1);
	log_err("serving %s stopped: the event loop failed: %s", dev, strerror(-r));
	return EXIT_IO;
}
