/* Content heuristics of the scan: phishing links, display-name
 * impersonation, dangerous attachments, GTUBE, missing or repeated From.
 *
 * Pure functions over what the MIME parser (classifier/message.h) and the
 * RFC 5322 splitter (rfc5322.h) found: no I/O, no global state, so they are
 * unit-tested on plain structs.  Each finding is handed to the emit callback
 * as a symbol name from lib/symbols.c and a short detail (the link, the
 * file name); the caller weighs and de-duplicates them. */
#ifndef IMS_HEURISTICS_H
#define IMS_HEURISTICS_H

#include <stddef.h>

#include "message.h"

/* The GTUBE test string (SpamAssassin's, also honoured by rspamd). */
#define IMS_GTUBE "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

/* Hard limits: longer strings are cut before they are looked at. */
#define IMS_HEUR_MAX_HOST 253 /* = IMS_URL_MAX_HOST (urls.h) */
#define IMS_HEUR_MAX_TEXT 2048

struct ims_heur_input {
	const struct ims_link *links; /* may be NULL when nlinks is 0 */
	size_t nlinks;
	const struct ims_attachment *attachments;
	size_t nattachments;
	const char *from;  /* raw value of the first From field, or NULL */
	size_t from_count; /* number of From fields */
	const char *body;  /* raw body bytes searched for GTUBE (not NUL-terminated) */
	size_t body_len;
	const char *const *local_domains; /* NULL-terminated, lower case; may be NULL */
};

/* Called once per finding; symbol is static, detail is valid only during the
 * call (copy it). */
typedef void (*ims_heur_emit)(void *arg, const char *symbol, const char *detail);

/* Runs every heuristic on in and reports each finding through emit. */
void ims_heuristics_run(const struct ims_heur_input *in, ims_heur_emit emit, void *arg);

/* The pieces, public for tests and for the web API's explanations. */

/* The first domain name a link text names ("www.paypal.com",
 * "https://paypal.com/x", "PayPal.com"), lower case, into out; 0 when found.
 * (The host of a URL: ims_url_host() in urls.h; registrable domains:
 * ims_orgdomain() in orgdomain.h.) */
int ims_heur_text_domain(const char *text, char *out, size_t outlen);

/* 1 when the file name has a dangerous extension; *double_ext set to 1
 * when a harmless-looking extension comes before it ("a.pdf.exe"). */
int ims_heur_bad_filename(const char *filename, int *double_ext);

#endif
