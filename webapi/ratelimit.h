/* Rate limits in Redis: fixed one-minute windows per kind and key
 * (ims:{global}:ratelimit:KIND:KEY, an INCR counter with a 60 s TTL), so
 * every ims-webapi process shares them.
 *
 * An event is counted before the work it limits, in one transaction that
 * also reads the count: checking first and counting after the work would
 * let requests that arrive together all pass the check (parallel password
 * guesses ran the slow hash unlimited that way). */
#ifndef IMS_WEB_RATELIMIT_H
#define IMS_WEB_RATELIMIT_H

#include "request.h"

#define IMS_RATELIMIT_WINDOW_S 60

/* Counts one event for KIND:KEY and returns 1 when it is over limit in this
 * window (*retry_after then holds the seconds until the window resets), 0
 * when it is within.  On a Redis failure sets the 503 on r and returns -1. */
int ims_ratelimit_take(struct ims_req *r, const char *kind, const char *key, int limit,
                       int *retry_after);

/* Gives back one event ims_ratelimit_take counted (a login whose password
 * was right: only failures should use up the budget).  Best effort. */
void ims_ratelimit_refund(struct ims_req *r, const char *kind, const char *key);

#endif
