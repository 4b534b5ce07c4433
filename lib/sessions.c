#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "rkeys.h"
#include "sessions.h"
#include "store.h"
#include "users.h"

/* KEYS[1] family; ARGV[1] hash of the presented token, ARGV[2] hash of its
 * replacement.  1 rotated, 0 no such family, -1 reuse (family deleted). */
static const char rotate_lua[] = "local c = redis.call('HGET', KEYS[1], 'current') "
                                 "if not c then return 0 end "
                                 "if c ~= ARGV[1] then redis.call('DEL', KEYS[1]) return -1 end "
                                 "redis.call('HSET', KEYS[1], 'current', ARGV[2]) "
                                 "return 1";

/* KEYS[1] the user's sessions set; ARGV[1] the prefix of a family's key.
 * Drops the members whose family is gone (expired, ended). */
static const char prune_lua[] = "local f = redis.call('SMEMBERS', KEYS[1]) "
                                "for i = 1, #f do "
                                "  if redis.call('EXISTS', ARGV[1] .. f[i]) == 0 then "
                                "    redis.call('SREM', KEYS[1], f[i]) end "
                                "end return 0";

/* The same keys; deletes every family and the set, answers how many. */
static const char end_all_lua[] = "local f = redis.call('SMEMBERS', KEYS[1]) "
                                  "for i = 1, #f do redis.call('DEL', ARGV[1] .. f[i]) end "
                                  "redis.call('DEL', KEYS[1]) "
                                  "return #f";

/* The sessions set of addr and the prefix of its families' keys. */
static ims_status set_keys(char *set, char *prefix, size_t len, const char *addr)
{
	if (ims_key(set, len, IMS_KEY_SESSIONS_FMT, addr) != IMS_OK)
		return IMS_EINVAL;
	return ims_key(prefix, len, IMS_KEY_REFRESH_FMT, addr, "");
}

static ims_status family_key(char *key, size_t len, const char *addr, const char *fam)
{
	return ims_key(key, len, IMS_KEY_REFRESH_FMT, addr, fam);
}

ims_status ims_sessions_put(struct ims_store *st, const char *addr, const char *fam,
                            const char *hash, uint64_t now_ms, int ttl_s)
{
	char key[IMS_KEY_MAX], set[IMS_KEY_MAX], prefix[IMS_KEY_MAX], err[256];
	struct ims_store_txn *t;
	redisReply *rs[4] = {NULL, NULL, NULL, NULL};
	ims_status rc;

	if ((rc = family_key(key, sizeof key, addr, fam)) != IMS_OK ||
	    (rc = set_keys(set, prefix, sizeof set, addr)) != IMS_OK)
		return rc;
	if (!(t = ims_store_txn_new()))
		return IMS_ENOMEM;
	/* the set of the user's families: the expired ones out, this one in */
	ims_store_txn_cmd(t, "EVAL");
	ims_store_txn_str(t, prune_lua);
	ims_store_txn_str(t, "1");
	ims_store_txn_str(t, set);
	ims_store_txn_str(t, prefix);
	ims_store_txn_cmd(t, "HSET");
	ims_store_txn_str(t, key);
	ims_store_txn_str(t, "current");
	ims_store_txn_str(t, hash);
	ims_store_txn_str(t, "expires");
	ims_store_txn_fmt(t, "%" PRIu64, now_ms + (uint64_t)ttl_s * 1000);
	ims_store_txn_cmd(t, "EXPIRE");
	ims_store_txn_str(t, key);
	ims_store_txn_fmt(t, "%d", ttl_s);
	ims_store_txn_cmd(t, "SADD");
	ims_store_txn_str(t, set);
	ims_store_txn_str(t, fam);
	rc = ims_store_run(st, t, IMS_STORE_ATOMIC, rs, err, sizeof err);
	ims_store_replies_free(rs, 4);
	ims_store_txn_free(t);
	return rc;
}

ims_status ims_sessions_rotate(struct ims_store *st, const char *addr, const char *fam,
                               const char *old_hash, const char *new_hash)
{
	char key[IMS_KEY_MAX], err[256];
	const char *argv[] = {"EVAL", rotate_lua, "1", key, old_hash, new_hash};
	redisReply *rep = NULL;
	ims_status rc;

	if ((rc = family_key(key, sizeof key, addr, fam)) != IMS_OK)
		return IMS_ENOTFOUND;
	rc = ims_store_cmdv(st, &rep, 6, argv, NULL, err, sizeof err);
	if (rc != IMS_OK)
		return rc;
	if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
		rc = IMS_OK;
	else if (rep->type == REDIS_REPLY_INTEGER && rep->integer == -1)
		rc = IMS_EPERM;
	else
		rc = IMS_ENOTFOUND;
	ims_store_reply_free(rep);
	return rc;
}

ims_status ims_sessions_end(struct ims_store *st, const char *addr, const char *fam)
{
	char key[IMS_KEY_MAX], set[IMS_KEY_MAX], prefix[IMS_KEY_MAX], err[256];
	struct ims_store_txn *t;
	redisReply *rs[2] = {NULL, NULL};
	ims_status rc;

	if (family_key(key, sizeof key, addr, fam) != IMS_OK ||
	    set_keys(set, prefix, sizeof set, addr) != IMS_OK)
		return IMS_OK; /* no such family can exist */
	if (!(t = ims_store_txn_new()))
		return IMS_ENOMEM;
	ims_store_txn_cmd(t, "DEL");
	ims_store_txn_str(t, key);
	ims_store_txn_cmd(t, "SREM");
	ims_store_txn_str(t, set);
	ims_store_txn_str(t, fam);
	rc = ims_store_run(st, t, IMS_STORE_ATOMIC, rs, err, sizeof err);
	ims_store_replies_free(rs, 2);
	ims_store_txn_free(t);
	return rc;
}

ims_status ims_sessions_end_all(struct ims_store *st, const char *addr, size_t *ended)
{
	char set[IMS_KEY_MAX], prefix[IMS_KEY_MAX], err[256];
	const char *argv[] = {"EVAL", end_all_lua, "1", set, prefix};
	redisReply *rep = NULL;
	ims_status rc;

	if (ended)
		*ended = 0;
	if (set_keys(set, prefix, sizeof set, addr) != IMS_OK)
		return IMS_OK; /* no such account can exist */
	rc = ims_store_cmdv(st, &rep, 5, argv, NULL, err, sizeof err);
	if (rc == IMS_OK && rep->type == REDIS_REPLY_INTEGER && ended)
		*ended = (size_t)rep->integer;
	ims_store_reply_free(rep);
	return rc;
}

ims_status ims_sessions_check(struct ims_store *st, const char *addr, const char *fam, bool *admin)
{
	char ukey[IMS_KEY_MAX], fkey[IMS_KEY_MAX], err[256];
	struct ims_store_txn *t;
	redisReply *rs[2] = {NULL, NULL};
	ims_status rc;

	*admin = false;
	if (ims_key(ukey, sizeof ukey, IMS_KEY_USER_FMT, addr) != IMS_OK ||
	    family_key(fkey, sizeof fkey, addr, fam) != IMS_OK)
		return IMS_EPERM;
	if (!(t = ims_store_txn_new()))
		return IMS_ENOMEM;
	/* the role and the disabled flag come from the registry, so a change
	 * applies at once; the family must still exist (logout and reuse
	 * detection delete it) */
	ims_store_txn_cmd(t, "HMGET");
	ims_store_txn_str(t, ukey);
	ims_store_txn_str(t, "role");
	ims_store_txn_str(t, "disabled");
	ims_store_txn_cmd(t, "EXISTS");
	ims_store_txn_str(t, fkey);
	rc = ims_store_run(st, t, 0, rs, err, sizeof err);
	ims_store_txn_free(t);
	if (rc != IMS_OK)
		return rc;
	if (rs[0]->type == REDIS_REPLY_ARRAY && rs[0]->elements == 2 &&
	    rs[0]->element[0]->type == REDIS_REPLY_STRING &&
	    !(rs[0]->element[1]->type == REDIS_REPLY_STRING &&
	      strcmp(rs[0]->element[1]->str, "1") == 0) &&
	    rs[1]->type == REDIS_REPLY_INTEGER && rs[1]->integer == 1)
		*admin = ims_role_parse(rs[0]->element[0]->str) == IMS_ROLE_ADMIN;
	else
		rc = IMS_EPERM;
	ims_store_replies_free(rs, 2);
	return rc;
}
