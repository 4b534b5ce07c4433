/* The Redis backend of lib/store: hiredis 0.14, a small pool of blocking
 * connections shared by threads.  A connection that saw an I/O error is
 * dropped; the next exec connects again, so a restarted Redis is picked up
 * without a reload. */
#include "config.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "rconn.h"
#include "store_backend.h"

#define POOL_MAX 32

struct redis_impl {
	char *host, *socket, *password, *user;
	int port, db, timeout_ms;
	pthread_mutex_t lock;
	redisContext *idle[POOL_MAX];
	int nidle;
};

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

void *ims_store_redis_new(const struct ims_conf *conf)
{
	struct redis_impl *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->host = dup_or_null(conf->redis_host);
	r->socket = dup_or_null(conf->redis_socket);
	r->password = dup_or_null(conf->redis_password);
	r->user = dup_or_null(conf->redis_user);
	r->port = conf->redis_port;
	r->db = conf->redis_db;
	r->timeout_ms = conf->redis_timeout_ms;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

static void redis_free(void *impl)
{
	struct redis_impl *r = impl;

	if (!r)
		return;
	for (int i = 0; i < r->nidle; i++)
		redisFree(r->idle[i]);
	pthread_mutex_destroy(&r->lock);
	free(r->host);
	free(r->socket);
	free(r->password);
	free(r->user);
	free(r);
}

/* One command on a fresh connection during setup; 0 when it answered OK. */
static int setup_cmd(redisContext *c, const char *fmt, const char *arg)
{
	redisReply *rep = redisCommand(c, fmt, arg);
	int ok = rep && rep->type != REDIS_REPLY_ERROR;

	if (rep)
		freeReplyObject(rep);
	return ok ? 0 : -1;
}

static redisContext *conn_get(struct redis_impl *r)
{
	redisContext *c = NULL;
	struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
	char db[16], err[300];

	pthread_mutex_lock(&r->lock);
	if (r->nidle > 0)
		c = r->idle[--r->nidle];
	pthread_mutex_unlock(&r->lock);
	if (c)
		return c;

	if (r->socket)
		c = redisConnectUnixWithTimeout(r->socket, tv);
	else
		c = redisConnectWithTimeout(r->host ? r->host : "127.0.0.1", r->port, tv);
	if (!c)
		return NULL;
	if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
		ims_log_warn(NULL, "event=redis_connect error=\"%s\"", c->errstr);
		redisFree(c);
		return NULL;
	}
	if (ims_rconn_auth(c, r->user, r->password, err, sizeof err) != IMS_OK)
		goto fail;
	snprintf(db, sizeof db, "%d", r->db);
	if (r->db && setup_cmd(c, "SELECT %s", db) != 0) {
		snprintf(err, sizeof err, "SELECT %d refused", r->db);
		goto fail;
	}
	return c;
fail:
	ims_log_warn(NULL, "event=redis_setup error=\"%s\"", err);
	redisFree(c);
	return NULL;
}

/* Returns c to the pool, or frees it when it is broken or the pool is full. */
static void conn_put(struct redis_impl *r, redisContext *c, int broken)
{
	if (!broken) {
		pthread_mutex_lock(&r->lock);
		if (r->nidle < POOL_MAX) {
			r->idle[r->nidle++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&r->lock);
	}
	if (c)
		redisFree(c);
}

/* Reads the replies of one MULTI ... EXEC block: MULTI's +OK, one +QUEUED
 * (or an error) per command, then EXEC's array.  Returns -1 when the
 * connection failed (*rc = IMS_ETEMP), else 0 with *rc the block's result. */
static int read_block(redisContext *c, const struct ims_store_txn *t, ims_status *rc, char *err,
                      size_t errlen)
{
	redisReply *rep = NULL;

	*rc = IMS_OK;
	for (size_t i = 0; i < t->n + 2; i++) {
		if (redisGetReply(c, (void **)&rep) != REDIS_OK) {
			snprintf(err, errlen, "redis: %s", c->errstr);
			*rc = IMS_ETEMP;
			return -1;
		}
		if (rep->type == REDIS_REPLY_ERROR && *rc == IMS_OK) {
			snprintf(err, errlen, "redis refused command %zu: %s", i, rep->str);
			/* LOADING, MISCONF, READONLY, OOM: the server may recover */
			*rc = (strncmp(rep->str, "LOADING", 7) == 0 ||
			       strncmp(rep->str, "MISCONF", 7) == 0 ||
			       strncmp(rep->str, "READONLY", 8) == 0 ||
			       strncmp(rep->str, "OOM", 3) == 0 ||
			       strncmp(rep->str, "EXECABORT", 9) == 0)
			          ? IMS_ETEMP
			          : IMS_EINVAL;
		}
		if (i == t->n + 1 && *rc == IMS_OK) {
			if (rep->type != REDIS_REPLY_ARRAY) {
				snprintf(err, errlen, "redis: EXEC aborted");
				*rc = IMS_ETEMP;
			} else {
				for (size_t k = 0; k < rep->elements; k++)
					if (rep->element[k]->type == REDIS_REPLY_ERROR) {
						snprintf(err, errlen,
						         "redis command %zu failed: %s", k,
						         rep->element[k]->str);
						*rc = IMS_EINVAL;
						break;
					}
			}
		}
		freeReplyObject(rep);
		rep = NULL;
	}
	return 0;
}

/* Sends every block at once (one write, one wait), then reads them in
 * order.  The result is the first block's failure, or IMS_OK. */
static ims_status redis_exec(void *impl, const struct ims_store_txn *const *txns, size_t n,
                             char *err, size_t errlen)
{
	struct redis_impl *r = impl;
	redisContext *c = conn_get(r);
	ims_status rc = IMS_ETEMP, one;
	int broken = 1;

	if (!c) {
		snprintf(err, errlen, "redis unreachable");
		return IMS_ETEMP;
	}
	for (size_t k = 0; k < n; k++) {
		const struct ims_store_txn *t = txns[k];
		if (redisAppendCommand(c, "MULTI") != REDIS_OK)
			goto out;
		for (size_t i = 0; i < t->n; i++)
			if (redisAppendCommandArgv(c, t->cmds[i].argc, t->cmds[i].argv,
			                           t->cmds[i].lens) != REDIS_OK)
				goto out;
		if (redisAppendCommand(c, "EXEC") != REDIS_OK)
			goto out;
	}
	rc = IMS_OK;
	for (size_t k = 0; k < n; k++) {
		char e[256] = "";
		if (read_block(c, txns[k], &one, e, sizeof e) != 0) {
			rc = IMS_ETEMP;
			snprintf(err, errlen, "%s", e);
			goto out;
		}
		if (one != IMS_OK && rc == IMS_OK) {
			rc = one;
			snprintf(err, errlen, "%s", e);
		}
	}
	broken = 0;
out:
	if (broken && rc == IMS_ETEMP && !err[0])
		snprintf(err, errlen, "redis: %s", c->errstr[0] ? c->errstr : "write failed");
	conn_put(r, c, broken);
	return rc;
}

static ims_status reply_text(const redisReply *rep, char **out, size_t *outlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;

	switch (rep->type) {
	case REDIS_REPLY_NIL: return IMS_ENOTFOUND;
	case REDIS_REPLY_INTEGER: {
		char num[32];
		len = (size_t)snprintf(num, sizeof num, "%lld", rep->integer);
		buf = strdup(num);
		break;
	}
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
		buf = malloc(rep->len + 1);
		if (buf) {
			memcpy(buf, rep->str, rep->len);
			buf[rep->len] = '\0';
			len = rep->len;
		}
		break;
	case REDIS_REPLY_ARRAY:
		for (size_t i = 0; i < rep->elements; i++)
			cap += (rep->element[i]->str ? rep->element[i]->len : 24) + 1;
		buf = malloc(cap + 1);
		if (!buf)
			break;
		for (size_t i = 0; i < rep->elements; i++) {
			const redisReply *e = rep->element[i];
			if (i)
				buf[len++] = '\n';
			if (e->type == REDIS_REPLY_INTEGER)
				len +=
				    (size_t)snprintf(buf + len, cap + 1 - len, "%lld", e->integer);
			else if (e->str) {
				memcpy(buf + len, e->str, e->len);
				len += e->len;
			}
		}
		buf[len] = '\0';
		break;
	default: return IMS_EINVAL;
	}
	if (!buf)
		return IMS_ENOMEM;
	*out = buf;
	if (outlen)
		*outlen = len;
	return IMS_OK;
}

static ims_status redis_query(void *impl, const struct store_cmd *cmd, char **out, size_t *outlen)
{
	struct redis_impl *r = impl;
	redisContext *c = conn_get(r);
	redisReply *rep;
	ims_status rc;

	if (!c)
		return IMS_ETEMP;
	rep = redisCommandArgv(c, cmd->argc, (const char **)cmd->argv, cmd->lens);
	if (!rep) {
		conn_put(r, c, 1);
		return IMS_ETEMP;
	}
	rc = rep->type == REDIS_REPLY_ERROR ? IMS_EINVAL : reply_text(rep, out, outlen);
	freeReplyObject(rep);
	conn_put(r, c, 0);
	return rc;
}

static ims_status redis_ping(void *impl)
{
	struct redis_impl *r = impl;
	redisContext *c = conn_get(r);
	redisReply *rep;
	int ok;

	if (!c)
		return IMS_ETEMP;
	rep = redisCommand(c, "PING");
	ok = rep && rep->type == REDIS_REPLY_STATUS;
	if (rep)
		freeReplyObject(rep);
	conn_put(r, c, !rep);
	return ok ? IMS_OK : IMS_ETEMP;
}

const struct store_ops ims_store_redis_ops = {
    .name = "redis",
    .exec = redis_exec,
    .query = redis_query,
    .ping = redis_ping,
    .free = redis_free,
};
