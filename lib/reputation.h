/* The reputation checks of the scan: DNS lists (lib/dnsbl.h) and the local
 * threat intelligence lists (lib/intel.h), applied to one inbound message.
 * Owned by the engine (built from its config, shared by every scan);
 * thread-safe. */
#ifndef IMS_REPUTATION_H
#define IMS_REPUTATION_H

#include <stddef.h>

#include "message.h"
#include "status.h"

struct ims_conf;
struct ims_dns;
struct ims_reputation;

/* Builds the checks of conf ([dnsbl], [intel]).  *out is the caller's
 * (ims_reputation_free).  IMS_EINVAL with err set on a bad rule. */
ims_status ims_reputation_new(const struct ims_conf *conf, struct ims_reputation **out, char *err,
                              size_t errlen);
void ims_reputation_free(struct ims_reputation *r);

/* The intel watcher (NULL when [intel] dir is empty), for tests. */
struct ims_intel *ims_reputation_intel(struct ims_reputation *r);

struct ims_reputation_input {
	const char *client_ip;
	int client_trusted; /* in [milter] trusted_networks: no client/HELO checks */
	const char *helo;
	const char *mail_from;   /* envelope sender, "" for bounces */
	const char *from_domain; /* RFC5322.From domain, "" when none */
	int dmarc_pass;          /* the From domain is authenticated (an allow list may count) */
	const struct ims_link *links;
	size_t nlinks;
	const struct ims_parsed *parsed; /* attachments are hashed from it; may be NULL */
};

typedef void (*ims_reputation_emit)(void *arg, const char *symbol, double weight,
                                    const char *detail);

/* Runs every configured check on in, emitting symbols with their weights.
 * Never fails; a DNS list that does not answer is neutral (DNSBL_FAIL). */
void ims_reputation_check(struct ims_reputation *r, struct ims_dns *dns,
                          const struct ims_reputation_input *in, ims_reputation_emit emit,
                          void *arg);

#endif
