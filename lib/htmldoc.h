/* The one HTML parse of a mail body: libxml2's HTML parser with the error
 * recovery browsers do, the same options everywhere.  The web mail view's
 * sanitiser (webapi/html_sanitize.c) renders from it and the link checks
 * (phishing heuristics, DNS/local lists, link rewriting) take their links
 * from it, through the same ims_htmldoc_link(), so the link that is judged
 * is the link that is shown and clicked: same entity decoding, same
 * handling of broken attributes and comments, same <base href>.
 *
 * The classifier's features do not use this parse: they come from the
 * linear-time stripper classifier/html.c, for speed (docs/classifier.md). */
#ifndef IMS_HTMLDOC_H
#define IMS_HTMLDOC_H

#include <stddef.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "status.h"
#include "urls.h"

#define IMS_HTMLDOC_MAX       (16u << 20) /* larger input: IMS_ELIMIT */
#define IMS_HTMLDOC_MAX_DEPTH 256         /* elements nested deeper are not walked */

/* Parses len bytes of UTF-8 HTML.  NULL only when libxml2 gives up (out of
 * memory); the caller frees the document with xmlFreeDoc(). */
htmlDocPtr ims_htmldoc_read(const char *html, size_t len);

/* The URL of element n's attribute attr as a browser would follow it:
 * libxml2's decoded value, resolved against the document's first
 * <base href> when it is relative and a base is given.  NULL when the
 * element has no such attribute.  The caller frees it with xmlFree().
 * The base is looked up once per document and remembered in
 * doc->_private (so doc must come from ims_htmldoc_read, and its
 * _private be left alone). */
xmlChar *ims_htmldoc_link(htmlDocPtr doc, xmlNode *n, const char *attr);

/* Parses len bytes of HTML (ims_htmldoc_read) and reports every URL in
 * a[href], area[href], img[src] and form[action], in document order,
 * through fn (see urls.h), the url being what ims_htmldoc_link() returns.
 * IMS_OK, IMS_ELIMIT for input over IMS_HTMLDOC_MAX, IMS_ENOMEM. */
ims_status ims_urls_in_html(const char *html, size_t len, ims_url_fn fn, void *ctx);

/* The same walk over a document already parsed. */
void ims_htmldoc_urls(htmlDocPtr doc, ims_url_fn fn, void *ctx);

#endif
