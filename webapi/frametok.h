/* One-use tickets for a message's frame with its remote images
 * (GET /frame/{token}, docs/api.md).
 *
 * The UI shows a message's HTML in a sandboxed iframe.  With the user's
 * consent to load that message's remote images the frame must be its own
 * document with its own Content-Security-Policy (a srcdoc frame inherits
 * the UI's, which keeps every remote image out), and an iframe cannot send
 * the bearer token: so an authenticated POST /emails/{id}/frame issues a
 * ticket naming the user and the message, and the frame's URL carries it.
 * A ticket is 256 random bits (libsodium), lives IMS_FRAMETOK_TTL_S
 * seconds and is good for one request.  Tickets are kept in this process
 * (at most IMS_FRAMETOK_MAX waiting): with several ims-webapi behind one
 * name the frame request must reach the instance that issued it. */
#ifndef IMS_WEB_FRAMETOK_H
#define IMS_WEB_FRAMETOK_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "users.h"

#define IMS_FRAMETOK_LEN   43 /* base64url of 32 bytes, no padding */
#define IMS_FRAMETOK_TTL_S 60
#define IMS_FRAMETOK_MAX   1024
#define IMS_FRAMETOK_USER  IMS_USERS_ADDR_MAX
#define IMS_FRAMETOK_MSG   255

/* A new ticket for user's message msg at now (seconds) into out.
 * IMS_ELIMIT when user or msg is too long or IMS_FRAMETOK_MAX tickets are
 * waiting. */
ims_status ims_frametok_issue(const char *user, const char *msg, uint64_t now,
                              char out[IMS_FRAMETOK_LEN + 1]);

/* Takes the ticket tok (used up whatever the outcome): its user and
 * message.  IMS_ENOTFOUND when there is no such ticket, it was used or
 * it expired. */
ims_status ims_frametok_take(const char *tok, uint64_t now, char user[IMS_FRAMETOK_USER + 1],
                             char msg[IMS_FRAMETOK_MSG + 1]);

#endif
