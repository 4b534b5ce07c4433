/* URLs, once for all of ims: where a message's URLs are (in plain text;
 * in HTML see htmldoc.h, which reports through the same callback) and what
 * host a URL goes to.  Every check that judges a link (the phishing
 * heuristics, the DNS and local lists, link rewriting) finds links and
 * hosts here, so they all see the same host for the same URL.
 *
 * Host normalisation follows what a browser does with the URL, not what
 * the text looks like: tabs and line breaks inside the URL are dropped,
 * leading and trailing spaces and control characters trimmed, '\' counts
 * as '/' for http(s), "//host" and "www.host" without a scheme count as
 * http, the userinfo ("paypal.com@evil.test") is stripped, the host is
 * percent-decoded, lower-cased, its trailing dot removed, and an IDN is
 * given in both forms (A-labels "xn--..." and U-labels, through GLib's
 * IDNA).  An IP literal (dotted quad, [IPv6], and the numeric forms
 * browsers accept: 3232235777, 0xC0A80101, 0300.0250.1.1) is flagged.
 *
 * Pure functions: no global state, thread-safe. */
#ifndef IMS_URLS_H
#define IMS_URLS_H

#include <stddef.h>

#include "status.h"

#define IMS_URL_MAX_HOST   253  /* a DNS name's longest text form */
#define IMS_URL_MAX        8192 /* longer URLs are cut before they are parsed */
#define IMS_URL_MAX_ANCHOR 1024 /* bytes of an HTML link's text reported */

/* flags of a host */
#define IMS_URL_IP       1u /* an IP literal (host holds it as written, IPv6 without []) */
#define IMS_URL_IDN      2u /* an internationalised name (non-ASCII or xn-- labels) */
#define IMS_URL_USERINFO 4u /* the URL carried a userinfo part before the host */

struct ims_url_host {
	char host[IMS_URL_MAX_HOST + 1];        /* ASCII, lower case, A-labels ("xn--...") */
	char unicode[4 * IMS_URL_MAX_HOST + 1]; /* UTF-8 U-labels; equal to host when ASCII */
	unsigned flags;
};

/* The host url (len bytes, need not be NUL-terminated) goes to, into *out.
 * IMS_OK; IMS_ENOTFOUND when the URL has no host (mailto:, javascript:, a
 * relative link, a fragment); IMS_EINVAL when it does not parse or its
 * host is not a valid name; IMS_ELIMIT when the host is longer than
 * IMS_URL_MAX_HOST.  *out is zeroed on every failure. */
ims_status ims_url_host(const char *url, size_t len, struct ims_url_host *out);

/* 1 when host (already lower case, no brackets) is an IP literal, by the
 * rules above. */
int ims_url_is_ip_literal(const char *host);

/* The Unicode form of a host name with punycode (xn--) labels, through
 * GLib's IDNA, or NULL when it has none or they do not decode to valid
 * UTF-8 (GLib can give code points past U+10FFFF for a crafted label:
 * "xn--3333r").  The one place ims decodes punycode; g_free the result. */
char *ims_url_host_to_unicode(const char *host);

/* 1 when href is a link the web mail view shows as a link (http:, https:,
 * mailto:, after leading white space); the sanitiser and the checks share
 * this rule. */
int ims_url_is_web_link(const char *href);

/* One URL found.  url and len: the URL as written (for text: a pointer into
 * the input, so offset is where it starts; for HTML: the attribute's value
 * after entity decoding and <base href> resolution, NUL-terminated, and
 * offset is (size_t)-1).  text: the anchor text of an HTML link (UTF-8,
 * cut at IMS_URL_MAX_ANCHOR, white space collapsed), "" otherwise.
 * element and attr: "a"/"href", "area"/"href", "img"/"src", "form"/"action"
 * for HTML (lower case); NULL for text.  All valid only during the call. */
struct ims_url_ref {
	const char *url;
	size_t len;
	size_t offset;
	const char *text;
	const char *element;
	const char *attr;
};

/* Called once per URL in document order; return non-zero to stop. */
typedef int (*ims_url_fn)(void *ctx, const struct ims_url_ref *ref);

/* Finds the URLs in len bytes of plain text: words that start with
 * "http://", "https://" or "www." (case-insensitive), up to white space,
 * a quote, '<', '>' or the end, without trailing punctuation (".,;:!?")
 * and without a ')' or ']' that closes nothing inside the URL.  Words are
 * cut at IMS_URL_MAX bytes.  Returns the number reported. */
size_t ims_urls_in_text(const char *text, size_t len, ims_url_fn fn, void *ctx);

#endif
