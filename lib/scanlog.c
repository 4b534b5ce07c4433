#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "rkeys.h"
#include "scanlog.h"
#include "store.h"
#include "tpage.h"

/* The list's text: grows by doubling (a page is tens of KB). */
struct text {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 16384;
		char *p;

		while (cap < t->len + n + 1)
			cap *= 2;
		if (!(p = realloc(t->p, cap))) {
			t->oom = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static int addr_eq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

static int has_named(json_t *arr, const char *field, const char *want)
{
	size_t i;
	json_t *x;

	json_array_foreach(arr, i, x)
	{
		const char *v =
		    field ? json_string_value(json_object_get(x, field)) : json_string_value(x);

		if (field ? v && strcmp(v, want) == 0 : addr_eq(v, want))
			return 1;
	}
	return 0;
}

static int ip_parse(const char *s, unsigned char out[16], int *family)
{
	*family = s && strchr(s, ':') ? AF_INET6 : AF_INET;
	return s && inet_pton(*family, s, out) == 1;
}

int ims_scan_filter_ip_ok(const char *s)
{
	unsigned char b[16];
	int fam;

	return ip_parse(s, b, &fam);
}

/* The same address in any spelling ("2001:db8::1" and "2001:DB8:0::1"). */
static int ip_eq(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	int fa, fb;

	return ip_parse(a, x, &fa) && ip_parse(b, y, &fb) && fa == fb &&
	       memcmp(x, y, fa == AF_INET6 ? 16 : 4) == 0;
}

static int scan_matches(json_t *s, const struct ims_scan_filter *f)
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
	if (f->recipient && !has_named(json_object_get(s, "rcpt"), NULL, f->recipient))
		return 0;
	if (f->symbol && !has_named(json_object_get(s, "symbols"), "name", f->symbol))
		return 0;
	return 1;
}

/* Keys per MGET: a command of the store has at most IMS_STORE_MAX_ARGS
 * arguments. */
#define MGET_KEYS (IMS_STORE_MAX_ARGS - 1)

/* The values of prefix+id for n ids, in one round trip (MGETs of at most
 * MGET_KEYS keys, pipelined): vals[i] points into the replies (NULL when
 * there is none); *rs and *nrs are the replies to free
 * (ims_store_replies_free, then free). */
static ims_status mget(struct ims_store *st, const char *prefix, const char *const *ids, size_t n,
                       const redisReply **vals, redisReply ***rs_out, size_t *nrs)
{
	size_t ncmd = (n + MGET_KEYS - 1) / MGET_KEYS;
	struct ims_store_txn *t = ims_store_txn_new();
	redisReply **rs = calloc(ncmd ? ncmd : 1, sizeof *rs);
	char err[256], *keys = NULL;
	ims_status rc = IMS_ENOMEM;

	*rs_out = NULL;
	*nrs = 0;
	if (!t || !rs)
		goto out;
	/* the keys in one buffer the commands borrow (no copy per key) */
	{
		size_t pl = strlen(prefix), total = 0, o = 0;

		for (size_t i = 0; i < n; i++)
			total += pl + strlen(ids[i]);
		if (!(keys = malloc(total ? total : 1)))
			goto out;
		for (size_t i = 0; i < n; i++) {
			size_t il = strlen(ids[i]);

			if (i % MGET_KEYS == 0)
				ims_store_txn_cmd(t, "MGET");
			memcpy(keys + o, prefix, pl);
			memcpy(keys + o + pl, ids[i], il);
			ims_store_txn_ref(t, keys + o, pl + il);
			o += pl + il;
		}
	}
	if ((rc = ims_store_run(st, t, 0, rs, err, sizeof err)) != IMS_OK)
		goto out;
	for (size_t c = 0; c < ncmd; c++) {
		size_t want = c + 1 < ncmd ? MGET_KEYS : n - c * MGET_KEYS;

		if (rs[c]->type != REDIS_REPLY_ARRAY || rs[c]->elements != want) {
			ims_store_replies_free(rs, ncmd);
			rc = IMS_EFORMAT;
			goto out;
		}
		for (size_t k = 0; k < want; k++) {
			const redisReply *v = rs[c]->element[k];

			vals[c * MGET_KEYS + k] = v->type == REDIS_REPLY_STRING ? v : NULL;
		}
	}
	*rs_out = rs;
	*nrs = ncmd;
	rs = NULL;
out:
	free(rs);
	ims_store_txn_free(t);
	free(keys);
	return rc;
}

ims_status ims_scanlog_list(struct ims_store *st, const struct ims_scan_filter *filter,
                            const char *cursor_in, long long from, long long to, size_t limit,
                            char **json, size_t *len)
{
	struct ims_scan_filter f = *filter;
	char key[IMS_KEY_MAX], cursor[IMS_CURSOR_MAX] = "", next[IMS_CURSOR_MAX] = "";
	size_t examined = 0, batch, kept = 0;
	int need_parse, done = 0;
	ims_status rc = IMS_ENOMEM;
	struct text out = {0};
	char num[48];

	*json = NULL;
	*len = 0;
	/* walk the most selective index; check the other filters on the log */
	if (f.symbol)
		rc = ims_key(key, sizeof key, IMS_KEY_IDX_SYMBOL_PREFIX "%s", f.symbol);
	else if (f.action)
		rc = ims_key(key, sizeof key, IMS_KEY_IDX_ACTION_PREFIX "%s", f.action);
	else if (f.verdict)
		rc = ims_key(key, sizeof key, IMS_KEY_IDX_VERDICT_PREFIX "%s", f.verdict);
	else
		rc = ims_key(key, sizeof key, "%s", IMS_KEY_SCANS);
	if (rc != IMS_OK)
		return rc;
	need_parse = f.sender || f.recipient || f.ip || (f.symbol && (f.action || f.verdict)) ||
	             (f.action && f.verdict);
	if (!need_parse) /* the index says it all */
		f = (struct ims_scan_filter){0};
	if (cursor_in)
		snprintf(cursor, sizeof cursor, "%s", cursor_in);
	batch = limit + 1;
	if (need_parse && batch < 200)
		batch = 200;
	puts_(&out, "{\"items\":[");
	while (!done && examined < IMS_SCANLOG_EXAMINE_MAX) {
		struct ims_page p;
		redisReply **rs = NULL;
		const redisReply **vals;
		size_t nrs = 0;
		const char **ids;

		if ((rc = ims_page_read(st, key, cursor, from, to, batch, &p)) != IMS_OK) {
			ims_page_free(&p);
			goto out;
		}
		ids = calloc(p.n ? p.n : 1, sizeof *ids);
		vals = calloc(p.n ? p.n : 1, sizeof *vals);
		if (!ids || !vals) {
			free(ids);
			free(vals);
			ims_page_free(&p);
			rc = IMS_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < p.n; i++)
			ids[i] = p.ids[i];
		/* MGETs rather than one GET each: few replies to parse */
		if (p.n &&
		    (rc = mget(st, IMS_KEY_SCAN_PREFIX, ids, p.n, vals, &rs, &nrs)) != IMS_OK) {
			free(ids);
			free(vals);
			ims_page_free(&p);
			goto out;
		}
		free(ids);
		for (size_t i = 0; i < p.n && !done; i++) {
			const redisReply *v = vals[i];
			int match = v && v->len > 1 && v->str[0] == '{';

			examined++;
			ims_page_cursor(&p, i, cursor);
			if (match && need_parse) {
				json_t *s = json_loadb(v->str, v->len, 0, NULL);

				match = s && scan_matches(s, &f);
				json_decref(s);
			}
			if (!match)
				continue;
			if (kept++)
				put(&out, ",", 1);
			put(&out, v->str, v->len);
			if (kept == limit) {
				done = 1;
				/* more only if anything follows this one */
				if (i + 1 < p.n || p.more)
					snprintf(next, sizeof next, "%s", cursor);
			}
		}
		if (!done && !p.more)
			done = 2; /* the index is exhausted */
		else if (!done && examined >= IMS_SCANLOG_EXAMINE_MAX)
			snprintf(next, sizeof next, "%s", cursor); /* resume from here */
		if (rs)
			ims_store_replies_free(rs, nrs);
		free(rs);
		free(vals);
		ims_page_free(&p);
	}
	/* cursors are [0-9A-Za-z-_.@+] only: no escaping needed */
	if (next[0]) {
		puts_(&out, "],\"next_cursor\":\"");
		puts_(&out, next);
		puts_(&out, "\"");
	} else {
		puts_(&out, "],\"next_cursor\":null");
	}
	snprintf(num, sizeof num, ",\"examined\":%zu}", examined);
	puts_(&out, num);
	rc = IMS_OK;
out:
	if (out.oom && rc == IMS_OK)
		rc = IMS_ENOMEM;
	if (rc != IMS_OK) {
		free(out.p);
		return rc;
	}
	*json = out.p;
	*len = out.len;
	return IMS_OK;
}

static ims_status get_key(struct ims_store *st, const char *key, char **json, size_t *len)
{
	const char *argv[] = {"GET", key};
	redisReply *rep = NULL;
	char err[256];
	ims_status rc;

	*json = NULL;
	*len = 0;
	if ((rc = ims_store_cmdv(st, &rep, 2, argv, NULL, err, sizeof err)) != IMS_OK)
		return rc;
	if (rep->type != REDIS_REPLY_STRING) {
		rc = IMS_ENOTFOUND;
	} else if (!(*json = malloc(rep->len + 1))) {
		rc = IMS_ENOMEM;
	} else {
		memcpy(*json, rep->str, rep->len);
		(*json)[rep->len] = '\0';
		*len = rep->len;
	}
	ims_store_reply_free(rep);
	return rc;
}

ims_status ims_scanlog_get(struct ims_store *st, const char *id, char **json, size_t *len)
{
	char key[IMS_KEY_MAX];

	*json = NULL;
	*len = 0;
	if (ims_key(key, sizeof key, IMS_KEY_SCAN_PREFIX "%s", id) != IMS_OK)
		return IMS_ENOTFOUND;
	return get_key(st, key, json, len);
}

ims_status ims_scanlog_latest(struct ims_store *st, char **json, size_t *len)
{
	const char *argv[] = {"ZREVRANGE", IMS_KEY_SCANS, "0", "0"};
	redisReply *rep = NULL;
	char err[256];
	ims_status rc;

	*json = NULL;
	*len = 0;
	if ((rc = ims_store_cmdv(st, &rep, 4, argv, NULL, err, sizeof err)) != IMS_OK)
		return rc;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
	    rep->element[0]->type == REDIS_REPLY_STRING)
		rc = ims_scanlog_get(st, rep->element[0]->str, json, len);
	else
		rc = IMS_ENOTFOUND;
	ims_store_reply_free(rep);
	return rc;
}

ims_status ims_scanlog_get_many(struct ims_store *st, enum ims_scanlog_kind kind,
                                const char *const *ids, size_t n, char **out)
{
	const redisReply **vals;
	redisReply **rs = NULL;
	size_t nrs = 0;
	ims_status rc;

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (n == 0)
		return IMS_OK;
	if (!(vals = calloc(n, sizeof *vals)))
		return IMS_ENOMEM;
	rc = mget(st, kind == IMS_SCANLOG_BRIEF ? IMS_KEY_BRIEF_PREFIX : IMS_KEY_SCAN_PREFIX, ids,
	          n, vals, &rs, &nrs);
	for (size_t i = 0; rc == IMS_OK && i < n; i++) {
		if (!vals[i])
			continue;
		if (!(out[i] = malloc(vals[i]->len + 1))) {
			for (size_t j = 0; j < i; j++) {
				free(out[j]);
				out[j] = NULL;
			}
			rc = IMS_ENOMEM;
			break;
		}
		memcpy(out[i], vals[i]->str, vals[i]->len);
		out[i][vals[i]->len] = '\0';
	}
	if (rs)
		ims_store_replies_free(rs, nrs);
	free(rs);
	free(vals);
	return rc;
}
