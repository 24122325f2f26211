/* SPDX-License-Identifier: MIT */
/* DHCPv6 messages: see msg6.h. Network byte order throughout. */
#include <errno.h>
#include <string.h>

#include "msg6.h"
#include "options.h"

enum {
	OPT_CLIENTID = 1, OPT_SERVERID = 2, OPT_IA_NA = 3, OPT_IAADDR = 5,
	OPT_ORO = 6, OPT_PREFERENCE = 7, OPT_ELAPSED_TIME = 8,
	OPT_STATUS_CODE = 13, OPT_RAPID_COMMIT = 14, OPT_DNS_SERVERS = 23,
	OPT_DOMAIN_LIST = 24, OPT_BOOTFILE_URL = 59,
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint8_t *put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	return put16(put16(p, v >> 16), v & 0xffff);
}

/* Calls fn for each option of [p, p+len); -EBADMSG when one overruns. */
static int walk(const uint8_t *p, size_t len,
		int (*fn)(uint16_t code, const uint8_t *v, size_t n, void *ctx),
		void *ctx)
{
	while (len) {
		if (len < 4 || get16(p + 2) > len - 4)
			return -EBADMSG;
		size_t n = get16(p + 2);
		int r = fn(get16(p), p + 4, n, ctx);
		if (r < 0)
			return r;
		p += 4 + n;
		len -= 4 + n;
	}
	return 0;
}

struct parse {
	struct dhcp6_msg *m;
	uint32_t iaid;
};

static void set_status(struct dhcp6_msg *m, const uint8_t *v, size_t n)
{
	if (n >= 2 && !m->status)
		m->status = get16(v);
}

/* Inside our IA_NA: the first IAADDR whose valid lifetime is not 0
 * (RFC 8415 §21.6), and a status. */
static int ia_option(uint16_t code, const uint8_t *v, size_t n, void *ctx)
{
	struct dhcp6_msg *m = ((struct parse *)ctx)->m;

	if (code == OPT_STATUS_CODE)
		set_status(m, v, n);
	else if (code == OPT_IAADDR && n >= 24 && !m->have_addr &&
		 get32(v + 20) != 0 && get32(v + 16) <= get32(v + 20)) {
		memcpy(&m->addr, v, 16);
		m->preferred = get32(v + 16);
		m->valid = get32(v + 20);
		m->have_addr = true;
	}
	return 0;
}

static void copy_duid(uint8_t *dst, uint8_t *dst_len, const uint8_t *v,
		      size_t n)
{
	if (n < 2 || n > DHCP6_MAX_DUID)
		return;
	memcpy(dst, v, n);
	*dst_len = (uint8_t)n;
}

static void copy_url(char *dst, size_t cap, const uint8_t *v, size_t n)
{
	if (n >= cap)
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] == 0x7f)
			return;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int top_option(uint16_t code, const uint8_t *v, size_t n, void *ctx)
{
	struct parse *ps = ctx;
	struct dhcp6_msg *m = ps->m;

	switch (code) {
	case OPT_CLIENTID:
		copy_duid(m->client_id, &m->client_id_len, v, n);
		break;
	case OPT_SERVERID:
		copy_duid(m->server_id, &m->server_id_len, v, n);
		break;
	case OPT_IA_NA: /* IAID, T1, T2, then options */
		if (n < 12 || get32(v) != ps->iaid)
			break;
		m->t1 = get32(v + 4);
		m->t2 = get32(v + 8);
		/* §21.4: T1 above a non-zero T2 makes the IA_NA void */
		if (m->t2 && m->t1 > m->t2)
			break;
		return walk(v + 12, n - 12, ia_option, ps);
	case OPT_PREFERENCE:
		if (n == 1)
			m->preference = v[0];
		break;
	case OPT_STATUS_CODE:
		set_status(m, v, n);
		break;
	case OPT_RAPID_COMMIT:
		m->rapid_commit = n == 0;
		break;
	case OPT_DNS_SERVERS:
		for (size_t i = 0; n % 16 == 0 && i < n && m->ndns < DHCP6_MAX_DNS;
		     i += 16)
			memcpy(&m->dns[m->ndns++], v + i, 16);
		break;
	case OPT_DOMAIN_LIST: /* a malformed one is left out */
		(void)dhcp_search_decode(v, n, m->domainsearch);
		break;
	case OPT_BOOTFILE_URL:
		copy_url(m->bootfile_url, sizeof(m->bootfile_url), v, n);
		break;
	}
	return 0;
}

int dhcp6_msg_parse(const uint8_t *p, size_t len, uint32_t iaid,
		    struct dhcp6_msg *m)
{
	struct parse ps = { m, iaid };

	memset(m, 0, sizeof(*m));
	if (len < 4)
		return -EBADMSG;
	m->type = p[0];
	m->xid = get32(p) & 0xffffff;
	return walk(p + 4, len - 4, top_option, &ps);
}

static uint8_t *put_opt(uint8_t *p, uint16_t code, const void *v, size_t n)
{
	p = put16(put16(p, code), (unsigned)n);
	if (n)
		memcpy(p, v, n);
	return p + n;
}

size_t dhcp6_msg_build(uint8_t *buf, const struct dhcp6_out *o)
{
	/* DUID-LL: type 3, hardware type 1 (Ethernet), the MAC */
	uint8_t duid[10] = { 0, 3, 0, 1 }, elapsed[2], ia[12 + 4 + 24] = { 0 };
	/* asked for: DNS servers, the domain list, the boot file URL */
	static const uint8_t oro[] = { 0, OPT_DNS_SERVERS, 0, OPT_DOMAIN_LIST,
				       0, OPT_BOOTFILE_URL };
	uint8_t *p = put32(buf, (uint32_t)o->type << 24 | (o->xid & 0xffffff));

	memcpy(duid + 4, o->mac, 6);
	put16(elapsed, o->elapsed_cs);
	put32(ia, o->iaid); /* T1 and T2 0: the server's choice */
	/* §18.2.4: the address held, its lifetimes 0 (the server's choice) */
	if (o->addr)
		memcpy(put16(put16(ia + 12, OPT_IAADDR), 24), o->addr, 16);
	p = put_opt(p, OPT_CLIENTID, duid, sizeof(duid));
	if (o->server_id_len)
		p = put_opt(p, OPT_SERVERID, o->server_id, o->server_id_len);
	p = put_opt(p, OPT_ELAPSED_TIME, elapsed, sizeof(elapsed));
	p = put_opt(p, OPT_IA_NA, ia, o->addr ? sizeof(ia) : 12);
	p = put_opt(p, OPT_ORO, oro, sizeof(oro));
	if (o->type == DHCP6_SOLICIT)
		p = put_opt(p, OPT_RAPID_COMMIT, NULL, 0);
	return (size_t)(p - buf);
}
