/* Delivery into mailboxes over LMTP (RFC 2033), to Dovecot's LMTP
 * service: how ims-webapi puts a message released from the quarantine
 * into its recipients' INBOX (Sieve runs as for any delivery).
 *
 * The target is "unix:/path" (the shipped setup: a socket only ims may
 * write to, mta-config/dovecot/10-ims.conf) or "host:port".  One
 * transaction per call; LMTP answers for each recipient after DATA. */
#ifndef IMS_LMTP_H
#define IMS_LMTP_H

#include <stddef.h>

#include "status.h"

#define IMS_LMTP_MAX_RCPTS 1000

/* Delivers len bytes at raw (line ends may be LF or CRLF; sent as CRLF,
 * dot-stuffed) from mail_from ("" for the null sender, which is also used
 * when mail_from cannot be written into the command) to n recipients.
 * codes[i] gets the reply code for rcpts[i] (250 delivered; 4xx/5xx as
 * the server said, at RCPT or after DATA).  IMS_OK when the session ran to
 * the end (look at codes), IMS_ETEMP when the server could not be reached
 * or broke off (codes then say 451 for everyone not answered),
 * IMS_EINVAL for a recipient address that cannot be written into RCPT.  err
 * (errlen bytes) gets the first failure in words. */
ims_status ims_lmtp_deliver(const char *target, const char *mail_from, const char *const *rcpts,
                            size_t n, const char *raw, size_t len, int timeout_s, int *codes,
                            char *err, size_t errlen);

#endif
