/* SPDX-License-Identifier: MIT */
/*
 * fault-proxy: a TCP proxy between an iSCSI initiator and a real target
 * (127.0.0.1 only) that injects faults at random, from a seed:
 *
 *   reset      both sockets closed with SO_LINGER 0 (RST both ways)
 *   stall      one direction held for 0.3-2 s (the connection must live)
 *              or for 5-8 s (longer than the initiator's NOP-Out interval
 *              plus timeout, 1 + 3 s in stress: it must drop it)
 *   truncate   a chunk forwarded only up to a point inside a PDU, then
 *              both sockets shut down (FIN after the partial PDU)
 *   flip       one bit flipped in a PDU's BHS (header digest), its data
 *              (data digest) or one of its digests, either direction
 *
 * It follows the PDU framing of both directions (its own parser, not the
 * initiator's), learns the digests from the target's Login Responses and
 * injects only in the full feature phase, at most one connection-ending
 * fault per connection, so every such fault costs the session exactly
 * one recovery. It checks that the connection does end: a flipped bit
 * must be caught by its receiver (the connection closed from that side
 * within 5 s), a long stall must be noticed before it ends; short stalls
 * must be survived. Bit flips are only meaningful with both digests on:
 * iSCSI over plain TCP trusts TCP's checksum, so without digests a flip is
 * undetectable by design (the proxy refuses to flip then, unless told
 * --unsafe-flips: a control that shows the corruption reaching the data).
 *
 * The kinds come from a deck shuffled with the seed (every kind once per
 * round), each kind's direction alternates; kinds, directions, gaps and stall lengths follow the seed
 * exactly, byte positions depend on how the stream was cut into reads.
 * Faults stop after --fault-seconds and --max-faults; then it forwards
 * untouched. SIGTERM or SIGINT (or --max-seconds) ends it with a summary:
 *
 *   faults: resets=N stalls=N truncations=N flips=N
 *   detail: stalls_short=N stalls_long=N flips_header=N flips_data=N ...
 *   checks: expected_recoveries=N undetected=N short_stalls_dropped=N ...
 *
 * usage: fault-proxy [OPTIONS] LISTEN_PORT TARGET_PORT
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MAX_PAIRS 8
#define BUF_LEN (256u * 1024)
#define BHS_LEN 48u
#define DIGEST_LEN 4u
#define TEXT_MAX 65536u
#define MAX_DATA_SEG (16u << 20)
#define FLIP_DETECT_MS 5000
#define DRAIN_MS 500

enum side { INI, TGT, PROXY };

enum kind {
	K_RESET,
	K_STALL_SHORT,
	K_STALL_LONG,
	K_TRUNC,
	K_FLIP_HDR,
	K_FLIP_DATA,
	K_FLIP_DIGEST,
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {
	"reset", "stall-short", "stall-long", "truncate",
	"flip-header", "flip-data", "flip-digest",
};

/* The parts of a PDU, in wire order. */
enum region { R_BHS, R_AHS, R_HDIG, R_DATA, R_PAD, R_DDIG, R_COUNT };

struct parser {
	uint8_t bhs[BHS_LEN];
	uint64_t pos;   /* bytes of the current PDU seen */
	uint64_t total; /* its length once the BHS is in, else UINT64_MAX */
	uint32_t ahs, dlen;
	bool hd, dd;    /* digests in effect in this direction */
	bool ffp;       /* full feature phase */
	bool lost;      /* framing lost: forwarded blindly, no faults */
	uint64_t pdus;
};

/* A region of the chunk just read, chosen by reservoir sampling. */
struct pick {
	size_t start, len;
	unsigned seen;
};

struct flow {
	enum side from, to;
	uint8_t *buf;
	size_t len, off; /* buf[off..len) waits to be written */
	int64_t stall_until;
	int armed;       /* a kind to apply to the next chunk, or -1 */
	struct parser p;
	uint64_t bytes;
};

struct plan {
	enum kind kind;
	enum side dir; /* the flow: INI is initiator to target */
	int stall_ms;
};

struct proxy;

struct pair {
	struct proxy *px;
	bool used, connected, draining;
	unsigned id;
	struct ev_source ev[2]; /* ev[INI]: initiator's socket, ev[TGT]: target's */
	struct ev_source timer;
	struct flow flow[2];    /* flow[INI]: initiator to target */
	int64_t fire_at;        /* when the plan is carried out, or -1 */
	struct plan plan;
	int64_t drain_until;
	/* the connection-ending fault injected here, if any */
	int fatal;              /* its kind, or -1 */
	unsigned fatal_no;
	enum side fatal_dir;
	int64_t fatal_at, detect_by;
	size_t text_len;
	/* Buffers of their own (no allocation per connection). */
	uint8_t text[TEXT_MAX]; /* the target's login text */
	uint8_t bufs[2][BUF_LEN];
};

struct counts {
	unsigned kind[K_COUNT];
	unsigned dir[2];
	unsigned undetected, wrong_side, short_dropped, short_survived;
	unsigned long_detected, flip_caught[2];
	unsigned framing_errors, connections, refused;
	uint64_t bytes[2];
};

struct proxy {
	struct ev_loop loop;
	struct ev_source listener, sig;
	struct pair pairs[MAX_PAIRS];
	uint64_t rng_plan, rng_pos, seed;
	uint16_t listen_port, target_port;
	int64_t start, inject_until, exit_at;
	unsigned max_faults, injected, next_id;
	bool enabled[K_COUNT];
	enum kind deck[K_COUNT];
	unsigned deck_len, deck_pos;
	enum side next_dir[K_COUNT]; /* each kind alternates its direction */
	int only_dir;                /* INI or TGT: every fault that way; -1 both */
	bool unsafe_flips;           /* flip without digests too (a control) */
	unsigned gap_min, gap_max;
	bool done;
	struct counts n;
};

/* ---- Small helpers */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in [lo, hi]. */
static uint64_t rng_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(s) % (hi - lo + 1);
}

static double elapsed(const struct proxy *px)
{
	return (double)(now_ms() - px->start) / 1000.0;
}

static const char *side_name(enum side s)
{
	return s == INI ? "initiator" : s == TGT ? "target" : "proxy";
}

static const char *dir_name(enum side from)
{
	return from == INI ? "i2t" : "t2i";
}

static bool kind_is_flip(int k)
{
	return k == K_FLIP_HDR || k == K_FLIP_DATA || k == K_FLIP_DIGEST;
}

static uint32_t pad4(uint32_t n)
{
	return (n + 3) & ~3u;
}

/* ---- PDU framing */

static void parser_reset_pdu(struct parser *p)
{
	p->pos = 0;
	p->total = UINT64_MAX;
	p->ahs = p->dlen = 0;
}

/* The region at offset pos of the current PDU, and where it ends. */
static enum region region_at(const struct parser *p, uint64_t pos, uint64_t *end)
{
	uint64_t e[R_COUNT];

	e[R_BHS] = BHS_LEN;
	e[R_AHS] = e[R_BHS] + p->ahs;
	e[R_HDIG] = e[R_AHS] + (p->hd ? DIGEST_LEN : 0);
	e[R_DATA] = e[R_HDIG] + p->dlen;
	e[R_PAD] = e[R_HDIG] + pad4(p->dlen);
	e[R_DDIG] = e[R_PAD] + (p->dd && p->dlen ? DIGEST_LEN : 0);
	for (int r = 0; r < R_COUNT; r++)
		if (pos < e[r]) {
			*end = e[r];
			return (enum region)r;
		}
	*end = e[R_DDIG];
	return R_COUNT;
}

static bool opcode_valid(const struct parser *p, enum side from, uint8_t op)
{
	static const uint8_t ini[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10 };
	static const uint8_t tgt[] = { 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26,
				       0x31, 0x32, 0x3f };
	const uint8_t *ops = from == INI ? ini : tgt;
	size_t n = from == INI ? sizeof(ini) : sizeof(tgt);

	if (!p->ffp)
		return op == (from == INI ? 0x03 : 0x23);
	for (size_t i = 0; i < n; i++)
		if (ops[i] == op)
			return true;
	return false;
}

/* The BHS is in: the PDU's length is known. */
static int bhs_complete(struct pair *pr, struct flow *f)
{
	struct parser *p = &f->p;
	uint8_t op = p->bhs[0] & 0x3f;
	uint64_t end;

	p->ahs = p->bhs[4] * 4u;
	p->dlen = get_be24(p->bhs + 5);
	if (opcode_valid(p, f->from, op) && p->dlen <= MAX_DATA_SEG) {
		region_at(p, UINT64_MAX, &end);
		p->total = end;
		return 0;
	}
	printf("[%.3f] conn %u: %s framing lost at PDU %llu (opcode 0x%02x, data %u): "
	       "forwarding blindly\n", elapsed(pr->px), pr->id, dir_name(f->from),
	       (unsigned long long)p->pdus, op, p->dlen);
	pr->px->n.framing_errors++;
	p->lost = true;
	return -1;
}

/* Keys of the form KEY=VALUE\0 in the target's login text. */
static bool text_says(const struct pair *pr, const char *kv)
{
	size_t n = strlen(kv);

	for (size_t i = 0; i + n <= pr->text_len; i++)
		if ((i == 0 || pr->text[i - 1] == 0) && memcmp(pr->text + i, kv, n) == 0 &&
		    (i + n == pr->text_len || pr->text[i + n] == 0))
			return true;
	return false;
}

static void plan_next(struct pair *pr);

/* The last Login Response (T=1, NSG=3, success): full feature phase. */
static void enter_ffp(struct pair *pr)
{
	bool hd = text_says(pr, "HeaderDigest=CRC32C");
	bool dd = text_says(pr, "DataDigest=CRC32C");

	for (int i = 0; i < 2; i++) {
		pr->flow[i].p.ffp = true;
		pr->flow[i].p.hd = hd;
		pr->flow[i].p.dd = dd;
	}
	if (pr->flow[INI].p.pos != 0) {
		printf("[%.3f] conn %u: initiator sent beyond its last Login Request\n",
		       elapsed(pr->px), pr->id);
		pr->px->n.framing_errors++;
		pr->flow[INI].p.lost = true;
	}
	printf("[%.3f] conn %u: full feature phase (HeaderDigest=%s DataDigest=%s)\n",
	       elapsed(pr->px), pr->id, hd ? "CRC32C" : "None", dd ? "CRC32C" : "None");
	plan_next(pr);
}

static void pdu_complete(struct pair *pr, struct flow *f)
{
	const uint8_t *b = f->p.bhs;

	f->p.pdus++;
	if (!f->p.ffp && f->from == TGT && (b[1] & 0x80) && (b[1] & 3) == 3 && b[36] == 0)
		enter_ffp(pr);
	parser_reset_pdu(&f->p);
}

static void keep_login_text(struct pair *pr, const uint8_t *d, size_t n)
{
	n = MIN(n, TEXT_MAX - pr->text_len);
	memcpy(pr->text + pr->text_len, d, n);
	pr->text_len += n;
}

static void pick_consider(struct proxy *px, struct pick *pk, size_t start, size_t len)
{
	pk->seen++;
	if (rng_next(&px->rng_pos) % pk->seen == 0) {
		pk->start = start;
		pk->len = len;
	}
}

/* Does a region of this kind suit the armed fault? */
static bool region_suits(int armed, enum region r, size_t len)
{
	switch (armed) {
	case K_FLIP_HDR: return r == R_BHS;
	case K_FLIP_DATA: return r == R_DATA;
	case K_FLIP_DIGEST: return r == R_HDIG || r == R_DDIG;
	case K_TRUNC: return len >= 2;
	default: return false;
	}
}

/* One step of the walk over a chunk: the rest of one region, or of the
 * chunk. Returns the bytes consumed. */
static size_t parse_step(struct pair *pr, struct flow *f, const uint8_t *d, size_t n,
			 size_t at, struct pick *pk)
{
	struct parser *p = &f->p;
	uint64_t end;
	enum region r = region_at(p, p->pos, &end);
	size_t take = (size_t)MIN((uint64_t)(n - at), end - p->pos);

	if (r == R_BHS)
		memcpy(p->bhs + p->pos, d + at, take);
	if (r == R_DATA && !p->ffp && f->from == TGT)
		keep_login_text(pr, d + at, take);
	if (p->ffp && region_suits(f->armed, r, take))
		pick_consider(pr->px, pk, at, take);
	p->pos += take;
	return take;
}

/* Follows the framing over a chunk just read; pk gets a region that
 * suits the armed fault (pk->seen 0: none). */
static void parse_chunk(struct pair *pr, struct flow *f, const uint8_t *d, size_t n,
			struct pick *pk)
{
	struct parser *p = &f->p;
	size_t at = 0;

	/* Bounded: every turn ends a region or the chunk. */
	while (at < n && !p->lost) {
		at += parse_step(pr, f, d, n, at, pk);
		if (p->pos == BHS_LEN && p->total == UINT64_MAX && bhs_complete(pr, f) < 0)
			return;
		if (p->pos == p->total)
			pdu_complete(pr, f);
	}
}

/* ---- Sockets */

static void pair_end(struct pair *pr, enum side by, const char *why);
static void update_interest(struct pair *pr);
static void arm_timer(struct pair *pr);

static bool stalled(const struct flow *f)
{
	return f->stall_until >= 0;
}

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void set_linger0(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

static void pair_close_fds(struct pair *pr, bool rst)
{
	for (int s = 0; s < 2; s++) {
		int fd = pr->ev[s].fd;
		ev_del(&pr->ev[s]);
		if (fd >= 0) {
			if (rst)
				set_linger0(fd);
			close(fd);
		}
		pr->ev[s].fd = -1;
	}
	ev_del(&pr->timer);
}

/* ---- Faults */

static bool window_open(const struct proxy *px)
{
	return px->injected < px->max_faults && now_ms() < px->inject_until &&
	       px->deck_len > 0;
}

static void deck_shuffle(struct proxy *px)
{
	px->deck_len = 0;
	for (int k = 0; k < K_COUNT; k++)
		if (px->enabled[k])
			px->deck[px->deck_len++] = (enum kind)k;
	for (unsigned i = px->deck_len; i > 1; i--) {
		unsigned j = (unsigned)(rng_next(&px->rng_plan) % i);
		enum kind t = px->deck[i - 1];
		px->deck[i - 1] = px->deck[j];
		px->deck[j] = t;
	}
	px->deck_pos = 0;
}

static enum kind deck_draw(struct proxy *px)
{
	if (px->deck_pos >= px->deck_len)
		deck_shuffle(px);
	return px->deck[px->deck_pos++];
}

/* The next fault of this connection: what, which way, and when. */
static void plan_next(struct pair *pr)
{
	struct proxy *px = pr->px;
	struct plan *pl = &pr->plan;

	pr->fire_at = -1;
	if (!window_open(px))
		return;
	pl->kind = deck_draw(px);
	pl->dir = px->only_dir >= 0 ? (enum side)px->only_dir : px->next_dir[pl->kind];
	px->next_dir[pl->kind] = pl->dir == INI ? TGT : INI;
	pl->stall_ms = pl->kind == K_STALL_SHORT ? (int)rng_range(&px->rng_plan, 300, 2000)
						 : (int)rng_range(&px->rng_plan, 5000, 8000);
	pr->fire_at = now_ms() + (int64_t)rng_range(&px->rng_plan, px->gap_min, px->gap_max);
	arm_timer(pr);
}

static unsigned count_fault(struct pair *pr, enum kind k, enum side dir)
{
	struct proxy *px = pr->px;

	px->n.kind[k]++;
	if (k != K_RESET)
		px->n.dir[dir]++;
	return ++px->injected;
}

/* Records a fault that must end the connection, to check that it does. */
static void note_fatal(struct pair *pr, enum kind k, unsigned no, enum side dir,
		       int64_t detect_ms)
{
	pr->fatal = (int)k;
	pr->fatal_no = no;
	pr->fatal_dir = dir;
	pr->fatal_at = now_ms();
	pr->detect_by = detect_ms >= 0 ? pr->fatal_at + detect_ms : -1;
	arm_timer(pr);
}

static void do_reset(struct pair *pr)
{
	unsigned no = count_fault(pr, K_RESET, INI);

	printf("[%.3f] fault %u: reset (conn %u, i2t %llu B, t2i %llu B forwarded)\n",
	       elapsed(pr->px), no, pr->id, (unsigned long long)pr->flow[INI].bytes,
	       (unsigned long long)pr->flow[TGT].bytes);
	pair_close_fds(pr, true);
	pair_end(pr, PROXY, "reset injected");
}

static void do_stall(struct pair *pr)
{
	struct plan *pl = &pr->plan;
	struct flow *f = &pr->flow[pl->dir];
	unsigned no = count_fault(pr, pl->kind, pl->dir);

	f->stall_until = now_ms() + pl->stall_ms;
	printf("[%.3f] fault %u: %s %s %d ms (conn %u)\n", elapsed(pr->px), no,
	       kind_names[pl->kind], dir_name(pl->dir), pl->stall_ms, pr->id);
	if (pl->kind == K_STALL_LONG)
		note_fatal(pr, K_STALL_LONG, no, pl->dir, -1);
	else
		pr->fatal_no = no;
}

static void stall_end(struct pair *pr, struct flow *f)
{
	struct proxy *px = pr->px;

	f->stall_until = -1;
	if (pr->fatal == K_STALL_LONG) {
		printf("[%.3f] fault %u UNDETECTED: the connection outlived a %d ms stall\n",
		       elapsed(px), pr->fatal_no, pr->plan.stall_ms);
		px->n.undetected++;
		pr->fatal = -1;
	} else {
		px->n.short_survived++;
		printf("[%.3f] fault %u: stall over, conn %u carries on\n", elapsed(px),
		       pr->fatal_no, pr->id);
	}
	plan_next(pr);
}

/* The planned time has come. */
static void fire(struct pair *pr)
{
	pr->fire_at = -1;
	if (!window_open(pr->px))
		return;
	switch (pr->plan.kind) {
	case K_RESET:
		do_reset(pr);
		return;
	case K_STALL_SHORT:
	case K_STALL_LONG:
		do_stall(pr);
		return;
	default:
		pr->flow[pr->plan.dir].armed = (int)pr->plan.kind;
	}
}

static void do_flip(struct pair *pr, struct flow *f, const struct pick *pk)
{
	struct proxy *px = pr->px;
	size_t at = pk->start + (size_t)rng_range(&px->rng_pos, 0, pk->len - 1);
	unsigned bit = (unsigned)rng_range(&px->rng_pos, 0, 7);
	unsigned no = count_fault(pr, (enum kind)f->armed, f->from);

	f->buf[at] ^= (uint8_t)(1u << bit);
	printf("[%.3f] fault %u: %s %s (conn %u, PDU %llu, opcode 0x%02x): byte %zu of "
	       "%zu in the read, bit %u\n", elapsed(px), no, kind_names[f->armed],
	       dir_name(f->from), pr->id, (unsigned long long)f->p.pdus,
	       f->p.bhs[0] & 0x3f, at, f->len, bit);
	note_fatal(pr, (enum kind)f->armed, no, f->from, FLIP_DETECT_MS);
}

/* Forwards up to a point inside a PDU, then shuts both sockets down. */
static void do_truncate(struct pair *pr, struct flow *f, const struct pick *pk)
{
	struct proxy *px = pr->px;
	size_t cut = pk->start + (size_t)rng_range(&px->rng_pos, 1, pk->len - 1);
	unsigned no = count_fault(pr, K_TRUNC, f->from);

	printf("[%.3f] fault %u: truncate %s (conn %u, PDU %llu): %zu of %zu bytes "
	       "forwarded, then FIN both ways\n", elapsed(px), no, dir_name(f->from),
	       pr->id, (unsigned long long)f->p.pdus, cut, f->len);
	f->len = cut;
	pr->draining = true;
	pr->drain_until = -1; /* set once the partial chunk is written */
	pr->flow[f->to].len = pr->flow[f->to].off = 0; /* the other way: dropped */
	note_fatal(pr, K_TRUNC, no, f->from, -1);
}

/* A chunk was read: follow its framing, inject what is armed. */
static void process_chunk(struct pair *pr, struct flow *f)
{
	struct pick pk = { 0 };

	if (f->armed >= 0 && !window_open(pr->px))
		f->armed = -1;
	parse_chunk(pr, f, f->buf, f->len, &pk);
	if (f->armed < 0 || f->p.lost || pk.seen == 0)
		return;
	if (kind_is_flip(f->armed) && !(f->p.hd && f->p.dd) && !pr->px->unsafe_flips) {
		printf("[%.3f] conn %u: no flip without both digests (undetectable)\n",
		       elapsed(pr->px), pr->id);
		f->armed = -1;
		plan_next(pr);
		return;
	}
	if (f->armed == K_TRUNC)
		do_truncate(pr, f, &pk);
	else
		do_flip(pr, f, &pk);
	f->armed = -1;
}

/* ---- Forwarding */

static void drain_start(struct pair *pr)
{
	shutdown(pr->ev[INI].fd, SHUT_WR);
	shutdown(pr->ev[TGT].fd, SHUT_WR);
	pr->drain_until = now_ms() + DRAIN_MS;
	arm_timer(pr);
}

/* Writes what the flow holds; one send per call (then EPOLLOUT). */
static void flush(struct pair *pr, struct flow *f)
{
	ssize_t n;

	if (f->off >= f->len || stalled(f))
		return;
	n = send(pr->ev[f->to].fd, f->buf + f->off, f->len - f->off, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		pair_end(pr, f->to, strerror(errno));
		return;
	}
	f->off += (size_t)n;
	if (f->off < f->len)
		return;
	f->off = f->len = 0;
	if (pr->draining && pr->drain_until < 0)
		drain_start(pr);
}

static bool can_read(const struct pair *pr, const struct flow *f)
{
	return pr->connected && !stalled(f) && f->len == 0 &&
	       (!pr->draining || pr->drain_until >= 0);
}

/* Reads one chunk from the flow's source. */
static void pump(struct pair *pr, struct flow *f, uint32_t events)
{
	ssize_t n;

	if (stalled(f) && (events & EPOLLRDHUP)) {
		pair_end(pr, f->from, "closed during the stall");
		return;
	}
	if (!can_read(pr, f))
		return;
	n = recv(pr->ev[f->from].fd, f->buf, BUF_LEN, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		pair_end(pr, f->from, n == 0 ? "EOF" : strerror(errno));
		return;
	}
	if (pr->draining) /* after a truncation: read and dropped */
		return;
	f->len = (size_t)n;
	f->bytes += (uint64_t)n;
	pr->px->n.bytes[f->from] += (uint64_t)n;
	process_chunk(pr, f);
	flush(pr, f);
}

static void update_interest(struct pair *pr)
{
	for (int s = 0; s < 2; s++) {
		const struct flow *out = &pr->flow[s], *in = &pr->flow[!s];
		uint32_t ev = 0;

		if (!pr->connected) {
			ev = s == TGT ? EPOLLOUT : 0;
		} else {
			if (can_read(pr, out))
				ev |= EPOLLIN;
			if (stalled(out))
				ev |= EPOLLRDHUP;
			if (in->off < in->len && !stalled(in))
				ev |= EPOLLOUT;
		}
		ev_set_events(&pr->ev[s], ev);
	}
}

static void finish_connect(struct pair *pr)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(pr->ev[TGT].fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		pair_end(pr, TGT, strerror(err));
		return;
	}
	pr->connected = true;
}

static void on_sock(struct ev_source *src, uint32_t events)
{
	struct pair *pr = src->ctx;
	enum side s = src == &pr->ev[INI] ? INI : TGT;

	if (s == TGT && !pr->connected) {
		finish_connect(pr);
	} else if (events & (EPOLLERR | EPOLLHUP)) {
		pair_end(pr, s, events & EPOLLERR ? "reset" : "hung up");
	} else {
		if (events & EPOLLOUT)
			flush(pr, &pr->flow[!s]);
		if (pr->used && (events & (EPOLLIN | EPOLLRDHUP)))
			pump(pr, &pr->flow[s], events);
	}
	if (pr->used)
		update_interest(pr);
}

/* ---- Timers */

static void consider(int64_t *best, int64_t t)
{
	if (t >= 0 && (*best < 0 || t < *best))
		*best = t;
}

static void arm_timer(struct pair *pr)
{
	int64_t best = -1;

	consider(&best, pr->fire_at);
	consider(&best, pr->flow[INI].stall_until);
	consider(&best, pr->flow[TGT].stall_until);
	consider(&best, pr->detect_by);
	consider(&best, pr->draining ? pr->drain_until : -1);
	pr->timer.deadline = best;
}

static void check_detect(struct pair *pr, int64_t now)
{
	if (pr->detect_by < 0 || now < pr->detect_by)
		return;
	printf("[%.3f] fault %u UNDETECTED: conn %u still up %lld ms after the %s\n",
	       elapsed(pr->px), pr->fatal_no, pr->id, (long long)(now - pr->fatal_at),
	       kind_names[pr->fatal]);
	pr->px->n.undetected++;
	pr->detect_by = -1;
	pr->fatal = -1;
	plan_next(pr);
}

static void on_pair_timer(struct ev_source *src)
{
	struct pair *pr = src->ctx;
	int64_t now = now_ms();

	if (pr->draining && pr->drain_until >= 0 && now >= pr->drain_until) {
		pair_end(pr, PROXY, "truncation drained");
		return;
	}
	for (int i = 0; i < 2; i++)
		if (stalled(&pr->flow[i]) && now >= pr->flow[i].stall_until)
			stall_end(pr, &pr->flow[i]);
	check_detect(pr, now);
	if (pr->used && pr->fire_at >= 0 && now >= pr->fire_at)
		fire(pr);
	if (!pr->used)
		return;
	arm_timer(pr);
	update_interest(pr);
}

/* ---- Connections */

/* A connection-ending fault checked against how the connection ended. */
static void judge_end(struct pair *pr, enum side by, int64_t now)
{
	struct counts *n = &pr->px->n;
	enum side receiver = pr->fatal_dir == INI ? TGT : INI;

	if (pr->fatal < 0)
		return;
	if (kind_is_flip(pr->fatal)) {
		if (by == receiver)
			n->flip_caught[by]++;
		else
			n->wrong_side++;
	} else if (pr->fatal == K_STALL_LONG) {
		n->long_detected++;
	}
	printf("[%.3f] fault %u: conn %u ended by the %s %lld ms after it\n",
	       elapsed(pr->px), pr->fatal_no, pr->id, side_name(by),
	       (long long)(now - pr->fatal_at));
}

static void pair_end(struct pair *pr, enum side by, const char *why)
{
	struct proxy *px = pr->px;
	bool short_stall = pr->fatal < 0 && by != PROXY &&
			   (stalled(&pr->flow[INI]) || stalled(&pr->flow[TGT]));

	if (!pr->used)
		return;
	printf("[%.3f] conn %u: ended by the %s (%s); i2t %llu B, t2i %llu B\n",
	       elapsed(px), pr->id, side_name(by), why,
	       (unsigned long long)pr->flow[INI].bytes,
	       (unsigned long long)pr->flow[TGT].bytes);
	if (short_stall) {
		printf("[%.3f] fault %u: conn %u DROPPED during a short stall\n",
		       elapsed(px), pr->fatal_no, pr->id);
		px->n.short_dropped++;
	}
	judge_end(pr, by, now_ms());
	pair_close_fds(pr, false);
	pr->used = false;
}

static void flow_init(struct flow *f, enum side from)
{
	memset(f, 0, sizeof(*f));
	f->from = from;
	f->to = from == INI ? TGT : INI;
	f->stall_until = -1;
	f->armed = -1;
	parser_reset_pdu(&f->p);
}

static int connect_target(struct proxy *px)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(px->target_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	set_nodelay(fd);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int pair_start(struct proxy *px, struct pair *pr, int cfd)
{
	int tfd = connect_target(px);

	if (tfd < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		flow_init(&pr->flow[i], (enum side)i);
		pr->flow[i].buf = pr->bufs[i];
	}
	pr->text_len = 0;
	pr->px = px;
	pr->used = true;
	pr->connected = pr->draining = false;
	pr->id = ++px->next_id;
	pr->fire_at = pr->detect_by = pr->drain_until = -1;
	pr->fatal = -1;
	for (int s = 0; s < 2; s++) {
		pr->ev[s] = (struct ev_source){ .fd = s == INI ? cfd : tfd,
						.deadline = -1, .on_io = on_sock, .ctx = pr };
		ev_add(&px->loop, &pr->ev[s]);
	}
	pr->timer = (struct ev_source){ .fd = -1, .deadline = -1,
					.on_timer = on_pair_timer, .ctx = pr };
	ev_add(&px->loop, &pr->timer);
	update_interest(pr);
	return 0;
}

static void on_accept(struct ev_source *src, uint32_t events)
{
	struct proxy *px = src->ctx;
	int fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)events;
	if (fd < 0)
		return;
	set_nodelay(fd);
	for (int i = 0; i < MAX_PAIRS; i++) {
		if (px->pairs[i].used)
			continue;
		if (pair_start(px, &px->pairs[i], fd) == 0) {
			px->n.connections++;
			printf("[%.3f] conn %u: accepted\n", elapsed(px), px->pairs[i].id);
			return;
		}
		break;
	}
	printf("[%.3f] connection refused (no room or no target)\n", elapsed(px));
	px->n.refused++;
	close(fd);
}

/* ---- Start and end */

static void summary(const struct proxy *px)
{
	const struct counts *n = &px->n;
	const unsigned *k = n->kind;
	unsigned flips = k[K_FLIP_HDR] + k[K_FLIP_DATA] + k[K_FLIP_DIGEST];
	unsigned stalls = k[K_STALL_SHORT] + k[K_STALL_LONG];

	printf("faults: resets=%u stalls=%u truncations=%u flips=%u\n", k[K_RESET], stalls,
	       k[K_TRUNC], flips);
	printf("detail: stalls_short=%u stalls_long=%u flips_header=%u flips_data=%u "
	       "flips_digest=%u i2t=%u t2i=%u\n", k[K_STALL_SHORT], k[K_STALL_LONG],
	       k[K_FLIP_HDR], k[K_FLIP_DATA], k[K_FLIP_DIGEST], n->dir[INI], n->dir[TGT]);
	printf("checks: expected_recoveries=%u undetected=%u flips_caught_by_initiator=%u "
	       "flips_caught_by_target=%u flips_caught_by_wrong_side=%u "
	       "long_stalls_dropped=%u short_stalls_survived=%u short_stalls_dropped=%u "
	       "framing_errors=%u\n",
	       k[K_RESET] + k[K_TRUNC] + flips + k[K_STALL_LONG], n->undetected,
	       n->flip_caught[INI], n->flip_caught[TGT], n->wrong_side, n->long_detected,
	       n->short_survived, n->short_dropped, n->framing_errors);
	printf("traffic: connections=%u refused=%u i2t_bytes=%llu t2i_bytes=%llu "
	       "seconds=%.1f seed=%llu\n", n->connections, n->refused,
	       (unsigned long long)n->bytes[INI], (unsigned long long)n->bytes[TGT],
	       elapsed(px), (unsigned long long)px->seed);
}

static void on_signal(struct ev_source *src, uint32_t events)
{
	struct proxy *px = src->ctx;
	struct signalfd_siginfo si;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		px->done = true;
}

static int listen_on(struct proxy *px)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(px->listen_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
		perror("fault-proxy: listen");
		close(fd);
		return -1;
	}
	px->listener = (struct ev_source){ .fd = fd, .events = EPOLLIN, .deadline = -1,
					   .on_io = on_accept, .ctx = px };
	return ev_add(&px->loop, &px->listener);
}

static int signals_on(struct proxy *px)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	px->sig = (struct ev_source){ .fd = fd, .events = EPOLLIN, .deadline = -1,
				      .on_io = on_signal, .ctx = px };
	return ev_add(&px->loop, &px->sig);
}

static int enable_kinds(struct proxy *px, char *list)
{
	static const struct { const char *name; unsigned mask; } sets[] = {
		{ "all", 0x7f }, { "none", 0 }, { "reset", 1 << K_RESET },
		{ "stall", 1 << K_STALL_SHORT | 1 << K_STALL_LONG },
		{ "stall-short", 1 << K_STALL_SHORT }, { "stall-long", 1 << K_STALL_LONG },
		{ "truncate", 1 << K_TRUNC },
		{ "flip", 1 << K_FLIP_HDR | 1 << K_FLIP_DATA | 1 << K_FLIP_DIGEST },
		{ "flip-header", 1 << K_FLIP_HDR }, { "flip-data", 1 << K_FLIP_DATA },
		{ "flip-digest", 1 << K_FLIP_DIGEST },
	};
	unsigned mask = 0;
	char *save = NULL;

	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < ARRAY_SIZE(sets) && strcmp(sets[i].name, w) != 0)
			i++;
		if (i == ARRAY_SIZE(sets))
			return -1;
		mask |= sets[i].mask;
	}
	for (int k = 0; k < K_COUNT; k++)
		px->enabled[k] = mask >> k & 1;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fault-proxy [OPTIONS] LISTEN_PORT TARGET_PORT\n"
		"  --seed N            random seed (default: from the clock; printed)\n"
		"  --faults LIST       all (default), none, reset, stall, stall-short,\n"
		"                      stall-long, truncate, flip, flip-header, flip-data,\n"
		"                      flip-digest (comma-separated)\n"
		"  --fault-seconds S   inject only in the first S seconds (default 60)\n"
		"  --max-faults N      inject at most N faults (default 1000)\n"
		"  --gap-ms MIN,MAX    clean traffic before each fault (default 300,1500)\n"
		"  --max-seconds S     exit after S seconds (default: on SIGTERM/SIGINT)\n"
		"  --dir i2t|t2i       every fault that way (default: each kind alternates)\n"
		"  --unsafe-flips      flip also without both digests: a control, the\n"
		"                      corruption then goes through and must be seen\n");
}

static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	if (parse_u64(s, 0, max, out) < 0) {
		fprintf(stderr, "fault-proxy: bad number '%s'\n", s);
		return -1;
	}
	return 0;
}

static int parse_gap(struct proxy *px, char *arg)
{
	char *comma = strchr(arg, ',');
	uint64_t lo, hi;

	if (!comma)
		return -1;
	*comma = 0;
	if (parse_num(arg, 600000, &lo) < 0 || parse_num(comma + 1, 600000, &hi) < 0 ||
	    lo > hi)
		return -1;
	px->gap_min = (unsigned)lo;
	px->gap_max = (unsigned)hi;
	return 0;
}

static int parse_option(struct proxy *px, int opt, char *arg)
{
	uint64_t v;

	switch (opt) {
	case 's':
		return parse_num(arg, UINT64_MAX, &px->seed);
	case 'f':
		return enable_kinds(px, arg);
	case 't':
		if (parse_num(arg, 86400, &v) < 0)
			return -1;
		px->inject_until = px->start + (int64_t)v * 1000;
		return 0;
	case 'n':
		if (parse_num(arg, 1000000, &v) < 0)
			return -1;
		px->max_faults = (unsigned)v;
		return 0;
	case 'g':
		return parse_gap(px, arg);
	case 'd':
		if (strcmp(arg, "i2t") != 0 && strcmp(arg, "t2i") != 0)
			return -1;
		px->only_dir = strcmp(arg, "i2t") == 0 ? INI : TGT;
		return 0;
	case 'u':
		px->unsafe_flips = true;
		return 0;
	case 'x':
		if (parse_num(arg, 86400 * 7, &v) < 0)
			return -1;
		px->exit_at = px->start + (int64_t)v * 1000;
		return 0;
	default:
		return -1;
	}
}

static int parse_args(struct proxy *px, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "faults", required_argument, NULL, 'f' },
		{ "fault-seconds", required_argument, NULL, 't' },
		{ "max-faults", required_argument, NULL, 'n' },
		{ "gap-ms", required_argument, NULL, 'g' },
		{ "max-seconds", required_argument, NULL, 'x' },
		{ "dir", required_argument, NULL, 'd' },
		{ "unsafe-flips", no_argument, NULL, 'u' },
		{ 0 },
	};
	uint64_t lp, tp;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (parse_option(px, opt, optarg) < 0)
			return -1;
	if (argc - optind != 2 || parse_num(argv[optind], 65535, &lp) < 0 ||
	    parse_num(argv[optind + 1], 65535, &tp) < 0)
		return -1;
	px->listen_port = (uint16_t)lp;
	px->target_port = (uint16_t)tp;
	return 0;
}

static void defaults(struct proxy *px)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	px->start = now_ms();
	px->seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid();
	px->seed %= 1000000000ull;
	px->inject_until = px->start + 60000;
	px->exit_at = -1;
	px->only_dir = -1;
	px->max_faults = 1000;
	px->gap_min = 300;
	px->gap_max = 1500;
	for (int k = 0; k < K_COUNT; k++)
		px->enabled[k] = true;
}

static void shutdown_all(struct proxy *px)
{
	for (int i = 0; i < MAX_PAIRS; i++)
		if (px->pairs[i].used)
			pair_end(&px->pairs[i], PROXY, "proxy exits");
	close(px->listener.fd);
	close(px->sig.fd);
	ev_loop_close(&px->loop);
}

int main(int argc, char **argv)
{
	static struct proxy px;

	setvbuf(stdout, NULL, _IOLBF, 0);
	defaults(&px);
	if (parse_args(&px, argc, argv) < 0) {
		usage();
		return 2;
	}
	px.rng_plan = px.seed;
	px.rng_pos = px.seed ^ 0x5deece66dull;
	for (int k = 0; k < K_COUNT; k++)
		px.next_dir[k] = (rng_next(&px.rng_plan) & 1) ? TGT : INI;
	deck_shuffle(&px);
	if (ev_loop_init(&px.loop) < 0 || signals_on(&px) < 0 || listen_on(&px) < 0)
		return 1;
	printf("fault-proxy: 127.0.0.1:%u -> 127.0.0.1:%u seed=%llu\n", px.listen_port,
	       px.target_port, (unsigned long long)px.seed);
	while (!px.done && (px.exit_at < 0 || now_ms() < px.exit_at))
		if (ev_run_once(&px.loop, 1000) < 0)
			break;
	shutdown_all(&px);
	summary(&px);
	return 0;
}
