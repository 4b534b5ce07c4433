/* URLs in text and the host a URL goes to: see urls.h. */
#include "config.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "urls.h"

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int has_prefix_ci(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);

	return n >= k && strncasecmp(s, p, k) == 0;
}

/* A label that is a number to a browser: decimal, 0x-hex or 0-octal. */
static int numeric_label(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return 0;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (!is_hex((unsigned char)s[i]))
				return 0;
		return 1;
	}
	for (; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return 0;
	return 1;
}

char *ims_url_host_to_unicode(const char *host)
{
	char *uni;

	if (!g_hostname_is_ascii_encoded(host) || !(uni = g_hostname_to_unicode(host)))
		return NULL;
	if (!g_utf8_validate(uni, -1, NULL)) {
		g_free(uni);
		return NULL;
	}
	return uni;
}

int ims_url_is_ip_literal(const char *host)
{
	unsigned char buf[16];
	const char *last;
	size_t n = strlen(host);

	if (n == 0)
		return 0;
	if (strchr(host, ':') || host[0] == '[')
		return 1;
	if (inet_pton(AF_INET, host, buf) == 1)
		return 1;
	/* WHATWG URL: a host whose last label is a number is an IPv4 address
	 * (3232235777, 0xC0A80101, 0300.0250.1.1, 192.168.257) */
	if (host[n - 1] == '.')
		n--;
	last = host + n;
	while (last > host && last[-1] != '.')
		last--;
	return numeric_label(last, (size_t)(host + n - last));
}

int ims_url_is_web_link(const char *href)
{
	while (*href == ' ' || *href == '\t' || *href == '\n' || *href == '\r' || *href == '\f')
		href++;
	return strncasecmp(href, "http://", 7) == 0 || strncasecmp(href, "https://", 8) == 0 ||
	       strncasecmp(href, "mailto:", 7) == 0;
}

static int special_scheme(const char *s, size_t n)
{
	static const char *const special[] = {"http", "https", "ftp", "ws", "wss", NULL};

	for (int i = 0; special[i]; i++)
		if (strlen(special[i]) == n && strncasecmp(s, special[i], n) == 0)
			return 1;
	return 0;
}

/* Writes the URL as a browser reads it into buf: tabs and line breaks
 * dropped, ends trimmed, for http(s) '\' as '/' and any run of slashes
 * after the scheme as "//", scheme-less "//host" and "www." as http.
 * Returns 0, or -1 when it has no authority at all (relative, mailto:). */
static int browser_form(const char *url, size_t len, char *buf, size_t buflen)
{
	char tmp[IMS_URL_MAX + 1];
	size_t n = 0, i = 0, s;
	int special = 0;

	if (len > IMS_URL_MAX)
		len = IMS_URL_MAX;
	while (i < len && (unsigned char)url[i] <= ' ')
		i++;
	while (len > i && (unsigned char)url[len - 1] <= ' ')
		len--;
	for (; i < len && url[i]; i++)
		if (url[i] != '\t' && url[i] != '\r' && url[i] != '\n')
			tmp[n++] = url[i];
	tmp[n] = '\0';

	/* scheme */
	for (s = 0; s < n && (is_alpha((unsigned char)tmp[s]) ||
	                      (s > 0 && (is_digit((unsigned char)tmp[s]) || tmp[s] == '+' ||
	                                 tmp[s] == '-' || tmp[s] == '.')));
	     s++)
		;
	if (s > 0 && s < n && tmp[s] == ':') {
		special = special_scheme(tmp, s);
		if (!special) {
			/* other schemes: an authority only after "//" */
			if (strncmp(tmp + s + 1, "//", 2) != 0)
				return -1;
			snprintf(buf, buflen, "%s", tmp);
			return 0;
		}
		i = s + 1;
	} else if (n >= 2 && (tmp[0] == '/' || tmp[0] == '\\') &&
	           (tmp[1] == '/' || tmp[1] == '\\')) {
		s = 0;
		i = 0;
		special = 1;
	} else if (has_prefix_ci(tmp, n, "www.")) {
		snprintf(buf, buflen, "http://%s", tmp);
		for (char *p = buf; *p && *p != '?' && *p != '#'; p++)
			if (*p == '\\')
				*p = '/';
		return 0;
	} else {
		return -1;
	}
	/* special: skip every '/' and '\' after the scheme */
	while (i < n && (tmp[i] == '/' || tmp[i] == '\\'))
		i++;
	{
		const char *sch = s ? tmp : "http";
		size_t sl = s ? s : 4, rest = n - i;

		if (sl + 3 + rest + 1 > buflen)
			rest = buflen - sl - 4;
		memcpy(buf, sch, sl);
		memcpy(buf + sl, "://", 3);
		memcpy(buf + sl + 3, tmp + i, rest);
		buf[sl + 3 + rest] = '\0';
	}
	for (char *p = strstr(buf, "://") + 3; *p && *p != '?' && *p != '#'; p++)
		if (*p == '\\')
			*p = '/';
	return 0;
}

static int valid_dns_host(const char *h)
{
	for (; *h; h++) {
		int c = (unsigned char)*h;

		if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

ims_status ims_url_host(const char *url, size_t len, struct ims_url_host *out)
{
	char buf[IMS_URL_MAX + 16];
	char *host = NULL, *ascii = NULL, *uni = NULL;
	char *auth, *end, *at;
	ims_status rc = IMS_ENOTFOUND;
	unsigned flags = 0;
	size_t n;

	memset(out, 0, sizeof *out);
	if (!url || browser_form(url, len, buf, sizeof buf) != 0)
		return IMS_ENOTFOUND;
	/* the userinfo ends at the authority's last '@' (as browsers read it;
	 * GLib takes the first) */
	auth = strstr(buf, "://") + 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at) {
		memmove(auth, at + 1, strlen(at + 1) + 1);
		end -= at + 1 - auth;
		flags |= IMS_URL_USERINFO;
	}
	*end = '\0'; /* only the authority is parsed: the path may be long */
	if (!g_uri_split(buf, G_URI_FLAGS_NON_DNS, NULL, NULL, &host, NULL, NULL, NULL, NULL,
	                 NULL)) {
		rc = IMS_EINVAL;
		goto out;
	}
	if (!host || !*host)
		goto out;
	n = strlen(host);
	if (n > 0 && host[n - 1] == '.')
		host[--n] = '\0';
	if (n == 0) {
		rc = IMS_EINVAL;
		goto out;
	}
	if (strchr(host, ':')) { /* IPv6 (GLib drops the brackets) */
		unsigned char a6[16];

		if (inet_pton(AF_INET6, host, a6) != 1) {
			rc = IMS_EINVAL;
			goto out;
		}
		ascii = g_ascii_strdown(host, -1);
		flags |= IMS_URL_IP;
	} else {
		int plain = 1;

		for (const char *p = host; *p && plain; p++)
			plain = (unsigned char)*p < 0x80;
		/* IDNA (UTS #46 mapping, lower case) for names that are not ASCII */
		ascii = plain ? g_strdup(host) : g_hostname_to_ascii(host);
		if (!ascii) {
			rc = IMS_EINVAL;
			goto out;
		}
		for (char *p = ascii; *p; p++)
			*p = (char)ascii_lower((unsigned char)*p);
		n = strlen(ascii);
		if (n > 0 && ascii[n - 1] == '.')
			ascii[--n] = '\0';
		if (!valid_dns_host(ascii) || n == 0) {
			rc = IMS_EINVAL;
			goto out;
		}
		if (ims_url_is_ip_literal(ascii))
			flags |= IMS_URL_IP;
		else if (g_hostname_is_ascii_encoded(ascii)) {
			flags |= IMS_URL_IDN;
			uni = ims_url_host_to_unicode(ascii);
		}
	}
	if (strlen(ascii) > IMS_URL_MAX_HOST) {
		rc = IMS_ELIMIT;
		goto out;
	}
	snprintf(out->host, sizeof out->host, "%s", ascii);
	snprintf(out->unicode, sizeof out->unicode, "%s", uni ? uni : ascii);
	out->flags = flags;
	rc = IMS_OK;
out:
	if (rc != IMS_OK)
		memset(out, 0, sizeof *out);
	g_free(host);
	g_free(ascii);
	g_free(uni);
	return rc;
}

static int url_stop(int c)
{
	return c <= ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == 0x7f;
}

size_t ims_urls_in_text(const char *text, size_t len, ims_url_fn fn, void *ctx)
{
	size_t found = 0;

	for (size_t i = 0; i < len; i++) {
		const char *p = text + i;
		size_t rest = len - i, k;
		int parens = 0, brackets = 0;
		struct ims_url_ref ref;

		unsigned char c = (unsigned char)*p | 0x20; /* lower case for letters */

		if (c == 'h') {
			if (rest < 7 || (p[1] | 0x20) != 't' || (p[2] | 0x20) != 't' ||
			    (p[3] | 0x20) != 'p' ||
			    (!has_prefix_ci(p, rest, "http://") &&
			     !has_prefix_ci(p, rest, "https://")))
				continue;
		} else if (c != 'w' || rest < 4 || (p[1] | 0x20) != 'w' || (p[2] | 0x20) != 'w' ||
		           p[3] != '.') {
			continue;
		}
		/* at the start of a word */
		if (i > 0 && (is_alpha((unsigned char)p[-1]) || is_digit((unsigned char)p[-1])))
			continue;
		for (k = 0; k < rest && k < IMS_URL_MAX && !url_stop((unsigned char)p[k]); k++) {
			if (p[k] == '(')
				parens++;
			else if (p[k] == '[')
				brackets++;
			else if ((p[k] == ')' && --parens < 0) || (p[k] == ']' && --brackets < 0))
				break;
		}
		while (k > 0 && strchr(".,;:!?", p[k - 1]))
			k--;
		ref = (struct ims_url_ref){.url = p, .len = k, .offset = i, .text = ""};
		if (k > 4) {
			found++;
			if (fn(ctx, &ref))
				break;
		}
		i += k ? k - 1 : 0;
	}
	return found;
}
