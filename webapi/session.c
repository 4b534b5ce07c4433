#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "authcache.h"
#include "session.h"
#include "sessions.h"

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
	ims_status rc;

	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(fam, IMS_TOKEN_FAMILY_LEN + 1, raw, sizeof raw);
	*token = ims_session_token_new(addr, fam);
	if (!*token)
		return IMS_ENOMEM;
	token_hash(*token, h);
	rc = ims_sessions_put(ims_req_store(r), addr, fam, h, ims_req_now_ms(),
	                      r->app->conf->webapi_refresh_ttl_s);
	if (rc != IMS_OK) {
		free(*token);
		*token = NULL;
		ims_req_store_failed(r, rc);
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
	ims_status rc;

	*token = NULL;
	if (ims_session_token_parse(old, addr, fam) != IMS_OK)
		return IMS_EPERM;
	*token = ims_session_token_new(addr, fam);
	if (!*token)
		return IMS_ENOMEM;
	token_hash(old, h_old);
	token_hash(*token, h_new);
	rc = ims_sessions_rotate(ims_req_store(r), addr, fam, h_old, h_new);
	if (rc == IMS_EPERM)
		ims_authcache_clear(); /* reuse: the family is gone, so are its access tokens */
	else if (rc == IMS_ENOTFOUND)
		rc = IMS_EPERM;
	else if (rc != IMS_OK) {
		ims_req_store_failed(r, rc);
		rc = IMS_ETEMP; /* the response is set */
	}
	if (rc != IMS_OK) {
		free(*token);
		*token = NULL;
	}
	return rc;
}

ims_status ims_session_end(struct ims_req *r, const char *addr, const char *fam)
{
	ims_status rc = ims_sessions_end(ims_req_store(r), addr, fam);

	ims_authcache_clear();
	if (rc != IMS_OK)
		ims_req_store_failed(r, rc);
	return rc;
}
