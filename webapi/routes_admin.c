/* Admin routes: scans, one scan, stats, quarantine and release, audit,
 * users (the quarantine is routes_quarantine.c).  Every change an admin makes is an event in
 * ims:{global}:events (ims_req_audit), and so is an audit export. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dashboard.h"
#include "events.h"
#include "jsonw.h"
#include "log.h"
#include "page.h"
#include "replyarena.h"
#include "rkeys.h"
#include "routes.h"
#include "symbols.h"
#include "ulid.h"
#include "users.h"

#define SCAN_EXAMINE_MAX  5000 /* scan logs read per request when filtering */
#define STATS_BUCKETS_MAX (24 * 93)
#define TOP_N             10

/* Filter values: [A-Za-z0-9_.-], at most 64; sets a 400 otherwise. */
static int token_ok(struct ims_req *r, const char *name, const char *v)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '_' || v[i] == '.' || v[i] == '-')) {
			n = 0;
			break;
		}
	if (n == 0 || n > 64) {
		ims_req_error(r, 400, "bad value for %s", name);
		return 0;
	}
	return 1;
}

static int addr_eq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

/* The same address in any spelling ("2001:db8::1" and "2001:DB8:0::1"). */
static int ip_eq(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	int fa = a && strchr(a, ':') ? AF_INET6 : AF_INET, fb = strchr(b, ':') ? AF_INET6 : AF_INET;

	return a && fa == fb && inet_pton(fa, a, x) == 1 && inet_pton(fb, b, y) == 1 &&
	       memcmp(x, y, fa == AF_INET6 ? 16 : 4) == 0;
}

struct scan_filter {
	const char *verdict, *action, *symbol, *sender, *recipient, *ip;
};

static int scan_matches(json_t *s, const struct scan_filter *f)
{
	const char *v;

	if (!json_is_object(s))
		return 0;
	if (f->verdict &&
	    (!(v = json_string_value(json_object_get(s, "verdict"))) || strcmp(v, f->verdict) != 0))
		return 0;
	if (f->action &&
	    (!(v = json_string_value(json_object_get(s, "action"))) || strcmp(v, f->action) != 0))
		return 0;
	if (f->sender && !addr_eq(json_string_value(json_object_get(s, "mail_from")), f->sender))
		return 0;
	if (f->ip &&
	    !ip_eq(json_string_value(json_object_get(json_object_get(s, "client"), "ip")), f->ip))
		return 0;
	if (f->recipient) {
		size_t i;
		json_t *x;
		int found = 0;

		json_array_foreach(json_object_get(s, "rcpt"), i, x)
		{
			if (addr_eq(json_string_value(x), f->recipient))
				found = 1;
		}
		if (!found)
			return 0;
	}
	if (f->symbol) {
		size_t i;
		json_t *x;
		int found = 0;

		json_array_foreach(json_object_get(s, "symbols"), i, x)
		{
			v = json_string_value(json_object_get(x, "name"));
			if (v && strcmp(v, f->symbol) == 0)
				found = 1;
		}
		if (!found)
			return 0;
	}
	return 1;
}

/* Appends MGET of the scan logs of p's ids to c's output buffer, formatted
 * here.  One command rather than one GET each: Redis answers with one
 * reply, which hiredis parses without moving its read buffer once per log. */
static int append_mget_scans(redisContext *c, const struct ims_page *p)
{
	struct ims_jsonw cmd = {0}; /* used as a plain byte buffer */
	char num[48];
	size_t len;
	char *text;
	int rc;

	snprintf(num, sizeof num, "*%zu\r\n$4\r\nMGET\r\n", p->n + 1);
	ims_jsonw_puts(&cmd, num);
	for (size_t i = 0; i < p->n; i++) {
		snprintf(num, sizeof num, "$%zu\r\n" IMS_KEY_SCAN_PREFIX,
		         strlen(IMS_KEY_SCAN_PREFIX) + strlen(p->ids[i]));
		ims_jsonw_puts(&cmd, num);
		ims_jsonw_puts(&cmd, p->ids[i]);
		ims_jsonw_raw(&cmd, "\r\n", 2);
	}
	text = ims_jsonw_take(&cmd, &len);
	if (!text)
		return -1;
	rc = redisAppendFormattedCommand(c, text, len) == REDIS_OK ? 0 : -1;
	free(text);
	return rc;
}

/* The list is built as text: the scan logs go out as they are stored (the
 * milter writes them with jansson), so a page costs no JSON parsing unless
 * a filter has to look inside the logs. */
void ims_route_admin_scans(struct ims_req *r)
{
	struct scan_filter f = {ims_req_query(r, "verdict"),   ims_req_query(r, "action"),
	                        ims_req_query(r, "symbol"),    ims_req_query(r, "sender"),
	                        ims_req_query(r, "recipient"), ims_req_query(r, "ip")};
	long long from = LLONG_MIN, to = LLONG_MAX;
	char key[128], cursor[IMS_CURSOR_MAX] = "", next[IMS_CURSOR_MAX] = "";
	const char *q = ims_req_query(r, "cursor");
	int limit = ims_req_limit(r), need_parse;
	char num[48];
	size_t examined = 0, batch, kept = 0;
	char *buf;
	size_t len = 0;
	struct ims_jsonw out = {0};
	int done = 0;

	if (limit < 0)
		goto out;
	if ((f.verdict && !token_ok(r, "verdict", f.verdict)) ||
	    (f.action && !token_ok(r, "action", f.action)) ||
	    (f.symbol && !token_ok(r, "symbol", f.symbol)) || ims_page_time_arg(r, "from", &from) ||
	    ims_page_time_arg(r, "to", &to))
		goto out;
	if (f.ip) {
		unsigned char bin[16];

		if (inet_pton(strchr(f.ip, ':') ? AF_INET6 : AF_INET, f.ip, bin) != 1) {
			ims_req_error(r, 400, "ip must be an IPv4 or IPv6 address");
			goto out;
		}
	}
	if ((f.sender && strlen(f.sender) > IMS_USERS_ADDR_MAX) ||
	    (f.recipient && strlen(f.recipient) > IMS_USERS_ADDR_MAX)) {
		ims_req_error(r, 400, "address too long");
		goto out;
	}
	/* walk the most selective index; check the other filters on the log */
	if (f.symbol)
		snprintf(key, sizeof key, IMS_KEY_IDX_SYMBOL_PREFIX "%s", f.symbol);
	else if (f.action)
		snprintf(key, sizeof key, IMS_KEY_IDX_ACTION_PREFIX "%s", f.action);
	else if (f.verdict)
		snprintf(key, sizeof key, IMS_KEY_IDX_VERDICT_PREFIX "%s", f.verdict);
	else
		snprintf(key, sizeof key, "%s", IMS_KEY_SCANS);
	need_parse = f.sender || f.recipient || f.ip || (f.symbol && (f.action || f.verdict)) ||
	             (f.action && f.verdict);
	if (!need_parse) /* the index says it all */
		f = (struct scan_filter){0};
	if (q)
		snprintf(cursor, sizeof cursor, "%s", q);
	batch = (size_t)limit + 1;
	if (need_parse && batch < 200)
		batch = 200;
	ims_jsonw_raw(&out, "{\"items\":[", 10);
	while (!done && examined < SCAN_EXAMINE_MAX) {
		struct ims_page p;
		redisReply **rs, *top = NULL;
		redisContext *c;

		if (ims_page_read(r, key, cursor, from, to, batch, &p) != IMS_OK)
			goto out;
		c = ims_req_redis(r);
		rs = calloc(p.n ? p.n : 1, sizeof *rs);
		if (!c || !rs) {
			ims_page_free(&p);
			free(rs);
			goto out;
		}
		if (p.n && append_mget_scans(c, &p) != 0) {
			ims_page_free(&p);
			free(rs);
			goto out;
		}
		ims_replyarena_begin(c);
		if (p.n && ims_req_pipeline(r, &top, 1) != IMS_OK) {
			ims_replyarena_end(ims_req_redis_peek());
			ims_page_free(&p);
			free(rs);
			goto out;
		}
		if (p.n && (top->type != REDIS_REPLY_ARRAY || top->elements != p.n)) {
			ims_replyarena_end(c);
			ims_page_free(&p);
			free(rs);
			ims_req_error(r, 500, "unexpected store reply");
			goto out;
		}
		for (size_t i = 0; i < p.n; i++)
			rs[i] = top->element[i];
		for (size_t i = 0; i < p.n && !done; i++) {
			int match = rs[i]->type == REDIS_REPLY_STRING && rs[i]->len > 1 &&
			            rs[i]->str[0] == '{';

			examined++;
			ims_page_cursor(&p, i, cursor);
			if (match && need_parse) {
				json_t *s = json_loadb(rs[i]->str, rs[i]->len, 0, NULL);

				match = s && scan_matches(s, &f);
				json_decref(s);
			}
			if (!match)
				continue;
			if (kept++)
				ims_jsonw_raw(&out, ",", 1);
			ims_jsonw_raw(&out, rs[i]->str, rs[i]->len);
			if (kept == (size_t)limit) {
				done = 1;
				/* more only if anything follows this one */
				if (i + 1 < p.n || p.more)
					snprintf(next, sizeof next, "%s", cursor);
			}
		}
		if (!done && !p.more)
			done = 2; /* the index is exhausted */
		else if (!done && examined >= SCAN_EXAMINE_MAX)
			snprintf(next, sizeof next, "%s", cursor); /* resume from here */
		ims_replyarena_end(c); /* the replies go with the arena */
		free(rs);
		ims_page_free(&p);
	}
	/* cursors are [0-9A-Za-z-_.@+] only: no escaping needed */
	ims_jsonw_raw(&out, "],\"next_cursor\":", 16);
	if (next[0]) {
		ims_jsonw_raw(&out, "\"", 1);
		ims_jsonw_puts(&out, next);
		ims_jsonw_raw(&out, "\"", 1);
	} else {
		ims_jsonw_raw(&out, "null", 4);
	}
	snprintf(num, sizeof num, ",\"examined\":%zu}", examined);
	ims_jsonw_puts(&out, num);
	buf = ims_jsonw_take(&out, &len);
	if (buf)
		ims_req_take(r, 200, "application/json", buf, len);
out:
	ims_jsonw_free(&out);
	if (!r->responded)
		ims_req_error(r, 500, "out of memory");
}

void ims_route_admin_scan(struct ims_req *r)
{
	redisReply *rep;
	json_t *s;

	if (!ims_ulid_valid(r->params[0])) {
		ims_req_error(r, 404, "no such scan");
		return;
	}
	rep = ims_req_cmd(r, "GET " IMS_KEY_SCAN_PREFIX "%s", r->params[0]);
	if (!rep)
		return;
	if (rep->type != REDIS_REPLY_STRING) {
		ims_req_error(r, 404, "no such scan");
	} else if (!(s = json_loadb(rep->str, rep->len, 0, NULL))) {
		ims_req_error(r, 500, "the stored scan log is not JSON");
	} else {
		ims_req_json(r, 200, s);
	}
	freeReplyObject(rep);
}

static void count_into(json_t *obj, const char *k, json_int_t n)
{
	json_object_set_new(obj, k, json_integer(json_integer_value(json_object_get(obj, k)) + n));
}

/* Top n entries of an object of counts, as [{"name", "count"}]. */
static json_t *top_of(json_t *counts, size_t n)
{
	json_t *out = json_array();
	json_t *copy = json_deep_copy(counts);

	for (size_t k = 0; k < n && json_object_size(copy); k++) {
		const char *key, *best = NULL;
		json_t *v;
		json_int_t bv = -1;

		json_object_foreach(copy, key, v)
		{
			if (json_integer_value(v) > bv) {
				bv = json_integer_value(v);
				best = key;
			}
		}
		json_array_append_new(out, json_pack("{s:s, s:I}", "name", best, "count", bv));
		json_object_del(copy, best);
	}
	json_decref(copy);
	return out;
}

void ims_route_admin_stats(struct ims_req *r)
{
	long long now = (long long)ims_req_now_ms(), from = now - 24LL * 3600 * 1000, to = now;
	const char *bq = ims_req_query(r, "bucket");
	long long step = 3600LL * 1000;
	size_t hours;
	redisContext *c;
	redisReply **rs = NULL, *top = NULL;
	json_t *buckets = json_array(), *totals = json_object(), *symbols = json_object();
	json_t *senders = json_array();

	if (ims_page_time_arg(r, "from", &from) || ims_page_time_arg(r, "to", &to))
		goto out;
	if (bq && strcmp(bq, "day") == 0)
		step *= 24;
	else if (bq && strcmp(bq, "hour") != 0) {
		ims_req_error(r, 400, "bucket must be hour or day");
		goto out;
	}
	from -= from % (3600LL * 1000);
	if (to < from) {
		ims_req_error(r, 400, "from is after to");
		goto out;
	}
	hours = (size_t)((to - from) / (3600LL * 1000)) + 1;
	if (hours > STATS_BUCKETS_MAX) {
		ims_req_error(r, 400, "at most %d hours at once", STATS_BUCKETS_MAX);
		goto out;
	}
	c = ims_req_redis(r);
	rs = calloc(hours, sizeof *rs);
	if (!c || !rs || !buckets || !totals || !symbols || !senders)
		goto out;
	for (size_t h = 0; h < hours; h++) {
		time_t t = (time_t)((from + (long long)h * 3600000) / 1000);
		struct tm tm;
		char b[16];

		gmtime_r(&t, &tm);
		strftime(b, sizeof b, "%Y%m%d%H", &tm);
		redisAppendCommand(c, "HGETALL " IMS_KEY_STATS_BUCKET_PREFIX "%s", b);
	}
	if (ims_req_pipeline(r, rs, hours) != IMS_OK)
		goto out;
	{
		json_t *cur = NULL;
		long long cur_start = LLONG_MIN;

		for (size_t h = 0; h < hours; h++) {
			long long t = from + (long long)h * 3600000;
			long long start = t - (t % step);

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
	top = ims_req_cmd(r, "ZREVRANGE " IMS_KEY_TOP_SENDERS " 0 %d WITHSCORES", TOP_N - 1);
	if (!top)
		goto out;
	for (size_t i = 0; top->type == REDIS_REPLY_ARRAY && i + 1 < top->elements; i += 2)
		json_array_append_new(
		    senders, json_pack("{s:s, s:I}", "name", top->element[i]->str, "count",
		                       (json_int_t)strtoll(top->element[i + 1]->str, NULL, 10)));
	ims_req_json(r, 200,
	             json_pack("{s:I, s:I, s:s, s:O, s:O, s:o, s:O}", "from", (json_int_t)from,
	                       "to", (json_int_t)to, "bucket", step > 3600000 ? "day" : "hour",
	                       "buckets", buckets, "totals", totals, "top_symbols",
	                       top_of(symbols, TOP_N), "top_senders", senders));
out:
	if (rs)
		ims_req_free_replies(rs, hours);
	free(rs);
	if (top)
		freeReplyObject(top);
	json_decref(buckets);
	json_decref(totals);
	json_decref(symbols);
	json_decref(senders);
	if (!r->responded)
		ims_req_error(r, 500, "out of memory");
}

/* The symbols a scan can carry, with their weights as configured ([scores])
 * and what each means: the console's symbol picker. */
void ims_route_admin_symbols(struct ims_req *r)
{
	json_t *items = json_array();

	for (int i = 0; items && ims_symbols[i].name; i++)
		json_array_append_new(
		    items, json_pack("{s:s, s:f, s:s}", "name", ims_symbols[i].name, "weight",
		                     r->app->conf->scores ? r->app->conf->scores[i]
		                                          : ims_symbols[i].weight,
		                     "doc", ims_symbols[i].doc ? ims_symbols[i].doc : ""));
	ims_req_json(r, 200, json_pack("{s:o}", "items", items));
}

void ims_route_admin_dashboard(struct ims_req *r)
{
	const char *range = ims_req_query(r, "range");
	redisContext *c = ims_req_redis(r);
	json_t *o = NULL;

	if (!c)
		return;
	switch (ims_dashboard_read(c, range ? range : "24h", ims_req_now_ms(), &o)) {
	case IMS_OK: ims_req_json(r, 200, o); break;
	case IMS_EINVAL: ims_req_error(r, 400, "range must be 1h, 24h, 7d or 30d"); break;
	case IMS_ETEMP: ims_req_redis_failed(r); break;
	default: ims_req_error(r, 500, "out of memory"); break;
	}
}

static json_t *field(const redisReply *v)
{
	json_t *j = v->type == REDIS_REPLY_STRING ? json_stringn(v->str, v->len) : NULL;

	return j ? j : json_null();
}

static const char *const csv_cols[] = {"time",   "type", "actor",  "op",
                                       "target", "id",   "action", "score"};

/* A plain decimal number ("-3.5"): a spreadsheet reads it as a number,
 * never as a formula, so it keeps its leading '-'. */
static bool csv_number(const char *s)
{
	size_t n;

	s += *s == '-';
	n = strspn(s, "0123456789");
	if (n == 0)
		return false;
	s += n;
	if (*s == '.' && (n = strspn(s + 1, "0123456789")) > 0)
		s += 1 + n;
	return *s == '\0';
}

/* One quoted CSV cell.  A cell that starts with = + - @ tab or CR would be
 * run as a formula by a spreadsheet that opens the export (CSV injection):
 * it gets a leading ' as OWASP recommends, unless it is a plain number. */
static void csv_cell(FILE *f, const char *s)
{
	fputc('"', f);
	if (s && strchr("=+-@\t\r", *s) && *s && !csv_number(s))
		fputc('\'', f);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* At most this many events are read for one filtered page: a rare type
 * gets a short page and a cursor instead of a scan of the whole stream. */
#define AUDIT_READ_MAX 5000

void ims_route_admin_audit(struct ims_req *r)
{
	const char *fmt = ims_req_query(r, "format"), *cur = ims_req_query(r, "cursor");
	const char *type = ims_req_query(r, "type"), *actor = ims_req_query(r, "actor");
	int limit = ims_req_limit(r), csv = fmt && strcmp(fmt, "csv") == 0;
	char start[72]; /* "(" and a stream id */
	redisReply *rep = NULL;
	json_t *items = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = NULL;

	if (limit < 0)
		return;
	if (fmt && !csv && strcmp(fmt, "json") != 0) {
		ims_req_error(r, 400, "format must be json or csv");
		return;
	}
	if (type && strcmp(type, "admin") != 0 && strcmp(type, "scan") != 0 &&
	    strcmp(type, "click") != 0) {
		ims_req_error(r, 400, "type must be admin, scan or click");
		return;
	}
	if (actor && (!actor[0] || strlen(actor) > IMS_USERS_ADDR_MAX)) {
		ims_req_error(r, 400, "bad value for actor");
		return;
	}
	if (cur) {
		/* a stream id, exclusive: "(1700000000000-0" */
		unsigned long long a, b;
		char extra;

		if (strlen(cur) > 40 || sscanf(cur, "%llu-%llu%c", &a, &b, &extra) != 2) {
			ims_req_error(r, 400, "malformed cursor");
			return;
		}
		snprintf(start, sizeof start, "(%s", cur);
	} else {
		snprintf(start, sizeof start, "+");
	}
	items = json_array();
	if (csv) {
		f = open_memstream(&buf, &len);
		if (!f)
			goto out;
		fputs("stream_id", f);
		for (size_t k = 0; k < sizeof csv_cols / sizeof csv_cols[0]; k++)
			fprintf(f, ",%s", csv_cols[k]);
		fputs("\r\n", f);
	}
	{
		/* Batches newest first until the page is full, the stream ends
		 * or AUDIT_READ_MAX events were read; the cursor is the last
		 * event read (exclusive), so the next page goes on from there. */
		int batch = !type && !actor               ? limit + 1
		            : limit * 20 < 500            ? 500
		            : limit * 20 > AUDIT_READ_MAX ? AUDIT_READ_MAX
		                                          : limit * 20;
		size_t kept = 0, read = 0;
		char last[64] = "";
		int more = 0, done = 0;

		while (!done) {
			rep = ims_req_cmd(r, "XREVRANGE " IMS_KEY_EVENTS " %s - COUNT %d", start,
			                  batch);
			if (!rep)
				goto out;
			for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements;
			     i++) {
				redisReply *e = rep->element[i], *kv;
				const char *t;
				json_t *o;

				if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
				    e->element[0]->type != REDIS_REPLY_STRING)
					continue;
				kv = e->element[1];
				if (kept == (size_t)limit) {
					more = done = 1;
					break;
				}
				snprintf(last, sizeof last, "%s", e->element[0]->str);
				read++;
				o = json_pack("{s:s}", "stream_id", e->element[0]->str);
				for (size_t k = 0; k + 1 < kv->elements; k += 2)
					json_object_set_new(o, kv->element[k]->str,
					                    field(kv->element[k + 1]));
				t = json_string_value(json_object_get(o, "type"));
				if ((type && (!t || strcmp(t, type) != 0)) ||
				    (actor &&
				     !addr_eq(json_string_value(json_object_get(o, "actor")),
				              actor))) {
					json_decref(o);
					continue;
				}
				kept++;
				if (csv) {
					csv_cell(f, e->element[0]->str);
					for (size_t k = 0; k < sizeof csv_cols / sizeof csv_cols[0];
					     k++) {
						fputc(',', f);
						csv_cell(f, json_string_value(
						                json_object_get(o, csv_cols[k])));
					}
					fputs("\r\n", f);
					json_decref(o);
				} else {
					json_array_append_new(items, o);
				}
			}
			if (!done && (rep->type != REDIS_REPLY_ARRAY ||
			              rep->elements < (size_t)batch || !last[0]))
				done = 1; /* the end of the stream */
			else if (!done && read >= AUDIT_READ_MAX)
				more = done = 1;
			snprintf(start, sizeof start, "(%s", last);
			freeReplyObject(rep);
			rep = NULL;
		}
		if (csv) {
			fclose(f);
			f = NULL;
			if (ims_req_audit(r, "audit.export", "csv", NULL) != IMS_OK)
				goto out;
			r->disposition = "attachment; filename=\"ims-audit.csv\"";
			ims_req_take(r, 200, "text/csv; charset=utf-8", buf, len);
			buf = NULL;
		} else {
			ims_req_json(r, 200,
			             json_pack("{s:O, s:s?}", "items", items, "next_cursor",
			                       more && last[0] ? last : NULL));
		}
	}
out:
	if (f)
		fclose(f);
	free(buf);
	json_decref(items);
	freeReplyObject(rep);
	if (!r->responded)
		ims_req_error(r, 500, "out of memory");
}

struct user_list {
	json_t *items;
	char last[IMS_USERS_ADDR_MAX + 1];
};

static int add_user(const struct ims_user_info *info, void *arg)
{
	struct user_list *l = arg;

	json_array_append_new(l->items,
	                      json_pack("{s:s, s:s, s:I, s:b}", "address", info->address, "role",
	                                ims_role_name(info->role), "created",
	                                (json_int_t)info->created_ms, "disabled", info->disabled));
	snprintf(l->last, sizeof l->last, "%s", info->address);
	return 0;
}

void ims_route_admin_users(struct ims_req *r)
{
	struct ims_users *u = NULL;
	struct user_list l = {json_array(), ""};
	int limit = ims_req_limit(r);
	bool more = false;
	redisContext *c;

	if (limit < 0 || !(c = ims_req_redis(r)))
		goto out;
	if (ims_users_new(c, r->app->conf, &u) != IMS_OK)
		goto out;
	switch (ims_users_list(u, ims_req_query(r, "cursor"), (size_t)limit, add_user, &l, &more)) {
	case IMS_OK: break;
	case IMS_EINVAL: ims_req_error(r, 400, "stale cursor: that account is gone"); goto out;
	default: ims_req_redis_failed(r); goto out;
	}
	ims_req_json(r, 200,
	             json_pack("{s:O, s:s?}", "items", l.items, "next_cursor",
	                       more && l.last[0] ? l.last : NULL));
out:
	ims_users_free(u);
	json_decref(l.items);
}

void ims_route_admin_user_create(struct ims_req *r)
{
	struct ims_users *u = NULL;
	json_t *j = ims_req_body_json(r);
	const char *addr, *pw, *role;
	char canon[IMS_USERS_ADDR_MAX + 1];
	int rl;
	redisContext *c;
	ims_status st;

	if (!j)
		return;
	addr = json_string_value(json_object_get(j, "address"));
	pw = json_string_value(json_object_get(j, "password"));
	role = json_string_value(json_object_get(j, "role"));
	rl = role ? ims_role_parse(role) : IMS_ROLE_USER;
	if (!addr || !pw || rl < 0) {
		ims_req_error(r, 400, "address, password and role (user or admin) are required");
		goto out;
	}
	st = ims_users_canon_address(addr, r->app->conf->milter_local_domains, canon);
	if (st != IMS_OK) {
		ims_req_error(r, 400,
		              st == IMS_EPERM ? "the domain is not a local domain"
		                              : "not a valid address");
		goto out;
	}
	if (!(c = ims_req_redis(r)) || ims_users_new(c, r->app->conf, &u) != IMS_OK)
		goto out;
	st = ims_users_create(u, canon, pw, (enum ims_role)rl);
	if (st == IMS_EEXIST) {
		ims_req_error(r, 409, "this address is taken");
	} else if (st == IMS_EINVAL) {
		ims_req_error(r, 400, "the password must be %d to %d bytes", IMS_USERS_PASSWORD_MIN,
		              IMS_USERS_PASSWORD_MAX);
	} else if (st != IMS_OK) {
		ims_req_redis_failed(r);
	} else if (ims_req_audit(r, "user.create", canon, "role", ims_role_name(rl), NULL) ==
	           IMS_OK) {
		ims_req_json(r, 201,
		             json_pack("{s:s, s:s}", "address", canon, "role", ims_role_name(rl)));
	}
out:
	ims_users_free(u);
	json_decref(j);
}
