/* Reading the scan logs the scan store wrote (lib/scan_store.c): the
 * admin's filtered lists, one scan, the newest one, and the logs or
 * briefs of many scans at once (docs/redis-schema.md, "The admin's view").
 *
 * Results are the stored JSON texts as they are (the milter writes them
 * with jansson): a list costs no JSON parsing unless a filter has to look
 * inside the logs.  Every read is in the {global} slot. */
#ifndef IMS_SCANLOG_H
#define IMS_SCANLOG_H

#include <stddef.h>

#include "status.h"

struct ims_store;

/* Scan logs read per list call at most when a filter must look inside them. */
#define IMS_SCANLOG_EXAMINE_MAX 5000

/* What a list keeps (NULL: any).  verdict, action and symbol walk their
 * index; sender and recipient (addresses, any case), ip (the client's
 * address, IPv4 or IPv6 in any spelling) and a second index filter are
 * checked on the logs. */
struct ims_scan_filter {
	const char *verdict, *action, *symbol, *sender, *recipient, *ip;
};

/* Whether s is an IPv4 or IPv6 address (inet_pton), for the ip filter. */
int ims_scan_filter_ip_ok(const char *s);

/* A page of scan logs, newest first, with times in [from, to] (ms;
 * LLONG_MIN/LLONG_MAX: no bound), after cursor (tpage.h; NULL: from the
 * newest), at most limit: *json (the caller's, free()) is the text
 * {"items":[LOG,...],"next_cursor":CURSOR|null,"examined":N}.  A filter
 * that reads the logs stops after IMS_SCANLOG_EXAMINE_MAX and hands back a
 * cursor to go on from.  IMS_EINVAL for a malformed cursor or a filter
 * value that can not be a key, IMS_ETEMP when Redis failed. */
ims_status ims_scanlog_list(struct ims_store *st, const struct ims_scan_filter *f,
                            const char *cursor, long long from, long long to, size_t limit,
                            char **json, size_t *len);

/* The scan log of id (*json the caller's, free()).  IMS_ENOTFOUND when
 * there is none (expired, never stored). */
ims_status ims_scanlog_get(struct ims_store *st, const char *id, char **json, size_t *len);

/* The newest scan log, as ims_scanlog_get; IMS_ENOTFOUND when none. */
ims_status ims_scanlog_latest(struct ims_store *st, char **json, size_t *len);

enum ims_scanlog_kind {
	IMS_SCANLOG_LOG,  /* the whole scan log */
	IMS_SCANLOG_BRIEF /* what a mailbox list shows: verdict, action, score, rcpt, auth */
};

/* The records of kind of n scans in one round trip: out[i] (the caller's,
 * free()) is ids[i]'s JSON text or NULL when there is none.  IMS_ETEMP
 * when Redis failed (every out[i] NULL then). */
ims_status ims_scanlog_get_many(struct ims_store *st, enum ims_scanlog_kind kind,
                                const char *const *ids, size_t n, char **out);

#endif
