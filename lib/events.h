/* The event stream ims:{global}:events (docs/redis-schema.md, "The event
 * stream"): one entry per scan (lib/scan_store.c) and per admin action.
 * This writes the admin kind: type admin, actor, op, target, time, then
 * the caller's fields.  A SIEM reads the stream with XREAD. */
#ifndef IMS_EVENTS_H
#define IMS_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "status.h"

#define IMS_EVENTS_MAXLEN_STR "1000000"
#define IMS_EVENTS_MAX_FIELDS 24

/* Appends "type admin actor ACTOR op OP target TARGET time NOW" and the
 * n name/value pairs of kv (kv[0] name, kv[1] value, ...; at most
 * IMS_EVENTS_MAX_FIELDS pairs) to the stream.  rc is borrowed.  On IMS_OK
 * the entry id goes to id (32 bytes) when id is not NULL.  IMS_ETEMP when
 * Redis failed, IMS_EINVAL for too many fields. */
ims_status ims_events_audit(redisContext *rc, const char *actor, const char *op, const char *target,
                            const char *const *kv, size_t n, char *id);

/* A click on a rewritten link (GET /click, lib/clicks.c): "type click
 * time T id SCAN user ADDR url URL verdict V reason R ip IP".  Fills argv
 * with the XADD (IMS_EVENTS_CLICK_ARGC strings, borrowed from the
 * arguments and now, a buffer of 24 bytes) for the caller's transaction. */
#define IMS_EVENTS_CLICK_ARGC 22
void ims_events_click_argv(const char *argv[IMS_EVENTS_CLICK_ARGC], char now[24], uint64_t time_ms,
                           const char *scan_id, const char *user, const char *url,
                           const char *verdict, const char *reason, const char *ip);

/* "cli:<login name>": the actor of a change made with the ims command. */
void ims_events_cli_actor(char *out, size_t len);

#endif
