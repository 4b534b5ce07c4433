/* A user's own mail: GET /emails/inbox, /emails/sent, GET/DELETE
 * /emails/{id}, GET /emails/{id}/raw, POST /emails/{id}/report.  Every
 * key is built from the caller's own address, so another user's message
 * id simply is not there (404). */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "log.h"
#include "replyarena.h"
#include "mailview.h"
#include "page.h"
#include "routes.h"
#include "ulid.h"

#define FEEDBACK_MAXLEN "100000"

static const char *const list_fields[] = { "from",  "to",    "subject", "date",
					   "received", "verdict", "action", "score",
					   "seen", "size", "folder" };
#define NLIST (sizeof list_fields / sizeof list_fields[0])

static json_t *num_or_null(const redisReply *v, int integer)
{
	if (v->type != REDIS_REPLY_STRING)
		return json_null();
	if (integer)
		return json_integer((json_int_t)strtoll(v->str, NULL, 10));
	return json_real(strtod(v->str, NULL));
}

static json_t *str_or_null(const redisReply *v)
{
	json_t *j = v->type == REDIS_REPLY_STRING ? json_stringn(v->str, v->len) : NULL;

	return j ? j : json_null();
}

/* Writes one list item from an HMGET of list_fields. */
static void list_item(FILE *f, const char *id, const redisReply *h)
{
	fputs("{\"id\":", f);
	ims_jsonw_str(f, id, strlen(id));
	for (size_t k = 0; k < NLIST; k++) {
		const char *name = list_fields[k];
		const redisReply *v = h->element[k];
		int str = v->type == REDIS_REPLY_STRING;

		fputc(',', f);
		ims_jsonw_key(f, name);
		if (strcmp(name, "seen") == 0) {
			fputs(str && strcmp(v->str, "1") == 0 ? "true" : "false", f);
		} else if (strcmp(name, "score") == 0 || strcmp(name, "received") == 0 ||
			   strcmp(name, "size") == 0) {
			char *end = NULL;
			double d = str ? strtod(v->str, &end) : 0;

			if (str && end != v->str && *end == '\0' && isfinite(d))
				fprintf(f, strcmp(name, "score") == 0 ? "%.15g" : "%.0f", d);
			else
				fputs("null", f);
		} else if (str) {
			ims_jsonw_str(f, v->str, v->len);
		} else {
			fputs("null", f);
		}
	}
	fputc('}', f);
}

/* The list is written as JSON text directly (jsonw.h): this is the route
 * every client polls. */
static void folder(struct ims_req *r, const char *name)
{
	char key[IMS_USERS_ADDR_MAX + 32], cur[IMS_CURSOR_MAX];
	const char *argv[2 + NLIST];
	struct ims_page p;
	redisReply **rs = NULL;
	int limit = ims_req_limit(r);
	size_t kept = 0, len = 0;
	char *buf = NULL;
	FILE *f = NULL;
	int arena = 0;
	redisContext *c;

	if (limit < 0)
		return;
	snprintf(key, sizeof key, "ims:{%s}:%s", r->who.sub, name);
	if (ims_page_read(r, key, ims_req_query(r, "cursor"), LLONG_MIN, LLONG_MAX,
			  (size_t)limit, &p) != IMS_OK)
		return;
	c = ims_req_redis(r);
	rs = calloc(p.n ? p.n : 1, sizeof *rs);
	if (!c || !rs)
		goto out;
	argv[0] = "HMGET";
	for (size_t k = 0; k < NLIST; k++)
		argv[2 + k] = list_fields[k];
	for (size_t i = 0; i < p.n; i++) {
		char mk[IMS_USERS_ADDR_MAX + 128];

		snprintf(mk, sizeof mk, "ims:{%s}:msg:%s", r->who.sub, p.ids[i]);
		argv[1] = mk;
		redisAppendCommandArgv(c, 2 + NLIST, argv, NULL);
	}
	ims_replyarena_begin(c);
	arena = 1;
	if (ims_req_pipeline(r, rs, p.n) != IMS_OK)
		goto out;
	f = open_memstream(&buf, &len);
	if (!f)
		goto out;
	fputs("{\"items\":[", f);
	for (size_t i = 0; i < p.n; i++) {
		/* an index entry whose message expired (retention) is skipped */
		if (rs[i]->type != REDIS_REPLY_ARRAY || rs[i]->elements != NLIST ||
		    rs[i]->element[0]->type == REDIS_REPLY_NIL)
			continue;
		if (kept++)
			fputc(',', f);
		list_item(f, p.ids[i], rs[i]);
	}
	fputs("],\"next_cursor\":", f);
	if (p.more && p.n) {
		ims_page_cursor(&p, p.n - 1, cur);
		ims_jsonw_str(f, cur, strlen(cur));
	} else {
		fputs("null", f);
	}
	fputc('}', f);
	fclose(f);
	f = NULL;
	ims_req_take(r, 200, "application/json", buf, len);
	buf = NULL;
out:
	if (f)
		fclose(f);
	free(buf);
	if (arena) /* the replies go with the arena */
		ims_replyarena_end(ims_req_redis_peek());
	else if (rs)
		ims_req_free_replies(rs, p.n);
	free(rs);
	ims_page_free(&p);
	if (!r->responded)
		ims_req_error(r, 500, "out of memory");
}

void ims_route_inbox(struct ims_req *r)
{
	folder(r, "inbox");
}

void ims_route_sent(struct ims_req *r)
{
	folder(r, "sent");
}

/* r->params[0] must be a message id; sets a 404 otherwise. */
static int id_ok(struct ims_req *r)
{
	if (!ims_ulid_valid(r->params[0])) {
		ims_req_error(r, 404, "no such message");
		return 0;
	}
	return 1;
}

void ims_route_email_get(struct ims_req *r)
{
	redisContext *c;
	redisReply *rs[3] = { NULL };
	json_t *view = NULL, *scan = NULL, *summary = NULL;
	const char *id = r->params[0];

	if (!id_ok(r) || !(c = ims_req_redis(r)))
		return;
	redisAppendCommand(c, "HMGET ims:{%s}:msg:%s raw folder received verdict action score",
			   r->who.sub, id);
	redisAppendCommand(c, "GET ims:{%s}:scan:%s", r->who.sub, id);
	if (ims_req_pipeline(r, rs, 2) != IMS_OK)
		return;
	if (rs[0]->type != REDIS_REPLY_ARRAY || rs[0]->element[0]->type != REDIS_REPLY_STRING) {
		ims_req_error(r, 404, "no such message");
		goto out;
	}
	rs[2] = ims_req_cmd(r, "HSET ims:{%s}:msg:%s seen 1", r->who.sub, id);
	if (!rs[2])
		goto out;
	if (ims_mailview_parse(rs[0]->element[0]->str, rs[0]->element[0]->len, &view) != IMS_OK) {
		ims_req_error(r, 500, "the stored message cannot be parsed");
		goto out;
	}
	if (rs[1]->type == REDIS_REPLY_STRING)
		scan = json_loadb(rs[1]->str, rs[1]->len, 0, NULL);
	summary = json_pack("{s:o, s:o, s:o, s:O?, s:O?, s:O?}", "verdict",
			    str_or_null(rs[0]->element[3]), "action", str_or_null(rs[0]->element[4]),
			    "score", num_or_null(rs[0]->element[5], 0), "probability",
			    json_object_get(scan, "probability"), "symbols",
			    json_object_get(scan, "symbols"), "auth", json_object_get(scan, "auth"));
	json_object_set_new(view, "id", json_string(id));
	json_object_set_new(view, "folder", str_or_null(rs[0]->element[1]));
	json_object_set_new(view, "received", num_or_null(rs[0]->element[2], 1));
	json_object_set_new(view, "scan", summary ? summary : json_null());
	ims_req_json(r, 200, view);
	view = NULL;
out:
	json_decref(view);
	json_decref(scan);
	ims_req_free_replies(rs, 3);
}

void ims_route_email_raw(struct ims_req *r)
{
	redisReply *rep;
	char *buf;

	if (!id_ok(r))
		return;
	rep = ims_req_cmd(r, "HGET ims:{%s}:msg:%s raw", r->who.sub, r->params[0]);
	if (!rep)
		return;
	if (rep->type != REDIS_REPLY_STRING) {
		ims_req_error(r, 404, "no such message");
	} else if ((buf = malloc(rep->len ? rep->len : 1))) {
		memcpy(buf, rep->str, rep->len);
		r->disposition = "attachment; filename=\"message.eml\"";
		ims_req_take(r, 200, "message/rfc822", buf, rep->len);
	}
	freeReplyObject(rep);
}

void ims_route_email_delete(struct ims_req *r)
{
	const char *u = r->who.sub, *id = r->params[0];
	redisContext *c;
	redisReply *rs[7] = { NULL };

	if (!id_ok(r) || !(c = ims_req_redis(r)))
		return;
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "ZREM ims:{%s}:inbox %s", u, id);
	redisAppendCommand(c, "ZREM ims:{%s}:sent %s", u, id);
	redisAppendCommand(c, "ZREM ims:{%s}:quarantine %s", u, id);
	redisAppendCommand(c, "DEL ims:{%s}:msg:%s", u, id);
	redisAppendCommand(c, "DEL ims:{%s}:scan:%s", u, id);
	redisAppendCommand(c, "EXEC");
	if (ims_req_pipeline(r, rs, 7) != IMS_OK)
		return;
	if (rs[6]->type != REDIS_REPLY_ARRAY || rs[6]->elements != 5)
		ims_req_error(r, 500, "the delete did not run");
	else if (rs[6]->element[3]->integer == 0)
		ims_req_error(r, 404, "no such message");
	else {
		ims_log_info(r->id, "event=delete user=%s msg=%s", u, id);
		ims_req_empty(r, 204);
	}
	ims_req_free_replies(rs, 7);
}

void ims_route_email_report(struct ims_req *r)
{
	json_t *j = NULL;
	const char *label;
	redisReply *raw = NULL, *x = NULL;
	char now[24];

	if (!id_ok(r) || !(j = ims_req_body_json(r)))
		return;
	label = json_string_value(json_object_get(j, "label"));
	if (!label || (strcmp(label, "spam") != 0 && strcmp(label, "ham") != 0)) {
		ims_req_error(r, 400, "label must be \"spam\" or \"ham\"");
		goto out;
	}
	raw = ims_req_cmd(r, "HGET ims:{%s}:msg:%s raw", r->who.sub, r->params[0]);
	if (!raw)
		goto out;
	if (raw->type != REDIS_REPLY_STRING) {
		ims_req_error(r, 404, "no such message");
		goto out;
	}
	/* The feedback entry carries the message, so `ims train` can learn
	 * from it after the mailbox copy expired. */
	snprintf(now, sizeof now, "%" PRIu64, ims_req_now_ms());
	{
		const char *argv[] = { "XADD", "ims:{global}:feedback", "MAXLEN", "~",
				       FEEDBACK_MAXLEN, "*", "user", r->who.sub, "id",
				       r->params[0], "label", label, "time", now, "raw", raw->str };
		size_t lens[sizeof argv / sizeof argv[0]];
		redisContext *c = ims_req_redis(r);

		for (size_t i = 0; i < sizeof argv / sizeof argv[0]; i++)
			lens[i] = strlen(argv[i]);
		lens[15] = raw->len;
		if (!c)
			goto out;
		x = redisCommandArgv(c, 16, argv, lens);
	}
	if (!x) {
		ims_req_redis_failed(r);
		goto out;
	}
	ims_log_info(r->id, "event=report user=%s msg=%s label=%s", r->who.sub, r->params[0],
		     label);
	ims_req_json(r, 202, json_pack("{s:s, s:s, s:s}", "id", r->params[0], "label", label,
				       "feedback_id", x->type == REDIS_REPLY_STRING ? x->str : ""));
out:
	if (x)
		freeReplyObject(x);
	if (raw)
		freeReplyObject(raw);
	json_decref(j);
}
