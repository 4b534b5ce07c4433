/* HTML mail bodies made safe to show: parsed with libxml2's HTML parser
 * (the same error recovery browsers do), then written back keeping only a
 * list of harmless elements and attributes.  Scripts, styles, forms,
 * frames, embedded objects and images (remote images are tracking
 * beacons) go with their content; event handlers, style attributes and
 * links other than http, https and mailto go; links open in a new tab
 * without a referrer.  The UI shows the result in a sandboxed iframe too.
 *
 * With IMS_HTML_REMOTE_IMAGES (the user asked for this message's images)
 * <img> elements whose src is http or https stay, with src, alt, title,
 * width and height only; every other image (data:, cid:, relative, ...)
 * still goes. */
#ifndef IMS_WEB_HTML_SANITIZE_H
#define IMS_WEB_HTML_SANITIZE_H

#include <stddef.h>

#include "status.h"

#define IMS_HTML_MAX_DEPTH 64

/* Sanitises len bytes of UTF-8 HTML.  *out is a NUL-terminated string
 * the caller frees (free()); *outlen its length.  Output is capped at
 * max bytes (whole elements past the cap are dropped). */
ims_status ims_html_sanitize(const char *html, size_t len, size_t max, char **out, size_t *outlen);

#define IMS_HTML_REMOTE_IMAGES 1u /* keep http/https images */

/* The same with flags (IMS_HTML_*); when images is not NULL, *images is
 * the number of http/https images met (kept or dropped), so the UI can
 * offer to show them. */
ims_status ims_html_sanitize_ex(const char *html, size_t len, size_t max, unsigned flags,
                                char **out, size_t *outlen, size_t *images);

#endif
