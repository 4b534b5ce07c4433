#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "events.h"
#include "log.h"
#include "ratelimit.h"
#include "request.h"
#include "store.h"

uint64_t ims_req_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t ims_req_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_body(struct ims_req *r, int status, const char *ctype, char *buf, size_t len)
{
	free(r->resp);
	r->status = status;
	r->ctype = ctype;
	r->resp = buf;
	r->resp_len = len;
	r->responded = true;
}

void ims_req_take(struct ims_req *r, int status, const char *ctype, char *buf, size_t len)
{
	set_body(r, status, ctype, buf, len);
}

void ims_req_empty(struct ims_req *r, int status)
{
	set_body(r, status, NULL, NULL, 0);
}

void ims_req_json(struct ims_req *r, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!s) {
		ims_req_error(r, 500, "out of memory");
		return;
	}
	set_body(r, status, "application/json", s, strlen(s));
}

/* Retry-After of a 503 (seconds): about a Redis Cluster failover
 * (cluster-node-timeout and the election) */
#define IMS_REQ_RETRY_AFTER_S 2

void ims_req_error(struct ims_req *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* unavailable is temporary (Redis, Dovecot, a failover): say when to
	 * try again, as a 429 does */
	if (status == 503 && r->retry_after <= 0)
		r->retry_after = IMS_REQ_RETRY_AFTER_S;
	j = json_pack("{s:s, s:s}", "error", msg, "request_id", r->id);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s) {
		/* the fixed text needs no allocation but the copy */
		s = strdup("{\"error\":\"out of memory\"}");
		status = 500;
	}
	set_body(r, status, "application/json", s, s ? strlen(s) : 0);
}

struct ims_store *ims_req_store(struct ims_req *r)
{
	return r->app->store;
}

void ims_req_store_failed(struct ims_req *r, ims_status st)
{
	ims_log_err(r->id, "event=redis_error error=\"%s\"", ims_strstatus(st));
	if (st == IMS_ETEMP || st == IMS_EPERM)
		ims_req_error(r, 503, "the store is unavailable");
	else
		ims_req_error(r, 500, "store error: %s", ims_strstatus(st));
}

int ims_req_ratelimit(struct ims_req *r, const char *kind, const char *key, int limit,
                      int *retry_after)
{
	bool over;
	ims_status rc = ims_ratelimit_count(r->app->store, kind, key, limit, IMS_RATELIMIT_WINDOW_S,
	                                    &over, retry_after);

	if (rc != IMS_OK) {
		ims_req_store_failed(r, rc);
		return -1;
	}
	return over;
}

void ims_req_ratelimit_refund(struct ims_req *r, const char *kind, const char *key)
{
	(void)ims_ratelimit_give_back(r->app->store, kind, key);
}

json_t *ims_req_body_json(struct ims_req *r)
{
	json_error_t e;
	json_t *j;

	if (!r->body || r->body_len == 0) {
		ims_req_error(r, 400, "a JSON object body is required");
		return NULL;
	}
	j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		ims_req_error(r, 400, "malformed JSON at line %d column %d", e.line, e.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		ims_req_error(r, 400, "a JSON object body is required");
		return NULL;
	}
	return j;
}

const char *ims_req_query(struct ims_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *ims_req_header(struct ims_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int ims_req_limit(struct ims_req *r)
{
	const char *s = ims_req_query(r, "limit");
	char *end;
	long v;

	if (!s)
		return r->app->conf->webapi_page_size;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 1000) {
		ims_req_error(r, 400, "limit must be 1..1000");
		return -1;
	}
	return (int)v;
}

ims_status ims_req_audit(struct ims_req *r, const char *op, const char *target, ...)
{
	const char *kv[2 * IMS_EVENTS_MAX_FIELDS];
	size_t n = 0;
	va_list ap;
	ims_status rc;

	kv[n++] = "request_id";
	kv[n++] = r->id;
	va_start(ap, target);
	for (const char *k; (k = va_arg(ap, const char *)) && n < 2 * IMS_EVENTS_MAX_FIELDS;) {
		const char *v = va_arg(ap, const char *);

		kv[n++] = k;
		kv[n++] = v ? v : "";
	}
	va_end(ap);
	/* the one writer of admin events (lib/events.c) */
	rc = ims_events_audit(r->app->store, r->who.sub, op, target ? target : "", kv, n / 2, NULL);
	if (rc != IMS_OK) {
		ims_req_store_failed(r, rc);
		return IMS_ETEMP;
	}
	return IMS_OK;
}

void ims_req_free(struct ims_req *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->body);
	free(r->resp);
	free(r->location);
	free(r);
}
