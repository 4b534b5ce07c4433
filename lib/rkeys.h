/* Every Redis key name and hash tag of ims, spelled here and nowhere else
 * (tests/rkeys.sh fails on an "ims:" key literal in any other C file).
 * The layout and what each key holds: docs/redis-schema.md.
 *
 * Two hash tags, so every MULTI/EXEC and Lua script stays in one slot of a
 * Redis Cluster:
 *   {ADDR}    one per mailbox (the lower-cased address): IMS_KEY_MAILBOX
 *   {global}  the admin's view, the streams and the counters: IMS_KEY_GLOBAL
 *
 * Names ending in _FMT are printf formats (ADDR, an id, a domain, ...);
 * names ending in _PREFIX are followed directly by an id or a name; the
 * others are whole keys.  A literal can be joined with them at compile
 * time ("GET " IMS_KEY_SCAN_PREFIX "%s"); ims_key() formats one into a
 * caller's buffer and refuses a key longer than it. */
#ifndef IMS_RKEYS_H
#define IMS_RKEYS_H

#include <stdarg.h>
#include <stdio.h>

#include "status.h"

/* A key of the {global} slot / of ADDR's slot ("%s" = ADDR). */
#define IMS_KEY_GLOBAL(name)  "ims:{global}:" name
#define IMS_KEY_MAILBOX(name) "ims:{%s}:" name

/* Room for any key ims builds: a prefix, a 320-byte address and a name. */
#define IMS_KEY_MAX 512

/* ---- per mailbox: ims:{ADDR}:... (each a format of ADDR) ---- */

/* lib/users.c: Dovecot's passdb/userdb JSON, the account hash, aliases */
#define IMS_KEY_PASSDB_FMT  IMS_KEY_MAILBOX("passdb")
#define IMS_KEY_USERDB_FMT  IMS_KEY_MAILBOX("userdb")
#define IMS_KEY_USER_FMT    IMS_KEY_MAILBOX("user")
#define IMS_KEY_ALIASES_FMT IMS_KEY_MAILBOX("aliases")
/* ims-webapi's refresh-token family of one login: ADDR, FAMILY */
#define IMS_KEY_REFRESH_FMT IMS_KEY_MAILBOX("refresh:%s")
/* ADDR's live refresh families (lib/sessions.h ims_sessions_end_all) */
#define IMS_KEY_SESSIONS_FMT IMS_KEY_MAILBOX("sessions")
/* lib/quarantine.c: ids held for ADDR; the last digest's time */
#define IMS_KEY_QUARANTINE_USER_FMT   IMS_KEY_MAILBOX("quarantine")
#define IMS_KEY_QUARANTINE_DIGEST_FMT IMS_KEY_MAILBOX("qdigest")
/* ADDR, a message's idempotency key -> the scan id its held entry in ADDR's
 * index has (a retry reuses it: lib/scan_store.c) */
#define IMS_KEY_QUARANTINE_USER_SEEN_FMT IMS_KEY_MAILBOX("qseen:%s")
/* lib/senders.c: ADDR's own sender list */
#define IMS_KEY_SENDERS_USER_FMT IMS_KEY_MAILBOX("senders")
/* lib/correspondents.c: ADDR's correspondents and their domains */
#define IMS_KEY_CORRESPONDENTS_FMT        IMS_KEY_MAILBOX("correspondents")
#define IMS_KEY_CORRESPONDENT_DOMAINS_FMT IMS_KEY_MAILBOX("corrdomains")
/* ims migrate: the old mailbox copies (KEYS/SCAN patterns, "*" = any ADDR) */
#define IMS_KEY_OLD_MSG_PATTERN   "ims:{*}:msg:*"
#define IMS_KEY_OLD_MSG_MARK      "}:msg:"                   /* between ADDR and ID */
#define IMS_KEY_OLD_SCAN_FMT      IMS_KEY_MAILBOX("scan:%s") /* ADDR, ID */
#define IMS_KEY_OLD_INBOX_PATTERN "ims:{*}:inbox"
#define IMS_KEY_OLD_SENT_PATTERN  "ims:{*}:sent"

/* ---- the admin's view: ims:{global}:... ---- */

/* lib/scan_store.c: scan logs, briefs, indexes, top senders */
#define IMS_KEY_SCANS              IMS_KEY_GLOBAL("scans")
#define IMS_KEY_SCAN_PREFIX        IMS_KEY_GLOBAL("scan:")
#define IMS_KEY_BRIEF_PREFIX       IMS_KEY_GLOBAL("brief:")
#define IMS_KEY_IDX_ACTION_PREFIX  IMS_KEY_GLOBAL("idx:action:")
#define IMS_KEY_IDX_VERDICT_PREFIX IMS_KEY_GLOBAL("idx:verdict:")
#define IMS_KEY_IDX_SYMBOL_PREFIX  IMS_KEY_GLOBAL("idx:symbol:")
#define IMS_KEY_TOP_SENDERS        IMS_KEY_GLOBAL("top:senders")
#define IMS_KEY_SCAN_PATTERN       IMS_KEY_SCAN_PREFIX "*"
/* a message from an MTA stored before -> its scan id (lib/scan.h) */
#define IMS_KEY_SEEN_PREFIX IMS_KEY_GLOBAL("seen:")

/* the scan counters, written in the scan's MULTI/EXEC (lib/scan_store.c):
 * since the start (no TTL, GET /metrics), and per UTC hour (TTL the
 * retention, /admin/stats; strftime(3) format of a bucket; the prefix,
 * then YYYYMMDDHH).  Fields: total, action:ACTION, verdict:VERDICT,
 * symbol:NAME. */
#define IMS_KEY_STATS_TOTAL           IMS_KEY_GLOBAL("stats:total")
#define IMS_KEY_STATS_BUCKET_STRFTIME IMS_KEY_GLOBAL("stats:%Y%m%d%H")
#define IMS_KEY_STATS_BUCKET_PREFIX   IMS_KEY_GLOBAL("stats:")
/* the same counters per UTC day (TTL the retention), written with the
 * hour's: the 30 d dashboard range reads 30 of them, not 720 hours */
#define IMS_KEY_STATS_DAY_STRFTIME IMS_KEY_GLOBAL("statsd:%Y%m%d")
/* the admins' dashboard (lib/dashboard.h): the hour's bucket also has
 * spf:R, dkim:R, dmarc:R and click:VERDICT; 5-minute buckets (strftime,
 * minutes floored to 5); the top lists of one hour or day: KIND
 * (senders, domains, targets), "h" or "d", YYYYMMDDHH or YYYYMMDD */
#define IMS_KEY_STATS5_STRFTIME IMS_KEY_GLOBAL("stats5:%Y%m%d%H%M")
#define IMS_KEY_DASH_TOP_FMT    IMS_KEY_GLOBAL("top:%s:%s:%s")

/* lib/users.c: every account; alias -> owner */
#define IMS_KEY_USERS   IMS_KEY_GLOBAL("users")
#define IMS_KEY_ALIASES IMS_KEY_GLOBAL("aliases")

/* lib/quarantine.c */
#define IMS_KEY_QUARANTINE       IMS_KEY_GLOBAL("quarantine")
#define IMS_KEY_QUARANTINE_BYTES IMS_KEY_GLOBAL("quarantine:bytes")
#define IMS_KEY_QUARANTINE_SIZES IMS_KEY_GLOBAL("quarantine:sizes")
#define IMS_KEY_QMSG_PREFIX      IMS_KEY_GLOBAL("qmsg:")
#define IMS_KEY_QRAW_PREFIX      IMS_KEY_GLOBAL("qraw:")

/* lib/senders.c: a local domain's sender list (DOMAIN) */
#define IMS_KEY_SENDERS_DOMAIN_FMT IMS_KEY_GLOBAL("senders:%s")

/* lib/correspondents.c: display name -> local address */
#define IMS_KEY_BEC_NAMES IMS_KEY_GLOBAL("bec:names")

/* lib/events.c: the event stream; ims events forward's position */
#define IMS_KEY_EVENTS        IMS_KEY_GLOBAL("events")
#define IMS_KEY_SIEM_POSITION IMS_KEY_GLOBAL("siem:position")

/* lib/clicks.c: clicks per scan (ID) and per user (ADDR); bad link hosts */
#define IMS_KEY_CLICKS_SCAN_FMT IMS_KEY_GLOBAL("clicks:scan:%s")
#define IMS_KEY_CLICKS_USER_FMT IMS_KEY_GLOBAL("clicks:user:%s")
#define IMS_KEY_BAD_HOSTS       IMS_KEY_GLOBAL("links:badhosts")

/* lib/feedback.c: the stream; per USER: message key -> label, the rate */
#define IMS_KEY_FEEDBACK             IMS_KEY_GLOBAL("feedback")
#define IMS_KEY_FEEDBACK_SEEN_PREFIX IMS_KEY_GLOBAL("feedback:seen:")
#define IMS_KEY_FEEDBACK_RATE_PREFIX IMS_KEY_GLOBAL("feedback:rate:")

/* ims-webapi's one-use frame tickets (lib/frametickets.h): TICKET -> "USER\nMSGID" */
#define IMS_KEY_FRAME_FMT IMS_KEY_GLOBAL("frame:%s")

/* ims-webapi's rate limits: KIND, KEY (login:ip:IP, send:user:ADDR, ...) */
#define IMS_KEY_RATELIMIT_FMT IMS_KEY_GLOBAL("ratelimit:%s:%s")

/* Formats a key from one of the _FMT formats above into buf (len bytes,
 * IMS_KEY_MAX fits every key ims builds).  IMS_EINVAL when it does not fit
 * (buf then holds "" so a cut key is never used). */
static inline ims_status ims_key(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline ims_status ims_key(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return IMS_EINVAL;
	}
	return IMS_OK;
}

#endif
