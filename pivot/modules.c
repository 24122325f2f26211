/* SPDX-License-Identifier: MIT */
/* Kernel modules without udev or modprobe: libkmod over the initramfs's
 * /lib/modules/$(uname -r), by name or by the modalias of each device. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pivot.h"

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

/* Loads what a name or alias resolves to; returns how many modules it
 * matched (0 if none is in the initramfs), or a negative errno. */
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
		r = kmod_module_probe_insert_module(mod, KMOD_PROBE_IGNORE_LOADED, options,
						    NULL, NULL, NULL);
		if (r < 0)
			log_warn("loading module %s failed: %s", kmod_module_get_name(mod),
				 strerror(-r));
		else
			loaded++;
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
