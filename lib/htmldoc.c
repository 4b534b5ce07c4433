/* The one HTML parse of a mail body: see htmldoc.h. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <libxml/uri.h>

#include "htmldoc.h"

htmlDocPtr ims_htmldoc_read(const char *html, size_t len)
{
	if (len > IMS_HTMLDOC_MAX || len > (size_t)INT32_MAX)
		return NULL;
	return htmlReadMemory(html, (int)len, NULL, "UTF-8",
	                      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	                          HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT);
}

static int name_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->name &&
	       strcasecmp((const char *)n->name, name) == 0;
}

/* The first <base href> of the document, depth-first, or NULL. */
static xmlNode *find_base(xmlNode *n, int depth)
{
	for (; n && depth < IMS_HTMLDOC_MAX_DEPTH; n = n->next) {
		xmlNode *b;

		if (name_is(n, "base") && xmlHasProp(n, (const xmlChar *)"href"))
			return n;
		if (n->type == XML_ELEMENT_NODE && (b = find_base(n->children, depth + 1)))
			return b;
	}
	return NULL;
}

/* The document's <base>, found once: a walk per link would make a page of
 * many relative links quadratic.  Kept in doc->_private, the field libxml2
 * leaves to the application (a node of doc, or no_base). */
static char no_base;

static xmlNode *doc_base(htmlDocPtr doc)
{
	if (!doc->_private) {
		xmlNode *b = find_base(xmlDocGetRootElement(doc), 0);

		doc->_private = b ? (void *)b : (void *)&no_base;
	}
	return doc->_private == (void *)&no_base ? NULL : doc->_private;
}

/* Leading and trailing white space and C0 controls go, as in a browser. */
static void trim(xmlChar *v)
{
	size_t n = strlen((char *)v), i = 0;

	while (i < n && v[i] <= ' ')
		i++;
	while (n > i && v[n - 1] <= ' ')
		n--;
	memmove(v, v + i, n - i);
	v[n - i] = '\0';
}

static int is_absolute(const char *v)
{
	size_t s = 0;

	if ((v[0] == '/' || v[0] == '\\') && (v[1] == '/' || v[1] == '\\'))
		return 1;
	while (
	    (v[s] >= 'a' && v[s] <= 'z') || (v[s] >= 'A' && v[s] <= 'Z') ||
	    (s > 0 && ((v[s] >= '0' && v[s] <= '9') || v[s] == '+' || v[s] == '-' || v[s] == '.')))
		s++;
	return s > 0 && v[s] == ':';
}

xmlChar *ims_htmldoc_link(htmlDocPtr doc, xmlNode *n, const char *attr)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
	xmlNode *base;
	xmlChar *bv, *r;

	if (!v)
		return NULL;
	trim(v);
	/* absolute (a scheme, or "//host"): as written */
	if (!doc || is_absolute((const char *)v))
		return v;
	base = doc_base(doc);
	if (!base || !(bv = xmlGetProp(base, (const xmlChar *)"href")))
		return v;
	trim(bv);
	r = xmlBuildURI(v, bv);
	xmlFree(bv);
	if (!r)
		return v;
	xmlFree(v);
	return r;
}

struct walk {
	htmlDocPtr doc;
	ims_url_fn fn;
	void *ctx;
	int stop;
};

/* Anchor text: the element's text, white space collapsed, cut. */
static void anchor_text(xmlNode *n, char *out, size_t outlen)
{
	xmlChar *t = xmlNodeGetContent(n);
	size_t o = 0;
	int space = 1;

	out[0] = '\0';
	if (!t)
		return;
	for (const xmlChar *p = t; *p && o + 1 < outlen; p++) {
		if (*p <= ' ') {
			if (!space)
				out[o++] = ' ';
			space = 1;
			continue;
		}
		out[o++] = (char)*p;
		space = 0;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	/* never end inside a UTF-8 sequence */
	while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
		o--;
	if (o > 0 && (unsigned char)out[o - 1] >= 0xC0)
		o--;
	out[o] = '\0';
	xmlFree(t);
}

static void report(struct walk *w, xmlNode *n, const char *element, const char *attr)
{
	char text[IMS_URL_MAX_ANCHOR + 1];
	xmlChar *v = ims_htmldoc_link(w->doc, n, attr);
	struct ims_url_ref ref;

	if (!v)
		return;
	text[0] = '\0';
	if (strcmp(element, "a") == 0)
		anchor_text(n, text, sizeof text);
	ref = (struct ims_url_ref){.url = (const char *)v,
	                           .len = strlen((const char *)v),
	                           .offset = (size_t)-1,
	                           .text = text,
	                           .element = element,
	                           .attr = attr};
	w->stop = w->fn(w->ctx, &ref);
	xmlFree(v);
}

static void walk(struct walk *w, xmlNode *n, int depth)
{
	for (; n && !w->stop; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (name_is(n, "a"))
			report(w, n, "a", "href");
		else if (name_is(n, "area"))
			report(w, n, "area", "href");
		else if (name_is(n, "img"))
			report(w, n, "img", "src");
		else if (name_is(n, "form"))
			report(w, n, "form", "action");
		if (!w->stop && depth < IMS_HTMLDOC_MAX_DEPTH)
			walk(w, n->children, depth + 1);
	}
}

void ims_htmldoc_urls(htmlDocPtr doc, ims_url_fn fn, void *ctx)
{
	struct walk w = {.doc = doc, .fn = fn, .ctx = ctx};

	if (doc)
		walk(&w, xmlDocGetRootElement(doc), 0);
}

ims_status ims_urls_in_html(const char *html, size_t len, ims_url_fn fn, void *ctx)
{
	htmlDocPtr doc;

	if (len > IMS_HTMLDOC_MAX)
		return IMS_ELIMIT;
	doc = ims_htmldoc_read(html, len);
	if (!doc)
		return len ? IMS_ENOMEM : IMS_OK;
	ims_htmldoc_urls(doc, fn, ctx);
	xmlFreeDoc(doc);
	return IMS_OK;
}
