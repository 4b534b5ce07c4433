#include "config.h"

#include <stdlib.h>

#include "ratelimit.h"
#include "rkeys.h"

int ims_ratelimit_take(struct ims_req *r, const char *kind, const char *key, int limit,
                       int *retry_after)
{
	redisContext *c = ims_req_redis(r);
	redisReply *rs[5] = {NULL};
	redisReply *x;
	int over = -1;

	*retry_after = 0;
	if (!c)
		return -1;
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "INCR " IMS_KEY_RATELIMIT_FMT, kind, key);
	redisAppendCommand(c, "EXPIRE " IMS_KEY_RATELIMIT_FMT " %d NX", kind, key,
	                   IMS_RATELIMIT_WINDOW_S);
	redisAppendCommand(c, "PTTL " IMS_KEY_RATELIMIT_FMT, kind, key);
	redisAppendCommand(c, "EXEC");
	if (ims_req_pipeline(r, rs, 5) != IMS_OK)
		return -1;
	x = rs[4];
	if (x->type != REDIS_REPLY_ARRAY || x->elements != 3 ||
	    x->element[0]->type != REDIS_REPLY_INTEGER) {
		ims_req_redis_failed(r);
		goto out;
	}
	over = x->element[0]->integer > limit;
	if (over)
		*retry_after =
		    x->element[2]->type == REDIS_REPLY_INTEGER && x->element[2]->integer > 0
		        ? (int)((x->element[2]->integer + 999) / 1000)
		        : IMS_RATELIMIT_WINDOW_S;
out:
	ims_req_free_replies(rs, 5);
	return over;
}

void ims_ratelimit_refund(struct ims_req *r, const char *kind, const char *key)
{
	redisContext *c = ims_req_redis(r);
	redisReply *rep = NULL;

	if (!c)
		return;
	/* DECR only while the window's key exists: never a negative count
	 * that would outlive it without a TTL */
	redisAppendCommand(c, "EVAL %s 1 " IMS_KEY_RATELIMIT_FMT,
	                   "if redis.call('EXISTS', KEYS[1]) == 1 then "
	                   "return redis.call('DECR', KEYS[1]) end return 0",
	                   kind, key);
	if (ims_req_pipeline(r, &rep, 1) == IMS_OK)
		ims_req_free_replies(&rep, 1);
}
