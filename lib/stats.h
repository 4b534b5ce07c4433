/* The scan counters (docs/redis-schema.md, "Counters"): written by the
 * scan store in the same MULTI/EXEC as the scan log (lib/scan_store.c).
 *
 *   ims:{global}:stats:total        hash, no TTL: the counters since the
 *                                   start (GET /metrics: never fall)
 *   ims:{global}:stats:YYYYMMDDHH   hash, TTL the retention: the same
 *                                   counters per UTC hour (/admin/stats)
 *
 * Fields: total, action:ACTION, verdict:VERDICT, symbol:NAME; the hourly
 * buckets also spf:R, dkim:R, dmarc:R and click:VERDICT (lib/dashboard.h). */
#ifndef IMS_STATS_H
#define IMS_STATS_H

#define IMS_STATS_TOTAL_KEY "ims:{global}:stats:total"
/* strftime(3) format of an hourly bucket's key (UTC) */
#define IMS_STATS_BUCKET_FMT "ims:{global}:stats:%Y%m%d%H"
/* the prefix of an hourly bucket's key: the prefix, then YYYYMMDDHH */
#define IMS_STATS_BUCKET_PREFIX "ims:{global}:stats:"

#endif
