/* Connection guard: a deadline for a complete request head.
 *
 * libmicrohttpd's idle timeout starts again with every byte, so a client
 * that sends a request head one byte at a time (slowloris) holds its
 * connection for ever.  The guard gives each connection head_timeout_s to
 * deliver a complete request head, counted from the connection's opening;
 * after each request on a kept-alive connection the next head has
 * idle_s + head_timeout_s (a silent connection is closed by the idle
 * timeout, idle_s, before that, so only a trickling one is cut); one
 * watchdog thread shuts a late connection down (shutdown(2): libmicrohttpd
 * then sees the end of the stream and closes it as usual) and logs
 * event=head_timeout.  The per-address connection cap is libmicrohttpd's
 * own (MHD_OPTION_PER_IP_CONNECTION_LIMIT), set by the server.
 *
 * All calls are thread-safe; each ims_connguard_conn is owned by the guard
 * from ims_connguard_open to ims_connguard_close. */
#ifndef IMS_WEB_CONNGUARD_H
#define IMS_WEB_CONNGUARD_H

#include "status.h"

struct ims_connguard;
struct ims_connguard_conn;

/* Starts the watchdog.  The caller owns *out (ims_connguard_free). */
ims_status ims_connguard_new(int head_timeout_s, int idle_s, struct ims_connguard **out);

/* Stops the watchdog and frees g; every connection must be closed first. */
void ims_connguard_free(struct ims_connguard *g);

/* A connection on socket fd from ip (for the log line) opened: its head
 * deadline starts.  NULL when out of memory (the connection is then not
 * watched). */
struct ims_connguard_conn *ims_connguard_open(struct ims_connguard *g, int fd, const char *ip);

/* The connection delivered a complete request head: no deadline until
 * ims_connguard_request_done. */
void ims_connguard_head_done(struct ims_connguard *g, struct ims_connguard_conn *c);

/* A request on the connection ended: the next head's deadline starts. */
void ims_connguard_request_done(struct ims_connguard *g, struct ims_connguard_conn *c);

/* The connection closed (before its socket is): forgets and frees c. */
void ims_connguard_close(struct ims_connguard *g, struct ims_connguard_conn *c);

#endif
