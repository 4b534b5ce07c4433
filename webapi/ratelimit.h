/* Rate limits in Redis: fixed one-minute windows per kind and key
 * (ims:{global}:ratelimit:KIND:KEY, an INCR counter with a 60 s TTL), so
 * every ims-webapi process shares them. */
#ifndef IMS_WEB_RATELIMIT_H
#define IMS_WEB_RATELIMIT_H

#include "request.h"

#define IMS_RATELIMIT_WINDOW_S 60

/* True when KIND:KEY already reached limit in this window; *retry_after
 * then holds the seconds until it resets.  Does not count.  On a Redis
 * failure sets the 503 on r and returns -1. */
int ims_ratelimit_over(struct ims_req *r, const char *kind, const char *key, int limit,
		       int *retry_after);

/* Counts one event for KIND:KEY.  Returns the count in this window (-1
 * and a 503 on r when Redis failed). */
long long ims_ratelimit_hit(struct ims_req *r, const char *kind, const char *key);

#endif
