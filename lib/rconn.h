/* TEMPORARY SHIM (issue 10): one synchronous hiredis connection made from
 * [redis] in ims.conf, for the code not yet moved onto lib/store.h (the one
 * Redis layer: ims_store_cmdv, ims_store_run).  It works on a standalone
 * Redis only.  i10-domain moves webapi/ and cli/ onto lib/ domain modules
 * over store.h and then deletes this file; do not add callers. */
#ifndef IMS_RCONN_H
#define IMS_RCONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "conf.h"
#include "status.h"

/* Connects to [redis] host:port (or socket), authenticates (ims_rconn_auth)
 * and selects db, all within timeout_ms, which also becomes the
 * command timeout.  On success *out is the caller's (redisFree).  On
 * failure the reason is written to err and IMS_ETEMP is returned
 * (IMS_EPERM when Redis refused the credentials). */
ims_status ims_rconn_open(const struct ims_conf *conf, redisContext **out, char *err,
                          size_t errlen);

/* Authenticates a fresh connection c as [redis] user (empty or NULL: the
 * default user) with password; without a password it checks that Redis
 * asks for none (PING).  The one place every program authenticates (the
 * milter's store pool too).  IMS_EPERM when Redis refused: err says why
 * and which settings to look at; IMS_ETEMP when the connection failed. */
ims_status ims_rconn_auth(redisContext *c, const char *user, const char *password, char *err,
                          size_t errlen);

/* Runs one command (hiredis argv form) and returns its reply, which the
 * caller frees (freeReplyObject).  NULL when the connection failed; the
 * connection is then unusable and should be reopened. */
redisReply *ims_rconn_cmd(redisContext *rc, int argc, const char **argv, const size_t *lens);

/* Reads the replies of n pipelined commands into replies[0..n-1] (each the
 * caller's).  IMS_ETEMP when the connection failed part way; the replies
 * read so far are freed and set to NULL. */
ims_status ims_rconn_read(redisContext *rc, redisReply **replies, size_t n);

#endif
