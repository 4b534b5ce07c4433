/* Users' spam/ham feedback: what a user says about a message by moving it
 * into Junk or out of it (Dovecot IMAPSieve runs `ims feedback learn`), kept
 * in Redis as training data for `ims train --feedback` and `ims retrain`.
 *
 * Keys (docs/redis-schema.md, "Feedback"), all under {global} so one
 * record is one atomic script in one slot:
 *
 *   ims:{global}:feedback              stream: user, id, label, time, source,
 *                                      size, truncated, raw
 *   ims:{global}:feedback:seen:USER    hash: message key -> "LABEL ENTRY-ID"
 *   ims:{global}:feedback:rate:USER    counter of records in the current
 *                                      hour (fixed window, EXPIRE 3600)
 *
 * One entry per message and user: the same label again is a duplicate and
 * writes nothing; the other label replaces the user's earlier entry for
 * that message (XDEL + XADD), so a user who changes their mind is heard
 * once and cannot grow the stream by moving one message back and forth.
 * Bounds from [feedback]: max_message_size (bytes of the message kept),
 * max_per_user (messages in a user's seen hash), rate_per_hour (records
 * per user and hour), retention_days (the seen hash expires that long
 * after the user's last record); the stream as a whole is capped at
 * IMS_FEEDBACK_STREAM_MAX entries.
 *
 * The functions take the store (lib/store.h), shared by every thread. */
#ifndef IMS_FEEDBACK_H
#define IMS_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "status.h"

struct ims_store;

#define IMS_FEEDBACK_STREAM_MAX 100000
/* "sha256:" and 64 hex digits, or a 26-character scan id, and the NUL */
#define IMS_FEEDBACK_KEY_MAX  72
#define IMS_FEEDBACK_USER_MAX 254

enum ims_feedback_label { IMS_FEEDBACK_HAM = -1, IMS_FEEDBACK_SPAM = 1 };

/* What ims_feedback_record did. */
enum ims_feedback_outcome {
	IMS_FEEDBACK_RECORDED,     /* a new entry */
	IMS_FEEDBACK_CHANGED,      /* the other label replaced the user's earlier entry */
	IMS_FEEDBACK_DUPLICATE,    /* the same label is already recorded: nothing written */
	IMS_FEEDBACK_RATE_LIMITED, /* over [feedback] rate_per_hour: nothing written */
	IMS_FEEDBACK_USER_FULL,    /* the user has max_per_user messages: nothing written */
};

/* A message a user gave feedback on.  raw holds at most
 * [feedback] max_message_size bytes of it; size is the whole message. */
struct ims_feedback_msg {
	char key[IMS_FEEDBACK_KEY_MAX]; /* the message key: its scan id, or sha256:HEX */
	char *raw;                      /* malloc'ed, NUL-terminated; owned by the struct */
	size_t raw_len;
	uint64_t size;
	bool truncated; /* raw_len < size */
};

/* Reads a message from fd to its end: keeps the first max bytes, hashes
 * all of them, and sets the key: the value of the first X-IMS-Scan-Id
 * header field when it is a well-formed scan id (ims-milter sets it and
 * removes any that came from outside), else "sha256:" and the SHA-256 of
 * the whole message.  IMS_EIO (errno set), IMS_EINVAL for an empty
 * message, IMS_ENOMEM.  Free with ims_feedback_msg_clear. */
ims_status ims_feedback_msg_read(int fd, size_t max, struct ims_feedback_msg *out);

/* The same for a message in memory. */
ims_status ims_feedback_msg_from(const char *raw, size_t len, size_t max,
                                 struct ims_feedback_msg *out);

void ims_feedback_msg_clear(struct ims_feedback_msg *m);

/* Records that user (an address, lower-cased by the caller) calls msg
 * spam or ham; source says where from ("imap", "web", ...).  Applies the
 * bounds of conf's [feedback] in one atomic server-side script.  On IMS_OK
 * *outcome says what happened and entry_id (32 bytes) holds the stream
 * entry's id when one was written ("" otherwise).  IMS_ETEMP when Redis
 * failed, IMS_EINVAL for a bad user; err says why. */
ims_status ims_feedback_record(struct ims_store *st, const struct ims_conf *conf, const char *user,
                               enum ims_feedback_label label, const struct ims_feedback_msg *msg,
                               const char *source, enum ims_feedback_outcome *outcome,
                               char entry_id[32], char *err, size_t errlen);

/* "recorded", "changed", "duplicate", "rate_limited", "user_full". */
const char *ims_feedback_outcome_name(enum ims_feedback_outcome o);

/* How many entries the stream holds (user NULL), or how many messages
 * user's feedback covers.  IMS_ETEMP when Redis failed. */
ims_status ims_feedback_count(struct ims_store *st, const char *user, long long *n);

/* One entry of the stream, as ims_feedback_each hands it out.  The
 * pointers are valid during the callback only. */
struct ims_feedback_entry {
	const char *entry_id;
	const char *user;
	const char *key; /* the message key (older web reports: the message id) */
	enum ims_feedback_label label;
	int64_t time_ms;
	const char *raw;
	size_t raw_len;
};

/* Calls fn for every well-formed entry, oldest first (read in pages).
 * *entries counts every stream entry read, malformed ones included (they
 * are skipped).  fn returns IMS_OK to go on; anything else stops the walk
 * and is returned.  IMS_ETEMP when Redis failed (err says why). */
ims_status ims_feedback_each(struct ims_store *st,
                             ims_status (*fn)(const struct ims_feedback_entry *e, void *arg),
                             void *arg, size_t *entries, char *err, size_t errlen);

#endif
