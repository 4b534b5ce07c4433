#include "config.h"

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
	if (f->recipient && !has_named(json_object_get(s, "rcpt"), NULL, f->recipient))
		return 0;
	if (f->symbol && !has_named(json_object_get(s, "symbols"), "name", f->symbol))
		return 0;
	return 1;
}

/* MGET of prefix+id for n ids: *rep the array reply (the caller's). */
static ims_status mget(struct ims_store *st, const char *prefix, const char *const *ids, size_t n,
                       redisReply **rep)
{
	struct ims_store_txn *t = ims_store_txn_new();
	redisReply *rs[1] = {NULL};
	char err[256];
	ims_status rc;

	*rep = NULL;
	if (!t)
		return IMS_ENOMEM;
	ims_store_txn_cmd(t, "MGET");
	for (size_t i = 0; i < n; i++)
		ims_store_txn_fmt(t, "%s%s", prefix, ids[i]);
	rc = ims_store_run(st, t, 0, rs, err, sizeof err);
	ims_store_txn_free(t);
	if (rc != IMS_OK)
		return rc;
	if (rs[0]->type != REDIS_REPLY_ARRAY || rs[0]->elements != n) {
		ims_store_reply_free(rs[0]);
		return IMS_EFORMAT;
	}
	*rep = rs[0];
	return IMS_OK;
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
	FILE *out;

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
	need_parse = f.sender || f.recipient || (f.symbol && (f.action || f.verdict)) ||
	             (f.action && f.verdict);
	if (!need_parse) /* the index says it all */
		f = (struct ims_scan_filter){0};
	if (cursor_in)
		snprintf(cursor, sizeof cursor, "%s", cursor_in);
	batch = limit + 1;
	if (need_parse && batch < 200)
		batch = 200;
	if (!(out = open_memstream(json, len)))
		return IMS_ENOMEM;
	fputs("{\"items\":[", out);
	while (!done && examined < IMS_SCANLOG_EXAMINE_MAX) {
		struct ims_page p;
		redisReply *top = NULL;
		const char **ids;

		if ((rc = ims_page_read(st, key, cursor, from, to, batch, &p)) != IMS_OK) {
			ims_page_free(&p);
			goto out;
		}
		if (!(ids = calloc(p.n ? p.n : 1, sizeof *ids))) {
			ims_page_free(&p);
			rc = IMS_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < p.n; i++)
			ids[i] = p.ids[i];
		/* one MGET rather than one GET each: one reply to parse */
		if (p.n && (rc = mget(st, IMS_KEY_SCAN_PREFIX, ids, p.n, &top)) != IMS_OK) {
			free(ids);
			ims_page_free(&p);
			goto out;
		}
		free(ids);
		for (size_t i = 0; i < p.n && !done; i++) {
			const redisReply *v = top->element[i];
			int match = v->type == REDIS_REPLY_STRING && v->len > 1 && v->str[0] == '{';

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
				fputc(',', out);
			fwrite(v->str, 1, v->len, out);
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
		ims_store_reply_free(top);
		ims_page_free(&p);
	}
	/* cursors are [0-9A-Za-z-_.@+] only: no escaping needed */
	if (next[0])
		fprintf(out, "],\"next_cursor\":\"%s\"", next);
	else
		fputs("],\"next_cursor\":null", out);
	fprintf(out, ",\"examined\":%zu}", examined);
	rc = IMS_OK;
out:
	if (fclose(out) != 0 && rc == IMS_OK)
		rc = IMS_ENOMEM;
	if (rc != IMS_OK) {
		free(*json);
		*json = NULL;
		*len = 0;
	}
	return rc;
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
	redisReply *rep = NULL;
	ims_status rc;

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (n == 0)
		return IMS_OK;
	rc = mget(st, kind == IMS_SCANLOG_BRIEF ? IMS_KEY_BRIEF_PREFIX : IMS_KEY_SCAN_PREFIX, ids,
	          n, &rep);
	if (rc != IMS_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const redisReply *v = rep->element[i];

		if (v->type != REDIS_REPLY_STRING)
			continue;
		if (!(out[i] = malloc(v->len + 1))) {
			for (size_t j = 0; j < i; j++) {
				free(out[j]);
				out[j] = NULL;
			}
			rc = IMS_ENOMEM;
			break;
		}
		memcpy(out[i], v->str, v->len);
		out[i][v->len] = '\0';
	}
	ims_store_reply_free(rep);
	return rc;
}
