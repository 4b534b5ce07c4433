#include "config.h"

#include <stdlib.h>

#include "ratelimit.h"

int ims_ratelimit_over(struct ims_req *r, const char *kind, const char *key, int limit,
		       int *retry_after)
{
	redisContext *c = ims_req_redis(r);
	redisReply *rs[2] = { NULL, NULL };
	int over = 0;

	*retry_after = 0;
	if (!c)
		return -1;
	redisAppendCommand(c, "GET ims:{global}:ratelimit:%s:%s", kind, key);
	redisAppendCommand(c, "PTTL ims:{global}:ratelimit:%s:%s", kind, key);
	if (ims_req_pipeline(r, rs, 2) != IMS_OK)
		return -1;
	if (rs[0]->type == REDIS_REPLY_STRING && strtoll(rs[0]->str, NULL, 10) >= limit) {
		over = 1;
		*retry_after = rs[1]->type == REDIS_REPLY_INTEGER && rs[1]->integer > 0
				       ? (int)((rs[1]->integer + 999) / 1000)
				       : IMS_RATELIMIT_WINDOW_S;
	}
	ims_req_free_replies(rs, 2);
	return over;
}

long long ims_ratelimit_hit(struct ims_req *r, const char *kind, const char *key)
{
	redisContext *c = ims_req_redis(r);
	redisReply *rs[4] = { NULL };
	long long n = -1;

	if (!c)
		return -1;
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "INCR ims:{global}:ratelimit:%s:%s", kind, key);
	redisAppendCommand(c, "EXPIRE ims:{global}:ratelimit:%s:%s %d NX", kind, key,
			   IMS_RATELIMIT_WINDOW_S);
	redisAppendCommand(c, "EXEC");
	if (ims_req_pipeline(r, rs, 4) != IMS_OK)
		return -1;
	if (rs[3]->type == REDIS_REPLY_ARRAY && rs[3]->elements == 2 &&
	    rs[3]->element[0]->type == REDIS_REPLY_INTEGER)
		n = rs[3]->element[0]->integer;
	ims_req_free_replies(rs, 4);
	return n;
}
