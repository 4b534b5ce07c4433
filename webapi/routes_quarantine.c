/* The quarantine (lib/quarantine.h): admins list, preview, delete and
 * release held messages (release may also report them as not spam);
 * users list what is held for them and release it themselves where
 * [quarantine] user_release allows.  Release is claim, deliver over LMTP
 * into the recipient's INBOX, finish: a double click, two admins or a
 * retry deliver once.  Every release and delete is an audit event. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp.h"
#include "log.h"
#include "mailview.h"
#include "page.h"
#include "quarantine.h"
#include "routes.h"
#include "ulid.h"

/* 503 for a broken connection, 404 for a missing message, 500 otherwise. */
static void fail(struct ims_req *r, ims_status st)
{
	if (r->responded)
		return;
	if (st == IMS_ETEMP)
		ims_req_store_failed(r, IMS_ETEMP);
	else if (st == IMS_ENOTFOUND)
		ims_req_error(r, 404, "no such held message");
	else
		ims_req_error(r, 500, "quarantine store: %s", ims_strstatus(st));
}

static json_t *str(const char *s)
{
	return json_string(s ? s : "");
}

/* One held message as JSON; for_user: only what that user may see. */
static json_t *item(const struct ims_req *r, const struct ims_quarantine_msg *m,
                    const char *for_user)
{
	json_t *j = json_object(), *rc = json_array();

	if (!j || !rc) {
		json_decref(j);
		json_decref(rc);
		return NULL;
	}
	json_object_set_new(j, "id", json_string(m->id));
	json_object_set_new(j, "time", json_integer((json_int_t)m->time_ms));
	json_object_set_new(j, "from", str(m->from));
	json_object_set_new(j, "subject", str(m->subject));
	json_object_set_new(j, "reason", str(m->reason));
	json_object_set_new(j, "class", str(m->hold_class));
	json_object_set_new(j, "score", json_real(m->score));
	json_object_set_new(j, "size", json_integer((json_int_t)m->size));
	if (for_user) {
		json_decref(rc);
		json_object_set_new(
		    j, "can_release",
		    json_boolean(ims_quarantine_user_may_release(r->app->conf, m->hold_class)));
		return j;
	}
	json_object_set_new(j, "mail_from", str(m->mail_from));
	json_object_set_new(j, "queue_id", str(m->queue_id));
	{
		/* "a,b" as before, and per recipient who got it */
		size_t len = 0;
		char *list = NULL;
		for (size_t i = 0; i < m->nrcpt; i++)
			len += strlen(m->rcpt[i]) + 1;
		list = calloc(1, len + 1);
		for (size_t i = 0, at = 0; list && i < m->nrcpt; i++)
			at += (size_t)snprintf(list + at, len + 1 - at, "%s%s", i ? "," : "",
			                       m->rcpt[i]);
		json_object_set_new(j, "rcpt", str(list));
		free(list);
	}
	for (size_t i = 0; i < m->nrcpt; i++)
		json_array_append_new(rc, json_pack("{s:s, s:s?}", "address", m->rcpt[i],
		                                    "released", m->delivered[i]));
	json_object_set_new(j, "recipients", rc);
	json_object_set_new(j, "released_by",
	                    m->released_by ? json_string(m->released_by) : json_null());
	json_object_set_new(j, "released_at",
	                    m->released_by ? json_integer((json_int_t)m->released_at)
	                                   : json_null());
	return j;
}

/* A page of an index (global or one user's), newest first. */
static void list(struct ims_req *r, const char *for_user)
{
	struct ims_page p = {0};
	struct ims_quarantine_msg **ms = NULL;
	const char **ids = NULL;
	int limit = ims_req_limit(r);
	char next[IMS_CURSOR_MAX];
	json_t *items = NULL;
	struct ims_store *rc;
	ims_status st;

	if (limit < 0)
		return;
	if ((st = ims_quarantine_page(ims_req_store(r), for_user, ims_req_query(r, "cursor"),
	                              (size_t)limit, &p)) != IMS_OK) {
		ims_page_free(&p);
		ims_page_failed(r, st);
		return;
	}
	ms = calloc(p.n + 1, sizeof *ms);
	ids = calloc(p.n + 1, sizeof *ids);
	items = json_array();
	if (!ms || !ids || !items)
		goto out;
	if (!(rc = ims_req_store(r)))
		goto out;
	for (size_t i = 0; i < p.n; i++)
		ids[i] = p.ids[i];
	if ((st = ims_quarantine_get_many(rc, ids, p.n, ms)) != IMS_OK) {
		fail(r, st);
		goto out;
	}
	for (size_t i = 0; i < p.n; i++) {
		int k;
		if (!ms[i])
			continue; /* expired or deleted since it was indexed */
		if (for_user &&
		    ((k = ims_quarantine_held_for(ms[i], for_user)) < 0 || ms[i]->delivered[k]))
			continue;
		json_array_append_new(items, item(r, ms[i], for_user));
	}
	if (p.more && p.n)
		ims_page_cursor(&p, p.n - 1, next);
	ims_req_json(
	    r, 200,
	    json_pack("{s:O, s:s?}", "items", items, "next_cursor", p.more && p.n ? next : NULL));
out:
	for (size_t i = 0; ms && i < p.n; i++)
		ims_quarantine_msg_free(ms[i]);
	free(ms);
	free(ids);
	json_decref(items);
	ims_page_free(&p);
	if (!r->responded)
		ims_req_error(r, 500, "out of memory");
}

void ims_route_admin_quarantine(struct ims_req *r)
{
	list(r, NULL);
}

void ims_route_user_quarantine(struct ims_req *r)
{
	list(r, r->who.sub);
}

/* One held message with its preview; for_user: only if held for them and
 * not yet released to them (404 otherwise, as for any unknown id). */
static void preview(struct ims_req *r, const char *for_user)
{
	struct ims_quarantine_msg *m = NULL;
	struct ims_store *rc = ims_req_store(r);
	json_t *j = NULL, *view = NULL;
	ims_status st;
	int k;

	if (!rc)
		return;
	if ((st = ims_quarantine_get(rc, r->params[0], true, &m)) != IMS_OK) {
		fail(r, st);
		return;
	}
	if (for_user && ((k = ims_quarantine_held_for(m, for_user)) < 0 || m->delivered[k])) {
		ims_quarantine_msg_free(m);
		ims_req_error(r, 404, "no such held message");
		return;
	}
	j = item(r, m, for_user);
	if (j && m->raw && ims_mailview_parse(m->raw, m->raw_len, &view) == IMS_OK)
		json_object_set_new(j, "message", view);
	else if (j)
		json_object_set_new(j, "message", json_null());
	ims_req_json(r, 200, j);
	ims_quarantine_msg_free(m);
}

void ims_route_admin_quarantine_get(struct ims_req *r)
{
	preview(r, NULL);
}

void ims_route_user_quarantine_get(struct ims_req *r)
{
	preview(r, r->who.sub);
}

void ims_route_admin_quarantine_delete(struct ims_req *r)
{
	struct ims_store *rc = ims_req_store(r);
	ims_status st;

	if (!rc)
		return;
	if ((st = ims_quarantine_delete(rc, r->app->conf, r->params[0])) != IMS_OK) {
		fail(r, st);
		return;
	}
	if (ims_req_audit(r, "quarantine.delete", r->params[0], NULL) != IMS_OK)
		return;
	ims_log_info(r->id, "event=quarantine_delete msg=%s by=%s", r->params[0], r->who.sub);
	ims_req_empty(r, 204);
}

/* Claim, deliver, finish.  for_user: release only to that user (who must
 * be one of the held recipients, else 404); NULL: to every recipient not
 * yet released. */
static void release(struct ims_req *r, const char *for_user, bool report_ham)
{
	const struct ims_conf *conf = r->app->conf;
	const char *id = r->params[0];
	struct ims_quarantine_msg *m = NULL;
	const char **want = NULL, **got = NULL, **ok = NULL, **bad = NULL;
	int *claimed = NULL, *codes = NULL;
	size_t nwant = 0, ngot = 0, nok = 0, nbad = 0;
	char *copy = NULL, err[512] = "", now_s[24], fb[64] = "";
	size_t copy_len = 0;
	uint64_t now = ims_req_now_ms();
	struct ims_store *rc = ims_req_store(r);
	json_t *delivered = NULL, *failed = NULL;
	bool all = false;
	ims_status st;

	if (!rc)
		return;
	if ((st = ims_quarantine_get(rc, id, true, &m)) != IMS_OK) {
		fail(r, st);
		return;
	}
	if (for_user) {
		int k = ims_quarantine_held_for(m, for_user);
		if (k < 0) {
			ims_req_error(r, 404, "no such held message");
			goto out;
		}
		if (!ims_quarantine_user_may_release(conf, m->hold_class)) {
			ims_req_error(r, 403, "messages held for %s are released by an admin",
			              m->hold_class);
			goto out;
		}
	}
	want = calloc(m->nrcpt + 1, sizeof *want);
	got = calloc(m->nrcpt + 1, sizeof *got);
	ok = calloc(m->nrcpt + 1, sizeof *ok);
	bad = calloc(m->nrcpt + 1, sizeof *bad);
	claimed = calloc(m->nrcpt + 1, sizeof *claimed);
	codes = calloc(m->nrcpt + 1, sizeof *codes);
	delivered = json_array();
	failed = json_array();
	if (!want || !got || !ok || !bad || !claimed || !codes || !delivered || !failed) {
		ims_req_error(r, 500, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m->nrcpt; i++)
		if (!m->delivered[i] && (!for_user || strcasecmp(m->rcpt[i], for_user) == 0))
			want[nwant++] = m->rcpt[i];
	if (nwant == 0 || !m->raw) {
		ims_req_error(r, 409, "already released");
		goto out;
	}
	st = ims_quarantine_claim(rc, id, want, nwant, r->who.sub, now, claimed);
	if (st != IMS_OK) {
		fail(r, st);
		goto out;
	}
	for (size_t i = 0; i < nwant; i++)
		if (claimed[i])
			got[ngot++] = want[i];
	if (ngot == 0) {
		ims_req_error(r, 409, "already released or being released");
		goto out;
	}
	st = ims_quarantine_released_copy(m->raw, m->raw_len, r->who.sub, now, &copy, &copy_len);
	if (st == IMS_OK)
		st = ims_lmtp_deliver(conf->quarantine_lmtp, m->mail_from, got, ngot, copy,
		                      copy_len, conf->webapi_timeout_s, codes, err, sizeof err);
	for (size_t i = 0; i < ngot; i++) {
		if (st == IMS_OK && codes[i] / 100 == 2) {
			ok[nok++] = got[i];
			json_array_append_new(delivered, json_string(got[i]));
		} else {
			bad[nbad++] = got[i];
			json_array_append_new(failed,
			                      json_pack("{s:s, s:i}", "address", got[i], "code",
			                                st == IMS_OK ? codes[i] : 451));
		}
	}
	/* failed ones can be tried again; delivered ones never again */
	if (nbad && ims_quarantine_unclaim(rc, id, bad, nbad) != IMS_OK)
		ims_log_warn(r->id, "event=unclaim_failed msg=%s", id);
	if (nok == 0) {
		ims_log_warn(r->id, "event=release_failed msg=%s error=\"%s\"", id, err);
		ims_req_error(r, 503, "delivery failed: %s", err[0] ? err : ims_strstatus(st));
		goto out;
	}
	st = ims_quarantine_finish(rc, conf, id, ok, nok, r->who.sub, now, &all);
	if (st != IMS_OK) {
		/* delivered; the record could not say so (the claim stays, so a
		 * retry does not deliver again before it goes stale) */
		ims_log_warn(r->id, "event=release_record_failed msg=%s status=\"%s\"", id,
		             ims_strstatus(st));
		fail(r, st);
		goto out;
	}
	if (report_ham &&
	    ims_quarantine_report_ham(rc, conf, r->who.sub, id, m->raw, m->raw_len, fb) != IMS_OK)
		ims_log_warn(r->id, "event=report_failed msg=%s", id);
	{
		char *rcpts = json_dumps(delivered, JSON_COMPACT);
		if (ims_req_audit(r, "quarantine.release", id, "rcpt", rcpts ? rcpts : "",
		                  "queue_id", m->queue_id, "report", report_ham ? "ham" : "",
		                  NULL) != IMS_OK) {
			free(rcpts);
			goto out;
		}
		free(rcpts);
	}
	ims_log_info(r->id, "event=release msg=%s by=%s delivered=%zu failed=%zu report=%s", id,
	             r->who.sub, nok, nbad, report_ham ? "ham" : "none");
	snprintf(now_s, sizeof now_s, "%" PRIu64, now);
	ims_req_json(r, 200,
	             json_pack("{s:s, s:s, s:I, s:O, s:O, s:b, s:s?}", "id", id, "released_by",
	                       r->who.sub, "released_at", (json_int_t)now, "delivered", delivered,
	                       "failed", failed, "complete", all, "feedback_id",
	                       fb[0] ? fb : NULL));
out:
	free(want);
	free(got);
	free(ok);
	free(bad);
	free(claimed);
	free(codes);
	free(copy);
	json_decref(delivered);
	json_decref(failed);
	ims_quarantine_msg_free(m);
}

void ims_route_admin_release(struct ims_req *r)
{
	bool ham = false;

	if (r->body_len > 0) {
		json_t *j = ims_req_body_json(r), *v;
		if (!j)
			return;
		v = json_object_get(j, "not_spam");
		if (v && !json_is_boolean(v)) {
			json_decref(j);
			ims_req_error(r, 400, "not_spam must be true or false");
			return;
		}
		ham = json_is_true(v);
		json_decref(j);
	}
	release(r, NULL, ham);
}

void ims_route_user_release(struct ims_req *r)
{
	release(r, r->who.sub, false);
}
