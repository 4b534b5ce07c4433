#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "rkeys.h"
#include "stats.h"
#include "store.h"

static void count_into(json_t *obj, const char *k, json_int_t n)
{
	json_object_set_new(obj, k, json_integer(json_integer_value(json_object_get(obj, k)) + n));
}

ims_status ims_stats_totals(struct ims_store *st, json_t **out)
{
	const char *argv[] = {"HGETALL", IMS_KEY_STATS_TOTAL};
	redisReply *rep = NULL;
	json_t *sum = json_object();
	char err[256];
	ims_status rc;

	*out = NULL;
	if (!sum)
		return IMS_ENOMEM;
	if ((rc = ims_store_cmdv(st, &rep, 2, argv, NULL, err, sizeof err)) != IMS_OK) {
		json_decref(sum);
		return rc;
	}
	for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
		count_into(sum, rep->element[i]->str,
		           (json_int_t)strtoll(rep->element[i + 1]->str, NULL, 10));
	ims_store_reply_free(rep);
	*out = sum;
	return IMS_OK;
}

json_t *ims_stats_top(json_t *counts, size_t n)
{
	json_t *out = json_array(), *copy = json_copy(counts);

	for (size_t k = 0; out && copy && k < n && json_object_size(copy); k++) {
		const char *key, *best = NULL;
		json_t *v;
		json_int_t bv = 0;

		json_object_foreach(copy, key, v)
		{
			json_int_t c = json_integer_value(v);

			if (!best || c > bv || (c == bv && strcmp(key, best) < 0)) {
				bv = c;
				best = key;
			}
		}
		json_array_append_new(out, json_pack("{s:s, s:I}", "name", best, "count", bv));
		json_object_del(copy, best);
	}
	json_decref(copy);
	return out;
}

ims_status ims_stats_report(struct ims_store *st, long long from, long long to, long long step_ms,
                            size_t top_n, json_t **out)
{
	struct ims_store_txn *t = NULL;
	redisReply **rs = NULL;
	json_t *buckets = json_array(), *totals = json_object(), *symbols = json_object();
	json_t *senders = json_array();
	size_t hours = 0;
	char err[256];
	ims_status rc = IMS_ENOMEM;

	*out = NULL;
	from -= from % (3600LL * 1000);
	if (to < from || (to - from) / (3600LL * 1000) + 1 > IMS_STATS_BUCKETS_MAX) {
		rc = IMS_EINVAL;
		goto out;
	}
	hours = (size_t)((to - from) / (3600LL * 1000)) + 1;
	/* the hours' buckets and the top senders in one round trip */
	rs = calloc(hours + 1, sizeof *rs);
	t = ims_store_txn_new();
	if (!rs || !t || !buckets || !totals || !symbols || !senders)
		goto out;
	for (size_t h = 0; h < hours; h++) {
		time_t secs = (time_t)((from + (long long)h * 3600000) / 1000);
		struct tm tm;
		char b[16];

		gmtime_r(&secs, &tm);
		strftime(b, sizeof b, "%Y%m%d%H", &tm);
		ims_store_txn_cmd(t, "HGETALL");
		ims_store_txn_fmt(t, IMS_KEY_STATS_BUCKET_PREFIX "%s", b);
	}
	ims_store_txn_cmd(t, "ZREVRANGE");
	ims_store_txn_str(t, IMS_KEY_TOP_SENDERS);
	ims_store_txn_str(t, "0");
	ims_store_txn_fmt(t, "%zu", top_n ? top_n - 1 : 0);
	ims_store_txn_str(t, "WITHSCORES");
	if ((rc = ims_store_run(st, t, 0, rs, err, sizeof err)) != IMS_OK)
		goto out;
	{
		json_t *cur = NULL;
		long long cur_start = LLONG_MIN;

		for (size_t h = 0; h < hours; h++) {
			long long tm = from + (long long)h * 3600000;
			long long start = tm - (tm % step_ms);

			if (start != cur_start) {
				cur =
				    json_pack("{s:I, s:I, s:{}, s:{}}", "start", (json_int_t)start,
				              "total", (json_int_t)0, "actions", "verdicts");
				json_array_append_new(buckets, cur);
				cur_start = start;
			}
			if (rs[h]->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t i = 0; i + 1 < rs[h]->elements; i += 2) {
				const char *k = rs[h]->element[i]->str;
				json_int_t n = strtoll(rs[h]->element[i + 1]->str, NULL, 10);

				if (strcmp(k, "total") == 0) {
					count_into(cur, "total", n);
					count_into(totals, "total", n);
				} else if (strncmp(k, "action:", 7) == 0) {
					count_into(json_object_get(cur, "actions"), k + 7, n);
					count_into(totals, k, n);
				} else if (strncmp(k, "verdict:", 8) == 0) {
					count_into(json_object_get(cur, "verdicts"), k + 8, n);
					count_into(totals, k, n);
				} else if (strncmp(k, "symbol:", 7) == 0) {
					count_into(symbols, k + 7, n);
				}
			}
		}
	}
	{
		const redisReply *top = rs[hours];

		for (size_t i = 0; top_n && top->type == REDIS_REPLY_ARRAY && i + 1 < top->elements;
		     i += 2)
			json_array_append_new(
			    senders,
			    json_pack("{s:s, s:I}", "name", top->element[i]->str, "count",
			              (json_int_t)strtoll(top->element[i + 1]->str, NULL, 10)));
	}
	*out = json_pack("{s:I, s:I, s:s, s:O, s:O, s:o, s:O}", "from", (json_int_t)from, "to",
	                 (json_int_t)to, "bucket", step_ms > 3600000 ? "day" : "hour", "buckets",
	                 buckets, "totals", totals, "top_symbols", ims_stats_top(symbols, top_n),
	                 "top_senders", senders);
	rc = *out ? IMS_OK : IMS_ENOMEM;
out:
	if (rs)
		ims_store_replies_free(rs, hours + 1);
	free(rs);
	ims_store_txn_free(t);
	json_decref(buckets);
	json_decref(totals);
	json_decref(symbols);
	json_decref(senders);
	return rc;
}
