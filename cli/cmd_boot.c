/* SPDX-License-Identifier: MIT */
/* boot: PID 1 mode (also what /init runs); attach: log in and serve the
 * LUN as a block device in the foreground. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "pivot.h"
#include "rootd.h"

int cmd_boot(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: iscsiroot boot\n"
		       "PID 1 mode, as /init of an initramfs: reads the kernel command line in\n"
		       "every dialect (ip=, BOOTIF=, root=, rootfstype=, rootflags=, ro/rw,\n"
		       "init=, root=iscsi:, netroot=iscsi:, rd.iscsi.*, iscsi_*, iscsiroot.*),\n"
		       "/etc/iscsi.initramfs and the firmware's iBFT, brings up the network,\n"
		       "logs in, attaches the LUN as a block device (ublk or NBD), mounts the\n"
		       "root filesystem and execs init.\n"
		       "Every root=/netroot=iscsi: (in the order written), every address\n"
		       "of iscsi_target_ip=/rd.iscsi.target.ip=, every iBFT boot target\n"
		       "(each through its own NIC) is a path to the disk, the same one\n"
		       "given twice is one, at most 4 (more: a warning each, left out);\n"
		       "all log in at once, the first that answers serves (iscsiroot(8)).\n"
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
	"drivers, brings up the network, logs in (every path the sources give,\n"
	"up to 4, all at once), starts the root-storage daemon\n"
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
			cli_print_help(stdout, up_help);
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
	return rootd_main(argc, argv);
}

enum { OPT_MULTIPATH = OPT_COMMAND_SPECIFIC };
static const struct option attach_options[] = {
	{ "multipath", required_argument, NULL, OPT_MULTIPATH },
	{ 0 },
};

static const char attach_help[] =
	"usage: iscsiroot attach [OPTIONS] --portal HOST --target IQN [--lun N]\n"
	"Logs in, attaches the LUN (without --lun the target's first disk LUN)\n"
	"as /dev/nbdN (the nbd module must be loaded) and serves it in the\n"
	"foreground until killed. Prints the device. With several --portal, all\n"
	"log in at once: the first that answers is probed and serves, the others\n"
	"carry I/O once their LUN shows the same disk (multipath), and are\n"
	"retried for as long as it runs.\n"
	"  --multipath POLICY   failover (one path at a time, the default) or\n"
	"                       round-robin (commands spread over every path)\n"
	"\noptions:\n" CLI_COMMON_HELP "\n" CLI_EXIT_CODES_HELP;

/* One serve_start over every portal: each a path to the disk. */
static int attach_all(struct cli_iscsi *c, enum iscsi_mpath_policy policy,
		      struct serve **srv, char *dev, size_t devlen)
{
	struct serve_options *opt = calloc(1, sizeof(*opt));
	char err[512];
	int r;

	if (!opt)
		return -ENOMEM;
	*opt = (struct serve_options){ .queues = 1, .backend = "nbd", .policy = policy,
				       .lun = c->lun_given ? c->lun : BOOT_LUN_ANY };
	for (unsigned i = 0; i < c->nportals; i++) {
		struct iscsi_config *cfg = i ? &opt->more[opt->nmore++] : &opt->iscsi;

		*cfg = c->cfg;
		snprintf(cfg->host, sizeof(cfg->host), "%s", c->portals[i].host);
		cfg->port = c->portals[i].port;
	}
	r = serve_start(&c->loop, opt, srv, dev, devlen, err, sizeof(err));
	if (r < 0)
		log_err("%s", err);
	secure_zero(opt, sizeof(*opt));
	free(opt);
	secure_zero(&c->cfg, sizeof(c->cfg));
	return r;
}

/* --multipath failover|round-robin */
static int multipath_option(void *ctx, int opt, const char *arg)
{
	return opt == OPT_MULTIPATH ? iscsi_mpath_parse_policy(arg, ctx) : -EINVAL;
}

int cmd_attach(int argc, char **argv)
{
	struct cli_iscsi c;
	struct serve *srv;
	char dev[64];
	enum iscsi_mpath_policy policy = ISCSI_MPATH_FAILOVER;
	int r;

	cli_iscsi_init(&c);
	if (cli_parse_options(argc, argv, &c, attach_options, multipath_option, &policy) < 0) {
		fprintf(stderr, "try 'iscsiroot attach --help'\n");
		return EXIT_USAGE;
	}
	if (c.help) {
		cli_print_help(stdout, attach_help);
		return EXIT_OK;
	}
	if (cli_finish_options(&c, true) < 0)
		return EXIT_USAGE;
	if (ev_loop_init(&c.loop) < 0)
		return EXIT_IO;
	r = attach_all(&c, policy, &srv, dev, sizeof(dev));
	if (r < 0)
		return cli_exit_for_errno(r);
	printf("%s\n", dev);
	fflush(stdout);
	/* Serves until killed: only a broken epoll ends this. */
	r = ev_run_until(&c.loop, NULL, NULL, -1);
	log_err("serving %s stopped: the event loop failed: %s", dev, strerror(-r));
	return EXIT_IO;
}
