#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "events.h"
#include "log.h"
#include "rconn.h"
#include "replyarena.h"
#include "request.h"

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

/* One Redis connection per worker thread, closed when the thread ends. */
static pthread_key_t redis_key;
static pthread_once_t redis_once = PTHREAD_ONCE_INIT;

static void redis_close(void *p)
{
	if (p)
		redisFree(p);
}

static void redis_key_init(void)
{
	pthread_key_create(&redis_key, redis_close);
}

redisContext *ims_req_redis(struct ims_req *r)
{
	redisContext *c;
	char err[256];

	pthread_once(&redis_once, redis_key_init);
	c = pthread_getspecific(redis_key);
	if (c && !r->redis_checked) {
		/* An idle connection has nothing to read; if it has, Redis closed
		 * it (restart, timeout): open a new one instead of failing. */
		struct pollfd p = {.fd = c->fd, .events = POLLIN};

		r->redis_checked = true;
		if (c->err || poll(&p, 1, 0) != 0) {
			redisFree(c);
			pthread_setspecific(redis_key, NULL);
			c = NULL;
		}
	}
	if (c)
		return c;
	if (ims_rconn_open(r->app->conf, &c, err, sizeof err) != IMS_OK) {
		ims_log_err(r->id, "event=redis_down error=\"%s\"", err);
		ims_req_error(r, 503, "the store is unavailable");
		return NULL;
	}
	/* keep the read buffer of a list page's replies between requests
	 * (hiredis frees one above 16 KB each time it drains) */
	if (c->reader)
		c->reader->maxbuf = 1 << 20;
	pthread_setspecific(redis_key, c);
	return c;
}

redisContext *ims_req_redis_peek(void)
{
	pthread_once(&redis_once, redis_key_init);
	return pthread_getspecific(redis_key);
}

void ims_req_redis_failed(struct ims_req *r)
{
	redisContext *c;

	pthread_once(&redis_once, redis_key_init);
	c = pthread_getspecific(redis_key);
	if (c) {
		ims_log_err(r->id, "event=redis_error error=\"%s\"", c->err ? c->errstr : "reply");
		redisFree(c);
		pthread_setspecific(redis_key, NULL);
	}
	ims_req_error(r, 503, "the store is unavailable");
}

redisReply *ims_req_cmd(struct ims_req *r, const char *fmt, ...)
{
	redisContext *c = ims_req_redis(r);
	redisReply *rep;
	va_list ap;

	if (!c)
		return NULL;
	va_start(ap, fmt);
	rep = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (!rep)
		ims_req_redis_failed(r);
	return rep;
}

ims_status ims_req_pipeline(struct ims_req *r, redisReply **out, size_t n)
{
	redisContext *c = ims_req_redis(r);

	if (c && ims_replyarena_active(c)) {
		/* arena replies are never freed one by one */
		for (size_t i = 0; i < n; i++)
			out[i] = NULL;
		for (size_t i = 0; i < n; i++) {
			void *rep = NULL;

			if (redisGetReply(c, &rep) != REDIS_OK || !rep) {
				for (size_t j = 0; j < i; j++)
					out[j] = NULL;
				ims_req_redis_failed(r);
				return IMS_ETEMP;
			}
			out[i] = rep;
		}
		return IMS_OK;
	}
	if (!c || ims_rconn_read(c, out, n) != IMS_OK) {
		ims_req_redis_failed(r);
		return IMS_ETEMP;
	}
	return IMS_OK;
}

void ims_req_free_replies(redisReply **rs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (rs[i])
			freeReplyObject(rs[i]);
		rs[i] = NULL;
	}
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
	redisContext *c = ims_req_redis(r);

	if (!c)
		return IMS_ETEMP;
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
	if (ims_events_audit(c, r->who.sub, op, target ? target : "", kv, n / 2, NULL) != IMS_OK) {
		ims_req_redis_failed(r);
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
