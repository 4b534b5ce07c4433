#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "migrate.h"
#include "rkeys.h"
#include "store.h"

#define SCAN_COUNT "1000"

struct ctx {
	struct ims_store *st;
	struct ims_migrate_counts *n;
	bool dry;
};

static ims_status cmd(struct ctx *x, redisReply **r, int argc, const char **argv)
{
	char err[256];

	return ims_store_cmdv(x->st, r, argc, argv, NULL, err, sizeof err);
}

/* Calls fn(x, key) for every key matching pattern on every master (SCAN). */
static ims_status each_key(struct ctx *x, const char *pattern,
                           ims_status (*fn)(struct ctx *, const char *))
{
	size_t masters = ims_store_masters(x->st);

	if (masters == 0)
		return IMS_ETEMP;
	for (size_t m = 0; m < masters; m++) {
		char cursor[32] = "0";

		do {
			const char *argv[] = {"SCAN",  cursor,  "MATCH",
			                      pattern, "COUNT", SCAN_COUNT};
			redisReply *r = NULL;
			char err[256];
			ims_status st =
			    ims_store_cmdv_at(x->st, m, &r, 6, argv, NULL, err, sizeof err);

			if (st != IMS_OK)
				return st;
			if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
			    r->element[1]->type != REDIS_REPLY_ARRAY) {
				ims_store_reply_free(r);
				return IMS_ETEMP;
			}
			snprintf(cursor, sizeof cursor, "%s",
			         r->element[0]->str ? r->element[0]->str : "0");
			for (size_t i = 0; i < r->element[1]->elements; i++)
				if ((st = fn(x, r->element[1]->element[i]->str)) != IMS_OK) {
					ims_store_reply_free(r);
					return st;
				}
			ims_store_reply_free(r);
		} while (strcmp(cursor, "0") != 0);
	}
	return IMS_OK;
}

/* ims:{ADDR}:msg:ID of a delivered message: delete it and its scan copy
 * (both in ADDR's slot: one DEL). */
static ims_status old_copy(struct ctx *x, const char *key)
{
	const char *hget[] = {"HGET", key, "folder"};
	const char *open = strchr(key, '{');
	const char *mark = strstr(key, IMS_KEY_OLD_MSG_MARK);
	char addr[IMS_KEY_MAX], scan[IMS_KEY_MAX];
	redisReply *r = NULL;
	ims_status st;
	int held;

	if (!open || !mark || mark < open || (size_t)(mark - open) >= sizeof addr)
		return IMS_OK;
	if ((st = cmd(x, &r, 3, hget)) != IMS_OK)
		return st;
	held = r->type == REDIS_REPLY_STRING && strcmp(r->str, "quarantine") == 0;
	ims_store_reply_free(r);
	r = NULL;
	snprintf(addr, sizeof addr, "%.*s", (int)(mark - open - 1), open + 1);
	if (held || ims_key(scan, sizeof scan, IMS_KEY_OLD_SCAN_FMT, addr,
	                    mark + strlen(IMS_KEY_OLD_MSG_MARK)) != IMS_OK)
		return IMS_OK;
	x->n->copies++;
	if (x->dry)
		return IMS_OK;
	{
		const char *del[] = {"DEL", key, scan};

		st = cmd(x, &r, 3, del);
	}
	ims_store_reply_free(r);
	return st;
}

/* ims:{ADDR}:inbox and :sent: the old folder indexes. */
static ims_status old_index(struct ctx *x, const char *key)
{
	const char *del[] = {"DEL", key};
	redisReply *r = NULL;
	ims_status st;

	x->n->indexes++;
	if (x->dry)
		return IMS_OK;
	st = cmd(x, &r, 2, del);
	ims_store_reply_free(r);
	return st;
}

/* ims:{global}:scan:ID without a brief: write one. */
static ims_status brief_of(struct ctx *x, const char *key)
{
	const char *id = key + strlen(IMS_KEY_SCAN_PREFIX);
	char bkey[IMS_KEY_MAX], ttl[32];
	redisReply *r = NULL;
	json_t *scan, *b = NULL;
	char *text = NULL;
	ims_status st;

	x->n->scanned++;
	if (strncmp(key, IMS_KEY_SCAN_PREFIX, strlen(IMS_KEY_SCAN_PREFIX)) != 0 ||
	    strlen(id) > 64 || ims_key(bkey, sizeof bkey, IMS_KEY_BRIEF_PREFIX "%s", id) != IMS_OK)
		return IMS_OK;
	{
		const char *ex[] = {"EXISTS", bkey};

		if ((st = cmd(x, &r, 2, ex)) != IMS_OK)
			return st;
	}
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
		ims_store_reply_free(r);
		return IMS_OK;
	}
	ims_store_reply_free(r);
	{
		const char *get[] = {"GET", key};

		if ((st = cmd(x, &r, 2, get)) != IMS_OK)
			return st;
	}
	scan = r->type == REDIS_REPLY_STRING ? json_loadb(r->str, r->len, 0, NULL) : NULL;
	ims_store_reply_free(r);
	r = NULL;
	if (scan)
		b = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "verdict",
		              json_object_get(scan, "verdict"), "action",
		              json_object_get(scan, "action"), "score",
		              json_object_get(scan, "score"), "rcpt", json_object_get(scan, "rcpt"),
		              "auth", json_object_get(json_object_get(scan, "client"), "auth"));
	json_decref(scan);
	st = IMS_OK;
	if (!b || !(text = json_dumps(b, JSON_COMPACT)))
		goto out; /* not a scan log we can read: leave it */
	x->n->briefs++;
	if (x->dry)
		goto out;
	{
		const char *pttl[] = {"PTTL", key};

		if ((st = cmd(x, &r, 2, pttl)) != IMS_OK)
			goto out;
		snprintf(ttl, sizeof ttl, "%lld", r->type == REDIS_REPLY_INTEGER ? r->integer : -1);
		ims_store_reply_free(r);
		r = NULL;
	}
	{
		const char *set[] = {"SET", bkey, text, "PX", ttl};
		int argc = ttl[0] == '-' ? 3 : 5; /* no TTL on the log: none on the brief */

		st = cmd(x, &r, argc, set);
		ims_store_reply_free(r);
	}
out:
	free(text);
	json_decref(b);
	return st;
}

ims_status ims_migrate_run(struct ims_store *st, bool dry_run, struct ims_migrate_counts *n)
{
	struct ctx x = {st, n, dry_run};
	ims_status rc;

	if ((rc = each_key(&x, IMS_KEY_OLD_MSG_PATTERN, old_copy)) != IMS_OK ||
	    (rc = each_key(&x, IMS_KEY_OLD_INBOX_PATTERN, old_index)) != IMS_OK ||
	    (rc = each_key(&x, IMS_KEY_OLD_SENT_PATTERN, old_index)) != IMS_OK ||
	    (rc = each_key(&x, IMS_KEY_SCAN_PATTERN, brief_of)) != IMS_OK)
		return rc;
	return IMS_OK;
}
