/* Login sessions of ims-webapi: refresh-token families (docs/redis-schema.md)
 *
 *   ims:{ADDR}:refresh:FAMILY  hash: current = hex SHA-256 of the live
 *                              refresh token, expires (ms); TTL the
 *                              session's lifetime
 *   ims:{ADDR}:sessions        set of ADDR's families, so that all of them
 *                              can end at once (a password reset, a
 *                              disable); members whose family expired are
 *                              pruned at each login
 *
 * The token format and its hashing stay in webapi/session.c; this module
 * keeps the families.  Every call touches one mailbox's slot ({ADDR}). */
#ifndef IMS_SESSIONS_H
#define IMS_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

struct ims_store;

/* Starts (or replaces) family fam of addr with the token hash hash, living
 * ttl_s seconds from now_ms; one MULTI/EXEC.  IMS_ETEMP when Redis failed. */
ims_status ims_sessions_put(struct ims_store *st, const char *addr, const char *fam,
                            const char *hash, uint64_t now_ms, int ttl_s);

/* Replaces the live token of a family, in one Lua script: IMS_OK when
 * old_hash was the live one (now new_hash); IMS_ENOTFOUND when the family
 * is gone (ended, expired); IMS_EPERM when old_hash was replaced before (a
 * reuse: the family is deleted).  IMS_ETEMP when Redis failed. */
ims_status ims_sessions_rotate(struct ims_store *st, const char *addr, const char *fam,
                               const char *old_hash, const char *new_hash);

/* Ends a family (logout).  IMS_ETEMP when Redis failed. */
ims_status ims_sessions_end(struct ims_store *st, const char *addr, const char *fam);

/* Ends every family of addr (and so every access token issued for them),
 * in one Lua script; *ended (may be NULL) says how many.  IMS_ETEMP when
 * Redis failed. */
ims_status ims_sessions_end_all(struct ims_store *st, const char *addr, size_t *ended);

/* The account behind a session, read in one round trip: IMS_OK when addr
 * exists, is not disabled and family fam is live (*admin then says its
 * role as stored now, not as a token said); IMS_EPERM otherwise.
 * IMS_ETEMP when Redis failed. */
ims_status ims_sessions_check(struct ims_store *st, const char *addr, const char *fam, bool *admin);

#endif
