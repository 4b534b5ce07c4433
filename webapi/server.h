/* The HTTP server: libmicrohttpd with a thread pool over epoll, request
 * bodies bounded by [webapi] max_body (413 above), connection limit and
 * idle timeout from [webapi], authentication and role checks before any
 * handler runs, one log line and one metrics sample per request. */
#ifndef IMS_WEB_SERVER_H
#define IMS_WEB_SERVER_H

#include "app.h"
#include "status.h"

struct ims_server;

/* Binds [webapi] listen and starts the worker threads.  The caller owns
 * *out (ims_server_stop).  Errors go to err. */
ims_status ims_server_start(struct ims_web *app, struct ims_server **out, char *err, size_t errlen);

/* The TCP port bound (useful with port 0). */
int ims_server_port(const struct ims_server *s);

/* Stops accepting, waits up to grace_ms for requests in flight to finish,
 * then stops the threads and frees s. */
void ims_server_stop(struct ims_server *s, int grace_ms);

#endif
