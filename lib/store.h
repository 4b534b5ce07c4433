/* The one Redis access layer of ims: every program reaches Redis through it.
 *
 * A handle (struct ims_store) is opened once from [redis] and shared by
 * every thread: it keeps a pool of connections (per node on a cluster),
 * connects lazily, authenticates each connection ([redis] user and
 * password, the one place that does), selects [redis] db, applies
 * [redis] timeout_ms to connect and to every command, and drops a
 * connection that saw an I/O error (the next call connects again).
 *
 * Two kinds of callers:
 *  - writers build an ims_store_txn (a list of commands, each a list of
 *    binary arguments) and run it with ims_store_exec / _exec_all (MULTI/EXEC
 *    blocks; the milter's write path) or ims_store_run (any commands, with
 *    their replies);
 *  - lib/ domain modules (users, quarantine, events, ...) run single
 *    commands with ims_store_cmdv and get hiredis's redisReply back.
 *    Only lib/ includes <hiredis/hiredis.h>; milter/, webapi/ and cli/ call
 *    the domain modules and never see a reply.
 *
 * Errors are mapped in one place (ims_store_error_status): Redis unreachable,
 * timeouts, LOADING, BUSY, TRYAGAIN, CLUSTERDOWN, MASTERDOWN, READONLY, OOM,
 * MISCONF, an aborted EXEC -> IMS_ETEMP (the milter answers 451 4.7.1, the
 * web API 503); NOAUTH, WRONGPASS, NOPERM -> IMS_EPERM; any other error
 * reply -> IMS_EINVAL with Redis's message in err.
 *
 * Slots (Redis Cluster, keyslot.h): every MULTI/EXEC block and every
 * ims_store_run with IMS_STORE_ATOMIC must keep all its keys in one hash
 * slot (one hash tag, ims:{TAG}:...).  The cluster backend and the unit
 * tests' memory recorder refuse a block (or one command) that crosses slots
 * with IMS_EINVAL BEFORE sending anything, so a unit test catches what
 * would fail on a cluster; one standalone Redis takes it (the check would
 * cost the milter ~2% CPU per message for nothing there).  A plain pipeline
 * (flags 0) may span slots: on a cluster its commands go to their nodes.
 *
 * Backends behind one vtable (store_backend.h): standalone Redis
 * (store_redis.c), Redis Cluster (store_cluster.c, [redis] cluster) and an
 * in-memory recorder for unit tests (store_memory.c), which keeps every
 * command as a text line and can pretend to be down.  Key layout:
 * docs/redis-schema.md; key names: lib/rkeys.h. */
#ifndef IMS_STORE_H
#define IMS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "status.h"

struct ims_store;
struct ims_store_txn;
struct redisReply; /* hiredis: lib/ only includes <hiredis/hiredis.h> to read one */

/* Hard limits on one transaction. */
#define IMS_STORE_MAX_CMDS 4096
#define IMS_STORE_MAX_ARGS 64

/* Opens a Redis store from [redis]: host/port or socket (standalone) or
 * cluster (seed nodes), user, password, db, timeout.  Connects lazily: a
 * Redis that is down now is not an error here, only when a command runs.
 * The caller owns *out (ims_store_free). */
ims_status ims_store_open(const struct ims_conf *conf, struct ims_store **out);

/* Opens the in-memory recorder (unit tests).  The caller owns *out. */
ims_status ims_store_open_memory(struct ims_store **out);

/* Frees the store and closes its connections.  NULL is fine. */
void ims_store_free(struct ims_store *st);

/* Quiet (false by default): the store logs no warning of its own
 * (event=redis_connect, redis_setup, redis_cluster_map) for the errors it
 * returns to the caller, who reports them itself: a command-line program
 * that prints the error as its one line.  Daemons keep the warnings, the
 * trail of what failed when.  Set before the store is used. */
void ims_store_set_quiet(struct ims_store *st, bool quiet);

/* IMS_OK when the backend answers PING, IMS_ETEMP otherwise. */
ims_status ims_store_ping(struct ims_store *st);

/* A new, empty transaction; the caller owns it (ims_store_txn_free). */
struct ims_store_txn *ims_store_txn_new(void);
void ims_store_txn_free(struct ims_store_txn *t);

/* Starts a new command.  Arguments added after it belong to it. */
ims_status ims_store_txn_cmd(struct ims_store_txn *t, const char *name);

/* Adds an argument to the current command: _arg copies len bytes, _str
 * copies a C string, _ref keeps the pointer (the caller keeps the bytes
 * alive until ims_store_exec returned; used for raw messages), _fmt
 * formats (at most 1024 bytes).  A failed add marks the transaction
 * broken and ims_store_exec then returns the error. */
ims_status ims_store_txn_arg(struct ims_store_txn *t, const void *p, size_t len);
ims_status ims_store_txn_str(struct ims_store_txn *t, const char *s);
ims_status ims_store_txn_ref(struct ims_store_txn *t, const void *p, size_t len);
ims_status ims_store_txn_fmt(struct ims_store_txn *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Number of commands in t. */
size_t ims_store_txn_count(const struct ims_store_txn *t);

/* Runs t as MULTI, its commands, EXEC.  IMS_OK when EXEC ran every command
 * without an error reply; IMS_ETEMP when Redis is unreachable, timed out or
 * aborted the transaction; IMS_EINVAL when a command was refused (its error
 * text goes to err) or t's keys are in more than one slot (cluster and
 * memory backends: nothing sent).
 * t is not modified and may be freed after. */
ims_status ims_store_exec(struct ims_store *st, const struct ims_store_txn *t, char *err,
                          size_t errlen);

/* Runs n transactions (at most 64) in order, each as its own MULTI/EXEC
 * on its own slot, sent in one write per node and answered in one read
 * (one round trip instead of n).  Each block is atomic on its own; the result is the first failure
 * (a later block may have been applied when an earlier one failed), or
 * IMS_OK when every block ran. */
ims_status ims_store_exec_all(struct ims_store *st, const struct ims_store_txn *const *txns,
                              size_t n, char *err, size_t errlen);

/* Durability ([redis] wait_replicas, wait_timeout_ms): the scan engine's
 * store (lib/engine.c: the milter's, and the scans of ims rescan and the
 * web API's submissions) sets them; a handle from ims_store_open alone
 * does not wait (the web API's click records).  With replicas > 0, ims_store_exec and
 * _exec_all send WAIT replicas timeout_ms after the blocks, on the same
 * connection (on a cluster after each block, on the connection of the node
 * that took it: WAIT counts the replicas that have everything that
 * connection wrote); fewer replicas acknowledging in time -> IMS_ETEMP
 * (the blocks ran: the callers' stores are idempotent, a retry records
 * once).  Redis replication is asynchronous: without it, a master that
 * dies before its replica got a block loses what the caller was told is
 * stored.  0 (the default): no WAIT.  ims_store_run and _cmdv never wait. */
void ims_store_set_wait(struct ims_store *st, int replicas, int timeout_ms);

/* Runs one command outside a transaction and hands back its reply as text:
 * integers and status replies as their digits/text, bulk strings as their
 * bytes, nil as NULL with IMS_ENOTFOUND, arrays as their elements joined
 * by '\n'.  *out is the caller's (free()). */
ims_status ims_store_query(struct ims_store *st, const struct ims_store_txn *one_cmd, char **out,
                           size_t *outlen);

/* ---- commands with replies (lib/ domain modules) ---- */

/* ims_store_run flags. */
#define IMS_STORE_ATOMIC 1u /* MULTI ... EXEC: all or nothing, one slot */

/* Runs one command (hiredis argv form; lens NULL: C strings) and hands
 * its reply to *reply (the caller's: ims_store_reply_free).  IMS_OK when
 * Redis answered with anything but an error reply (nil included); else
 * *reply is NULL, the status is ims_store_error_status's (IMS_ETEMP when
 * Redis was unreachable) and err says what happened.  A command without a
 * key (PING, INFO, SCAN...) goes to any node: see ims_store_cmdv_at for
 * the ones that must see every master.  Safe from any thread. */
ims_status ims_store_cmdv(struct ims_store *st, struct redisReply **reply, int argc,
                          const char *const *argv, const size_t *lens, char *err, size_t errlen);

/* Runs every command of t in order, sent in one write per node, and hands
 * command i's reply to replies[i] (an array of ims_store_txn_count(t)
 * pointers, each the caller's: ims_store_reply_free or
 * ims_store_replies_free).  With IMS_STORE_ATOMIC the commands run as one
 * MULTI/EXEC block (all keys in one slot, else IMS_EINVAL before anything
 * is sent).  IMS_OK when every command answered without an error reply;
 * else every replies[i] is NULL and the status and err are those of the
 * first failure (a plain pipeline may have applied the other commands). */
ims_status ims_store_run(struct ims_store *st, const struct ims_store_txn *t, unsigned flags,
                         struct redisReply **replies, char *err, size_t errlen);

/* Number of masters: 1 on a standalone Redis, the cluster's masters on a
 * cluster (from the slot map, refreshed on use), 0 when none answered. */
size_t ims_store_masters(struct ims_store *st);

/* Like ims_store_cmdv on master i (0 <= i < ims_store_masters): for the
 * commands that work per node (SCAN, DBSIZE, INFO, FLUSHDB, SCRIPT LOAD). */
ims_status ims_store_cmdv_at(struct ims_store *st, size_t master, struct redisReply **reply,
                             int argc, const char *const *argv, const size_t *lens, char *err,
                             size_t errlen);

/* Frees a reply (NULL is fine) and n replies of an array. */
void ims_store_reply_free(struct redisReply *r);
void ims_store_replies_free(struct redisReply **rs, size_t n);

/* The one mapping of a Redis error reply (its text, "LOADING ...") to a
 * status: IMS_ETEMP, IMS_EPERM or IMS_EINVAL (see the top of this file). */
ims_status ims_store_error_status(const char *msg);

/* The slot rule of the store: IMS_OK when every command of t with keys
 * has them in one slot (the slot in *slot, -1 when no command has a key);
 * IMS_EINVAL otherwise, with the two keys' commands named in err. */
ims_status ims_store_txn_slot(const struct ims_store_txn *t, int *slot, char *err, size_t errlen);

/* Memory backend only: everything executed so far, one command per line,
 * arguments separated by spaces, binary bytes as \xNN, arguments longer
 * than 200 bytes cut to "<N bytes>".  Static to the store: do not free. */
const char *ims_store_memory_log(struct ims_store *st);

/* Memory backend only: while down, every exec returns IMS_ETEMP. */
void ims_store_memory_set_down(struct ims_store *st, bool down);

/* Memory backend only: WAIT answers n replicas (negative, the default: as
 * many as asked).  The log shows "WAIT N MS" after the blocks it follows. */
void ims_store_memory_set_replicas(struct ims_store *st, int n);

#endif
