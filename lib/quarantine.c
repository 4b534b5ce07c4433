/* The quarantine store (lib/quarantine.h). */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "feedback.h"
#include "quarantine.h"
#include "rfc5322.h"
#include "rkeys.h"
#include "ulid.h"

#define DAY_MS         ((uint64_t)86400000)
#define PURGE_PER_HOLD "20"

/* Purges held messages older than ARGV[1] (ms), at most ARGV[2] of them.
 * KEYS: index, bytes, sizes; ARGV[3], ARGV[4]: the qmsg and qraw prefixes. */
static const char purge_lua[] =
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, "
    "tonumber(ARGV[2])) "
    "for _, id in ipairs(ids) do "
    "  local n = redis.call('HGET', KEYS[3], id) "
    "  if n then redis.call('DECRBY', KEYS[2], n) redis.call('HDEL', KEYS[3], id) end "
    "  redis.call('DEL', ARGV[3] .. id, ARGV[4] .. id) "
    "  redis.call('ZREM', KEYS[1], id) "
    "end "
    "return #ids";

/* Claims recipients.  KEYS: qmsg, qraw; ARGV: now, stale ms, who, addrs...
 * Returns -1 when the message is gone, else one 0/1 per address. */
static const char claim_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then "
    "  return -1 end "
    "local now = tonumber(ARGV[1]) local got = {} "
    "for i = 4, #ARGV do "
    "  local a = ARGV[i] local ok = 0 "
    "  if redis.call('HEXISTS', KEYS[1], 'd:' .. a) == 0 then "
    "    local c = redis.call('HGET', KEYS[1], 'c:' .. a) "
    "    local t = c and tonumber(string.match(c, '^%d+')) "
    "    if not t or t + tonumber(ARGV[2]) < now then "
    "      redis.call('HSET', KEYS[1], 'c:' .. a, ARGV[1] .. ' ' .. ARGV[3]) ok = 1 end "
    "  end "
    "  got[#got + 1] = ok "
    "end "
    "return got";

/* Records delivery.  KEYS: qmsg, qraw, index, bytes, sizes; ARGV: now, who,
 * id, ms to keep the record, addrs...  -1 gone, 0 some still held, 1 all done. */
static const char finish_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end "
    "for i = 5, #ARGV do "
    "  redis.call('HSET', KEYS[1], 'd:' .. ARGV[i], ARGV[1] .. ' ' .. ARGV[2]) "
    "  redis.call('HDEL', KEYS[1], 'c:' .. ARGV[i]) "
    "end "
    "local r = redis.call('HGET', KEYS[1], 'rcpt') or '' "
    "for a in string.gmatch(r, '[^,]+') do "
    "  if redis.call('HEXISTS', KEYS[1], 'd:' .. a) == 0 then return 0 end "
    "end "
    "redis.call('HSET', KEYS[1], 'released_by', ARGV[2], 'released_at', ARGV[1]) "
    "redis.call('DEL', KEYS[2]) redis.call('ZREM', KEYS[3], ARGV[3]) "
    "local n = redis.call('HGET', KEYS[5], ARGV[3]) "
    "if n then redis.call('DECRBY', KEYS[4], n) redis.call('HDEL', KEYS[5], ARGV[3]) end "
    "redis.call('PEXPIRE', KEYS[1], ARGV[4]) "
    "return 1";

/* Deletes.  KEYS: qmsg, qraw, index, bytes, sizes; ARGV: id.  Returns the
 * held recipients (to drop from their indexes) or false when gone. */
static const char delete_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return false end "
    "local r = redis.call('HGET', KEYS[1], 'rcpt') or '' "
    "redis.call('DEL', KEYS[1], KEYS[2]) redis.call('ZREM', KEYS[3], ARGV[1]) "
    "local n = redis.call('HGET', KEYS[5], ARGV[1]) "
    "if n then redis.call('DECRBY', KEYS[4], n) redis.call('HDEL', KEYS[5], ARGV[1]) end "
    "return r";

static uint64_t retention_ms(const struct ims_conf *c)
{
	return (uint64_t)c->quarantine_retention_days * DAY_MS;
}

static void kv(struct ims_store_txn *t, const char *k, const char *v)
{
	ims_store_txn_str(t, k);
	ims_store_txn_str(t, v ? v : "");
}

ims_status ims_quarantine_txn_hold(struct ims_store_txn *t, const struct ims_conf *c,
                                   const struct ims_quarantine_hold *h)
{
	uint64_t ret = retention_ms(c);
	uint64_t cutoff = h->time_ms > ret ? h->time_ms - ret : 0;

	ims_store_txn_cmd(t, "EVAL");
	ims_store_txn_str(t, purge_lua);
	ims_store_txn_str(t, "3");
	ims_store_txn_str(t, IMS_KEY_QUARANTINE);
	ims_store_txn_str(t, IMS_KEY_QUARANTINE_BYTES);
	ims_store_txn_str(t, IMS_KEY_QUARANTINE_SIZES);
	ims_store_txn_fmt(t, "%" PRIu64, cutoff);
	ims_store_txn_str(t, PURGE_PER_HOLD);
	ims_store_txn_str(t, IMS_KEY_QMSG_PREFIX);
	ims_store_txn_str(t, IMS_KEY_QRAW_PREFIX);

	ims_store_txn_cmd(t, "SET");
	ims_store_txn_fmt(t, IMS_KEY_QRAW_PREFIX "%s", h->id);
	ims_store_txn_ref(t, h->raw, h->len);
	/* a safety net only: the purge above removes it first and counts it */
	ims_store_txn_str(t, "PX");
	ims_store_txn_fmt(t, "%" PRIu64, ret + 7 * DAY_MS);

	ims_store_txn_cmd(t, "HSET");
	ims_store_txn_fmt(t, IMS_KEY_QMSG_PREFIX "%s", h->id);
	ims_store_txn_str(t, "size");
	ims_store_txn_fmt(t, "%zu", h->len);
	ims_store_txn_str(t, "time");
	ims_store_txn_fmt(t, "%" PRIu64, h->time_ms);
	kv(t, "mail_from", h->mail_from);
	kv(t, "rcpt", h->rcpt_list);
	kv(t, "reason", h->reason);
	kv(t, "class", h->hold_class);
	kv(t, "queue_id", h->queue_id);
	kv(t, "subject", h->subject);
	kv(t, "from", h->from);
	ims_store_txn_str(t, "score");
	ims_store_txn_fmt(t, "%.2f", h->score);
	ims_store_txn_cmd(t, "PEXPIRE");
	ims_store_txn_fmt(t, IMS_KEY_QMSG_PREFIX "%s", h->id);
	ims_store_txn_fmt(t, "%" PRIu64, ret + 7 * DAY_MS);

	ims_store_txn_cmd(t, "ZADD");
	ims_store_txn_str(t, IMS_KEY_QUARANTINE);
	ims_store_txn_fmt(t, "%" PRIu64, h->time_ms);
	ims_store_txn_str(t, h->id);
	ims_store_txn_cmd(t, "HSET");
	ims_store_txn_str(t, IMS_KEY_QUARANTINE_SIZES);
	ims_store_txn_str(t, h->id);
	ims_store_txn_fmt(t, "%zu", h->len);
	ims_store_txn_cmd(t, "INCRBY");
	ims_store_txn_str(t, IMS_KEY_QUARANTINE_BYTES);
	return ims_store_txn_fmt(t, "%zu", h->len);
}

struct ims_store_txn *ims_quarantine_txn_user(const struct ims_conf *c, const char *addr,
                                              const char *id, uint64_t time_ms)
{
	struct ims_store_txn *t = ims_store_txn_new();
	uint64_t ret = retention_ms(c);

	if (!t)
		return NULL;
	ims_store_txn_cmd(t, "ZADD");
	ims_store_txn_fmt(t, IMS_KEY_QUARANTINE_USER_FMT, addr);
	ims_store_txn_fmt(t, "%" PRIu64, time_ms);
	ims_store_txn_str(t, id);
	ims_store_txn_cmd(t, "ZREMRANGEBYSCORE");
	ims_store_txn_fmt(t, IMS_KEY_QUARANTINE_USER_FMT, addr);
	ims_store_txn_str(t, "-inf");
	ims_store_txn_fmt(t, "(%" PRIu64, time_ms > ret ? time_ms - ret : 0);
	return t;
}

ims_status ims_quarantine_room(struct ims_store *st, const struct ims_conf *c, size_t len)
{
	struct ims_store_txn *t;
	char *out = NULL;
	ims_status rc;
	unsigned long long used = 0;

	if (c->quarantine_max_bytes == 0)
		return IMS_OK;
	if (len > c->quarantine_max_bytes)
		return IMS_ELIMIT;
	if (!(t = ims_store_txn_new()))
		return IMS_ENOMEM;
	ims_store_txn_cmd(t, "GET");
	ims_store_txn_str(t, IMS_KEY_QUARANTINE_BYTES);
	rc = ims_store_query(st, t, &out, NULL);
	ims_store_txn_free(t);
	if (rc == IMS_ENOTFOUND)
		return IMS_OK;
	if (rc != IMS_OK)
		return rc == IMS_ENOMEM ? rc : IMS_ETEMP;
	used = strtoull(out, NULL, 10);
	free(out);
	return used + len > c->quarantine_max_bytes ? IMS_ELIMIT : IMS_OK;
}

/* ---------------------------------------------------------------- reading */

void ims_quarantine_msg_free(struct ims_quarantine_msg *m)
{
	if (!m)
		return;
	free(m->raw);
	free(m->mail_from);
	free(m->reason);
	free(m->hold_class);
	free(m->queue_id);
	free(m->subject);
	free(m->from);
	free(m->released_by);
	for (size_t i = 0; i < m->nrcpt; i++) {
		free(m->rcpt[i]);
		free(m->delivered[i]);
	}
	free(m);
}

static int set_str(char **dst, const redisReply *v)
{
	free(*dst);
	*dst = strndup(v->str, v->len);
	return *dst ? 0 : -1;
}

/* Fills m from an HGETALL reply; -1 on allocation failure. */
static int from_hash(struct ims_quarantine_msg *m, const redisReply *h)
{
	const redisReply *rc = NULL;

	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const char *k = h->element[i]->str;
		const redisReply *v = h->element[i + 1];
		int bad = 0;

		if (h->element[i]->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k, "time") == 0)
			m->time_ms = strtoull(v->str, NULL, 10);
		else if (strcmp(k, "size") == 0)
			m->size = (size_t)strtoull(v->str, NULL, 10);
		else if (strcmp(k, "score") == 0)
			m->score = strtod(v->str, NULL);
		else if (strcmp(k, "released_at") == 0)
			m->released_at = strtoull(v->str, NULL, 10);
		else if (strcmp(k, "mail_from") == 0)
			bad = set_str(&m->mail_from, v);
		else if (strcmp(k, "reason") == 0)
			bad = set_str(&m->reason, v);
		else if (strcmp(k, "class") == 0)
			bad = set_str(&m->hold_class, v);
		else if (strcmp(k, "queue_id") == 0)
			bad = set_str(&m->queue_id, v);
		else if (strcmp(k, "subject") == 0)
			bad = set_str(&m->subject, v);
		else if (strcmp(k, "from") == 0)
			bad = set_str(&m->from, v);
		else if (strcmp(k, "released_by") == 0)
			bad = set_str(&m->released_by, v);
		else if (strcmp(k, "rcpt") == 0)
			rc = v;
		if (bad)
			return -1;
	}
	if (rc) {
		char *list = strndup(rc->str, rc->len), *save = NULL;
		if (!list)
			return -1;
		for (char *a = strtok_r(list, ",", &save); a && m->nrcpt < IMS_QUARANTINE_MAX_RCPTS;
		     a = strtok_r(NULL, ",", &save)) {
			if (!(m->rcpt[m->nrcpt] = strdup(a))) {
				free(list);
				return -1;
			}
			m->nrcpt++;
		}
		free(list);
	}
	/* per recipient: delivered "MS WHO" */
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const char *k = h->element[i]->str;
		if (h->element[i]->type != REDIS_REPLY_STRING || strncmp(k, "d:", 2) != 0 ||
		    h->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		for (size_t r = 0; r < m->nrcpt; r++)
			if (strcmp(m->rcpt[r], k + 2) == 0 &&
			    set_str(&m->delivered[r], h->element[i + 1]))
				return -1;
	}
	if (!m->mail_from)
		m->mail_from = strdup("");
	if (!m->reason)
		m->reason = strdup("");
	if (!m->hold_class)
		m->hold_class = strdup("score");
	if (!m->queue_id)
		m->queue_id = strdup("");
	if (!m->subject)
		m->subject = strdup("");
	if (!m->from)
		m->from = strdup("");
	return m->mail_from && m->reason && m->hold_class && m->queue_id && m->subject && m->from
	           ? 0
	           : -1;
}

static int id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > IMS_QUARANTINE_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z')))
			return 0;
	return 1;
}

ims_status ims_quarantine_get_many(struct ims_store *store, const char *const *ids, size_t n,
                                   struct ims_quarantine_msg **out)
{
	struct ims_store_txn *t;
	redisReply **rs;
	char err[256];
	ims_status st;

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (n == 0)
		return IMS_OK;
	t = ims_store_txn_new();
	rs = calloc(n, sizeof *rs);
	if (!t || !rs) {
		ims_store_txn_free(t);
		free(rs);
		return IMS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		ims_store_txn_cmd(t, "HGETALL");
		if (!id_ok(ids[i]))
			ims_store_txn_str(t, IMS_KEY_QMSG_PREFIX "-");
		else
			ims_store_txn_fmt(t, IMS_KEY_QMSG_PREFIX "%s", ids[i]);
	}
	st = ims_store_run(store, t, 0, rs, err, sizeof err);
	ims_store_txn_free(t);
	for (size_t i = 0; st == IMS_OK && i < n; i++) {
		const redisReply *h = rs[i];

		if (h->type == REDIS_REPLY_ARRAY && h->elements > 0) {
			struct ims_quarantine_msg *m = calloc(1, sizeof *m);
			if (!m || from_hash(m, h) != 0) {
				ims_quarantine_msg_free(m);
				st = IMS_ENOMEM;
			} else {
				snprintf(m->id, sizeof m->id, "%s", ids[i]);
				out[i] = m;
			}
		}
	}
	ims_store_replies_free(rs, n);
	free(rs);
	if (st != IMS_OK)
		for (size_t i = 0; i < n; i++) {
			ims_quarantine_msg_free(out[i]);
			out[i] = NULL;
		}
	return st;
}

ims_status ims_quarantine_get(struct ims_store *store, const char *id, bool with_raw,
                              struct ims_quarantine_msg **out)
{
	struct ims_quarantine_msg *m = NULL;
	ims_status st;

	*out = NULL;
	if (!id_ok(id))
		return IMS_ENOTFOUND;
	st = ims_quarantine_get_many(store, &id, 1, &m);
	if (st != IMS_OK)
		return st;
	if (!m)
		return IMS_ENOTFOUND;
	if (with_raw) {
		char key[64];
		const char *argv[2] = {"GET", key};
		redisReply *r = NULL;
		char err[256];

		snprintf(key, sizeof key, IMS_KEY_QRAW_PREFIX "%s", id);
		if ((st = ims_store_cmdv(store, &r, 2, argv, NULL, err, sizeof err)) != IMS_OK) {
			ims_quarantine_msg_free(m);
			return st;
		}
		if (r->type == REDIS_REPLY_STRING) {
			m->raw = malloc(r->len + 1);
			if (!m->raw) {
				ims_store_reply_free(r);
				ims_quarantine_msg_free(m);
				return IMS_ENOMEM;
			}
			memcpy(m->raw, r->str, r->len);
			m->raw[r->len] = '\0';
			m->raw_len = r->len;
		}
		ims_store_reply_free(r);
	}
	*out = m;
	return IMS_OK;
}

ims_status ims_quarantine_page(struct ims_store *st, const char *addr, const char *cursor,
                               size_t limit, struct ims_page *p)
{
	char key[IMS_KEY_MAX];

	memset(p, 0, sizeof *p);
	if (!addr)
		snprintf(key, sizeof key, "%s", IMS_KEY_QUARANTINE);
	else if (ims_key(key, sizeof key, IMS_KEY_QUARANTINE_USER_FMT, addr) != IMS_OK)
		return IMS_EINVAL;
	return ims_page_read(st, key, cursor, LLONG_MIN, LLONG_MAX, limit, p);
}

int ims_quarantine_held_for(const struct ims_quarantine_msg *m, const char *addr)
{
	for (size_t i = 0; i < m->nrcpt; i++)
		if (strcasecmp(m->rcpt[i], addr) == 0)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------- release */

/* EVAL with the given keys and arguments; *r the reply (the caller's). */
static ims_status eval(struct ims_store *store, const char *script, size_t nkeys, const char **keys,
                       size_t nargs, const char **args, redisReply **r)
{
	const char *argv[8 + 8 + IMS_QUARANTINE_MAX_RCPTS];
	char nk[8], err[256];
	size_t argc = 0;

	*r = NULL;
	if (nkeys > 8 || nargs > 8 + IMS_QUARANTINE_MAX_RCPTS - 3)
		return IMS_EINVAL;
	snprintf(nk, sizeof nk, "%zu", nkeys);
	argv[argc++] = "EVAL";
	argv[argc++] = script;
	argv[argc++] = nk;
	for (size_t i = 0; i < nkeys; i++)
		argv[argc++] = keys[i];
	for (size_t i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	return ims_store_cmdv(store, r, (int)argc, argv, NULL, err, sizeof err);
}

/* Recipients per script call: a command of the store has at most
 * IMS_STORE_MAX_ARGS arguments (EVAL, script, numkeys, 5 keys, 4 args). */
#define RCPTS_PER_CALL (IMS_STORE_MAX_ARGS - 16)

static ims_status claim_chunk(struct ims_store *store, const char *id, const char *const *rcpts,
                              size_t n, const char *who, uint64_t now_ms, int *claimed)
{
	char kmsg[64], kraw[64], now[24], stale[24];
	const char *keys[2] = {kmsg, kraw};
	const char *args[3 + IMS_QUARANTINE_MAX_RCPTS];
	redisReply *r = NULL;
	ims_status st = IMS_ETEMP;

	if (!id_ok(id))
		return IMS_ENOTFOUND;
	if (n == 0 || n > RCPTS_PER_CALL)
		return IMS_EINVAL;
	snprintf(kmsg, sizeof kmsg, IMS_KEY_QMSG_PREFIX "%s", id);
	snprintf(kraw, sizeof kraw, IMS_KEY_QRAW_PREFIX "%s", id);
	snprintf(now, sizeof now, "%" PRIu64, now_ms);
	snprintf(stale, sizeof stale, "%d", IMS_QUARANTINE_CLAIM_STALE_MS);
	args[0] = now;
	args[1] = stale;
	args[2] = who;
	for (size_t i = 0; i < n; i++) {
		args[3 + i] = rcpts[i];
		claimed[i] = 0;
	}
	if ((st = eval(store, claim_lua, 2, keys, 3 + n, args, &r)) != IMS_OK)
		return st;
	if (r->type == REDIS_REPLY_INTEGER && r->integer == -1)
		st = IMS_ENOTFOUND;
	else if (r->type == REDIS_REPLY_ARRAY && r->elements == n) {
		for (size_t i = 0; i < n; i++)
			claimed[i] = r->element[i]->type == REDIS_REPLY_INTEGER &&
			             r->element[i]->integer == 1;
		st = IMS_OK;
	} else
		st = IMS_EINVAL;
	ims_store_reply_free(r);
	return st;
}

ims_status ims_quarantine_claim(struct ims_store *store, const char *id, const char *const *rcpts,
                                size_t n, const char *who, uint64_t now_ms, int *claimed)
{
	ims_status st = IMS_OK;

	if (!id_ok(id))
		return IMS_ENOTFOUND;
	if (n == 0 || n > IMS_QUARANTINE_MAX_RCPTS)
		return IMS_EINVAL;
	for (size_t i = 0; i < n; i++)
		claimed[i] = 0;
	/* each recipient is claimed on its own: a call per chunk claims the
	 * same as one call for all would */
	for (size_t i = 0; i < n && st == IMS_OK; i += RCPTS_PER_CALL)
		st = claim_chunk(store, id, rcpts + i,
		                 n - i < RCPTS_PER_CALL ? n - i : RCPTS_PER_CALL, who, now_ms,
		                 claimed + i);
	if (st != IMS_OK && st != IMS_ENOTFOUND) {
		/* give back what the earlier chunks claimed */
		const char *mine[IMS_QUARANTINE_MAX_RCPTS];
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (claimed[i])
				mine[k++] = rcpts[i];
		(void)ims_quarantine_unclaim(store, id, mine, k);
		for (size_t i = 0; i < n; i++)
			claimed[i] = 0;
	}
	return st;
}

static ims_status unclaim_chunk(struct ims_store *store, const char *id, const char *const *rcpts,
                                size_t n)
{
	const char **argv = NULL;
	char key[64], **fields = NULL;
	redisReply *r = NULL;
	ims_status st = IMS_ENOMEM;

	if (n == 0)
		return IMS_OK;
	argv = calloc(2 + n, sizeof *argv);
	fields = calloc(n, sizeof *fields);
	if (!argv || !fields)
		goto out;
	snprintf(key, sizeof key, IMS_KEY_QMSG_PREFIX "%s", id);
	argv[0] = "HDEL";
	argv[1] = key;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(rcpts[i]);
		if (!(fields[i] = malloc(l + 3)))
			goto out;
		memcpy(fields[i], "c:", 2);
		memcpy(fields[i] + 2, rcpts[i], l + 1);
		argv[2 + i] = fields[i];
	}
	{
		char err[256];

		st = ims_store_cmdv(store, &r, (int)(2 + n), argv, NULL, err, sizeof err);
	}
out:
	ims_store_reply_free(r);
	for (size_t i = 0; fields && i < n; i++)
		free(fields[i]);
	free(fields);
	free(argv);
	return st;
}

ims_status ims_quarantine_unclaim(struct ims_store *store, const char *id, const char *const *rcpts,
                                  size_t n)
{
	ims_status st = IMS_OK;

	if (!id_ok(id) || n > IMS_QUARANTINE_MAX_RCPTS)
		return IMS_EINVAL;
	for (size_t i = 0; i < n && st == IMS_OK; i += RCPTS_PER_CALL)
		st = unclaim_chunk(store, id, rcpts + i,
		                   n - i < RCPTS_PER_CALL ? n - i : RCPTS_PER_CALL);
	return st;
}

/* Drops id from each address's own index (one command per slot). */
static ims_status drop_from_users(struct ims_store *store, const char *id, const char *const *addrs,
                                  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char key[IMS_QUARANTINE_ADDR_MAX + 32], err[256];
		const char *argv[3] = {"ZREM", key, id};
		redisReply *r = NULL;
		ims_status st;

		snprintf(key, sizeof key, IMS_KEY_QUARANTINE_USER_FMT, addrs[i]);
		st = ims_store_cmdv(store, &r, 3, argv, NULL, err, sizeof err);
		ims_store_reply_free(r);
		if (st != IMS_OK)
			return st;
	}
	return IMS_OK;
}

static ims_status finish_chunk(struct ims_store *store, const struct ims_conf *c, const char *id,
                               const char *const *rcpts, size_t n, const char *who, uint64_t now_ms,
                               bool *all_done)
{
	char kmsg[64], kraw[64], now[24], keep[24];
	const char *keys[5] = {kmsg, kraw, IMS_KEY_QUARANTINE, IMS_KEY_QUARANTINE_BYTES,
	                       IMS_KEY_QUARANTINE_SIZES};
	const char *args[4 + IMS_QUARANTINE_MAX_RCPTS];
	redisReply *r = NULL;
	ims_status st;

	if (n > RCPTS_PER_CALL)
		return IMS_EINVAL;
	snprintf(kmsg, sizeof kmsg, IMS_KEY_QMSG_PREFIX "%s", id);
	snprintf(kraw, sizeof kraw, IMS_KEY_QRAW_PREFIX "%s", id);
	snprintf(now, sizeof now, "%" PRIu64, now_ms);
	snprintf(keep, sizeof keep, "%" PRIu64, retention_ms(c));
	args[0] = now;
	args[1] = who;
	args[2] = id;
	args[3] = keep;
	for (size_t i = 0; i < n; i++)
		args[4 + i] = rcpts[i];
	if ((st = eval(store, finish_lua, 5, keys, 4 + n, args, &r)) != IMS_OK)
		return st;
	st =
	    r->type == REDIS_REPLY_INTEGER ? (r->integer < 0 ? IMS_ENOTFOUND : IMS_OK) : IMS_EINVAL;
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		*all_done = true;
	ims_store_reply_free(r);
	return st;
}

ims_status ims_quarantine_finish(struct ims_store *store, const struct ims_conf *c, const char *id,
                                 const char *const *rcpts, size_t n, const char *who,
                                 uint64_t now_ms, bool *all_done)
{
	bool done = false;
	ims_status st = IMS_OK;

	if (all_done)
		*all_done = false;
	if (!id_ok(id))
		return IMS_ENOTFOUND;
	if (n > IMS_QUARANTINE_MAX_RCPTS)
		return IMS_EINVAL;
	/* the script marks the message released in the call that delivers
	 * its last recipient; n == 0 still runs once (the check alone) */
	for (size_t i = 0; st == IMS_OK && (i < n || i == 0); i += RCPTS_PER_CALL)
		st = finish_chunk(store, c, id, rcpts + i,
		                  n - i < RCPTS_PER_CALL ? n - i : RCPTS_PER_CALL, who, now_ms,
		                  &done);
	if (all_done)
		*all_done = done;
	if (st != IMS_OK)
		return st;
	return drop_from_users(store, id, rcpts, n);
}

ims_status ims_quarantine_delete(struct ims_store *store, const struct ims_conf *c, const char *id)
{
	char kmsg[64], kraw[64];
	const char *keys[5] = {kmsg, kraw, IMS_KEY_QUARANTINE, IMS_KEY_QUARANTINE_BYTES,
	                       IMS_KEY_QUARANTINE_SIZES};
	const char *args[1] = {id};
	const char *addrs[IMS_QUARANTINE_MAX_RCPTS];
	char *list = NULL, *save = NULL;
	size_t n = 0;
	redisReply *r = NULL;
	ims_status st;

	(void)c;
	if (!id_ok(id))
		return IMS_ENOTFOUND;
	snprintf(kmsg, sizeof kmsg, IMS_KEY_QMSG_PREFIX "%s", id);
	snprintf(kraw, sizeof kraw, IMS_KEY_QRAW_PREFIX "%s", id);
	if ((st = eval(store, delete_lua, 5, keys, 1, args, &r)) != IMS_OK)
		return st;
	if (r->type != REDIS_REPLY_STRING) {
		st = r->type == REDIS_REPLY_NIL ? IMS_ENOTFOUND : IMS_EINVAL;
		ims_store_reply_free(r);
		return st;
	}
	list = strndup(r->str, r->len);
	ims_store_reply_free(r);
	if (!list)
		return IMS_ENOMEM;
	for (char *a = strtok_r(list, ",", &save); a && n < IMS_QUARANTINE_MAX_RCPTS;
	     a = strtok_r(NULL, ",", &save))
		addrs[n++] = a;
	st = drop_from_users(store, id, addrs, n);
	free(list);
	return st;
}

ims_status ims_quarantine_purge(struct ims_store *store, const struct ims_conf *c, uint64_t now_ms,
                                size_t max, size_t *purged)
{
	const char *keys[3] = {IMS_KEY_QUARANTINE, IMS_KEY_QUARANTINE_BYTES,
	                       IMS_KEY_QUARANTINE_SIZES};
	char cutoff[24], nmax[24];
	const char *args[4] = {cutoff, nmax, IMS_KEY_QMSG_PREFIX, IMS_KEY_QRAW_PREFIX};
	uint64_t ret = retention_ms(c);
	redisReply *r = NULL;
	ims_status st;

	if (purged)
		*purged = 0;
	snprintf(cutoff, sizeof cutoff, "%" PRIu64, now_ms > ret ? now_ms - ret : 0);
	snprintf(nmax, sizeof nmax, "%zu", max);
	if ((st = eval(store, purge_lua, 3, keys, 4, args, &r)) != IMS_OK)
		return st;
	st = r->type == REDIS_REPLY_INTEGER ? IMS_OK : IMS_EINVAL;
	if (st == IMS_OK && purged)
		*purged = (size_t)r->integer;
	ims_store_reply_free(r);
	return st;
}

/* ---------------------------------------------------------------- release copy */

static int drop_on_release(const char *name)
{
	return strcasecmp(name, "X-Spam-Flag") == 0 || strcasecmp(name, "X-Spam-Status") == 0 ||
	       strcasecmp(name, "X-IMS-Released") == 0;
}

ims_status ims_quarantine_released_copy(const char *raw, size_t len, const char *who,
                                        uint64_t now_ms, char **out, size_t *outlen)
{
	char head[1024], when[40];
	time_t secs = (time_t)(now_ms / 1000);
	struct tm tm;
	size_t hl;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* who is an address ims checked; keep header syntax safe anyway */
	hl = (size_t)snprintf(head, sizeof head,
	                      "X-IMS-Released: by %.320s at %s\r\n"
	                      "X-Spam-Flag: NO\r\n"
	                      "X-Spam-Status: No, released from quarantine by %.320s\r\n",
	                      who, when, who);
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)head[i] < 0x20 && head[i] != '\r' && head[i] != '\n')
			head[i] = ' ';
	/* the one header walk ims uses to put its fields first (lib/rfc5322.h):
	 * a held message without a header section (not what the milter stores)
	 * gets ours, a blank line, and its bytes as body, so none of them can
	 * become a header field (a forged X-Spam-Flag after ours would count) */
	return ims_msg_reheader(raw, len, 100000, 16 * 1024 * 1024, head, hl, drop_on_release,
	                        "\r\n", out, outlen);
}

/* ---------------------------------------------------------------- feedback, policy */

ims_status ims_quarantine_report_ham(struct ims_store *store, const struct ims_conf *conf,
                                     const char *who, const char *id, const char *raw, size_t len,
                                     char *entry_id)
{
	struct ims_feedback_msg msg;
	enum ims_feedback_outcome outcome;
	char e[32] = "", err[256];
	ims_status st;

	if (entry_id)
		entry_id[0] = '\0';
	if ((st = ims_feedback_msg_from(raw, len, conf->feedback_max_message_size, &msg)) != IMS_OK)
		return st;
	/* the held message is known by its scan id, as in the mailboxes */
	if (ims_ulid_valid(id))
		memcpy(msg.key, id, IMS_ULID_LEN + 1);
	st = ims_feedback_record(store, conf, who, IMS_FEEDBACK_HAM, &msg, "release", &outcome, e,
	                         err, sizeof err);
	ims_feedback_msg_clear(&msg);
	if (st == IMS_OK && entry_id)
		snprintf(entry_id, 64, "%s", e);
	return st;
}

bool ims_quarantine_user_may_release(const struct ims_conf *c, const char *hold_class)
{
	for (char **p = c->quarantine_user_release; p && *p; p++)
		if (hold_class && strcmp(*p, hold_class) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- digest */

ims_status ims_quarantine_user_since(struct ims_store *store, const char *addr, uint64_t after_ms,
                                     size_t max, char (*ids)[IMS_QUARANTINE_ID_MAX + 1],
                                     uint64_t *times, size_t *n)
{
	char key[IMS_QUARANTINE_ADDR_MAX + 32], min[32], lim[24];
	const char *argv[] = {"ZRANGEBYSCORE", key, min, "+inf", "WITHSCORES", "LIMIT", "0", lim};
	redisReply *r = NULL;

	*n = 0;
	snprintf(key, sizeof key, IMS_KEY_QUARANTINE_USER_FMT, addr);
	snprintf(min, sizeof min, "(%" PRIu64, after_ms);
	snprintf(lim, sizeof lim, "%zu", max);
	{
		char err[256];
		ims_status st = ims_store_cmdv(store, &r, 8, argv, NULL, err, sizeof err);

		if (st != IMS_OK)
			return st;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		ims_store_reply_free(r);
		return IMS_EINVAL;
	}
	for (size_t i = 0; i + 1 < r->elements && *n < max; i += 2) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i]->len > IMS_QUARANTINE_ID_MAX)
			continue;
		snprintf(ids[*n], IMS_QUARANTINE_ID_MAX + 1, "%s", r->element[i]->str);
		times[*n] =
		    strtoull(r->element[i + 1]->str ? r->element[i + 1]->str : "0", NULL, 10);
		(*n)++;
	}
	ims_store_reply_free(r);
	return IMS_OK;
}

ims_status ims_quarantine_digest_get(struct ims_store *store, const char *addr, uint64_t *ms)
{
	char key[IMS_QUARANTINE_ADDR_MAX + 32];
	const char *argv[2] = {"GET", key};
	redisReply *r = NULL;

	*ms = 0;
	snprintf(key, sizeof key, IMS_KEY_QUARANTINE_DIGEST_FMT, addr);
	{
		char err[256];
		ims_status st = ims_store_cmdv(store, &r, 2, argv, NULL, err, sizeof err);

		if (st != IMS_OK)
			return st;
	}
	if (r->type == REDIS_REPLY_STRING)
		*ms = strtoull(r->str, NULL, 10);
	ims_store_reply_free(r);
	return IMS_OK;
}

ims_status ims_quarantine_digest_set(struct ims_store *store, const char *addr, uint64_t ms)
{
	char key[IMS_QUARANTINE_ADDR_MAX + 32], v[24];
	const char *argv[3] = {"SET", key, v};
	redisReply *r = NULL;
	ims_status st;

	snprintf(key, sizeof key, IMS_KEY_QUARANTINE_DIGEST_FMT, addr);
	snprintf(v, sizeof v, "%" PRIu64, ms);
	{
		char err[256];

		st = ims_store_cmdv(store, &r, 3, argv, NULL, err, sizeof err);
	}
	ims_store_reply_free(r);
	return st;
}
