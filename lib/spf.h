/* SPF (RFC 7208) checks with libspf2, every DNS query through lib/dns.
 *
 * One struct ims_spf is created at start and shared by every thread: the
 * libspf2 server is read-only after setup and each check has its own
 * request and response.  libspf2's error/warning/info/debug handlers are
 * replaced process-wide so it never prints; an internal libspf2 error
 * (which would abort by default) becomes a temperror for that check.
 *
 * Limits are libspf2's RFC 7208 ones: 10 DNS-querying mechanisms, 10 MX
 * and 10 PTR names per lookup.  Time: each DNS query is bounded by
 * [dns] timeout_ms, and a whole check by IMS_SPF_BUDGET_FACTOR times that
 * (20 s with the default 5 s, the overall limit RFC 7208 4.6.4 suggests);
 * lookups past the budget fail and the result is temperror. */
#ifndef IMS_SPF_H
#define IMS_SPF_H

#include <stdbool.h>

#include "status.h"

struct ims_dns;
struct ims_spf;

#define IMS_SPF_BUDGET_FACTOR 4

enum ims_spf_result {
	IMS_SPF_NONE,
	IMS_SPF_NEUTRAL,
	IMS_SPF_PASS,
	IMS_SPF_FAIL,
	IMS_SPF_SOFTFAIL,
	IMS_SPF_TEMPERROR,
	IMS_SPF_PERMERROR,
};

struct ims_spf_outcome {
	enum ims_spf_result result;
	bool helo;        /* the identity checked was the HELO name (MAIL FROM empty) */
	char domain[256]; /* the domain checked ("" when there was none) */
	char reason[256]; /* short human explanation, for logs and A-R comments */
};

/* Creates the shared checker on top of dns (which must outlive it).
 * *out is owned by the caller (ims_spf_free). */
ims_status ims_spf_new(struct ims_dns *dns, struct ims_spf **out);

void ims_spf_free(struct ims_spf *spf);

/* Checks one SMTP transaction.  client_ip is the connecting address (IPv4
 * or IPv6 text; "::ffff:a.b.c.d" is treated as IPv4); helo is the HELO/EHLO
 * name (may be NULL or ""); mail_from is the MAIL FROM address (angle
 * brackets are removed if present), "" or "<>" (or NULL) for the null
 * sender, in which case the HELO identity is checked ("postmaster@helo").
 * out is filled in every case that returns IMS_OK, including DNS failures
 * (result temperror).  A loopback client is not evaluated (result none,
 * reason says so): any trust for local clients belongs to the
 * configuration, not to SPF.  Returns IMS_EINVAL for a client_ip that is
 * not an address, IMS_ENOMEM. */
ims_status ims_spf_check(struct ims_spf *spf, const char *client_ip, const char *helo,
                         const char *mail_from, struct ims_spf_outcome *out);

/* RFC 8601 result word: "pass", "fail", "softfail", "neutral", "none",
 * "temperror", "permerror".  Static string. */
const char *ims_spf_result_name(enum ims_spf_result r);

#endif
