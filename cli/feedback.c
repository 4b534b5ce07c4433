/* Users' spam/ham reports as training data for `ims train --feedback`.
 *
 * POST /emails/{id}/report appends {user, id, label, time, raw} to the
 * stream ims:{global}:feedback (docs/redis-schema.md).  This reads the
 * stream oldest first in pages, keeps the newest label per (user, id) so
 * a user who changes their mind is heard once, and featurises each message
 * into the training set. */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "featurize.h"
#include "feedback.h"
#include "message.h"
#include "rconn.h"

#define FEEDBACK_PAGE_N 500
#define FEEDBACK_STR2(x) #x
#define FEEDBACK_STR(x) FEEDBACK_STR2(x)
#define FEEDBACK_PAGE FEEDBACK_STR(FEEDBACK_PAGE_N) /* the same, as a command argument */

struct report {
	char *key; /* "user\nid" */
	int label; /* 1 spam, -1 ham */
	char *raw;
	size_t len;
};

static const redisReply *field(const redisReply *kv, const char *name)
{
	for (size_t i = 0; kv && kv->type == REDIS_REPLY_ARRAY && i + 1 < kv->elements; i += 2)
		if (kv->element[i]->type == REDIS_REPLY_STRING && strcmp(kv->element[i]->str, name) == 0)
			return kv->element[i + 1]->type == REDIS_REPLY_STRING ? kv->element[i + 1] : NULL;
	return NULL;
}

static void report_free(gpointer p)
{
	struct report *r = p;

	free(r->key);
	free(r->raw);
	free(r);
}

/* Reads every entry; newer reports of the same message replace older ones. */
static ims_status read_stream(redisContext *rc, GHashTable *latest, size_t *entries, char *err,
			      size_t errlen)
{
	char start[64] = "-";

	for (;;) {
		const char *argv[] = { "XRANGE", "ims:{global}:feedback", start, "+", "COUNT",
				       FEEDBACK_PAGE };
		redisReply *r = ims_rconn_cmd(rc, 6, argv, NULL);
		size_t n;

		if (!r || r->type != REDIS_REPLY_ARRAY) {
			snprintf(err, errlen, "reading ims:{global}:feedback: %s",
				 r && r->type == REDIS_REPLY_ERROR ? r->str : "connection failed");
			if (r)
				freeReplyObject(r);
			return IMS_ETEMP;
		}
		n = r->elements;
		for (size_t i = 0; i < n; i++) {
			const redisReply *e = r->element[i];
			const redisReply *user, *id, *label, *raw;
			struct report *rep;

			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[0]->type != REDIS_REPLY_STRING)
				continue;
			/* the next page starts after this id: XRANGE's "(" exclusive form */
			snprintf(start, sizeof start, "(%s", e->element[0]->str);
			user = field(e->element[1], "user");
			id = field(e->element[1], "id");
			label = field(e->element[1], "label");
			raw = field(e->element[1], "raw");
			(*entries)++;
			if (!user || !id || !label || !raw ||
			    (strcmp(label->str, "spam") != 0 && strcmp(label->str, "ham") != 0))
				continue; /* not ours to judge: skip a malformed entry */
			size_t klen = strlen(user->str) + strlen(id->str) + 2;
			if (!(rep = calloc(1, sizeof *rep)) || !(rep->key = malloc(klen)) ||
			    !(rep->raw = malloc(raw->len + 1))) {
				if (rep)
					free(rep->key);
				free(rep);
				freeReplyObject(r);
				snprintf(err, errlen, "out of memory");
				return IMS_ENOMEM;
			}
			snprintf(rep->key, klen, "%s\n%s", user->str, id->str);
			memcpy(rep->raw, raw->str, raw->len);
			rep->raw[raw->len] = '\0';
			rep->len = raw->len;
			rep->label = strcmp(label->str, "spam") == 0 ? 1 : -1;
			g_hash_table_replace(latest, rep->key, rep);
		}
		freeReplyObject(r);
		if (n < FEEDBACK_PAGE_N)
			return IMS_OK;
	}
}

ims_status ims_feedback_load(const struct ims_conf *conf, unsigned hash_bits,
			     struct ims_dataset *ds, struct ims_feedback_counts *counts, char *err,
			     size_t errlen)
{
	struct ims_feature_opts fo = { hash_bits };
	redisContext *rc = NULL;
	GHashTable *latest = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, report_free);
	GHashTableIter it;
	gpointer k, v;
	ims_status st;

	memset(counts, 0, sizeof *counts);
	if ((st = ims_rconn_open(conf, &rc, err, errlen)) != IMS_OK)
		goto out;
	if ((st = read_stream(rc, latest, &counts->entries, err, errlen)) != IMS_OK)
		goto out;
	g_hash_table_iter_init(&it, latest);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct report *rep = v;
		struct ims_parsed *p = NULL;
		struct ims_fvec x;

		if ((st = ims_parse_message(rep->raw, rep->len, &p)) == IMS_OK) {
			st = ims_features_extract(p, &fo, &x);
			ims_parsed_free(p);
		}
		if (st == IMS_ELIMIT)
			continue;
		if (st == IMS_OK)
			st = ims_dataset_add(ds, &x, rep->label);
		if (st != IMS_OK) {
			snprintf(err, errlen, "feedback message: %s", ims_strstatus(st));
			goto out;
		}
		if (rep->label > 0)
			counts->spam++;
		else
			counts->ham++;
	}
	st = IMS_OK;
out:
	g_hash_table_destroy(latest);
	if (rc)
		redisFree(rc);
	return st;
}
