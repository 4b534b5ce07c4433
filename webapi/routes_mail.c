/* A user's own mail, read and changed in Dovecot (mailbox.h), each message
 * joined with its scan summary from Redis by X-IMS-Scan-Id:
 *
 *   GET /emails/folders, GET /emails?folder=&cursor=&q=, GET /emails/inbox,
 *   GET /emails/sent, GET /emails/{id}, GET /emails/{id}/raw,
 *   POST /emails/{id}/flags, POST /emails/{id}/move, DELETE /emails/{id},
 *   POST /emails/trash/empty, POST /emails/{id}/report.
 *
 * Every Dovecot call runs as the signed-in user, so another user's message
 * id names nothing (404).  A scan log is shown only to a user it was about
 * (a recipient, or the authenticated sender): an X-IMS-Scan-Id header that
 * a user wrote into their own message cannot show someone else's scan. */
#include "config.h"

#include <errno.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feedback.h"
#include "jsonw.h"
#include "log.h"
#include "mailbox.h"
#include "frametickets.h"
#include "html_sanitize.h"
#include "mailview.h"
#include "scanlog.h"
#include "routes.h"

/* The Dovecot client, or NULL with a 503 set. */
static struct ims_dove *dove(struct ims_req *r)
{
	if (!r->app->dove)
		ims_req_error(r, 503, "no mailbox server configured ([dovecot] api_key_file)");
	return r->app->dove;
}

/* Sets the error response for a failed mailbox call. */
static void mail_failed(struct ims_req *r, ims_status rc, const char *err, const char *what)
{
	switch (rc) {
	case IMS_ENOTFOUND: ims_req_error(r, 404, "no such %s", what); break;
	case IMS_EINVAL: ims_req_error(r, 400, "%s", err && *err ? err : "bad request"); break;
	case IMS_ENOMEM: ims_req_error(r, 500, "out of memory"); break;
	default:
		ims_log_warn(r->id, "event=mailbox_failed user=%s error=\"%s\"", r->who.sub,
		             err ? err : "");
		ims_req_error(r, 503, "the mailbox server is unavailable");
	}
}

/* r->params[0] as a message reference; a 404 when it is not one. */
static int msg_ref(struct ims_req *r, struct ims_msgref *ref)
{
	if (ims_mbox_id_parse(r->params[0], ref) != 0) {
		ims_req_error(r, 404, "no such message");
		return 0;
	}
	return 1;
}

/* Whether the scan (log or brief) is about user: a recipient or the
 * signed-in sender. */
static int scan_is_users(json_t *scan, const char *user)
{
	size_t i;
	json_t *v;
	const char *auth = json_string_value(json_object_get(scan, "auth"));

	if (!auth)
		auth = json_string_value(json_object_get(json_object_get(scan, "client"), "auth"));
	if (auth && strcasecmp(auth, user) == 0)
		return 1;
	json_array_foreach(json_object_get(scan, "rcpt"), i, v)
	{
		const char *a = json_string_value(v);

		if (a && strcasecmp(a, user) == 0)
			return 1;
	}
	return 0;
}

/* The records of kind (lib/scanlog.h) of the items that have a scan id
 * and (with only_unset) no summary yet, in one round trip; sets "verdict",
 * "action", "score" of each whose record is there and is the user's, and
 * with full also "probability", "symbols" and "auth".  0, or -1 with the
 * response set. */
static int join_pass(struct ims_req *r, json_t *items, enum ims_scanlog_kind kind, int full,
                     int only_unset)
{
	static const char *const brief[] = {"verdict", "action", "score"};
	static const char *const more[] = {"probability", "symbols", "auth"};
	size_t n = json_array_size(items), k = 0, i;
	const char **ids = calloc(n + 1, sizeof *ids);
	size_t *slot = calloc(n + 1, sizeof *slot);
	char **recs = calloc(n + 1, sizeof *recs);
	json_t *it;
	ims_status st;
	int rc = -1;

	if (!ids || !slot || !recs) {
		ims_req_error(r, 500, "out of memory");
		goto out;
	}
	json_array_foreach(items, i, it)
	{
		const char *sid = json_string_value(json_object_get(it, "scan_id"));

		if (!sid || (only_unset && !json_is_null(json_object_get(it, "action"))))
			continue;
		ids[k] = sid;
		slot[k] = i;
		k++;
	}
	if ((st = ims_scanlog_get_many(ims_req_store(r), kind, ids, k, recs)) != IMS_OK) {
		ims_req_store_failed(r, st);
		goto out;
	}
	for (size_t x = 0; x < k; x++) {
		json_t *scan;

		if (!recs[x])
			continue;
		scan = json_loads(recs[x], 0, NULL);
		it = json_array_get(items, slot[x]);
		if (scan && scan_is_users(scan, r->who.sub)) {
			for (size_t f = 0; f < 3; f++) {
				json_t *v = json_object_get(scan, brief[f]);

				if (v)
					json_object_set(it, brief[f], v);
			}
			for (size_t f = 0; full && f < 3; f++) {
				json_t *v = json_object_get(scan, more[f]);

				json_object_set(it, more[f], v ? v : json_null());
			}
		}
		json_decref(scan);
	}
	rc = 0;
out:
	for (size_t x = 0; recs && x < k; x++)
		free(recs[x]);
	free(recs);
	free(ids);
	free(slot);
	return rc;
}

/* Sets each item's scan summary (null where there is none, it expired, or
 * it is not the user's).  Lists read the short brief of each scan; a scan
 * stored before briefs existed is read from its log.  A message's page
 * (full) reads the log itself.  0, or -1 with the response set. */
static int join_scans(struct ims_req *r, json_t *items, int full)
{
	size_t i;
	json_t *it;

	json_array_foreach(items, i, it)
	{
		json_object_set_new(it, "verdict", json_null());
		json_object_set_new(it, "action", json_null());
		json_object_set_new(it, "score", json_null());
	}
	if (full)
		return join_pass(r, items, IMS_SCANLOG_LOG, 1, 0);
	if (join_pass(r, items, IMS_SCANLOG_BRIEF, 0, 0) != 0)
		return -1;
	return join_pass(r, items, IMS_SCANLOG_LOG, 0, 1);
}

static void list(struct ims_req *r, const char *folder)
{
	struct ims_dove *d;
	const char *q = ims_req_query(r, "q"), *cursor = ims_req_query(r, "cursor");
	char next[IMS_MBOX_CURSOR_MAX], err[256];
	json_t *items = NULL;
	int limit = ims_req_limit(r);
	ims_status rc;

	if (limit < 0)
		return;
	if (!ims_mbox_folder_valid(folder)) {
		ims_req_error(r, 400, "bad folder name");
		return;
	}
	if (q && strlen(q) > IMS_MBOX_QUERY_MAX) {
		ims_req_error(r, 400, "search text longer than %d bytes", IMS_MBOX_QUERY_MAX);
		return;
	}
	if (cursor && *cursor && !ims_mbox_cursor_valid(cursor)) {
		ims_req_error(r, 400, "bad cursor");
		return;
	}
	if (!(d = dove(r)))
		return;
	rc = ims_mbox_list(d, r->app->imap, r->who.sub, folder, cursor, q, (size_t)limit, &items,
	                   next, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "folder");
		return;
	}
	if (join_scans(r, items, 0) == 0)
		ims_req_json(r, 200,
		             json_pack("{s:o, s:o}", "items", items, "next_cursor",
		                       next[0] ? json_string(next) : json_null()));
	else
		json_decref(items);
}

void ims_route_emails(struct ims_req *r)
{
	const char *f = ims_req_query(r, "folder");

	list(r, f && *f ? f : "INBOX");
}

void ims_route_inbox(struct ims_req *r)
{
	list(r, "INBOX");
}

void ims_route_sent(struct ims_req *r)
{
	list(r, "Sent");
}

void ims_route_folders(struct ims_req *r)
{
	struct ims_dove *d = dove(r);
	char err[256];
	json_t *folders = NULL;
	ims_status rc;

	if (!d)
		return;
	rc = ims_mbox_folders(d, r->who.sub, &folders, err, sizeof err);
	if (rc != IMS_OK)
		mail_failed(r, rc, err, "mailbox");
	else
		ims_req_json(r, 200, json_pack("{s:o}", "folders", folders));
}

/* ?images=1: the user allowed this message's remote images */
static int images_wanted(struct ims_req *r)
{
	const char *v = ims_req_query(r, "images");

	return v && strcmp(v, "1") == 0;
}

void ims_route_email_get(struct ims_req *r)
{
	struct ims_dove *d;
	struct ims_msgref ref;
	json_t *m = NULL, *view = NULL, *one = NULL, *scan;
	char err[256];
	const char *text;
	ims_status rc;

	if (!msg_ref(r, &ref) || !(d = dove(r)))
		return;
	rc = ims_mbox_read(d, r->app->imap, r->who.sub, &ref, true, &m, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "message");
		return;
	}
	text = json_string_value(json_object_get(m, "text"));
	if (ims_mailview_parse_ex(text ? text : "",
	                          text ? json_string_length(json_object_get(m, "text")) : 0,
	                          images_wanted(r) ? IMS_HTML_REMOTE_IMAGES : 0, &view) != IMS_OK) {
		ims_req_error(r, 500, "the message cannot be parsed");
		goto out;
	}
	/* the scan summary, joined like a list item */
	one = json_pack("[{s:O}]", "scan_id", json_object_get(m, "scan_id"));
	if (!one || join_scans(r, one, 1) != 0)
		goto out;
	scan = json_array_get(one, 0);
	json_object_del(scan, "scan_id");
	json_object_set_new(view, "id", json_string(r->params[0]));
	json_object_set(view, "folder", json_object_get(m, "folder"));
	json_object_set(view, "flags", json_object_get(m, "flags"));
	json_object_set(view, "received", json_object_get(m, "received"));
	json_object_set(view, "scan_id", json_object_get(m, "scan_id"));
	json_object_set(view, "scan",
	                json_is_null(json_object_get(scan, "verdict")) &&
	                        json_is_null(json_object_get(scan, "action"))
	                    ? json_null()
	                    : scan);
	ims_req_json(r, 200, view);
	view = NULL;
out:
	json_decref(one);
	json_decref(view);
	json_decref(m);
}

/* POST /emails/{id}/frame: a one-use URL of the message's HTML with its
 * remote images, for the UI's iframe (lib/frametickets.h) */
void ims_route_email_frame(struct ims_req *r)
{
	struct ims_msgref ref;
	char tok[IMS_FRAMETOK_LEN + 1], url[16 + IMS_FRAMETOK_LEN];
	struct ims_store *st;
	ims_status rc;

	if (!msg_ref(r, &ref) || !(st = ims_req_store(r)))
		return;
	rc = ims_frametickets_issue(st, r->who.sub, r->params[0], tok);
	if (rc == IMS_EINVAL) {
		ims_req_error(r, 404, "no such message");
		return;
	}
	if (rc != IMS_OK) {
		ims_req_store_failed(r, rc);
		return;
	}
	snprintf(url, sizeof url, "/frame/%s", tok);
	ims_req_json(r, 200, json_pack("{s:s, s:i}", "url", url, "expires_in", IMS_FRAMETOK_TTL_S));
}

/* GET /frame/{token} (open: the ticket is the authority): the message's
 * sanitised HTML with its remote images as a document of its own, under
 * the frame's Content-Security-Policy (server.c) */
void ims_route_frame(struct ims_req *r)
{
	static const char head[] =
	    "<!doctype html><html><head><meta charset=\"utf-8\"><base target=\"_blank\">"
	    "<meta name=\"referrer\" content=\"no-referrer\">"
	    "<link rel=\"stylesheet\" href=\"/ui/frame.css\"></head><body>";
	static const char tail[] = "</body></html>";
	char user[IMS_FRAMETOK_USER + 1], msg[IMS_FRAMETOK_MSG + 1], err[256];
	struct ims_msgref ref;
	struct ims_dove *d;
	json_t *m = NULL, *view = NULL;
	const char *text, *html;
	char *buf;
	size_t hlen;
	ims_status rc;

	struct ims_store *st = ims_req_store(r);

	if (!st)
		return;
	rc = ims_frametickets_take(st, r->params[0], user, msg);
	if (rc == IMS_ENOTFOUND) {
		ims_req_error(r, 404, "no such frame (it was used or has expired)");
		return;
	}
	if (rc != IMS_OK) {
		ims_req_store_failed(r, rc);
		return;
	}
	if (ims_mbox_id_parse(msg, &ref) != 0) {
		ims_req_error(r, 404, "no such message");
		return;
	}
	if (!(d = dove(r)))
		return;
	/* the ticket's user, for the mailbox call and the log */
	snprintf(r->who.sub, sizeof r->who.sub, "%s", user);
	rc = ims_mbox_read(d, r->app->imap, user, &ref, false, &m, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "message");
		return;
	}
	text = json_string_value(json_object_get(m, "text"));
	if (ims_mailview_parse_ex(text ? text : "",
	                          text ? json_string_length(json_object_get(m, "text")) : 0,
	                          IMS_HTML_REMOTE_IMAGES, &view) != IMS_OK) {
		ims_req_error(r, 500, "the message cannot be parsed");
		goto out;
	}
	html = json_string_value(json_object_get(view, "html"));
	hlen = html ? json_string_length(json_object_get(view, "html")) : 0;
	buf = malloc(sizeof head + hlen + sizeof tail);
	if (!buf) {
		ims_req_error(r, 500, "out of memory");
		goto out;
	}
	memcpy(buf, head, sizeof head - 1);
	if (hlen)
		memcpy(buf + sizeof head - 1, html, hlen);
	memcpy(buf + sizeof head - 1 + hlen, tail, sizeof tail);
	ims_req_take(r, 200, "text/html; charset=utf-8", buf,
	             sizeof head - 1 + hlen + sizeof tail - 1);
out:
	json_decref(view);
	json_decref(m);
}

void ims_route_email_raw(struct ims_req *r)
{
	struct ims_dove *d;
	struct ims_msgref ref;
	json_t *m = NULL, *t;
	char err[256], *buf;
	size_t len;
	ims_status rc;

	if (!msg_ref(r, &ref) || !(d = dove(r)))
		return;
	rc = ims_mbox_read(d, r->app->imap, r->who.sub, &ref, false, &m, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "message");
		return;
	}
	t = json_object_get(m, "text");
	len = json_string_length(t);
	if ((buf = malloc(len ? len : 1))) {
		memcpy(buf, json_string_value(t) ? json_string_value(t) : "", len);
		r->disposition = "attachment; filename=\"message.eml\"";
		ims_req_take(r, 200, "message/rfc822", buf, len);
	}
	json_decref(m);
}

/* GET /emails/{id}/attachments/{n}: the n-th attachment of
 * GET /emails/{id}'s list, decoded, always as application/octet-stream and
 * Content-Disposition: attachment (never rendered in the UI's origin). */
void ims_route_email_attachment(struct ims_req *r)
{
	struct ims_dove *d;
	struct ims_msgref ref;
	json_t *m = NULL;
	char err[256], *end, *data = NULL;
	const char *text;
	unsigned long n;
	size_t len = 0;
	ims_status rc;

	errno = 0;
	n = strtoul(r->params[1], &end, 10);
	if (!msg_ref(r, &ref))
		return;
	if (*end || errno || r->params[1][0] < '0' || r->params[1][0] > '9') {
		ims_req_error(r, 404, "no such attachment");
		return;
	}
	if (!(d = dove(r)))
		return;
	rc = ims_mbox_read(d, r->app->imap, r->who.sub, &ref, false, &m, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "message");
		return;
	}
	text = json_string_value(json_object_get(m, "text"));
	rc = ims_mailview_attachment(
	    text ? text : "", json_string_length(json_object_get(m, "text")), n, &data, &len);
	if (rc == IMS_OK) {
		r->disposition = "attachment";
		ims_req_take(r, 200, "application/octet-stream", data, len);
	} else if (rc == IMS_ENOTFOUND) {
		ims_req_error(r, 404, "no such attachment");
	} else {
		ims_req_error(r, 500, "out of memory");
	}
	json_decref(m);
}

/* A JSON true/false into 1/0, absent into -1; -2 when it is something else. */
static int tristate(json_t *j, const char *name)
{
	json_t *v = json_object_get(j, name);

	if (!v)
		return -1;
	return json_is_boolean(v) ? json_is_true(v) : -2;
}

void ims_route_email_flags(struct ims_req *r)
{
	struct ims_dove *d;
	struct ims_msgref ref;
	json_t *j;
	char err[256];
	int seen, flagged;
	ims_status rc;

	if (!msg_ref(r, &ref) || !(d = dove(r)) || !(j = ims_req_body_json(r)))
		return;
	seen = tristate(j, "seen");
	flagged = tristate(j, "flagged");
	if (seen == -2 || flagged == -2 || (seen == -1 && flagged == -1)) {
		ims_req_error(r, 400, "give \"seen\" and/or \"flagged\" as true or false");
		goto out;
	}
	rc = ims_mbox_flags(d, r->who.sub, &ref, seen, flagged, err, sizeof err);
	if (rc != IMS_OK)
		mail_failed(r, rc, err, "message");
	else
		ims_req_empty(r, 204);
out:
	json_decref(j);
}

/* Spam/ham feedback for ims train: the message as the user has it, into
 * ims:{global}:feedback (docs/redis-schema.md).  Moves made over IMAP are
 * seen by Dovecot's IMAPSieve; moves the web makes through doveadm are
 * not, so the web records its own.  0, or -1 with the response set. */
static int record_feedback(struct ims_req *r, const struct ims_msgref *ref, const char *label,
                           char *feedback_id, size_t idlen, const char **outcome_name)
{
	const struct ims_conf *conf = r->app->conf;
	struct ims_feedback_msg fb = {0};
	enum ims_feedback_outcome outcome;
	json_t *m = NULL, *t;
	struct ims_store *c;
	char err[256], entry[32] = "";
	ims_status rc;
	int ret = -1;

	rc = ims_mbox_fetch(r->app->dove, r->who.sub, ref, false, &m, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "message");
		return -1;
	}
	/* One feedback store (lib/feedback.h): one entry per user and message,
	 * within the [feedback] bounds, keyed by the message's X-IMS-Scan-Id */
	t = json_object_get(m, "text");
	rc = ims_feedback_msg_from(json_string_value(t) ? json_string_value(t) : "",
	                           json_string_length(t), conf->feedback_max_message_size, &fb);
	if (rc != IMS_OK) {
		ims_req_error(r, rc == IMS_ENOMEM ? 500 : 400, "the message cannot be read");
		goto out;
	}
	if (!(c = ims_req_store(r)))
		goto out;
	rc = ims_feedback_record(c, conf, r->who.sub,
	                         strcmp(label, "spam") == 0 ? IMS_FEEDBACK_SPAM : IMS_FEEDBACK_HAM,
	                         &fb, "web", &outcome, entry, err, sizeof err);
	if (rc == IMS_ETEMP) {
		ims_log_err(r->id, "event=feedback_failed error=\"%s\"", err);
		ims_req_store_failed(r, IMS_ETEMP);
		goto out;
	}
	if (rc != IMS_OK) {
		ims_req_error(r, 400, "%s", err);
		goto out;
	}
	if (outcome == IMS_FEEDBACK_RATE_LIMITED || outcome == IMS_FEEDBACK_USER_FULL) {
		ims_req_error(r, 429, "feedback refused: %s ([feedback] %s)",
		              ims_feedback_outcome_name(outcome),
		              outcome == IMS_FEEDBACK_RATE_LIMITED ? "rate_per_hour"
		                                                   : "max_per_user");
		goto out;
	}
	snprintf(feedback_id, idlen, "%s", entry);
	if (outcome_name)
		*outcome_name = ims_feedback_outcome_name(outcome);
	ims_log_info(r->id, "event=feedback user=%s msg=%s label=%s outcome=%s", r->who.sub,
	             r->params[0], label, ims_feedback_outcome_name(outcome));
	ret = 0;
out:
	ims_feedback_msg_clear(&fb);
	json_decref(m);
	return ret;
}

void ims_route_email_move(struct ims_req *r)
{
	struct ims_dove *d;
	struct ims_msgref ref;
	json_t *j;
	const char *to;
	char err[256], from[IMS_MBOX_FOLDER_MAX + 1], fid[64];
	ims_status rc;

	if (!msg_ref(r, &ref) || !(d = dove(r)) || !(j = ims_req_body_json(r)))
		return;
	to = json_string_value(json_object_get(j, "folder"));
	if (!ims_mbox_folder_valid(to)) {
		ims_req_error(r, 400, "\"folder\" must name a folder");
		goto out;
	}
	/* into or out of Junk teaches ims, as the same move over IMAP does */
	{
		json_t *m = NULL;

		rc = ims_mbox_fetch(d, r->who.sub, &ref, false, &m, err, sizeof err);
		if (rc != IMS_OK) {
			mail_failed(r, rc, err, "message");
			goto out;
		}
		snprintf(from, sizeof from, "%s", json_string_value(json_object_get(m, "folder")));
		json_decref(m);
	}
	if (strcmp(from, to) != 0 &&
	    (strcmp(to, "Junk") == 0 || (strcmp(from, "Junk") == 0 && strcmp(to, "Trash") != 0)) &&
	    record_feedback(r, &ref, strcmp(to, "Junk") == 0 ? "spam" : "ham", fid, sizeof fid,
	                    NULL) != 0)
		goto out;
	rc = ims_mbox_move(d, r->who.sub, &ref, to, NULL, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "message or folder");
		goto out;
	}
	ims_log_info(r->id, "event=move user=%s msg=%s from=\"%s\" to=\"%s\"", r->who.sub,
	             r->params[0], from, to);
	ims_req_empty(r, 204);
out:
	json_decref(j);
}

void ims_route_email_delete(struct ims_req *r)
{
	struct ims_dove *d;
	struct ims_msgref ref;
	char err[256];
	bool expunged = false;
	ims_status rc;

	if (!msg_ref(r, &ref) || !(d = dove(r)))
		return;
	rc = ims_mbox_delete(d, r->who.sub, &ref, &expunged, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "message");
		return;
	}
	ims_log_info(r->id, "event=delete user=%s msg=%s expunged=%d", r->who.sub, r->params[0],
	             expunged);
	ims_req_empty(r, 204);
}

void ims_route_empty_trash(struct ims_req *r)
{
	struct ims_dove *d = dove(r);
	char err[256];
	ims_status rc;

	if (!d)
		return;
	rc = ims_mbox_empty_trash(d, r->who.sub, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "folder");
		return;
	}
	ims_log_info(r->id, "event=empty_trash user=%s", r->who.sub);
	ims_req_empty(r, 204);
}

/* "Report spam" is a move into Junk, "not spam" a move out of it (to the
 * INBOX), with the feedback entry either way. */
void ims_route_email_report(struct ims_req *r)
{
	struct ims_dove *d;
	struct ims_msgref ref;
	json_t *j = NULL, *m = NULL;
	const char *label, *to = NULL;
	char err[256], fid[64] = "", from[IMS_MBOX_FOLDER_MAX + 1];
	const char *outcome = "";
	ims_status rc;

	if (!msg_ref(r, &ref) || !(d = dove(r)) || !(j = ims_req_body_json(r)))
		return;
	label = json_string_value(json_object_get(j, "label"));
	if (!label || (strcmp(label, "spam") != 0 && strcmp(label, "ham") != 0)) {
		ims_req_error(r, 400, "label must be \"spam\" or \"ham\"");
		goto out;
	}
	rc = ims_mbox_fetch(d, r->who.sub, &ref, false, &m, err, sizeof err);
	if (rc != IMS_OK) {
		mail_failed(r, rc, err, "message");
		goto out;
	}
	snprintf(from, sizeof from, "%s", json_string_value(json_object_get(m, "folder")));
	if (strcmp(label, "spam") == 0 && strcmp(from, "Junk") != 0)
		to = "Junk";
	else if (strcmp(label, "ham") == 0 && strcmp(from, "Junk") == 0)
		to = "INBOX";
	if (record_feedback(r, &ref, label, fid, sizeof fid, &outcome) != 0)
		goto out;
	if (to) {
		rc = ims_mbox_move(d, r->who.sub, &ref, to, NULL, err, sizeof err);
		if (rc != IMS_OK) {
			mail_failed(r, rc, err, "message");
			goto out;
		}
	}
	ims_log_info(r->id, "event=report user=%s msg=%s label=%s moved_to=\"%s\"", r->who.sub,
	             r->params[0], label, to ? to : "");
	ims_req_json(r, 202,
	             json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", r->params[0], "label", label,
	                       "feedback_id", fid, "outcome", outcome, "folder", to ? to : from));
out:
	json_decref(m);
	json_decref(j);
}
