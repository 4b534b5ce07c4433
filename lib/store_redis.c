/* The standalone Redis backend of lib/store: hiredis 0.14, a small pool of
 * blocking connections shared by threads.  A connection that saw an I/O
 * error is dropped; the next call connects again, so a restarted Redis is
 * picked up without a reload. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_backend.h"

#define POOL_MAX 32

struct redis_impl {
	char *host, *socket, *password, *user;
	struct store_node_conf nc;
	pthread_mutex_t lock;
	redisContext *idle[POOL_MAX];
	int nidle;
	bool quiet; /* ims_store_set_quiet */
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
	r->nc = (struct store_node_conf){.host = r->host,
	                                 .socket = r->socket,
	                                 .port = conf->redis_port,
	                                 .user = r->user,
	                                 .password = r->password,
	                                 .db = conf->redis_db,
	                                 .timeout_ms = conf->redis_timeout_ms};
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

/* A pooled connection, or a new one; NULL with err set when none. */
static redisContext *conn_get(struct redis_impl *r, char *err, size_t errlen)
{
	redisContext *c = NULL;
	ims_status rc;

	pthread_mutex_lock(&r->lock);
	if (r->nidle > 0)
		c = r->idle[--r->nidle];
	pthread_mutex_unlock(&r->lock);
	if (c)
		return c;
	rc = ims_store_connect(&r->nc, &c, err, errlen);
	if (rc != IMS_OK) {
		if (!r->quiet)
			ims_log_warn(NULL, "event=%s error=\"%s\"",
			             rc == IMS_EPERM ? "redis_setup" : "redis_connect", err);
		return NULL;
	}
	return c;
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

/* Reads one MULTI ... EXEC block of t: -1 when the connection failed
 * (*rc = IMS_ETEMP), else 0 with *rc the block's result. */
static int read_block(redisContext *c, const struct ims_store_txn *t, ims_status *rc, char *err,
                      size_t errlen)
{
	redisReply *one[64], **rs = t->n <= 64 ? one : calloc(t->n, sizeof *rs);
	int aborted;

	*rc = IMS_ETEMP;
	if (!rs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ims_store_read_block(c, t->n, rs, &aborted, err, errlen) != 0) {
		if (rs != one)
			free(rs);
		return -1;
	}
	*rc = ims_store_check_replies(rs, t->n, "transaction", err, errlen);
	ims_store_replies_free(rs, t->n);
	if (rs != one)
		free(rs);
	return 0;
}

/* Sends every block at once (one write, one wait), then reads them in
 * order.  The result is the first block's failure, or IMS_OK. */
static ims_status redis_exec(void *impl, const struct ims_store_txn *const *txns, const int *slots,
                             size_t n, int wait_n, int wait_ms, char *err, size_t errlen)
{
	struct redis_impl *r = impl;
	redisContext *c = conn_get(r, err, errlen);
	ims_status rc = IMS_ETEMP, one;
	int broken = 1;

	(void)slots; /* one server holds every slot */
	if (!c)
		return IMS_ETEMP;
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
	/* in the same write: the replicas must have what this connection wrote */
	if (wait_n > 0 && redisAppendCommand(c, "WAIT %d %d", wait_n, wait_ms) != REDIS_OK)
		goto out;
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
	if (wait_n > 0) {
		char e[256] = "";
		redisReply *w = NULL;
		if (redisGetReply(c, (void **)&w) != REDIS_OK || !w) {
			rc = IMS_ETEMP;
			snprintf(err, errlen, "redis: %s", c->errstr[0] ? c->errstr : "no reply");
			goto out;
		}
		one = ims_store_wait_result(w, wait_n, wait_ms, e, sizeof e);
		freeReplyObject(w);
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

/* Appends n commands (in MULTI/EXEC when atomic) and reads their replies. */
static ims_status run_on(redisContext *c, const struct store_cmd *cmds, size_t n, int atomic,
                         redisReply **replies, char *err, size_t errlen)
{
	int aborted;

	if (atomic && redisAppendCommand(c, "MULTI") != REDIS_OK)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (redisAppendCommandArgv(c, cmds[i].argc, (const char **)cmds[i].argv,
		                           cmds[i].lens) != REDIS_OK)
			goto fail;
	if (atomic) {
		if (redisAppendCommand(c, "EXEC") != REDIS_OK)
			goto fail;
		return ims_store_read_block(c, n, replies, &aborted, err, errlen) == 0 ? IMS_OK
		                                                                       : IMS_ETEMP;
	}
	for (size_t i = 0; i < n; i++)
		if (redisGetReply(c, (void **)&replies[i]) != REDIS_OK || !replies[i]) {
			ims_store_replies_free(replies, i + 1);
			goto fail;
		}
	return IMS_OK;
fail:
	snprintf(err, errlen, "redis: %s", c->errstr[0] ? c->errstr : "out of memory");
	return IMS_ETEMP;
}

static ims_status redis_run(void *impl, const struct store_cmd *cmds, size_t n, int atomic,
                            int slot, redisReply **replies, char *err, size_t errlen)
{
	struct redis_impl *r = impl;
	redisContext *c = conn_get(r, err, errlen);
	ims_status rc;

	(void)slot;
	if (!c)
		return IMS_ETEMP;
	rc = run_on(c, cmds, n, atomic, replies, err, errlen);
	conn_put(r, c, rc != IMS_OK);
	return rc;
}

static ims_status redis_run_at(void *impl, size_t master, const struct store_cmd *cmd,
                               redisReply **reply, char *err, size_t errlen)
{
	if (master != 0) {
		snprintf(err, errlen, "redis: no master %zu on a standalone Redis", master);
		return IMS_EINVAL;
	}
	return redis_run(impl, cmd, 1, 0, -1, reply, err, errlen);
}

static size_t redis_masters(void *impl)
{
	(void)impl;
	return 1;
}

static ims_status redis_ping(void *impl)
{
	struct redis_impl *r = impl;
	char err[256];
	redisContext *c = conn_get(r, err, sizeof err);
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

static void redis_set_quiet(void *impl, bool quiet)
{
	((struct redis_impl *)impl)->quiet = quiet;
}

const struct store_ops ims_store_redis_ops = {
    .name = "redis",
    .slots = 0,
    .exec = redis_exec,
    .run = redis_run,
    .run_at = redis_run_at,
    .masters = redis_masters,
    .ping = redis_ping,
    .free = redis_free,
    .set_quiet = redis_set_quiet,
};
