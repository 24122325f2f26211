/* SPDX-License-Identifier: MIT */
/* Mounting the API filesystems, and switch_root: move them into the new
 * root (or detach the ones it has no directory for), delete the
 * initramfs's files (its memory is freed only then), make the new root
 * "/" and chroot into it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pivot.h"

#define NEW_ROOT "/root"

static const char *const api_mounts[] = { "/dev", "/proc", "/sys", "/run" };

static int mount_one(const char *src, const char *dst, const char *type,
		     unsigned long flags, const char *data)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
		return -errno;
	return 0;
}

int pivot_mount_api_filesystems(void)
{
	int r = mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);

	if (r == 0)
		r = mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (r == 0)
		r = mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	if (r == 0)
		r = mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	return r;
}

/* Deletes everything on the initramfs (rootfs) below dirfd, staying on
 * that one filesystem: the new root and the moved mounts are elsewhere. */
static void delete_tree(int dirfd, dev_t rootdev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != rootdev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (sub >= 0)
				delete_tree(sub, rootdev);
		}
		unlinkat(dirfd, de->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
	}
	closedir(d);
}

/* One API filesystem into the new root, as util-linux's switch_root
 * does it: moved onto the new root's own directory; detached (lazily:
 * whoever holds it open keeps it) when the new root has no such
 * directory, has something mounted there already, or the move fails.
 * The new root may be read-only, so no directory is made in it. Init then
 * mounts what it needs itself. */
static void move_api_mount(const char *path, dev_t initramfs, dev_t new_root)
{
	const char *why = NULL;
	char target[64];
	struct stat st;

	if (stat(path, &st) < 0 || st.st_dev == initramfs)
		return;         /* nothing mounted there */
	snprintf(target, sizeof(target), NEW_ROOT "%s", path);
	if (stat(target, &st) < 0 || !S_ISDIR(st.st_mode))
		why = "has no such directory";
	else if (st.st_dev != new_root)
		why = "has a mount there already";
	if (why) {
		log_info("%s: the new root %s; detached ours", path, why);
		umount2(path, MNT_DETACH);
		return;
	}
	if (mount(path, target, NULL, MS_MOVE, NULL) < 0) {
		log_warn("moving %s into the new root failed: %s; detached it", path,
			 strerror(errno));
		umount2(path, MNT_DETACH);
	}
}

int pivot_switch_root(const char *dev, const char *fstype, const char *flags,
		      bool read_only, char *err, size_t errlen)
{
	struct stat st, initramfs;
	int fd;

	mkdir(NEW_ROOT, 0755);
	if (mount(dev, NEW_ROOT, fstype, read_only ? MS_RDONLY : 0,
		  flags && *flags ? flags : NULL) < 0) {
		snprintf(err, errlen, "mounting %s (%s) on " NEW_ROOT " failed: %s", dev,
			 fstype, strerror(errno));
		return -errno;
	}
	boot_step_end(BOOT_STEP_MOUNT, now_ms());
	if (stat("/", &initramfs) < 0 || stat(NEW_ROOT, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "examining the new root failed: %s", strerror(e));
		umount2(NEW_ROOT, MNT_DETACH);
		return -e;
	}
	for (size_t i = 0; i < ARRAY_SIZE(api_mounts); i++)
		move_api_mount(api_mounts[i], initramfs.st_dev, st.st_dev);
	if (chdir(NEW_ROOT) < 0 || stat("/", &st) < 0) {
		snprintf(err, errlen, "entering the new root failed: %s", strerror(errno));
		return -errno;
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		delete_tree(fd, st.st_dev);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		snprintf(err, errlen, "switching to the new root failed: %s", strerror(errno));
		return -errno;
	}
	boot_step_end(BOOT_STEP_SWITCH, now_ms());
	return 0;
}
