/* Events of the stream ims:{global}:events (lib/events.h) as a SIEM takes
 * them: one JSON object per line, or ArcSight's Common Event Format (CEF),
 * framed as RFC 5424 syslog messages and sent to the [siem] target
 * (`ims events tail`, `ims events forward`; docs/operations.md, "SIEM"). */
#ifndef IMS_SIEM_H
#define IMS_SIEM_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* One stream entry: its id and n name/value pairs (kv[0] name, kv[1]
 * value, ...), all borrowed. */
struct ims_siem_event {
	const char *id;
	const char *const *kv;
	size_t n;
};

/* The value of field name, or NULL. */
const char *ims_siem_field(const struct ims_siem_event *e, const char *name);

/* The event as one line (no newline), malloc'ed; NULL when out of memory.
 * JSON: {"stream_id": ID, NAME: VALUE, ...} (bytes of a value that are not
 * UTF-8 as "?"; a name that is not UTF-8 left out).
 * CEF:  CEF:0|ims|ims|VERSION|SIGNATURE|NAME|SEVERITY|EXTENSIONS with the
 * header escaped (\ and |) and the extension values escaped (\, =, CR, LF);
 * SIGNATURE is the type ("scan", "click") or the admin op. */
char *ims_siem_json(const struct ims_siem_event *e);
char *ims_siem_cef(const struct ims_siem_event *e);

/* 0..10, the CEF severity of the event (reject 8, quarantine 6, ...). */
int ims_siem_severity(const struct ims_siem_event *e);

/* An RFC 5424 message: <PRI>1 TIME HOST ims PID MSGID - MSG, with PRI from
 * facility (a LOG_* value, lib/log.h ims_log_facility_parse) and the
 * event's severity; with octet_count, "LEN " in front (RFC 6587, for TCP).
 * malloc'ed; *len is its length; NULL when out of memory. */
char *ims_siem_syslog(const struct ims_siem_event *e, const char *msg, int facility,
                      int octet_count, size_t *len);

/* A syslog target: "unix:/dev/log", "udp:HOST:PORT" or "tcp:HOST:PORT"
 * (HOST numeric; [::1] for IPv6). */
struct ims_siem_sink;

/* IMS_OK when target has one of the forms above (nothing is contacted);
 * IMS_EINVAL with the reason in err otherwise ([siem] syslog in
 * lib/conf.c). */
ims_status ims_siem_target_check(const char *target, char *err, size_t errlen);

/* IMS_EINVAL for a bad target, IMS_ETEMP when it cannot be reached (the
 * reason in err). */
ims_status ims_siem_sink_open(const char *target, struct ims_siem_sink **out, char *err,
                              size_t errlen);
/* Largest datagram sent (udp, unix); a longer message is cut to it. */
#define IMS_SIEM_DGRAM_MAX 65000

/* Sends one framed message (ims_siem_syslog with octet_count for a tcp
 * target; a datagram longer than IMS_SIEM_DGRAM_MAX is cut).  IMS_ETEMP
 * when the send failed (reconnect and resend). */
ims_status ims_siem_sink_send(struct ims_siem_sink *s, const char *buf, size_t len);
int ims_siem_sink_is_stream(const struct ims_siem_sink *s);
void ims_siem_sink_close(struct ims_siem_sink *s);

#endif
