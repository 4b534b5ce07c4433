/* One HTTP request and the response being built for it.
 *
 * The server (server.c) fills the request side, a route handler fills the
 * response with one of the ims_req_* calls below, and the server sends it,
 * adds X-Request-Id, logs the line and records the metrics.  Everything a
 * request allocates is freed by ims_req_free. */
#ifndef IMS_WEB_REQUEST_H
#define IMS_WEB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "auth_token.h"
#include "reqid.h"
#include "status.h"

struct MHD_Connection;

#define IMS_REQ_MAX_PARAMS 2
#define IMS_REQ_PARAM_MAX  256

struct ims_req {
	struct ims_web *app;
	struct MHD_Connection *conn;
	const char *method; /* MHD's, valid for the request */
	char *path;         /* owned; without the query */
	char id[IMS_REQID_MAX + 1];
	char ip[64];
	uint64_t start_ns;
	int route; /* index into the route table, -1 when none matched */

	char *body; /* owned, NUL-terminated */
	size_t body_len;
	bool body_too_big;

	char params[IMS_REQ_MAX_PARAMS][IMS_REQ_PARAM_MAX]; /* {id} path segments */

	bool authed;
	struct ims_token_claims who; /* role as stored in Redis, not as in the token */

	/* response */
	int status;
	char *resp; /* owned */
	size_t resp_len;
	const char *ctype;
	int retry_after;         /* seconds; 0 = no header */
	const char *disposition; /* Content-Disposition (static string) or NULL */
	char *location;          /* owned: Location of a 302 (NULL: /ui/) */
	bool responded;
	bool close; /* close the connection after the response */
};

/* Monotonic time in nanoseconds. */
uint64_t ims_req_now_ns(void);

/* Wall clock in Unix milliseconds. */
uint64_t ims_req_now_ms(void);

/* Sets a JSON response; takes the reference to j (j may be NULL on an
 * allocation failure, which becomes a 500). */
void ims_req_json(struct ims_req *r, int status, json_t *j);

/* Sets an error response {"error": msg, "request_id": id}. */
void ims_req_error(struct ims_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets a response of len bytes; takes ownership of buf (malloc'd). */
void ims_req_take(struct ims_req *r, int status, const char *ctype, char *buf, size_t len);

/* Sets an empty response (204 and the like). */
void ims_req_empty(struct ims_req *r, int status);

/* The Redis store every thread shares (lib/store.h): what the lib/ domain
 * modules take. */
struct ims_store *ims_req_store(struct ims_req *r);

/* Sets the response for a store call that failed with st and logs it:
 * 503 "the store is unavailable" when Redis is unreachable or refused us
 * (IMS_ETEMP, IMS_EPERM), 500 otherwise. */
void ims_req_store_failed(struct ims_req *r, ims_status st);

/* Rate limits of the web API (lib/ratelimit.h): counts one event for
 * KIND:KEY and returns 1 when it is over limit in this window
 * (*retry_after then holds the seconds until the window resets), 0 when
 * it is within; -1 with a 503 set on r when Redis failed. */
int ims_req_ratelimit(struct ims_req *r, const char *kind, const char *key, int limit,
                      int *retry_after);

/* Gives back one event ims_req_ratelimit counted (a login whose password
 * was right: only failures use up the budget).  Best effort. */
void ims_req_ratelimit_refund(struct ims_req *r, const char *kind, const char *key);

/* The body as a JSON object; NULL and a 400 set when it is not one. The
 * caller owns the result. */
json_t *ims_req_body_json(struct ims_req *r);

/* A query-string argument or NULL. */
const char *ims_req_query(struct ims_req *r, const char *name);

/* A request header or NULL. */
const char *ims_req_header(struct ims_req *r, const char *name);

/* The page size from ?limit= (default [webapi] page_size, at most 1000);
 * -1 and a 400 set when it is malformed. */
int ims_req_limit(struct ims_req *r);

/* Appends an audit event to the ims:{global}:events stream: type admin,
 * actor (r's user), op and target plus extra field/value pairs (NULL-
 * terminated).  IMS_ETEMP when Redis failed. */
ims_status ims_req_audit(struct ims_req *r, const char *op, const char *target, ...)
    __attribute__((sentinel));

void ims_req_free(struct ims_req *r);

#endif
