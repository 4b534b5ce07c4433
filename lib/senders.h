/* Per-user and per-domain allow/block lists of senders, managed over the
 * web API (users their own, admins any user's and each local domain's) and
 * read by the scan for the recipients of inbound mail.  Keys
 * (docs/redis-schema.md):
 *
 *   ims:{ADDR}:senders             hash: entry -> "block" | "allow" (ADDR's own list)
 *   ims:{global}:senders:DOMAIN    hash: entry -> "block" | "allow" (a local domain's list)
 *
 * An entry is an address ("bob@example.org") or a domain ("example.org",
 * which also covers the names under it), lower case.  A list holds at most
 * [senders] max_entries entries.
 *
 * In the scan (ims_senders_verdict): the envelope sender and the From
 * address are looked up in the recipient's list and in the list of the
 * recipient's domain.  A block entry anywhere wins; an allow entry counts
 * only for the From address of a message whose DMARC check passed (an
 * allow list must not be a way around authentication). */
#ifndef IMS_SENDERS_H
#define IMS_SENDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct ims_store;

#define IMS_SENDERS_ENTRY_MAX 254
#define IMS_SENDERS_KEY_MAX   300

enum ims_sender_action { IMS_SENDER_NONE = 0, IMS_SENDER_ALLOW, IMS_SENDER_BLOCK };

/* "allow"/"block" -> the action; -1 for anything else. */
int ims_sender_action_parse(const char *s);
const char *ims_sender_action_name(enum ims_sender_action a);

/* Checks an entry and writes it lower-cased to out (IMS_SENDERS_ENTRY_MAX
 * + 1 bytes): an address local@domain or a domain.  IMS_EINVAL otherwise. */
ims_status ims_senders_entry_norm(const char *in, char *out);

/* The key of a user's (addr, canonical) or a domain's list into out
 * (IMS_SENDERS_KEY_MAX bytes). */
void ims_senders_user_key(const char *addr, char *out);
void ims_senders_domain_key(const char *domain, char *out);

/* Web API side.  IMS_ETEMP when Redis
 * failed.  list calls fn once per entry (any order). */
ims_status ims_senders_list(struct ims_store *st, const char *key,
                            void (*fn)(void *arg, const char *entry, const char *action),
                            void *arg);
/* Adds or changes entry; IMS_ELIMIT when the list already holds max
 * entries (an existing entry may still change its action). */
ims_status ims_senders_put(struct ims_store *st, const char *key, const char *entry,
                           enum ims_sender_action a, int max);
/* IMS_ENOTFOUND when entry was not in the list. */
ims_status ims_senders_delete(struct ims_store *st, const char *key, const char *entry);

/* Scan side: the verdict of rcpt's lists (its own, then its domain's) on
 * the envelope sender mail_from and the From address from (either may be
 * "" or NULL).  *action is NONE, ALLOW or BLOCK; *why (whylen bytes) says
 * which list and entry.  IMS_ETEMP when Redis failed (*action NONE). */
ims_status ims_senders_verdict(struct ims_store *st, const char *rcpt, const char *mail_from,
                               const char *from, bool dmarc_pass, enum ims_sender_action *action,
                               char *why, size_t whylen);

#endif
