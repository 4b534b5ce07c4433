/* Users' spam/ham feedback in Redis: see feedback.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "feedback.h"
#include "rfc5322.h"
#include "rkeys.h"
#include "store.h"
#include "ulid.h"

#define KEY_STREAM    IMS_KEY_FEEDBACK
#define KEY_SEEN      IMS_KEY_FEEDBACK_SEEN_PREFIX
#define KEY_RATE      IMS_KEY_FEEDBACK_RATE_PREFIX
#define PAGE          500
#define RATE_WINDOW_S 3600

/* KEYS: stream, seen hash, rate counter.  ARGV: 1 message key, 2 label,
 * 3 user, 4 time, 5 raw, 6 source, 7 size, 8 truncated, 9 max_per_user,
 * 10 rate_per_hour, 11 retention seconds, 12 stream MAXLEN, 13 rate window.
 * Returns {outcome, entry id}. */
static const char record_script[] =
    "local prev = redis.call('HGET', KEYS[2], ARGV[1])\n"
    "local old = nil\n"
    "if prev then\n"
    "  local sp = string.find(prev, ' ', 1, true)\n"
    "  local plabel = sp and string.sub(prev, 1, sp - 1) or prev\n"
    "  if plabel == ARGV[2] then return {'duplicate', ''} end\n"
    "  if sp then old = string.sub(prev, sp + 1) end\n"
    "elseif redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[9]) then\n"
    "  return {'user_full', ''}\n"
    "end\n"
    "local n = redis.call('INCR', KEYS[3])\n"
    "if n == 1 then redis.call('EXPIRE', KEYS[3], tonumber(ARGV[13])) end\n"
    "if n > tonumber(ARGV[10]) then return {'rate_limited', ''} end\n"
    "if old then redis.call('XDEL', KEYS[1], old) end\n"
    "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[12], '*', 'user', ARGV[3],\n"
    "  'id', ARGV[1], 'label', ARGV[2], 'time', ARGV[4], 'source', ARGV[6], 'size', ARGV[7],\n"
    "  'truncated', ARGV[8], 'raw', ARGV[5])\n"
    "redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. id)\n"
    "redis.call('EXPIRE', KEYS[2], tonumber(ARGV[11]))\n"
    "if old then return {'changed', id} end\n"
    "return {'recorded', id}\n";

static const char *const outcome_names[] = {"recorded", "changed", "duplicate", "rate_limited",
                                            "user_full"};

const char *ims_feedback_outcome_name(enum ims_feedback_outcome o)
{
	return (unsigned)o < sizeof outcome_names / sizeof outcome_names[0] ? outcome_names[o]
	                                                                    : "unknown";
}

void ims_feedback_msg_clear(struct ims_feedback_msg *m)
{
	if (!m)
		return;
	free(m->raw);
	memset(m, 0, sizeof *m);
}

/* The scan id of the first X-IMS-Scan-Id field, when the kept bytes hold
 * one that is well formed; 0 otherwise. */
static int scan_id_key(const char *raw, size_t len, char *out)
{
	struct ims_msg *m = NULL;
	const char *v;
	int ok = 0;

	if (ims_msg_parse(raw, len, 1000, 65536, &m) != IMS_OK)
		return 0;
	if ((v = ims_msg_find(m, "X-IMS-Scan-Id", 0))) {
		char id[IMS_ULID_LEN + 1];
		size_t n;

		v += strspn(v, " \t\r\n");
		n = strcspn(v, " \t\r\n");
		if (n == IMS_ULID_LEN) {
			memcpy(id, v, n);
			id[n] = '\0';
			if (ims_ulid_valid(id) && v[n + strspn(v + n, " \t\r\n")] == '\0') {
				memcpy(out, id, n + 1);
				ok = 1;
			}
		}
	}
	ims_msg_free(m);
	return ok;
}

static void finish_key(struct ims_feedback_msg *m, crypto_hash_sha256_state *h)
{
	unsigned char sum[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];

	crypto_hash_sha256_final(h, sum);
	if (scan_id_key(m->raw, m->raw_len, m->key))
		return;
	sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
	snprintf(m->key, sizeof m->key, "sha256:%s", hex);
}

ims_status ims_feedback_msg_read(int fd, size_t max, struct ims_feedback_msg *out)
{
	crypto_hash_sha256_state h;
	char chunk[65536];
	ims_status rc = IMS_ENOMEM;

	memset(out, 0, sizeof *out);
	if (sodium_init() < 0 || !(out->raw = malloc(max + 1)))
		goto out;
	crypto_hash_sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = IMS_EIO;
			goto out;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&h, (const unsigned char *)chunk, (unsigned long long)n);
		if (out->raw_len < max) {
			size_t take =
			    (size_t)n < max - out->raw_len ? (size_t)n : max - out->raw_len;

			memcpy(out->raw + out->raw_len, chunk, take);
			out->raw_len += take;
		}
		out->size += (uint64_t)n;
	}
	rc = IMS_EINVAL;
	if (out->size == 0)
		goto out;
	out->raw[out->raw_len] = '\0';
	out->truncated = out->raw_len < out->size;
	finish_key(out, &h);
	rc = IMS_OK;
out:
	if (rc != IMS_OK)
		ims_feedback_msg_clear(out);
	return rc;
}

ims_status ims_feedback_msg_from(const char *raw, size_t len, size_t max,
                                 struct ims_feedback_msg *out)
{
	crypto_hash_sha256_state h;

	memset(out, 0, sizeof *out);
	if (len == 0)
		return IMS_EINVAL;
	if (sodium_init() < 0)
		return IMS_ENOMEM;
	out->raw_len = len < max ? len : max;
	if (!(out->raw = malloc(out->raw_len + 1)))
		return IMS_ENOMEM;
	memcpy(out->raw, raw, out->raw_len);
	out->raw[out->raw_len] = '\0';
	out->size = len;
	out->truncated = out->raw_len < len;
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)raw, len);
	finish_key(out, &h);
	return IMS_OK;
}

ims_status ims_feedback_record(struct ims_store *store, const struct ims_conf *conf,
                               const char *user, enum ims_feedback_label label,
                               const struct ims_feedback_msg *msg, const char *source,
                               enum ims_feedback_outcome *outcome, char entry_id[32], char *err,
                               size_t errlen)
{
	char seen[sizeof KEY_SEEN + IMS_FEEDBACK_USER_MAX],
	    rate[sizeof KEY_RATE + IMS_FEEDBACK_USER_MAX];
	char time_s[24], size_s[24], max_s[24], rate_s[24], ret_s[24], cap_s[24], win_s[24];
	const char *lbl = label == IMS_FEEDBACK_SPAM ? "spam" : "ham";
	const char *argv[20];
	size_t lens[20];
	redisReply *r = NULL;
	ims_status st = IMS_EINVAL;
	int argc = 0;

	entry_id[0] = '\0';
	if (!user || !*user || strlen(user) > IMS_FEEDBACK_USER_MAX || strpbrk(user, " \t\r\n")) {
		snprintf(err, errlen, "bad user name");
		goto out;
	}
	snprintf(seen, sizeof seen, KEY_SEEN "%s", user);
	snprintf(rate, sizeof rate, KEY_RATE "%s", user);
	snprintf(time_s, sizeof time_s, "%" PRIu64, ims_now_ms());
	snprintf(size_s, sizeof size_s, "%" PRIu64, msg->size);
	snprintf(max_s, sizeof max_s, "%d", conf->feedback_max_per_user);
	snprintf(rate_s, sizeof rate_s, "%d", conf->feedback_rate_per_hour);
	snprintf(ret_s, sizeof ret_s, "%lld", (long long)conf->feedback_retention_days * 86400);
	snprintf(cap_s, sizeof cap_s, "%d", IMS_FEEDBACK_STREAM_MAX);
	snprintf(win_s, sizeof win_s, "%d", RATE_WINDOW_S);
#define ARG(p, n) (argv[argc] = (p), lens[argc++] = (n))
#define STR(s)    ARG((s), strlen(s))
	STR("EVAL");
	ARG(record_script, sizeof record_script - 1);
	STR("3");
	STR(KEY_STREAM);
	STR(seen);
	STR(rate);
	STR(msg->key);
	STR(lbl);
	STR(user);
	STR(time_s);
	ARG(msg->raw, msg->raw_len);
	STR(source ? source : "");
	STR(size_s);
	STR(msg->truncated ? "1" : "0");
	STR(max_s);
	STR(rate_s);
	STR(ret_s);
	STR(cap_s);
	STR(win_s);
#undef STR
#undef ARG
	{
		char why[256] = "";

		st = ims_store_cmdv(store, &r, argc, argv, lens, why, sizeof why);
		if (st != IMS_OK) {
			snprintf(err, errlen, "recording feedback: %s",
			         why[0] ? why : ims_strstatus(st));
			goto out;
		}
	}
	st = IMS_ETEMP;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		snprintf(err, errlen, "recording feedback: unexpected reply");
		goto out;
	}
	for (unsigned i = 0; i < sizeof outcome_names / sizeof outcome_names[0]; i++)
		if (strcmp(r->element[0]->str, outcome_names[i]) == 0) {
			*outcome = (enum ims_feedback_outcome)i;
			snprintf(entry_id, 32, "%s", r->element[1]->str);
			st = IMS_OK;
		}
	if (st != IMS_OK)
		snprintf(err, errlen, "recording feedback: unexpected reply '%s'",
		         r->element[0]->str);
out:
	ims_store_reply_free(r);
	return st;
}

ims_status ims_feedback_count(struct ims_store *store, const char *user, long long *n)
{
	char seen[sizeof KEY_SEEN + IMS_FEEDBACK_USER_MAX];
	const char *argv[2] = {"XLEN", KEY_STREAM};
	redisReply *r = NULL;
	char err[256];
	ims_status st;

	if (user) {
		if (strlen(user) > IMS_FEEDBACK_USER_MAX)
			return IMS_EINVAL;
		snprintf(seen, sizeof seen, KEY_SEEN "%s", user);
		argv[0] = "HLEN";
		argv[1] = seen;
	}
	if ((st = ims_store_cmdv(store, &r, 2, argv, NULL, err, sizeof err)) != IMS_OK)
		return st;
	if (r->type == REDIS_REPLY_INTEGER)
		*n = r->integer;
	else
		st = IMS_ETEMP;
	ims_store_reply_free(r);
	return st;
}

static const redisReply *field(const redisReply *kv, const char *name)
{
	for (size_t i = 0; kv && kv->type == REDIS_REPLY_ARRAY && i + 1 < kv->elements; i += 2)
		if (kv->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(kv->element[i]->str, name) == 0)
			return kv->element[i + 1]->type == REDIS_REPLY_STRING ? kv->element[i + 1]
			                                                      : NULL;
	return NULL;
}

ims_status ims_feedback_each(struct ims_store *store,
                             ims_status (*fn)(const struct ims_feedback_entry *e, void *arg),
                             void *arg, size_t *entries, char *err, size_t errlen)
{
	char start[64] = "-", count[16];

	*entries = 0;
	snprintf(count, sizeof count, "%d", PAGE);
	for (;;) {
		const char *argv[] = {"XRANGE", KEY_STREAM, start, "+", "COUNT", count};
		redisReply *r = NULL;
		char why[256] = "";
		ims_status st = ims_store_cmdv(store, &r, 6, argv, NULL, why, sizeof why);
		size_t n;

		if (st == IMS_OK && r->type != REDIS_REPLY_ARRAY)
			st = IMS_ETEMP;
		if (st != IMS_OK) {
			snprintf(err, errlen, "reading " KEY_STREAM ": %s",
			         why[0] ? why : "unexpected reply");
			ims_store_reply_free(r);
			return st;
		}
		n = r->elements;
		for (size_t i = 0; i < n && st == IMS_OK; i++) {
			const redisReply *e = r->element[i];
			const redisReply *user, *id, *label, *raw, *time;
			struct ims_feedback_entry fe;

			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[0]->type != REDIS_REPLY_STRING)
				continue;
			/* the next page starts after this id: XRANGE's "(" exclusive form */
			snprintf(start, sizeof start, "(%s", e->element[0]->str);
			(*entries)++;
			user = field(e->element[1], "user");
			id = field(e->element[1], "id");
			label = field(e->element[1], "label");
			raw = field(e->element[1], "raw");
			time = field(e->element[1], "time");
			if (!user || !id || !label || !raw ||
			    (strcmp(label->str, "spam") != 0 && strcmp(label->str, "ham") != 0))
				continue; /* not ours to judge: skip a malformed entry */
			fe.entry_id = e->element[0]->str;
			fe.user = user->str;
			fe.key = id->str;
			fe.label =
			    strcmp(label->str, "spam") == 0 ? IMS_FEEDBACK_SPAM : IMS_FEEDBACK_HAM;
			fe.time_ms = time ? strtoll(time->str, NULL, 10) : 0;
			fe.raw = raw->str;
			fe.raw_len = raw->len;
			st = fn(&fe, arg);
		}
		ims_store_reply_free(r);
		if (st != IMS_OK)
			return st;
		if (n < PAGE)
			return IMS_OK;
	}
}
