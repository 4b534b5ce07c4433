/* A user's own mail: GET /emails/inbox, /emails/sent, GET/DELETE
 * /emails/{id}, GET /emails/{id}/raw, POST /emails/{id}/report.  Every
 * key is built from the caller's own address, so another user's message
 * id simply is not there (404). */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "jsonw.h"
#include "log.h"
#include "replyarena.h"
#include "mailview.h"
#include "page.h"
#include "routes.h"
#include "ulid.h"


enum kind { K_STR, K_NUM, K_INT, K_BOOL };

static const struct {
	const char *name;
	enum kind kind;
} list_fields[] = { { "from", K_STR },    { "to", K_STR },	 { "subject", K_STR },
		    { "date", K_STR },    { "received", K_INT }, { "verdict", K_STR },
		    { "action", K_STR },  { "score", K_NUM },	 { "seen", K_BOOL },
		    { "size", K_INT },    { "folder", K_STR } };
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

/* The HMGET of the list fields without its key, as RESP text (built once). */
static char hmget_tail[512];
static size_t hmget_tail_len;
static pthread_once_t hmget_once = PTHREAD_ONCE_INIT;

static void hmget_tail_init(void)
{
	size_t n = 0;

	for (size_t k = 0; k < NLIST; k++) {
		int w = snprintf(hmget_tail + n, sizeof hmget_tail - n, "$%zu\r\n%s\r\n",
				 strlen(list_fields[k].name), list_fields[k].name);

		if (w < 0 || (size_t)w >= sizeof hmget_tail - n)
			abort(); /* the table above does not fit: a programming error */
		n += (size_t)w;
	}
	hmget_tail_len = n;
}

/* Whether s (n bytes) prints the same through strtod and "%.0f" (as_int)
 * or "%.15g": a plain decimal of at most 15 significant digits, no
 * redundant zeros, at least 0.1 in magnitude unless it is 0. */
static int plain_number(const char *s, size_t n, int as_int)
{
	size_t i = 0, digits = 0, intd = 0;

	if (n && s[0] == '-')
		i++;
	if (i == n)
		return 0;
	if (s[i] == '0' && i + 1 < n && s[i + 1] != '.')
		return 0; /* leading zero */
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		intd++;
	if (intd == 0)
		return 0;
	digits = s[i - intd] == '0' ? 0 : intd;
	if (i == n)
		return digits <= 15;
	if (as_int || s[i] != '.' || i + 1 == n || s[n - 1] == '0')
		return 0;
	if (digits == 0 && s[i + 1] == '0')
		return 0; /* below 0.1: %g may choose an exponent */
	for (size_t j = i + 1; j < n; j++, digits++)
		if (s[j] < '0' || s[j] > '9')
			return 0;
	return digits <= 15;
}

/* A number field: copied when it prints the same, formatted otherwise. */
static void number(struct ims_jsonw *w, const redisReply *v, int as_int)
{
	char num[64];
	char *end = NULL;
	double d;
	int n;

	if (v->type != REDIS_REPLY_STRING) {
		ims_jsonw_raw(w, "null", 4);
		return;
	}
	if (plain_number(v->str, v->len, as_int)) {
		ims_jsonw_raw(w, v->str, v->len);
		return;
	}
	d = strtod(v->str, &end);
	if (end == v->str || *end != '\0' || !isfinite(d)) {
		ims_jsonw_raw(w, "null", 4);
		return;
	}
	n = snprintf(num, sizeof num, as_int ? "%.0f" : "%.15g", d);
	if (n > 0 && (size_t)n < sizeof num)
		ims_jsonw_raw(w, num, (size_t)n);
	else
		ims_jsonw_raw(w, "null", 4);
}

/* Writes one list item from an HMGET of list_fields. */
static void list_item(struct ims_jsonw *w, const char *id, const redisReply *h)
{
	ims_jsonw_raw(w, "{\"id\":", 6);
	ims_jsonw_string(w, id, strlen(id));
	for (size_t k = 0; k < NLIST; k++) {
		const redisReply *v = h->element[k];
		int str = v->type == REDIS_REPLY_STRING;

		ims_jsonw_raw(w, ",\"", 2);
		ims_jsonw_puts(w, list_fields[k].name);
		ims_jsonw_raw(w, "\":", 2);
		switch (list_fields[k].kind) {
		case K_BOOL:
			if (str && v->len == 1 && v->str[0] == '1')
				ims_jsonw_raw(w, "true", 4);
			else
				ims_jsonw_raw(w, "false", 5);
			break;
		case K_NUM:
		case K_INT:
			number(w, v, list_fields[k].kind == K_INT);
			break;
		case K_STR:
			if (str)
				ims_jsonw_string(w, v->str, v->len);
			else
				ims_jsonw_raw(w, "null", 4);
			break;
		}
	}
	ims_jsonw_raw(w, "}", 1);
}

/* Appends HMGET <the message's key> <list fields> to c's output buffer,
 * formatted here (hiredis's generic formatting is a tenth of the route). */
static int append_hmget(redisContext *c, const char *user, const char *id)
{
	char cmd[IMS_USERS_ADDR_MAX + IMS_PAGE_ID_MAX + 640], num[24];
	size_t ul = strlen(user), il = strlen(id), n = 0, d = 0, v;
	int h = snprintf(cmd, sizeof cmd, "*%zu\r\n$5\r\nHMGET\r\n$", 2 + NLIST);

	if (h < 0 || ul > IMS_USERS_ADDR_MAX || il > IMS_PAGE_ID_MAX)
		return -1;
	n = (size_t)h;
	v = ul + il + 11; /* ims:{USER}:msg:ID */
	do
		num[d++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (d)
		cmd[n++] = num[--d];
	memcpy(cmd + n, "\r\nims:{", 7);
	n += 7;
	memcpy(cmd + n, user, ul);
	n += ul;
	memcpy(cmd + n, "}:msg:", 6);
	n += 6;
	memcpy(cmd + n, id, il);
	n += il;
	memcpy(cmd + n, "\r\n", 2);
	n += 2;
	if (n + hmget_tail_len > sizeof cmd)
		return -1;
	memcpy(cmd + n, hmget_tail, hmget_tail_len);
	return redisAppendFormattedCommand(c, cmd, n + hmget_tail_len) == REDIS_OK ? 0 : -1;
}

/* The list is written as JSON text directly (jsonw.h): this is the route
 * every client polls. */
static void folder(struct ims_req *r, const char *name)
{
	char key[IMS_USERS_ADDR_MAX + 32], cur[IMS_CURSOR_MAX];
	struct ims_page p;
	redisReply **rs = NULL;
	int limit = ims_req_limit(r);
	size_t kept = 0, len = 0;
	struct ims_jsonw w = { 0 };
	char *buf;
	int arena = 0;
	redisContext *c;

	if (limit < 0)
		return;
	pthread_once(&hmget_once, hmget_tail_init);
	snprintf(key, sizeof key, "ims:{%s}:%s", r->who.sub, name);
	if (ims_page_read(r, key, ims_req_query(r, "cursor"), LLONG_MIN, LLONG_MAX,
			  (size_t)limit, &p) != IMS_OK)
		return;
	c = ims_req_redis(r);
	rs = calloc(p.n ? p.n : 1, sizeof *rs);
	if (!c || !rs)
		goto out;
	for (size_t i = 0; i < p.n; i++)
		if (append_hmget(c, r->who.sub, p.ids[i]) != 0) {
			/* the commands already queued would answer another request */
			ims_req_redis_failed(r);
			goto out;
		}
	ims_replyarena_begin(c);
	arena = 1;
	if (ims_req_pipeline(r, rs, p.n) != IMS_OK)
		goto out;
	ims_jsonw_raw(&w, "{\"items\":[", 10);
	for (size_t i = 0; i < p.n; i++) {
		/* an index entry whose message expired (retention) is skipped */
		if (rs[i]->type != REDIS_REPLY_ARRAY || rs[i]->elements != NLIST ||
		    rs[i]->element[0]->type == REDIS_REPLY_NIL)
			continue;
		if (kept++)
			ims_jsonw_raw(&w, ",", 1);
		list_item(&w, p.ids[i], rs[i]);
	}
	ims_jsonw_raw(&w, "],\"next_cursor\":", 16);
	if (p.more && p.n) {
		ims_page_cursor(&p, p.n - 1, cur);
		ims_jsonw_string(&w, cur, strlen(cur));
	} else {
		ims_jsonw_raw(&w, "null", 4);
	}
	ims_jsonw_raw(&w, "}", 1);
	buf = ims_jsonw_take(&w, &len);
	if (buf)
		ims_req_take(r, 200, "application/json", buf, len);
out:
	ims_jsonw_free(&w);
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
	redisReply *raw = NULL;
	struct ims_feedback_msg fb = {0};
	enum ims_feedback_outcome outcome;

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
	/* One feedback store (lib/feedback.h): one entry per user and message,
	 * within the [feedback] bounds; the entry carries the message, so `ims
	 * train` can learn from it after the mailbox copy expired. */
	{
		const struct ims_conf *conf = r->app->conf;
		redisContext *c = ims_req_redis(r);
		char err[256], entry[32];
		ims_status st;

		if (!c)
			goto out;
		st = ims_feedback_msg_from(raw->str, raw->len, conf->feedback_max_message_size, &fb);
		if (st != IMS_OK) {
			ims_req_error(r, st == IMS_ENOMEM ? 500 : 400, "the message cannot be read");
			goto out;
		}
		/* the route knows the message's scan id */
		if (ims_ulid_valid(r->params[0]))
			memcpy(fb.key, r->params[0], IMS_ULID_LEN + 1);
		st = ims_feedback_record(c, conf, r->who.sub,
		                         strcmp(label, "spam") == 0 ? IMS_FEEDBACK_SPAM
		                                                    : IMS_FEEDBACK_HAM,
		                         &fb, "web", &outcome, entry, err, sizeof err);
		if (st == IMS_ETEMP) {
			ims_log_err(r->id, "event=report_failed error=\"%s\"", err);
			ims_req_redis_failed(r);
			goto out;
		}
		if (st != IMS_OK) {
			ims_req_error(r, 400, "%s", err);
			goto out;
		}
		ims_log_info(r->id, "event=report user=%s msg=%s label=%s outcome=%s", r->who.sub,
		             r->params[0], label, ims_feedback_outcome_name(outcome));
		if (outcome == IMS_FEEDBACK_RATE_LIMITED || outcome == IMS_FEEDBACK_USER_FULL) {
			ims_req_error(r, 429, "feedback refused: %s ([feedback] %s)",
			              ims_feedback_outcome_name(outcome),
			              outcome == IMS_FEEDBACK_RATE_LIMITED ? "rate_per_hour"
			                                                   : "max_per_user");
			goto out;
		}
		ims_req_json(r, 202,
		             json_pack("{s:s, s:s, s:s, s:s}", "id", r->params[0], "label", label,
		                       "feedback_id", entry, "outcome",
		                       ims_feedback_outcome_name(outcome)));
	}
out:
	ims_feedback_msg_clear(&fb);
	if (raw)
		freeReplyObject(raw);
	json_decref(j);
}
