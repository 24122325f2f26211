/* SPDX-License-Identifier: MIT */
/*
 * The root-storage daemon, as every mode starts it (PID 1, `iscsiroot up`
 * from initramfs-tools, the iscsistart drop-in): network, iSCSI login, the
 * block device, and then serving it for the life of the system.
 *
 * The starter (start.c) forks; the child re-executes this binary from a
 * memfd (so after the switch it holds nothing of the deleted initramfs,
 * not even its own executable) as `@iscsiroot daemon FD`. FD is one end
 * of a socketpair: the starter writes the whole struct boot_config into
 * it (the same binary is on both ends, so its layout is the same; secrets
 * never appear in argv or the environment), and the daemon answers in the
 * lines daemon.h lists: "path I HOST" as it tries each path, then one of
 * "ready DEV LUN", "retry MESSAGE" or "fatal MESSAGE". The daemon is a
 * keeper and the worker it forks, which serves (see "The keeper" below).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

#define UBLK_CONTROL_PATH "/dev/ublk-control"
#define DEFAULT_INITIATOR_PREFIX "iqn.2025-01.org.iscsiroot:"

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

/* One NIC a path (the network step configures each NIC on its own): a
 * path whose NIC is not configured yet is not started (bound to a NIC
 * without an address, its SYNs would leave with another NIC's); it
 * joins the disk once dhcpc says its NIC is configured. */
struct nic_paths {
	const struct boot_config *bc;
	const struct dhcpc_rootpath *paths;
	unsigned npaths;
	struct dhcpc *net;           /* with every_iface; else NULL */
	bool nic_up[BOOT_MAX_PATHS]; /* the path's NIC is configured */
	bool started[BOOT_MAX_PATHS];
	struct serve *srv;           /* once serving */
};

static bool nic_up(const struct nic_paths *np, unsigned i)
{
	return !np->net || !np->paths[i].netdev[0] || np->nic_up[i];
}

/* The boot goes on once one path's NIC is configured, or every NIC is
 * configured or given up. */
static bool a_path_nic_up(void *ctx)
{
	const struct nic_paths *np = ctx;
	bool up = np->npaths == 0 || dhcpc_settled(np->net);

	for (unsigned i = 0; i < np->npaths; i++)
		up |= nic_up(np, i);
	return up;
}

/* One more path to the disk being served (its NIC came up late, or the
 * target listed it); opt is room for its configuration. A path to a
 * portal already there (-EEXIST) is no news. */
static void join_path(struct serve *srv, const struct boot_config *bc,
		      const struct dhcpc_rootpath *path, struct serve_options *opt,
		      const char *why)
{
	char err[200] = "out of memory", hp[HOST_PORT_LEN];
	int r = opt ? daemon_target_config(bc, path, opt, err, sizeof(err)) : -ENOMEM;

	if (r == 0 && (r = serve_add_path(srv, &opt->iscsi)) < 0)
		snprintf(err, sizeof(err), "%s", strerror(-r));
	host_port(hp, path->host, path->port);
	if (r == 0)
		log_info("path %u: %s, %s", iscsi_mpath_paths(serve_mpath(srv)), hp, why);
	else if (r != -EEXIST)
		log_warn("portal %s left out: %s", hp, err);
}

static void join_late_paths(struct nic_paths *np)
{
	for (unsigned i = 0; np->srv && i < np->npaths && i < ISCSI_MPATH_MAX; i++) {
		const struct dhcpc_rootpath *p = &np->paths[i];
		struct serve_options *opt;

		if (np->started[i] || !nic_up(np, i))
			continue;
		np->started[i] = true;
		opt = malloc(sizeof(*opt));
		join_path(np->srv, np->bc, p, opt, "its NIC is up");
		if (opt)
			secure_zero(opt, sizeof(*opt));
		free(opt);
	}
}

/* A NIC is configured: the paths through it (with the iBFT's VLAN, the
 * lease is on "<netdev>.<vid>") may start. */
static void on_nic(struct dhcpc *d, const char *ifname, const struct dhcpc_lease *lease,
		   int status, void *ctx)
{
	struct nic_paths *np = ctx;

	(void)d;
	(void)lease;
	for (unsigned i = 0; status == 0 && i < np->npaths; i++) {
		size_t n = strlen(np->paths[i].netdev);

		if (!strncmp(ifname, np->paths[i].netdev, n) && (!ifname[n] || ifname[n] == '.'))
			np->nic_up[i] = true;
	}
	join_late_paths(np);
}

/* write_files: the hand-over files for the rest of the initramfs; not
 * again when a restarted serving process renews the lease after the
 * switch, where "/" is the real root. */
static int bring_up_network(struct ev_loop *loop, const struct boot_config *bc,
			    bool write_files, struct dhcpc **d, struct nic_paths *np,
			    char *err, size_t errlen)
{
	struct dhcpc_config dc;
	struct net_wait w = { 0 };
	int r;

	r = pivot_network_config(bc, &dc, err, errlen);
	dc.write_files = write_files;
	if (r < 0 || dc.ip.mode == DHCPC_IP_OFF)
		return r;
	dc.on_iface = on_nic;
	dc.on_iface_ctx = np;
	r = dhcpc_start(loop, &dc, net_done, &w, d);
	if (r == 0 && dc.every_iface)
		np->net = *d;
	if (r == 0)
		r = ev_run_until(loop, ev_flag_done, &w.done, -1);
	if (r == 0)
		r = w.status;
	if (r == 0 && np->net)
		r = ev_run_until(loop, a_path_nic_up, np, -1);
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

/* The DHCP root-path, when nothing else named a target. */
static int lease_rootpath(const struct dhcpc *d, struct dhcpc_rootpath *rp,
			  char *err, size_t errlen)
{
	const struct dhcpc_lease *lease = d ? dhcpc_get_lease(d) : NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s", lease ? lease->rootpath : "");
	/* dnsmasq passes quotes on (--dhcp-option=17,'"iscsi:…"'): a
	 * common slip that costs nothing to forgive. */
	if (path[0] == '"' && strlen(path) > 1 && path[strlen(path) - 1] == '"') {
		memmove(path, path + 1, strlen(path) - 2);
		path[strlen(path) - 2] = '\0';
	}
	if (strncmp(path, "iscsi:", 6) || dhcpc_rootpath_parse(path, rp) < 0) {
		snprintf(err, errlen, "no iSCSI target: give netroot=iscsi:... or "
			 "root=iscsi:..., or serve a DHCP root-path (option 17)");
		return -EINVAL;
	}
	if (!rp->host[0] && lease)
		snprintf(rp->host, sizeof(rp->host), "%s", inet_ntoa(lease->siaddr));
	/* The path goes where the lease came from. */
	if (!rp->netdev[0] && lease)
		memcpy(rp->netdev, lease->ifname, sizeof(rp->netdev));
	log_info("target from the DHCP root-path");
	return 0;
}

static int apply_params(const struct boot_config *bc, struct iscsi_config *c,
			char *err, size_t errlen)
{
	for (unsigned i = 0; i < bc->nparams; i++) {
		char key[256], *eq;
		int r;

		snprintf(key, sizeof(key), "%s", bc->params[i]);
		eq = strchr(key, '=');
		if (!eq)
			continue;
		*eq = '\0';
		r = iscsi_config_set_node_param(c, key, eq + 1);
		if (r == -ENOENT)
			log_warn("ignoring the unknown node setting %s", key);
		else if (r < 0) {
			snprintf(err, errlen, "invalid value for the node setting %s", key);
			return r;
		}
	}
	return 0;
}

/* A password from the command line, a file or the iBFT is the secret
 * itself: "file:..." there is not a reference, as it is for the CLI. */
static void literal_secret(uint8_t *out, size_t *len, const char *password)
{
	*len = MIN(strlen(password), (size_t)ISCSI_SECRET_LEN);
	memcpy(out, password, *len);
}

int daemon_target_config(const struct boot_config *bc, const struct dhcpc_rootpath *path,
			 struct serve_options *opt, char *err, size_t errlen)
{
	struct iscsi_config *c = &opt->iscsi;

	memset(opt, 0, sizeof(*opt));
	iscsi_config_defaults(c);
	if (bc->initiator[0])
		snprintf(c->initiator_name, sizeof(c->initiator_name), "%s", bc->initiator);
	else
		default_initiator(c->initiator_name, sizeof(c->initiator_name));
	snprintf(c->target_name, sizeof(c->target_name), "%s", path->target);
	snprintf(c->host, sizeof(c->host), "%s", path->host);
	c->port = path->port;
	/* The path's own NIC, as its source names it (iBFT NIC, dracut's
	 * netdev, ip='s device): its session goes through that NIC only. */
	snprintf(c->ifname, sizeof(c->ifname), "%s", path->netdev);
	snprintf(c->user, sizeof(c->user), "%s", path->user);
	literal_secret(c->secret, &c->secret_len, path->password);
	snprintf(c->ruser, sizeof(c->ruser), "%s", path->ruser);
	literal_secret(c->rsecret, &c->rsecret_len, path->rpassword);
	opt->lun = path->lun;
	c->first_login_timeout_ms = 30000;
	c->replacement_timeout_ms = bc->replacement_timeout_ms;
	if (bc->login_retry_max >= 0) {
		/* rd.iscsi.login_retry_max: open-iscsi's node key says it. */
		char n[16];
		snprintf(n, sizeof(n), "%d", bc->login_retry_max);
		iscsi_config_set_node_param(c, "node.session.initial_login_retry_max", n);
	}
	/* One NBD connection per CPU lets the kernel submit in parallel. */
	opt->queues = bc->queues ? bc->queues
				 : (unsigned)MIN(MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L), 4L);
	opt->backend = bc->blockdev;    /* empty: ublk where the kernel has it */
	opt->nbd_ioctl = bc->nbd_ioctl;
	opt->ublk_buffer_bytes = bc->ublk_buffer_mib << 20;
	opt->trace_path = bc->trace[0] ? bc->trace : NULL;
	return apply_params(bc, c, err, errlen);
}

static bool fatal_errno(int r)
{
	return r == -EACCES || r == -EPERM || r == -ENOENT || r == -EINVAL;
}

/* Who a serving process reports to, and what it takes over. */
struct worker_role {
	int report_fd;          /* the starter's socket (first worker), else -1 */
	int keeper_fd;          /* the keeper's pipe: "recoverable N LUN" */
	bool recover;           /* a restart: take over device index */
	unsigned index;
	char backend[8];        /* of that device: "ublk" or "nbd" */
	uint64_t lun;           /* the first worker's LUN, for paths without one */
	dev_t control_dev, char_dev;    /* /dev/ublk-control, /dev/ublkc<index> */
	/* The disk the device was made for: a new worker takes the device
	 * over only if its LUN is still that disk. */
	struct iscsi_disk_identity identity;
};

/* What a worker whose disk can outlive it tells the keeper, in one write
 * (atomic: well under PIPE_BUF): a line "recoverable INDEX LUN
 * CONTROL_DEV CHAR_DEV BACKEND" and the disk's identity. Keeper and
 * worker are one program (fork), so the struct goes as it is. */
struct keeper_note {
	char line[96];
	struct iscsi_disk_identity identity;
};
_Static_assert(sizeof(struct keeper_note) <= PIPE_BUF, "keeper note not atomic");

/* What the first worker tells its starter about the path it tries: the
 * starter stops a daemon stuck on one path, and knows which (daemon.h). */
struct path_report {
	int fd;
	unsigned index;
	unsigned of_session[ISCSI_MPATH_MAX]; /* the session's path index */
};

static void report_path(const struct path_report *p, const char *host)
{
	if (p->fd >= 0)
		dprintf(p->fd, "path %u %s\n", p->index, host);
}

static void report_login(void *ctx, unsigned path)
{
	const struct path_report *p = ctx;

	if (p->fd >= 0)
		dprintf(p->fd, "login %u\n", p->of_session[path]);
}

/* The portals the target lists (SendTargets) as more paths, through the
 * configuration's own rules (pivot/paths.c: the target's name, the portal
 * group rd.iscsi.target.group= or iscsistart -g gave, none twice, at most
 * BOOT_MAX_PATHS); the path that answered is their template (credentials,
 * LUN). */
struct more_portals {
	const struct boot_config *bc;
	const struct dhcpc_rootpath *paths;
	unsigned npaths;
	const unsigned *of_session;     /* a session's index in paths */
};

static void add_listed_portals(void *ctx, struct serve *srv, unsigned path, char *text,
			       size_t len)
{
	const struct more_portals *mp = ctx;
	struct boot_config *found = malloc(sizeof(*found));
	struct serve_options *opt = malloc(sizeof(*opt));
	unsigned had = 0;
	int r = found && opt ? 0 : -ENOMEM;

	if (r == 0) {
		*found = *mp->bc;
		found->npaths = 0;
		for (unsigned i = 0; i < mp->npaths; i++)
			boot_config_add_path(found, &mp->paths[i], "configuration");
		had = found->npaths;
		r = boot_paths_from_send_targets(found, &mp->paths[mp->of_session[path]], text, len,
						 found->target_group ? (int)found->target_group : -1);
	}
	if (r < 0)
		log_warn("the target's list of portals (SendTargets) is unusable: %s", strerror(-r));
	for (unsigned i = had; r >= 0 && i < found->npaths; i++)
		join_path(srv, found, &found->paths[i], opt, "from the target's SendTargets answer");
	if (found)
		secure_zero(found, sizeof(*found));
	if (opt)
		secure_zero(opt, sizeof(*opt));
	free(found);
	free(opt);
}

/* Every path at once (multipath): the first that logs in is probed and
 * serves; the others join once their LUN shows the same disk, and are
 * retried for as long as the system runs. */
static int serve_all_paths(struct ev_loop *loop, const struct boot_config *bc,
			   const struct dhcpc_rootpath *paths, unsigned npaths,
			   const bool *nic_up, const struct worker_role *role,
			   struct serve **srv, char *dev, size_t devlen, uint64_t *lun,
			   char *err, size_t errlen)
{
	struct serve_options *opt = malloc(sizeof(*opt)), *more = malloc(sizeof(*more));
	struct path_report report = { .fd = role->report_fd };
	struct more_portals listed = { bc, paths, MIN(npaths, (unsigned)ISCSI_MPATH_MAX),
				       report.of_session };
	unsigned n = 0;
	int r = opt && more ? 0 : -ENOMEM;

	for (unsigned i = 0; r == 0 && i < npaths && i < ISCSI_MPATH_MAX; i++) {
		if (!nic_up[i]) {
			log_info("path %u waits for %s", i + 1, paths[i].netdev);
			continue;
		}
		report_path(&(struct path_report){ .fd = role->report_fd, .index = i },
			    paths[i].host);
		r = daemon_target_config(bc, &paths[i], n ? more : opt, err, errlen);
		if (r == 0 && n)
			opt->more[opt->nmore++] = more->iscsi;
		report.of_session[n++] = i;
	}
	if (r == 0 && n == 0)
		r = -ENETDOWN;          /* no path's NIC is configured */
	if (npaths > ISCSI_MPATH_MAX)
		log_warn("%u paths to the disk: the first %d are used", npaths, ISCSI_MPATH_MAX);
	if (r == 0) {
		opt->policy = bc->mpath_policy;
		opt->defer_last = bc->last_path_mute && opt->nmore > 0;
		opt->logged_in = report_login;
		opt->logged_in_ctx = &report;
		opt->portals = add_listed_portals;
		opt->portals_ctx = &listed;
		opt->recover = role->recover;
		opt->recover_index = role->index;
		opt->recover_backend = role->backend;
		opt->expect = role->recover ? &role->identity : NULL;
		if (opt->lun == BOOT_LUN_ANY && role->recover)
			opt->lun = role->lun;
		r = serve_start(loop, opt, srv, dev, devlen, err, errlen);
	}
	if (r == 0)
		*lun = serve_lun(*srv);
	if (opt)
		secure_zero(opt, sizeof(*opt));
	if (more)
		secure_zero(more, sizeof(*more));
	free(opt);
	free(more);
	return r;
}

/* A keeper_note when the disk can outlive this process. ublk's device
 * numbers are taken now, while /dev is ours: the starter may switch the
 * root as soon as we report ready. NBD needs no node: a new server
 * reaches the device by netlink. */
static void tell_keeper(int fd, const struct serve *srv, uint64_t lun)
{
	int index = serve_recovery_index(srv);
	const char *backend = serve_backend(srv);
	struct keeper_note note;
	char path[32];
	struct stat control = { 0 }, chardev = { 0 };

	if (index < 0)
		return;
	if (!strcmp(backend, "ublk")) {
		snprintf(path, sizeof(path), "/dev/ublkc%d", index);
		if (stat(UBLK_CONTROL_PATH, &control) < 0 || stat(path, &chardev) < 0)
			return;
	}
	memset(&note, 0, sizeof(note));
	snprintf(note.line, sizeof(note.line), "recoverable %d %016llx %llx %llx %s", index,
		 (unsigned long long)lun, (unsigned long long)control.st_rdev,
		 (unsigned long long)chardev.st_rdev, backend);
	serve_identity(srv, &note.identity);
	if (write_full(fd, &note, sizeof(note)) < 0)
		log_warn("cannot tell the keeper about the disk: it will not be taken over");
}

/* "/dev/ublkb0", "/dev/nbd0": the disk a keeper's worker serves. */
static const char *disk_path(const struct worker_role *role, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/%s%u", strcmp(role->backend, "nbd") ? "ublkb" : "nbd",
		 role->index);
	return buf;
}

/* Exit statuses of a serving process, for the keeper. */
#define WORKER_FAILED 1
#define WORKER_NOTHING_TO_RECOVER 3

static void run_worker(const struct boot_config *bc, const struct worker_role *role)
{
	struct ev_loop loop;
	struct dhcpc *net = NULL;
	struct dhcpc_rootpath from_dhcp;
	const struct dhcpc_rootpath *paths = bc->paths;
	unsigned npaths = bc->npaths;
	struct serve *srv = NULL;
	struct nic_paths np = { .bc = bc, .paths = bc->paths, .npaths = bc->npaths };
	char err[512] = "", dev[64], ready[96];
	uint64_t lun = 0;
	int r;

	log_set_prefix("iscsiroot");
	r = ev_loop_init(&loop);
	if (r == 0)
		r = bring_up_network(&loop, bc, !role->recover, &net, &np, err, sizeof(err));
	if (r == 0 && npaths == 0) {
		r = lease_rootpath(net, &from_dhcp, err, sizeof(err));
		paths = &from_dhcp;
		npaths = 1;
		np.npaths = 0;          /* its NIC is the lease's: up */
	}
	for (unsigned i = 0; i < np.npaths; i++)
		np.started[i] = nic_up(&np, i);
	if (np.npaths == 0)
		np.started[0] = true;   /* the lease's path, or none */
	if (r == 0)
		r = serve_all_paths(&loop, bc, paths, npaths, np.started, role, &srv, dev,
				    sizeof(dev), &lun, err, sizeof(err));
	secure_zero(&from_dhcp, sizeof(from_dhcp));
	np.srv = srv;
	join_late_paths(&np);           /* NICs configured meanwhile */
	if (r < 0) {
		if (role->report_fd >= 0)
			report(role->report_fd, fatal_errno(r) ? "fatal" : "retry",
			       err[0] ? err : strerror(-r));
		else
			log_err("taking over %s failed: %s",
				disk_path(role, ready, sizeof(ready)), err[0] ? err : strerror(-r));
		_exit(r == -ENODEV && role->recover ? WORKER_NOTHING_TO_RECOVER : WORKER_FAILED);
	}
	snprintf(ready, sizeof(ready), "%s %016llx", dev, (unsigned long long)lun);
	tell_keeper(role->keeper_fd, srv, lun);
	close(role->keeper_fd);
	if (role->report_fd >= 0) {
		report(role->report_fd, "ready", ready);
		close(role->report_fd);
	}
	if (chdir("/") < 0)
		log_debug("chdir: %s", strerror(errno));
	/* Only a broken epoll ends this: the keeper then starts a new worker
	 * that takes the disk over. */
	r = ev_run_until(&loop, NULL, NULL, -1);
	log_err("serving %s stopped: the event loop failed: %s", dev, strerror(-r));
	_exit(WORKER_FAILED);
}

/* ---- The keeper
 *
 * The daemon is two processes. The keeper forks the serving process (the
 * worker) and waits. The disk outlives its server: ublk with
 * USER_RECOVERY holds its I/O, and NBD set up by netlink waits for a new
 * socket (its requests the dead worker had taken come again after the
 * driver's request timeout, 30 s). So when a worker dies, by a bug, the
 * OOM killer or an admin's kill -9, the keeper starts another that logs in
 * again and takes the disk over; the re-issued requests cost a pause, not
 * an I/O error. Without that (ublk without recovery, NBD by ioctls) the
 * keeper can only say so. */

/* Restarts after 0, 1, 2, 4 … 30 s, so that a worker that cannot come up
 * (the target down for long) is not restarted in a tight loop. */
#define KEEPER_BACKOFF_MAX_S 30

/* argv[1] says which of the two a process is in ps: "daemon" (the worker)
 * or "keeper"; both six letters, so argv is rewritten in place. */
static void name_role(char **argv, const char *role)
{
	if (argv && argv[0] && argv[1] && strlen(argv[1]) == 6 &&
	    (!strcmp(argv[1], "daemon") || !strcmp(argv[1], "keeper")))
		memcpy(argv[1], role, 6);
}

static pid_t fork_worker(const struct boot_config *bc, struct worker_role *role,
			 char **argv, int *from_worker)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		role->keeper_fd = p[1];
		name_role(argv, "daemon");
		daemon_harden(NULL);    /* memory locks are not inherited */
		/* The kernel lets one open /dev/kmsg burst 10 lines per 5 s: a
		 * new worker's own keeps its lines from being dropped. */
		if (role->recover)
			log_use_kmsg();
		run_worker(bc, role);
		_exit(WORKER_FAILED);
	}
	close(p[1]);
	*from_worker = p[0];
	return pid;
}

/* Blocks until the worker serves a disk that can outlive it (true, role
 * filled from tell_keeper's line) or ends or serves one that cannot. */
static bool worker_recoverable(int fd, struct worker_role *role)
{
	struct keeper_note note;
	char *line = note.line, *end;
	unsigned long index;

	if (read_full(fd, &note, sizeof(note)) != (ssize_t)sizeof(note))
		return false;
	line[sizeof(note.line) - 1] = '\0';
	if (strncmp(line, "recoverable ", 12))
		return false;
	index = strtoul(line + 12, &end, 10);
	if (*end != ' ' || index > UINT32_MAX)
		return false;
	role->index = (unsigned)index;
	role->lun = strtoull(end + 1, &end, 16);
	role->control_dev = (dev_t)strtoull(end, &end, 16);
	role->char_dev = (dev_t)strtoull(end, &end, 16);
	while (*end == ' ')
		end++;
	end[strcspn(end, " \n")] = '\0';
	if (strcmp(end, "ublk") && strcmp(end, "nbd"))
		return false;
	snprintf(role->backend, sizeof(role->backend), "%s", end);
	role->identity = note.identity;
	return true;
}

static void make_node(const char *path, dev_t dev)
{
	struct stat st;

	if (stat(path, &st) == 0 || !dev)
		return;
	mkdir("/dev", 0755);
	if (mknod(path, S_IFCHR | 0600, dev) < 0)
		log_warn("cannot make %s: %s", path, strerror(errno));
}

static void mount_if_missing(const char *probe, const char *dir, const char *type)
{
	if (access(probe, F_OK) == 0)
		return;
	mkdir(dir, 0555);
	if (mount(type, dir, type, MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		log_warn("cannot mount %s on %s: %s", type, dir, strerror(errno));
}

/* After the switch our "/" is the emptied initramfs: /dev, /proc and /sys
 * moved to the new root, out of our sight. A worker that takes over opens
 * the ublk nodes (made again from their numbers) and /dev/kmsg, and reads
 * /proc and /sys (the mount watch, oom_score_adj). These stay in our own root, which no
 * process of the new root can reach or see in its mountinfo. */
static void prepare_takeover(const struct worker_role *role)
{
	char path[32];

	if (!strcmp(role->backend, "ublk")) {
		snprintf(path, sizeof(path), "/dev/ublkc%u", role->index);
		make_node(UBLK_CONTROL_PATH, role->control_dev);
		make_node(path, role->char_dev);
	}
	make_node("/dev/kmsg", makedev(1, 11));
	mount_if_missing("/proc/self", "/proc", "proc");
	mount_if_missing("/sys/class", "/sys", "sysfs");
}

static const char *how_it_ended(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	return buf;
}

static int wait_worker(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static void keep_serving(const struct boot_config *bc, int report_fd, char **argv)
{
	struct worker_role role = { .report_fd = report_fd, .keeper_fd = -1 };
	unsigned backoff = 0;

	for (;;) {
		int from_worker, status;
		char how[48], path[32];
		pid_t pid = fork_worker(bc, &role, argv, &from_worker);

		if (pid < 0) {
			snprintf(how, sizeof(how), "cannot fork: %s", strerror(errno));
			if (role.report_fd >= 0)
				report(role.report_fd, "retry", how);
			log_err("%s", how);
			_exit(WORKER_FAILED);
		}
		name_role(argv, "keeper");
		/* The starter waits for the first worker's word, not ours. */
		if (role.report_fd >= 0)
			close(role.report_fd);
		role.report_fd = -1;
		if (worker_recoverable(from_worker, &role)) {
			role.recover = true;
			backoff = 0;
		}
		close(from_worker);
		status = wait_worker(pid);
		if (!role.recover) {
			if (WIFSIGNALED(status))
				log_err("the serving process %s; its disk has no server now",
					how_it_ended(status, how, sizeof(how)));
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : WORKER_FAILED);
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_NOTHING_TO_RECOVER)
			_exit(WORKER_FAILED);
		log_warn("the process serving %s %s; starting another in %u s",
			 disk_path(&role, path, sizeof(path)), how_it_ended(status, how, sizeof(how)),
			 backoff);
		sleep(backoff);
		backoff = backoff ? MIN(backoff * 2, KEEPER_BACKOFF_MAX_S) : 1;
		prepare_takeover(&role);
	}
}

/* The daemon outlives whoever started it: no terminal, and no inherited
 * pipe or file as stdin/stdout (a $(iscsiroot up) would otherwise wait
 * for it forever). stderr stays when it is the console, where PID 1
 * mode's lines belong; its messages also go to the kernel log. */
static void detach(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct stat st;

	setsid();
	if (null < 0)
		return;
	dup2(null, 0);
	dup2(null, 1);
	if (fstat(2, &st) < 0 || !S_ISCHR(st.st_mode))
		dup2(null, 2);
	if (null > 2)
		close(null);
}

static int read_config(int fd, struct boot_config *bc)
{
	return read_full(fd, bc, sizeof(*bc)) == (ssize_t)sizeof(*bc) ? 0 : -EPIPE;
}

void daemon_run(const struct boot_config *bc, int report_fd, char **argv)
{
	if (bc->debug)
		log_set_level(LOG_DEBUG);
	detach();
	daemon_harden(argv);
	keep_serving(bc, report_fd, argv);
	_exit(WORKER_FAILED);
}

int rootd_main(int argc, char **argv)
{
	struct boot_config bc;
	uint64_t fd;

	if (argc < 2 || parse_u64(argv[1], 3, 1024, &fd) < 0)
		return 2;
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	log_use_kmsg();
	if (read_config((int)fd, &bc) < 0) {
		report((int)fd, "fatal", "the daemon got no configuration");
		return 1;
	}
	daemon_run(&bc, (int)fd, argv - 1);
}

/* ---- The root-storage rules */

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		log_debug("writing %s failed", path);
	close(fd);
}

/* systemd spares a root-owned process whose argv[0] starts with '@' at
 * switch-root and shutdown (ROOT_STORAGE_DAEMONS). Run in place, argv is
 * the caller's ("iscsistart ..."): the '@' goes in front of the name when
 * the next string, wiped by then, is right behind it, else over its first
 * letter. */
static void mark_root_storage(char **argv)
{
	size_t n;

	if (!argv || !argv[0] || !argv[0][0] || argv[0][0] == '@')
		return;
	n = strlen(argv[0]);
	/* argv[1] then starts at the name's new NUL: still an empty string */
	if (argv[1] && argv[1] == argv[0] + n + 1 && !argv[1][0])
		memmove(argv[0] + 1, argv[0], n + 1);
	argv[0][0] = '@';
}

void daemon_harden(char **argv)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };

	mark_root_storage(argv);
	/* Run from a memfd, the kernel would name us after the fd. */
	prctl(PR_SET_NAME, "iscsiroot", 0, 0, 0);
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		log_warn("mlockall failed: %s", strerror(errno));
	write_file("/proc/self/oom_score_adj", "-1000");
	/* Memory reclaim may wait on our writes: never make us wait on it. */
	if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) < 0)
		log_debug("PR_SET_IO_FLUSHER: %s", strerror(errno));
	sigaction(SIGTERM, &ign, NULL);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGHUP, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
}
