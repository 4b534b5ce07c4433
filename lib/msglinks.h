/* The links of a message that the scan's checks judge: the URLs of its
 * plain-text parts (lib/urls.h) and the a[href] and area[href] of its HTML
 * parts from the one libxml2 parse (lib/htmldoc.h) that the web mail view
 * renders, so the link judged is the link shown and clicked.  The
 * classifier's fast stripper (classifier/html.c) still gives the
 * classifier its features; its links are used here only for an HTML part
 * libxml2 could not read (over IMS_HTMLDOC_MAX), so no link goes unjudged.
 *
 * Phishing heuristics, the local lists and DNS lists (reputation), and
 * link rewriting read this one list. */
#ifndef IMS_MSGLINKS_H
#define IMS_MSGLINKS_H

#include <stddef.h>

#include "message.h"
#include "status.h"

struct ims_msglinks;

/* Builds the list for parsed (at most IMS_MIME_MAX_LINKS links).  IMS_OK
 * with *out, which the caller frees with ims_msglinks_free(); IMS_ENOMEM. */
ims_status ims_msglinks_build(const struct ims_parsed *parsed, struct ims_msglinks **out);

/* *links points at the array (owned by l, valid until ims_msglinks_free);
 * returns the count.  text is the anchor text ("" for text URLs). */
size_t ims_msglinks_get(const struct ims_msglinks *l, const struct ims_link **links);

void ims_msglinks_free(struct ims_msglinks *l);

#endif
