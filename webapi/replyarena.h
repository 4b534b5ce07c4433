/* Redis replies without a malloc per element, for the hot list routes.
 *
 * A folder page is 50 HMGETs of 11 fields: hiredis would make 600 reply
 * objects and 550 strings, each malloc'ed and freed.  Between
 * ims_replyarena_begin and ims_replyarena_end the replies read on that
 * connection are carved out of a per-thread arena instead and all go at
 * once at the end.  Such replies must not be given to freeReplyObject. */
#ifndef IMS_WEB_REPLYARENA_H
#define IMS_WEB_REPLYARENA_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

/* Replies read on c from now on come from this thread's arena. */
void ims_replyarena_begin(redisContext *c);

/* Whether replies read on c come from the arena now (they must then not
 * be given to freeReplyObject). */
bool ims_replyarena_active(const redisContext *c);

/* Gives c back hiredis's own reply functions (unless c is NULL: the
 * connection was closed meanwhile) and releases every arena reply. */
void ims_replyarena_end(redisContext *c);

#endif
