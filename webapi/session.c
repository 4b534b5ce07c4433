#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "authcache.h"
#include "rkeys.h"
#include "session.h"

/* KEYS[1] family; ARGV[1] hash of the presented token, ARGV[2] hash of its
 * replacement.  1 rotated, 0 no such family, -1 reuse (family deleted). */
static const char rotate_lua[] = "local c = redis.call('HGET', KEYS[1], 'current') "
                                 "if not c then return 0 end "
                                 "if c ~= ARGV[1] then redis.call('DEL', KEYS[1]) return -1 end "
                                 "redis.call('HSET', KEYS[1], 'current', ARGV[2]) "
                                 "return 1";

/* KEYS[1] the user's sessions set; ARGV[1] the prefix of a family's key.
 * Drops the members whose family is gone (expired), so the set holds the
 * live families and the one being started (lib/users.h). */
static const char prune_lua[] = "local f = redis.call('SMEMBERS', KEYS[1]) "
                                "for i = 1, #f do "
                                "  if redis.call('EXISTS', ARGV[1] .. f[i]) == 0 then "
                                "    redis.call('SREM', KEYS[1], f[i]) end "
                                "end return 0";

static void token_hash(const char *token, char out[crypto_hash_sha256_BYTES * 2 + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, crypto_hash_sha256_BYTES * 2 + 1, h, sizeof h);
}

char *ims_session_token_new(const char *addr, const char *fam)
{
	unsigned char secret[32];
	char s64[64], a64[IMS_USERS_ADDR_MAX * 2];
	char *t = malloc(IMS_REFRESH_MAX);

	if (!t)
		return NULL;
	randombytes_buf(secret, sizeof secret);
	sodium_bin2base64(s64, sizeof s64, secret, sizeof secret,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2base64(a64, sizeof a64, (const unsigned char *)addr, strlen(addr),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(t, IMS_REFRESH_MAX, "rt1.%s.%s.%s", fam, a64, s64);
	sodium_memzero(secret, sizeof secret);
	return t;
}

ims_status ims_session_start(struct ims_req *r, const char *addr, char **token, char *fam)
{
	unsigned char raw[IMS_TOKEN_FAMILY_LEN / 2];
	char h[crypto_hash_sha256_BYTES * 2 + 1];
	redisContext *c = ims_req_redis(r);
	redisReply *rs[6] = {NULL};
	char set[IMS_USERS_ADDR_MAX + 32], prefix[IMS_USERS_ADDR_MAX + 32];
	int ttl = r->app->conf->webapi_refresh_ttl_s;
	ims_status rc = IMS_ETEMP;

	*token = NULL;
	if (!c)
		return IMS_ETEMP;
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(fam, IMS_TOKEN_FAMILY_LEN + 1, raw, sizeof raw);
	*token = ims_session_token_new(addr, fam);
	if (!*token)
		return IMS_ENOMEM;
	token_hash(*token, h);
	snprintf(set, sizeof set, IMS_KEY_SESSIONS_FMT, addr);
	snprintf(prefix, sizeof prefix, IMS_KEY_REFRESH_FMT, addr, "");
	redisAppendCommand(c, "EVAL %s 1 %s %s", prune_lua, set, prefix);
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "HSET " IMS_KEY_REFRESH_FMT " current %s expires %" PRIu64, addr, fam,
	                   h, ims_req_now_ms() + (uint64_t)ttl * 1000);
	redisAppendCommand(c, "EXPIRE " IMS_KEY_REFRESH_FMT " %d", addr, fam, ttl);
	redisAppendCommand(c, "SADD %s %s", set, fam); /* a password reset ends them all */
	redisAppendCommand(c, "EXEC");
	if (ims_req_pipeline(r, rs, 6) != IMS_OK)
		goto out;
	if (rs[5]->type == REDIS_REPLY_ARRAY)
		rc = IMS_OK;
out:
	ims_req_free_replies(rs, 6);
	if (rc != IMS_OK) {
		free(*token);
		*token = NULL;
		if (!r->responded)
			ims_req_error(r, 503, "the store is unavailable");
	}
	return rc;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

ims_status ims_session_token_parse(const char *token, char *addr, char *fam)
{
	const char *p, *dot;
	size_t alen = 0;

	addr[0] = fam[0] = '\0';
	if (!token || strnlen(token, IMS_REFRESH_MAX) >= IMS_REFRESH_MAX ||
	    strncmp(token, "rt1.", 4))
		return IMS_EPERM;
	p = token + 4;
	if (strlen(p) < IMS_TOKEN_FAMILY_LEN + 2 || p[IMS_TOKEN_FAMILY_LEN] != '.' ||
	    !is_hex(p, IMS_TOKEN_FAMILY_LEN))
		return IMS_EPERM;
	p += IMS_TOKEN_FAMILY_LEN + 1;
	dot = strchr(p, '.');
	if (!dot || dot == p || dot[1] == '\0' ||
	    sodium_base642bin((unsigned char *)addr, IMS_USERS_ADDR_MAX, p, (size_t)(dot - p), NULL,
	                      &alen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		goto bad;
	addr[alen] = '\0';
	if (alen < 3 || strlen(addr) != alen || strchr(addr, '{') || strchr(addr, '}') ||
	    !strchr(addr, '@'))
		goto bad;
	memcpy(fam, token + 4, IMS_TOKEN_FAMILY_LEN);
	fam[IMS_TOKEN_FAMILY_LEN] = '\0';
	return IMS_OK;
bad:
	addr[0] = '\0';
	return IMS_EPERM;
}

ims_status ims_session_rotate(struct ims_req *r, const char *old, char **token, char *addr,
                              char *fam)
{
	char h_old[crypto_hash_sha256_BYTES * 2 + 1], h_new[crypto_hash_sha256_BYTES * 2 + 1];
	char key[IMS_USERS_ADDR_MAX + 64];
	redisReply *rep = NULL;
	ims_status rc = IMS_EPERM;

	*token = NULL;
	if (ims_session_token_parse(old, addr, fam) != IMS_OK)
		return IMS_EPERM;
	*token = ims_session_token_new(addr, fam);
	if (!*token) {
		rc = IMS_ENOMEM;
		goto out;
	}
	token_hash(old, h_old);
	token_hash(*token, h_new);
	snprintf(key, sizeof key, IMS_KEY_REFRESH_FMT, addr, fam);
	rep = ims_req_cmd(r, "EVAL %s 1 %s %s %s", rotate_lua, key, h_old, h_new);
	if (!rep) {
		rc = IMS_ETEMP;
		goto out;
	}
	if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
		rc = IMS_OK;
	else if (rep->type == REDIS_REPLY_INTEGER && rep->integer == -1)
		ims_authcache_clear(); /* reuse: the family is gone, so are its access tokens */
out:
	if (rep)
		freeReplyObject(rep);
	if (rc != IMS_OK) {
		free(*token);
		*token = NULL;
	}
	return rc;
}

ims_status ims_session_end(struct ims_req *r, const char *addr, const char *fam)
{
	redisContext *c = ims_req_redis(r);
	redisReply *rs[2] = {NULL};
	ims_status rc;

	ims_authcache_clear();
	if (!c)
		return IMS_ETEMP;
	redisAppendCommand(c, "DEL " IMS_KEY_REFRESH_FMT, addr, fam);
	redisAppendCommand(c, "SREM " IMS_KEY_SESSIONS_FMT " %s", addr, fam);
	rc = ims_req_pipeline(r, rs, 2);
	ims_req_free_replies(rs, 2);
	return rc;
}
