/* Whom each local user corresponds with, and the display names local users
 * send under: what the impersonation checks (bec.h) know from past mail.
 * Keys (docs/redis-schema.md), addresses and domains lower case:
 *
 *   ims:{ADDR}:correspondents  sorted set: address -> last time (ms) ADDR
 *                              received delivered mail from it or sent to it
 *   ims:{ADDR}:corrdomains     sorted set: registrable domain -> last time (ms),
 *                              the same mail
 *   ims:{global}:bec:names     hash: display name (bec.h's name key) -> the
 *                              local address that sent under it
 *
 * Both sorted sets keep the newest [bec] correspondents_max members and
 * expire [bec] correspondents_days after the last update.  Updated when a
 * scan is stored (lib/scan_store.c): inbound mail that is accepted (not
 * tagged mail: it is suspect) adds its From address to each local
 * recipient's sets; outbound mail of an authenticated local user adds every recipient
 * to the user's, and the From display name to bec:names when the From
 * address is the login's own. */
#ifndef IMS_CORRESPONDENTS_H
#define IMS_CORRESPONDENTS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define IMS_CORRESPONDENTS_ADDR_MAX 320

struct ims_store;
struct ims_store_txn;

/* A transaction that records user (a local address) corresponding with the
 * n addresses peers at now_ms, keeping the newest max members and expiring
 * after days.  NULL when out of memory or user is too long; peers that
 * are too long or have no domain are skipped.  The caller frees it. */
struct ims_store_txn *ims_correspondents_txn(const char *user, const char *const *peers, size_t n,
                                             uint64_t now_ms, int max, int days);

/* A transaction that records the local address addr sending under the
 * display name key (ims_bec_name_key).  NULL when out of memory. */
struct ims_store_txn *ims_bec_name_txn(const char *key, const char *addr);

/* Whether user has corresponded with peer: *seen is 1 (yes) or 0 (no).
 * One ZSCORE; a caller that must tell "no" from "nothing known about user
 * yet" (a new install or user) asks ims_correspondents_domains() first:
 * an empty list is nothing known.  IMS_ETEMP when Redis failed. */
ims_status ims_correspondents_seen(struct ims_store *st, const char *user, const char *peer,
                                   int *seen);

/* The registrable domains user corresponds with, newest first, at most
 * max: *out is a NULL-terminated array the caller frees with
 * ims_correspondents_free_list() (an empty array when none). */
ims_status ims_correspondents_domains(struct ims_store *st, const char *user, size_t max,
                                      char ***out);
void ims_correspondents_free_list(char **list);

/* The local address that sends under display name key, into out ("" when
 * none). */
ims_status ims_bec_name_owner(struct ims_store *st, const char *key, char *out, size_t outlen);

#endif
