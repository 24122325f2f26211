/* SPDX-License-Identifier: MIT */
/* discover, inquiry, read, write: the iSCSI tools of the binary. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"

#define IO_CHUNK (1024 * 1024)
#define IO_DEPTH 8

enum { OPT_OFFSET = OPT_COMMAND_SPECIFIC, OPT_LENGTH, OPT_FUA, OPT_DISCARD, OPT_IO_SIZE };

static const struct option rw_options[] = {
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "fua", no_argument, NULL, OPT_FUA },
	{ "discard", no_argument, NULL, OPT_DISCARD },
	{ "io-size", required_argument, NULL, OPT_IO_SIZE },
	{ 0 },
};

struct rw_opts {
	uint64_t offset;
	uint64_t length;        /* 0: to the end (read) or until EOF (write) */
	bool fua;
	bool discard;
	uint64_t io_size;       /* bytes per command; 0: IO_CHUNK */
};

static int rw_option(void *ctx, int opt, const char *arg)
{
	struct rw_opts *rw = ctx;

	switch (opt) {
	case OPT_OFFSET: return cli_parse_size(arg, &rw->offset);
	case OPT_LENGTH: return cli_parse_size(arg, &rw->length);
	case OPT_IO_SIZE:
		return cli_parse_size(arg, &rw->io_size) < 0 || rw->io_size < 512 ||
		       rw->io_size > IO_CHUNK ? -EINVAL : 0;
	case OPT_FUA: rw->fua = true; return 0;
	case OPT_DISCARD: rw->discard = true; return 0;
	default: return -EINVAL;
	}
}

/* Parses argv; returns -1 for a usage error, 1 after --help, else 0. */
static int parse(int argc, char **argv, struct cli_iscsi *c, struct rw_opts *rw,
		 const struct option *longopts, bool need_target, const char *help)
{
	if (cli_parse_options(argc, argv, c, longopts, rw ? rw_option : NULL, rw) < 0)
		return -1;
	if (c->help) {
		cli_print_help(stdout, help);
		return 1;
	}
	/* Portals as arguments, when no -p gave any. */
	for (bool positional = c->nportals == 0; positional && optind < argc; optind++)
		if (cli_common_option(c, 'p', argv[optind]) < 0)
			return -1;
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return cli_finish_options(c, need_target) < 0 ? -1 : 0;
}

static int parse_or_exit(int argc, char **argv, struct cli_iscsi *c,
			 struct rw_opts *rw, const struct option *longopts,
			 bool need_target, const char *help)
{
	int r = parse(argc, argv, c, rw, longopts, need_target, help);

	if (r < 0)
		fprintf(stderr, "try 'iscsiroot %s --help'\n", argv[0]);
	return r < 0 ? EXIT_USAGE : r > 0 ? -1 : EXIT_OK;
}

/* ---- discover */

static const char discover_help[] =
	"usage: iscsiroot discover [OPTIONS] PORTAL...\n"
	"Asks each PORTAL (or each --portal) for its targets (SendTargets=All)\n"
	"and prints\n"
	"  HOST:PORT,TPGT TARGETNAME\n"
	"for each portal of each target, each line once: several portals of one\n"
	"target that each list only themselves (tgtd does) are all shown. A\n"
	"portal that does not answer is a warning while another does. CHAP\n"
	"options apply to the discovery sessions.\n\noptions:\n" CLI_COMMON_HELP
	"\n" CLI_EXIT_CODES_HELP;

struct discover_result {
	bool done;
	int err;
	struct iscsi_target_entry targets[64];
	size_t n;
	char (*seen)[320];              /* lines printed, from every portal */
	size_t nseen;
};

static void on_targets(void *ctx, int err, char *text, size_t len)
{
	struct discover_result *d = ctx;

	d->done = true;
	d->err = err ? err : iscsi_parse_send_targets(text, len, d->targets,
						      ARRAY_SIZE(d->targets), &d->n);
}

struct discover_wait {
	const struct discover_result *d;
	const struct iscsi_session *s;
};

/* The answer came, or the session that was to bring it is gone. */
static bool discover_settled(void *ctx)
{
	const struct discover_wait *w = ctx;

	return w->d->done || !iscsi_session_ready(w->s);
}

/* Prints line unless an earlier portal's answer had it. */
static void print_once(struct discover_result *d, const char *line)
{
	void *more;

	for (size_t i = 0; i < d->nseen; i++)
		if (!strcmp(d->seen[i], line))
			return;
	puts(line);
	more = realloc(d->seen, (d->nseen + 1) * sizeof(*d->seen));
	if (!more)
		return;         /* printed; only the duplicate check is lost */
	d->seen = more;
	snprintf(d->seen[d->nseen++], sizeof(*d->seen), "%s", line);
}

static void print_targets(struct discover_result *d)
{
	char line[320], name[HOST_PORT_LEN];

	for (size_t i = 0; i < d->n; i++) {
		const struct iscsi_target_entry *t = &d->targets[i];
		for (size_t j = 0; j < t->nportals; j++) {
			snprintf(line, sizeof(line), "%s,%u %s",
				 host_port(name, t->portals[j].host, t->portals[j].port),
				 t->portals[j].tpgt, t->name);
			print_once(d, line);
		}
		if (t->nportals == 0) {
			snprintf(line, sizeof(line), "- %s", t->name);
			print_once(d, line);
		}
	}
}

/* Runs the loop until the SendTargets answer; prints it, or says why not
 * in err. An exit code. */
static int finish_discovery(struct cli_iscsi *c, struct discover_result *d, char *err,
			    size_t len)
{
	struct discover_wait w = { d, c->session };
	int r = ev_run_until(&c->loop, discover_settled, &w, -1);

	if (r < 0) {
		snprintf(err, len, "SendTargets failed: the event loop failed: %s", strerror(-r));
		return EXIT_IO;
	}
	if (!d->done || d->err) {
		snprintf(err, len, "SendTargets failed: %s",
			 d->done ? strerror(-d->err) : iscsi_session_error(c->session));
		return EXIT_IO;
	}
	print_targets(d);
	return EXIT_OK;
}

/* One portal's targets, printed; an exit code, the reason in err. */
static int discover_one(struct cli_iscsi *c, const struct iscsi_portal *p,
			struct discover_result *d, char *err, size_t len)
{
	int r = cli_login_at(c, p, NULL, err, len);

	d->done = false;
	d->n = 0;
	if (r != EXIT_OK)
		return r;
	r = iscsi_send_targets(c->session, on_targets, d);
	if (r < 0) {
		snprintf(err, len, "SendTargets failed: %s", strerror(-r));
		return EXIT_IO;
	}
	return finish_discovery(c, d, err, len);
}

/* Every portal in turn; 0 once any answered, else the last failure. A
 * failure is an error line only when no portal answered. */
static int discover_all(struct cli_iscsi *c, struct discover_result *d)
{
	int r = ev_loop_init(&c->loop), result = EXIT_IO;
	char err[512];

	if (r < 0) {
		log_err("cannot create the event loop: %s", strerror(-r));
		return EXIT_IO;
	}
	for (unsigned i = 0; i < c->nportals; i++) {
		r = discover_one(c, &c->portals[i], d, err, sizeof(err));
		cli_drop_session(c);
		if (result != EXIT_OK)
			result = r;
		if (r == EXIT_OK)
			continue;
		cli_portal_failed(c, i, err, i + 1 < c->nportals || result == EXIT_OK
					     ? LOG_WARN : LOG_ERR);
	}
	secure_zero(c->cfg.secret, sizeof(c->cfg.secret));
	secure_zero(c->cfg.rsecret, sizeof(c->cfg.rsecret));
	return result;
}

int cmd_discover(int argc, char **argv)
{
	struct cli_iscsi c;
	struct discover_result *d = calloc(1, sizeof(*d));
	int r;

	cli_iscsi_init(&c);
	if (!d)
		return EXIT_IO;
	r = parse_or_exit(argc, argv, &c, NULL, NULL, false, discover_help);
	c.cfg.target_name[0] = '\0';
	if (r == EXIT_OK)
		r = discover_all(&c, d);
	cli_close(&c);
	free(d->seen);
	free(d);
	return r < 0 ? EXIT_OK : r;
}

/* ---- inquiry */

static const char inquiry_help[] =
	"usage: iscsiroot inquiry [OPTIONS] --portal HOST --target IQN [--lun N]\n"
	"Logs in and describes a LUN of any type: vendor, product, type, serial,\n"
	"identifier; for a disk also size, block sizes, provisioning and limits;\n"
	"then the negotiated session. Without --lun it lists the target's LUNs\n"
	"(REPORT LUNS, one line each) and describes the first disk among them.\n"
	"\noptions:\n" CLI_COMMON_HELP "\n" CLI_EXIT_CODES_HELP;

/* SPC-4 table 39's peripheral device types that a target may show. */
static const char *device_type_name(uint8_t type)
{
	switch (type) {
	case 0x00: return "direct-access block device";
	case 0x01: return "sequential-access device";
	case 0x05: return "CD/DVD device";
	case 0x07: return "optical memory device";
	case 0x08: return "medium changer";
	case 0x0c: return "storage array controller";
	case 0x0d: return "enclosure services device";
	case 0x1f: return "unknown or no device type";
	default: return "other";
	}
}

static void print_lun(const struct iscsi_disk *d)
{
	printf("lun: 0x%016" PRIx64 "\n", d->lun);
	printf("vendor: %s\nproduct: %s\nrevision: %s\n", d->inquiry.vendor,
	       d->inquiry.product, d->inquiry.revision);
	printf("device type: %u (%s)\n", d->inquiry.device_type,
	       device_type_name(d->inquiry.device_type));
	if (d->serial[0])
		printf("serial: %s\n", d->serial);
	if (d->designator[0])
		printf("identifier: %s\n", d->designator);
}

static void print_capacity(const struct iscsi_disk *d)
{
	const struct scsi_capacity *cap = &d->capacity;
	uint64_t bytes = cap->blocks * cap->block_size;

	printf("size: %" PRIu64 " bytes (%.2f GiB)\n", bytes, bytes / 1073741824.0);
	printf("blocks: %" PRIu64 "\nblock size: %u\nphysical block size: %u\n",
	       cap->blocks, cap->block_size, cap->block_size << cap->phys_exponent);
	printf("thin provisioning: %s\nunmap: %s\nwrite protected: %s\n",
	       cap->thin ? "yes" : "no", d->can_unmap ? "yes" : "no",
	       d->write_protected ? "yes" : "no");
	printf("cdb size: %d\nmax transfer: %u bytes\n", d->use16 ? 16 : 10,
	       d->max_xfer_bytes);
}

static void print_session(const struct cli_iscsi *c)
{
	const struct iscsi_params *p = iscsi_session_params(c->session);

	printf("header digest: %s\ndata digest: %s\n",
	       p->header_digest ? "CRC32C" : "None", p->data_digest ? "CRC32C" : "None");
	printf("max recv data segment: %u\nmax xmit data segment: %u\n",
	       p->max_recv_dsl, p->max_xmit_dsl);
	printf("first burst: %u\nmax burst: %u\ninitial r2t: %s\nimmediate data: %s\n",
	       p->first_burst, p->max_burst, p->initial_r2t ? "yes" : "no",
	       p->immediate_data ? "yes" : "no");
	printf("max outstanding r2t: %u\n", p->max_outstanding_r2t);
}

/* Without -l: "luns: N", a line per LUN, and the first disk, if there
 * is one, in c->lun. */
static int list_luns(struct cli_iscsi *c, bool *found)
{
	struct iscsi_lun_entry luns[ISCSI_LUNS_MAX];
	char err[256] = "";
	size_t n;
	int r = iscsi_lun_list(&c->loop, c->session, luns, ARRAY_SIZE(luns), &n, err,
			       sizeof(err));

	if (r < 0) {
		log_err("%s", err[0] ? err : strerror(-r));
		return EXIT_IO;
	}
	printf("luns: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct scsi_inquiry *q = &luns[i].inquiry;
		if (!luns[i].answered)
			printf("  0x%016" PRIx64 ": no INQUIRY answer\n", luns[i].lun);
		else
			printf("  0x%016" PRIx64 ": type %u (%s) %s %s\n", luns[i].lun,
			       q->device_type, device_type_name(q->device_type), q->vendor,
			       q->product);
	}
	*found = iscsi_lun_first_disk(luns, n, &c->lun) == 0;
	if (!*found)
		printf("lun: none (the target has no disk LUN)\n");
	return EXIT_OK;
}

/* The LUN, a disk or not: a disk gets the whole probe, as read uses it. */
static int describe_lun(struct cli_iscsi *c)
{
	struct iscsi_disk d;
	char err[256] = "";
	int r = iscsi_lun_describe(&c->loop, c->session, c->lun, &d, err, sizeof(err));
	bool disk = r == 0 && d.inquiry.peripheral_qualifier == 0 && d.inquiry.device_type == 0;

	if (disk)
		r = iscsi_disk_probe(&c->loop, c->session, c->lun, &d, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err[0] ? err : strerror(-r));
		return EXIT_IO;
	}
	print_lun(&d);
	if (disk)
		print_capacity(&d);
	return EXIT_OK;
}

static int inquire(struct cli_iscsi *c)
{
	char hp[HOST_PORT_LEN];
	bool have_lun = c->lun_given;
	int r = cli_login(c);

	if (r != EXIT_OK)
		return r;
	printf("target: %s\n", c->cfg.target_name);
	printf("portal: %s (tpgt %u)\n", host_port(hp, c->cfg.host, c->cfg.port),
	       iscsi_session_tpgt(c->session));
	if (!c->lun_given)
		r = list_luns(c, &have_lun);
	if (r == EXIT_OK && have_lun)
		r = describe_lun(c);
	if (r == EXIT_OK)
		print_session(c);
	return r;
}

int cmd_inquiry(int argc, char **argv)
{
	struct cli_iscsi c;
	int r;

	cli_iscsi_init(&c);
	r = parse_or_exit(argc, argv, &c, NULL, NULL, true, inquiry_help);
	if (r == EXIT_OK)
		r = inquire(&c);
	cli_close(&c);
	return r < 0 ? EXIT_OK : r;
}

/* ---- read and write: a window of IO_DEPTH chunks in flight, in order */

struct stream_slot {
	struct iscsi_task task;
	uint8_t *buf;
	uint32_t len;           /* bytes of this chunk */
	bool busy;
	bool done;
};

struct stream {
	struct cli_iscsi *c;
	struct iscsi_disk disk;
	struct stream_slot slots[IO_DEPTH];
	uint64_t pos, end;      /* bytes: next to issue, end of range */
	uint32_t io_size;       /* bytes per command at most */
	unsigned head;          /* the oldest slot in flight */
	bool fua;
	int error;
};

static void slot_done(struct iscsi_task *t)
{
	((struct stream_slot *)t->ctx)->done = true;
}

static int slot_issue(struct stream *st, struct stream_slot *sl, bool write,
		      uint64_t byte_off, uint32_t len)
{
	uint32_t bs = st->disk.capacity.block_size;

	iscsi_disk_rw(&st->disk, &sl->task, write, byte_off / bs, len / bs, sl->buf,
		      write && st->fua);
	sl->task.done = slot_done;
	sl->task.ctx = sl;
	sl->len = len;
	sl->busy = true;
	sl->done = false;
	return iscsi_submit(st->c->session, &sl->task);
}

/* Waits for the oldest slot; returns 0 or an exit code after a message. */
static int slot_wait(struct stream *st, struct stream_slot *sl)
{
	char msg[240];
	int r;

	r = ev_run_until(&st->c->loop, ev_flag_done, &sl->done, -1);
	if (r < 0) {
		log_err("I/O failed: the event loop failed: %s", strerror(-r));
		return EXIT_IO;
	}
	sl->busy = false;
	r = iscsi_task_status(&sl->task, msg, sizeof(msg));
	if (r < 0) {
		log_err("I/O failed: %s", msg);
		return EXIT_IO;
	}
	return EXIT_OK;
}

static uint32_t chunk_bytes(const struct stream *st)
{
	uint32_t bs = st->disk.capacity.block_size;
	uint32_t max = st->disk.max_xfer_bytes ? MIN(st->disk.max_xfer_bytes, st->io_size)
					       : st->io_size;
	return MAX(max / bs * bs, bs);
}

static int stream_setup(struct stream *st, struct cli_iscsi *c, struct rw_opts *rw,
			bool write)
{
	uint64_t size;
	uint32_t bs;
	int r = cli_connect(c, &st->disk);

	if (r != EXIT_OK)
		return r;
	st->c = c;
	st->fua = rw->fua;
	st->io_size = rw->io_size ? (uint32_t)rw->io_size : IO_CHUNK;
	bs = st->disk.capacity.block_size;
	size = st->disk.capacity.blocks * bs;
	if (rw->offset % bs || rw->offset > size) {
		log_err("offset %" PRIu64 " is not a multiple of the block size (%u) "
			"inside the LUN (%" PRIu64 " bytes)", rw->offset, bs, size);
		return EXIT_USAGE;
	}
	if (write && st->disk.write_protected) {
		log_err("the LUN is write-protected");
		return EXIT_IO;
	}
	st->pos = rw->offset;
	st->end = rw->length ? rw->offset + rw->length : size;
	if (st->end > size) {
		log_err("range ends at byte %" PRIu64 ", past the LUN's end (%" PRIu64 ")",
			st->end, size);
		return EXIT_USAGE;
	}
	if (!write && st->end % bs) {
		log_err("length must be a multiple of the block size (%u)", bs);
		return EXIT_USAGE;
	}
	for (unsigned i = 0; i < IO_DEPTH; i++) {
		st->slots[i].buf = aligned_alloc(4096, IO_CHUNK);
		if (!st->slots[i].buf)
			return EXIT_IO;
	}
	return EXIT_OK;
}

static void stream_free(struct stream *st)
{
	/* Slots still in flight are completed by the session's teardown. */
	cli_close(st->c);
	for (unsigned i = 0; i < IO_DEPTH; i++)
		free(st->slots[i].buf);
}

static int read_range(struct stream *st)
{
	unsigned issued = 0, head = 0;
	int r;

	for (;;) {
		while (issued - head < IO_DEPTH && st->pos < st->end) {
			struct stream_slot *sl = &st->slots[issued % IO_DEPTH];
			uint32_t len = (uint32_t)MIN(chunk_bytes(st), st->end - st->pos);
			if (slot_issue(st, sl, false, st->pos, len) < 0)
				return EXIT_IO;
			st->pos += len;
			issued++;
		}
		if (head == issued)
			return EXIT_OK;
		struct stream_slot *sl = &st->slots[head % IO_DEPTH];
		r = slot_wait(st, sl);
		if (r == EXIT_OK) {
			int w = write_full(STDOUT_FILENO, sl->buf, sl->len);
			if (w < 0) {
				log_err("write to stdout failed: %s", strerror(-w));
				r = EXIT_IO;
			}
		}
		if (r != EXIT_OK)
			return r;
		head++;
	}
}

static const char read_help[] =
	"usage: iscsiroot read [OPTIONS] --portal HOST --target IQN [--lun N]\n"
	"Copies the LUN (without --lun the target's first disk LUN), or\n"
	"--length bytes from --offset, to stdout.\n"
	"\noptions:\n" CLI_COMMON_HELP
	"      --offset BYTES         start (a multiple of the block size; k/M/G)\n"
	"      --length BYTES         how much (default: to the end)\n"
	"      --io-size BYTES        bytes per SCSI command (512 to 1M, default 1M)\n"
	"\n" CLI_EXIT_CODES_HELP;


/* A tail shorter than a block keeps the rest of that block as it was. */
static int fill_partial_block(struct stream *st, struct stream_slot *sl,
			      uint64_t off, uint32_t len)
{
	uint32_t bs = st->disk.capacity.block_size;
	uint32_t full = len / bs * bs;
	struct iscsi_task t;
	uint8_t *block = malloc(bs);
	char msg[240];
	int r;

	if (!block)
		return EXIT_IO;
	iscsi_disk_rw(&st->disk, &t, false, (off + full) / bs, 1, block, false);
	r = iscsi_sync_command(&st->c->loop, st->c->session, &t, msg, sizeof(msg));
	if (r == 0)
		memcpy(sl->buf + len, block + (len - full), bs - (len - full));
	else
		log_err("reading the last block failed: %s", msg);
	free(block);
	return r < 0 ? EXIT_IO : EXIT_OK;
}

static int flush_cache(struct stream *st)
{
	struct iscsi_task t;
	char msg[240];
	int r;

	iscsi_disk_flush(&st->disk, &t);
	r = iscsi_sync_command(&st->c->loop, st->c->session, &t, msg, sizeof(msg));
	if (r < 0) {
		log_err("SYNCHRONIZE CACHE failed: %s", msg);
		return EXIT_IO;
	}
	return EXIT_OK;
}

static int write_range(struct stream *st, bool bounded)
{
	uint32_t bs = st->disk.capacity.block_size;
	unsigned issued = 0, head = 0;
	bool eof = false;
	int r;

	while (!eof || head != issued) {
		if (!eof && issued - head < IO_DEPTH && st->pos < st->end) {
			struct stream_slot *sl = &st->slots[issued % IO_DEPTH];
			uint32_t want = (uint32_t)MIN(chunk_bytes(st), st->end - st->pos);
			ssize_t n = read_full(STDIN_FILENO, sl->buf, want);
			if (n < 0) {
				log_err("reading stdin failed: %s", strerror((int)-n));
				return EXIT_IO;
			}
			eof = (uint32_t)n < want || st->pos + (uint64_t)n == st->end;
			if (n == 0)
				continue;
			if (n % bs && fill_partial_block(st, sl, st->pos, (uint32_t)n) != EXIT_OK)
				return EXIT_IO;
			uint32_t len = ((uint32_t)n + bs - 1) / bs * bs;
			if (st->pos + len > st->end + (bounded ? 0 : bs)) {
				log_err("input runs past the end of the LUN");
				return EXIT_USAGE;
			}
			if (slot_issue(st, sl, true, st->pos, len) < 0)
				return EXIT_IO;
			st->pos += len;
			issued++;
			continue;
		}
		if (head == issued)
			break;
		r = slot_wait(st, &st->slots[head % IO_DEPTH]);
		if (r != EXIT_OK)
			return r;
		head++;
	}
	return flush_cache(st);
}

static int discard_range(struct stream *st)
{
	uint32_t bs = st->disk.capacity.block_size;
	uint64_t max = st->disk.limits.max_unmap_lba_count;
	uint8_t params[24];
	char msg[240];

	if (!st->disk.can_unmap) {
		log_err("the LUN does not allow UNMAP (not thin provisioned, or its "
			"Block Limits VPD page forbids it)");
		return EXIT_IO;
	}
	if (st->end % bs) {
		log_err("length must be a multiple of the block size (%u)", bs);
		return EXIT_USAGE;
	}
	while (st->pos < st->end) {
		uint32_t blocks = (uint32_t)MIN(MIN((st->end - st->pos) / bs, max), 0xffffffffu);
		struct iscsi_task t;
		int r;

		iscsi_disk_unmap(&st->disk, &t, st->pos / bs, blocks, params);
		r = iscsi_sync_command(&st->c->loop, st->c->session, &t, msg, sizeof(msg));
		if (r < 0) {
			log_err("UNMAP failed: %s", msg);
			return EXIT_IO;
		}
		st->pos += (uint64_t)blocks * bs;
	}
	return EXIT_OK;
}

static const char write_help[] =
	"usage: iscsiroot write [OPTIONS] --portal HOST --target IQN [--lun N]\n"
	"Copies stdin to the LUN (without --lun the target's first disk LUN)\n"
	"at --offset (up to --length bytes), then flushes the target's cache.\n"
	"A last partial block keeps the rest of that block's old contents.\n"
	"\noptions:\n" CLI_COMMON_HELP
	"      --offset BYTES         start (a multiple of the block size; k/M/G)\n"
	"      --length BYTES         at most this much (default: until EOF)\n"
	"      --fua                  write with Force Unit Access\n"
	"      --discard              UNMAP the range instead (stdin unused)\n"
	"      --io-size BYTES        bytes per SCSI command (512 to 1M, default 1M)\n"
	"\n" CLI_EXIT_CODES_HELP;

/* read and write share everything but the help and the transfer. */
static int run_stream(int argc, char **argv, const char *help, bool write)
{
	struct cli_iscsi c;
	struct rw_opts rw = { 0 };
	struct stream *st = calloc(1, sizeof(*st));
	int r;

	cli_iscsi_init(&c);
	if (!st)
		return EXIT_IO;
	st->c = &c;
	r = parse_or_exit(argc, argv, &c, &rw, rw_options, true, help);
	if (r == EXIT_OK)
		r = stream_setup(st, &c, &rw, write);
	if (r == EXIT_OK && !write)
		r = read_range(st);
	else if (r == EXIT_OK)
		r = rw.discard ? discard_range(st) : write_range(st, rw.length != 0);
	stream_free(st);
	free(st);
	return r < 0 ? EXIT_OK : r;
}

int cmd_read(int argc, char **argv)
{
	return run_stream(argc, argv, read_help, false);
}

int cmd_write(int argc, char **argv)
{
	return run_stream(argc, argv, write_help, true);
}
