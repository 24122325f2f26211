/* SPDX-License-Identifier: MIT */
/*
 * PID 1 mode. The work is split between two processes from the start:
 *  - the daemon (a child): network, iSCSI login, the block device, and
 *    then serving it for the life of the system;
 *  - PID 1 itself: waits for the daemon's "ready", finds and mounts the
 *    root filesystem, switches root and execs init. It never serves I/O,
 *    so it can become init without leaving anything half-done behind.
 * They talk over a pipe: "ready DEV", "retry MESSAGE" or "fatal MESSAGE".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pivot.h"

extern char **environ;

#define DEFAULT_INITIATOR_PREFIX "iqn.2025-01.org.iscsiroot:"
#define ATTEMPTS_FATAL 3        /* e.g. a wrong CHAP password */
#define WAIT_REPORT_S 30

static void console_fds(void)
{
	/* Without /dev/console in the initramfs the kernel gives init no
	 * stdin/stdout/stderr; devtmpfs has it. */
	if (fcntl(2, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	}
}

/* The kernel prints kmsg lines below this level on the console itself. */
static int console_loglevel(void)
{
	char buf[64];

	if (read_text_file("/proc/sys/kernel/printk", buf, sizeof(buf)) < 0)
		return 0;
	return atoi(buf);
}

/* ---- The daemon */

struct net_wait {
	bool done;
	int status;
};

static void net_done(struct dhcpc *d, int status, void *ctx)
{
	struct net_wait *w = ctx;

	(void)d;
	w->done = true;
	w->status = status;
}

static void report(int fd, const char *kind, const char *msg)
{
	dprintf(fd, "%s %s\n", kind, msg);
}

static int bring_up_network(struct ev_loop *loop, const struct boot_config *bc,
			    struct dhcpc **d, char *err, size_t errlen)
{
	struct dhcpc_config dc;
	struct net_wait w = { 0 };
	int r;

	dhcpc_config_init(&dc);
	if (bc->ip[0] && dhcpc_ip_parse(bc->ip, &dc.ip) < 0) {
		snprintf(err, errlen, "invalid ip=%s", bc->ip);
		return -EINVAL;
	}
	if (dc.ip.mode == DHCPC_IP_OFF)
		return 0;
	if (bc->bootif[0] && dhcpc_bootif_parse(bc->bootif, dc.bootif) == 0)
		dc.have_bootif = true;
	dc.root_dir = "/";
	dc.write_files = true;
	dc.keep_lease = true;
	r = dhcpc_start(loop, &dc, net_done, &w, d);
	while (r == 0 && !w.done)
		if (ev_run_once(loop, 1000) < 0)
			break;
	if (r == 0)
		r = w.status;
	if (r < 0) {
		snprintf(err, errlen, "network bring-up failed: %s", strerror(-r));
		return r;
	}
	return 0;
}

static void default_initiator(char *out, size_t len)
{
	char id[64] = "";

	if (read_text_file("/sys/class/dmi/id/product_uuid", id, sizeof(id)) < 0 || !id[0])
		gethostname(id, sizeof(id));
	id[strcspn(id, "\n")] = '\0';
	for (char *p = id; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	snprintf(out, len, DEFAULT_INITIATOR_PREFIX "%s", id[0] ? id : "host");
}

static int target_config(const struct boot_config *bc, const struct dhcpc *d,
			 struct serve_options *opt, char *err, size_t errlen)
{
	struct dhcpc_rootpath rp = bc->paths[0];
	struct iscsi_config *c = &opt->iscsi;
	const struct dhcpc_lease *lease = d ? dhcpc_get_lease(d) : NULL;

	if (bc->npaths == 0) {
		char path[256];
		snprintf(path, sizeof(path), "%s", lease ? lease->rootpath : "");
		/* dnsmasq passes quotes on (--dhcp-option=17,'"iscsi:…"'): a
		 * common slip that costs nothing to forgive. */
		if (path[0] == '"' && strlen(path) > 1 && path[strlen(path) - 1] == '"') {
			memmove(path, path + 1, strlen(path) - 2);
			path[strlen(path) - 2] = '\0';
		}
		if (strncmp(path, "iscsi:", 6) || dhcpc_rootpath_parse(path, &rp) < 0) {
			snprintf(err, errlen, "no iSCSI target: give netroot=iscsi:... or "
				 "root=iscsi:..., or serve a DHCP root-path (option 17)");
			return -EINVAL;
		}
		log_info("target from the DHCP root-path");
	}
	iscsi_config_defaults(c);
	if (bc->initiator[0])
		snprintf(c->initiator_name, sizeof(c->initiator_name), "%s", bc->initiator);
	else
		default_initiator(c->initiator_name, sizeof(c->initiator_name));
	snprintf(c->target_name, sizeof(c->target_name), "%s", rp.target);
	snprintf(c->host, sizeof(c->host), "%s",
		 rp.host[0] ? rp.host : (lease ? inet_ntoa(lease->siaddr) : ""));
	c->port = rp.port;
	snprintf(c->user, sizeof(c->user), "%s", rp.user);
	iscsi_config_set_secret(c->secret, &c->secret_len, rp.password);
	snprintf(c->ruser, sizeof(c->ruser), "%s", rp.ruser);
	iscsi_config_set_secret(c->rsecret, &c->rsecret_len, rp.rpassword);
	opt->lun = rp.lun;
	secure_zero(&rp, sizeof(rp));
	c->first_login_timeout_ms = 30000;
	c->replacement_timeout_ms = bc->replacement_timeout_ms;
	/* One NBD connection per CPU lets the kernel submit in parallel. */
	opt->queues = bc->queues ? bc->queues
				 : (unsigned)MIN(MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L), 4L);
	opt->backend = bc->blockdev[0] ? bc->blockdev : "nbd";
	opt->nbd_ioctl = bc->nbd_ioctl;
	return 0;
}

static bool fatal_errno(int r)
{
	return r == -EACCES || r == -EPERM || r == -ENOENT || r == -EINVAL;
}

static void run_daemon(const struct boot_config *bc, int pipe_fd)
{
	struct ev_loop loop;
	struct dhcpc *net = NULL;
	struct serve_options opt;
	struct serve *srv;
	char err[512] = "", dev[64];
	int r;

	log_set_prefix("iscsiroot");
	r = ev_loop_init(&loop);
	if (r == 0)
		r = bring_up_network(&loop, bc, &net, err, sizeof(err));
	if (r == 0)
		r = target_config(bc, net, &opt, err, sizeof(err));
	if (r == 0)
		r = serve_start(&loop, &opt, &srv, dev, sizeof(dev), err, sizeof(err));
	secure_zero(&opt, sizeof(opt));
	if (r < 0) {
		report(pipe_fd, fatal_errno(r) ? "fatal" : "retry",
		       err[0] ? err : strerror(-r));
		_exit(1);
	}
	report(pipe_fd, "ready", dev);
	close(pipe_fd);
	if (chdir("/") < 0)
		log_debug("chdir: %s", strerror(errno));
	for (;;)
		ev_run_once(&loop, -1);
}

/* ---- PID 1 */

/* Waits for the daemon's one line. Says something every 30 s. */
static int wait_for_daemon(int fd, char *line, size_t len)
{
	size_t got = 0;
	int quiet_s = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, 1000);
		ssize_t n;

		if (r == 0) {
			if (++quiet_s % WAIT_REPORT_S == 0)
				log_info("still waiting for the network and the iSCSI target "
					 "(%d s)", quiet_s);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		n = read(fd, line + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		line[got] = '\0';
		if (strchr(line, '\n'))
			break;
	}
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	return got ? 0 : -EPIPE;
}

/* The daemon runs from a copy of this binary in memory, so that after the
 * switch it holds nothing of the deleted initramfs, not even its own
 * executable. Falls back to running in place. */
static void exec_daemon_from_memory(int pipe_fd)
{
	char fdarg[16], *args[] = { (char *)"@iscsiroot", (char *)"daemon", fdarg, NULL };
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int mfd = memfd_create("iscsiroot", MFD_CLOEXEC);
	char buf[65536];
	ssize_t n = -1;

	if (src >= 0 && mfd >= 0)
		while ((n = read(src, buf, sizeof(buf))) > 0)
			if (write(mfd, buf, (size_t)n) != n) {
				n = -1;
				break;
			}
	if (src >= 0)
		close(src);
	if (n == 0 && fcntl(pipe_fd, F_SETFD, 0) == 0) {
		snprintf(fdarg, sizeof(fdarg), "%d", pipe_fd);
		fexecve(mfd, args, environ);
	}
	log_debug("running the daemon in place: %s", strerror(errno));
	if (mfd >= 0)
		close(mfd);
}

int pivot_daemon_main(int argc, char **argv)
{
	struct boot_config bc;
	char cmdline[4096], err[256];
	uint64_t fd;

	if (argc < 2 || parse_u64(argv[1], 3, 1024, &fd) < 0)
		return 2;
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	log_set_kmsg_fd(open("/dev/kmsg", O_WRONLY | O_CLOEXEC), console_loglevel());
	boot_config_init(&bc);
	if (read_text_file("/proc/cmdline", cmdline, sizeof(cmdline)) < 0 ||
	    boot_cmdline_parse(cmdline, &bc, err, sizeof(err)) < 0) {
		report((int)fd, "fatal", "cannot read the kernel command line");
		return 1;
	}
	if (bc.debug)
		log_set_level(LOG_DEBUG);
	daemon_harden(argv - 1);
	run_daemon(&bc, (int)fd);
	return 1;
}

/* Starts the daemon; returns 0 with its device in dev, or -EAGAIN /
 * -EACCES (fatal) with the reason in msg. */
static int start_daemon(const struct boot_config *bc, char **argv, char *dev,
			size_t devlen, char *msg, size_t msglen)
{
	char line[600];
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(fds[0]);
		exec_daemon_from_memory(fds[1]);
		daemon_harden(argv);
		run_daemon(bc, fds[1]);
		_exit(1);
	}
	close(fds[1]);
	if (wait_for_daemon(fds[0], line, sizeof(line)) < 0)
		snprintf(line, sizeof(line), "retry the daemon exited without a word");
	close(fds[0]);
	if (!strncmp(line, "ready ", 6)) {
		snprintf(dev, devlen, "%s", line + 6);
		return 0;
	}
	waitpid(pid, NULL, 0);
	snprintf(msg, msglen, "%s", strchr(line, ' ') ? strchr(line, ' ') + 1 : line);
	return !strncmp(line, "fatal", 5) ? -EACCES : -EAGAIN;
}

static void emergency(const struct boot_config *bc, const char *why)
{
	if (bc->shell && access("/bin/sh", X_OK) == 0) {
		pid_t pid = fork();
		log_err("%s; starting an emergency shell (exit it to retry)", why);
		if (pid == 0) {
			execl("/bin/sh", "sh", (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return;
	}
	/* PID 1 must not exit (that is a kernel panic): say why, and wait. */
	for (;;) {
		log_err("%s; not retrying (boot with iscsiroot.shell=1 for a shell)", why);
		sleep(60);
	}
}

static int attach_disk(const struct boot_config *bc, char **argv, char *dev,
		       size_t devlen)
{
	char msg[600];
	int fatal = 0;
	int64_t deadline = bc->wait_s > 0 ? now_ms() + bc->wait_s * 1000ll : -1;

	for (unsigned attempt = 1;; attempt++) {
		int r = start_daemon(bc, argv, dev, devlen, msg, sizeof(msg));
		if (r == 0)
			return 0;
		log_err("%s", msg);
		if ((r == -EACCES && ++fatal >= ATTEMPTS_FATAL) ||
		    (deadline >= 0 && now_ms() >= deadline)) {
			emergency(bc, fatal >= ATTEMPTS_FATAL ? "giving up after repeated failures"
					: "no iSCSI disk within iscsiroot.timeout");
			fatal = 0;
			deadline = bc->wait_s > 0 ? now_ms() + bc->wait_s * 1000ll : -1;
			continue;
		}
		sleep(MIN(attempt * 2, 10u));
	}
}

static int wait_for_root(const struct boot_config *bc, const char *disk, char *dev,
			 size_t devlen, struct fs_info *fs)
{
	int fd = open(disk, O_RDONLY | O_CLOEXEC);
	int r = -ENOENT;

	/* The kernel reads the partition table when asked; devtmpfs then
	 * makes the nodes. */
	if (fd >= 0) {
		ioctl(fd, BLKRRPART, 0);
		close(fd);
	}
	for (int i = 0; i < 100; i++) {
		r = root_resolve(bc->root, disk, 512, dev, devlen, fs);
		if (r == 0 && access(dev, F_OK) == 0)
			return 0;
		usleep(100 * 1000);
	}
	return r < 0 ? r : -ENOENT;
}

static void exec_init(const struct boot_config *bc)
{
	const char *fallbacks[] = { bc->init, "/sbin/init", "/etc/init", "/bin/init", "/bin/sh" };

	for (size_t i = 0; i < ARRAY_SIZE(fallbacks); i++) {
		execl(fallbacks[i], fallbacks[i], (char *)NULL);
		log_err("cannot run %s: %s", fallbacks[i], strerror(errno));
	}
}

static void load_boot_modules(void)
{
	pivot_load_nic_drivers();
	/* Partitions on NBD devices need max_part (NOTES: no udev here). */
	if (pivot_load_module("nbd", "max_part=16") < 0)
		log_warn("the nbd module is not in the initramfs and not built in");
}

int pivot_boot(int argc, char **argv)
{
	struct boot_config bc;
	struct fs_info fs;
	char cmdline[4096], err[512], disk[64], root[128];
	int kmsg;

	(void)argc;
	pivot_mount_api_filesystems();
	console_fds();
	kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	log_set_kmsg_fd(kmsg, console_loglevel());
	if (read_text_file("/proc/cmdline", cmdline, sizeof(cmdline)) < 0)
		cmdline[0] = '\0';
	boot_config_init(&bc);
	if (boot_cmdline_parse(cmdline, &bc, err, sizeof(err)) < 0) {
		boot_config_init(&bc);
		emergency(&bc, err);
	}
	if (bc.debug)
		log_set_level(LOG_DEBUG);
	log_info("starting (PID 1 mode)");
	load_boot_modules();
	for (;;) {
		attach_disk(&bc, argv, disk, sizeof(disk));
		if (wait_for_root(&bc, disk, root, sizeof(root), &fs) < 0) {
			snprintf(err, sizeof(err), "no root filesystem%s%s on %s",
				 bc.root[0] ? " matching " : "", bc.root, disk);
			emergency(&bc, err);
			continue;
		}
		const char *type = bc.rootfstype[0] ? bc.rootfstype : fs.type;
		if (type[0] && pivot_load_module(type, NULL) < 0)
			log_debug("no module for %s (built in?)", type);
		log_info("root filesystem %s (%s), switching root", root, type[0] ? type : "?");
		if (pivot_switch_root(root, type, bc.rootflags, bc.read_only, err,
				      sizeof(err)) == 0)
			break;
		emergency(&bc, err);
	}
	exec_init(&bc);
	emergency(&bc, "no init to run");
	return 1;
}
