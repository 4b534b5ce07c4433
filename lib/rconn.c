#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "rconn.h"

ims_status ims_rconn_auth(redisContext *c, const char *user, const char *password, char *err,
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
		rc = strncmp(r->str, "NOAUTH", 6) == 0 || strncmp(r->str, "WRONGPASS", 9) == 0 ||
		             strncmp(r->str, "NOPERM", 6) == 0 || strncmp(r->str, "ERR", 3) == 0
		         ? IMS_EPERM
		         : IMS_ETEMP;
	}
	freeReplyObject(r);
	return rc;
}

ims_status ims_rconn_open(const struct ims_conf *conf, redisContext **out, char *err, size_t errlen)
{
	ims_status rc = IMS_ETEMP;
	redisContext *c = NULL;
	redisReply *r = NULL;
	struct timeval tv = {.tv_sec = conf->redis_timeout_ms / 1000,
	                     .tv_usec = (conf->redis_timeout_ms % 1000) * 1000};

	*out = NULL;
	if (conf->redis_socket && *conf->redis_socket)
		c = redisConnectUnixWithTimeout(conf->redis_socket, tv);
	else
		c = redisConnectWithTimeout(conf->redis_host, conf->redis_port, tv);
	if (!c || c->err) {
		snprintf(err, errlen, "redis connect: %s", c ? c->errstr : "out of memory");
		goto out;
	}
	redisSetTimeout(c, tv);
	rc = ims_rconn_auth(c, conf->redis_user, conf->redis_password, err, errlen);
	if (rc != IMS_OK)
		goto out;
	rc = IMS_ETEMP;
	if (conf->redis_db) {
		r = redisCommand(c, "SELECT %d", conf->redis_db);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "redis SELECT %d failed", conf->redis_db);
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

redisReply *ims_rconn_cmd(redisContext *rc, int argc, const char **argv, const size_t *lens)
{
	return redisCommandArgv(rc, argc, argv, lens);
}

ims_status ims_rconn_read(redisContext *rc, redisReply **replies, size_t n)
{
	for (size_t i = 0; i < n; i++)
		replies[i] = NULL;
	for (size_t i = 0; i < n; i++) {
		void *r = NULL;

		if (redisGetReply(rc, &r) != REDIS_OK || !r) {
			for (size_t j = 0; j < i; j++) {
				freeReplyObject(replies[j]);
				replies[j] = NULL;
			}
			return IMS_ETEMP;
		}
		replies[i] = r;
	}
	return IMS_OK;
}
