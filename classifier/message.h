/* A mail message turned into what the classifier (and the heuristics) read:
 * UTF-8 body text, subject, links with their anchor texts, attachments, and
 * the GMime tree for any other header.
 *
 * Parsing never fails on bad MIME: a truncated message, a multipart without
 * its boundary, nesting deeper than IMS_MIME_MAX_DEPTH or more parts than
 * IMS_MIME_MAX_PARTS give a best-effort parse with ims_parsed_malformed()
 * set.  Only IMS_ENOMEM (and IMS_ELIMIT for a message larger than
 * IMS_MIME_MAX_MESSAGE) are returned.
 *
 * A parsed message is immutable after ims_parse_message() returns, so
 * several threads may read one; ims_parsed_free() is the single cleanup. */
#ifndef IMS_MESSAGE_H
#define IMS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <gmime/gmime.h>

#include "status.h"

#define IMS_MIME_MAX_DEPTH       32            /* multipart / message nesting walked */
#define IMS_MIME_MAX_PARTS       1000          /* leaf parts looked at */
#define IMS_MIME_MAX_TEXT        (1024 * 1024) /* bytes of body text kept */
#define IMS_MIME_MAX_LINKS       500           /* links kept */
#define IMS_MIME_MAX_ATTACHMENTS 100           /* attachments listed */
#define IMS_MIME_MAX_MESSAGE     (64u << 20)   /* larger raw input: IMS_ELIMIT */
#define IMS_MIME_MAX_INNER       8             /* attached messages listed */

struct ims_parsed;

/* A link found in an HTML part (<a href>) or a URL in plain text (then
 * text is "" and html is 0).  Strings are owned by the parsed message.
 * HTML links here come from the classifier's fast stripper (html.h): the
 * scan's checks take theirs from the one libxml2 parse instead
 * (lib/msglinks.h), which is what the mail view renders. */
struct ims_link {
	const char *href;
	const char *text;
	int html; /* 1 when from an HTML part */
};

/* A part that is not body text.  filename may be "" when none was given;
 * size is the decoded size in bytes (0 when not decoded). */
struct ims_attachment {
	const char *filename;
	const char *content_type;
	size_t size;
};

/* Parses len bytes at raw (not NUL-terminated; need not be valid MIME).
 * On IMS_OK the caller owns *out and frees it with ims_parsed_free().
 * Calls g_mime_init() once per process. */
ims_status ims_parse_message(const char *raw, size_t len, struct ims_parsed **out);

/* Frees everything the parse owns, including the GMime tree.  NULL is fine. */
void ims_parsed_free(struct ims_parsed *p);

/* Body text of every text part, converted to UTF-8, HTML turned into text,
 * parts separated by a blank line.  Never NULL; owned by p. */
const char *ims_parsed_text(const struct ims_parsed *p);

/* Decoded subject in UTF-8 ("" when none).  Owned by p. */
const char *ims_parsed_subject(const struct ims_parsed *p);

/* Links: *out points at an array owned by p; returns the count. */
size_t ims_parsed_links(const struct ims_parsed *p, const struct ims_link **out);

/* The UTF-8 source of every text/html part read for the body text, in walk
 * order: *out points at an array owned by p; returns the count. */
size_t ims_parsed_html_sources(const struct ims_parsed *p, const char *const **out);

/* Attachments: *out points at an array owned by p; returns the count. */
size_t ims_parsed_attachments(const struct ims_parsed *p, const struct ims_attachment **out);

/* The decoded content (transfer encoding undone) of attachment i, at most
 * max bytes: *out (the caller's, free(); not NUL-terminated) and *len;
 * *cut when the part decodes to more than max bytes.  Reads the part
 * from the parsed tree: no second MIME parse.  IMS_ENOTFOUND past the
 * last attachment, IMS_ENOMEM. */
ims_status ims_parsed_attachment_content(const struct ims_parsed *p, size_t i, size_t max,
                                         char **out, size_t *len, bool *cut);

/* Non-zero when the input was truncated, lacked a boundary, nested too deep,
 * had too many parts or too much text. */
int ims_parsed_malformed(const struct ims_parsed *p);

/* Non-zero when the MIME structure was too costly to parse (nesting: see
 * classifier/mimeparse.h): only the header section was read, and the
 * message counts as malformed too. */
int ims_parsed_mime_limit(const struct ims_parsed *p);

/* Counts of leaf parts: all of them, text/plain, text/html. */
size_t ims_parsed_part_count(const struct ims_parsed *p);
size_t ims_parsed_plain_parts(const struct ims_parsed *p);
size_t ims_parsed_html_parts(const struct ims_parsed *p);

/* The GMime message, for other headers; owned by p (do not unref), valid
 * until ims_parsed_free().  Never NULL. */
GMimeMessage *ims_parsed_gmime(const struct ims_parsed *p);

/* The attached messages (message/rfc822 parts, at any depth, the first
 * IMS_MIME_MAX_INNER in walk order): *out points at an array owned by p,
 * the messages are owned by p's tree (do not unref).  Returns the count. */
size_t ims_parsed_inner_messages(const struct ims_parsed *p, GMimeMessage *const **out);

#endif
