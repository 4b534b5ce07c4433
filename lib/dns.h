/* The one DNS layer of ims, on libunbound.  SPF, DKIM key lookups, DMARC
 * records and DNSBLs all go through it.
 *
 * [dns] nameservers = "host:port, ..." (IP addresses: "127.0.0.1:5353",
 * "[::1]:53", or an address without port for 53) forwards every query to
 * those servers; when unset, the system resolver's servers (resolv.conf)
 * are used.  [dns] timeout_ms bounds every query: a query that has no
 * answer by then is cancelled and reported as IMS_ETEMP.
 *
 * Thread-safe: one struct ims_dns is configured once in ims_dns_new and may
 * then be used by any number of threads at once (they share the cache).
 * libunbound resolves in a thread of its own, started by ims_dns_new: create
 * the resolver AFTER daemonizing (fork), never before.
 *
 * Status mapping of every query function:
 *   IMS_OK        answer with data
 *   IMS_ENOTFOUND NXDOMAIN, or NODATA (the name has no record of that type)
 *   IMS_ETEMP     timeout, SERVFAIL, REFUSED or any other server failure
 *   IMS_EINVAL    the name is not a valid domain name (too long, empty label) */
#ifndef IMS_DNS_H
#define IMS_DNS_H

#include <stddef.h>
#include <unbound.h>

#include "status.h"

struct ims_conf;
struct ims_dns;

/* Hard limits on what a query may return. */
#define IMS_DNS_MAX_RECORDS 64   /* records handed out per query */
#define IMS_DNS_MAX_TXT     8192 /* bytes of one TXT record, strings joined */

/* Creates the resolver from conf ([dns] nameservers, timeout_ms; conf may be
 * NULL for the system resolver and a 5 s timeout).  On IMS_OK *out is owned by
 * the caller (ims_dns_free).  IMS_EINVAL when a nameserver entry is not an
 * IP address with an optional port; err (may be NULL) then names it. */
ims_status ims_dns_new(const struct ims_conf *conf, struct ims_dns **out, char *err, size_t errlen);

/* Same, with explicit settings: servers is a NULL-terminated list of
 * "host:port" (NULL or empty = system resolver). */
ims_status ims_dns_new_servers(const char *const *servers, int timeout_ms, struct ims_dns **out,
                               char *err, size_t errlen);

void ims_dns_free(struct ims_dns *dns);

/* Queries name for rrtype (1 A, 28 AAAA, 15 MX, 12 PTR, 16 TXT...) in class
 * IN.  On IMS_OK and IMS_ENOTFOUND *out is the libunbound result (check
 * ->nxdomain to tell NXDOMAIN from NODATA), owned by the caller, who frees
 * it with ub_resolve_free(); on any other status *out is NULL. */
ims_status ims_dns_query(struct ims_dns *dns, const char *name, int rrtype, struct ub_result **out);

/* TXT records of name: a NULL-terminated array with one string per record,
 * the record's character-strings joined (as SPF, DKIM and DMARC want).  The
 * caller frees it with ims_dns_strv_free.  At most IMS_DNS_MAX_RECORDS
 * records; longer ones than IMS_DNS_MAX_TXT are truncated. */
ims_status ims_dns_txt(struct ims_dns *dns, const char *name, char ***records_out);

void ims_dns_strv_free(char **v);

/* Decodes an uncompressed wire-format domain name (as found in the rdata of
 * MX, PTR or CNAME results from libunbound) into dotted text without the
 * trailing dot ("" for the root).  Returns IMS_EFORMAT on malformed data,
 * IMS_ELIMIT when it does not fit in out. */
ims_status ims_dns_wire_name(const unsigned char *data, size_t len, char *out, size_t outlen);

/* The timeout in milliseconds this resolver enforces. */
int ims_dns_timeout_ms(const struct ims_dns *dns);

/* In-process answers, for unit tests and fuzz targets (no server, no
 * network).  ims_dns_local_only turns a resolver that has not answered a
 * query yet into one that answers only from zone data given here: a name
 * without data is NXDOMAIN (libunbound's local-zone ". static").
 * ims_dns_new_local creates such a resolver.  Records are zone-file lines
 * as unbound's local-data takes them ("a.test. 300 IN TXT \"v=spf1 -all\"");
 * ims_dns_local_remove drops the records of one name.  ims_dns_local_zone
 * adds a zone of an unbound local-zone type ("refuse": every query under it
 * gets REFUSED, i.e. IMS_ETEMP; "redirect": its records answer for every
 * name under it); add zones before the first query (libunbound 1.17 can
 * miss names under a zone added to a running resolver).  Records may be
 * added and removed while other threads query.  IMS_EINVAL when libunbound
 * refuses the text (err, may be NULL, says why), or, for local_only, when
 * the resolver already answered a query. */
ims_status ims_dns_new_local(int timeout_ms, struct ims_dns **out, char *err, size_t errlen);
ims_status ims_dns_local_only(struct ims_dns *dns);
ims_status ims_dns_local_data(struct ims_dns *dns, const char *rr, char *err, size_t errlen);
ims_status ims_dns_local_zone(struct ims_dns *dns, const char *zone, const char *type, char *err,
                              size_t errlen);
void ims_dns_local_remove(struct ims_dns *dns, const char *name);

/* ims_dns_query for n names at once (DNS lists ask many): all queries are
 * started, then waited for together, at most the timeout in all.  st[i]
 * and out[i] are what ims_dns_query would give for names[i] (out[i] the
 * caller's to ub_resolve_free, NULL unless st[i] is IMS_OK or
 * IMS_ENOTFOUND).  Returns IMS_OK, or IMS_ENOMEM / IMS_EINVAL for the call
 * as a whole. */
ims_status ims_dns_query_many(struct ims_dns *dns, const char *const *names, size_t n, int rrtype,
                              ims_status *st, struct ub_result **out);

#endif
