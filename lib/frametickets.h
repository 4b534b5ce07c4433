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
 * seconds and is good for one request.  Tickets live in Redis
 * (IMS_KEY_FRAME_FMT, SET NX EX, taken with GETDEL), so any ims-webapi
 * of a site answers a ticket another one issued. */
#ifndef IMS_FRAMETICKETS_H
#define IMS_FRAMETICKETS_H

#include <stddef.h>

#include "status.h"
#include "store.h"
#include "users.h"

#define IMS_FRAMETOK_LEN   43 /* base64url of 32 bytes, no padding */
#define IMS_FRAMETOK_TTL_S 60
#define IMS_FRAMETOK_USER  IMS_USERS_ADDR_MAX
#define IMS_FRAMETOK_MSG   255

/* A new ticket for user's message msg into out.  IMS_EINVAL when user or
 * msg is empty, too long or holds a line break; the store's status
 * (IMS_ETEMP: Redis unreachable) otherwise. */
ims_status ims_frametickets_issue(struct ims_store *st, const char *user, const char *msg,
                                  char out[IMS_FRAMETOK_LEN + 1]);

/* Takes the ticket tok (used up whatever the outcome): its user and
 * message.  IMS_ENOTFOUND when there is no such ticket, it was used or it
 * expired; the store's status when Redis failed. */
ims_status ims_frametickets_take(struct ims_store *st, const char *tok,
                                 char user[IMS_FRAMETOK_USER + 1], char msg[IMS_FRAMETOK_MSG + 1]);

#endif
