/* Building an outgoing message with GMime from the JSON of POST
 * /emails/send: {"to": [...], "cc": [...], "bcc": [...], "subject": "...",
 * "text": "...", "html": "..."} ("to" etc. may also be one string of
 * comma-separated addresses).  From is the signed-in user.  The result has
 * CRLF line ends, a Date and a Message-ID; Bcc is not in the headers. */
#ifndef IMS_WEB_COMPOSE_H
#define IMS_WEB_COMPOSE_H

#include <stddef.h>

#include <jansson.h>

#include "status.h"

#define IMS_COMPOSE_MAX_RCPTS 100
#define IMS_COMPOSE_SUBJECT_MAX 998

struct ims_composed {
	char *raw; /* the message */
	size_t len;
	char **rcpts; /* envelope recipients: to, cc and bcc */
	size_t nrcpts;
	char message_id[256];
};

/* Builds the message from j for sender from.  IMS_EINVAL with the reason
 * in err for bad input.  The caller frees *out (ims_composed_free). */
ims_status ims_compose(const char *from, json_t *j, struct ims_composed *out, char *err,
		       size_t errlen);
void ims_composed_free(struct ims_composed *c);

#endif
