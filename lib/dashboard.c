/* The admins' dashboard: counters per scan and click, read per range
 * (lib/dashboard.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "dashboard.h"
#include "orgdomain.h"
#include "rkeys.h"
#include "stats.h"

#define HOUR_MS (3600ULL * 1000)
#define DAY_MS  (24 * HOUR_MS)
#define MIN5_MS (300ULL * 1000)

enum stamp { HOUR_KEY, DAY_KEY, MIN5_KEY, HOUR_STAMP, DAY_STAMP };

/* The key or stamp of the hour, 5 minutes or day that ms falls in (UTC). */
static void key_time(char *out, size_t len, enum stamp kind, uint64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	switch (kind) {
	case HOUR_KEY: strftime(out, len, IMS_KEY_STATS_BUCKET_STRFTIME, &tm); break;
	case DAY_KEY: strftime(out, len, IMS_KEY_STATS_DAY_STRFTIME, &tm); break;
	case MIN5_KEY:
		tm.tm_min -= tm.tm_min % 5;
		strftime(out, len, IMS_KEY_STATS5_STRFTIME, &tm);
		break;
	case HOUR_STAMP: strftime(out, len, "%Y%m%d%H", &tm); break;
	case DAY_STAMP: strftime(out, len, "%Y%m%d", &tm); break;
	}
}

static void incr(struct ims_store_txn *t, const char *key, const char *field, const char *value)
{
	ims_store_txn_cmd(t, "HINCRBY");
	ims_store_txn_str(t, key);
	ims_store_txn_fmt(t, "%s%s", field, value);
	ims_store_txn_str(t, "1");
}

static void top_incr(struct ims_store_txn *t, const char *kind, const char *hour, const char *day,
                     const char *name, uint64_t retention_ms, int trim)
{
	char member[IMS_DASH_MEMBER_MAX + 1];
	size_t n = strlen(name);

	/* lower case: addresses and domains are counted case-insensitively */
	if (n > IMS_DASH_MEMBER_MAX)
		n = IMS_DASH_MEMBER_MAX;
	for (size_t i = 0; i < n; i++)
		member[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	member[n] = '\0';
	for (int k = 0; k < 2; k++) {
		const uint64_t ttl[2] = {IMS_DASH_TOP_HOUR_TTL_MS, IMS_DASH_TOP_DAY_TTL_MS};

		char key[96];

		ims_key(key, sizeof key, IMS_KEY_DASH_TOP_FMT, kind, k ? "d" : "h", k ? day : hour);
		ims_store_txn_cmd(t, "ZINCRBY");
		ims_store_txn_str(t, key);
		ims_store_txn_str(t, "1");
		ims_store_txn_str(t, member);
		ims_store_txn_cmd(t, "PEXPIRE");
		ims_store_txn_str(t, key);
		/* kept as long as a range reads them, never past the retention */
		ims_store_txn_fmt(
		    t, "%llu", (unsigned long long)(retention_ms < ttl[k] ? retention_ms : ttl[k]));
		if (trim) {
			/* keep the IMS_DASH_TOP_KEEP highest counts */
			ims_store_txn_cmd(t, "ZREMRANGEBYRANK");
			ims_store_txn_str(t, key);
			ims_store_txn_str(t, "0");
			ims_store_txn_fmt(t, "%d", -(IMS_DASH_TOP_KEEP + 1));
		}
	}
}

ims_status ims_dashboard_txn_scan(struct ims_store_txn *t, const struct ims_dash_scan *d, int trim)
{
	char hourkey[64], daykey[64], min5[64], hour[16], day[16];
	const char *auth[3][2] = {{"spf:", d->spf}, {"dkim:", d->dkim}, {"dmarc:", d->dmarc}};

	key_time(hourkey, sizeof hourkey, HOUR_KEY, d->time_ms);
	key_time(daykey, sizeof daykey, DAY_KEY, d->time_ms);
	key_time(min5, sizeof min5, MIN5_KEY, d->time_ms);
	key_time(hour, sizeof hour, HOUR_STAMP, d->time_ms);
	key_time(day, sizeof day, DAY_STAMP, d->time_ms);

	/* the 5-minute bucket: the 1 h range's series */
	incr(t, min5, "total", "");
	incr(t, min5, "action:", d->action);
	if (d->verdict)
		incr(t, min5, "verdict:", d->verdict);
	/* authentication results, per message, in the three buckets (the
	 * hour's and the day's PEXPIRE are the scan store's) */
	for (int i = 0; i < 3; i++) {
		const char *v = auth[i][1] && auth[i][1][0] ? auth[i][1] : "none";

		incr(t, min5, auth[i][0], v);
		incr(t, hourkey, auth[i][0], v);
		incr(t, daykey, auth[i][0], v);
	}
	ims_store_txn_cmd(t, "EXPIRE");
	ims_store_txn_str(t, min5);
	ims_store_txn_fmt(t, "%d", IMS_DASH_MIN5_TTL_S);

	if (d->mail_from && d->mail_from[0]) {
		const char *at = strrchr(d->mail_from, '@');
		char org[256];

		top_incr(t, "senders", hour, day, d->mail_from, d->retention_ms, trim);
		if (at && at[1]) {
			/* the registrable domain: example.co.uk for mx.example.co.uk;
			 * the domain as it is when it has none */
			top_incr(t, "domains", hour, day,
			         ims_orgdomain(at + 1, org, sizeof org) == IMS_OK ? org : at + 1,
			         d->retention_ms, trim);
		}
	}
	for (size_t i = 0; i < d->ntargets && i < IMS_DASH_MAX_TARGETS; i++)
		top_incr(t, "targets", hour, day, d->targets[i], d->retention_ms, trim);
	return ims_store_txn_count(t) ? IMS_OK : IMS_ENOMEM;
}

void ims_dashboard_txn_click(struct ims_store_txn *t, uint64_t time_ms, const char *verdict,
                             int retention_days)
{
	char key[64], min5[64];

	for (int k = 0; k < 2; k++) {
		/* the hour's and the day's */
		key_time(key, sizeof key, k ? DAY_KEY : HOUR_KEY, time_ms);
		incr(t, key, "click:", verdict);
		ims_store_txn_cmd(t, "EXPIRE");
		ims_store_txn_str(t, key);
		ims_store_txn_fmt(t, "%lld", (long long)retention_days * 86400);
	}
	key_time(min5, sizeof min5, MIN5_KEY, time_ms);
	incr(t, min5, "click:", verdict);
	ims_store_txn_cmd(t, "EXPIRE");
	ims_store_txn_str(t, min5);
	ims_store_txn_fmt(t, "%d", IMS_DASH_MIN5_TTL_S);
}

/* ---- reading ---- */

struct range {
	const char *name;
	uint64_t bucket_ms;
	size_t nbuckets;
	uint64_t src_ms; /* the counter hashes read: 5 minutes, an hour or a day */
	uint64_t top_ms; /* the top sets read: an hour or a day */
};

static const struct range ranges[] = {
    {"1h", MIN5_MS, 12, MIN5_MS, HOUR_MS},
    {"24h", HOUR_MS, 24, HOUR_MS, HOUR_MS},
    {"7d", 6 * HOUR_MS, 28, HOUR_MS, DAY_MS},
    /* whole UTC days: their day hashes, not 720 hours */
    {"30d", DAY_MS, 30, DAY_MS, DAY_MS},
};

/* Adds n to obj[k] (an integer). */
static void add(json_t *obj, const char *k, json_int_t n)
{
	json_object_set_new(obj, k, json_integer(json_integer_value(json_object_get(obj, k)) + n));
}

static json_t *counts_new(void)
{
	return json_pack("{s:I, s:{}, s:{}, s:{}, s:{}, s:{}, s:{}}", "total", (json_int_t)0,
	                 "actions", "verdicts", "spf", "dkim", "dmarc", "clicks");
}

/* Adds one counter hash (HGETALL reply) to the counts objects; symbols
 * (when not NULL) gets the symbol:NAME fields. */
static void add_hash(const redisReply *h, json_t *const *into, size_t ninto, json_t *symbols)
{
	static const struct {
		const char *prefix, *obj;
	} map[] = {{"action:", "actions"}, {"verdict:", "verdicts"}, {"spf:", "spf"},
	           {"dkim:", "dkim"},      {"dmarc:", "dmarc"},      {"click:", "clicks"}};

	if (!h || h->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const char *k = h->element[i]->str, *v = h->element[i + 1]->str;
		json_int_t n;

		if (h->element[i]->type != REDIS_REPLY_STRING ||
		    h->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		n = strtoll(v, NULL, 10);
		if (strncmp(k, "symbol:", 7) == 0) {
			if (symbols)
				add(symbols, k + 7, n);
			continue;
		}
		for (size_t j = 0; j < ninto; j++) {
			if (strcmp(k, "total") == 0) {
				add(into[j], "total", n);
				continue;
			}
			for (size_t m = 0; m < sizeof map / sizeof map[0]; m++) {
				size_t pl = strlen(map[m].prefix);

				if (strncmp(k, map[m].prefix, pl) == 0 && k[pl])
					add(json_object_get(into[j], map[m].obj), k + pl, n);
			}
		}
	}
}

/* A day hash that is not there: a day with no mail, or one from before
 * the day hashes were written (its hours are read instead). */
static int no_hash(const redisReply *r)
{
	return !r || r->type == REDIS_REPLY_NIL || (r->type == REDIS_REPLY_ARRAY && !r->elements);
}

/* ZUNION of the keys, the top ARGV[1] returned highest first, all on the
 * server (at most 31 keys of about IMS_DASH_TOP_KEEP members each). */
static const char top_lua[] = "local a = {'ZUNION', #KEYS} "
                              "for i = 1, #KEYS do a[#a + 1] = KEYS[i] end "
                              "a[#a + 1] = 'WITHSCORES' "
                              "local r = redis.call(unpack(a)) "
                              "local out = {} "
                              "local i = #r - 1 "
                              "while i >= 1 and #out < 2 * tonumber(ARGV[1]) do "
                              "  out[#out + 1] = r[i] out[#out + 1] = r[i + 1] i = i - 2 "
                              "end "
                              "return out";

static json_t *top_reply(const redisReply *r)
{
	json_t *out = json_array();

	for (size_t i = 0; out && r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING)
			json_array_append_new(
			    out, json_pack("{s:s, s:I}", "name", r->element[i]->str, "count",
			                   (json_int_t)strtoll(r->element[i + 1]->str, NULL, 10)));
	return out;
}

/* failures / results other than none, or null when there were none */
static json_t *rate(json_t *results, const char *const *fails)
{
	const char *k;
	json_t *v;
	json_int_t all = 0, bad = 0;

	json_object_foreach(results, k, v)
	{
		if (strcmp(k, "none") == 0)
			continue;
		all += json_integer_value(v);
		for (size_t i = 0; fails[i]; i++)
			if (strcmp(k, fails[i]) == 0)
				bad += json_integer_value(v);
	}
	return all ? json_real((double)bad / (double)all) : json_null();
}

/* EVAL top_lua over the top sets of kind from the hour or day of from to
 * that of to (at most 40 keys: 31 days or 25 hours are read). */
static void append_top_cmd(struct ims_store_txn *t, const char *kind, uint64_t from, uint64_t to,
                           uint64_t step)
{
	char keys[40][80];
	int n = 0;

	for (uint64_t ms = from - from % step; ms <= to && n < 40; ms += step, n++) {
		char stamp[16];

		key_time(stamp, sizeof stamp, step == DAY_MS ? DAY_STAMP : HOUR_STAMP, ms);
		ims_key(keys[n], sizeof keys[n], IMS_KEY_DASH_TOP_FMT, kind,
		        step == DAY_MS ? "d" : "h", stamp);
	}
	ims_store_txn_cmd(t, "EVAL");
	ims_store_txn_str(t, top_lua);
	ims_store_txn_fmt(t, "%d", n);
	for (int i = 0; i < n; i++)
		ims_store_txn_str(t, keys[i]);
	ims_store_txn_fmt(t, "%d", IMS_DASH_TOP_N);
}

ims_status ims_dashboard_read(struct ims_store *store, const char *range, uint64_t now_ms,
                              json_t **out)
{
	struct ims_store_txn *t = NULL, *t2 = NULL;
	char err[256];
	const struct range *g = NULL;
	uint64_t from, to = now_ms, hfrom, nsrc, nsym = 0;
	redisReply **rs = NULL, **hrs = NULL;
	size_t nrep = 0, nh = 0;
	json_t *o = NULL, *buckets = NULL, *totals = NULL, *symbols = NULL;
	ims_status st = IMS_ENOMEM;
	static const char *const kinds[] = {"senders", "domains", "targets"};
	static const char *const spf_fail[] = {"fail", "softfail", NULL};
	static const char *const dkim_fail[] = {"fail", NULL};
	static const char *const dmarc_fail[] = {"fail", NULL};

	*out = NULL;
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (range && strcmp(range, ranges[i].name) == 0)
			g = &ranges[i];
	if (!g)
		return IMS_EINVAL;
	from = now_ms - now_ms % g->bucket_ms - (g->nbuckets - 1) * g->bucket_ms;
	nsrc = g->nbuckets * (g->bucket_ms / g->src_ms);
	/* the 5-minute hashes have no symbols: the hours they fall in do */
	hfrom = from - from % HOUR_MS;
	if (g->src_ms == MIN5_MS)
		nsym = (to - hfrom) / HOUR_MS + 1;
	nrep = nsrc + nsym + 3 + 2;
	if (!(rs = calloc(nrep, sizeof *rs)) || !(t = ims_store_txn_new()))
		goto out;
	for (uint64_t i = 0; i < nsrc; i++) {
		char key[64];

		key_time(key, sizeof key,
		         g->src_ms == DAY_MS    ? DAY_KEY
		         : g->src_ms == HOUR_MS ? HOUR_KEY
		                                : MIN5_KEY,
		         from + i * g->src_ms);
		ims_store_txn_cmd(t, "HGETALL");
		ims_store_txn_str(t, key);
	}
	for (uint64_t i = 0; i < nsym; i++) {
		char key[64];

		key_time(key, sizeof key, HOUR_KEY, hfrom + i * HOUR_MS);
		ims_store_txn_cmd(t, "HGETALL");
		ims_store_txn_str(t, key);
	}
	for (size_t k = 0; k < 3; k++)
		append_top_cmd(t, kinds[k], from, to, g->top_ms);
	ims_store_txn_cmd(t, "ZCARD");
	ims_store_txn_str(t, IMS_KEY_QUARANTINE);
	ims_store_txn_cmd(t, "GET");
	ims_store_txn_str(t, IMS_KEY_QUARANTINE_BYTES);
	/* one pipeline, every key in the {global} slot */
	if ((st = ims_store_run(store, t, 0, rs, err, sizeof err)) != IMS_OK)
		goto out;
	st = IMS_ENOMEM;
	if (g->src_ms == DAY_MS) {
		/* days without their hash: their 24 hours, in a second round trip
		 * only when there are such days */
		for (uint64_t i = 0; i < nsrc; i++)
			nh += no_hash(rs[i]) ? 24 : 0;
		if (nh && (!(hrs = calloc(nh, sizeof *hrs)) || !(t2 = ims_store_txn_new())))
			goto out;
		for (uint64_t i = 0; nh && i < nsrc; i++)
			for (uint64_t h = 0; h < 24 && no_hash(rs[i]); h++) {
				char key[64];

				key_time(key, sizeof key, HOUR_KEY,
				         from + i * DAY_MS + h * HOUR_MS);
				ims_store_txn_cmd(t2, "HGETALL");
				ims_store_txn_str(t2, key);
			}
		if (nh && (st = ims_store_run(store, t2, 0, hrs, err, sizeof err)) != IMS_OK)
			goto out;
		st = IMS_ENOMEM;
	}
	buckets = json_array();
	totals = counts_new();
	symbols = json_object();
	if (!buckets || !totals || !symbols)
		goto out;
	{
		size_t per = (size_t)(g->bucket_ms / g->src_ms), nexth = 0;

		for (size_t b = 0; b < g->nbuckets; b++) {
			json_t *c = counts_new(), *into[2];

			if (!c)
				goto out;
			json_object_set_new(c, "start",
			                    json_integer((json_int_t)(from + b * g->bucket_ms)));
			into[0] = c;
			into[1] = totals;
			for (size_t i = 0; i < per; i++)
				add_hash(rs[b * per + i], into, 2, nsym ? NULL : symbols);
			for (size_t h = 0; hrs && h < 24 && no_hash(rs[b]); h++)
				add_hash(hrs[nexth++], into, 2, symbols);
			json_array_append_new(buckets, c);
		}
		for (uint64_t i = 0; i < nsym; i++)
			add_hash(rs[nsrc + i], NULL, 0, symbols);
	}
	{
		const redisReply *zc = rs[nrep - 2], *qb = rs[nrep - 1];
		json_int_t held = zc->type == REDIS_REPLY_INTEGER ? (json_int_t)zc->integer : 0;
		json_int_t bytes = qb->type == REDIS_REPLY_STRING ? strtoll(qb->str, NULL, 10) : 0;

		o = json_pack(
		    "{s:s, s:I, s:I, s:I, s:O, s:O, s:{s:o, s:o, s:o}, s:o, s:o, s:o, "
		    "s:o, s:{s:I, s:I}}",
		    "range", g->name, "from", (json_int_t)from, "to", (json_int_t)to, "bucket_ms",
		    (json_int_t)g->bucket_ms, "buckets", buckets, "totals", totals,
		    "auth_failure_rate", "spf", rate(json_object_get(totals, "spf"), spf_fail),
		    "dkim", rate(json_object_get(totals, "dkim"), dkim_fail), "dmarc",
		    rate(json_object_get(totals, "dmarc"), dmarc_fail), "top_symbols",
		    ims_stats_top(symbols, IMS_DASH_TOP_N), "top_senders",
		    top_reply(rs[nsrc + nsym]), "top_sender_domains",
		    top_reply(rs[nsrc + nsym + 1]), "top_targeted_users",
		    top_reply(rs[nsrc + nsym + 2]), "quarantine", "messages", held, "bytes", bytes);
	}
	if (!o)
		goto out;
	*out = o;
	st = IMS_OK;
out:
	if (rs)
		ims_store_replies_free(rs, nrep);
	free(rs);
	if (hrs)
		ims_store_replies_free(hrs, nh);
	free(hrs);
	ims_store_txn_free(t);
	ims_store_txn_free(t2);
	json_decref(buckets);
	json_decref(totals);
	json_decref(symbols);
	return st;
}
