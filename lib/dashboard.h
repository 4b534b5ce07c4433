/* The admins' dashboard (GET /admin/dashboard): counters written with each
 * scan and each click, in the same {global} MULTI/EXEC, and read back per
 * time range without touching a single scan log (docs/redis-schema.md;
 * key names in lib/rkeys.h).
 *
 *   ims:{global}:stats:YYYYMMDDHH     hash: the hour's scan counters;
 *                                     this module adds spf:R, dkim:R, dmarc:R
 *                                     (per message) and click:VERDICT
 *   ims:{global}:statsd:YYYYMMDD      hash: the same for the UTC day (the
 *                                     30d range's buckets), TTL retention
 *   ims:{global}:stats5:YYYYMMDDHHMM  hash, MM a multiple of 5: total,
 *                                     action:A, verdict:V, spf:R, dkim:R,
 *                                     dmarc:R, click:VERDICT for 5 minutes
 *                                     (the 1 h range); TTL 1 day
 *   ims:{global}:top:KIND:h:YYYYMMDDHH  sorted sets, member -> count for one
 *   ims:{global}:top:KIND:d:YYYYMMDD    hour / one day (UTC); TTL 2 / 32 days;
 *                                     KIND senders (envelope sender),
 *                                     domains (its registrable domain),
 *                                     targets (local recipients of inbound
 *                                     mail that was tagged, held or
 *                                     rejected); trimmed to the
 *                                     IMS_DASH_TOP_KEEP highest on about one
 *                                     scan in 16, so each stays bounded
 *
 * Ranges and their buckets: 1h in 5 minutes, 24h in hours, 7d in 6 hours,
 * 30d in days (read from the day hashes; the hours of a day that has
 * none).  Top lists count whole hours (1h, 24h) or whole days (7d, 30d)
 * that overlap the range. */
#ifndef IMS_DASHBOARD_H
#define IMS_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "status.h"
#include "store.h"

#define IMS_DASH_MIN5_TTL_S 86400
#define IMS_DASH_TOP_KEEP   1000
/* how long the top sets of an hour / a day live (at most the retention):
 * the 24h range reads 25 hours, the 30d range 31 days */
#define IMS_DASH_TOP_HOUR_TTL_MS (2ULL * 86400 * 1000)
#define IMS_DASH_TOP_DAY_TTL_MS  (32ULL * 86400 * 1000)
#define IMS_DASH_TOP_N           10
#define IMS_DASH_MAX_TARGETS     50  /* recipients of one scan counted as targets */
#define IMS_DASH_MEMBER_MAX      320 /* bytes of an address or domain counted */

/* What a scan adds to the dashboard's counters. */
struct ims_dash_scan {
	uint64_t time_ms;
	const char *action;             /* "accept", ... */
	const char *verdict;            /* NULL when the classifier did not run */
	const char *spf, *dkim, *dmarc; /* results; "" or NULL: none */
	const char *mail_from;          /* "" for the null sender */
	const char *const *targets;     /* local recipients when the mail is a threat */
	size_t ntargets;
	uint64_t retention_ms;
};

/* Appends the scan's counters to t (the scan's {global} transaction); trim
 * is set on the scans that also trim the top sets.  IMS_ENOMEM only. */
ims_status ims_dashboard_txn_scan(struct ims_store_txn *t, const struct ims_dash_scan *d, int trim);

/* Appends a click's counters to t (the click's {global} transaction). */
void ims_dashboard_txn_click(struct ims_store_txn *t, uint64_t time_ms, const char *verdict,
                             int retention_days);

/* The dashboard of range ("1h", "24h", "7d", "30d") ending at now_ms, as
 * JSON (docs/api.md, GET /admin/dashboard); *out is the caller's.
 * IMS_EINVAL for another range, IMS_ETEMP when Redis failed, IMS_ENOMEM. */
ims_status ims_dashboard_read(struct ims_store *st, const char *range, uint64_t now_ms,
                              json_t **out);

#endif
