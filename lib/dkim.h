/* DKIM (RFC 6376) verification and signing with libopendkim.
 *
 * Key lookups go through lib/dns (a dkim_set_key_lookup callback asking
 * <selector>._domainkey.<domain> TXT).  Messages are split with
 * lib/rfc5322 and fed with CRLF line ends (bare LF is converted), so raw
 * messages in either form verify the same way.
 *
 * One struct ims_dkim is created at start and shared by every thread (the
 * libopendkim library handle is; each call has its own DKIM handle). */
#ifndef IMS_DKIM_H
#define IMS_DKIM_H

#include <stddef.h>

#include "status.h"

struct ims_conf;
struct ims_dns;
struct ims_dkim;
struct ims_msg;

#define IMS_DKIM_MAX_SIGS 10 /* signatures checked per message; more are ignored */
/* Key lookups of one message stop after this many [dns] timeout_ms; the
 * signatures left are temperror. */
#define IMS_DKIM_BUDGET_FACTOR 4

enum ims_dkim_res {
	IMS_DKIM_NONE, /* not used per signature; "no signature" is count == 0 */
	IMS_DKIM_PASS,
	IMS_DKIM_FAIL,      /* bad signature or body hash, expired, revoked key */
	IMS_DKIM_NEUTRAL,   /* the signature itself is malformed / not processed */
	IMS_DKIM_TEMPERROR, /* the key lookup failed temporarily (timeout, SERVFAIL) */
	IMS_DKIM_PERMERROR, /* no key published, or the key record is unusable */
};

struct ims_dkim_sig {
	enum ims_dkim_res result;
	char domain[256];   /* d= */
	char selector[128]; /* s= */
	char reason[128];   /* libopendkim's error text, or "" on pass */
};

struct ims_dkim_result {
	size_t count;   /* signatures checked (0: the message is not signed) */
	size_t ignored; /* signatures beyond IMS_DKIM_MAX_SIGS, not checked */
	struct ims_dkim_sig sigs[IMS_DKIM_MAX_SIGS];
};

/* Creates the verifier/signer.  dns must outlive it.  conf gives the
 * message limits ([milter] max_headers, max_header_size), the signing keys
 * ([dkim] keys = domain:selector:/path/key.pem, ...; the PEM files are read
 * now) and [dkim] canonicalization.  conf may be NULL (no signing keys,
 * default limits).  On a bad key entry or unreadable key file, IMS_EINVAL
 * (or IMS_EIO) and err (may be NULL) names the entry.  *out is owned by the
 * caller (ims_dkim_free). */
ims_status ims_dkim_new(struct ims_dns *dns, const struct ims_conf *conf, struct ims_dkim **out,
                        char *err, size_t errlen);

void ims_dkim_free(struct ims_dkim *dkim);

/* Verifies every DKIM-Signature of the raw message (up to
 * IMS_DKIM_MAX_SIGS) into *out (caller's storage; nothing to free).
 * IMS_OK also when signatures fail or keys cannot be fetched: see the
 * per-signature results.  Errors: IMS_ELIMIT/IMS_EFORMAT from splitting
 * the message, IMS_ENOMEM, IMS_EINVAL. */
ims_status ims_dkim_verify(struct ims_dkim *dkim, const char *raw, size_t len,
                           struct ims_dkim_result *out);

/* The same on a message already split by ims_msg_parse. */
ims_status ims_dkim_verify_msg(struct ims_dkim *dkim, const struct ims_msg *msg,
                               struct ims_dkim_result *out);

/* The best result over all signatures, for a one-word summary: pass if any
 * passed, else temperror, fail, permerror, neutral in that order; none when
 * there was no signature. */
enum ims_dkim_res ims_dkim_summary(const struct ims_dkim_result *r);

/* RFC 8601 word: "pass", "fail", "neutral", "temperror", "permerror", "none". */
const char *ims_dkim_result_name(enum ims_dkim_res r);

/* Signs the raw message with the key configured for domain (the sender's
 * domain; exact match first, else the closest parent domain that has a
 * key: d= is then that parent), rsa-sha256, the configured
 * canonicalization.  *header_out receives the VALUE of the DKIM-Signature
 * header (without the "DKIM-Signature:" name), folded with "\n\t" as
 * libmilter's smfi_insheader expects; the caller frees it with free().
 * Returns IMS_ENOTFOUND when no key matches domain, IMS_EFORMAT or
 * IMS_ELIMIT for a message that cannot be split, IMS_EIO when
 * libopendkim fails (a bad key file, for instance). */
ims_status ims_dkim_sign(struct ims_dkim *dkim, const char *raw, size_t len, const char *domain,
                         char **header_out);

#endif
