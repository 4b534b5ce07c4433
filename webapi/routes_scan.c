/* POST /scan-email: scan a raw message with the milter's own scan
 * function (lib/scan.h) and store nothing.
 *
 * Body: the message itself (any content type but JSON), envelope in the
 * query (?mail_from=&rcpt=a,b&client_ip=&helo=); or JSON {"raw": "...",
 * "mail_from", "rcpt": [...], "client_ip", "helo"}.  Answer: the scan log
 * (docs/redis-schema.md) plus "headers", the fields the milter would add.
 * Limited per user ([webapi] scan_rate a minute): a scan costs CPU, and its
 * answer is an oracle to tune spam against. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "routes.h"
#include "scan.h"

#define SCAN_RCPTS_MAX 100

static int is_json(struct ims_req *r)
{
	const char *ct = ims_req_header(r, "Content-Type");

	return ct && strncasecmp(ct, "application/json", 16) == 0;
}

void ims_route_scan_email(struct ims_req *r)
{
	struct ims_engine *eng = NULL;
	struct ims_envelope env = {0};
	struct ims_scan *scan = NULL;
	const char *rcpts[SCAN_RCPTS_MAX];
	char *rcpt_copy = NULL, *log = NULL;
	const char *raw = r->body;
	size_t len = r->body_len;
	json_t *j = NULL, *out = NULL, *headers;
	ims_status st;
	int retry = 0, over;

	over =
	    ims_req_ratelimit(r, "scan:user", r->who.sub, r->app->conf->webapi_scan_rate, &retry);
	if (over < 0)
		return;
	if (over) {
		r->retry_after = retry;
		ims_req_error(r, 429, "scanning too fast; retry later");
		return;
	}
	if (is_json(r)) {
		json_t *rl;
		size_t i;
		json_t *x;

		if (!(j = ims_req_body_json(r)))
			return;
		raw = json_string_value(json_object_get(j, "raw"));
		len = raw ? json_string_length(json_object_get(j, "raw")) : 0;
		env.mail_from = json_string_value(json_object_get(j, "mail_from"));
		env.client_ip = json_string_value(json_object_get(j, "client_ip"));
		env.helo = json_string_value(json_object_get(j, "helo"));
		rl = json_object_get(j, "rcpt");
		json_array_foreach(rl, i, x)
		{
			if (!json_is_string(x) || env.nrcpts >= SCAN_RCPTS_MAX) {
				ims_req_error(r, 400, "rcpt: at most %d strings", SCAN_RCPTS_MAX);
				goto out;
			}
			rcpts[env.nrcpts++] = json_string_value(x);
		}
	} else {
		const char *q = ims_req_query(r, "rcpt");

		env.mail_from = ims_req_query(r, "mail_from");
		env.client_ip = ims_req_query(r, "client_ip");
		env.helo = ims_req_query(r, "helo");
		if (q && (rcpt_copy = strdup(q)))
			for (char *s = NULL, *t = strtok_r(rcpt_copy, ",", &s);
			     t && env.nrcpts < SCAN_RCPTS_MAX; t = strtok_r(NULL, ",", &s))
				rcpts[env.nrcpts++] = t;
	}
	if (!raw || len == 0) {
		ims_req_error(r, 400, "a message is required (the body, or \"raw\" in JSON)");
		goto out;
	}
	env.rcpts = rcpts;
	env.trace_id = r->id;
	eng = ims_engine_acquire();
	if (!eng) {
		ims_req_error(r, 503, "the scan engine is not available");
		goto out;
	}
	st = ims_scan_run(eng, &env, raw, len, &scan);
	if (st == IMS_ETEMP) {
		ims_req_error(r, 503, "the scan cannot run now: %s",
		              scan ? ims_scan_reason(scan) : "no model");
		goto out;
	}
	if (st != IMS_OK || !scan || !(log = ims_scan_json(scan))) {
		ims_req_error(r, 500, "the scan failed");
		goto out;
	}
	out = json_loads(log, 0, NULL);
	headers = json_array();
	for (size_t i = 0, n = ims_scan_header_count(scan); out && headers && i < n; i++) {
		const char *name, *value;

		if (ims_scan_header(scan, i, &name, &value) == 0)
			json_array_append_new(
			    headers, json_pack("{s:s, s:s}", "name", name, "value", value));
	}
	json_object_set_new(out, "headers", headers);
	ims_log_info(r->id, "event=scan_email user=%s action=%s score=%.2f", r->who.sub,
	             ims_action_name(ims_scan_action(scan)), ims_scan_score(scan));
	ims_req_json(r, 200, out);
out:
	free(log);
	free(rcpt_copy);
	ims_scan_free(scan);
	if (eng)
		ims_engine_unref(eng);
	json_decref(j);
}
