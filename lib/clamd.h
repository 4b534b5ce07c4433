/* A minimal client of ClamAV's clamd: one INSTREAM scan per call.
 *
 * The protocol is clamd's own (no library ships a client): the command
 * "zINSTREAM\0", then the data in chunks, each a 4-byte big-endian length
 * and that many bytes, then a zero length; clamd answers one line,
 * "stream: OK", "stream: NAME FOUND" or "... ERROR", and closes.  Only
 * those three forms are understood; a reply longer than
 * IMS_CLAMD_MAX_REPLY bytes is a protocol error.
 *
 * Every call is bounded: one deadline (timeout_ms) covers connecting,
 * sending and waiting for the reply, so a clamd that is down, stuck or
 * slow is an IMS_ETEMP, never a hang.  A handle holds only the parsed
 * address and the timeout: it is immutable after ims_clamd_new, so any
 * number of threads may scan with one handle at once (a connection per
 * call). */
#ifndef IMS_CLAMD_H
#define IMS_CLAMD_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#define IMS_CLAMD_MAX_REPLY 1024 /* bytes of clamd's answer line */
#define IMS_CLAMD_CHUNK     (64 * 1024)

struct ims_clamd;

/* address: "unix:/path", "/path" (a unix socket) or "IPv4:PORT" /
 * "[IPv6]:PORT" (TCP; clamd has no authentication: loopback only).
 * timeout_ms: the deadline of one scan.  On IMS_OK *out is the caller's
 * (ims_clamd_free); IMS_EINVAL with why (whylen bytes) for a bad address. */
ims_status ims_clamd_new(const char *address, int timeout_ms, struct ims_clamd **out, char *why,
                         size_t whylen);
void ims_clamd_free(struct ims_clamd *c);

/* Streams len bytes at data to clamd.  IMS_OK: *infected says whether it
 * found something, and then name (namelen bytes) holds the signature
 * ("Eicar-Signature", "eicar.com.UNOFFICIAL").  IMS_ELIMIT: clamd refused
 * the stream as larger than its StreamMaxLength.  IMS_ETEMP: not
 * reachable, timed out, or answered ERROR or something unparseable; name
 * then says why (for the log).  IMS_ENOMEM. */
ims_status ims_clamd_scan(const struct ims_clamd *c, const char *data, size_t len, bool *infected,
                          char *name, size_t namelen);

/* Parses one reply of clamd (len bytes, without the terminating NUL or
 * newline); public for the tests.  Same results as ims_clamd_scan. */
ims_status ims_clamd_parse_reply(const char *reply, size_t len, bool *infected, char *name,
                                 size_t namelen);

#endif
