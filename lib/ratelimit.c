#include "config.h"

#include <hiredis/hiredis.h>

#include "ratelimit.h"
#include "rkeys.h"
#include "store.h"

ims_status ims_ratelimit_count(struct ims_store *st, const char *kind, const char *key, int limit,
                               int window_s, bool *over, int *retry_after)
{
	char k[IMS_KEY_MAX], err[256];
	struct ims_store_txn *t;
	redisReply *rs[3] = {NULL, NULL, NULL};
	ims_status rc;

	*over = false;
	*retry_after = 0;
	if ((rc = ims_key(k, sizeof k, IMS_KEY_RATELIMIT_FMT, kind, key)) != IMS_OK)
		return rc;
	if (!(t = ims_store_txn_new()))
		return IMS_ENOMEM;
	ims_store_txn_cmd(t, "INCR");
	ims_store_txn_str(t, k);
	ims_store_txn_cmd(t, "EXPIRE");
	ims_store_txn_str(t, k);
	ims_store_txn_fmt(t, "%d", window_s);
	ims_store_txn_str(t, "NX");
	ims_store_txn_cmd(t, "PTTL");
	ims_store_txn_str(t, k);
	rc = ims_store_run(st, t, IMS_STORE_ATOMIC, rs, err, sizeof err);
	ims_store_txn_free(t);
	if (rc != IMS_OK)
		return rc;
	if (rs[0]->type != REDIS_REPLY_INTEGER) {
		rc = IMS_ETEMP;
		goto out;
	}
	*over = rs[0]->integer > limit;
	if (*over)
		*retry_after = rs[2]->type == REDIS_REPLY_INTEGER && rs[2]->integer > 0
		                   ? (int)((rs[2]->integer + 999) / 1000)
		                   : window_s;
out:
	ims_store_replies_free(rs, 3);
	return rc;
}

ims_status ims_ratelimit_give_back(struct ims_store *st, const char *kind, const char *key)
{
	/* DECR only while the window's key exists: never a negative count
	 * that would outlive it without a TTL */
	static const char lua[] = "if redis.call('EXISTS', KEYS[1]) == 1 then "
	                          "return redis.call('DECR', KEYS[1]) end return 0";
	char k[IMS_KEY_MAX], err[256];
	const char *argv[] = {"EVAL", lua, "1", k};
	redisReply *rep = NULL;
	ims_status rc;

	if ((rc = ims_key(k, sizeof k, IMS_KEY_RATELIMIT_FMT, kind, key)) != IMS_OK)
		return rc;
	rc = ims_store_cmdv(st, &rep, 4, argv, NULL, err, sizeof err);
	ims_store_reply_free(rep);
	return rc;
}
