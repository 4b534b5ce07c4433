#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "rconn.h"

ims_status ims_rconn_open(const struct ims_conf *conf, redisContext **out, char *err,
			  size_t errlen)
{
	ims_status rc = IMS_ETEMP;
	redisContext *c = NULL;
	redisReply *r = NULL;
	struct timeval tv = { .tv_sec = conf->redis_timeout_ms / 1000,
			      .tv_usec = (conf->redis_timeout_ms % 1000) * 1000 };

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
	if (conf->redis_password && *conf->redis_password) {
		r = redisCommand(c, "AUTH %s", conf->redis_password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "redis AUTH failed");
			goto out;
		}
		freeReplyObject(r);
		r = NULL;
	}
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
