/* A user's mail as the web sees it, read and changed in Dovecot (the
 * mailbox of record) through dovecot.h.  Every call runs as the user it is
 * given, so one user's ids name nothing in another user's mailbox.
 *
 * Message ids are "<mailbox GUID, 32 hex>-<IMAP UID>": stable while the
 * message stays in its folder (a move gives it a new id, as IMAP does),
 * and not guessable across users (the GUID is random per mailbox). */
#ifndef IMS_WEB_MAILBOX_H
#define IMS_WEB_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "dovecot.h"
#include "imap.h"
#include "status.h"

#define IMS_MBOX_ID_MAX     48
#define IMS_MBOX_CURSOR_MAX 48
#define IMS_MBOX_FOLDER_MAX 255
#define IMS_MBOX_QUERY_MAX  256

struct ims_msgref {
	char guid[33]; /* lower-case hex */
	unsigned long uid;
};

/* Parses a message id; 0 when it is one, -1 otherwise. */
int ims_mbox_id_parse(const char *id, struct ims_msgref *out);

/* Whether name is a folder name the web may use: 1..255 bytes of UTF-8
 * without control characters or the IMAP wildcards '*' and '%'. */
bool ims_mbox_folder_valid(const char *name);

/* Whether cursor has the form of a page cursor ("UID.SEQ"). */
bool ims_mbox_cursor_valid(const char *cursor);

/* The folders with their counts: [{"name", "role" (inbox, junk, sent,
 * trash, drafts or null), "messages", "unseen"}], INBOX first. */
ims_status ims_mbox_folders(struct ims_dove *d, const char *user, json_t **out, char *err,
                            size_t errlen);

/* One page of folder, newest first, up to limit messages; cursor is NULL
 * or a previous page's next cursor; query (NULL or "") searches sender,
 * subject and body through Dovecot.  *items gets an array of
 * {"id", "folder", "from", "to", "subject", "date", "received" (ms),
 * "size", "seen", "flagged", "answered", "scan_id" (or null), "snippet",
 * "attachment" (multipart/mixed), "draft"}; next gets
 * the cursor of the following page or "" at the end.  IMS_EINVAL: a bad
 * cursor; IMS_ENOTFOUND: no such folder.  With im (NULL: none) a page
 * without a search is read over a pooled IMAP connection (imap.h), and
 * through doveadm when the pool is busy or IMAP fails. */
ims_status ims_mbox_list(struct ims_dove *d, struct ims_imap *im, const char *user,
                         const char *folder, const char *cursor, const char *query, size_t limit,
                         json_t **items, char next[IMS_MBOX_CURSOR_MAX], char *err, size_t errlen);

/* The message: *out gets {"folder", "flags" (array), "received" (ms),
 * "scan_id" (or null), "text" (the message; bytes that were not UTF-8
 * come back as U+FFFD)}.  mark_seen adds \Seen in the same request.
 * IMS_ENOTFOUND when the user has no such message. */
ims_status ims_mbox_fetch(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                          bool mark_seen, json_t **out, char *err, size_t errlen);

/* The same, with the message's bytes read over a pooled IMAP connection
 * when im is not NULL (imap.h: read-only, BODY.PEEK[], at most
 * IMS_DOVE_MAX_RESPONSE bytes; doveadm when the pool is busy or IMAP
 * fails): then "text" holds the bytes as they are, 8-bit ones included,
 * in a jansson string made without a UTF-8 check (read it with
 * json_string_value and json_string_length; never write it out as JSON).
 * The flags, folder and mark_seen go through doveadm as before. */
ims_status ims_mbox_read(struct ims_dove *d, struct ims_imap *im, const char *user,
                         const struct ims_msgref *ref, bool mark_seen, json_t **out, char *err,
                         size_t errlen);

/* Sets (1), clears (0) or leaves (-1) \Seen and \Flagged. */
ims_status ims_mbox_flags(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                          int seen, int flagged, char *err, size_t errlen);

/* Moves the message to folder (*from gets the folder it was in, at most
 * IMS_MBOX_FOLDER_MAX + 1 bytes, when from is not NULL).  IMS_ENOTFOUND:
 * no such message or folder. */
ims_status ims_mbox_move(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                         const char *folder, char *from, char *err, size_t errlen);

/* Deletes as mail clients do: moves to Trash, or expunges when the
 * message is in Trash already (*expunged says which). */
ims_status ims_mbox_delete(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                           bool *expunged, char *err, size_t errlen);

/* Expunges the message wherever it is (no Trash): for `ims rescan`, after
 * the message is held in the quarantine.  IMS_ENOTFOUND: no such message. */
ims_status ims_mbox_expunge(struct ims_dove *d, const char *user, const struct ims_msgref *ref,
                            char *err, size_t errlen);

/* Expunges every message of the Trash folder. */
ims_status ims_mbox_empty_trash(struct ims_dove *d, const char *user, char *err, size_t errlen);

/* Saves raw (len bytes) into folder, marked \Seen when message_id (the
 * Message-ID header's value) is given.  For the Sent copy of web mail. */
ims_status ims_mbox_save(struct ims_dove *d, const char *user, const char *folder, const char *raw,
                         size_t len, const char *message_id, char *err, size_t errlen);

/* The same; draft adds \Draft to \Seen, and id (when not NULL) gets the
 * saved message's id ("" when it cannot be found again). */
ims_status ims_mbox_save_as(struct ims_dove *d, const char *user, const char *folder,
                            const char *raw, size_t len, const char *message_id, bool draft,
                            char id[IMS_MBOX_ID_MAX], char *err, size_t errlen);

/* The Message-ID and References of a message (for a reply): *msgid and
 * *refs are the caller's (free()), NULL when the header is absent. */
ims_status ims_mbox_thread_headers(struct ims_dove *d, const char *user,
                                   const struct ims_msgref *ref, char **msgid, char **refs,
                                   char *err, size_t errlen);

#endif
