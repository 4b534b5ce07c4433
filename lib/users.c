#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include <hiredis/hiredis.h>

#include "rkeys.h"
#include "store.h"
#include "users.h"

#define SCHEME  "{ARGON2ID}"
#define KEY_MAX (IMS_USERS_ADDR_MAX + 64)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct ims_users {
	struct ims_store *st;
	const struct ims_conf *conf;
	char err[256]; /* the store's words for the last failure */
};

/* Runs one command (argv of C strings); *r the reply (the caller's). */
static ims_status cmd(struct ims_users *u, redisReply **r, int argc, const char **argv)
{
	return ims_store_cmdv(u->st, r, argc, argv, NULL, u->err, sizeof u->err);
}

/* HMGET ADDR's user hash: role created disabled. */
static void hmget_user(struct ims_store_txn *t, const char *addr)
{
	ims_store_txn_cmd(t, "HMGET");
	ims_store_txn_fmt(t, IMS_KEY_USER_FMT, addr);
	ims_store_txn_str(t, "role");
	ims_store_txn_str(t, "created");
	ims_store_txn_str(t, "disabled");
}

/* Writes all three account keys, only when the account does not exist. */
static const char create_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then "
    "return 0 end "
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "redis.call('SET', KEYS[2], ARGV[2]) "
    "redis.call('HSET', KEYS[3], 'role', ARGV[3], 'created', ARGV[4], 'disabled', '0') "
    "return 1";

/* Replaces the password in the passdb record, or in the record kept aside
 * while the account is disabled (it stays disabled). */
static const char passwd_lua[] = "local p = redis.call('GET', KEYS[1]) "
                                 "local aside = false "
                                 "if not p then p = redis.call('HGET', KEYS[2], 'passdb_disabled') "
                                 "aside = true end "
                                 "if not p then return 0 end "
                                 "local j = cjson.decode(p) "
                                 "j['password'] = ARGV[1] "
                                 "if aside then redis.call('HSET', KEYS[2], 'passdb_disabled', "
                                 "cjson.encode(j)) "
                                 "else redis.call('SET', KEYS[1], cjson.encode(j)) end "
                                 "return 1";

/* Disables or enables an account.  A disabled account has no passdb record
 * at all: Dovecot answers "unknown user" on every path (IMAP, the auth
 * socket Postfix's SMTP AUTH asks, master-user logins with pass = yes),
 * not only in its login processes as a "nologin" field would.  The record
 * waits in the user hash (field passdb_disabled) until it is enabled.
 * Records of accounts disabled by older versions carry "nologin"/"reason":
 * both are dropped here. */
static const char disable_lua[] =
    "if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end "
    "local p = redis.call('GET', KEYS[1]) "
    "local aside = redis.call('HGET', KEYS[2], 'passdb_disabled') "
    "local rec = p or aside "
    "if not rec then return 0 end "
    "local j = cjson.decode(rec) "
    "j['nologin'] = nil j['reason'] = nil "
    "rec = cjson.encode(j) "
    "if ARGV[1] == '1' then "
    "redis.call('DEL', KEYS[1]) "
    "redis.call('HSET', KEYS[2], 'passdb_disabled', rec, 'disabled', '1') "
    "else "
    "redis.call('SET', KEYS[1], rec) "
    "redis.call('HDEL', KEYS[2], 'passdb_disabled') "
    "redis.call('HSET', KEYS[2], 'disabled', '0') end "
    "return 1";

static const char role_lua[] = "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
                               "redis.call('HSET', KEYS[1], 'role', ARGV[1]) "
                               "return 1";

ims_status ims_users_new(struct ims_store *st, const struct ims_conf *conf, struct ims_users **out)
{
	struct ims_users *u;

	*out = NULL;
	if (sodium_init() < 0)
		return IMS_ENOMEM;
	u = calloc(1, sizeof *u);
	if (!u)
		return IMS_ENOMEM;
	u->st = st;
	u->conf = conf;
	*out = u;
	return IMS_OK;
}

void ims_users_free(struct ims_users *u)
{
	free(u);
}

const char *ims_role_name(enum ims_role r)
{
	return r == IMS_ROLE_ADMIN ? "admin" : "user";
}

int ims_role_parse(const char *s)
{
	if (s && strcmp(s, "user") == 0)
		return IMS_ROLE_USER;
	if (s && strcmp(s, "admin") == 0)
		return IMS_ROLE_ADMIN;
	return -1;
}

static int local_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
	       ch == '+' || ch == '-';
}

static int domain_ok(const char *d)
{
	size_t label = 0, n = strlen(d);
	int dots = 0;

	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.' || d[0] == '-')
		return 0;
	for (const char *p = d; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			dots++;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
		if (*p == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return dots > 0;
}

ims_status ims_users_canon_address(const char *addr, char *const *local_domains, char *out)
{
	size_t n, at = 0, ats = 0;

	out[0] = '\0';
	if (!addr)
		return IMS_EINVAL;
	n = strlen(addr);
	if (n < 3 || n > IMS_USERS_ADDR_MAX)
		return IMS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int ch = tolower((unsigned char)addr[i]);

		if (ch == '@') {
			at = i;
			ats++;
		} else if (!local_char(ch)) {
			return IMS_EINVAL;
		}
		out[i] = (char)ch;
	}
	out[n] = '\0';
	if (ats != 1 || at == 0 || at > 64 || out[0] == '.' || out[at - 1] == '.' ||
	    strstr(out, "..") || !domain_ok(out + at + 1)) {
		out[0] = '\0';
		return IMS_EINVAL;
	}
	for (char *const *d = local_domains; d && *d; d++)
		if (strcasecmp(*d, out + at + 1) == 0)
			return IMS_OK;
	out[0] = '\0';
	return IMS_EPERM;
}

ims_status ims_users_hash_password(const char *password, char *out, size_t outlen)
{
	char h[crypto_pwhash_STRBYTES];

	if (outlen < sizeof SCHEME + sizeof h)
		return IMS_EINVAL;
	if (crypto_pwhash_str(h, password, strlen(password), IMS_USERS_OPSLIMIT,
	                      IMS_USERS_MEMLIMIT) != 0)
		return IMS_ENOMEM;
	snprintf(out, outlen, "%s%s", SCHEME, h);
	sodium_memzero(h, sizeof h);
	return IMS_OK;
}

static int password_ok(const char *pw)
{
	size_t n = pw ? strlen(pw) : 0;

	return n >= IMS_USERS_PASSWORD_MIN && n <= IMS_USERS_PASSWORD_MAX;
}

/* Runs EVAL script with 1..3 keys and the given args; *result = the
 * script's integer reply. */
static ims_status eval(struct ims_users *u, const char *script, int nkeys, const char **keys,
                       int nargs, const char **args, long long *result)
{
	const char *argv[12];
	char nk[8];
	int argc = 0;
	redisReply *r;
	ims_status rc = IMS_ETEMP;

	snprintf(nk, sizeof nk, "%d", nkeys);
	argv[argc++] = "EVAL";
	argv[argc++] = script;
	argv[argc++] = nk;
	for (int i = 0; i < nkeys; i++)
		argv[argc++] = keys[i];
	for (int i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	if ((rc = cmd(u, &r, argc, argv)) != IMS_OK)
		return rc;
	rc = IMS_ETEMP;
	if (r->type == REDIS_REPLY_INTEGER) {
		*result = r->integer;
		rc = IMS_OK;
	}
	ims_store_reply_free(r);
	return rc;
}

static ims_status canon(struct ims_users *u, const char *addr, char *out)
{
	return ims_users_canon_address(addr, u->conf->milter_local_domains, out);
}

/* The userdb JSON: uid, gid and the mail home from [users] mail_home. */
static char *userdb_json(const struct ims_conf *conf, const char *addr)
{
	char home[1024], uid[16], gid[16];
	const char *at = strchr(addr, '@');
	size_t o = 0;
	json_t *j;
	char *s;

	for (const char *p = conf->users_mail_home; *p && o + 256 < sizeof home; p++) {
		if (p[0] == '%' && p[1] == 'd') {
			o += (size_t)snprintf(home + o, sizeof home - o, "%s", at + 1);
			p++;
		} else if (p[0] == '%' && p[1] == 'n') {
			o += (size_t)snprintf(home + o, sizeof home - o, "%.*s", (int)(at - addr),
			                      addr);
			p++;
		} else if (p[0] == '%' && p[1] == 'u') {
			o += (size_t)snprintf(home + o, sizeof home - o, "%s", addr);
			p++;
		} else {
			home[o++] = *p;
		}
	}
	home[o] = '\0';
	snprintf(uid, sizeof uid, "%d", conf->users_uid);
	snprintf(gid, sizeof gid, "%d", conf->users_gid);
	j = json_pack("{s:s, s:s, s:s}", "uid", uid, "gid", gid, "home", home);
	if (!j)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

ims_status ims_users_create(struct ims_users *u, const char *addr, const char *password,
                            enum ims_role role)
{
	char a[IMS_USERS_ADDR_MAX + 1], hash[crypto_pwhash_STRBYTES + sizeof SCHEME];
	char kp[KEY_MAX], ku[KEY_MAX], kh[KEY_MAX], created[24];
	char *passdb = NULL, *userdb = NULL;
	json_t *pj = NULL;
	long long res = 0;
	uint64_t now = now_ms();
	redisReply *r = NULL;
	ims_status rc;

	rc = canon(u, addr, a);
	if (rc != IMS_OK)
		goto out;
	rc = IMS_EINVAL;
	if (!password_ok(password))
		goto out;
	/* an alias of another account cannot become an account */
	{
		const char *argv[] = {"HEXISTS", IMS_KEY_ALIASES, a};

		if ((rc = cmd(u, &r, 3, argv)) != IMS_OK)
			goto out;
	}
	if (r->type != REDIS_REPLY_INTEGER) {
		rc = IMS_ETEMP;
		goto out;
	}
	if (r->integer == 1) {
		rc = IMS_EEXIST;
		goto out;
	}
	ims_store_reply_free(r);
	r = NULL;
	rc = ims_users_hash_password(password, hash, sizeof hash);
	if (rc != IMS_OK)
		goto out;
	rc = IMS_ENOMEM;
	pj = json_pack("{s:s}", "password", hash);
	passdb = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
	userdb = userdb_json(u->conf, a);
	if (!passdb || !userdb)
		goto out;
	ims_key(kp, KEY_MAX, IMS_KEY_PASSDB_FMT, a);
	ims_key(ku, KEY_MAX, IMS_KEY_USERDB_FMT, a);
	ims_key(kh, KEY_MAX, IMS_KEY_USER_FMT, a);
	snprintf(created, sizeof created, "%" PRIu64, now);
	{
		const char *keys[] = {kp, ku, kh};
		const char *args[] = {passdb, userdb, ims_role_name(role), created};

		rc = eval(u, create_lua, 3, keys, 4, args, &res);
		if (rc != IMS_OK)
			goto out;
	}
	/* The global list is another slot: written after, and re-added when
	 * the account already exists, so a failure here heals on retry. */
	{
		const char *argv[] = {"ZADD", IMS_KEY_USERS, "NX", created, a};

		if ((rc = cmd(u, &r, 5, argv)) != IMS_OK)
			goto out;
	}
	rc = res == 1 ? IMS_OK : IMS_EEXIST;
out:
	ims_store_reply_free(r);
	sodium_memzero(hash, sizeof hash);
	if (passdb) {
		sodium_memzero(passdb, strlen(passdb));
		free(passdb);
	}
	free(userdb);
	json_decref(pj);
	return rc;
}

/* Removes alias from the global index when it is still owner's. */
static const char alias_unindex_lua[] = "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then "
                                        "redis.call('HDEL', KEYS[1], ARGV[1]) end return 1";

static ims_status alias_unindex(struct ims_users *u, const char *alias, const char *owner)
{
	const char *keys[] = {IMS_KEY_ALIASES};
	const char *args[] = {alias, owner};
	long long res;

	return eval(u, alias_unindex_lua, 1, keys, 2, args, &res);
}

ims_status ims_users_delete(struct ims_users *u, const char *addr)
{
	char a[IMS_USERS_ADDR_MAX + 1];
	redisReply *rs[2] = {NULL, NULL}, *z = NULL;
	struct ims_store_txn *t = NULL;
	ims_status rc;

	rc = canon(u, addr, a);
	if (rc != IMS_OK)
		goto out;
	rc = IMS_ENOMEM;
	if (!(t = ims_store_txn_new()))
		goto out;
	/* the account's keys in its own slot, in one MULTI/EXEC */
	ims_store_txn_cmd(t, "SMEMBERS");
	ims_store_txn_fmt(t, IMS_KEY_ALIASES_FMT, a);
	ims_store_txn_cmd(t, "DEL");
	ims_store_txn_fmt(t, IMS_KEY_PASSDB_FMT, a);
	ims_store_txn_fmt(t, IMS_KEY_USERDB_FMT, a);
	ims_store_txn_fmt(t, IMS_KEY_USER_FMT, a);
	ims_store_txn_fmt(t, IMS_KEY_ALIASES_FMT, a);
	rc = ims_store_run(u->st, t, IMS_STORE_ATOMIC, rs, u->err, sizeof u->err);
	if (rc != IMS_OK)
		goto out;
	/* the global list and alias index are another slot: cleaned after
	 * (a failure here heals when the delete runs again) */
	{
		const char *argv[] = {"ZREM", IMS_KEY_USERS, a};

		if ((rc = cmd(u, &z, 3, argv)) != IMS_OK)
			goto out;
	}
	rc = IMS_ETEMP;
	if (rs[0]->type != REDIS_REPLY_ARRAY || rs[1]->type != REDIS_REPLY_INTEGER)
		goto out;
	for (size_t i = 0; i < rs[0]->elements; i++) {
		const redisReply *m = rs[0]->element[i];

		if (m->type == REDIS_REPLY_STRING && (rc = alias_unindex(u, m->str, a)) != IMS_OK)
			goto out;
	}
	rc = rs[1]->integer > 0 ? IMS_OK : IMS_ENOTFOUND;
out:
	ims_store_replies_free(rs, 2);
	ims_store_reply_free(z);
	ims_store_txn_free(t);
	return rc;
}

/* Claims alias for ARGV[2] in the global index unless another owns it. */
static const char alias_index_lua[] = "local o = redis.call('HGET', KEYS[1], ARGV[1]) "
                                      "if o and o ~= ARGV[2] then return 0 end "
                                      "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1";

/* Adds alias to the account's set, if the account exists. */
static const char alias_add_lua[] = "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
                                    "redis.call('SADD', KEYS[2], ARGV[1]) return 1";

ims_status ims_users_alias_add(struct ims_users *u, const char *addr, const char *alias)
{
	char a[IMS_USERS_ADDR_MAX + 1], al[IMS_USERS_ADDR_MAX + 1], kh[KEY_MAX], ks[KEY_MAX];
	long long res = 0;
	redisReply *r;
	ims_status rc;

	rc = canon(u, addr, a);
	if (rc != IMS_OK)
		return rc == IMS_ETEMP ? rc : IMS_ENOTFOUND;
	rc = canon(u, alias, al);
	if (rc != IMS_OK)
		return rc;
	if (strcmp(a, al) == 0)
		return IMS_EINVAL;
	ims_key(kh, KEY_MAX, IMS_KEY_USER_FMT, al);
	{
		const char *argv[] = {"EXISTS", kh};

		if ((rc = cmd(u, &r, 2, argv)) != IMS_OK)
			return rc;
	}
	res = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	ims_store_reply_free(r);
	if (res < 0)
		return IMS_ETEMP;
	if (res != 0)
		return IMS_EEXIST; /* an account is not an alias */
	{
		const char *keys[] = {IMS_KEY_ALIASES};
		const char *args[] = {al, a};

		rc = eval(u, alias_index_lua, 1, keys, 2, args, &res);
		if (rc != IMS_OK)
			return rc;
		if (res != 1)
			return IMS_EEXIST;
	}
	ims_key(kh, KEY_MAX, IMS_KEY_USER_FMT, a);
	ims_key(ks, KEY_MAX, IMS_KEY_ALIASES_FMT, a);
	{
		const char *keys[] = {kh, ks};
		const char *args[] = {al};

		rc = eval(u, alias_add_lua, 2, keys, 1, args, &res);
	}
	if (rc == IMS_OK && res != 1) {
		(void)alias_unindex(u, al, a);
		rc = IMS_ENOTFOUND;
	}
	return rc;
}

ims_status ims_users_alias_del(struct ims_users *u, const char *addr, const char *alias)
{
	char a[IMS_USERS_ADDR_MAX + 1], al[IMS_USERS_ADDR_MAX + 1], ks[KEY_MAX];
	redisReply *r;
	ims_status rc;
	long long n;

	rc = canon(u, addr, a);
	if (rc != IMS_OK)
		return rc == IMS_ETEMP ? rc : IMS_ENOTFOUND;
	rc = canon(u, alias, al);
	if (rc != IMS_OK)
		return rc == IMS_ETEMP ? rc : IMS_ENOTFOUND;
	ims_key(ks, KEY_MAX, IMS_KEY_ALIASES_FMT, a);
	{
		const char *argv[] = {"SREM", ks, al};

		if ((rc = cmd(u, &r, 3, argv)) != IMS_OK)
			return rc;
	}
	n = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	ims_store_reply_free(r);
	if (n < 0)
		return IMS_ETEMP;
	/* unindexed even when the set had lost it (a half-done delete) */
	rc = alias_unindex(u, al, a);
	if (rc != IMS_OK)
		return rc;
	return n == 1 ? IMS_OK : IMS_ENOTFOUND;
}

ims_status ims_users_alias_list(struct ims_users *u, const char *addr,
                                int (*fn)(const char *alias, const char *owner, void *arg),
                                void *arg)
{
	char a[IMS_USERS_ADDR_MAX + 1], ks[KEY_MAX];
	char cursor[32] = "0";
	redisReply *r = NULL;
	ims_status rc;

	if (addr) {
		rc = canon(u, addr, a);
		if (rc != IMS_OK)
			return rc == IMS_ETEMP ? rc : IMS_ENOTFOUND;
		ims_key(ks, KEY_MAX, IMS_KEY_ALIASES_FMT, a);
		{
			const char *argv[] = {"SMEMBERS", ks};

			if ((rc = cmd(u, &r, 2, argv)) != IMS_OK)
				goto out;
		}
		if (r->type != REDIS_REPLY_ARRAY) {
			rc = IMS_ETEMP;
			goto out;
		}
		for (size_t i = 0; i < r->elements; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING &&
			    fn(r->element[i]->str, a, arg))
				break;
		rc = IMS_OK;
		goto out;
	}
	do { /* every alias, from the global index, 1000 at a time */
		const char *argv[] = {"HSCAN", IMS_KEY_ALIASES, cursor, "COUNT", "1000"};

		if ((rc = cmd(u, &r, 5, argv)) != IMS_OK)
			goto out;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = IMS_ETEMP;
			goto out;
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		for (size_t i = 0; i + 1 < r->element[1]->elements; i += 2) {
			const redisReply *k = r->element[1]->element[i];
			const redisReply *v = r->element[1]->element[i + 1];

			if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
			    fn(k->str, v->str, arg)) {
				rc = IMS_OK;
				goto out;
			}
		}
		ims_store_reply_free(r);
		r = NULL;
	} while (strcmp(cursor, "0") != 0);
	rc = IMS_OK;
out:
	ims_store_reply_free(r);
	return rc;
}

/* Runs a command whose answer is the integer 0 or 1 (EXISTS, SISMEMBER):
 * *yes is set when it is 1.  The status is the store's. */
static ims_status ask_yes_no(struct ims_store *st, int argc, const char **argv, bool *yes)
{
	redisReply *r = NULL;
	char err[256];
	ims_status rc = ims_store_cmdv(st, &r, argc, argv, NULL, err, sizeof err);

	if (rc == IMS_OK && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		*yes = true;
	ims_store_reply_free(r);
	return rc;
}

ims_status ims_users_may_send_as(struct ims_store *st, const char *login, const char *addr,
                                 bool *ok)
{
	char l[IMS_USERS_ADDR_MAX + 1], a[IMS_USERS_ADDR_MAX + 1];
	size_t n = login ? strlen(login) : 0, an = addr ? strlen(addr) : 0;

	*ok = false;
	if (n == 0 || n > IMS_USERS_ADDR_MAX || an == 0 || an > IMS_USERS_ADDR_MAX)
		return IMS_OK;
	if (strcasecmp(login, addr) == 0) {
		*ok = true;
		return IMS_OK;
	}
	/* keys and members are lower case, like the registry */
	for (size_t i = 0; i <= n; i++)
		l[i] = (char)tolower((unsigned char)login[i]);
	for (size_t i = 0; i <= an; i++)
		a[i] = (char)tolower((unsigned char)addr[i]);
	char k[KEY_MAX];
	const char *argv[3] = {"SISMEMBER", k, a};

	if (ims_key(k, KEY_MAX, IMS_KEY_ALIASES_FMT, l) != IMS_OK)
		return IMS_OK;
	return ask_yes_no(st, 3, argv, ok);
}

ims_status ims_users_is_recipient(struct ims_store *st, const char *addr, bool *known)
{
	char a[IMS_USERS_ADDR_MAX + 1], k[KEY_MAX];
	const char *argv[2] = {"EXISTS", k};
	size_t n = addr ? strlen(addr) : 0;

	*known = false;
	if (n == 0 || n > IMS_USERS_ADDR_MAX || !strchr(addr, '@'))
		return IMS_OK;
	for (size_t i = 0; i <= n; i++)
		a[i] = (char)tolower((unsigned char)addr[i]);
	if (ims_key(k, KEY_MAX, IMS_KEY_USERDB_FMT, a) != IMS_OK)
		return IMS_OK;
	return ask_yes_no(st, 2, argv, known);
}

ims_status ims_users_set_password(struct ims_users *u, const char *addr, const char *password)
{
	char a[IMS_USERS_ADDR_MAX + 1], hash[crypto_pwhash_STRBYTES + sizeof SCHEME], kp[KEY_MAX];
	char kh[KEY_MAX];
	long long res = 0;
	ims_status rc;

	rc = canon(u, addr, a);
	if (rc != IMS_OK)
		return rc;
	if (!password_ok(password))
		return IMS_EINVAL;
	rc = ims_users_hash_password(password, hash, sizeof hash);
	if (rc != IMS_OK)
		return rc;
	ims_key(kp, KEY_MAX, IMS_KEY_PASSDB_FMT, a);
	ims_key(kh, KEY_MAX, IMS_KEY_USER_FMT, a);
	{
		const char *keys[] = {kp, kh};
		const char *args[] = {hash};

		rc = eval(u, passwd_lua, 2, keys, 1, args, &res);
	}
	sodium_memzero(hash, sizeof hash);
	if (rc == IMS_OK && res != 1)
		rc = IMS_ENOTFOUND;
	return rc;
}

ims_status ims_users_set_role(struct ims_users *u, const char *addr, enum ims_role role)
{
	char a[IMS_USERS_ADDR_MAX + 1], kh[KEY_MAX];
	long long res = 0;
	ims_status rc;

	rc = canon(u, addr, a);
	if (rc != IMS_OK)
		return rc;
	ims_key(kh, KEY_MAX, IMS_KEY_USER_FMT, a);
	{
		const char *keys[] = {kh};
		const char *args[] = {ims_role_name(role)};

		rc = eval(u, role_lua, 1, keys, 1, args, &res);
	}
	if (rc == IMS_OK && res != 1)
		rc = IMS_ENOTFOUND;
	return rc;
}

ims_status ims_users_set_disabled(struct ims_users *u, const char *addr, bool disabled)
{
	char a[IMS_USERS_ADDR_MAX + 1], kp[KEY_MAX], kh[KEY_MAX];
	long long res = 0;
	ims_status rc;

	rc = canon(u, addr, a);
	if (rc != IMS_OK)
		return rc;
	ims_key(kp, KEY_MAX, IMS_KEY_PASSDB_FMT, a);
	ims_key(kh, KEY_MAX, IMS_KEY_USER_FMT, a);
	{
		const char *keys[] = {kp, kh};
		const char *args[] = {disabled ? "1" : "0"};

		rc = eval(u, disable_lua, 2, keys, 1, args, &res);
	}
	if (rc == IMS_OK && res != 1)
		rc = IMS_ENOTFOUND;
	return rc;
}

/* Fills info from an HMGET role created disabled reply. */
static ims_status info_from(redisReply *r, const char *addr, struct ims_user_info *info)
{
	memset(info, 0, sizeof *info);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3)
		return IMS_ETEMP;
	if (r->element[0]->type != REDIS_REPLY_STRING)
		return IMS_ENOTFOUND;
	snprintf(info->address, sizeof info->address, "%s", addr);
	info->role =
	    ims_role_parse(r->element[0]->str) == IMS_ROLE_ADMIN ? IMS_ROLE_ADMIN : IMS_ROLE_USER;
	if (r->element[1]->type == REDIS_REPLY_STRING)
		info->created_ms = strtoull(r->element[1]->str, NULL, 10);
	info->disabled =
	    r->element[2]->type == REDIS_REPLY_STRING && strcmp(r->element[2]->str, "1") == 0;
	return IMS_OK;
}

ims_status ims_users_get(struct ims_users *u, const char *addr, struct ims_user_info *info)
{
	char a[IMS_USERS_ADDR_MAX + 1];
	redisReply *r = NULL;
	ims_status rc;

	memset(info, 0, sizeof *info);
	rc = canon(u, addr, a);
	if (rc != IMS_OK)
		return rc == IMS_ETEMP ? rc : IMS_ENOTFOUND;
	{
		char kh[KEY_MAX];
		const char *argv[] = {"HMGET", kh, "role", "created", "disabled"};

		ims_key(kh, KEY_MAX, IMS_KEY_USER_FMT, a);
		if ((rc = cmd(u, &r, 5, argv)) != IMS_OK)
			return rc;
	}
	rc = info_from(r, a, info);
	ims_store_reply_free(r);
	return rc;
}

ims_status ims_users_userdb(struct ims_users *u, const char *addr, struct ims_userdb *out)
{
	char a[IMS_USERS_ADDR_MAX + 1];
	const char *f[3];
	char *dst[3] = {out->uid, out->gid, out->home};
	size_t cap[3] = {sizeof out->uid, sizeof out->gid, sizeof out->home};
	json_t *j = NULL;
	redisReply *r = NULL;
	ims_status rc;

	memset(out, 0, sizeof *out);
	rc = canon(u, addr, a);
	if (rc != IMS_OK)
		return rc == IMS_ETEMP ? rc : IMS_ENOTFOUND;
	char k[KEY_MAX];
	const char *argv[2] = {"GET", k};

	ims_key(k, KEY_MAX, IMS_KEY_USERDB_FMT, a);
	rc = cmd(u, &r, 2, argv);
	if (rc != IMS_OK) {
		r = NULL;
		goto out;
	}
	if (r->type != REDIS_REPLY_STRING) {
		rc = IMS_ENOTFOUND;
		goto out;
	}
	rc = IMS_EFORMAT;
	j = json_loadb(r->str, r->len, 0, NULL);
	f[0] = json_string_value(json_object_get(j, "uid"));
	f[1] = json_string_value(json_object_get(j, "gid"));
	f[2] = json_string_value(json_object_get(j, "home"));
	for (int i = 0; i < 3; i++)
		if (!f[i] || !*f[i] || strlen(f[i]) >= cap[i])
			goto out;
	for (int i = 0; i < 3; i++)
		memcpy(dst[i], f[i], strlen(f[i]) + 1);
	rc = IMS_OK;
out:
	if (rc != IMS_OK)
		memset(out, 0, sizeof *out);
	json_decref(j);
	ims_store_reply_free(r);
	return rc;
}

/* What a missing account's password is verified against, so that both
 * cases cost one argon2id run: a hash with the cost of IMS_USERS_OPSLIMIT
 * and IMS_USERS_MEMLIMIT of 32 random bytes nobody kept.  A constant, not
 * one made at first use: ims-checkpassword verifies once per process, and
 * a hash made there doubled the CPU of every login. */
static const char dummy_hash[crypto_pwhash_STRBYTES] =
    "$argon2id$v=19$m=65536,t=2,p=1$O1C1Bc0hTQxbHe9sQLl1UA$"
    "SGrnIXZg08J+UVqiH5P/UETht844dA058prLn6HgivE";

ims_status ims_users_verify(struct ims_users *u, const char *addr, const char *password,
                            struct ims_user_info *info)
{
	char a[IMS_USERS_ADDR_MAX + 1];
	redisReply *rs[2] = {NULL, NULL};
	json_t *pj = NULL;
	const char *stored = NULL;
	size_t pwlen = password ? strlen(password) : 0;
	ims_status rc, found;

	memset(info, 0, sizeof *info);
	if (pwlen > IMS_USERS_PASSWORD_MAX)
		return IMS_EPERM;
	found = canon(u, addr, a);
	if (found == IMS_OK) {
		struct ims_store_txn *t = ims_store_txn_new();

		if (!t) {
			rc = IMS_ENOMEM;
			goto out;
		}
		ims_store_txn_cmd(t, "GET");
		ims_store_txn_fmt(t, IMS_KEY_PASSDB_FMT, a);
		hmget_user(t, a);
		rc = ims_store_run(u->st, t, 0, rs, u->err, sizeof u->err);
		ims_store_txn_free(t);
		if (rc != IMS_OK)
			goto out;
		found = info_from(rs[1], a, info);
		if (found == IMS_ETEMP) {
			rc = IMS_ETEMP;
			goto out;
		}
		if (found == IMS_OK && rs[0]->type == REDIS_REPLY_STRING) {
			pj = json_loadb(rs[0]->str, rs[0]->len, 0, NULL);
			stored = json_string_value(json_object_get(pj, "password"));
			if (stored && strncmp(stored, SCHEME, sizeof SCHEME - 1) == 0)
				stored += sizeof SCHEME - 1;
			else
				stored = NULL;
		}
	}
	rc = IMS_EPERM;
	if (!stored) {
		if (crypto_pwhash_str_verify(dummy_hash, password ? password : "", pwlen) == 0)
			rc = IMS_EPERM; /* the same either way: there is no account */
		goto out;
	}
	if (crypto_pwhash_str_verify(stored, password ? password : "", pwlen) != 0)
		goto out;
	if (info->disabled)
		goto out;
	rc = IMS_OK;
out:
	if (rc != IMS_OK && rc != IMS_ETEMP)
		memset(info, 0, sizeof *info);
	json_decref(pj);
	ims_store_replies_free(rs, 2);
	return rc;
}

const char *ims_users_error(const struct ims_users *u)
{
	return u->err[0] ? u->err : "redis failed";
}

ims_status ims_users_list(struct ims_users *u, const char *after, size_t limit,
                          int (*fn)(const struct ims_user_info *info, void *arg), void *arg,
                          bool *more)
{
	redisReply *r = NULL, **rs = NULL;
	struct ims_store_txn *t = NULL;
	char a[32], b[32];
	long long start = 0;
	size_t n = 0;
	ims_status rc;

	*more = false;
	if (limit == 0 || limit > 10000)
		return IMS_EINVAL;
	if (after && *after) {
		const char *argv[] = {"ZRANK", IMS_KEY_USERS, after};

		if ((rc = cmd(u, &r, 3, argv)) != IMS_OK)
			goto out;
		if (r->type != REDIS_REPLY_INTEGER) { /* the cursor's account is gone */
			rc = IMS_EINVAL;
			goto out;
		}
		start = r->integer + 1;
		ims_store_reply_free(r);
		r = NULL;
	}
	snprintf(a, sizeof a, "%lld", start);
	snprintf(b, sizeof b, "%lld", start + (long long)limit);
	{
		const char *argv[] = {"ZRANGE", IMS_KEY_USERS, a, b};

		if ((rc = cmd(u, &r, 4, argv)) != IMS_OK)
			goto out;
	}
	rc = IMS_ETEMP;
	if (r->type != REDIS_REPLY_ARRAY)
		goto out;
	n = r->elements > limit ? limit : r->elements;
	*more = r->elements > limit;
	rc = IMS_ENOMEM;
	rs = calloc(n ? n : 1, sizeof *rs);
	if (!rs || !(t = ims_store_txn_new()))
		goto out;
	/* each account's hash is in its own slot: a plain pipeline */
	for (size_t i = 0; i < n; i++)
		hmget_user(t, r->element[i]->str);
	if (n && (rc = ims_store_run(u->st, t, 0, rs, u->err, sizeof u->err)) != IMS_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct ims_user_info info;

		if (info_from(rs[i], r->element[i]->str, &info) != IMS_OK)
			continue;
		if (fn(&info, arg))
			break;
	}
	rc = IMS_OK;
out:
	if (rs)
		ims_store_replies_free(rs, n);
	free(rs);
	ims_store_txn_free(t);
	ims_store_reply_free(r);
	return rc;
}
