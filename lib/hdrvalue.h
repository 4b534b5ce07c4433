/* Values of the header fields ims writes (Authentication-Results,
 * X-Spam-Flag, X-Spam-Score, X-Spam-Status, X-IMS-Scan-Id).
 *
 * Parts of those values come from outside: MAIL FROM, HELO, the SASL login,
 * the DKIM d= and s= tags, the From domain.  They go into a field only
 * through ims_hdr_pvalue, which cannot end the field (CR, LF), start a new
 * result (;) or leave a quoted string or a comment; every finished value
 * then goes through ims_hdr_clean as a last net. */
#ifndef IMS_HDRVALUE_H
#define IMS_HDRVALUE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes v as an RFC 8601 pvalue into out (outlen bytes, always
 * NUL-terminated; cut short, never mid-escape, when it does not fit) and
 * returns its length:
 *  - as it is when it is an RFC 2045 token ("example.org", "pass") or a
 *    dot-atom local part, "@" and a domain name ("bob@example.org");
 *  - reduced to its domain when it is an address whose local part would
 *    need quoting ("\"x; dkim=pass\"@evil.example" -> "evil.example"), as
 *    RFC 8601 allows for smtp.mailfrom and smtp.auth;
 *  - otherwise as a quoted-string, '"' and '\' escaped, and control
 *    characters and ';' replaced by '?' (so that no parser that splits on
 *    ';' without honouring quotes is misled either).
 * NULL or "" is written as "unknown". */
size_t ims_hdr_pvalue(char *out, size_t outlen, const char *v);

/* True when v is a domain name: labels of letters, digits, '-' and '_',
 * 1-63 bytes, separated by single dots, at most 253 bytes. */
bool ims_hdr_is_domain(const char *v, size_t len);

/* Replaces, in place, every byte of a finished header value that could end
 * the field or is no text (CR, LF, other control characters but tab, DEL)
 * with a space.  Returns the number replaced. */
size_t ims_hdr_clean(char *v);

#endif
