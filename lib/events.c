/* Admin events in the event stream: see events.h. */
#include "config.h"

#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include "events.h"
#include "rconn.h"
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
	argv[argc++] = IMS_EVENTS_KEY;
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

void ims_events_cli_actor(char *out, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(out, len, "cli:%s", pw ? pw->pw_name : "?");
}
