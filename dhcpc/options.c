/* SPDX-License-Identifier: MIT */
/*
 * DHCP options: the parser (RFC 2132 §2 layout, option 52 overload of
 * RFC 2132 §9.3, concatenation of RFC 3396), the decoders of the values we
 * use (RFC 2132, RFC 3397 domain search, RFC 3442 classless routes) and
 * the builder for what we send.
 */
#include <errno.h>
#include <string.h>

#include "options.h"

#define OVERLOAD_FILE 1
#define OVERLOAD_SNAME 2

struct region {
	const uint8_t *p;
	size_t len;
};

/* Walks one region's options, calling fn for each. Stops at END; an
 * option running past the region is an error. */
static int walk_region(const struct region *r,
		       int (*fn)(uint8_t code, const uint8_t *v, size_t len,
				 void *ctx),
		       void *ctx)
{
	size_t i = 0;

	while (i < r->len) {
		uint8_t code = r->p[i], len;

		if (code == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (code == DHCP_OPT_END)
			return 0;
		if (r->len - i < 2)
			return -EBADMSG;
		len = r->p[i + 1];
		if (r->len - i - 2 < len)
			return -EBADMSG;
		int err = fn(code, r->p + i + 2, len, ctx);
		if (err < 0)
			return err;
		i += 2u + len;
	}
	return 0;
}

static int find_overload(uint8_t code, const uint8_t *v, size_t len,
			 void *ctx)
{
	if (code == DHCP_OPT_OVERLOAD && len == 1)
		*(uint8_t *)ctx = v[0] & (OVERLOAD_FILE | OVERLOAD_SNAME);
	return 0;
}

static int count_option(uint8_t code, const uint8_t *v, size_t len, void *ctx)
{
	struct dhcp_optset *os = ctx;

	(void)v;
	if ((size_t)os->len[code] + len > DHCP_OPTSET_DATA)
		return -EBADMSG;
	os->len[code] = (uint16_t)(os->len[code] + len);
	os->present[code] = true;
	return 0;
}

/* Second pass: off[code] advances as each instance is appended. */
static int copy_option(uint8_t code, const uint8_t *v, size_t len, void *ctx)
{
	struct dhcp_optset *os = ctx;

	memcpy(os->data + os->off[code], v, len);
	os->off[code] = (uint16_t)(os->off[code] + len);
	return 0;
}

/* The option areas in RFC 3396 order. Option 52 counts only in the
 * options field itself, so an overload inside file or sname can never
 * send the walk round again. */
static int collect_regions(const struct dhcp_msg *m, struct region *r)
{
	uint8_t overload = 0;
	int n = 0;

	r[n++] = (struct region){ m->options, m->options_len };
	if (walk_region(&r[0], find_overload, &overload) < 0)
		return -EBADMSG;
	if (overload & OVERLOAD_FILE)
		r[n++] = (struct region){ m->file, sizeof(m->file) };
	if (overload & OVERLOAD_SNAME)
		r[n++] = (struct region){ m->sname, sizeof(m->sname) };
	return n;
}

int dhcp_optset_parse(const struct dhcp_msg *m, struct dhcp_optset *os)
{
	struct region r[3];
	size_t total = 0;
	int n = collect_regions(m, r), err = 0;

	memset(os->off, 0, sizeof(os->off));
	memset(os->len, 0, sizeof(os->len));
	memset(os->present, 0, sizeof(os->present));
	if (n < 0)
		return n;
	for (int i = 0; i < n && !err; i++)
		err = walk_region(&r[i], count_option, os);
	if (err < 0)
		return err;
	for (int c = 0; c < 256; c++) {
		if (total + os->len[c] > DHCP_OPTSET_DATA)
			return -EBADMSG;
		os->off[c] = (uint16_t)total;
		total += os->len[c];
	}
	for (int i = 0; i < n; i++)
		walk_region(&r[i], copy_option, os);
	/* copy_option moved each off[] to its end; move them back */
	for (int c = 0; c < 256; c++)
		os->off[c] = (uint16_t)(os->off[c] - os->len[c]);
	return 0;
}

const uint8_t *dhcp_optset_get(const struct dhcp_optset *os, uint8_t code,
			       size_t *len)
{
	if (!os->present[code])
		return NULL;
	*len = os->len[code];
	return os->data + os->off[code];
}

int dhcp_optset_msg_type(const struct dhcp_optset *os)
{
	size_t len;
	const uint8_t *v = dhcp_optset_get(os, DHCP_OPT_MSG_TYPE, &len);

	if (!v || len != 1 || v[0] < DHCPDISCOVER || v[0] > DHCPINFORM)
		return -ENOMSG;
	return v[0];
}

bool dhcp_optset_rapid_commit(const struct dhcp_optset *os)
{
	size_t len;

	return dhcp_optset_get(os, DHCP_OPT_RAPID_COMMIT, &len) && len == 0;
}

/* ---- Value decoders ---- */

static bool get_addr(const struct dhcp_optset *os, uint8_t code,
		     struct in_addr *a)
{
	size_t len;
	const uint8_t *v = dhcp_optset_get(os, code, &len);

	if (!v)
		return false;
	if (len != 4) {
		log_debug("dhcp: ignoring option %u: length %zu", code, len);
		return false;
	}
	*a = get_in_addr(v);
	return true;
}

static bool get_u32(const struct dhcp_optset *os, uint8_t code, uint32_t *out)
{
	size_t len;
	const uint8_t *v = dhcp_optset_get(os, code, &len);

	if (!v || len != 4)
		return false;
	*out = get_be32(v);
	return true;
}

/* A list of addresses: a non-empty multiple of 4 bytes. */
static int get_addrs(const struct dhcp_optset *os, uint8_t code,
		     struct in_addr *out, int max)
{
	size_t len;
	const uint8_t *v = dhcp_optset_get(os, code, &len);
	int n = 0;

	if (!v || len == 0 || len % 4) {
		if (v)
			log_debug("dhcp: ignoring option %u: length %zu",
				  code, len);
		return 0;
	}
	for (size_t i = 0; i < len && n < max; i += 4)
		out[n++] = get_in_addr(v + i);
	return n;
}

/* Text options end at the first NUL (RFC 2132 §2: NUL is not a
 * terminator, but some servers add one). Control characters would break
 * the line-oriented hand-over files, so such a value is dropped. */
static void copy_text(const uint8_t *v, size_t len, uint8_t code, char *dst,
		      size_t cap)
{
	size_t n = 0;

	while (n < len && v[n])
		n++;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] == 0x7f) {
			log_debug("dhcp: ignoring option %u: control byte",
				  code);
			return;
		}
	if (n >= cap) {
		log_debug("dhcp: ignoring option %u: %zu bytes", code, n);
		return;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static void get_text(const struct dhcp_optset *os, uint8_t code, char *dst,
		     size_t cap)
{
	size_t len;
	const uint8_t *v = dhcp_optset_get(os, code, &len);

	if (v)
		copy_text(v, len, code, dst, cap);
}

/* RFC 1123 host name characters, so the name is safe to set and write. */
static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool valid_hostname(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_host_char(*s))
			return false;
	return true;
}

uint8_t dhcp_mask_to_prefix(struct in_addr mask)
{
	uint32_t m = ntohl(mask.s_addr);
	uint8_t n = 0;

	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return n;
}

static struct in_addr prefix_to_mask(uint8_t prefix)
{
	uint32_t m = prefix ? 0xffffffffu << (32 - prefix) : 0;
	struct in_addr a = { .s_addr = htonl(m) };
	return a;
}

/* RFC 3442 §2: width, the significant octets of the destination, the
 * router. A malformed list is ignored whole (§ "DHCP Client Behavior"). */
static void decode_classless(const uint8_t *v, size_t len,
			     struct dhcpc_lease *l)
{
	struct dhcpc_route routes[DHCPC_MAX_ROUTES];
	size_t i = 0;
	int n = 0;

	while (i < len) {
		uint8_t width = v[i], octets = (uint8_t)((width + 7) / 8);
		uint8_t dst[4] = { 0 };

		if (width > 32 || len - i - 1 < (size_t)octets + 4) {
			log_debug("dhcp: ignoring option 121: malformed");
			return;
		}
		memcpy(dst, v + i + 1, octets);
		if (n < DHCPC_MAX_ROUTES) {
			routes[n].prefix = width;
			routes[n].dst.s_addr = get_in_addr(dst).s_addr &
					       prefix_to_mask(width).s_addr;
			routes[n].gateway = get_in_addr(v + i + 1 + octets);
			n++;
		}
		i += 1u + octets + 4;
	}
	memcpy(l->routes, routes, sizeof(routes[0]) * (size_t)n);
	l->nroutes = n;
	l->have_classless = true;
}

/* Appends one label or '.' to out; false when out is full. */
static bool put_text(char *out, size_t cap, size_t *o, const uint8_t *s,
		     size_t n)
{
	if (*o + n + 1 >= cap)
		return false;
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
	return true;
}

/* One RFC 1035 §4.1.4 name at v[*pos]; pointers must go backwards, so
 * the walk ends. Labels are checked to be host name characters (no '.'
 * or ' ' inside one, which would make two names of it). */
static int decode_name(const uint8_t *v, size_t len, size_t *pos, char *out,
		       size_t cap, size_t *o)
{
	size_t i = *pos, start_o = *o;
	bool jumped = false;

	while (true) {
		if (i >= len)
			return -EBADMSG;
		uint8_t l = v[i];
		if (l == 0) {
			if (!jumped)
				*pos = i + 1;
			return *o > start_o ? 0 : -EBADMSG;
		}
		if ((l & 0xc0) == 0xc0) {
			if (i + 1 >= len)
				return -EBADMSG;
			size_t target = (size_t)(l & 0x3f) << 8 | v[i + 1];
			if (target >= i)
				return -EBADMSG;
			if (!jumped)
				*pos = i + 2;
			jumped = true;
			i = target;
			continue;
		}
		if (l > 63 || len - i - 1 < l)
			return -EBADMSG;
		for (size_t k = i + 1; k <= i + l; k++)
			if (v[k] == '.' || !is_host_char((char)v[k]))
				return -EBADMSG;
		if ((*o > start_o && !put_text(out, cap, o, (const uint8_t *)".", 1)) ||
		    !put_text(out, cap, o, v + i + 1, l))
			return -EBADMSG;
		i += 1u + l;
	}
}

int dhcp_search_decode(const uint8_t *v, size_t len, char out[DHCP_SEARCH_LEN])
{
	char buf[DHCP_SEARCH_LEN] = "";
	size_t pos = 0, o = 0;

	while (pos < len) {
		if (o && !put_text(buf, sizeof(buf), &o, (const uint8_t *)" ", 1))
			break;
		if (decode_name(v, len, &pos, buf, sizeof(buf), &o) < 0)
			return -EBADMSG;
	}
	memcpy(out, buf, sizeof(buf));
	return 0;
}

static void decode_times(const struct dhcp_optset *os, struct dhcpc_lease *l)
{
	uint32_t t1, t2;

	l->lease_time = DHCPC_INFINITE_LEASE;
	get_u32(os, DHCP_OPT_LEASE_TIME, &l->lease_time);
	if (l->lease_time == DHCPC_INFINITE_LEASE) {
		l->t1 = l->t2 = DHCPC_INFINITE_LEASE;
		return;
	}
	/* RFC 2131 §4.4.5 defaults: T1 = 0.5, T2 = 0.875 of the lease */
	l->t1 = l->lease_time / 2;
	l->t2 = (uint32_t)((uint64_t)l->lease_time * 7 / 8);
	if (get_u32(os, DHCP_OPT_T2, &t2) && t2 < l->lease_time)
		l->t2 = t2;
	if (get_u32(os, DHCP_OPT_T1, &t1) && t1 < l->t2)
		l->t1 = t1;
	if (l->t1 > l->t2)
		l->t1 = l->t2;
}

static void decode_mask(const struct dhcp_optset *os, struct dhcpc_lease *l)
{
	uint32_t a = ntohl(l->addr.s_addr), m;

	if (get_addr(os, DHCP_OPT_SUBNET_MASK, &l->netmask)) {
		m = ntohl(l->netmask.s_addr);
		/* a mask must be contiguous ones */
		if ((~m & (~m + 1)) != 0)
			l->netmask.s_addr = 0;
	}
	if (!l->netmask.s_addr) /* classful default, as klibc does */
		l->netmask = prefix_to_mask(a < 0x80000000u ? 8 :
					    a < 0xc0000000u ? 16 : 24);
	l->prefix = dhcp_mask_to_prefix(l->netmask);
	if (!get_addr(os, DHCP_OPT_BROADCAST, &l->broadcast))
		l->broadcast.s_addr = l->addr.s_addr | ~l->netmask.s_addr;
}

static void decode_strings(const struct dhcp_msg *m,
			   const struct dhcp_optset *os, struct dhcpc_lease *l)
{
	get_text(os, DHCP_OPT_HOSTNAME, l->hostname, sizeof(l->hostname));
	if (l->hostname[0] && !valid_hostname(l->hostname))
		l->hostname[0] = '\0';
	get_text(os, DHCP_OPT_DOMAIN, l->domain, sizeof(l->domain));
	if (l->domain[0] && !valid_hostname(l->domain))
		l->domain[0] = '\0';
	get_text(os, DHCP_OPT_NIS_DOMAIN, l->nisdomain, sizeof(l->nisdomain));
	get_text(os, DHCP_OPT_ROOT_PATH, l->rootpath, sizeof(l->rootpath));
	get_text(os, DHCP_OPT_BOOTFILE, l->filename, sizeof(l->filename));
	/* the fixed file field holds the boot file unless overloaded */
	if (!l->filename[0] && !os->present[DHCP_OPT_OVERLOAD])
		copy_text(m->file, sizeof(m->file), 0, l->filename,
			  sizeof(l->filename));
}

int dhcp_lease_decode(const struct dhcp_msg *m, const struct dhcp_optset *os,
		      struct dhcpc_lease *l)
{
	size_t len;
	const uint8_t *v;
	uint16_t mtu;

	if (!m->yiaddr.s_addr)
		return -EBADMSG;
	l->proto = DHCPC_PROTO_DHCP;
	l->addr = m->yiaddr;
	l->siaddr = m->siaddr;
	decode_mask(os, l);
	get_addr(os, DHCP_OPT_SERVER_ID, &l->server_id);
	get_addrs(os, DHCP_OPT_ROUTER, &l->gateway, 1);
	l->ndns = get_addrs(os, DHCP_OPT_DNS, l->dns, DHCPC_MAX_DNS);
	get_addrs(os, DHCP_OPT_NTP, &l->ntp, 1);
	v = dhcp_optset_get(os, DHCP_OPT_MTU, &len);
	if (v && len == 2 && (mtu = get_be16(v)) >= 68)
		l->mtu = mtu;
	decode_times(os, l);
	decode_strings(m, os, l);
	v = dhcp_optset_get(os, DHCP_OPT_CLASSLESS, &len);
	if (v)
		decode_classless(v, len, l);
	if (l->have_classless) { /* RFC 3442: then option 3 is ignored */
		l->gateway.s_addr = 0;
		for (int i = 0; i < l->nroutes; i++)
			if (l->routes[i].prefix == 0)
				l->gateway = l->routes[i].gateway;
	}
	v = dhcp_optset_get(os, DHCP_OPT_DOMAIN_SEARCH, &len);
	if (v)
		if (dhcp_search_decode(v, len, l->domainsearch) < 0)
			log_debug("dhcp: ignoring option 119: malformed");
	return 0;
}

/* ---- Builder ---- */

const uint8_t dhcp_requested_options[] = {
	DHCP_OPT_SUBNET_MASK, DHCP_OPT_CLASSLESS, DHCP_OPT_ROUTER,
	DHCP_OPT_DNS, DHCP_OPT_HOSTNAME, DHCP_OPT_DOMAIN, DHCP_OPT_ROOT_PATH,
	DHCP_OPT_MTU, DHCP_OPT_BROADCAST, DHCP_OPT_NTP,
	DHCP_OPT_LEASE_TIME, DHCP_OPT_SERVER_ID, DHCP_OPT_DOMAIN_SEARCH,
};
const size_t dhcp_requested_options_len = sizeof(dhcp_requested_options);

int dhcp_opt_put(struct dhcp_obuf *b, uint8_t code, const void *data,
		 size_t len)
{
	const uint8_t *p = data;

	do {
		size_t chunk = MIN(len, 255);
		if (b->cap - b->len < chunk + 2)
			return -ENOSPC;
		b->p[b->len] = code;
		b->p[b->len + 1] = (uint8_t)chunk;
		if (chunk)
			memcpy(b->p + b->len + 2, p, chunk);
		b->len += chunk + 2;
		p += chunk;
		len -= chunk;
	} while (len > 0);
	return 0;
}

int dhcp_opt_put_u8(struct dhcp_obuf *b, uint8_t code, uint8_t v)
{
	return dhcp_opt_put(b, code, &v, 1);
}

int dhcp_opt_put_u16(struct dhcp_obuf *b, uint8_t code, uint16_t v)
{
	uint8_t be[2];

	put_be16(be, v);
	return dhcp_opt_put(b, code, be, 2);
}

int dhcp_opt_put_addr(struct dhcp_obuf *b, uint8_t code, struct in_addr a)
{
	uint8_t be[4];

	put_in_addr(be, a);
	return dhcp_opt_put(b, code, be, 4);
}

int dhcp_opt_finish(struct dhcp_obuf *b, size_t header_len)
{
	if (b->len >= b->cap)
		return -ENOSPC;
	b->p[b->len++] = DHCP_OPT_END;
	/* RFC 1542 §2.1: some relays drop BOOTP messages under 300 bytes */
	while (header_len + b->len < DHCP_BOOTP_MIN_LEN && b->len < b->cap)
		b->p[b->len++] = DHCP_OPT_PAD;
	return 0;
}
