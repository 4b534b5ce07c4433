#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "html_sanitize.h"
#include "htmldoc.h"
#include "urls.h"

/* kept, with their children */
static const char *const keep[] = {
    "a",     "abbr",  "b",      "blockquote", "br",   "caption", "center",  "code",   "dd",
    "del",   "div",   "dl",     "dt",         "em",   "font",    "h1",      "h2",     "h3",
    "h4",    "h5",    "h6",     "hr",         "i",    "ins",     "li",      "ol",     "p",
    "pre",   "q",     "s",      "small",      "span", "strike",  "strong",  "sub",    "sup",
    "table", "tbody", "td",     "tfoot",      "th",   "thead",   "tr",      "tt",     "u",
    "ul",    "big",   "cite",   "kbd",        "mark", "section", "article", "header", "footer",
    "main",  "nav",   "figure", "figcaption"};
/* dropped with everything inside */
static const char *const drop[] = {
    "script",   "style",    "head",  "title",  "iframe",   "frame",  "frameset", "object", "embed",
    "applet",   "form",     "input", "button", "textarea", "select", "option",   "svg",    "math",
    "noscript", "template", "link",  "meta",   "base",     "img",    "video",    "audio",  "source",
    "track",    "canvas",   "map",   "area",   "picture",  "dialog", "portal"};
static const char *const attrs[] = {"href",  "title",  "alt", "colspan", "rowspan",
                                    "align", "valign", "dir", "lang"};
static const char *const voids[] = {"br", "hr"};

static int in(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(list[i], s) == 0)
			return 1;
	return 0;
}
#define IN(list, s) in(list, sizeof list / sizeof list[0], s)

struct out {
	FILE *f;
	size_t max;
	long start;
	unsigned flags;
	size_t images;
};

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* <img>: an http or https image is counted, and kept only when asked */
static void image(struct out *o, htmlDocPtr doc, xmlNode *n)
{
	static const char *const img_attrs[] = {"alt", "title", "width", "height"};
	xmlChar *src = ims_htmldoc_link(doc, n, "src");
	const char *s = src ? (const char *)src : "";

	s += strspn(s, " \t\r\n\f");
	if (strncasecmp(s, "http://", 7) != 0 && strncasecmp(s, "https://", 8) != 0) {
		xmlFree(src);
		return;
	}
	o->images++;
	if (o->flags & IMS_HTML_REMOTE_IMAGES) {
		fputs("<img src=\"", o->f);
		esc(o->f, s);
		fputc('"', o->f);
		for (xmlAttr *a = n->properties; a; a = a->next) {
			const char *an = (const char *)a->name;
			xmlChar *v;

			if (!IN(img_attrs, an))
				continue;
			v = xmlNodeGetContent((xmlNode *)a);
			if (v) {
				fprintf(o->f, " %s=\"", an);
				esc(o->f, (const char *)v);
				fputc('"', o->f);
			}
			xmlFree(v);
		}
		fputc('>', o->f);
	}
	xmlFree(src);
}

static void walk(struct out *o, htmlDocPtr doc, xmlNode *n, int depth)
{
	for (; n; n = n->next) {
		if (ftell(o->f) > (long)o->max)
			return;
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content)
				esc(o->f, (const char *)n->content);
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)n->name;

		if (strcasecmp(name, "img") == 0) {
			image(o, doc, n);
			continue;
		}
		if (IN(drop, name))
			continue;
		if (depth >= IMS_HTML_MAX_DEPTH || !IN(keep, name)) {
			/* unknown or too deep: keep the text, not the element */
			if (depth < IMS_HTML_MAX_DEPTH * 2)
				walk(o, doc, n->children, depth + 1);
			continue;
		}
		fprintf(o->f, "<%s", name);
		for (xmlAttr *a = n->properties; a; a = a->next) {
			const char *an = (const char *)a->name;
			xmlChar *v;

			if (!IN(attrs, an))
				continue;
			/* the link as the checks judged it (lib/htmldoc.h) */
			v = strcasecmp(an, "href") == 0 ? ims_htmldoc_link(doc, n, "href")
			                                : xmlNodeGetContent((xmlNode *)a);
			if (v &&
			    (strcasecmp(an, "href") != 0 || ims_url_is_web_link((const char *)v))) {
				fprintf(o->f, " %s=\"", an);
				esc(o->f, (const char *)v);
				fputc('"', o->f);
			}
			xmlFree(v);
		}
		if (strcasecmp(name, "a") == 0)
			fputs(" target=\"_blank\" rel=\"noopener noreferrer nofollow\"", o->f);
		fputc('>', o->f);
		if (IN(voids, name))
			continue;
		walk(o, doc, n->children, depth + 1);
		fprintf(o->f, "</%s>", name);
	}
}

ims_status ims_html_sanitize(const char *html, size_t len, size_t max, char **out, size_t *outlen)
{
	return ims_html_sanitize_ex(html, len, max, 0, out, outlen, NULL);
}

ims_status ims_html_sanitize_ex(const char *html, size_t len, size_t max, unsigned flags,
                                char **out, size_t *outlen, size_t *images)
{
	htmlDocPtr doc = NULL;
	struct out o = {0};
	char *buf = NULL;
	size_t blen = 0;
	xmlNode *root, *body = NULL;

	*out = NULL;
	*outlen = 0;
	if (images)
		*images = 0;
	if (len > (size_t)INT32_MAX)
		return IMS_ELIMIT;
	o.f = open_memstream(&buf, &blen);
	if (!o.f)
		return IMS_ENOMEM;
	o.max = max;
	o.flags = flags;
	doc = ims_htmldoc_read(html, len);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	for (xmlNode *n = root ? root->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcasecmp((const char *)n->name, "body") == 0)
			body = n;
	if (body)
		walk(&o, doc, body->children, 0);
	else if (root)
		walk(&o, doc, root, 0);
	fclose(o.f);
	if (doc)
		xmlFreeDoc(doc);
	if (!buf)
		return IMS_ENOMEM;
	if (blen > max) {
		blen = max;
		buf[blen] = '\0';
		/* never end inside a tag or an entity */
		char *lt = strrchr(buf, '<'), *amp = strrchr(buf, '&');

		if (lt && !strchr(lt, '>'))
			*lt = '\0';
		if (amp && !strchr(amp, ';'))
			*amp = '\0';
		blen = strlen(buf);
	}
	*out = buf;
	*outlen = blen;
	if (images)
		*images = o.images;
	return IMS_OK;
}
