#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <sodium.h>

#include "auth_token.h"
#include "secretfile.h"

struct ims_token_key {
	uint64_t serial; /* unique per key in this process: names it in the cache */
	size_t len;
	unsigned char secret[];
};

static _Atomic uint64_t key_serials;

/* Tokens this thread verified lately: a client sends the same token with
 * every request, and decoding it (base64, JSON, HMAC) was a seventh of a
 * list request.  A hit still checks the times; only valid tokens go in. */
#define VCACHE_SLOTS     4
#define VCACHE_TOKEN_MAX 512

struct vcache_entry {
	uint64_t key_serial; /* 0: empty */
	size_t len;
	char token[VCACHE_TOKEN_MAX];
	struct ims_token_claims c;
};

static _Thread_local struct vcache_entry vcache[VCACHE_SLOTS];
static _Thread_local unsigned vcache_next;

static const struct vcache_entry *vcache_get(const struct ims_token_key *k, const char *token,
                                             size_t n)
{
	if (n > VCACHE_TOKEN_MAX)
		return NULL;
	for (size_t i = 0; i < VCACHE_SLOTS; i++) {
		const struct vcache_entry *e = &vcache[i];

		/* constant time: a near miss must not tell how near */
		if (e->key_serial == k->serial && e->len == n &&
		    sodium_memcmp(e->token, token, n) == 0)
			return e;
	}
	return NULL;
}

static void vcache_put(const struct ims_token_key *k, const char *token, size_t n,
                       const struct ims_token_claims *c)
{
	struct vcache_entry *e = &vcache[vcache_next++ % VCACHE_SLOTS];

	if (n > VCACHE_TOKEN_MAX)
		return;
	e->key_serial = k->serial;
	e->len = n;
	memcpy(e->token, token, n);
	e->c = *c;
}

ims_status ims_token_key_new(const void *secret, size_t len, struct ims_token_key **out)
{
	struct ims_token_key *k;

	*out = NULL;
	if (len < IMS_TOKEN_SECRET_MIN || len > 4096)
		return IMS_EINVAL;
	k = malloc(sizeof *k + len);
	if (!k)
		return IMS_ENOMEM;
	k->serial = atomic_fetch_add(&key_serials, 1) + 1;
	k->len = len;
	memcpy(k->secret, secret, len);
	*out = k;
	return IMS_OK;
}

void ims_token_key_free(struct ims_token_key *k)
{
	if (!k)
		return;
	sodium_memzero(k->secret, k->len);
	free(k);
}

ims_status ims_token_key_load(const char *path, struct ims_token_key **out, char *err,
                              size_t errlen)
{
	unsigned char buf[4097];
	size_t n = 0;
	FILE *f = NULL;
	ims_status rc = IMS_EIO;

	*out = NULL;
	if (!path || !*path) {
		snprintf(err, errlen, "[webapi] jwt_secret_file is not set");
		return IMS_EINVAL;
	}
	rc = ims_secret_fopen(path, &f, err, errlen);
	if (rc != IMS_OK)
		goto out;
	rc = IMS_EIO;
	n = fread(buf, 1, sizeof buf, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
	                 buf[n - 1] == '\t'))
		n--;
	rc = ims_token_key_new(buf, n, out);
	if (rc == IMS_EINVAL)
		snprintf(err, errlen, "%s: the secret must be %d to 4096 bytes", path,
		         IMS_TOKEN_SECRET_MIN);
out:
	sodium_memzero(buf, sizeof buf);
	if (f)
		fclose(f);
	return rc;
}

ims_status ims_token_issue(const struct ims_token_key *k, const struct ims_token_claims *c,
                           char **out)
{
	jwt_t *jwt = NULL;
	unsigned char jti_raw[12];
	char jti[25];
	ims_status rc = IMS_ENOMEM;

	*out = NULL;
	randombytes_buf(jti_raw, sizeof jti_raw);
	sodium_bin2hex(jti, sizeof jti, jti_raw, sizeof jti_raw);
	if (jwt_new(&jwt) != 0)
		goto out;
	if (jwt_add_grant(jwt, "sub", c->sub) ||
	    jwt_add_grant(jwt, "role", ims_role_name(c->role)) ||
	    jwt_add_grant(jwt, "fam", c->fam) || jwt_add_grant(jwt, "typ", "access") ||
	    jwt_add_grant(jwt, "jti", jti) || jwt_add_grant_int(jwt, "iat", (long)c->iat) ||
	    jwt_add_grant_int(jwt, "exp", (long)c->exp))
		goto out;
	if (jwt_set_alg(jwt, JWT_ALG_HS256, k->secret, (int)k->len) != 0)
		goto out;
	*out = jwt_encode_str(jwt);
	if (*out)
		rc = IMS_OK;
out:
	jwt_free(jwt);
	return rc;
}

static int hex_ok(const char *s, size_t len)
{
	if (!s || strlen(s) != len)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

ims_status ims_token_verify(const struct ims_token_key *k, const char *token, int64_t now,
                            struct ims_token_claims *c)
{
	jwt_t *jwt = NULL;
	const char *sub, *role, *fam, *typ;
	long exp, iat;
	size_t n, dots = 0;
	ims_status rc = IMS_EPERM;
	const struct vcache_entry *hit;

	memset(c, 0, sizeof *c);
	if (!token)
		return IMS_EPERM;
	n = strnlen(token, IMS_TOKEN_MAX + 1);
	if (n == 0 || n > IMS_TOKEN_MAX)
		return IMS_EPERM;
	for (size_t i = 0; i < n; i++) {
		char ch = token[i];

		if (ch == '.')
			dots++;
		else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		           (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return IMS_EPERM;
	}
	/* header.payload.signature, all three non-empty: "alg":"none" tokens
	 * have an empty signature and stop here already. */
	if (dots != 2 || token[0] == '.' || token[n - 1] == '.' || strstr(token, ".."))
		return IMS_EPERM;
	if ((hit = vcache_get(k, token, n))) {
		if (hit->c.exp <= now || hit->c.iat > now + 60)
			return IMS_EPERM;
		*c = hit->c;
		return IMS_OK;
	}
	errno = 0;
	if (jwt_decode(&jwt, token, k->secret, (int)k->len) != 0 || !jwt)
		goto out;
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	sub = jwt_get_grant(jwt, "sub");
	role = jwt_get_grant(jwt, "role");
	fam = jwt_get_grant(jwt, "fam");
	typ = jwt_get_grant(jwt, "typ");
	exp = jwt_get_grant_int(jwt, "exp");
	if (errno)
		goto out;
	iat = jwt_get_grant_int(jwt, "iat");
	if (errno)
		goto out;
	if (!sub || !role || !fam || !typ || strcmp(typ, "access") != 0)
		goto out;
	if (exp <= now || iat > now + 60)
		goto out;
	if (ims_role_parse(role) < 0 || !hex_ok(fam, IMS_TOKEN_FAMILY_LEN) ||
	    strlen(sub) > IMS_USERS_ADDR_MAX || !strchr(sub, '@'))
		goto out;
	snprintf(c->sub, sizeof c->sub, "%s", sub);
	c->role = (enum ims_role)ims_role_parse(role);
	snprintf(c->fam, sizeof c->fam, "%s", fam);
	c->iat = iat;
	c->exp = exp;
	vcache_put(k, token, n, c);
	rc = IMS_OK;
out:
	if (rc != IMS_OK)
		memset(c, 0, sizeof *c);
	jwt_free(jwt);
	return rc;
}
