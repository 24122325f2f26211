/* SPDX-License-Identifier: MIT */
/* Kernel modules without udev or modprobe: libkmod over the initramfs's
 * /lib/modules/$(uname -r), by name or by the modalias of each device.
 * libkmod finds the modules and their dependencies; we insert them, so
 * that compressed ones (Debian's 6.12: .ko.xz) work although our static
 * libkmod is built without xz: the kernel decompresses them itself
 * (CONFIG_MODULE_DECOMPRESS) when finit_module says the file is. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pivot.h"

/* <linux/module.h>, Linux 6.4+. */
#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif
/* Dependency chains are short (ext4: 3 deep); a softdep loop is not. */
#define MODULE_DEPTH_MAX 12

static struct kmod_ctx *kmod_context(void)
{
	static struct kmod_ctx *ctx;

	if (!ctx) {
		ctx = kmod_new(NULL, NULL);
		if (ctx)
			kmod_load_resources(ctx);
	}
	return ctx;
}

static bool is_compressed(const char *path)
{
	static const char *const ext[] = { ".xz", ".zst", ".gz" };
	size_t len = strlen(path);

	for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
		size_t n = strlen(ext[i]);
		if (len > n && !strcmp(path + len - n, ext[i]))
			return true;
	}
	return false;
}

static int insert_file(struct kmod_module *mod, const char *options)
{
	const char *path = kmod_module_get_path(mod);
	int fd, r;

	if (!path)
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = (int)syscall(SYS_finit_module, fd, options ? options : "",
			 is_compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0);
	r = r < 0 && errno != EEXIST ? -errno : 0;
	close(fd);
	return r;
}

static bool is_loaded(struct kmod_module *mod)
{
	int state = kmod_module_get_initstate(mod);

	return state == KMOD_MODULE_BUILTIN || state == KMOD_MODULE_LIVE ||
	       state == KMOD_MODULE_COMING;
}

static int insert_tree(struct kmod_module *mod, const char *options, int depth);

/* Softdeps are wishes (ext4's crc32c): one that fails does not count. */
static void insert_list(struct kmod_list *list, int depth)
{
	struct kmod_list *l;

	kmod_list_foreach(l, list) {
		struct kmod_module *m = kmod_module_get_module(l);
		insert_tree(m, NULL, depth);
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
}

/* Pre-softdeps, dependencies, the module, post-softdeps, as modprobe.
 * Returns 1 when mod was inserted, 0 when it was there already. */
static int insert_tree(struct kmod_module *mod, const char *options, int depth)
{
	struct kmod_list *pre = NULL, *post = NULL, *deps, *l;
	const char *config_options = kmod_module_get_options(mod);
	int r = 0;

	if (is_loaded(mod))
		return 0;
	if (depth > MODULE_DEPTH_MAX)
		return -ELOOP;
	if (kmod_module_get_softdeps(mod, &pre, &post) == 0)
		insert_list(pre, depth + 1);
	deps = kmod_module_get_dependencies(mod);
	kmod_list_foreach(l, deps) {
		struct kmod_module *m = kmod_module_get_module(l);
		if (r >= 0)
			r = insert_tree(m, NULL, depth + 1);
		kmod_module_unref(m);
	}
	kmod_module_unref_list(deps);
	if (r >= 0)
		r = insert_file(mod, options ? options : config_options);
	if (r >= 0)
		insert_list(post, depth + 1);
	else
		kmod_module_unref_list(post);
	return r < 0 ? r : 1;
}

/* Loads what a name or alias resolves to; returns how many modules it
 * inserted (0 if none is in the initramfs or all were loaded), or a
 * negative errno. */
static int load_lookup(const char *what, const char *options)
{
	struct kmod_ctx *ctx = kmod_context();
	struct kmod_list *list = NULL, *l;
	int loaded = 0, r;

	if (!ctx)
		return -ENOMEM;
	r = kmod_module_new_from_lookup(ctx, what, &list);
	if (r < 0)
		return r;
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);
		r = insert_tree(mod, options, 0);
		if (r < 0)
			log_warn("loading module %s failed: %s", kmod_module_get_name(mod),
				 strerror(-r));
		else
			loaded += r;
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(list);
	return loaded;
}

int pivot_load_module(const char *name, const char *options)
{
	int r = load_lookup(name, options);

	if (r == 0) {
		/* Built into the kernel, or missing: say which. */
		char path[128];
		snprintf(path, sizeof(path), "/sys/module/%s", name);
		if (access(path, F_OK) == 0)
			return 0;
		return -ENOENT;
	}
	return r < 0 ? r : 0;
}

/* One pass over a bus: returns how many new modules loaded. */
static int load_bus(const char *bus)
{
	char dir[64], path[320], alias[256];
	struct dirent *de;
	DIR *d;
	int loaded = 0;

	snprintf(dir, sizeof(dir), "/sys/bus/%s/devices", bus);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/modalias", dir, de->d_name);
		if (read_text_file(path, alias, sizeof(alias)) == 0 && load_lookup(alias, NULL) > 0)
			loaded++;
	}
	closedir(d);
	return loaded;
}

int pivot_load_nic_drivers(void)
{
	/* A bus driver (virtio_pci) makes new devices (virtio-net) appear:
	 * go round until nothing new loads. */
	for (int round = 0; round < 5; round++) {
		int n = load_bus("pci") + load_bus("virtio") + load_bus("usb") + load_bus("vmbus");
		if (n == 0)
			return 0;
		usleep(100 * 1000);
	}
	return 0;
}
