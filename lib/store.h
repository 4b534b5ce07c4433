/* The Redis store: transactions of commands, sent as one MULTI/EXEC.
 *
 * Callers build an ims_store_txn (a list of commands, each a list of binary
 * arguments) and hand it to ims_store_exec, which either applies all of it or
 * reports why not.  Connection trouble (Redis down, timeout, EXEC aborted) is
 * IMS_ETEMP: the milter turns it into 451 4.7.1.
 *
 * Two backends sit behind one small vtable: Redis through hiredis (a pool of
 * connections, safe to share between threads) and an in-memory recorder for
 * unit tests, which keeps every command as a text line and can pretend to
 * be down.  Key layout: docs/redis-schema.md. */
#ifndef IMS_STORE_H
#define IMS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "status.h"

struct ims_store;
struct ims_store_txn;

/* Hard limits on one transaction. */
#define IMS_STORE_MAX_CMDS 4096
#define IMS_STORE_MAX_ARGS 64

/* Opens a Redis store from [redis] (host/port or socket, password, db,
 * timeout).  Connects lazily: a Redis that is down now is not an error
 * here, only at exec time.  The caller owns *out (ims_store_free). */
ims_status ims_store_open(const struct ims_conf *conf, struct ims_store **out);

/* Opens the in-memory recorder (unit tests).  The caller owns *out. */
ims_status ims_store_open_memory(struct ims_store **out);

/* Frees the store and closes its connections.  NULL is fine. */
void ims_store_free(struct ims_store *st);

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
 * text goes to err).  t is not modified and may be freed after. */
ims_status ims_store_exec(struct ims_store *st, const struct ims_store_txn *t, char *err,
                          size_t errlen);

/* Runs n transactions (at most 64) in order, each as its own MULTI/EXEC,
 * sent in one write and answered in one read (one round trip instead of
 * n).  Each block is atomic on its own; the result is the first failure
 * (a later block may have been applied when an earlier one failed), or
 * IMS_OK when every block ran. */
ims_status ims_store_exec_all(struct ims_store *st, const struct ims_store_txn *const *txns,
                              size_t n, char *err, size_t errlen);

/* Runs one command outside a transaction and hands back its reply as text:
 * integers and status replies as their digits/text, bulk strings as their
 * bytes, nil as NULL with IMS_ENOTFOUND, arrays as their elements joined
 * by '\n'.  *out is the caller's (free()). */
ims_status ims_store_query(struct ims_store *st, const struct ims_store_txn *one_cmd, char **out,
                           size_t *outlen);

/* Memory backend only: everything executed so far, one command per line,
 * arguments separated by spaces, binary bytes as \xNN, arguments longer
 * than 200 bytes cut to "<N bytes>".  Static to the store: do not free. */
const char *ims_store_memory_log(struct ims_store *st);

/* Memory backend only: while down, every exec returns IMS_ETEMP. */
void ims_store_memory_set_down(struct ims_store *st, bool down);

#endif
