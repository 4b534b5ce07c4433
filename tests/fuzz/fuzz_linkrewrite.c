/* Fuzz target: the link rewriter ims-milter runs on tagged inbound mail
 * (lib/linkrewrite.c), on any message a sender can write.
 *
 * Oracles, when it rewrites: the original header section and the new body
 * parse again as MIME (GMime) into as many parts; and in the body text
 * parts no original http(s) link is left: every URL of a text/plain part,
 * and every <a>/<area> href and URL in text outside anchors of a text/html
 * part (libxml2), is a click URL.  When it does not rewrite, it says why. */
#include "config.h"

#include <gmime/gmime.h>
#include <libxml/HTMLparser.h>
#include <stdint.h>
#include <strings.h>

#include "fuzz_common.h"
#include "linkrewrite.h"

#define CLICK "https://click.invalid/c?t="

static char *make(void *arg, const char *url)
{
	size_t *n = arg;
	char *r = malloc(64);

	(void)url;
	if (r)
		snprintf(r, 64, CLICK "%zu", ++*n);
	return r;
}

static void check_text(const char *what, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = ims_linkrewrite_url_len(s + i, n - i);

		if (!len)
			continue;
		if (len < strlen(CLICK) || strncmp(s + i, CLICK, strlen(CLICK)) != 0)
			fuzz_fail("%s: a link was left: %.*s", what, (int)(len > 200 ? 200 : len),
			          s + i);
		i += len - 1;
	}
}

static int named(const xmlNode *n, const char *name)
{
	return n->name && xmlStrcasecmp(n->name, (const xmlChar *)name) == 0;
}

static void check_html(xmlNode *n, int in_anchor, int depth)
{
	for (; n && depth < 300; n = n->next) {
		if (n->type == XML_ELEMENT_NODE) {
			int a = named(n, "a") || named(n, "area");

			if (a) {
				xmlChar *h = xmlGetProp(n, (const xmlChar *)"href");
				const char *v = (const char *)h;

				while (v && *v && (unsigned char)*v <= 0x20)
					v++;
				if (v &&
				    (strncasecmp(v, "http://", 7) == 0 ||
				     strncasecmp(v, "https://", 8) == 0) &&
				    strncmp(v, CLICK, strlen(CLICK)) != 0)
					fuzz_fail("html: an href was left: %.200s", v);
				xmlFree(h);
			}
			if (named(n, "script") || named(n, "style"))
				continue;
			check_html(n->children, in_anchor || a, depth + 1);
		} else if (n->type == XML_TEXT_NODE && !in_anchor && n->content) {
			check_text("html text", (const char *)n->content,
			           strlen((char *)n->content));
		}
	}
}

struct walk {
	size_t parts;
	int check; /* the rewritten message: no original link may be left */
	int to_qp; /* its top part is quoted-printable now (the MTA's field changed) */
};

static void part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct walk *w = data;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeDataWrapper *content;
	GMimeStream *mem;
	GByteArray *b;

	w->parts++;
	if (!w->check || !GMIME_IS_PART(obj) || !ct || g_mime_part_is_attachment(GMIME_PART(obj)) ||
	    !(content = g_mime_part_get_content(GMIME_PART(obj))))
		return;
	if (w->to_qp && GMIME_IS_MESSAGE(parent)) /* as the changed field says */
		g_mime_data_wrapper_set_encoding(content, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	if (!b->data) {
		/* empty: nothing to check */
	} else if (g_mime_content_type_is_type(ct, "text", "plain")) {
		check_text("text/plain", (const char *)b->data, b->len);
	} else if (g_mime_content_type_is_type(ct, "text", "html") && b->len < INT32_MAX) {
		htmlDocPtr doc = htmlReadMemory((const char *)b->data, (int)b->len, NULL,
		                                g_mime_content_type_get_parameter(ct, "charset"),
		                                HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
		                                    HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
		                                    HTML_PARSE_NOIMPLIED | HTML_PARSE_NODEFDTD);
		if (doc) {
			check_html(doc->children, 0, 0);
			xmlFreeDoc(doc);
		}
	}
	g_object_unref(mem);
}

static GMimeMessage *parse(const char *s, size_t n)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(s, n);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(st);
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct ims_linkrewrite_stats st;
	struct walk before = {0}, after = {.check = 1};
	char *body = NULL, *lf = NULL;
	size_t len = 0, n = 0, head, calls = 0;
	GMimeMessage *m0, *m1;
	GString *all;
	ims_status rc;

	if (!inited) {
		g_mime_init();
		inited = 1;
	}
	rc = ims_linkrewrite_message((const char *)data, size, 100, make, &calls, &body, &len, &st);
	if (rc == IMS_ENOTFOUND || rc == IMS_ENOMEM)
		return 0;
	if (rc != IMS_OK) {
		if (!st.reason[0] || body)
			fuzz_fail("left alone (%d) without a reason, or with a body", (int)rc);
		return 0;
	}
	/* the header section as the rewriter saw it (LF), then the new body */
	lf = malloc(size + 1);
	if (!lf)
		abort();
	for (size_t i = 0; i < size; i++)
		if (!(data[i] == '\r' && i + 1 < size && data[i + 1] == '\n'))
			lf[n++] = (char)data[i];
	head = n > 0 && lf[0] == '\n' ? 1 : n;
	for (size_t i = 0; head == n && i + 1 < n; i++)
		if (lf[i] == '\n' && lf[i + 1] == '\n')
			head = i + 2;
	all = g_string_new_len(lf, (gssize)head);
	for (size_t i = 0; i < len; i++)
		if (!(body[i] == '\r' && i + 1 < len && body[i + 1] == '\n'))
			g_string_append_c(all, body[i]);
	m0 = parse(lf, n);
	m1 = parse(all->str, all->len);
	if (!m0 || !m1)
		fuzz_fail("the rewritten message does not parse");
	after.to_qp = st.to_qp;
	g_mime_message_foreach(m0, part, &before);
	g_mime_message_foreach(m1, part, &after);
	if (before.parts != after.parts)
		fuzz_fail("parts: %zu before, %zu after", before.parts, after.parts);
	if (calls != st.links || st.links == 0 || st.parts == 0)
		fuzz_fail("stats: %zu calls, %zu links, %zu parts", calls, st.links, st.parts);
	g_object_unref(m0);
	g_object_unref(m1);
	g_string_free(all, TRUE);
	free(lf);
	free(body);
	return 0;
}
