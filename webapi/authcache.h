/* A short-lived, per-thread cache of session checks.
 *
 * Authenticating a request costs a Redis round trip (the account's role and
 * disabled flag, and whether the session still exists).  A worker thread
 * remembers the answer for IMS_AUTHCACHE_TTL_MS, so a busy client costs
 * one check per second per thread instead of one per request.  Sessions this
 * process ends (logout, refresh-token reuse) are dropped from every thread's
 * cache at once; changes made elsewhere (ims user, another ims-webapi) apply
 * within the TTL. */
#ifndef IMS_WEB_AUTHCACHE_H
#define IMS_WEB_AUTHCACHE_H

#include "users.h"

#define IMS_AUTHCACHE_TTL_MS 1000

/* 1 and *role set when (sub, fam) was checked less than the TTL ago. */
int ims_authcache_get(const char *sub, const char *fam, enum ims_role *role);

/* Remembers a successful check. */
void ims_authcache_put(const char *sub, const char *fam, enum ims_role role);

/* Forgets every entry of every thread. */
void ims_authcache_clear(void);

#endif
