/* Dovecot, the mailbox of record, through its doveadm HTTP API
 * (POST /doveadm/v1, JSON; docs/operations.md "Dovecot").
 *
 * A batch holds doveadm commands for ONE user: the user is given when the
 * batch is made and written into every command's parameters here, so a
 * route cannot run a command as anyone but the signed-in user.  A batch is
 * sent as one HTTP request (Dovecot runs its commands in order) over the
 * calling thread's own connection (libcurl, kept alive, unix socket or
 * loopback; closed when the thread ends).  The API key is read once from [dovecot] api_key_file. */
#ifndef IMS_WEB_DOVECOT_H
#define IMS_WEB_DOVECOT_H

#include <stddef.h>

#include <jansson.h>

#include "conf.h"
#include "status.h"

struct ims_dove;
struct ims_dove_batch;

/* Largest answer read from Dovecot (a 25 MB message, escaped). */
#define IMS_DOVE_MAX_RESPONSE (128u << 20)

/* Reads the API key and the endpoint from conf.  With no api_key_file,
 * *out is NULL and IMS_OK is returned: the web API then answers 503 on
 * the mailbox routes.  A key file that is unreadable, empty, or readable
 * by others is IMS_EINVAL with err set.  The caller owns *out. */
ims_status ims_dove_open(const struct ims_conf *conf, struct ims_dove **out, char *err,
                         size_t errlen);
void ims_dove_free(struct ims_dove *d);

/* A new batch of commands run as user (copied). NULL when out of memory. */
struct ims_dove_batch *ims_dove_batch_new(const char *user);
void ims_dove_batch_free(struct ims_dove_batch *b);

/* Appends command name with params (a JSON object; the batch takes the
 * reference, NULL is an empty object).  Returns its index, or -1 when
 * out of memory (the batch is then marked broken and ims_dove_run fails). */
int ims_dove_add(struct ims_dove_batch *b, const char *name, json_t *params);

/* Sends the batch.  IMS_OK when Dovecot answered every command (each may
 * still have failed on its own: see ims_dove_result); IMS_ETEMP when
 * Dovecot is unreachable, timed out, or answered something else than the
 * API's JSON (err says what). */
ims_status ims_dove_run(struct ims_dove *d, struct ims_dove_batch *b, char *err, size_t errlen);

/* The answer to command i after ims_dove_run: the array of result rows
 * (borrowed; valid until the batch is freed) and IMS_OK, or NULL and
 * IMS_ENOTFOUND (no such mailbox or message), IMS_EINVAL (Dovecot refused
 * the command), IMS_ETEMP (Dovecot failed). */
ims_status ims_dove_result(const struct ims_dove_batch *b, size_t i, json_t **rows);

#endif
