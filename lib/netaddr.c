#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

/* Writes "'ARG' REASON" to why; always IMS_EINVAL. */
static ims_status fail(char *why, size_t whylen, const char *reason, const char *arg)
{
	if (why && whylen)
		snprintf(why, whylen, "'%.80s'%s%s", arg, *reason == ':' ? "" : " ", reason);
	return IMS_EINVAL;
}

/* A decimal number in [lo, hi] spanning exactly s; -1 otherwise. */
static long parse_num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	return v;
}

ims_status ims_cidr_parse(const char *text, struct ims_cidr *out, char *why, size_t whylen)
{
	char buf[64];
	char *slash;
	int max;

	if (strlen(text) >= sizeof buf)
		return fail(why, whylen, "is too long for a network", text);
	snprintf(buf, sizeof buf, "%s", text);
	memset(out, 0, sizeof *out);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	out->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(out->family, buf, out->addr) != 1)
		return fail(why, whylen, "is not an IP address or network (CIDR)", text);
	max = out->family == AF_INET ? 32 : 128;
	out->bits = max;
	if (slash && (out->bits = (int)parse_num(slash + 1, 0, max)) < 0)
		return fail(why, whylen, "has a bad prefix length", text);
	for (int b = out->bits; b < max; b++)
		if (out->addr[b / 8] & (0x80 >> (b % 8)))
			return fail(why, whylen, "has host bits set beyond its prefix", text);
	return IMS_OK;
}

int ims_cidr_contains(const struct ims_cidr *c, const char *ip)
{
	unsigned char addr[16];
	int bits = c->bits, i = 0;

	if (inet_pton(c->family, ip, addr) != 1)
		return 0;
	for (; bits >= 8; bits -= 8, i++)
		if (addr[i] != c->addr[i])
			return 0;
	if (bits > 0) {
		unsigned char mask = (unsigned char)(0xFF << (8 - bits));
		if ((addr[i] & mask) != (c->addr[i] & mask))
			return 0;
	}
	return 1;
}

int ims_ip_in_cidrs(const char *ip, char *const *cidrs)
{
	struct ims_cidr c;

	for (; ip && cidrs && *cidrs; cidrs++)
		if (ims_cidr_parse(*cidrs, &c, NULL, 0) == IMS_OK && ims_cidr_contains(&c, ip))
			return 1;
	return 0;
}

ims_status ims_hostport_check(const char *text, bool port_optional, char *why, size_t whylen)
{
	char host[64];
	unsigned char addr[16];
	const char *port = NULL;
	size_t hlen;
	int fam = AF_INET;

	if (*text == '[') {
		const char *close = strchr(text, ']');
		if (!close || (close[1] && close[1] != ':'))
			return fail(why, whylen, "is not [IPv6]:PORT", text);
		hlen = (size_t)(close - text - 1);
		text++;
		port = close[1] ? close + 2 : NULL;
		fam = AF_INET6;
	} else {
		const char *colon = strrchr(text, ':');
		if (colon && strchr(text, ':') != colon) /* bare IPv6 */
			colon = NULL, fam = AF_INET6;
		hlen = colon ? (size_t)(colon - text) : strlen(text);
		port = colon ? colon + 1 : NULL;
	}
	if (hlen >= sizeof host)
		return fail(why, whylen, "is too long for an address", text);
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (inet_pton(fam, host, addr) != 1)
		return fail(why, whylen, "is not an IP address", host);
	if (!port && !port_optional)
		return fail(why, whylen, "has no :PORT", host);
	if (port && parse_num(port, 1, 65535) < 0)
		return fail(why, whylen, "is not a port (1-65535)", port);
	return IMS_OK;
}

ims_status ims_milter_socket_check(const char *text, char *why, size_t whylen)
{
	const char *rest, *at;
	char port[8];

	if (strncmp(text, "unix:", 5) == 0 || strncmp(text, "local:", 6) == 0) {
		rest = strchr(text, ':') + 1;
		if (*rest != '/')
			return fail(why, whylen, ": a unix socket needs an absolute path", text);
		if (strlen(rest) >= 108) /* sizeof sun_path */
			return fail(why, whylen, ": socket path too long", text);
		return IMS_OK;
	}
	if (strncmp(text, "inet:", 5) == 0 || strncmp(text, "inet6:", 6) == 0) {
		rest = strchr(text, ':') + 1;
		at = strchr(rest, '@');
		if ((at ? (size_t)(at - rest) : strlen(rest)) >= sizeof port)
			return fail(why, whylen, ": bad port", text);
		snprintf(port, sizeof port, "%.*s", (int)(at ? at - rest : (long)strlen(rest)),
		         rest);
		if (parse_num(port, 1, 65535) < 0)
			return fail(why, whylen, ": want inet:PORT@ADDRESS with PORT 1-65535",
			            text);
		if (at) {
			unsigned char addr[16];
			int fam = text[4] == '6' ? AF_INET6 : AF_INET;
			const char *h = at + 1;
			char host[64];
			size_t n = strlen(h);
			if (fam == AF_INET6 && n >= 2 && h[0] == '[' && h[n - 1] == ']')
				h++, n -= 2;
			if (n >= sizeof host)
				return fail(why, whylen, ": address too long", text);
			snprintf(host, sizeof host, "%.*s", (int)n, h);
			/* libmilter also resolves host names; ims wants an address so a
			 * typo cannot bind to an unexpected interface. */
			if (inet_pton(fam, host, addr) != 1)
				return fail(why, whylen, ": the part after @ is not an IP address",
				            text);
		}
		return IMS_OK;
	}
	return fail(why, whylen, ": want unix:/path, inet:PORT@ADDRESS or inet6:PORT@ADDRESS",
	            text);
}
