/* Links at click time, the delivery side: after a scan decided to deliver
 * an inbound message, its links are rewritten to [links] click_url with a
 * signed token (lib/linktoken.h) each, so that GET /click (lib/clicks.h,
 * ims-webapi) checks the target again when the user clicks.
 *
 * Which mail: [links] rewrite = tagged (action tag), all (accept and tag)
 * or off; inbound only; needs click_url and key_file.  The token names
 * the scan, the recipient (when the message has exactly one; "" else) and
 * the original URL.  Authentication-Results was computed on the message as
 * received and is added unchanged, so downstream filters still see the
 * original results (the sender's DKIM signature no longer verifies on the
 * rewritten body, which is expected). */
#ifndef IMS_LINKS_H
#define IMS_LINKS_H

#include <stddef.h>

#include "engine.h"
#include "scan.h"
#include "status.h"

/* Decides and rewrites.  can_replace: the MTA lets the milter replace the
 * body (SMFIF_CHGBODY negotiated).
 *   IMS_OK: *body (the caller's, free()) and *body_len are the new body,
 *     CRLF line ends; s got LINKS_REWRITTEN.  *to_qp 1: the message's
 *     Content-Transfer-Encoding field must become "quoted-printable"
 *     (changed, or added when it has none).
 *   IMS_ENOTFOUND: nothing to do (not wanted for this message, or no link).
 *   anything else: deliver unchanged; s got LINKS_NOT_REWRITTEN with the
 *     reason, and a log line says it (IMS_ENOMEM: no symbol). */
ims_status ims_links_rewrite(struct ims_engine *eng, struct ims_scan *s, const char *raw,
                             size_t len, int can_replace, char **body, size_t *body_len,
                             int *to_qp);

/* The click URL of one link: click_url, then "?t=" (or "&t=" when click_url
 * has a query) and the token.  The caller's (free()); NULL when the token
 * cannot be made (a field over its limit). */
struct ims_linkkey;
char *ims_links_click_url(const char *click_url, const struct ims_linkkey *key, const char *scan_id,
                          const char *user, const char *url, unsigned long long issued);

#endif
