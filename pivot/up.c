/* SPDX-License-Identifier: MIT */
/*
 * `iscsiroot up`: the step initramfs-tools' local-top script takes. The
 * same configuration, modules and daemon as PID 1 mode; initramfs-tools
 * then mounts the root and runs run-init itself, so this only attaches
 * the disk and says which device holds the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pivot.h"
#include "rootd.h"

#define UP_EXIT_NOTHING 6
#define ATTEMPTS_FATAL 3

/* Without a target from any source, DHCP is asked only when the command
 * line says so (root=dhcp): a machine that boots from a local disk with
 * this hook installed must not wait for a DHCP server. */
static bool iscsi_root_configured(const struct boot_config *bc)
{
	return bc->npaths > 0 || !strcmp(bc->root, "dhcp");
}

/* Starts daemons until one is ready, within iscsiroot.timeout (180 s
 * unset). A daemon that gave no disk in time was stopped; the next one
 * starts with the next path. */
static int attach(const struct boot_config *bc, char **argv, struct daemon_start *ds)
{
	int64_t deadline = now_ms() + (bc->wait_s > 0 ? bc->wait_s : 180) * 1000ll;
	/* rd.iscsi.login_retry_max bounds the daemon's own login retries:
	 * one daemon then, not a retry of retries (but each path has one). */
	int max = bc->login_retry_max >= 0 ? 1 : 1 << 30;
	unsigned stuck = 0;
	int fatal = 0;

	for (int attempt = 1;; attempt++) {
		bool next_path;
		int r;

		ds->deadline_ms = deadline;
		r = rootd_start(bc, argv, ds);
		if (r == 0)
			return 0;
		next_path = r == -ETIMEDOUT && ++stuck < bc->npaths;
		if ((r == -EACCES && ++fatal >= ATTEMPTS_FATAL) ||
		    (attempt >= max && !next_path) || now_ms() >= deadline) {
			log_err("%s", ds->msg);
			return r;
		}
		log_warn("%s; retrying", ds->msg);
		if (r != -ETIMEDOUT)
			sleep(MIN(attempt * 2, 10));
	}
}

static int write_root(const char *param_conf, const char *dev)
{
	int fd = open(param_conf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	int r = 0;

	if (fd < 0 || dprintf(fd, "ROOT=%s\n", dev) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		log_err("cannot write ROOT= to %s: %s", param_conf, strerror(-r));
	return r;
}

int pivot_up(const char *conf_file, const char *param_conf, char **argv)
{
	struct boot_config bc;
	struct daemon_start ds = { .first_path = 0 };
	struct fs_info fs;
	char err[512], root[128];
	bool name_root;
	int64_t start = now_ms(), idle = boot_idle_ms();

	if (pivot_configure(&bc, conf_file, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	if (!iscsi_root_configured(&bc))
		return UP_EXIT_NOTHING;
	/* root=UUID=... stays initramfs-tools' to find; an empty root= or
	 * one that named the target gets the partition we find. */
	name_root = !bc.root[0] || !strcmp(bc.root, "dhcp");
	if (attach(&bc, argv, &ds) < 0)
		return 1;
	printf("%s\n", ds.dev);
	fflush(stdout);
	if (pivot_find_root(&bc, ds.dev, root, sizeof(root), &fs) < 0) {
		if (name_root) {
			log_err("no root filesystem on %s", ds.dev);
			return 1;
		}
		return 0;
	}
	log_info("root filesystem %s (%s)", root, fs.type[0] ? fs.type : "?");
	if (name_root && param_conf && write_root(param_conf, root) < 0)
		return 1;
	boot_steps_log("iscsiroot up", start, idle);
	secure_zero(&bc, sizeof(bc));
	return 0;
}
