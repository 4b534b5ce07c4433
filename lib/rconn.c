#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "rconn.h"
#include "store_backend.h"

ims_status ims_rconn_auth(redisContext *c, const char *user, const char *password, char *err,
                          size_t errlen)
{
	return ims_store_auth(c, user, password, err, errlen);
}

ims_status ims_rconn_open(const struct ims_conf *conf, redisContext **out, char *err, size_t errlen)
{
	struct store_node_conf nc = {.host = conf->redis_host,
	                             .socket = conf->redis_socket,
	                             .port = conf->redis_port,
	                             .user = conf->redis_user,
	                             .password = conf->redis_password,
	                             .db = conf->redis_db,
	                             .timeout_ms = conf->redis_timeout_ms};

	return ims_store_connect(&nc, out, err, errlen);
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
