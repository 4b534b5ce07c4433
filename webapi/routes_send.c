/* POST /emails/send: compose with GMime and submit over SMTP to
 * [webapi] submission, authenticated, so Postfix hands it to the milter
 * (scanned, DKIM-signed) like mail from any other client; then save the
 * copy into the sender's Sent folder in Dovecot, as mail clients do.
 * "in_reply_to" or "forward_of" (a message id of the sender's) threads the
 * new message under that one.  Rate-limited per user and per client IP. */
#include "config.h"

#include <string.h>

#include "compose.h"
#include "log.h"
#include "mailbox.h"
#include "routes.h"
#include "smtp.h"

/* "draft": the id of the draft a message was written from, expunged once
 * it is sent or saved again (best effort: an unknown id is ignored). */
static int draft_ref(struct ims_req *r, json_t *j, struct ims_msgref *ref)
{
	json_t *v = json_object_get(j, "draft");

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || ims_mbox_id_parse(json_string_value(v), ref) != 0) {
		ims_req_error(r, 400, "draft: not a message id");
		return -1;
	}
	return 1;
}

static void drop_draft(struct ims_req *r, json_t *j)
{
	struct ims_msgref ref;
	char err[256];

	if (r->app->dove && json_is_string(json_object_get(j, "draft")) &&
	    ims_mbox_id_parse(json_string_value(json_object_get(j, "draft")), &ref) == 0 &&
	    ims_mbox_expunge(r->app->dove, r->who.sub, &ref, err, sizeof err) != IMS_OK)
		ims_log_info(r->id, "event=draft_not_dropped user=%s error=\"%s\"", r->who.sub,
		             err);
}

/* POST /emails/drafts: the message composed as for sending (recipients
 * and text may be missing), saved into Drafts with \Seen and \Draft; the
 * draft it replaces ("draft") is expunged afterwards. */
void ims_route_email_draft(struct ims_req *r)
{
	struct ims_composed msg = {0};
	struct ims_msgref ref;
	json_t *j = ims_req_body_json(r);
	char err[512], id[IMS_MBOX_ID_MAX];
	ims_status st;

	if (!j)
		return;
	if (!r->app->dove) {
		ims_req_error(r, 503, "no mailbox server is configured");
		goto out;
	}
	if (draft_ref(r, j, &ref) < 0)
		goto out;
	st = ims_compose_draft(r->who.sub, j, &msg, err, sizeof err);
	if (st == IMS_EINVAL) {
		ims_req_error(r, 400, "%s", err);
		goto out;
	}
	if (st != IMS_OK) {
		ims_req_error(r, 500, "out of memory");
		goto out;
	}
	/* with the Bcc field when there is one (sent_raw), as the Sent copy */
	st = ims_mbox_save_as(
	    r->app->dove, r->who.sub, "Drafts", msg.sent_raw ? msg.sent_raw : msg.raw,
	    msg.sent_raw ? msg.sent_len : msg.len, msg.message_id, true, id, err, sizeof err);
	if (st != IMS_OK) {
		ims_log_warn(r->id, "event=draft_failed user=%s error=\"%s\"", r->who.sub, err);
		ims_req_error(r, 503, "the mailbox server is unavailable");
		goto out;
	}
	drop_draft(r, j);
	ims_log_info(r->id, "event=draft user=%s size=%zu id=%s", r->who.sub, msg.len, id);
	ims_req_json(r, 201,
	             json_pack("{s:s?, s:s, s:I}", "id", id[0] ? id : NULL, "message_id",
	                       msg.message_id, "size", (json_int_t)msg.len));
out:
	ims_composed_free(&msg);
	json_decref(j);
}

void ims_route_email_send(struct ims_req *r)
{
	const struct ims_conf *conf = r->app->conf;
	struct ims_composed msg = {0};
	struct ims_smtp_job job = {0};
	json_t *j = ims_req_body_json(r);
	char err[512];
	int retry = 0, over, saved;
	ims_status st;

	if (!j)
		return;
	over = ims_req_ratelimit(r, "send:user", r->who.sub, conf->webapi_send_rate, &retry);
	if (over == 0)
		over = ims_req_ratelimit(r, "send:ip", r->ip, conf->webapi_send_rate, &retry);
	if (over < 0)
		goto out;
	if (over) {
		r->retry_after = retry;
		ims_req_error(r, 429, "sending too fast; retry later");
		goto out;
	}
	{
		struct ims_msgref dref;

		if (draft_ref(r, j, &dref) < 0)
			goto out;
	}
	{
		const char *reply = json_string_value(json_object_get(j, "in_reply_to"));
		const char *fwd = json_string_value(json_object_get(j, "forward_of"));
		const char *parent = reply ? reply : fwd;
		struct ims_msgref ref;
		char *pid = NULL, *prefs = NULL;

		if (parent) {
			if (ims_mbox_id_parse(parent, &ref) != 0) {
				ims_req_error(r, 400, "in_reply_to/forward_of: not a message id");
				goto out;
			}
			st = ims_mbox_thread_headers(r->app->dove, r->who.sub, &ref, &pid, &prefs,
			                             err, sizeof err);
			if (st == IMS_ENOTFOUND) {
				ims_req_error(r, 404, "no such message to reply to or forward");
				goto out;
			}
			if (st != IMS_OK) {
				ims_req_error(r, 503, "the mailbox server is unavailable");
				goto out;
			}
		}
		st = ims_compose_thread(r->who.sub, j, pid, prefs, reply != NULL, &msg, err,
		                        sizeof err);
		free(pid);
		free(prefs);
	}
	if (st == IMS_EINVAL) {
		ims_req_error(r, 400, "%s", err);
		goto out;
	}
	if (st != IMS_OK) {
		ims_req_error(r, 500, "out of memory");
		goto out;
	}
	job.url = conf->webapi_submission;
	job.user = conf->webapi_submission_user;
	job.password = r->app->submission_password;
	job.authzid = r->who.sub; /* act as the user (Dovecot master user login) */
	job.mail_from = r->who.sub;
	job.rcpts = (const char *const *)msg.rcpts;
	job.nrcpts = msg.nrcpts;
	job.raw = msg.raw;
	job.len = msg.len;
	job.timeout_s = conf->webapi_timeout_s;
	ims_smtp_job_tls(&job, conf);
	st = ims_smtp_send(&job, err, sizeof err);
	if (st == IMS_EPERM) {
		ims_log_notice(r->id, "event=send_refused user=%s error=\"%s\"", r->who.sub, err);
		ims_req_error(r, 400, "the mail server refused the message: %s", err);
		goto out;
	}
	if (st != IMS_OK) {
		ims_log_warn(r->id, "event=send_failed user=%s error=\"%s\"", r->who.sub, err);
		ims_req_error(r, 503, "the mail server is unavailable: %s", err);
		goto out;
	}
	/* the copy in Sent; the message is gone already, so a failure here is
	 * reported in the answer, not as an error */
	saved = r->app->dove && ims_mbox_save(r->app->dove, r->who.sub, "Sent",
	                                      msg.sent_raw ? msg.sent_raw : msg.raw,
	                                      msg.sent_raw ? msg.sent_len : msg.len, msg.message_id,
	                                      err, sizeof err) == IMS_OK;
	if (!saved)
		ims_log_warn(r->id, "event=sent_copy_failed user=%s error=\"%s\"", r->who.sub,
		             r->app->dove ? err : "no [dovecot] configured");
	drop_draft(r, j);
	ims_log_info(r->id, "event=send user=%s rcpts=%zu size=%zu message_id=%s saved=%d",
	             r->who.sub, msg.nrcpts, msg.len, msg.message_id, saved);
	ims_req_json(r, 202,
	             json_pack("{s:s, s:I, s:I, s:b}", "message_id", msg.message_id, "recipients",
	                       (json_int_t)msg.nrcpts, "size", (json_int_t)msg.len, "saved",
	                       saved));
out:
	ims_composed_free(&msg);
	json_decref(j);
}
