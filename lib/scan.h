/* THE scan: one function that every entry point shares (ims-milter for
 * each message, ims-webapi for POST /scan-email).
 *
 *   raw message + envelope  ->  SPF/DKIM/DMARC, MIME parse, heuristics, SVM
 *                           ->  symbols with weights, score, action
 *                           ->  headers to add, JSON scan log
 *
 * A scan result is an opaque object owned by the caller.  Storing it is a
 * separate step (ims_scan_store), so /scan-email can scan without storing.
 * Key layout and the scan log's JSON: docs/redis-schema.md. */
#ifndef IMS_SCAN_H
#define IMS_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "status.h"

struct ims_scan;

enum ims_action {
	IMS_ACTION_ACCEPT = 0,
	IMS_ACTION_TAG,
	IMS_ACTION_QUARANTINE,
	IMS_ACTION_REJECT,
	IMS_ACTION_TEMPFAIL,
};

/* Hard limits on one scan. */
#define IMS_SCAN_MAX_RCPTS   1000
#define IMS_SCAN_MAX_SYMBOLS 64

/* Envelope and connection of one message.  Every string may be NULL
 * (treated as ""); all are copied by ims_scan_run. */
struct ims_envelope {
	const char *client_ip;   /* "198.51.100.7" */
	const char *client_name; /* reverse name as the MTA saw it */
	const char *helo;
	const char *auth_user;    /* SMTP AUTH login, NULL when not authenticated */
	const char *mail_from;    /* without <>; "" for the null sender */
	const char *const *rcpts; /* without <> */
	size_t nrcpts;
	const char *queue_id;
	const char *trace_id; /* NULL: the scan id is the trace id */
};

/* Scans len bytes at raw (the message as the MTA received it).  On IMS_OK
 * *out is a new result owned by the caller (ims_scan_free), with action
 * accept/tag/quarantine/reject.  IMS_ETEMP when a part the scan needs is
 * missing (no model loaded, or the user registry could not say whether an
 * authenticated sender owns its From address); *out is then still set,
 * with action tempfail and a reason, so the caller can log it.  IMS_ENOMEM
 * otherwise.  Outbound mail (auth_user set) is DKIM-signed only when every
 * From mailbox and a local envelope sender are auth_user or one of its
 * aliases (lib/users.h); a local one that is not adds AUTH_FROM_NOT_OWNED
 * or AUTH_MAIL_FROM_NOT_OWNED. */
ims_status ims_scan_run(struct ims_engine *eng, const struct ims_envelope *env, const char *raw,
                        size_t len, struct ims_scan **out);

void ims_scan_free(struct ims_scan *s);

/* Writes the scan to Redis (docs/redis-schema.md): one MULTI/EXEC per
 * local recipient mailbox (or the authenticated sender's sent box) with
 * the message as stored (ims_scan_rewrite of raw), then one for the global
 * records and the event.  IMS_ETEMP when Redis failed: the caller answers
 * with a temporary failure.  err (may be NULL) says why. */
ims_status ims_scan_store(struct ims_engine *eng, const struct ims_scan *s, const char *raw,
                          size_t len, char *err, size_t errlen);

/* Post-delivery protection (`ims rescan`): s scored a message that was
 * delivered already, so it cannot be rejected any more; it is held
 * instead.  Sets the action to quarantine with hold class "rescan" (an
 * admin releases it; [quarantine] user_release may list the class) and
 * the reason "after delivery: REASON", so ims_scan_store keeps the message
 * in the quarantine for its local recipients. */
void ims_scan_hold_after_delivery(struct ims_scan *s);
/* A message from an MTA stored before (idempotent stores, issue 10): an
 * MTA retries after a temporary failure (a 451 whose transaction was
 * committed late, or a failure after the store) and the retry must not
 * record a second scan.  The key is a hash of the Message-ID, envelope
 * and body (or, without a Message-ID, of the queue id and the whole
 * message); ims_scan_store records it with the scan log
 * (IMS_KEY_SEEN_PREFIX KEY -> scan id, for the MTA's retry window: 7 days
 * at most).  A duplicate is confirmed by a write in that key's slot
 * through ims_store_exec (WAIT for [redis] wait_replicas) before IMS_OK.
 * IMS_OK: stored before; s now carries the first scan's id (its
 * X-IMS-Scan-Id) and the caller must not store it again.  IMS_ENOTFOUND:
 * new (or no key: not from an MTA); a held message whose earlier attempt
 * wrote a recipient's index entry but not its global record takes that
 * attempt's id (IMS_KEY_QUARANTINE_USER_SEEN_FMT), so the store that follows
 * leaves one entry per recipient.  IMS_ETEMP: Redis failed. */
ims_status ims_scan_recall(struct ims_engine *eng, struct ims_scan *s);

/* The message as delivered: our headers first, then raw without the
 * header fields of the names we add (a sender cannot forge a verdict).
 * *out (the caller's, free()) and *outlen.  When raw has no parseable
 * header, our headers are put in front of it unchanged. */
ims_status ims_scan_rewrite(const struct ims_scan *s, const char *raw, size_t len, char **out,
                            size_t *outlen);

/* 1 when s holds the message in the quarantine for the envelope recipient
 * addr (action quarantine and a local mailbox, [milter] local_domains);
 * the MTA must not deliver to addr itself. */
int ims_scan_holds_for(const struct ims_scan *s, const char *addr);

/* The RCPT check ([milter] reject_unknown_recipients): IMS_ENOTFOUND when
 * addr is in [milter] local_domains and has no account in the user
 * registry (refuse it, 550 5.1.1); IMS_OK when it has one, is not local, or
 * the check is off; IMS_ETEMP (or IMS_ENOMEM) when the registry could not
 * answer (tempfail, never accept). */
ims_status ims_scan_check_rcpt(const struct ims_engine *eng, const char *addr);

/* Accessors.  Strings are owned by s and live as long as it. */
const char *ims_scan_id(const struct ims_scan *s);
enum ims_action ims_scan_action(const struct ims_scan *s);
const char *ims_action_name(enum ims_action a); /* "accept", "tag", ... */
double ims_scan_score(const struct ims_scan *s);
const char *ims_scan_verdict(const struct ims_scan *s); /* "ham", "spam" */
double ims_scan_probability(const struct ims_scan *s);
/* Why the action was taken ("score 16.2 >= 15", "DMARC policy reject for
 * example.org", "GTUBE"); "" for accept. */
const char *ims_scan_reason(const struct ims_scan *s);
/* 1 for mail from an authenticated sender (outbound), 0 otherwise. */
int ims_scan_outbound(const struct ims_scan *s);
/* Scan time (Unix ms) and total scan time without DNS-bound checks (µs). */
uint64_t ims_scan_time(const struct ims_scan *s);
long ims_scan_local_us(const struct ims_scan *s);
long ims_scan_total_us(const struct ims_scan *s);

/* Where the time of a scan went, in µs (the scan log's timings_us). */
struct ims_scan_timings {
	long total, parse, spf, dkim, dmarc, heuristics, classify, reputation, antivirus,
	    attachments;
};
void ims_scan_timings(const struct ims_scan *s, struct ims_scan_timings *out);

/* Symbols: count, and the i-th name/weight/detail. */
size_t ims_scan_symbol_count(const struct ims_scan *s);
int ims_scan_symbol(const struct ims_scan *s, size_t i, const char **name, double *weight,
                    const char **detail);

/* The header fields the MTA should add, in order: Authentication-Results,
 * X-Spam-Flag, X-Spam-Score, X-Spam-Status, X-IMS-Scan-Id (and the
 * DKIM-Signature for signed outbound mail, which ims_scan_dkim_signature
 * returns separately as it goes first).  Returns the count; the name and value
 * of field i through ims_scan_header. */
size_t ims_scan_header_count(const struct ims_scan *s);
int ims_scan_header(const struct ims_scan *s, size_t i, const char **name, const char **value);
/* NULL unless the message was signed. */
const char *ims_scan_dkim_signature(const struct ims_scan *s);

/* True for the header names ims adds itself (case-insensitive), on a scan
 * or on release from the quarantine (X-IMS-Released). */
int ims_scan_is_own_header(const char *name);

/* The scan log as JSON text (one line), the caller's to free(). */
char *ims_scan_json(const struct ims_scan *s);

/* What a mailbox list shows of a scan, as JSON text (the caller's):
 * {"verdict", "action", "score", "rcpt": [...], "auth": sender or null}
 * (ims:{global}:brief:ID, docs/redis-schema.md). */
char *ims_scan_brief_json(const struct ims_scan *s);

#endif
