/* POST /emails/send: compose with GMime and submit over SMTP to
 * [webapi] submission, authenticated, so Postfix hands it to the milter
 * (scanned, DKIM-signed, stored in the sender's sent folder) like mail
 * from any other client.  Rate-limited per user and per client IP. */
#include "config.h"

#include <string.h>

#include "compose.h"
#include "log.h"
#include "ratelimit.h"
#include "routes.h"
#include "smtp.h"

void ims_route_email_send(struct ims_req *r)
{
	const struct ims_conf *conf = r->app->conf;
	struct ims_composed msg = { 0 };
	struct ims_smtp_job job = { 0 };
	json_t *j = ims_req_body_json(r);
	char err[512];
	int retry = 0, over;
	ims_status st;

	if (!j)
		return;
	over = ims_ratelimit_take(r, "send:user", r->who.sub, conf->webapi_send_rate, &retry);
	if (over == 0)
		over = ims_ratelimit_take(r, "send:ip", r->ip, conf->webapi_send_rate, &retry);
	if (over < 0)
		goto out;
	if (over) {
		r->retry_after = retry;
		ims_req_error(r, 429, "sending too fast; retry later");
		goto out;
	}
	st = ims_compose(r->who.sub, j, &msg, err, sizeof err);
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
	ims_log_info(r->id, "event=send user=%s rcpts=%zu size=%zu message_id=%s", r->who.sub,
		     msg.nrcpts, msg.len, msg.message_id);
	ims_req_json(r, 202, json_pack("{s:s, s:I, s:I}", "message_id", msg.message_id,
				       "recipients", (json_int_t)msg.nrcpts, "size",
				       (json_int_t)msg.len));
out:
	ims_composed_free(&msg);
	json_decref(j);
}
