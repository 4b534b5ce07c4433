/* Admin events in the event stream: see events.h. */
#include "config.h"

#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include "events.h"
#include "rconn.h"
#include "rkeys.h"
#include "ulid.h"

ims_status ims_events_audit(redisContext *rc, const char *actor, const char *op, const char *target,
                            const char *const *kv, size_t n, char *id)
{
	const char *argv[16 + 2 * IMS_EVENTS_MAX_FIELDS];
	char now[24];
	redisReply *r;
	ims_status st = IMS_ETEMP;
	int argc = 0;

	if (n > IMS_EVENTS_MAX_FIELDS)
		return IMS_EINVAL;
	snprintf(now, sizeof now, "%" PRIu64, ims_now_ms());
	argv[argc++] = "XADD";
	argv[argc++] = IMS_KEY_EVENTS;
	argv[argc++] = "MAXLEN";
	argv[argc++] = "~";
	argv[argc++] = IMS_EVENTS_MAXLEN_STR;
	argv[argc++] = "*";
	argv[argc++] = "type";
	argv[argc++] = "admin";
	argv[argc++] = "actor";
	argv[argc++] = actor;
	argv[argc++] = "op";
	argv[argc++] = op;
	argv[argc++] = "target";
	argv[argc++] = target;
	argv[argc++] = "time";
	argv[argc++] = now;
	for (size_t i = 0; i < 2 * n; i++)
		argv[argc++] = kv[i] ? kv[i] : "";
	r = ims_rconn_cmd(rc, argc, argv, NULL);
	if (r && r->type == REDIS_REPLY_STRING) {
		if (id)
			snprintf(id, 32, "%s", r->str);
		st = IMS_OK;
	}
	if (r)
		freeReplyObject(r);
	return st;
}

void ims_events_click_argv(const char *argv[IMS_EVENTS_CLICK_ARGC], char now[24], uint64_t time_ms,
                           const char *scan_id, const char *user, const char *url,
                           const char *verdict, const char *reason, const char *ip)
{
	const char *fields[] = {"time", now,       "id",    scan_id,  "user", user, "url",
	                        url,    "verdict", verdict, "reason", reason, "ip", ip};
	size_t n = 0;

	_Static_assert(8 + sizeof fields / sizeof fields[0] == IMS_EVENTS_CLICK_ARGC,
	               "IMS_EVENTS_CLICK_ARGC counts the XADD");
	snprintf(now, 24, "%" PRIu64, time_ms);
	argv[n++] = "XADD";
	argv[n++] = IMS_KEY_EVENTS;
	argv[n++] = "MAXLEN";
	argv[n++] = "~";
	argv[n++] = IMS_EVENTS_MAXLEN_STR;
	argv[n++] = "*";
	argv[n++] = "type";
	argv[n++] = "click";
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		argv[n++] = fields[i] ? fields[i] : "";
}

void ims_events_cli_actor(char *out, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(out, len, "cli:%s", pw ? pw->pw_name : "?");
}
