/* DNS block lists: DNSBL lookups of the client IP (reversed octets, or
 * nibbles for IPv6) and of the HELO name, URIBL/SURBL-style lookups of the
 * registrable domains (lib/orgdomain.h) of the message's links and of its
 * From domain, all through the one DNS layer (lib/dns.h).
 *
 * Lists come from [dnsbl] client, helo and domain: one rule per item,
 *
 *     ZONE[:CODE]=SYMBOL:WEIGHT
 *
 * CODE is the answer the rule matches: an IPv4 address ("127.0.0.2"), a
 * bit mask on the last octet ("&4", SURBL multi style), or nothing for any
 * answer in 127.0.0.0/8.  Several rules of one ZONE share one lookup per
 * name.  SYMBOL (upper case, digits, '_'; not a built-in symbol) and its
 * WEIGHT are the rule's own: they are not in [scores].
 *
 * Answers in 127.255.255.0/24 (Spamhaus' "refused" codes) and outside
 * 127.0.0.0/8 are the list's error, not a listing.  A list that fails
 * (timeout, SERVFAIL, REFUSED, an error code) is neutral: DNSBL_FAIL with
 * the zone in its detail; its other lookups of the message are skipped.
 * More lookups than [dnsbl] max_lookups: the rest are not asked and the
 * message gets DNSBL_LIMIT.
 *
 * Caching: answers are kept for their TTL by libunbound's cache inside
 * the one resolver (struct ims_dns), shared by every message; NXDOMAIN
 * answers for the zone's SOA minimum.  Nothing is cached here. */
#ifndef IMS_DNSBL_H
#define IMS_DNSBL_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct ims_conf;
struct ims_dns;
struct ims_dnsbl;

#define IMS_DNSBL_MAX_RULES   64 /* rules in all lists */
#define IMS_DNSBL_MAX_LOOKUPS 1000
#define IMS_DNSBL_SYMBOL_MAX  39

enum ims_dnsbl_target {
	IMS_DNSBL_CLIENT = 0, /* the client IP */
	IMS_DNSBL_HELO,       /* the HELO name's registrable domain */
	IMS_DNSBL_DOMAIN,     /* registrable domains of links and of From */
};

enum ims_dnsbl_code { IMS_DNSBL_ANY = 0, IMS_DNSBL_EXACT, IMS_DNSBL_MASK };

struct ims_dnsbl_rule {
	char zone[254];
	enum ims_dnsbl_code code_kind;
	uint32_t code; /* EXACT: the address (host order); MASK: the bits */
	char symbol[IMS_DNSBL_SYMBOL_MAX + 1];
	double weight;
};

/* Parses one rule; IMS_EINVAL with why set when it is not one. */
ims_status ims_dnsbl_rule_parse(const char *text, struct ims_dnsbl_rule *out, char *why,
                                size_t whylen);

/* The query name of an IP address in zone: "4.3.2.1.zone" for 1.2.3.4,
 * 32 reversed nibbles for IPv6.  IMS_EINVAL when ip is no address,
 * IMS_ELIMIT when the name does not fit. */
ims_status ims_dnsbl_ip_name(const char *ip, const char *zone, char *out, size_t outlen);

/* "domain.zone"; IMS_ELIMIT when longer than a DNS name may be. */
ims_status ims_dnsbl_domain_name(const char *domain, const char *zone, char *out, size_t outlen);

/* The lists of conf's [dnsbl].  *out is the caller's (ims_dnsbl_free);
 * NULL when no list is configured (then ims_dnsbl_check does nothing). */
ims_status ims_dnsbl_new(const struct ims_conf *conf, struct ims_dnsbl **out, char *err,
                         size_t errlen);
void ims_dnsbl_free(struct ims_dnsbl *b);

struct ims_dnsbl_input {
	const char *client_ip;    /* NULL or "": no client lookups */
	const char *helo;         /* NULL, "" or an address literal: no HELO lookups */
	const char *from_domain;  /* NULL or "": none */
	const char *const *hosts; /* link hosts (ims_url_host, urls.h), any order, repeats fine */
	size_t nhosts;
};

/* Called per finding; symbol and detail are valid during the call only. */
typedef void (*ims_dnsbl_emit)(void *arg, const char *symbol, double weight, const char *detail);

/* Runs the lookups of in (client, HELO, From, then the links: the limit
 * cuts links first), all at once through ims_dns_query_many, and emits the
 * rules that match and DNSBL_FAIL / DNSBL_LIMIT with the weights conf gave
 * them.  Returns within one [dns] timeout whatever the lists do.  Never
 * fails. */
void ims_dnsbl_check(const struct ims_dnsbl *b, struct ims_dns *dns,
                     const struct ims_dnsbl_input *in, ims_dnsbl_emit emit, void *arg);

#endif
