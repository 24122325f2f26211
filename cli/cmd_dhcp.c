/* SPDX-License-Identifier: MIT */
/* iscsiroot dhcp: the network bring-up of dhcpc/ as a subcommand. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "dhcpc.h"

/* Exit codes, also listed in --help and dhcpc/README.md. */
enum {
	EXIT_LEASE_OK = 0,
	EXIT_NO_LEASE = 1,
	EXIT_BAD_ARGS = 2,
	EXIT_NO_LINK = 3,
	EXIT_SYSTEM = 4,
};

static const char dhcp_help[] =
	"usage: iscsiroot dhcp [OPTIONS] [IFACE...]\n"
	"Brings the network up (DHCPv4 or ip=, routes, the hand-over files\n"
	"run/net-IFACE.conf, run/initramfs/open-iscsi.interface, etc/resolv.conf)\n"
	"and prints run/net-IFACE.conf. Interfaces: the IFACEs, else ip='s, else\n"
	"BOOTIF='s, else --mac's, else every Ethernet one (the first lease wins).\n"
	"\n"
	"  --ip=SPEC\tip=, the kernel's or dracut's (again: --each)\n"
	"  --each\tconfigure each interface on its own, all at once\n"
	"  -6\tDHCPv6, as --ip=dhcp6 (also auto6, [v6]:...)\n"
	"  --bootif=MAC\tBOOTIF= (01-aa-bb-...)\n"
	"  --mac=MAC\tuse the interface with this MAC\n"
	"  --ifname=NAME:MAC\tdracut's ifname=: rename the interface with MAC\n"
	"  --vlan=ID\tthe 802.1Q VLAN IFACE.ID (made if need be)\n"
	"  --cmdline=FILE\tread ip=, BOOTIF= and ifname= from FILE\n"
	"  --timeout=T\tgive up without a lease after T (default 60s)\n"
	"  --link-timeout=T\twait for carrier at most T (default 10s)\n"
	"  --retransmit=T\tfirst DHCP retransmission (default 4s, doubling)\n"
	"\tT: seconds, or milliseconds with an ms suffix\n"
	"  --request=ADDR\task for ADDR first (INIT-REBOOT)\n"
	"  --client-id=ID\toption 61: hex aa:bb:.. or text (default 01+MAC)\n"
	"  --vendor-class=S\toption 60\n"
	"  --user-class=S\toption 77, as is (as iPXE sends it)\n"
	"  --broadcast\task the server to broadcast its replies\n"
	"  --root=DIR\twrite the hand-over files below DIR (default /)\n"
	"  --no-files\twrite no hand-over files\n"
	"  --set-hostname\tset the host name from the lease or ip=\n"
	"  --renew\tstay, renewing the lease at T1/T2, until SIGTERM\n"
	"  -v, --verbose\tdebug messages\n"
	"  -h, --help\tthis text\n"
	"\n"
	"exit codes: 0 configured (or ip=off), 1 no lease before the time-out,\n"
	"2 bad arguments, 3 no matching interface or no carrier, 4 other error\n"
	"(--each: the first failed interface's)\n";

/* "5" or "5s" is seconds, "500ms" milliseconds. */
static int parse_time(const char *s, int *ms)
{
	char num[16];
	size_t len = strlen(s);
	uint64_t v, scale = 1000;

	if (len > 2 && !strcmp(s + len - 2, "ms")) {
		len -= 2;
		scale = 1;
	} else if (len > 1 && s[len - 1] == 's') {
		len--;
	}
	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len);
	num[len] = '\0';
	if (parse_u64(num, 0, 86400000 / scale, &v) < 0)
		return -EINVAL;
	*ms = (int)(v * scale);
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* aa:bb:cc... as bytes when it is exactly that, else the text itself. */
static int parse_client_id(const char *s, struct dhcpc_config *cfg)
{
	size_t len = strlen(s), n = 0;
	bool hex = len >= 2 && len % 3 == 2;

	for (size_t i = 0; hex && i < len; i += 3) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
		if (hi < 0 || lo < 0 || (i + 2 < len && s[i + 2] != ':'))
			hex = false;
		else
			cfg->client_id[n++] = (uint8_t)(hi << 4 | lo);
	}
	if (hex) {
		cfg->client_id_len = (uint8_t)n;
		return 0;
	}
	if (len == 0 || len > sizeof(cfg->client_id))
		return -EINVAL;
	memcpy(cfg->client_id, s, len);
	cfg->client_id_len = (uint8_t)len;
	return 0;
}

static int copy_arg(char *dst, size_t cap, const char *s)
{
	if (strlen(s) >= cap)
		return -EINVAL;
	strcpy(dst, s);
	return 0;
}

/* ip=, BOOTIF= and ifname= from a kernel command line; the rest is
 * ignored. */
static int read_cmdline(const char *path, struct dhcpc_config *cfg)
{
	char buf[4096], *save = NULL;
	FILE *f = fopen(path, "re");
	size_t n;
	int r = 0;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *w = strtok_r(buf, " \t\n", &save); w && r == 0;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(w, "ip=", 3))
			r = dhcpc_config_add_ip(cfg, w + 3);
		else if (!strncmp(w, "BOOTIF=", 7)) {
			r = dhcpc_bootif_parse(w + 7, cfg->bootif);
			cfg->have_bootif = r == 0;
		} else if (!strncmp(w, "ifname=", 7)) {
			r = dhcpc_config_add_ifname(cfg, w + 7);
		}
	}
	return r;
}

enum {
	OPT_IP = 256, OPT_BOOTIF, OPT_MAC, OPT_CMDLINE, OPT_TIMEOUT,
	OPT_LINK_TIMEOUT, OPT_RETRANSMIT, OPT_REQUEST, OPT_CLIENT_ID,
	OPT_VENDOR, OPT_USER, OPT_BROADCAST, OPT_ROOT, OPT_NO_FILES,
	OPT_SET_HOSTNAME, OPT_RENEW, OPT_IFNAME, OPT_VLAN, OPT_EACH,
};

static const struct option long_options[] = {
	{ "ip", required_argument, NULL, OPT_IP },
	{ "bootif", required_argument, NULL, OPT_BOOTIF },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "link-timeout", required_argument, NULL, OPT_LINK_TIMEOUT },
	{ "retransmit", required_argument, NULL, OPT_RETRANSMIT },
	{ "request", required_argument, NULL, OPT_REQUEST },
	{ "client-id", required_argument, NULL, OPT_CLIENT_ID },
	{ "vendor-class", required_argument, NULL, OPT_VENDOR },
	{ "user-class", required_argument, NULL, OPT_USER },
	{ "broadcast", no_argument, NULL, OPT_BROADCAST },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "no-files", no_argument, NULL, OPT_NO_FILES },
	{ "set-hostname", no_argument, NULL, OPT_SET_HOSTNAME },
	{ "renew", no_argument, NULL, OPT_RENEW },
	{ "ifname", required_argument, NULL, OPT_IFNAME },
	{ "vlan", required_argument, NULL, OPT_VLAN },
	{ "each", no_argument, NULL, OPT_EACH },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option into cfg; a negative errno when its value is wrong. */
static int apply_option(int opt, const char *arg, struct dhcpc_config *cfg)
{
	switch (opt) {
	case OPT_IP:
		return dhcpc_config_add_ip(cfg, arg);
	case OPT_EACH:
		cfg->every_iface = true;
		return 0;
	case OPT_BOOTIF:
		cfg->have_bootif = true;
		return dhcpc_bootif_parse(arg, cfg->bootif);
	case OPT_MAC:
		cfg->have_mac = true;
		return dhcpc_bootif_parse(arg, cfg->mac);
	case OPT_CMDLINE:
		return read_cmdline(arg, cfg);
	case OPT_TIMEOUT:
		return parse_time(arg, &cfg->timeout_ms);
	case OPT_LINK_TIMEOUT:
		return parse_time(arg, &cfg->link_timeout_ms);
	case OPT_RETRANSMIT:
		return parse_time(arg, &cfg->retransmit_ms) < 0 ||
		       cfg->retransmit_ms < 10 ? -EINVAL : 0;
	case OPT_REQUEST:
		return inet_pton(AF_INET, arg, &cfg->ip.addr) == 1 ? 0 : -EINVAL;
	case OPT_CLIENT_ID:
		return parse_client_id(arg, cfg);
	case OPT_VENDOR:
		return copy_arg(cfg->vendor_class, sizeof(cfg->vendor_class), arg);
	case OPT_USER:
		return copy_arg(cfg->user_class, sizeof(cfg->user_class), arg);
	case OPT_BROADCAST:
		cfg->broadcast_flag = true;
		return 0;
	case OPT_ROOT:
		cfg->root_dir = arg;
		return 0;
	case OPT_NO_FILES:
		cfg->write_files = false;
		return 0;
	case OPT_SET_HOSTNAME:
		cfg->set_hostname = true;
		return 0;
	case OPT_RENEW:
		cfg->keep_lease = true;
		return 0;
	case OPT_IFNAME:
		return dhcpc_config_add_ifname(cfg, arg);
	case OPT_VLAN: {
		uint64_t v;
		int r = parse_u64(arg, 1, 4094, &v);

		cfg->vlan = r == 0 ? (uint16_t)v : 0;
		return r;
	}
	case 'v':
		log_set_level(LOG_DEBUG);
		return 0;
	case '6':
		cfg->ip.mode = DHCPC_IP_DHCP6;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Returns 0, 1 for --help, or -EINVAL. */
static int parse_args(int argc, char **argv, struct dhcpc_config *cfg)
{
	int opt;
	struct dhcpc_ipconf ip_before;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "vh6", long_options, NULL)) != -1) {
		if (opt == 'h')
			return 1;
		if (opt == '?') /* getopt said what was wrong */
			return -EINVAL;
		/* --request must survive a later --ip, and the reverse */
		ip_before = cfg->ip;
		if (apply_option(opt, optarg, cfg) < 0) {
			fprintf(stderr, "iscsiroot dhcp: bad value for --%s: %s\n",
				opt >= OPT_IP ? long_options[opt - OPT_IP].name
					      : "?",
				optarg ? optarg : "");
			return -EINVAL;
		}
		if (opt == OPT_IP && !cfg->ip.addr.s_addr)
			cfg->ip.addr = ip_before.addr;
	}
	for (int i = optind; i < argc; i++) {
		if (cfg->nifnames >= DHCPC_MAX_IFACES ||
		    copy_arg(cfg->ifnames[cfg->nifnames], IFNAMSIZ, argv[i]) < 0) {
			fprintf(stderr, "iscsiroot dhcp: bad interface %s\n",
				argv[i]);
			return -EINVAL;
		}
		cfg->nifnames++;
	}
	return 0;
}

static int exit_code(int status)
{
	switch (status) {
	case 0:
		return EXIT_LEASE_OK;
	case -ETIMEDOUT:
		return EXIT_NO_LEASE;
	case -ENOLINK:
	case -ENODEV:
		return EXIT_NO_LINK;
	case -EINVAL:
		return EXIT_BAD_ARGS;
	default:
		return EXIT_SYSTEM;
	}
}

static void report_rootpath(const struct dhcpc_lease *l)
{
	struct dhcpc_rootpath rp;

	if (strncmp(l->rootpath, "iscsi:", 6) != 0)
		return;
	if (dhcpc_rootpath_parse(l->rootpath, &rp) < 0) {
		/* not quoted: it may hold a CHAP secret */
		log_warn("the root-path is not RFC 4173");
		return;
	}
	log_info("root-path: target %s at %s port %u LUN %016llx", rp.target,
		 rp.host[0] ? rp.host : "(discovery)", rp.port,
		 (unsigned long long)rp.lun);
	secure_zero(&rp, sizeof(rp));
}

/* Standard output may be a console: credentials in a dracut-style
 * root-path (user:pass@) are replaced; the file keeps them. */
static void print_lease(const struct dhcpc_lease *lease)
{
	struct dhcpc_lease shown = *lease;
	char *at = strchr(shown.rootpath, '@');

	if (at && !strncmp(shown.rootpath, "iscsi:", 6)) {
		char rest[sizeof(shown.rootpath)];
		snprintf(rest, sizeof(rest), "%s", at);
		snprintf(shown.rootpath, sizeof(shown.rootpath), "iscsi:***%s",
			 rest);
	}
	if (shown.v6)
		dhcpc_format_netconf6(stdout, &shown);
	else
		dhcpc_format_netconf(stdout, &shown);
	fflush(stdout);
	secure_zero(&shown, sizeof(shown));
}

struct run_state {
	const struct dhcpc_config *cfg;
	struct dhcpc *d;
	bool done;
	int status;
	int iface_error;        /* --each: the first interface's that failed */
	bool stop;              /* SIGTERM or SIGINT came */
};

/* A signal, or a client that gave up; a lease (renewed) goes on with
 * --renew, else the run ends once every interface is configured or
 * given up. */
static bool run_should_end(void *ctx)
{
	const struct run_state *rs = ctx;

	if (rs->stop || (rs->done && rs->status < 0))
		return true;
	return rs->done && !rs->cfg->keep_lease && dhcpc_settled(rs->d);
}

static void on_done(struct dhcpc *d, int status, void *ctx)
{
	struct run_state *rs = ctx;

	(void)d;
	rs->done = true;
	rs->status = status;
}

/* Each interface as it is configured (with --each all of them; a failure
 * was logged). */
static void on_iface(struct dhcpc *d, const char *ifname, const struct dhcpc_lease *lease,
		     int status, void *ctx)
{
	struct run_state *rs = ctx;

	(void)d;
	(void)ifname;
	if (status < 0 && !rs->iface_error)
		rs->iface_error = status;
	if (status == 0) {
		print_lease(lease);
		report_rootpath(lease);
	}
}

static void on_signal(struct ev_source *src, uint32_t revents)
{
	struct signalfd_siginfo si;

	(void)revents;
	if (read(src->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		*(bool *)src->ctx = true;
}

/* The bring-up in the same kind of loop the daemon runs; with --renew
 * the lease is then renewed there until SIGTERM or SIGINT. */
static int run(struct dhcpc_config *cfg)
{
	struct run_state rs = { .cfg = cfg };

	cfg->on_iface = on_iface;
	cfg->on_iface_ctx = &rs;
	struct ev_source sig = { .fd = -1, .events = EPOLLIN, .deadline = -1,
				 .on_io = on_signal,
				 .ctx = &rs.stop };
	struct ev_loop loop;
	struct dhcpc *d = NULL;
	sigset_t mask;
	int r = ev_loop_init(&loop);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig.fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (r == 0 && sig.fd >= 0)
		r = ev_add(&loop, &sig);
	if (r == 0)
		r = dhcpc_start(&loop, cfg, on_done, &rs, &d);
	rs.d = d;
	if (r == 0 && (r = ev_run_until(&loop, run_should_end, &rs, -1)) < 0)
		log_err("DHCP stopped: the event loop failed: %s", strerror(-r));
	dhcpc_stop(d);
	ev_del(&sig);
	if (sig.fd >= 0)
		close(sig.fd);
	ev_loop_close(&loop);
	if (r < 0 || rs.status < 0)
		return r < 0 ? r : rs.status;
	return cfg->every_iface ? rs.iface_error : 0;
}

int cmd_dhcp(int argc, char **argv)
{
	struct dhcpc_config cfg;
	int r;

	dhcpc_config_init(&cfg);
	r = parse_args(argc, argv, &cfg);
	if (r > 0) {
		cli_print_help(stdout, dhcp_help);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "try 'iscsiroot dhcp --help'\n");
		return EXIT_BAD_ARGS;
	}
	if (cfg.ip.mode == DHCPC_IP_OFF) {
		log_info("ip=off: leaving the network alone");
		return EXIT_LEASE_OK;
	}
	return exit_code(run(&cfg));
}
