/* SPDX-License-Identifier: MIT */
/*
 * PID 1 mode. The work is split between two processes from the start:
 *  - the daemon (a child): network, iSCSI login, the block device, and
 *    then serving it for the life of the system;
 *  - PID 1 itself: waits for the daemon's "ready", finds and mounts the
 *    root filesystem, switches root and execs init. It never serves I/O,
 *    so it can become init without leaving anything half-done behind.
 * They talk over a socketpair (start.c). There is never more than one
 * daemon: PID 1 stops one that gave no disk in time before it starts
 * another, and after an emergency shell it keeps the one that serves the
 * disk and only looks for the root again.
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
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pivot.h"
#include "rootd.h"

#define ATTEMPTS_FATAL 3        /* e.g. a wrong CHAP password */

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

/* ---- PID 1 */

static void emergency(const struct boot_config *bc, const char *why)
{
	if (bc->shell && access("/bin/sh", X_OK) == 0) {
		pid_t pid;

		log_err("%s; starting an emergency shell (exit it to retry)", why);
		pid = fork();
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

/* The root filesystem's module, loaded while the first daemon brings the
 * disk up (the CPU would otherwise wait on the network and the target):
 * rootfstype='s, else the one of the types rootdev.c tells apart whose
 * module the initramfs holds, when it holds one only. The type the
 * superblock shows is loaded after, as ever: nothing to do if it is this. */
struct preload {
	const struct boot_config *bc;
	bool tried;                  /* its time is the step's */
	char type[16];               /* loaded (or built in); "": none */
};

static const char *fs_module_in_initramfs(void)
{
	static const char *const types[] = { "ext4", "xfs", "btrfs" };
	const char *found = NULL;
	struct utsname u;
	char dir[192];

	if (uname(&u) < 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		snprintf(dir, sizeof(dir), "/lib/modules/%s/kernel/fs/%s", u.release, types[i]);
		if (access(dir, F_OK) < 0)
			continue;
		if (found)
			return NULL;    /* two: the superblock decides */
		found = types[i];
	}
	return found;
}

static void preload_fs_module(void *ctx)
{
	struct preload *p = ctx;
	const char *type = p->bc->rootfstype[0] ? p->bc->rootfstype : fs_module_in_initramfs();

	if (!type)
		return;
	p->tried = true;
	boot_step_begin(BOOT_STEP_FSMODULE, now_ms());
	if (pivot_load_module(type, NULL) == 0)
		snprintf(p->type, sizeof(p->type), "%s", type);
	boot_step_end(BOOT_STEP_FSMODULE, now_ms());
}

static void load_fs_module(const struct preload *p, const char *type)
{
	if (!type[0] || !strcmp(type, p->type))
		return;
	if (pivot_load_module(type, NULL) < 0)
		log_debug("no module for %s (built in?)", type);
	if (!p->tried)
		boot_step_end(BOOT_STEP_FSMODULE, now_ms());
}

static int64_t attach_deadline(const struct boot_config *bc)
{
	return bc->wait_s > 0 ? now_ms() + bc->wait_s * 1000ll : -1;
}

/* Starts daemons until one is ready (ds: its disk and PID). One that gave
 * no disk in time was stopped; the next starts with the next path. */
static void attach_disk(const struct boot_config *bc, char **argv, struct daemon_start *ds)
{
	int fatal = 0;
	int64_t deadline = attach_deadline(bc);

	for (unsigned attempt = 1;; attempt++) {
		int r;

		ds->deadline_ms = deadline;
		r = rootd_start(bc, argv, ds);
		ds->meanwhile = NULL;           /* once */
		if (r == 0)
			return;
		log_err("%s", ds->msg);
		if ((r == -EACCES && ++fatal >= ATTEMPTS_FATAL) ||
		    (deadline >= 0 && now_ms() >= deadline)) {
			emergency(bc, fatal >= ATTEMPTS_FATAL ? "giving up after repeated failures"
					: "no iSCSI disk within iscsiroot.timeout");
			fatal = 0;
			deadline = attach_deadline(bc);
			continue;
		}
		/* A stuck path costs its time already: the next one at once. */
		if (r != -ETIMEDOUT)
			sleep(MIN(attempt * 2, 10u));
	}
}

/* Whether the daemon PID 1 started still runs (it is our child: an
 * ended one is reaped here). */
static bool daemon_serves(const struct daemon_start *ds)
{
	if (ds->pid <= 0)
		return false;
	if (waitpid(ds->pid, NULL, WNOHANG) == 0)
		return true;
	log_err("the daemon serving %s has ended; starting another", ds->dev);
	return false;
}

/* The disk's logical block size, which its partition table counts in
 * (a 4Kn LUN: 4096); the daemon gave the device the LUN's. */
static uint32_t logical_block_size(int fd)
{
	int size = 0;

	if (fd < 0 || ioctl(fd, BLKSSZGET, &size) < 0)
		size = 0;
	return size >= 512 ? (uint32_t)size : 512;
}

/* The kernel reads a disk's partition table once, and devtmpfs makes the
 * nodes before the call returns: ublk as the device starts, NBD at the
 * first open after its size was set (the open here). Asking again
 * (BLKRRPART) would read it a second time; that is only done when the
 * partition root= resolves to has no node, waiting up to 10 s. */
int pivot_find_root(const struct boot_config *bc, const char *disk, char *dev,
		    size_t devlen, struct fs_info *fs)
{
	int64_t begin = now_ms();
	int fd = open(disk, O_RDONLY | O_CLOEXEC);
	uint32_t sector_size = logical_block_size(fd);
	bool asked = fd < 0;
	int r = -ENOENT;

	/* From here, not from the daemon's "ready": PID 1 may have been busy
	 * loading the filesystem's module since. */
	boot_step_begin(BOOT_STEP_PARTITIONS, begin);
	boot_step_end(BOOT_STEP_PARTITIONS, now_ms());
	for (int i = 0; i < 100; i++) {
		r = root_resolve(strcmp(bc->root, "dhcp") ? bc->root : "", disk, sector_size,
				 dev, devlen, fs);
		if (r == 0 && access(dev, F_OK) == 0)
			break;
		if (!asked) {
			asked = true;
			log_debug("%s: no node for root= yet; asking the kernel to read the "
				  "partition table", disk);
			if (ioctl(fd, BLKRRPART, 0) < 0)
				log_debug("BLKRRPART on %s: %s", disk, strerror(errno));
			continue;
		}
		usleep(100 * 1000);
	}
	if (fd >= 0)
		close(fd);
	if (r == 0 && access(dev, F_OK) == 0) {
		boot_step_end(BOOT_STEP_ROOT, now_ms());
		return 0;
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

void pivot_load_boot_modules(void)
{
	/* nbd or ublk_drv: the daemon loads the one it picks. */
	pivot_load_nic_drivers();
	/* Where the firmware left an iBFT, its driver shows it in sysfs; the
	 * ACPI table is read directly when the driver is missing. */
	pivot_load_module("iscsi_ibft", NULL);
}

int pivot_configure(struct boot_config *bc, const char *conf_file, char *err,
		    size_t errlen)
{
	int r = boot_config_load(bc, conf_file, "/proc/cmdline", err, errlen);

	if (r == 0 && bc->debug)
		log_set_level(LOG_DEBUG);
	/* The modules first: the iBFT driver shows the firmware's table. A
	 * command line that fails to parse still gets its modules. */
	pivot_load_boot_modules();
	if (r == 0)
		r = boot_config_use_firmware(bc, "", err, errlen);
	boot_step_end(BOOT_STEP_MODULES, now_ms());
	return r < 0 ? r : 0;
}

int pivot_boot(int argc, char **argv)
{
	struct boot_config bc;
	struct preload pre = { .bc = &bc };
	struct daemon_start ds = { .meanwhile = preload_fs_module, .meanwhile_ctx = &pre };
	struct fs_info fs;
	char err[512], root[128];
	int64_t start = now_ms(), idle;

	(void)argc;
	pivot_mount_api_filesystems();
	idle = boot_idle_ms();          /* /proc is there now */
	console_fds();
	log_use_kmsg();
	log_info("starting (PID 1 mode)");
	if (pivot_configure(&bc, NULL, err, sizeof(err)) < 0) {
		boot_config_init(&bc);
		emergency(&bc, err);
	}
	for (;;) {
		/* After an emergency shell the daemon that serves the disk
		 * stays: a second one would log in with the same ISID, and the
		 * two would take the session from each other for ever. */
		if (!daemon_serves(&ds))
			attach_disk(&bc, argv, &ds);
		if (pivot_find_root(&bc, ds.dev, root, sizeof(root), &fs) < 0) {
			snprintf(err, sizeof(err), "no root filesystem%s%s on %s",
				 bc.root[0] ? " matching " : "", bc.root, ds.dev);
			emergency(&bc, err);
			continue;
		}
		const char *type = bc.rootfstype[0] ? bc.rootfstype : fs.type;
		load_fs_module(&pre, type);
		log_info("root filesystem %s (%s), switching root", root, type[0] ? type : "?");
		if (pivot_switch_root(root, type, bc.rootflags, bc.read_only, err,
				      sizeof(err)) == 0)
			break;
		emergency(&bc, err);
	}
	boot_steps_log("/init to init", start, idle);
	exec_init(&bc);
	emergency(&bc, "no init to run");
	return 1;
}
