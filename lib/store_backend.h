/* Private to lib/store*.c: the transaction layout, the backend vtable and
 * the connection helpers the Redis backends share. */
#ifndef IMS_STORE_BACKEND_H
#define IMS_STORE_BACKEND_H

#include <hiredis/hiredis.h>

#include "store.h"

struct store_cmd {
	int argc;
	const char *argv[IMS_STORE_MAX_ARGS];
	size_t lens[IMS_STORE_MAX_ARGS];
	char *owned[IMS_STORE_MAX_ARGS]; /* copies to free; NULL for borrowed args */
};

struct ims_store_txn {
	struct store_cmd *cmds;
	size_t n, cap;
	ims_status broken; /* first failed add, IMS_OK otherwise */
};

struct store_ops {
	const char *name;
	/* store.c applies the slot rule before calling this backend (the
	 * cluster routes by it; the memory recorder checks it for the unit
	 * tests); one standalone Redis takes any keys and skips the cost */
	int slots;
	/* runs n MULTI/EXEC blocks (each non-empty, all keys of block k in
	 * slots[k], -1: no key), pipelined where the backend can; the result
	 * is the first failure.  wait_n > 0: then WAIT wait_n wait_ms on each
	 * connection that took a block (ims_store_set_wait); fewer replicas
	 * acknowledging -> IMS_ETEMP */
	ims_status (*exec)(void *impl, const struct ims_store_txn *const *txns, const int *slots,
	                   size_t n, int wait_n, int wait_ms, char *err, size_t errlen);
	/* runs n commands (one MULTI/EXEC block on slot when atomic) and puts
	 * each one's reply, error replies included, in replies[i].  Returns
	 * IMS_OK when every reply was read (store.c then maps error replies),
	 * else the failure (every replies[i] NULL) with err set. */
	ims_status (*run)(void *impl, const struct store_cmd *cmds, size_t n, int atomic, int slot,
	                  redisReply **replies, char *err, size_t errlen);
	/* one command on master i */
	ims_status (*run_at)(void *impl, size_t master, const struct store_cmd *c,
	                     redisReply **reply, char *err, size_t errlen);
	size_t (*masters)(void *impl);
	ims_status (*ping)(void *impl);
	void (*free)(void *impl);
	/* ims_store_set_quiet; NULL: the backend logs nothing anyway */
	void (*set_quiet)(void *impl, bool quiet);
};

struct ims_store {
	const struct store_ops *ops;
	void *impl;
	int wait_n, wait_ms; /* ims_store_set_wait */
};

/* Constructors of the backends; each returns the impl pointer or NULL. */
void *ims_store_redis_new(const struct ims_conf *conf);
extern const struct store_ops ims_store_redis_ops;
void *ims_store_cluster_new(const struct ims_conf *conf);
extern const struct store_ops ims_store_cluster_ops;
void *ims_store_memory_new(void);
extern const struct store_ops ims_store_memory_ops;
const char *ims_store_memory_text(void *impl);
void ims_store_memory_down(void *impl, bool down);
void ims_store_memory_replicas(void *impl, int n);

/* The result of WAIT's reply r (NULL: none came) for want replicas:
 * IMS_OK when at least want acknowledged, else IMS_ETEMP with err saying
 * how many did within ms. */
ims_status ims_store_wait_result(const redisReply *r, int want, int ms, char *err, size_t errlen);

/* One node's address and credentials (store_conn.c). */
struct store_node_conf {
	const char *host, *socket; /* socket: a unix socket path, else host:port */
	int port;
	const char *user, *password;
	int db, timeout_ms;
};

/* Connects to one node, authenticates (ims_store_auth), selects db, sets
 * the command timeout.  *out is the caller's (redisFree).  IMS_ETEMP when
 * it cannot connect, IMS_EPERM when Redis refused the credentials; err
 * says why. */
ims_status ims_store_connect(const struct store_node_conf *nc, redisContext **out, char *err,
                             size_t errlen);

/* Authenticates a fresh connection as user (empty or NULL: the default
 * user) with password; without a password it checks that Redis asks for
 * none (PING).  IMS_EPERM when Redis refused (err names the settings to
 * look at), IMS_ETEMP when the connection failed. */
ims_status ims_store_auth(redisContext *c, const char *user, const char *password, char *err,
                          size_t errlen);

/* Reads the replies of one MULTI ... EXEC block of n commands already
 * appended to c (MULTI's +OK, n +QUEUED or errors, EXEC's array) into
 * replies[0..n-1]: the EXEC's elements, or the queue-time error replies
 * (an EXECABORT: the others NULL).  Returns -1 when the connection failed
 * (everything freed), else 0; *aborted is 1 when EXEC ran nothing. */
int ims_store_read_block(redisContext *c, size_t n, redisReply **replies, int *aborted, char *err,
                         size_t errlen);

/* Checks n replies: IMS_OK when none is missing or an error reply; else
 * the first one's status (ims_store_error_status) with its text in err
 * ("command N: MSG"). */
ims_status ims_store_check_replies(redisReply *const *replies, size_t n, const char *what,
                                   char *err, size_t errlen);

#endif
