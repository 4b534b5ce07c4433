/* Refresh tokens and their families (docs/redis-schema.md; the families
 * are kept by lib/sessions.h):
 *
 *   token  = "rt1." FAMILY "." base64url(address) "." SECRET
 *   ims:{ADDR}:refresh:FAMILY  hash: current = SHA-256 of the live token,
 *                              expires (ms); TTL = [webapi] refresh_ttl_s
 *
 * A login starts a family.  Each refresh replaces the token (rotation);
 * presenting a token that was already replaced means it leaked, and the
 * whole family is deleted, which also ends the access tokens issued for
 * it (they carry the family and the server checks it exists). */
#ifndef IMS_WEB_SESSION_H
#define IMS_WEB_SESSION_H

#include <stddef.h>

#include "auth_token.h"
#include "request.h"

#define IMS_REFRESH_MAX 1024

/* Starts a family for addr.  *token (malloc'd, the caller's) and fam
 * (IMS_TOKEN_FAMILY_LEN + 1 bytes) are set.  IMS_ETEMP with a 503 on r
 * when Redis failed. */
ims_status ims_session_start(struct ims_req *r, const char *addr, char **token, char *fam);

/* A new refresh token for addr in family fam (malloc'd, the caller's;
 * NULL when out of memory). */
char *ims_session_token_new(const char *addr, const char *fam);

/* Reads addr and fam (IMS_USERS_ADDR_MAX + 1, IMS_TOKEN_FAMILY_LEN + 1
 * bytes) out of a refresh token without looking it up.  IMS_EPERM when it
 * is malformed (addr and fam are then ""). */
ims_status ims_session_token_parse(const char *token, char *addr, char *fam);

/* Rotates a refresh token.  IMS_OK: *token is the new one, addr and fam
 * (IMS_USERS_ADDR_MAX + 1, IMS_TOKEN_FAMILY_LEN + 1 bytes) are set.
 * IMS_EPERM: unknown, expired, malformed or reused (the family is then
 * revoked).  IMS_ETEMP: Redis failed (503 set on r). */
ims_status ims_session_rotate(struct ims_req *r, const char *old, char **token, char *addr,
                              char *fam);

/* Ends a family.  IMS_ETEMP on a Redis failure. */
ims_status ims_session_end(struct ims_req *r, const char *addr, const char *fam);

#endif
