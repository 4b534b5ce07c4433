/* IMAP to Dovecot for the one path every client polls: a page of a folder.
 *
 * The doveadm HTTP API (dovecot.h) sets up the user's mail storage anew
 * for every command (2-6 ms of Dovecot's CPU); an IMAP connection that
 * stays logged in and keeps its folder selected answers a FETCH of 50
 * messages in about half a millisecond (docs/benchmarks.md).  So each
 * worker thread keeps a few connections (libetpan), one per recent user,
 * logged in as Dovecot's master user acting as that user ("user*master",
 * auth_master_user_separator), with the folder opened read-only (EXAMINE:
 * listing never changes flags).  A connection that fails is dropped; the
 * caller then falls back to doveadm.
 *
 * Rows come back in the doveadm fetch shape (string fields "uid", "seq",
 * "flags", "date.received.unixtime", "size.virtual", "hdr.from", "hdr.to",
 * "hdr.subject", "hdr.date", "hdr.x-ims-scan-id") so one renderer serves
 * both. */
#ifndef IMS_WEB_IMAP_H
#define IMS_WEB_IMAP_H

#include <stddef.h>

#include <jansson.h>

#include "conf.h"
#include "status.h"

struct ims_imap;

/* From [dovecot] imap (host:port) and the master user's name and password
 * ([webapi] submission_user and its password file).  *out is NULL (and
 * IMS_OK) when imap is empty or there is no master user.  The caller owns
 * *out; it must outlive every thread that used it. */
ims_status ims_imap_open(const struct ims_conf *conf, const char *master_password,
                         struct ims_imap **out, char *err, size_t errlen);
void ims_imap_free(struct ims_imap *im);

/* Whether folder can be named over IMAP as it is (printable ASCII without
 * '&': no modified UTF-7 needed); other folders go through doveadm. */
int ims_imap_folder_ok(const char *folder);

/* Opens folder for user on the thread's connection (synced with what
 * other clients did) and fetches the count messages up to sequence number
 * hi (cut to the folder's size; 0 = the last).  *uidvalidity gets the
 * folder's UIDVALIDITY; *rows an array of rows, oldest first (the
 * caller's).  IMS_ENOTFOUND: no such folder; IMS_ETEMP: the connection
 * failed (dropped; err says why). */
ims_status ims_imap_fetch(struct ims_imap *im, const char *user, const char *folder,
                          unsigned long hi, unsigned long count, unsigned long *uidvalidity,
                          json_t **rows, char *err, size_t errlen);

#endif
