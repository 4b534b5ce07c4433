#include "config.h"

#include <ctype.h>
#include <glib.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "heuristics.h"
#include "orgdomain.h"
#include "urls.h"

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
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
		struct ims_url_host h;

		if (ims_url_host(url, len, &h) == IMS_OK &&
		    (size_t)snprintf(out, outlen, "%s", h.host) < outlen)
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

/* The registrable domain of host (lib/orgdomain.h), or host itself when
 * it has none (an IP literal, a single label). */
static void org_of(const char *host, char *out, size_t outlen)
{
	if (ims_orgdomain(host, out, outlen) != IMS_OK)
		snprintf(out, outlen, "%s", host);
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
	char named[IMS_HEUR_MAX_HOST + 1], org_named[IMS_HEUR_MAX_HOST + 1];
	char org_host[IMS_HEUR_MAX_HOST + 1];
	struct ims_url_host h;

	for (size_t i = 0; i < in->nlinks; i++) {
		const struct ims_link *l = &in->links[i];

		if (!l->href || ims_url_host(l->href, strlen(l->href), &h) != IMS_OK)
			continue;
		if (h.flags & IMS_URL_IP)
			emit(arg, "PHISH_URL_IP_LITERAL", h.host);
		if (h.flags & IMS_URL_IDN) {
			char detail[sizeof h.host + sizeof h.unicode + 4];

			snprintf(detail, sizeof detail, "%s (%s)", h.host, h.unicode);
			emit(arg, "PHISH_URL_PUNYCODE", detail);
		}
		if (l->text && *l->text && !(h.flags & IMS_URL_IP) &&
		    ims_heur_text_domain(l->text, named, sizeof named) == 0) {
			org_of(named, org_named, sizeof org_named);
			org_of(h.host, org_host, sizeof org_host);
			if (strcmp(org_named, org_host) != 0) {
				char detail[2 * IMS_HEUR_MAX_HOST + 8];

				snprintf(detail, sizeof detail, "%s->%s", named, h.host);
				emit(arg, "PHISH_URL_TEXT_MISMATCH", detail);
			}
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
