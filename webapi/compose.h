/* Building an outgoing message with GMime from the JSON of POST
 * /emails/send: {"to": [...], "cc": [...], "bcc": [...], "subject": "...",
 * "text": "...", "html": "...", "attachments": [{"filename",
 * "content_type", "data" (base64)}...]} ("to" etc. may also be one string of
 * comma-separated addresses).  From is the signed-in user.  The result has
 * CRLF line ends, a Date and a Message-ID; Bcc is not in the headers of
 * what is sent, only in the sender's copy (sent_raw). */
#ifndef IMS_WEB_COMPOSE_H
#define IMS_WEB_COMPOSE_H

#include <stddef.h>

#include <jansson.h>

#include "status.h"

#define IMS_COMPOSE_MAX_RCPTS       100
#define IMS_COMPOSE_SUBJECT_MAX     998
#define IMS_COMPOSE_MAX_ATTACHMENTS 20

struct ims_composed {
	char *raw; /* the message as it is sent: no Bcc header */
	size_t len;
	char *sent_raw; /* the sender's copy for Sent, with Bcc; NULL when there is no
	                   Bcc (then it is raw) */
	size_t sent_len;
	char **rcpts; /* envelope recipients: to, cc and bcc */
	size_t nrcpts;
	char message_id[256];
};

/* Builds the message from j for sender from.  IMS_EINVAL with the reason
 * in err for bad input.  The caller frees *out (ims_composed_free). */
ims_status ims_compose(const char *from, json_t *j, struct ims_composed *out, char *err,
                       size_t errlen);

/* The same, as a reply to or a forward of a message whose Message-ID and
 * References (header values, NULL when absent) are given: a reply gets
 * In-Reply-To, both get References (the parent's, then its Message-ID;
 * ids that are not one printable line are left out). */
ims_status ims_compose_thread(const char *from, json_t *j, const char *parent_msgid,
                              const char *parent_refs, int reply, struct ims_composed *out,
                              char *err, size_t errlen);
/* A draft: as ims_compose, but recipients and text may be missing. */
ims_status ims_compose_draft(const char *from, json_t *j, struct ims_composed *out, char *err,
                             size_t errlen);
void ims_composed_free(struct ims_composed *c);

#endif
