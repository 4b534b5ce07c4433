/* Sender authentication for the scan: SPF, DKIM (every signature) and
 * DMARC, run through the one DNS layer, turned into symbols and into the
 * values of the Authentication-Results header.  Also DKIM signing of
 * outbound mail.  A thin layer over lib/spf, lib/dkim and lib/dmarc that
 * owns their handles; thread-safe after ims_auth_new. */
#ifndef IMS_AUTH_H
#define IMS_AUTH_H

#include <stddef.h>

#include "conf.h"
#include "status.h"

struct ims_auth;

#define IMS_AUTH_MAX_SIGS 8
#define IMS_AUTH_DOMAIN   256

struct ims_auth_input {
	const char *client_ip; /* textual IPv4/IPv6 */
	const char *helo;
	const char *mail_from; /* envelope sender without <>, "" for bounces */
	const char *raw;       /* the whole message */
	size_t len;
	const char *from_domain; /* RFC5322.From domain, "" when none */
};

struct ims_auth_sig {
	char domain[IMS_AUTH_DOMAIN];
	char selector[64];
	char result[16]; /* pass, fail, neutral, temperror, permerror */
};

struct ims_auth_result {
	char spf[16]; /* pass, fail, softfail, neutral, none, temperror, permerror */
	char spf_domain[IMS_AUTH_DOMAIN];
	int spf_helo; /* checked the HELO name (null sender) */
	struct ims_auth_sig dkim[IMS_AUTH_MAX_SIGS];
	int ndkim;
	char dmarc[16];        /* pass, fail, none, temperror, permerror */
	char dmarc_policy[16]; /* none, quarantine, reject, "" when no record */
	int dmarc_pct;         /* pct= of the record (100 when absent) */
	char from_domain[IMS_AUTH_DOMAIN];
	long spf_us, dkim_us, dmarc_us;
};

/* Called once per symbol (names from lib/symbols.c); detail is valid only
 * during the call. */
typedef void (*ims_auth_emit)(void *arg, const char *symbol, const char *detail);

/* Builds the checkers from conf ([dns], [dkim]).  The caller owns *out
 * (ims_auth_free).  err says why on failure. */
ims_status ims_auth_new(const struct ims_conf *conf, struct ims_auth **out, char *err,
                        size_t errlen);
void ims_auth_free(struct ims_auth *a);

/* The resolver the checks use (borrowed; unit tests and fuzz targets load
 * answers into it, see ims_dns_local_only). */
struct ims_dns *ims_auth_dns(struct ims_auth *a);

/* Runs SPF, DKIM and DMARC on in; fills *res and emits symbols.  Never
 * fails: DNS trouble becomes temperror results. */
void ims_auth_check(struct ims_auth *a, const struct ims_auth_input *in,
                    struct ims_auth_result *res, ims_auth_emit emit, void *arg);

/* DKIM-signs raw for domain with the key from [dkim] keys.  On IMS_OK
 * *header is the whole "DKIM-Signature: ..." field value (without the
 * name), the caller's to free().  IMS_ENOTFOUND when no key is configured
 * for domain. */
ims_status ims_auth_sign(struct ims_auth *a, const char *raw, size_t len, const char *domain,
                         char **header);

#endif
