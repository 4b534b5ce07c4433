/* Rate limits in Redis: fixed windows per kind and key
 * (ims:{global}:ratelimit:KIND:KEY, an INCR counter with the window as
 * TTL), so every process shares them.
 *
 * An event is counted before the work it limits, in one transaction that
 * also reads the count: checking first and counting after the work would
 * let requests that arrive together all pass the check. */
#ifndef IMS_RATELIMIT_H
#define IMS_RATELIMIT_H

#include <stdbool.h>

#include "status.h"

struct ims_store;

#define IMS_RATELIMIT_WINDOW_S 60 /* ims-webapi's windows */

/* Counts one event for KIND:KEY in a window of window_s seconds; *over is
 * true when it is over limit (*retry_after then holds the seconds until
 * the window resets, else 0).  IMS_ETEMP when Redis failed. */
ims_status ims_ratelimit_count(struct ims_store *st, const char *kind, const char *key, int limit,
                               int window_s, bool *over, int *retry_after);

/* Gives back one event ims_ratelimit_count counted, while its window lasts
 * (never a negative count without a TTL).  Best effort. */
ims_status ims_ratelimit_give_back(struct ims_store *st, const char *kind, const char *key);

#endif
