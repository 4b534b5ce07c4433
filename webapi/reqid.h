/* Request ids: the X-Request-Id of every response and the id of its log
 * line.  A client's id is kept when it is 1..64 characters of
 * [A-Za-z0-9._:-]; otherwise a new one is made (a ULID-shaped 26
 * characters: time then randomness, so ids sort by time). */
#ifndef IMS_WEB_REQID_H
#define IMS_WEB_REQID_H

#include <stdbool.h>

#define IMS_REQID_MAX 64

/* True when s may be used as a request id as it is. */
bool ims_reqid_valid(const char *s);

/* Writes the id to use into out (IMS_REQID_MAX + 1 bytes): from, when
 * valid, else a new one. */
void ims_reqid_pick(const char *from, char out[IMS_REQID_MAX + 1]);

#endif
