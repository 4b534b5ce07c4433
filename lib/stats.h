/* Reading the scan counters the scan store keeps in the same MULTI/EXEC
 * as each scan log (lib/scan_store.c; docs/redis-schema.md):
 * ims:{global}:stats:total (since the start, never falls) and
 * ims:{global}:stats:YYYYMMDDHH (per UTC hour, expire with the retention).
 * Fields: total, action:ACTION, verdict:VERDICT, symbol:NAME. */
#ifndef IMS_STATS_H
#define IMS_STATS_H

#include <stddef.h>

#include <jansson.h>

#include "status.h"

struct ims_store;

/* Most hourly buckets one report reads. */
#define IMS_STATS_BUCKETS_MAX (24 * 93)

/* The running totals: *out (the caller's reference) is an object field ->
 * count; empty on a store older than them.  One HGETALL. */
ims_status ims_stats_totals(struct ims_store *st, json_t **out);

/* The report of GET /admin/stats for [from, to] (ms; from is rounded down
 * to its hour) in buckets of step_ms (an hour or a day), with the top_n
 * symbols and envelope senders: *out (the caller's reference) is
 * {"from","to","bucket","buckets":[{"start","total","actions","verdicts"}],
 * "totals","top_symbols","top_senders"}.  IMS_EINVAL when to < from or the
 * range is over IMS_STATS_BUCKETS_MAX hours; IMS_ETEMP when Redis failed. */
/* The n highest of an object of counts (field -> integer), as a new array
 * [{"name", "count"}], highest first, ties by name; NULL when out of memory.
 * The one top-N of /admin/stats and the dashboard. */
json_t *ims_stats_top(json_t *counts, size_t n);

ims_status ims_stats_report(struct ims_store *st, long long from, long long to, long long step_ms,
                            size_t top_n, json_t **out);

#endif
