/* One Redis node's connection for lib/store's backends: connect,
 * authenticate, select the database; read a MULTI/EXEC block's replies. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "store_backend.h"

ims_status ims_store_auth(redisContext *c, const char *user, const char *password, char *err,
                          size_t errlen)
{
	int named = user && *user;
	redisReply *r;
	ims_status rc = IMS_OK;

	if (password && *password)
		r = named ? redisCommand(c, "AUTH %s %s", user, password)
		          : redisCommand(c, "AUTH %s", password);
	else
		r = redisCommand(c, "PING");
	if (!r) {
		snprintf(err, errlen, "redis: %s", c->errstr[0] ? c->errstr : "connection failed");
		return IMS_ETEMP;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		if (password && *password)
			snprintf(err, errlen,
			         "redis refused AUTH as %s%s%s ([redis] user, password_file): %s",
			         named ? "user \"" : "the default user", named ? user : "",
			         named ? "\"" : "", r->str);
		else
			snprintf(
			    err, errlen,
			    "redis requires authentication: set [redis] user and password_file "
			    "(%s)",
			    r->str);
		/* AUTH's own "ERR invalid password" (Redis < 6) is a refusal too */
		rc = strncmp(r->str, "ERR", 3) == 0 ? IMS_EPERM : ims_store_error_status(r->str);
		if (rc == IMS_EINVAL)
			rc = IMS_EPERM;
	}
	freeReplyObject(r);
	return rc;
}

ims_status ims_store_connect(const struct store_node_conf *nc, redisContext **out, char *err,
                             size_t errlen)
{
	ims_status rc = IMS_ETEMP;
	redisContext *c = NULL;
	redisReply *r = NULL;
	struct timeval tv = {.tv_sec = nc->timeout_ms / 1000,
	                     .tv_usec = (nc->timeout_ms % 1000) * 1000};

	*out = NULL;
	if (nc->socket && *nc->socket)
		c = redisConnectUnixWithTimeout(nc->socket, tv);
	else
		c = redisConnectWithTimeout(nc->host && *nc->host ? nc->host : "127.0.0.1",
		                            nc->port, tv);
	if (!c || c->err) {
		snprintf(err, errlen, "redis connect to %s%s%d: %s",
		         nc->socket && *nc->socket ? nc->socket
		         : nc->host                ? nc->host
		                                   : "127.0.0.1",
		         nc->socket && *nc->socket ? "" : ":",
		         nc->socket && *nc->socket ? 0 : nc->port, c ? c->errstr : "out of memory");
		goto out;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		snprintf(err, errlen, "redis: cannot set the timeout");
		goto out;
	}
	rc = ims_store_auth(c, nc->user, nc->password, err, errlen);
	if (rc != IMS_OK)
		goto out;
	rc = IMS_ETEMP;
	if (nc->db) {
		r = redisCommand(c, "SELECT %d", nc->db);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "redis SELECT %d failed%s%s ([redis] db)", nc->db,
			         r ? ": " : "", r ? r->str : "");
			goto out;
		}
	}
	*out = c;
	c = NULL;
	rc = IMS_OK;
out:
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return rc;
}

int ims_store_read_block(redisContext *c, size_t n, redisReply **replies, int *aborted, char *err,
                         size_t errlen)
{
	redisReply *rep = NULL;
	int queue_err = 0;

	*aborted = 0;
	for (size_t i = 0; i < n; i++)
		replies[i] = NULL;
	for (size_t i = 0; i < n + 2; i++) {
		if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
			snprintf(err, errlen, "redis: %s", c->errstr[0] ? c->errstr : "no reply");
			ims_store_replies_free(replies, n);
			return -1;
		}
		if (i > 0 && i <= n) { /* +QUEUED or the command's queue-time error */
			if (rep->type == REDIS_REPLY_ERROR) {
				replies[i - 1] = rep;
				queue_err = 1;
				continue;
			}
		} else if (i == n + 1) { /* EXEC */
			if (rep->type == REDIS_REPLY_ARRAY && rep->elements == n && !queue_err) {
				for (size_t k = 0; k < n; k++) {
					replies[k] = rep->element[k];
					rep->element[k] = NULL;
				}
			} else {
				*aborted = 1;
				if (!queue_err && rep->type == REDIS_REPLY_ERROR) {
					replies[0] = rep; /* EXEC's own error */
					continue;
				}
				if (!queue_err)
					snprintf(err, errlen, "redis: EXEC aborted");
			}
		} else if (rep->type == REDIS_REPLY_ERROR && !queue_err) { /* MULTI refused */
			ims_store_replies_free(replies, n);
			replies[0] = rep;
			queue_err = 1;
			continue;
		}
		freeReplyObject(rep);
		rep = NULL;
	}
	return 0;
}
