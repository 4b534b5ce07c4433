/* Admin events in the event stream: see events.h. */
#include "config.h"

#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "events.h"
#include "rkeys.h"
#include "store.h"
#include "ulid.h"

ims_status ims_events_audit(struct ims_store *store, const char *actor, const char *op,
                            const char *target, const char *const *kv, size_t n, char *id)
{
	const char *argv[16 + 2 * IMS_EVENTS_MAX_FIELDS];
	char now[24], err[256];
	redisReply *r = NULL;
	ims_status st;
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
	st = ims_store_cmdv(store, &r, argc, argv, NULL, err, sizeof err);
	if (st == IMS_OK && r->type != REDIS_REPLY_STRING)
		st = IMS_ETEMP;
	if (st == IMS_OK && id)
		snprintf(id, 32, "%s", r->str);
	ims_store_reply_free(r);
	return st;
}

/* Most name/value pairs read of one event. */
#define PAIRS_MAX (2 * IMS_EVENTS_MAX_FIELDS + 16)

/* The entries of an XRANGE/XREVRANGE reply as events (malformed ones
 * left out); the batch keeps the reply. */
static ims_status to_batch(redisReply *r, struct ims_events_batch *b)
{
	const char **kv;
	size_t pairs = 0;

	if (r->type != REDIS_REPLY_ARRAY) {
		ims_store_reply_free(r);
		return IMS_ETEMP;
	}
	b->reply = r;
	if (r->elements == 0)
		return IMS_OK;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];

		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
		    e->element[1]->type == REDIS_REPLY_ARRAY)
			pairs += e->element[1]->elements / 2 < PAIRS_MAX
			             ? e->element[1]->elements / 2
			             : PAIRS_MAX;
	}
	b->ev = calloc(r->elements, sizeof *b->ev);
	b->kv = kv = calloc(2 * pairs + 1, sizeof *kv);
	if (!b->ev || !kv)
		return IMS_ENOMEM;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i], *f;
		struct ims_siem_event *ev = &b->ev[b->n];
		const char **mine = kv;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		f = e->element[1];
		ev->id = e->element[0]->str;
		ev->n = 0;
		for (size_t k = 0; k + 1 < f->elements && ev->n < PAIRS_MAX; k += 2) {
			if (f->element[k]->type != REDIS_REPLY_STRING ||
			    f->element[k + 1]->type != REDIS_REPLY_STRING)
				continue;
			mine[2 * ev->n] = f->element[k]->str;
			mine[2 * ev->n + 1] = f->element[k + 1]->str;
			ev->n++;
		}
		ev->kv = mine;
		kv += 2 * ev->n;
		b->n++;
	}
	return IMS_OK;
}

static ims_status range(struct ims_store *st, const char *cmd, const char *from, const char *to,
                        size_t count, struct ims_events_batch *b)
{
	char n[24], err[256];
	const char *argv[] = {cmd, IMS_KEY_EVENTS, from, to, "COUNT", n};
	redisReply *r = NULL;
	ims_status rc;

	memset(b, 0, sizeof *b);
	snprintf(n, sizeof n, "%zu", count);
	if ((rc = ims_store_cmdv(st, &r, 6, argv, NULL, err, sizeof err)) != IMS_OK)
		return rc;
	return to_batch(r, b);
}

ims_status ims_events_after(struct ims_store *st, const char *after, size_t count,
                            struct ims_events_batch *b)
{
	char start[72];

	snprintf(start, sizeof start, "(%s", after);
	return range(st, "XRANGE", start, "+", count, b);
}

ims_status ims_events_before(struct ims_store *st, const char *before, size_t count,
                             struct ims_events_batch *b)
{
	char start[72];

	if (before)
		snprintf(start, sizeof start, "(%s", before);
	else
		snprintf(start, sizeof start, "+");
	return range(st, "XREVRANGE", start, "-", count, b);
}

void ims_events_batch_free(struct ims_events_batch *b)
{
	free(b->kv);
	free(b->ev);
	ims_store_reply_free(b->reply);
	memset(b, 0, sizeof *b);
}

ims_status ims_events_position_get(struct ims_store *st, char out[64])
{
	const char *argv[] = {"GET", IMS_KEY_SIEM_POSITION};
	redisReply *r = NULL;
	char err[256];
	ims_status rc;

	out[0] = '\0';
	if ((rc = ims_store_cmdv(st, &r, 2, argv, NULL, err, sizeof err)) != IMS_OK)
		return rc;
	if (r->type == REDIS_REPLY_STRING && r->len < 64)
		memcpy(out, r->str, r->len + 1);
	else if (r->type == REDIS_REPLY_NIL)
		rc = IMS_ENOTFOUND;
	else
		rc = IMS_EFORMAT;
	ims_store_reply_free(r);
	return rc;
}

ims_status ims_events_position_set(struct ims_store *st, const char *id)
{
	const char *argv[] = {"SET", IMS_KEY_SIEM_POSITION, id};
	redisReply *r = NULL;
	char err[256];
	ims_status rc = ims_store_cmdv(st, &r, 3, argv, NULL, err, sizeof err);

	ims_store_reply_free(r);
	return rc;
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
