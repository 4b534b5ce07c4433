/* A stored message as the web UI shows it, parsed with GMime:
 *
 *   {"headers": [{"name", "value"}...],   (decoded, at most 200)
 *    "from", "to", "cc", "subject", "date", "message_id",
 *    "text": "...",                        (the text/plain parts, UTF-8)
 *    "html": "..." | null,                 (the text/html parts, sanitised)
 *    "attachments": [{"filename", "content_type", "size"}...],
 *    "remote_images": N}                  (http/https images in the HTML)
 *
 * Bytes that GMime cannot read as a message at all come back as "text"
 * with "unparsed": true.
 *
 * Bodies are converted to UTF-8 from their declared charset; 8-bit text
 * with no charset (or a wrong or unknown one) is read as UTF-8 when it is,
 * else as Windows-1252 (GMime's fallback charsets, also for raw 8-bit
 * header text).  Each of text and html is capped at IMS_MAILVIEW_BODY_MAX
 * bytes ("truncated": true). */
#ifndef IMS_WEB_MAILVIEW_H
#define IMS_WEB_MAILVIEW_H

#include <stddef.h>

#include <jansson.h>

#include "status.h"

#define IMS_MAILVIEW_BODY_MAX    (1024 * 1024)
#define IMS_MAILVIEW_HEADERS_MAX 200
#define IMS_MAILVIEW_PARTS_MAX   500

/* Parses len bytes of raw message.  *out is the caller's (json_decref).
 */
ims_status ims_mailview_parse(const char *raw, size_t len, json_t **out);
/* The same with the sanitiser's flags (html_sanitize.h: IMS_HTML_REMOTE_IMAGES
 * keeps the remote images, which "remote_images" counts either way). */
ims_status ims_mailview_parse_ex(const char *raw, size_t len, unsigned flags, json_t **out);

/* The decoded content of attachment number index (as listed in
 * "attachments") of a raw message: *data (the caller's, free()) and *dlen.
 * IMS_ENOTFOUND when there is no such attachment or it is a message part. */
ims_status ims_mailview_attachment(const char *raw, size_t len, size_t index, char **data,
                                   size_t *dlen);

#endif
