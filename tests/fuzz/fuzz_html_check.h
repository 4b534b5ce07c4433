/* Oracle for sanitised HTML (webapi/html_sanitize.c): parsed again as a
 * browser would (libxml2's HTML parser), every element and attribute is on
 * the allow list written down here independently of the sanitiser, and
 * every href is http, https or mailto; with images allowed (the
 * sanitiser's IMS_HTML_REMOTE_IMAGES) <img> may appear too, with src
 * http or https only. */
#ifndef IMS_FUZZ_HTML_CHECK_H
#define IMS_FUZZ_HTML_CHECK_H

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <strings.h>

#include "fuzz_common.h"

static int fuzz_in(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcasecmp(*list, s) == 0)
			return 1;
	return 0;
}

static int fuzz_web_url(const xmlAttr *a)
{
	xmlChar *v = xmlNodeGetContent((const xmlNode *)a);
	const char *s = v ? (const char *)v : "";
	int ok;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')
		s++;
	ok = strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
	xmlFree(v);
	return ok;
}

static void fuzz_html_walk(const xmlNode *n, const char *html, int images)
{
	/* html and body are the parser's own wrappers */
	static const char *const elements[] = {
	    "html",   "body",  "a",      "abbr",       "b",       "blockquote", "br",     "caption",
	    "center", "code",  "dd",     "del",        "div",     "dl",         "dt",     "em",
	    "font",   "h1",    "h2",     "h3",         "h4",      "h5",         "h6",     "hr",
	    "i",      "ins",   "li",     "ol",         "p",       "pre",        "q",      "s",
	    "small",  "span",  "strike", "strong",     "sub",     "sup",        "table",  "tbody",
	    "td",     "tfoot", "th",     "thead",      "tr",      "tt",         "u",      "ul",
	    "big",    "cite",  "kbd",    "mark",       "section", "article",    "header", "footer",
	    "main",   "nav",   "figure", "figcaption", NULL};
	static const char *const attributes[] = {"href",    "title",  "alt",    "colspan",
	                                         "rowspan", "align",  "valign", "dir",
	                                         "lang",    "target", "rel",    NULL};

	static const char *const img_attributes[] = {"src",   "alt",    "title",
	                                             "width", "height", NULL};

	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (images && strcasecmp((const char *)n->name, "img") == 0) {
			int src = 0;

			for (const xmlAttr *a = n->properties; a; a = a->next) {
				if (!fuzz_in(img_attributes, (const char *)a->name))
					fuzz_fail("sanitised HTML has attribute %s on <img>: %s",
					          a->name, html);
				if (strcasecmp((const char *)a->name, "src") == 0) {
					if (!fuzz_web_url(a))
						fuzz_fail(
						    "sanitised HTML has a non-web img src: %s",
						    html);
					src = 1;
				}
			}
			if (!src)
				fuzz_fail("sanitised HTML has <img> without src: %s", html);
			if (n->children)
				fuzz_fail("sanitised HTML has <img> with content: %s", html);
			continue;
		}
		if (!fuzz_in(elements, (const char *)n->name))
			fuzz_fail("sanitised HTML has element <%s>: %s", n->name, html);
		for (const xmlAttr *a = n->properties; a; a = a->next) {
			xmlChar *v;
			const char *s;

			if (!fuzz_in(attributes, (const char *)a->name))
				fuzz_fail("sanitised HTML has attribute %s on <%s>: %s", a->name,
				          n->name, html);
			if (strcasecmp((const char *)a->name, "href") != 0)
				continue;
			v = xmlNodeGetContent((const xmlNode *)a);
			s = v ? (const char *)v : "";
			while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
				s++;
			if (strncasecmp(s, "http://", 7) != 0 &&
			    strncasecmp(s, "https://", 8) != 0 && strncasecmp(s, "mailto:", 7) != 0)
				fuzz_fail("sanitised HTML has href \"%s\": %s", s, html);
			xmlFree(v);
		}
		fuzz_html_walk(n->children, html, images);
	}
}

/* images: whether the sanitiser was asked to keep http/https images */
static void fuzz_check_sanitized(const char *html, size_t len, int images)
{
	htmlDocPtr doc;

	if (len > 0x7fffffff)
		return;
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
	                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	                         HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC);
	if (doc)
		fuzz_html_walk(xmlDocGetRootElement(doc), html, images);
	xmlFreeDoc(doc);
}

#endif
