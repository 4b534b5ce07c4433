/* Link rewriting of one message: see linkrewrite.h. */
#include "config.h"

#include <gmime/gmime.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "linkrewrite.h"

#define MAX_DEPTH 256 /* HTML elements nested deeper: not rewritten */
#define MAX_LINE  998 /* RFC 5322 2.1.1, for 7bit/8bit parts */
#define HTML_OPTS                                                                                  \
	(HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |       \
	 HTML_PARSE_NOIMPLIED | HTML_PARSE_NODEFDTD)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	g_mime_init();
	xmlInitParser();
}

struct rw {
	ims_linkrewrite_fn fn;
	void *arg;
	size_t max_links;
	struct ims_linkrewrite_stats *st;
	ims_status rc;    /* first failure; IMS_OK while all is well */
	GHashTable *made; /* the replacements handed out (the HTML self-check) */
};

static void fail(struct rw *w, ims_status rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first failure and why. */
static void fail(struct rw *w, ims_status rc, const char *fmt, ...)
{
	va_list ap;

	if (w->rc != IMS_OK)
		return;
	w->rc = rc;
	va_start(ap, fmt);
	vsnprintf(w->st->reason, sizeof w->st->reason, fmt, ap);
	va_end(ap);
}

static size_t scheme_len(const char *s, size_t n)
{
	if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
		return 7;
	if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
		return 8;
	return 0;
}

/* Bytes over 0x7f belong to the URL (an IDN host, a path): in the
 * charsets accepted (ascii_compatible) no character has a byte below 0x80
 * after one over it, so a URL never ends inside a character. */
size_t ims_linkrewrite_url_len(const char *s, size_t n)
{
	size_t start = scheme_len(s, n), k;

	if (!start)
		return 0;
	for (k = start; k < n; k++) {
		unsigned char c = (unsigned char)s[k];

		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\'' ||
		    c == ')' || c == ']')
			break;
	}
	/* "see https://example.com/x." : the full stop is the sentence's */
	while (k > start && strchr(".,;:!?", s[k - 1]))
		k--;
	return k > start ? k : 0;
}

/* The replacement of url; NULL after a failure (recorded in w). */
static char *replace(struct rw *w, const char *url)
{
	char *r;

	if (w->rc != IMS_OK)
		return NULL;
	if (++w->st->links > w->max_links) {
		fail(w, IMS_ELIMIT, "more links than [links] max_links");
		return NULL;
	}
	r = w->fn(w->arg, url);
	if (!r)
		fail(w, IMS_EINVAL, "a link could not be signed: %.100s", url);
	else if (w->made)
		g_hash_table_add(w->made, g_strdup(r));
	return r;
}

/* 1 when u (n bytes) starts with a replacement handed out. */
static int made_prefix(const struct rw *w, const char *u, size_t n)
{
	GHashTableIter it;
	gpointer k;
	char *s = g_strndup(u, n);
	int found = g_hash_table_contains(w->made, s);

	g_free(s);
	g_hash_table_iter_init(&it, w->made);
	while (!found && g_hash_table_iter_next(&it, &k, NULL))
		found = strlen(k) <= n && strncmp(u, k, strlen(k)) == 0;
	return found;
}

/* Rewrites the URLs of n bytes of text; NULL when none was found (or after
 * a failure), else the new text (g_string_free). */
static GString *rewrite_text(struct rw *w, const char *s, size_t n)
{
	GString *out = NULL;
	size_t done = 0;

	for (size_t i = 0; i < n && w->rc == IMS_OK; i++) {
		size_t len;
		char *url, *r;

		if ((s[i] != 'h' && s[i] != 'H') || !(len = ims_linkrewrite_url_len(s + i, n - i)))
			continue;
		if (!out)
			out = g_string_sized_new(n + 256);
		g_string_append_len(out, s + done, (gssize)(i - done));
		url = g_strndup(s + i, len);
		r = replace(w, url);
		g_free(url);
		if (!r)
			break;
		g_string_append(out, r);
		free(r);
		i += len - 1;
		done = i + 1;
	}
	if (out && w->rc == IMS_OK)
		g_string_append_len(out, s + done, (gssize)(n - done));
	if (out && w->rc != IMS_OK) {
		g_string_free(out, TRUE);
		out = NULL;
	}
	return out;
}

/* An href as a browser reads it: surrounding blanks and controls dropped,
 * tabs and line breaks inside removed.  NULL unless it is http(s). */
static char *href_url(const char *v)
{
	size_t n = strlen(v), a = 0, b = n, k = 0;
	char *u;

	while (a < n && (unsigned char)v[a] <= 0x20)
		a++;
	while (b > a && (unsigned char)v[b - 1] <= 0x20)
		b--;
	if (!scheme_len(v + a, b - a) || !(u = malloc(b - a + 1)))
		return NULL;
	for (size_t i = a; i < b; i++)
		if (v[i] != '\t' && v[i] != '\n' && v[i] != '\r')
			u[k++] = v[i];
	u[k] = '\0';
	return u;
}

static int is_named(const xmlNode *n, const char *name)
{
	return n->name && xmlStrcasecmp(n->name, (const xmlChar *)name) == 0;
}

/* The one walk over an HTML part's links (and linkable text). */
static void html_walk(struct rw *w, xmlNode *n, int in_anchor, int depth, int *changed)
{
	for (; n && w->rc == IMS_OK; n = n->next) {
		if (n->type == XML_ELEMENT_NODE) {
			int anchor = is_named(n, "a") || is_named(n, "area");

			if (depth >= MAX_DEPTH) {
				fail(w, IMS_ELIMIT, "HTML nested too deep");
				return;
			}
			if (anchor) {
				xmlChar *h = xmlGetProp(n, (const xmlChar *)"href");
				char *url = h ? href_url((const char *)h) : NULL, *r;

				xmlFree(h);
				if (url && (r = replace(w, url))) {
					xmlSetProp(n, (const xmlChar *)"href", (const xmlChar *)r);
					*changed = 1;
					free(r);
				}
				free(url);
			}
			if (is_named(n, "script") || is_named(n, "style"))
				continue;
			html_walk(w, n->children, in_anchor || anchor, depth + 1, changed);
		} else if (n->type == XML_TEXT_NODE && !in_anchor && n->content) {
			const char *t = (const char *)n->content;
			GString *g = rewrite_text(w, t, strlen(t));

			if (g) {
				xmlNodeSetContent(n, (const xmlChar *)g->str);
				*changed = 1;
				g_string_free(g, TRUE);
			}
		}
	}
}

/* The written HTML read back as a browser would: every http(s) href of
 * <a>/<area> and every URL in text outside them must be one of ours (the
 * serialiser may drop characters, e.g. controls, and so turn what was no
 * link into one).  0 when so. */
static int check_walk(const struct rw *w, xmlNode *n, int in_anchor, int depth)
{
	for (; n; n = n->next) {
		if (depth >= MAX_DEPTH + 8)
			return -1;
		if (n->type == XML_ELEMENT_NODE) {
			int anchor = is_named(n, "a") || is_named(n, "area");

			if (anchor) {
				xmlChar *h = xmlGetProp(n, (const xmlChar *)"href");
				char *url = h ? href_url((const char *)h) : NULL;
				int bad = url && !g_hash_table_contains(w->made, url);

				xmlFree(h);
				free(url);
				if (bad)
					return -1;
			}
			if (is_named(n, "script") || is_named(n, "style"))
				continue;
			if (check_walk(w, n->children, in_anchor || anchor, depth + 1))
				return -1;
		} else if (n->type == XML_TEXT_NODE && !in_anchor && n->content) {
			const char *t = (const char *)n->content;
			size_t len = strlen(t), k;

			for (size_t i = 0; i < len; i++)
				if ((k = ims_linkrewrite_url_len(t + i, len - i))) {
					if (!made_prefix(w, t + i, k))
						return -1;
					i += k - 1;
				}
		}
	}
	return 0;
}

static int check_html(const struct rw *w, const GString *g)
{
	htmlDocPtr doc = htmlReadMemory(g->str, (int)g->len, NULL, NULL, HTML_OPTS);
	int rc = doc ? check_walk(w, doc->children, 0, 0) : -1;

	xmlFreeDoc(doc);
	return rc;
}

static int is_ascii(const char *cs)
{
	return strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* A charset in which every byte below 0x80 is the ASCII character, also
 * inside multi-byte characters (EUC: both bytes over 0xa0), so that URLs
 * can be found and replaced in its bytes.  Not Shift_JIS, Big5, GBK,
 * UHC (ks_c_5601-1987), ISO-2022-*, UTF-7, UTF-16/32. */
static int ascii_compatible(const char *cs)
{
	static const char *const prefixes[] = {
	    "us-ascii",    "ascii", "utf-8", "utf8", "iso-8859-", "iso8859-", "latin1",
	    "windows-125", "cp125", "koi8-", "euc-", "gb2312",    "macintosh"};

	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncasecmp(cs, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

static int has_8bit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* libxml2's output callback: the encoded bytes into a GString. */
static int html_out(void *ctx, const char *buf, int len)
{
	g_string_append_len(ctx, buf, len);
	return len;
}

/* New HTML for n bytes of html in charset cs (NULL: none); NULL when no
 * link was changed or after a failure. */
static GString *rewrite_html(struct rw *w, const char *html, size_t n, const char *cs)
{
	htmlDocPtr doc;
	xmlOutputBufferPtr ob;
	GString *g = NULL;
	int changed = 0;

	if (n > INT_MAX) {
		fail(w, IMS_ELIMIT, "HTML part too large");
		return NULL;
	}
	doc = htmlReadMemory(html, (int)n, NULL, cs, HTML_OPTS);
	if (!doc) {
		if (memmem(html, n, "http", 4) || memmem(html, n, "HTTP", 4))
			fail(w, IMS_EFORMAT, "an HTML part could not be parsed");
		return NULL;
	}
	html_walk(w, xmlDocGetRootElement(doc) ? doc->children : NULL, 0, 0, &changed);
	if (w->rc != IMS_OK || !changed)
		goto out;
	/* written as ASCII, every other character as a character reference:
	 * the same text in any ASCII-compatible charset, whatever the part's
	 * charset parameter or a <meta> in it says (the <meta> is kept) */
	g = g_string_sized_new(n + 1024);
	ob = xmlOutputBufferCreateIO(html_out, NULL, g, xmlFindCharEncodingHandler("HTML"));
	if (!ob) {
		fail(w, IMS_ENOMEM, "HTML could not be written");
		goto out;
	}
	htmlDocContentDumpFormatOutput(ob, doc, NULL, 0);
	if (xmlOutputBufferClose(ob) < 0) /* flushes through the encoder */
		fail(w, IMS_EFORMAT, "HTML could not be written as ASCII");
	else if (g->len > INT_MAX || check_html(w, g) != 0)
		fail(w, IMS_EFORMAT, "the rewritten HTML does not read back with only our links");
out:
	if (g && w->rc != IMS_OK) {
		g_string_free(g, TRUE);
		g = NULL;
	}
	xmlFreeDoc(doc);
	return g;
}

struct walk {
	struct rw *w;
	size_t parts;
};

/* Fields called name in obj's own header list. */
static int count_field(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *l = g_mime_object_get_header_list(obj);
	int n = 0, c = l ? g_mime_header_list_get_count(l) : 0;

	for (int i = 0; i < c; i++)
		n += g_ascii_strcasecmp(
		         g_mime_header_get_name(g_mime_header_list_get_header_at(l, i)), name) == 0;
	return n;
}

/* 1 when the header lists of a and b (the message's and its top part's)
 * hold the same fields, Content-Transfer-Encoding aside. */
static int same_list(GMimeHeaderList *a, GMimeHeaderList *b)
{
	int na = g_mime_header_list_get_count(a), nb = g_mime_header_list_get_count(b), i = 0,
	    j = 0;
	const char *cte = "Content-Transfer-Encoding";

	for (;;) {
		GMimeHeader *ha, *hb;

		while (i < na &&
		       !g_ascii_strcasecmp(
		           g_mime_header_get_name(g_mime_header_list_get_header_at(a, i)), cte))
			i++;
		while (j < nb &&
		       !g_ascii_strcasecmp(
		           g_mime_header_get_name(g_mime_header_list_get_header_at(b, j)), cte))
			j++;
		if (i == na || j == nb)
			return i == na && j == nb;
		ha = g_mime_header_list_get_header_at(a, i++);
		hb = g_mime_header_list_get_header_at(b, j++);
		if (strcmp(g_mime_header_get_name(ha), g_mime_header_get_name(hb)) != 0 ||
		    g_strcmp0(g_mime_header_get_raw_value(ha), g_mime_header_get_raw_value(hb)) !=
		        0)
			return 0;
	}
}

static int same_but_cte(GMimeMessage *a, GMimeMessage *b)
{
	GMimeObject *pa = g_mime_message_get_mime_part(a), *pb = g_mime_message_get_mime_part(b);

	return pa && pb && GMIME_IS_PART(pb) &&
	       g_mime_part_get_content_encoding(GMIME_PART(pb)) ==
	           GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
	       same_list(g_mime_object_get_header_list(GMIME_OBJECT(a)),
	                 g_mime_object_get_header_list(GMIME_OBJECT(b))) &&
	       same_list(g_mime_object_get_header_list(pa), g_mime_object_get_header_list(pb));
}

static int long_line(const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		run = s[i] == '\n' ? 0 : run + 1;
		if (run > MAX_LINE)
			return 1;
	}
	return 0;
}

static void rewrite_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct walk *k = data;
	struct rw *w = k->w;
	GMimePart *part;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentEncoding enc;
	GMimeDataWrapper *content;
	GMimeStream *mem, *ns;
	GByteArray *bytes;
	const char *cs;
	GString *g = NULL;
	int html;

	k->parts++;
	if (w->rc != IMS_OK || !GMIME_IS_PART(obj) || !ct)
		return;
	part = GMIME_PART(obj);
	html = g_mime_content_type_is_type(ct, "text", "html");
	if ((!html && !g_mime_content_type_is_type(ct, "text", "plain")) ||
	    g_mime_part_is_attachment(part) || !(content = g_mime_part_get_content(part)))
		return;
	enc = g_mime_part_get_content_encoding(part);
	mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(content, mem) < 0) {
		g_object_unref(mem);
		fail(w, IMS_EFORMAT, "a text part could not be decoded");
		return;
	}
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	/* an empty part has no buffer at all (data NULL) */
	if (!bytes->data || !memmem(bytes->data, bytes->len, "://", 3))
		goto out; /* no link: the part stays as it is */
	cs = g_mime_content_type_get_parameter(ct, "charset");
	if (enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		fail(w, IMS_EFORMAT, "a text part is uuencoded");
		goto out;
	}
	if (cs ? !ascii_compatible(cs) : has_8bit((const char *)bytes->data, bytes->len)) {
		fail(w, IMS_EFORMAT, "charset %.60s: not sure where the links are",
		     cs ? cs : "(none, 8-bit text)");
		goto out;
	}
	if (cs && is_ascii(cs) && has_8bit((const char *)bytes->data, bytes->len)) {
		fail(w, IMS_EFORMAT, "8-bit text labelled %.60s: not sure of its charset", cs);
		goto out;
	}
	if (html)
		g = rewrite_html(w, (const char *)bytes->data, bytes->len, cs);
	else
		g = rewrite_text(w, (const char *)bytes->data, bytes->len);
	if (!g)
		goto out;
	if ((enc == GMIME_CONTENT_ENCODING_DEFAULT || enc == GMIME_CONTENT_ENCODING_7BIT ||
	     enc == GMIME_CONTENT_ENCODING_8BIT || enc == GMIME_CONTENT_ENCODING_BINARY) &&
	    long_line(g->str, g->len)) {
		/* quoted-printable keeps lines short: a part of a multipart changes
		 * its own header; the message's one field is the caller's to change
		 * (st->to_qp), when there is at most one */
		if (!GMIME_IS_MULTIPART(parent)) {
			if (!GMIME_IS_MESSAGE(parent) ||
			    count_field(obj, "Content-Transfer-Encoding") > 1) {
				fail(w, IMS_ELIMIT,
				     "a rewritten line would be longer than 998 bytes in a %s body",
				     enc == GMIME_CONTENT_ENCODING_DEFAULT
				         ? "7bit (default)"
				         : g_mime_content_encoding_to_string(enc));
				goto out;
			}
			w->st->to_qp = 1;
		}
		g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	}
	ns = g_mime_stream_mem_new_with_buffer(g->str, g->len);
	content = g_mime_data_wrapper_new_with_stream(ns, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, content);
	g_object_unref(content);
	g_object_unref(ns);
	w->st->parts++;
out:
	if (g)
		g_string_free(g, TRUE);
	g_object_unref(mem);
}

static GMimeMessage *parse(const char *s, size_t n)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(s, n);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);

	g_object_unref(parser);
	g_object_unref(stream);
	return m;
}

static GByteArray *serialise(GMimeMessage *m)
{
	GMimeStream *s = g_mime_stream_mem_new();
	GByteArray *b;

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	if (g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, s) < 0) {
		g_object_unref(s);
		return NULL;
	}
	b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	g_object_unref(s);
	return b;
}

/* n equal bytes at a + ao and b + bo; a or b may be NULL when n is 0
 * (an empty GByteArray has no buffer: no arithmetic on it then). */
static int same(const char *a, size_t ao, const guint8 *b, size_t bo, size_t n)
{
	return n == 0 || memcmp(a + ao, b + bo, n) == 0;
}

/* Offset of the body (after the blank line) of LF text; n when none. */
static size_t body_at(const char *s, size_t n)
{
	const char *p;

	if (n == 0)
		return 0; /* s may be NULL (an empty GByteArray) */
	if (s[0] == '\n')
		return 1;
	p = memmem(s, n, "\n\n", 2);
	return p ? (size_t)(p - s) + 2 : n;
}

static size_t count_parts(GMimeMessage *m)
{
	struct walk k = {0};
	struct rw w = {0};
	struct ims_linkrewrite_stats st = {0};

	w.st = &st;
	w.rc = IMS_EINVAL; /* counting only: rewrite_part does nothing else */
	k.w = &w;
	g_mime_message_foreach(m, rewrite_part, &k);
	return k.parts;
}

static char *crlf(const char *s, size_t n, size_t *outlen)
{
	size_t extra = 0, k = 0;
	char *o;

	for (size_t i = 0; i < n; i++)
		extra += s[i] == '\n';
	if (!(o = malloc(n + extra + 1)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			o[k++] = '\r';
		o[k++] = s[i];
	}
	o[k] = '\0';
	*outlen = k;
	return o;
}

ims_status ims_linkrewrite_message(const char *raw, size_t len, size_t max_links,
                                   ims_linkrewrite_fn fn, void *arg, char **body, size_t *body_len,
                                   struct ims_linkrewrite_stats *st)
{
	struct rw w = {
	    .fn = fn, .arg = arg, .max_links = max_links, .st = st, .rc = IMS_OK, .made = NULL};
	struct walk k = {.w = &w};
	GMimeMessage *m = NULL, *again = NULL;
	GByteArray *before = NULL, *after = NULL;
	char *lf = NULL;
	size_t n = 0, b0, b1, r0;
	ims_status rc = IMS_ENOMEM;

	*body = NULL;
	*body_len = 0;
	memset(st, 0, sizeof *st);
	/* no shortcut on the raw bytes: a base64 body or a quoted-printable soft
	 * break hides "://" there; the walk below decides on decoded text */
	if (!raw || len == 0)
		return IMS_ENOTFOUND;
	pthread_once(&init_once, init);
	/* LF line ends throughout; CRLF again at the end */
	if (!(lf = malloc(len + 1)))
		return IMS_ENOMEM;
	for (size_t i = 0; i < len; i++)
		if (!(raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n'))
			lf[n++] = raw[i];
	w.made = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	rc = IMS_EFORMAT;
	if (!(m = parse(lf, n))) {
		snprintf(st->reason, sizeof st->reason, "the message does not parse as MIME");
		goto out;
	}
	if (!(before = serialise(m))) {
		snprintf(st->reason, sizeof st->reason, "the message could not be written back");
		goto out;
	}
	r0 = body_at(lf, n);
	b0 = body_at((const char *)before->data, before->len);
	if (n - r0 != before->len - b0 || !same(lf, r0, before->data, b0, n - r0)) {
		snprintf(st->reason, sizeof st->reason,
		         "the MIME structure would not survive being written back");
		goto out;
	}
	g_mime_message_foreach(m, rewrite_part, &k);
	if (w.rc != IMS_OK) {
		rc = w.rc;
		goto out;
	}
	if (st->parts == 0) {
		rc = IMS_ENOTFOUND;
		goto out;
	}
	if (!(after = serialise(m))) {
		snprintf(st->reason, sizeof st->reason,
		         "the rewritten message could not be written");
		goto out;
	}
	b1 = body_at((const char *)after->data, after->len);
	again = parse((const char *)after->data, after->len);
	if (st->to_qp) {
		/* the header may differ in Content-Transfer-Encoding only */
		GMimeMessage *orig = parse(lf, n);
		int ok = orig && again && same_but_cte(orig, again);

		if (orig)
			g_object_unref(orig);
		if (!ok) {
			snprintf(st->reason, sizeof st->reason,
			         "the rewrite would change more of the message header than its "
			         "Content-Transfer-Encoding");
			goto out;
		}
	} else if (b1 != b0 || !same((const char *)before->data, 0, after->data, 0, b0)) {
		snprintf(st->reason, sizeof st->reason,
		         "the rewrite would change the message header");
		goto out;
	}
	if (!again || count_parts(again) != k.parts) {
		snprintf(st->reason, sizeof st->reason,
		         "the rewritten message does not parse the same");
		goto out;
	}
	rc = IMS_ENOMEM;
	if (!(*body = crlf((const char *)after->data + b1, after->len - b1, body_len)))
		goto out;
	rc = IMS_OK;
out:
	if (rc != IMS_OK && rc != IMS_ENOTFOUND)
		st->links = st->parts = 0;
	if (rc != IMS_OK)
		st->to_qp = 0;
	if (rc == IMS_ENOTFOUND)
		st->reason[0] = '\0';
	if (again)
		g_object_unref(again);
	if (m)
		g_object_unref(m);
	if (before)
		g_byte_array_unref(before);
	if (after)
		g_byte_array_unref(after);
	if (w.made)
		g_hash_table_destroy(w.made);
	free(lf);
	return rc;
}
