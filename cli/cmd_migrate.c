/* ims migrate [--dry-run]: brings a Redis store written by an ims that
 * kept delivered mail in Redis up to the layout of docs/redis-schema.md,
 * where Dovecot is the mailbox of record:
 *
 *   - deletes the mailbox copies of delivered mail (ims:{ADDR}:msg:ID and
 *     ims:{ADDR}:scan:ID of messages not held in quarantine) and the old
 *     folder indexes ims:{ADDR}:inbox and ims:{ADDR}:sent (Postfix delivered
 *     each of those messages to Dovecot too, so nothing is lost);
 *   - writes ims:{global}:brief:ID for every stored scan log that has none,
 *     with the scan log's remaining lifetime, so old messages show their
 *     verdict in mailbox lists.
 *
 * Idempotent: a second run finds nothing to do.  Prints one JSON object
 * with the counts. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ims.h"
#include "rconn.h"
#include "rkeys.h"

#define SCAN_COUNT "1000"

struct counts {
	long copies, indexes, briefs, scanned;
};

static void help(void)
{
	printf("usage: ims migrate [--dry-run]\n"
	       "Removes the Redis copies of delivered mail an older ims kept (Dovecot has\n"
	       "them) and writes the brief of every stored scan log (docs/redis-schema.md).\n"
	       "  --dry-run  count what would change, change nothing\n");
}

static redisReply *cmd(redisContext *rc, int argc, const char **argv)
{
	size_t lens[8];

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return ims_rconn_cmd(rc, argc, argv, lens);
}

/* Calls fn(rc, key, arg) for every key matching pattern (SCAN).  -1 when
 * Redis failed. */
static int each_key(redisContext *rc, const char *pattern,
                    int (*fn)(redisContext *, const char *, void *), void *arg)
{
	char cursor[32] = "0";

	do {
		const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT};
		redisReply *r = cmd(rc, 6, argv);

		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			if (r)
				freeReplyObject(r);
			return -1;
		}
		snprintf(cursor, sizeof cursor, "%s",
		         r->element[0]->str ? r->element[0]->str : "0");
		for (size_t i = 0; i < r->element[1]->elements; i++)
			if (fn(rc, r->element[1]->element[i]->str, arg) != 0) {
				freeReplyObject(r);
				return -1;
			}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

struct ctx {
	struct counts *n;
	int dry;
};

/* ims:{ADDR}:msg:ID of a delivered message: delete it and its scan copy. */
static int old_copy(redisContext *rc, const char *key, void *arg)
{
	struct ctx *x = arg;
	const char *hget[] = {"HGET", key, "folder"};
	redisReply *r = cmd(rc, 3, hget);
	char scan[1024];
	const char *mark = strstr(key, "}:msg:");
	int held;

	if (!r)
		return -1;
	held = r->type == REDIS_REPLY_STRING && strcmp(r->str, "quarantine") == 0;
	freeReplyObject(r);
	if (held || !mark || strlen(key) >= sizeof scan)
		return 0;
	x->n->copies++;
	if (x->dry)
		return 0;
	snprintf(scan, sizeof scan, "%.*s}:scan:%s", (int)(mark - key), key, mark + 6);
	{
		const char *del[] = {"DEL", key, scan};

		r = cmd(rc, 3, del);
	}
	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* ims:{ADDR}:inbox and :sent: the old folder indexes. */
static int old_index(redisContext *rc, const char *key, void *arg)
{
	struct ctx *x = arg;
	const char *del[] = {"DEL", key};
	redisReply *r;

	x->n->indexes++;
	if (x->dry)
		return 0;
	if (!(r = cmd(rc, 2, del)))
		return -1;
	freeReplyObject(r);
	return 0;
}

/* ims:{global}:scan:ID without a brief: write one. */
static int brief_of(redisContext *rc, const char *key, void *arg)
{
	struct ctx *x = arg;
	const char *id = key + strlen(IMS_KEY_SCAN_PREFIX);
	char bkey[256], ttl[32];
	redisReply *r;
	json_t *scan, *b = NULL;
	char *text = NULL;
	int rc_ = 0;

	x->n->scanned++;
	if (strlen(id) > 64)
		return 0;
	snprintf(bkey, sizeof bkey, IMS_KEY_BRIEF_PREFIX "%s", id);
	{
		const char *ex[] = {"EXISTS", bkey};

		if (!(r = cmd(rc, 2, ex)))
			return -1;
	}
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
		freeReplyObject(r);
		return 0;
	}
	freeReplyObject(r);
	{
		const char *get[] = {"GET", key};

		if (!(r = cmd(rc, 2, get)))
			return -1;
	}
	scan = r->type == REDIS_REPLY_STRING ? json_loadb(r->str, r->len, 0, NULL) : NULL;
	freeReplyObject(r);
	if (scan)
		b = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "verdict",
		              json_object_get(scan, "verdict"), "action",
		              json_object_get(scan, "action"), "score",
		              json_object_get(scan, "score"), "rcpt", json_object_get(scan, "rcpt"),
		              "auth", json_object_get(json_object_get(scan, "client"), "auth"));
	json_decref(scan);
	if (!b || !(text = json_dumps(b, JSON_COMPACT)))
		goto out; /* not a scan log we can read: leave it */
	x->n->briefs++;
	if (x->dry)
		goto out;
	{
		const char *pttl[] = {"PTTL", key};

		if (!(r = cmd(rc, 2, pttl))) {
			rc_ = -1;
			goto out;
		}
		snprintf(ttl, sizeof ttl, "%lld", r->type == REDIS_REPLY_INTEGER ? r->integer : -1);
		freeReplyObject(r);
	}
	{
		const char *set[] = {"SET", bkey, text, "PX", ttl};
		int argc = ttl[0] == '-' ? 3 : 5; /* no TTL on the log: none on the brief */

		if (!(r = cmd(rc, argc, set))) {
			rc_ = -1;
			goto out;
		}
		freeReplyObject(r);
	}
out:
	free(text);
	json_decref(b);
	return rc_;
}

int ims_cmd_migrate(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct ims_conf *conf;
	struct counts n = {0};
	struct ctx x = {&n, 0};
	redisContext *rc = NULL;
	char err[256];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': x.dry = 1; break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("migrate", "bad option");
		}
	}
	if (optind != argc)
		return ims_cli_usage_error("migrate", "no arguments expected");
	if (!(conf = ims_cli_conf(cli)))
		return IMS_EXIT_ERROR;
	if (ims_rconn_open(conf, &rc, err, sizeof err) != IMS_OK)
		return ims_cli_error("%s", err);
	if (each_key(rc, IMS_KEY_OLD_MSG_PATTERN, old_copy, &x) != 0 ||
	    each_key(rc, IMS_KEY_OLD_INBOX_PATTERN, old_index, &x) != 0 ||
	    each_key(rc, IMS_KEY_OLD_SENT_PATTERN, old_index, &x) != 0 ||
	    each_key(rc, IMS_KEY_SCAN_PATTERN, brief_of, &x) != 0) {
		redisFree(rc);
		return ims_cli_error("redis failed part way (run it again: it is idempotent)");
	}
	redisFree(rc);
	printf("{\"dry_run\":%s,\"mailbox_copies_deleted\":%ld,\"folder_indexes_deleted\":%ld,"
	       "\"scan_logs\":%ld,\"briefs_written\":%ld}\n",
	       x.dry ? "true" : "false", n.copies, n.indexes, n.scanned, n.briefs);
	return IMS_EXIT_OK;
}
