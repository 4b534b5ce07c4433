/* IMAP to Dovecot for the one path every client polls, a page of a folder,
 * and for reading one message's bytes (doveadm's JSON carries text: 8-bit
 * bytes that are not UTF-8 would reach ims-webapi as U+FFFD).
 *
 * The doveadm HTTP API (dovecot.h) sets up the user's mail storage anew
 * for every command (~3 ms of Dovecot's CPU on a 10,000-message INBOX);
 * an IMAP connection that stays logged in with its folder open answers a
 * FETCH of 50 messages in well under a millisecond (docs/benchmarks.md).
 * So ims-webapi keeps a pool of IMAP connections (libetpan), each logged
 * in as ONE user: Dovecot's master user acting as that user
 * ("user*webapi", the [webapi] submission_user and its password), over
 * Dovecot's unix socket for ims only ([dovecot] imap; the shipped
 * mta-config/dovecot/10-ims.conf refuses that login on TCP listeners).
 * A connection serves only requests of the user it is logged in as; the
 * folder is opened read-only (EXAMINE: listing never changes flags) and
 * synced with what other clients did (NOOP) before every page.
 *
 * Bounds: at most [dovecot] imap_connections connections, at most
 * imap_user_connections of them per user (under Dovecot's
 * mail_max_userip_connections); a connection idle for imap_idle_s is
 * closed (on the next use of the pool, or by ims_imap_sweep).  When the
 * pool is full, or a connection fails, the caller falls back to doveadm.
 * A connection that fails on reuse (Dovecot restarted) is replaced by a
 * new one once, in the same call.
 *
 * Rows come back in the doveadm fetch shape (string fields "uid", "seq",
 * "flags", "date.received.unixtime", "size.virtual", "hdr.from", "hdr.to",
 * "hdr.subject", "hdr.date", "hdr.x-ims-scan-id", "mailbox-guid") so one
 * renderer serves both. */
#ifndef IMS_WEB_IMAP_H
#define IMS_WEB_IMAP_H

#include <stddef.h>

#include <jansson.h>

#include "conf.h"
#include "status.h"

struct ims_imap;

/* From [dovecot] imap (the unix socket) and the master user's name and
 * password ([webapi] submission_user and its password file, copied).
 * *out is NULL (and IMS_OK) when imap is empty; IMS_EINVAL (err set)
 * when it is set without a master user.  The caller owns *out; it must
 * outlive every thread that uses it. */
ims_status ims_imap_open(const struct ims_conf *conf, const char *master_password,
                         struct ims_imap **out, char *err, size_t errlen);
/* Closes every connection (none may be in use). */
void ims_imap_free(struct ims_imap *im);

/* Closes the connections idle for longer than imap_idle_s. */
void ims_imap_sweep(struct ims_imap *im);

/* Whether folder can be named over IMAP as it is (printable ASCII without
 * '&', '"' and '\\': no modified UTF-7 or quoting needed); other folders
 * go through doveadm. */
int ims_imap_folder_ok(const char *folder);

/* Gives the mailbox GUID (32 hex digits) of user's folder: called once
 * each time a connection opens a folder. */
typedef ims_status (*ims_imap_guid_fn)(void *ctx, const char *user, const char *folder,
                                       char guid[33], char *err, size_t errlen);

/* Opens folder for user on a pooled connection (synced with what other
 * clients did) and fetches the count messages up to sequence number hi
 * (cut to the folder's size; 0 = the last).  *rows gets an array of rows,
 * oldest first, each with the folder's "mailbox-guid" from guid_of: the
 * caller's reference, read-only (the connection keeps the same rows and
 * answers them again while its NOOP reports no expunge, flag change or
 * new mail).  IMS_ENOTFOUND: no such folder; IMS_ELIMIT: the pool (or the
 * user's share of it) is in use; IMS_ETEMP: the connection failed (err
 * says why).  On either of the last two the caller falls back to doveadm. */
ims_status ims_imap_fetch(struct ims_imap *im, const char *user, const char *folder,
                          unsigned long hi, unsigned long count, ims_imap_guid_fn guid_of,
                          void *ctx, json_t **rows, char *err, size_t errlen);

/* The bytes of the message with uid in user's folder, whose mailbox GUID
 * must be guid (the message id's; guid_of as above): read-only (EXAMINE,
 * UID FETCH BODY.PEEK[]), so the read sets no \Seen.  *raw (malloc'd,
 * NUL after the *len bytes; the caller frees it) holds them exactly as
 * IMAP gives them (CRLF line ends, 8-bit bytes as they are), at most max
 * bytes.  IMS_ENOTFOUND: no such folder or message, or the folder's GUID
 * is not guid; IMS_ELIMIT: the pool is in use or the message is larger
 * than max; IMS_ETEMP: the connection failed.  On the last two the caller
 * falls back to doveadm. */
ims_status ims_imap_fetch_raw(struct ims_imap *im, const char *user, const char *folder,
                              const char *guid, unsigned long uid, size_t max,
                              ims_imap_guid_fn guid_of, void *ctx, char **raw, size_t *len,
                              char *err, size_t errlen);

#endif
