#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <glib.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "heuristics.h"

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int ims_heur_url_host(const char *href, char *out, size_t outlen)
{
	char buf[IMS_HEUR_MAX_TEXT + 1];
	char *host = NULL;
	const char *h = href;
	int rc = -1;

	while (*h == ' ' || *h == '\t' || *h == '\r' || *h == '\n')
		h++;
	snprintf(buf, sizeof buf, "%s", h);
	if (!g_uri_split(buf, G_URI_FLAGS_ENCODED | G_URI_FLAGS_NON_DNS, NULL, NULL, &host, NULL,
	                 NULL, NULL, NULL, NULL) ||
	    !host || !*host)
		goto out;
	if (strlen(host) >= outlen || strlen(host) > IMS_HEUR_MAX_HOST)
		goto out;
	snprintf(out, outlen, "%s", host);
	/* trailing dot of a fully qualified name */
	if (out[0] && out[strlen(out) - 1] == '.')
		out[strlen(out) - 1] = '\0';
	lower(out);
	rc = out[0] ? 0 : -1;
out:
	g_free(host);
	return rc;
}

static int is_label_char(int c)
{
	return isalnum(c) || c == '-';
}

int ims_heur_text_domain(const char *text, char *out, size_t outlen)
{
	size_t n = strnlen(text, IMS_HEUR_MAX_TEXT);
	const char *s = strstr(text, "://");

	/* A URL in the text: the host of the word that holds "://". */
	if (s && (size_t)(s - text) < n) {
		char url[IMS_HEUR_MAX_TEXT + 1];
		const char *b = s;
		size_t len;
		while (b > text && !isspace((unsigned char)b[-1]) && b[-1] != '<' && b[-1] != '(')
			b--;
		len = strcspn(b, " \t\r\n>)");
		if (len > IMS_HEUR_MAX_TEXT)
			len = IMS_HEUR_MAX_TEXT;
		memcpy(url, b, len);
		url[len] = '\0';
		if (ims_heur_url_host(url, out, outlen) == 0)
			return 0;
	}
	/* Otherwise the first run of labels with a dot and an alphabetic TLD. */
	for (size_t i = 0; i < n;) {
		size_t j = i, dots = 0, last_dot = 0;
		if (!is_label_char((unsigned char)text[i])) {
			i++;
			continue;
		}
		if (i > 0 && text[i - 1] == '@') { /* the domain of an address */
			while (i < n && (is_label_char((unsigned char)text[i]) || text[i] == '.'))
				i++;
			continue;
		}
		while (j < n && (is_label_char((unsigned char)text[j]) ||
		                 (text[j] == '.' && j + 1 < n &&
		                  is_label_char((unsigned char)text[j + 1])))) {
			if (text[j] == '.') {
				dots++;
				last_dot = j;
			}
			j++;
		}
		if (dots > 0 && j - last_dot - 1 >= 2 && j - i < outlen &&
		    (j >= n || text[j] != '@')) {
			int alpha = 1;
			for (size_t k = last_dot + 1; k < j; k++)
				if (!isalpha((unsigned char)text[k]))
					alpha = 0;
			if (alpha) {
				memcpy(out, text + i, j - i);
				out[j - i] = '\0';
				lower(out);
				return 0;
			}
		}
		i = j + 1;
	}
	return -1;
}

const char *ims_heur_org_domain(const char *host)
{
	/* Without the public suffix list: the last two labels, or three when
	 * the second-level label is one of the common registry prefixes under
	 * a two-letter country code (example.co.uk, example.com.au). */
	static const char *const sld[] = {"co", "com", "net", "org", "gov",
	                                  "ac", "edu", "ne",  "or",  NULL};
	const char *labels[4] = {NULL, NULL, NULL, NULL};
	int n = 0;

	for (const char *p = host + strlen(host); p > host; p--)
		if (p[-1] == '.') {
			labels[n++] = p;
			if (n == 3)
				break;
		}
	if (n < 1)
		return host;
	/* labels[0] = TLD, labels[1] = second level + ".tld", ... */
	if (n >= 2 && strlen(labels[0]) == 2) {
		size_t l = (size_t)(labels[0] - labels[1]) - 1;
		for (int i = 0; sld[i]; i++)
			if (strlen(sld[i]) == l && strncmp(labels[1], sld[i], l) == 0)
				return n >= 3 ? labels[2] : host;
	}
	return n >= 2 ? labels[1] : host;
}

int ims_heur_is_ip_literal(const char *host)
{
	unsigned char buf[16];
	size_t i;

	if (strchr(host, ':') || host[0] == '[')
		return 1;
	if (inet_pton(AF_INET, host, buf) == 1)
		return 1;
	/* 3232235777, 0xC0A80101 and dotted octal/hex forms browsers accept */
	for (i = 0; host[i]; i++)
		if (!isxdigit((unsigned char)host[i]) && host[i] != '.' && host[i] != 'x')
			return 0;
	return i > 0 && (isdigit((unsigned char)host[0]));
}

static int has_punycode(const char *host)
{
	for (const char *p = host; *p; p++)
		if ((p == host || p[-1] == '.') && strncasecmp(p, "xn--", 4) == 0)
			return 1;
	return 0;
}

static int ext_in(const char *ext, size_t len, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strlen(list[i]) == len && strncasecmp(ext, list[i], len) == 0)
			return 1;
	return 0;
}

int ims_heur_bad_filename(const char *filename, int *double_ext)
{
	static const char *const bad[] = {
	    "exe", "scr",    "pif",         "com", "bat", "cmd", "vbs", "vbe", "js",  "jse", "wsf",
	    "wsh", "hta",    "msi",         "msp", "jar", "ps1", "lnk", "reg", "cpl", "dll", "scf",
	    "chm", "gadget", "application", "msc", "vb",  "iso", "img", "vhd", NULL};
	static const char *const harmless[] = {"pdf", "doc",  "docx", "xls",  "xlsx", "ppt", "pptx",
	                                       "txt", "rtf",  "jpg",  "jpeg", "png",  "gif", "zip",
	                                       "htm", "html", "csv",  "odt",  "mp3",  "mp4", NULL};
	size_t n = strnlen(filename, IMS_HEUR_MAX_TEXT);
	const char *dot, *prev;

	*double_ext = 0;
	/* trailing dots and spaces are dropped by Windows */
	while (n > 0 && (filename[n - 1] == '.' || filename[n - 1] == ' '))
		n--;
	dot = NULL;
	for (size_t i = n; i > 0; i--)
		if (filename[i - 1] == '.') {
			dot = filename + i - 1;
			break;
		}
	if (!dot || !ext_in(dot + 1, (size_t)(filename + n - dot - 1), bad))
		return 0;
	prev = NULL;
	for (const char *p = dot; p > filename; p--)
		if (p[-1] == '.') {
			prev = p - 1;
			break;
		}
	if (prev) {
		const char *e = prev + 1;
		size_t len = (size_t)(dot - e);
		while (len > 0 && e[len - 1] == ' ')
			len--;
		if (ext_in(e, len, harmless))
			*double_ext = 1;
	}
	return 1;
}

static int is_local(const char *domain, const char *const *locals)
{
	size_t dl = strlen(domain);

	for (; locals && *locals; locals++) {
		size_t ll = strlen(*locals);
		if (strcasecmp(domain, *locals) == 0 ||
		    (dl > ll && domain[dl - ll - 1] == '.' &&
		     strcasecmp(domain + dl - ll, *locals) == 0))
			return 1;
	}
	return 0;
}

static void check_links(const struct ims_heur_input *in, ims_heur_emit emit, void *arg)
{
	char host[IMS_HEUR_MAX_HOST + 1], named[IMS_HEUR_MAX_HOST + 1];

	for (size_t i = 0; i < in->nlinks; i++) {
		const struct ims_link *l = &in->links[i];
		if (!l->href || ims_heur_url_host(l->href, host, sizeof host) != 0)
			continue;
		if (ims_heur_is_ip_literal(host))
			emit(arg, "PHISH_URL_IP_LITERAL", host);
		if (has_punycode(host))
			emit(arg, "PHISH_URL_PUNYCODE", host);
		if (l->text && *l->text &&
		    ims_heur_text_domain(l->text, named, sizeof named) == 0 &&
		    !ims_heur_is_ip_literal(host) &&
		    strcmp(ims_heur_org_domain(named), ims_heur_org_domain(host)) != 0) {
			char detail[2 * IMS_HEUR_MAX_HOST + 8];
			snprintf(detail, sizeof detail, "%s->%s", named, host);
			emit(arg, "PHISH_URL_TEXT_MISMATCH", detail);
		}
	}
}

static void check_attachments(const struct ims_heur_input *in, ims_heur_emit emit, void *arg)
{
	for (size_t i = 0; i < in->nattachments; i++) {
		const struct ims_attachment *a = &in->attachments[i];
		int dbl = 0;
		if (a->filename && *a->filename && ims_heur_bad_filename(a->filename, &dbl)) {
			emit(arg, "BAD_ATTACHMENT_EXT", a->filename);
			if (dbl)
				emit(arg, "DOUBLE_ATTACHMENT_EXT", a->filename);
		} else if (a->content_type &&
		           (strcasecmp(a->content_type, "application/x-msdownload") == 0 ||
		            strcasecmp(a->content_type, "application/x-dosexec") == 0 ||
		            strcasecmp(a->content_type, "application/x-msdos-program") == 0)) {
			emit(arg, "BAD_ATTACHMENT_EXT", a->content_type);
		}
	}
}

/* The display name of the first mailbox in From names a local domain while
 * the address is not in one. */
static void check_display_name(const struct ims_heur_input *in, ims_heur_emit emit, void *arg)
{
	InternetAddressList *list;
	InternetAddress *ia;
	const char *name, *addr, *at;
	char buf[IMS_HEUR_MAX_TEXT + 1];

	if (!in->from || !in->local_domains || !in->local_domains[0])
		return;
	snprintf(buf, sizeof buf, "%s", in->from);
	list = internet_address_list_parse(NULL, buf);
	if (!list)
		return;
	if (internet_address_list_length(list) < 1)
		goto out;
	ia = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
		goto out;
	name = internet_address_get_name(ia);
	addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	at = addr ? strrchr(addr, '@') : NULL;
	if (!name || !*name || !at || is_local(at + 1, in->local_domains))
		goto out;
	for (const char *const *d = in->local_domains; *d; d++) {
		if (strcasestr(name, *d)) {
			char detail[IMS_HEUR_MAX_TEXT];
			snprintf(detail, sizeof detail, "%s<%s>", *d, addr);
			emit(arg, "PHISH_DISPLAY_NAME_LOCAL", detail);
			break;
		}
	}
out:
	g_object_unref(list);
}

void ims_heuristics_run(const struct ims_heur_input *in, ims_heur_emit emit, void *arg)
{
	if (in->body && in->body_len >= sizeof IMS_GTUBE - 1 &&
	    memmem(in->body, in->body_len, IMS_GTUBE, sizeof IMS_GTUBE - 1))
		emit(arg, "GTUBE", "");
	if (in->from_count == 0)
		emit(arg, "MISSING_FROM", "");
	else if (in->from_count > 1) {
		char n[32];
		snprintf(n, sizeof n, "count=%zu", in->from_count);
		emit(arg, "MULTIPLE_FROM", n);
	}
	check_links(in, emit, arg);
	check_attachments(in, emit, arg);
	check_display_name(in, emit, arg);
}
