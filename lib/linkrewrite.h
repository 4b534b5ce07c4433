/* Link rewriting of one message: every http(s) link of its body text
 * parts (text/plain and text/html that are not attachments) replaced with
 * what a callback makes of it (the click URL, lib/links.h).
 *
 * MIME-correct or nothing: the message is parsed with GMime, each changed
 * part is decoded, rewritten and written back with its own transfer
 * encoding and charset, and the result is checked before it is returned:
 *   - the untouched message must serialise back to its own body (else
 *     GMime would change more than the links),
 *   - each rewritten HTML part, read back with the same parser, may hold
 *     no http(s) link but the ones made,
 *   - the top-level header section must come out unchanged (only the body
 *     is replaced: smfi_replacebody),
 *   - the output must parse again into as many parts,
 *   - a 7bit/8bit part must keep lines under 998 bytes: it becomes
 *     quoted-printable (a part of a multipart changes its own header; a
 *     single-part message says so in st->to_qp, and the top-level header
 *     section must then differ in that field only).
 * A charset that is not ASCII-compatible (where a byte below 0x80 may be
 * half of a character: Shift_JIS, Big5, GBK, UHC, ISO-2022-*, UTF-16...),
 * 8-bit text without a charset or labelled US-ASCII, uuencode, more links
 * than max_links, or a failed check: the message is left as it is and the
 * reason says why.
 *
 * Links in HTML: href of <a> and <area> (libxml2's HTML parser, the
 * document written back by libxml2 as ASCII with character references, so
 * attribute values are escaped by it and the text is the same in any
 * ASCII-compatible charset, whatever a <meta> says), and http(s) URLs in
 * text outside <a> (mail clients link them).  In text/plain: every
 * http(s) URL, ending where the classifier's bare-URL scan ends it (white
 * space, <, >, quotes, ')' or ']'). */
#ifndef IMS_LINKREWRITE_H
#define IMS_LINKREWRITE_H

#include <stddef.h>

#include "status.h"

/* Returns the replacement for url (malloc'd, the rewriter frees it), or
 * NULL to stop: the whole rewrite is then abandoned (IMS_EINVAL). */
typedef char *(*ims_linkrewrite_fn)(void *arg, const char *url);

struct ims_linkrewrite_stats {
	size_t links;     /* links replaced */
	size_t parts;     /* parts changed */
	char reason[160]; /* why nothing was rewritten ("" on IMS_OK / IMS_ENOTFOUND) */
	int to_qp;        /* IMS_OK: the message's own Content-Transfer-Encoding must become
	                   * quoted-printable (a single-part message whose rewritten lines
	                   * would pass 998 bytes); the caller changes or adds that field */
};

/* Rewrites the links of the message at raw (len bytes: header section,
 * blank line, body; CRLF or LF line ends).
 *   IMS_OK: *body (the caller's, free()) and *body_len are the new body
 *     (everything after the blank line), with CRLF line ends.
 *   IMS_ENOTFOUND: no link to rewrite.
 *   IMS_EINVAL / IMS_EFORMAT / IMS_ELIMIT: left alone, st->reason says why.
 *   IMS_ENOMEM. */
ims_status ims_linkrewrite_message(const char *raw, size_t len, size_t max_links,
                                   ims_linkrewrite_fn fn, void *arg, char **body, size_t *body_len,
                                   struct ims_linkrewrite_stats *st);

/* Length of the http(s) URL starting at s (n bytes left), 0 when s does
 * not start one.  The one rule for a bare URL in text. */
size_t ims_linkrewrite_url_len(const char *s, size_t n);

#endif
