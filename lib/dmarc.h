/* DMARC (RFC 7489) evaluation with libopendmarc.
 *
 * We look the policy record up ourselves through lib/dns: _dmarc.<From
 * domain>, and when that has no DMARC record, _dmarc.<organizational
 * domain>, the organizational domain from lib/orgdomain.h (libpsl), the
 * one implementation ims uses everywhere.  libopendmarc then parses the
 * record and judges alignment from the SPF and DKIM results.
 *
 * Relaxed alignment is judged inside libopendmarc, which has its own
 * reader of the public suffix list and no hook to hand it ours: so it is
 * given the same file, IMS_PUBLIC_SUFFIX_LIST (orgdomain.h), that libpsl
 * loads for ims.  libopendmarc's state is process-global and is loaded
 * once, by the first ims_dmarc_new.  One struct ims_dmarc is shared
 * by every thread; each check has its own libopendmarc context.
 *
 * Several From headers (or several addresses in one) are the caller's
 * business: this API takes the one From domain to judge. */
#ifndef IMS_DMARC_H
#define IMS_DMARC_H

#include <stdbool.h>

#include "status.h"

struct ims_dns;
struct ims_dmarc;
struct ims_spf_outcome;
struct ims_dkim_result;

enum ims_dmarc_res {
	IMS_DMARC_NONE,      /* no DMARC record (or several: RFC 7489 6.6.3) */
	IMS_DMARC_PASS,      /* aligned SPF or DKIM pass */
	IMS_DMARC_FAIL,      /* a record exists and nothing aligned passed */
	IMS_DMARC_TEMPERROR, /* record lookup failed temporarily, or a failure that
	                        a temporary SPF/DKIM error may have caused */
	IMS_DMARC_PERMERROR, /* the record does not parse */
};

enum ims_dmarc_policy {
	IMS_DMARC_POLICY_ABSENT, /* no usable record */
	IMS_DMARC_POLICY_NONE,
	IMS_DMARC_POLICY_QUARANTINE,
	IMS_DMARC_POLICY_REJECT,
};

struct ims_dmarc_outcome {
	enum ims_dmarc_res result;
	/* The policy the domain asks for mail that fails: p=, or sp= when the
	 * record was found at the organizational domain for a subdomain.
	 * Apply it when result is IMS_DMARC_FAIL. */
	enum ims_dmarc_policy policy;
	int pct;                 /* pct= (100 when absent) */
	bool spf_aligned;        /* SPF passed for an aligned domain */
	bool dkim_aligned;       /* a DKIM signature passed for an aligned d= */
	char domain[256];        /* the From domain judged (lower case) */
	char org_domain[256];    /* its organizational domain */
	char record_domain[256]; /* where the record was found ("" if none) */
	char reason[160];        /* short human explanation */
};

/* Creates the checker (loading libopendmarc's public suffix list the first
 * time).  dns must outlive it.  Returns IMS_EIO when the public suffix list
 * cannot be loaded.  *out is owned by the caller (ims_dmarc_free). */
ims_status ims_dmarc_new(struct ims_dns *dns, struct ims_dmarc **out);

void ims_dmarc_free(struct ims_dmarc *dmarc);

/* Evaluates DMARC for from_domain (the RFC5322.From domain, e.g. from
 * ims_msg_from_domain).  client_ip is the SMTP client (v4 or v6 text).
 * spf is the outcome of ims_spf_check for the transaction (its domain is
 * the MAIL FROM domain, or the HELO name for a null sender); dkim is the
 * result of ims_dkim_verify (may be NULL: no signatures).  out is the
 * caller's storage, filled whenever IMS_OK is returned (DNS failures are
 * result temperror, not an error status).  Errors: IMS_EINVAL (NULL
 * arguments, or a from_domain that is not a domain name), IMS_ENOMEM. */
ims_status ims_dmarc_check(struct ims_dmarc *dmarc, const char *client_ip, const char *from_domain,
                           const struct ims_spf_outcome *spf, const struct ims_dkim_result *dkim,
                           struct ims_dmarc_outcome *out);

/* RFC 8601 words: "pass", "fail", "none", "temperror", "permerror". */
const char *ims_dmarc_result_name(enum ims_dmarc_res r);

/* "none", "quarantine", "reject", or "absent". */
const char *ims_dmarc_policy_name(enum ims_dmarc_policy p);

#endif
