/* The event stream ims:{global}:events (docs/redis-schema.md, "The event
 * stream"): one entry per scan (lib/scan_store.c), per click and per admin
 * action.  This writes the admin kind: type admin, actor, op, target, time,
 * then the caller's fields; and reads the stream in pages (the web API's
 * audit view, `ims events`).  A SIEM reads the stream with XREAD. */
#ifndef IMS_EVENTS_H
#define IMS_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "siem.h"
#include "status.h"

struct ims_store;

#define IMS_EVENTS_MAXLEN_STR "1000000"
#define IMS_EVENTS_MAX_FIELDS 24

/* Appends "type admin actor ACTOR op OP target TARGET time NOW" and the
 * n name/value pairs of kv (kv[0] name, kv[1] value, ...; at most
 * IMS_EVENTS_MAX_FIELDS pairs) to the stream.  rc is borrowed.  On IMS_OK
 * the entry id goes to id (32 bytes) when id is not NULL.  IMS_ETEMP when
 * Redis failed, IMS_EINVAL for too many fields. */
ims_status ims_events_audit(struct ims_store *st, const char *actor, const char *op,
                            const char *target, const char *const *kv, size_t n, char *id);

/* Events read from the stream, oldest first or newest first as asked.
 * ev[i].id and its name/value strings point into the batch: valid until
 * ims_events_batch_free. */
struct ims_events_batch {
	size_t n;
	struct ims_siem_event *ev;
	void *reply; /* private: the reply the strings live in */
	void *kv;    /* private: the name/value arrays */
};

/* Up to count events after stream id after (exclusive; "0": from the
 * oldest), oldest first.  IMS_ETEMP when Redis failed.  The caller frees
 * b with ims_events_batch_free (also after a failure). */
ims_status ims_events_after(struct ims_store *st, const char *after, size_t count,
                            struct ims_events_batch *b);

/* Up to count events before stream id before (exclusive; NULL: from the
 * newest), newest first. */
ims_status ims_events_before(struct ims_store *st, const char *before, size_t count,
                             struct ims_events_batch *b);

void ims_events_batch_free(struct ims_events_batch *b);

/* The position `ims events forward` keeps: the id of the last event it
 * sent, into out (64 bytes).  IMS_ENOTFOUND when none is saved. */
ims_status ims_events_position_get(struct ims_store *st, char out[64]);
ims_status ims_events_position_set(struct ims_store *st, const char *id);

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
