/* The quarantine: messages held for review, kept by ims and nowhere else
 * (the MTA was told to discard its copy once the held copy was stored).
 *
 * Keys (docs/redis-schema.md; their names in lib/rkeys.h):
 *
 *   ims:{global}:quarantine         sorted set: ids still held for someone, by time (ms)
 *   ims:{global}:quarantine:bytes   total size of the held bodies (the [quarantine] max_bytes cap)
 *   ims:{global}:quarantine:sizes   hash: id -> size counted in :bytes (until released/purged)
 *   ims:{global}:qraw:ID            string: the held message (dropped once released to all)
 *   ims:{global}:qmsg:ID            hash: size, time, mail_from, rcpt (held recipients,
 *                                   comma-separated), reason, class, queue_id, subject, from,
 *                                   score; per recipient c:ADDR (claimed "MS WHO") and d:ADDR
 *                                   (delivered "MS WHO"); released_by/released_at once every
 *                                   recipient got it
 *   ims:{ADDR}:quarantine           sorted set: ids held for ADDR, by time
 *   ims:{ADDR}:qdigest              ms of the newest held message the last digest listed
 *
 * Release is claim-then-deliver: ims_quarantine_claim marks recipients as
 * being delivered in one Lua script (so a double click, two admins or a
 * retry claim each recipient once), the caller delivers, then
 * ims_quarantine_finish (delivered) or ims_quarantine_unclaim (failed).
 * A claim older than IMS_QUARANTINE_CLAIM_STALE_MS (a web API process that
 * died between claim and delivery) may be claimed again.
 *
 * Every call takes the store (lib/store.h); the hold is added to the
 * milter's store transaction. */
#ifndef IMS_QUARANTINE_H
#define IMS_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "status.h"
#include "store.h"
#include "tpage.h"

struct ims_store;

#define IMS_QUARANTINE_CLAIM_STALE_MS (10 * 60 * 1000)
#define IMS_QUARANTINE_MAX_RCPTS      1000 /* = IMS_SCAN_MAX_RCPTS */
#define IMS_QUARANTINE_ADDR_MAX       320

/* What the milter holds.  Strings are borrowed. */
struct ims_quarantine_hold {
	const char *id;
	uint64_t time_ms;
	const char *raw; /* the message as it would have been delivered */
	size_t len;
	const char *mail_from, *rcpt_list; /* held recipients, comma-separated */
	const char *reason, *hold_class, *queue_id, *subject, *from;
	double score;
};

/* Adds to t (a {global} transaction) the commands that hold h: purge of
 * entries past retention, the hash, the index, the byte count. */
ims_status ims_quarantine_txn_hold(struct ims_store_txn *t, const struct ims_conf *c,
                                   const struct ims_quarantine_hold *h);

/* A new transaction (the caller's) for ADDR's slot: its index entry. */
struct ims_store_txn *ims_quarantine_txn_user(const struct ims_conf *c, const char *addr,
                                              const char *id, uint64_t time_ms);

/* IMS_OK when len more bytes fit under [quarantine] max_bytes, IMS_ELIMIT
 * when the quarantine is full, IMS_ETEMP when Redis failed.  A soft cap:
 * holds that run at the same time may pass it together. */
ims_status ims_quarantine_room(struct ims_store *st, const struct ims_conf *c, size_t len);

/* One held message as read back.  Strings are owned (ims_quarantine_msg_free). */
struct ims_quarantine_msg {
	char id[32];
	uint64_t time_ms, released_at;
	char *raw; /* NULL once released to everyone */
	size_t raw_len, size;
	char *mail_from, *reason, *hold_class, *queue_id, *subject, *from, *released_by;
	double score;
	char *rcpt[IMS_QUARANTINE_MAX_RCPTS];      /* held recipients */
	char *delivered[IMS_QUARANTINE_MAX_RCPTS]; /* "MS WHO" or NULL, per rcpt */
	size_t nrcpt;
};

/* Reads n held messages (without raw) in one round trip; out[i] is NULL
 * for an id that is gone.  The caller frees each out[i].  IMS_ETEMP: the
 * connection failed or is out of step; close it. */
ims_status ims_quarantine_get_many(struct ims_store *st, const char *const *ids, size_t n,
                                   struct ims_quarantine_msg **out);

/* Reads id (without raw unless with_raw).  IMS_ENOTFOUND when there is
 * no such held message (or it expired), IMS_ETEMP when Redis failed.  The
 * caller frees *out with ims_quarantine_msg_free. */
ims_status ims_quarantine_get(struct ims_store *st, const char *id, bool with_raw,
                              struct ims_quarantine_msg **out);
void ims_quarantine_msg_free(struct ims_quarantine_msg *m);

/* A page of held message ids, newest first (lib/tpage.h): of the whole
 * quarantine (addr NULL) or of what is held for addr.  IMS_EINVAL for a
 * malformed cursor or address, IMS_ETEMP when Redis failed.  The caller
 * frees p with ims_page_free (also after a failure). */
ims_status ims_quarantine_page(struct ims_store *st, const char *addr, const char *cursor,
                               size_t limit, struct ims_page *p);

/* Index of addr among m's held recipients, or -1. */
int ims_quarantine_held_for(const struct ims_quarantine_msg *m, const char *addr);

/* Claims the given recipients of id for delivery by who at now_ms.
 * claimed[i] is set to 1 for each rcpts[i] this call claimed (not yet
 * delivered, not claimed by a live claim).  IMS_ENOTFOUND when the held
 * message is gone, IMS_ETEMP when Redis failed. */
ims_status ims_quarantine_claim(struct ims_store *st, const char *id, const char *const *rcpts,
                                size_t n, const char *who, uint64_t now_ms, int *claimed);

/* Gives claims back after a failed delivery. */
ims_status ims_quarantine_unclaim(struct ims_store *st, const char *id, const char *const *rcpts,
                                  size_t n);

/* Records delivery to rcpts by who: drops them from their own indexes and,
 * when every held recipient has it, marks the message released (drops the
 * body, its bytes and the global index entry).  *all_done (may be NULL)
 * says whether that happened. */
ims_status ims_quarantine_finish(struct ims_store *st, const struct ims_conf *c, const char *id,
                                 const char *const *rcpts, size_t n, const char *who,
                                 uint64_t now_ms, bool *all_done);

/* Deletes a held message and every index entry.  IMS_ENOTFOUND when gone. */
ims_status ims_quarantine_delete(struct ims_store *st, const struct ims_conf *c, const char *id);

/* The copy delivered on release: raw without X-Spam-Flag and X-Spam-Status
 * (and without any X-IMS-Released), with X-IMS-Released ("by WHO at
 * RFC 3339 time"), X-Spam-Flag: NO and X-Spam-Status: No, released... in
 * front, so the Junk rule does not file it.  *out is the caller's. */
ims_status ims_quarantine_released_copy(const char *raw, size_t len, const char *who,
                                        uint64_t now_ms, char **out, size_t *outlen);

/* Records "this held message is not spam" from who in the one feedback
 * store (lib/feedback.h: one entry per message and user, the [feedback]
 * bounds of conf; the message is known by its scan id id).  *entry_id (may
 * be NULL, 64 bytes) gets the stream id, "" when nothing was written (a
 * duplicate or a bound).  IMS_ETEMP when Redis failed. */
ims_status ims_quarantine_report_ham(struct ims_store *st, const struct ims_conf *conf,
                                     const char *who, const char *id, const char *raw, size_t len,
                                     char *entry_id);

/* Whether users may release a message held for hold_class themselves
 * ([quarantine] user_release). */
bool ims_quarantine_user_may_release(const struct ims_conf *c, const char *hold_class);

/* Purges held messages older than [quarantine] retention_days (at most
 * max of them); *purged (may be NULL) gets the count. */
ims_status ims_quarantine_purge(struct ims_store *st, const struct ims_conf *c, uint64_t now_ms,
                                size_t max, size_t *purged);

/* The user-side index: up to max ids held for addr with time > after_ms,
 * oldest first, into ids (each IMS_QUARANTINE_ID_MAX + 1 bytes) and
 * times.  *n gets the count. */
#define IMS_QUARANTINE_ID_MAX 31
ims_status ims_quarantine_user_since(struct ims_store *st, const char *addr, uint64_t after_ms,
                                     size_t max, char (*ids)[IMS_QUARANTINE_ID_MAX + 1],
                                     uint64_t *times, size_t *n);

/* The digest cursor of addr (0 when none) and its update. */
ims_status ims_quarantine_digest_get(struct ims_store *st, const char *addr, uint64_t *ms);
ims_status ims_quarantine_digest_set(struct ims_store *st, const char *addr, uint64_t ms);

#endif
