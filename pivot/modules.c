/* SPDX-License-Identifier: MIT */
/* Kernel modules without udev or modprobe, through libkmod (Debian 12's
 * kmod 30; scripts/deps.sh builds it for the static binary). libkmod
 * resolves a name or a device's modalias (modprobe.d aliases, then
 * modules.dep.bin, modules.alias.bin and the builtin indexes) and lists
 * what modprobe would insert, in its order: each dependency with its
 * softdeps, then the module's pre softdeps, the module, its post softdeps;
 * each with its options (modprobe.d, then the kernel command line's
 * mod.param=, then the caller's), without what is loaded or built in.
 * A module that modprobe.d or modprobe.blacklist= blacklists is not loaded,
 * whether asked for by name or by alias, nor as another's dependency or
 * softdep (KMOD_PROBE_APPLY_BLACKLIST_ALL: modprobe's blacklist is for
 * aliases only, systemd's loaders apply it to the module asked for; at
 * boot, a module the command line refuses stays out). A module with an
 * "install" command in modprobe.d is not loaded: the command is not run
 * (an initramfs has no shell), and it is most often "/bin/false", to keep
 * the module out.
 *
 * libkmod only resolves (KMOD_PROBE_DRY_RUN); we insert its list. Built
 * without liblzma (there is no static musl one here), kmod 30 reads a
 * .ko.xz (Debian's 6.12 kernels) as a plain file and hands it to
 * finit_module without MODULE_INIT_COMPRESSED_FILE: the kernel answers
 * ENOEXEC, as for any broken module, so the case cannot be told apart
 * afterwards. Inserting every file ourselves, with that flag when the file
 * is compressed (the kernel decompresses it, CONFIG_MODULE_DECOMPRESS),
 * is right for both kinds, and leaves the one system call in modules-io.c,
 * which the tests replace.
 *
 * libkmod needs depmod's binary indexes (modules.dep.bin...), which
 * mkinitramfs and `depmod -b ROOT VERSION` write. Nothing stays allocated
 * after a call: the daemon keeps nothing. */
#include <dirent.h>
#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pivot.h"

/* <linux/module.h>, Linux 6.4+. */
#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif
#define MODULE_PLAN_MAX 64 /* modules one lookup may insert */
#define MODULE_ALIAS_MAX 512

/* Where to look; NULL for the system's: /lib/modules/$(uname -r) and
 * modprobe.d's four directories. libkmod itself reads /proc/cmdline and
 * /sys/module. */
struct modules_paths {
	const char *dir;
	const char *const *conf_dirs;
};

static const struct modules_paths system_paths = { NULL, NULL };

/* One module to insert. Required: the module asked for or one of its
 * dependencies, whose failure is the call's; the rest are softdeps' and
 * only wished for (libkmod ignores their failure too). */
struct module_step {
	struct kmod_module *mod;
	char *options;
	bool required;
	bool install; /* modprobe.d has an install command for it */
};

struct module_plan {
	struct module_step step[MODULE_PLAN_MAX];
	unsigned n;
	int err;
};

/* The plan that libkmod's print_action callback fills: the callback takes
 * no pointer of ours. Set only for the length of one dry run. */
static struct module_plan *plan_filling;

/* ---- The plan: libkmod's dry run */

static bool plan_has(const struct module_plan *plan, const char *name)
{
	for (unsigned i = 0; i < plan->n; i++)
		if (!strcmp(kmod_module_get_name(plan->step[i].mod), name))
			return true;
	return false;
}

/* libkmod lists a dependency again for every softdep that needs it, and
 * would find it loaded the second time: the first place counts. */
static void plan_collect(struct kmod_module *mod, bool install, const char *options)
{
	struct module_plan *plan = plan_filling;
	struct module_step *s;

	if (plan->err || plan_has(plan, kmod_module_get_name(mod)))
		return;
	if (plan->n == MODULE_PLAN_MAX) {
		plan->err = -E2BIG;
		return;
	}
	s = &plan->step[plan->n];
	s->options = strdup(options);
	if (!s->options) {
		plan->err = -ENOMEM;
		return;
	}
	s->mod = kmod_module_ref(mod);
	s->required = false;
	s->install = install;
	plan->n++;
}

static void plan_free(struct module_plan *plan)
{
	for (unsigned i = 0; i < plan->n; i++) {
		kmod_module_unref(plan->step[i].mod);
		free(plan->step[i].options);
	}
	plan->n = 0;
}

/* By name: a module found through an alias is another object than the
 * same module named in a dependency list. */
static bool list_has(struct kmod_list *list, const char *name)
{
	struct kmod_list *l;
	bool found = false;

	kmod_list_foreach(l, list) {
		struct kmod_module *m = kmod_module_get_module(l);
		found |= !strcmp(kmod_module_get_name(m), name);
		kmod_module_unref(m);
	}
	return found;
}

/* The module and its dependencies (modules.dep lists them all) are
 * required, as libkmod marks them. */
static void plan_mark_required(struct module_plan *plan, struct kmod_module *top)
{
	struct kmod_list *deps = kmod_module_get_dependencies(top);
	const char *top_name = kmod_module_get_name(top);

	for (unsigned i = 0; i < plan->n; i++) {
		const char *name = kmod_module_get_name(plan->step[i].mod);
		plan->step[i].required = !strcmp(name, top_name) || list_has(deps, name);
	}
	kmod_module_unref_list(deps);
}

/* What loading mod takes, in modprobe's order; -EPERM when it is
 * blacklisted. Not KMOD_PROBE_IGNORE_COMMAND: with it libkmod leaves out
 * the softdeps of the module asked for (modprobe --ignore-install). */
static int plan_make(struct kmod_module *mod, const char *options, struct module_plan *plan)
{
	const unsigned flags = KMOD_PROBE_DRY_RUN | KMOD_PROBE_APPLY_BLACKLIST_ALL;
	int r;

	plan_filling = plan;
	r = kmod_module_probe_insert_module(mod, flags, options, NULL, NULL, plan_collect);
	plan_filling = NULL;
	if (r == KMOD_PROBE_APPLY_BLACKLIST_ALL)
		return -EPERM;
	if (r == 0)
		r = plan->err;
	if (r == 0)
		plan_mark_required(plan, mod);
	return r;
}

/* ---- Inserting */

/* depmod names a compressed module by its compression. */
static bool module_compressed(const char *path)
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

static int step_insert(const struct module_step *s)
{
	const char *path = kmod_module_get_path(s->mod);

	if (s->install) {
		log_info("module %s: modprobe.d has an install command for it, not run here",
			 kmod_module_get_name(s->mod));
		return -EPERM;
	}
	if (!path)
		return -ENOENT;
	return modules_finit(path, s->options,
			     module_compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0);
}

/* Inserts the plan in order. Returns how many modules went in, or the
 * first required module's error. */
static int plan_run(const struct module_plan *plan)
{
	int inserted = 0, r;

	for (unsigned i = 0; i < plan->n; i++) {
		const struct module_step *s = &plan->step[i];
		const char *name = kmod_module_get_name(s->mod);

		r = step_insert(s);
		if (r < 0 && !s->required) {
			log_debug("module %s (a softdep) not loaded: %s", name, strerror(-r));
		} else if (r < 0) {
			log_warn("loading module %s failed: %s", name, strerror(-r));
			return r;
		} else {
			log_debug("module %s %s", name, r ? "inserted" : "was loaded");
			inserted += r;
		}
	}
	return inserted;
}

static int load_module(struct kmod_module *mod, const char *options)
{
	struct module_plan plan = { .n = 0 };
	const char *name = kmod_module_get_name(mod);
	int r = plan_make(mod, options, &plan);

	if (r == -EPERM)
		log_info("module %s is blacklisted (modprobe.d or modprobe.blacklist=)", name);
	else if (r < 0)
		log_warn("module %s: %s", name, strerror(-r));
	else
		r = plan_run(&plan);
	plan_free(&plan);
	return r;
}

/* Loads what a name or modalias resolves to: returns how many modules it
 * inserted (0 when all were there or built in), -ENOENT when nothing
 * knows it, or the first error. */
static int load_lookup(struct kmod_ctx *ctx, const char *what, const char *options)
{
	struct kmod_list *list = NULL, *l;
	int loaded = 0, err = 0, r;

	r = kmod_module_new_from_lookup(ctx, what, &list);
	if (r < 0)
		return r;
	if (!list)
		return -ENOENT;
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);
		r = load_module(mod, options);
		kmod_module_unref(mod);
		if (r < 0)
			err = err ? err : r;
		else
			loaded += r;
	}
	kmod_module_unref_list(list);
	return loaded > 0 || !err ? loaded : err;
}

/* ---- The context */

static bool dir_has(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* NULL only without memory. Without the indexes in memory libkmod opens
 * the files at each lookup, and finds nothing where depmod never ran. */
static struct kmod_ctx *modules_open(const struct modules_paths *paths)
{
	struct kmod_ctx *ctx = kmod_new(paths->dir, paths->conf_dirs);
	const char *dir;

	if (!ctx) {
		log_warn("libkmod: %s", strerror(ENOMEM));
		return NULL;
	}
	if (kmod_load_resources(ctx) < 0) {
		dir = kmod_get_dirname(ctx);
		if (dir_has(dir, "modules.dep") && !dir_has(dir, "modules.dep.bin"))
			log_warn("%s has no modules.dep.bin: modules need depmod's indexes", dir);
	}
	return ctx;
}

static int modules_load(const struct modules_paths *paths, const char *name,
			const char *options)
{
	struct kmod_ctx *ctx = modules_open(paths);
	int r;

	if (!ctx)
		return -ENOMEM;
	r = load_lookup(ctx, name, options);
	kmod_unref(ctx);
	return r < 0 ? r : 0;
}

int pivot_load_module(const char *name, const char *options)
{
	return modules_load(&system_paths, name, options);
}

/* One pass over a bus: returns how many new modules loaded. */
static int load_bus(struct kmod_ctx *ctx, const char *sys_bus, const char *bus)
{
	char dir[256], path[512], alias[MODULE_ALIAS_MAX];
	struct dirent *de;
	DIR *d;
	int loaded = 0;

	snprintf(dir, sizeof(dir), "%s/%s/devices", sys_bus, bus);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/modalias", dir, de->d_name);
		if (read_text_file(path, alias, sizeof(alias)) == 0 && alias[0] &&
		    load_lookup(ctx, alias, NULL) > 0)
			loaded++;
	}
	closedir(d);
	return loaded;
}

/* Whether sys_bus's /sys has a network interface other than lo. */
static bool have_nic(const char *sys_bus)
{
	char dir[256];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/../class/net", sys_bus);
	d = opendir(dir);
	while (d && !found && (de = readdir(d)) != NULL)
		found = de->d_name[0] != '.' && strcmp(de->d_name, "lo");
	if (d)
		closedir(d);
	return found;
}

static int modules_load_nic_drivers(const struct modules_paths *paths, const char *sys_bus)
{
	static const char *const buses[] = { "pci", "virtio", "usb", "vmbus" };
	struct kmod_ctx *ctx = modules_open(paths);

	if (!ctx)
		return -ENOMEM;
	/* A bus driver (virtio_pci) makes new devices (virtio-net) appear,
	 * as its probe runs, inside the insertion: the next round at once.
	 * Only buses that find their devices later (USB, vmbus) need time,
	 * given while no interface is there yet. */
	for (int round = 0; round < 5; round++) {
		int n = 0;
		for (size_t i = 0; i < ARRAY_SIZE(buses); i++)
			n += load_bus(ctx, sys_bus, buses[i]);
		if (n > 0)
			continue;
		if (have_nic(sys_bus))
			break;
		usleep(100 * 1000);
	}
	kmod_unref(ctx);
	return 0;
}

int pivot_load_nic_drivers(void)
{
	return modules_load_nic_drivers(&system_paths, "/sys/bus");
}
