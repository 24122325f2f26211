/* SPDX-License-Identifier: MIT */
/*
 * The root-path of RFC 4173 §5 ("iscsi:" server:protocol:port:LUN:target),
 * with dracut's credentials prefix and iface/netdev fields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dhcpc.h"

/* Copies [s, s+len) into dst[cap] as a string; -EINVAL if it does not fit. */
static int copy_field(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		return -EINVAL;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* RFC 4173 §5: the LUN is hex, as up to four dash-separated groups of up
 * to four digits that fill the 8-byte SAM LUN from the left ("1" is
 * 0001-0000-0000-0000, "4752-3A4F-6b7e-2F99" all four). Empty means 0. */
static int parse_lun(const char *s, size_t len, uint64_t *lun)
{
	uint64_t v = 0;
	unsigned group = 0, digits = 0, value = 0;

	*lun = 0;
	if (len == 0)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '-') {
			if (digits == 0 || group >= 4)
				return -EINVAL;
			v |= (uint64_t)value << (48 - 16 * group);
			group++;
			digits = value = 0;
			continue;
		}
		int d = hex_digit_value(s[i]);
		if (d < 0 || ++digits > 4)
			return -EINVAL;
		value = value << 4 | (unsigned)d;
	}
	*lun = v;
	return 0;
}

/* A decimal field in [min, max]; empty keeps *out (the default). */
static int parse_num(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	char buf[8];

	if (len == 0)
		return 0;
	if (copy_field(buf, sizeof(buf), s, len) < 0)
		return -EINVAL;
	return parse_u64(buf, 1, max, out);
}

/* dracut: user:pass or user:pass:ruser:rpass before the first '@'. */
static int parse_auth(const char *s, size_t len, struct dhcpc_rootpath *rp)
{
	char *fields[4] = { rp->user, rp->password, rp->ruser, rp->rpassword };
	size_t caps[4] = { sizeof(rp->user), sizeof(rp->password),
			   sizeof(rp->ruser), sizeof(rp->rpassword) };
	size_t start = 0;
	int n = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ':')
			continue;
		if (n >= 4 || copy_field(fields[n], caps[n], s + start,
					 i - start) < 0)
			return -EINVAL;
		n++;
		start = i + 1;
	}
	if ((n != 2 && n != 4) || !rp->user[0] || !rp->password[0])
		return -EINVAL;
	if (n == 4 && (!rp->ruser[0] || !rp->rpassword[0]))
		return -EINVAL;
	return 0;
}

/* The server, bracketed when it is an IPv6 literal; *rest is left just
 * after the ':' that ends it. */
static int parse_host(const char *s, struct dhcpc_rootpath *rp,
		      const char **rest)
{
	const char *end;

	if (*s == '[') {
		struct in6_addr a6;
		end = strchr(s, ']');
		if (!end || end[1] != ':' ||
		    copy_field(rp->host, sizeof(rp->host), s + 1,
			       (size_t)(end - s - 1)) < 0 ||
		    inet_pton(AF_INET6, rp->host, &a6) != 1)
			return -EINVAL;
		*rest = end + 2;
		return 0;
	}
	end = strchr(s, ':');
	if (!end || copy_field(rp->host, sizeof(rp->host), s,
			       (size_t)(end - s)) < 0)
		return -EINVAL;
	*rest = end + 1;
	return 0;
}

/* Where the target name starts: at the first ":iqn.", ":eui." or ":naa."
 * (so names holding ':' work in dracut's longer form too), otherwise
 * after the third field (RFC 4173: proto, port, LUN). */
static const char *find_target(const char *s)
{
	static const char *const prefixes[] = { ":iqn.", ":eui.", ":naa." };
	const char *best = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		const char *p = strstr(s, prefixes[i]);
		if (p && (!best || p < best))
			best = p;
	}
	if (best)
		return best + 1;
	for (int colons = 0; *s; s++)
		if (*s == ':' && ++colons == 3)
			return s + 1;
	return NULL;
}

struct span {
	const char *s;
	size_t len;
};

/* Splits [s, end) at ':' into at most max spans; returns the count. */
static int split_fields(const char *s, const char *end, struct span *f,
			int max)
{
	int n = 0;
	const char *start = s;

	for (const char *p = s; p <= end; p++) {
		if (p < end && *p != ':')
			continue;
		if (n >= max)
			return -EINVAL;
		f[n].s = start;
		f[n].len = (size_t)(p - start);
		n++;
		start = p + 1;
	}
	return n;
}

/* proto:port:LUN, or dracut's proto:port:netdev:LUN and
 * proto:port:iface:netdev:LUN. */
static int parse_middle(const char *s, const char *end,
			struct dhcpc_rootpath *rp)
{
	struct span f[5];
	uint64_t proto = rp->protocol, port = rp->port;
	int n = split_fields(s, end, f, 5);

	if (n < 3)
		return -EINVAL;
	if (parse_num(f[0].s, f[0].len, 255, &proto) < 0 ||
	    parse_num(f[1].s, f[1].len, 65535, &port) < 0)
		return -EINVAL;
	rp->protocol = (uint8_t)proto;
	rp->port = (uint16_t)port;
	if (n == 5 && copy_field(rp->iface, sizeof(rp->iface), f[2].s,
				 f[2].len) < 0)
		return -EINVAL;
	if (n >= 4 && copy_field(rp->netdev, sizeof(rp->netdev),
				 f[n - 2].s, f[n - 2].len) < 0)
		return -EINVAL;
	return parse_lun(f[n - 1].s, f[n - 1].len, &rp->lun);
}

static int parse_rootpath(const char *s, struct dhcpc_rootpath *rp)
{
	const char *at, *rest, *target;

	if (strncmp(s, "iscsi:", 6) != 0)
		return -EINVAL;
	s += 6;
	at = strchr(s, '@');
	if (at) {
		if (parse_auth(s, (size_t)(at - s), rp) < 0)
			return -EINVAL;
		s = at + 1;
	}
	if (parse_host(s, rp, &rest) < 0)
		return -EINVAL;
	target = find_target(rest);
	if (!target || !*target ||
	    copy_field(rp->target, sizeof(rp->target), target,
		       strlen(target)) < 0)
		return -EINVAL;
	return parse_middle(rest, target - 1, rp);
}

int dhcpc_rootpath_parse(const char *s, struct dhcpc_rootpath *rp)
{
	int r;

	memset(rp, 0, sizeof(*rp));
	rp->port = DHCPC_DEFAULT_ISCSI_PORT;
	rp->protocol = DHCPC_DEFAULT_ISCSI_PROTO;
	r = parse_rootpath(s, rp);
	if (r < 0)
		secure_zero(rp, sizeof(*rp));
	return r;
}
