#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jwt.h>
#include <sodium.h>

#include "auth_token.h"
#include "check.h"

static const char secret[] = "0123456789abcdef0123456789abcdef-test";
static const char fam[] = "00112233445566778899aabbccddeeff";

static struct ims_token_key *key(const char *s)
{
	struct ims_token_key *k = NULL;

	CHECK(ims_token_key_new(s, strlen(s), &k) == IMS_OK);
	return k;
}

static struct ims_token_claims claims(int64_t iat, int64_t exp)
{
	struct ims_token_claims c = {.role = IMS_ROLE_ADMIN, .iat = iat, .exp = exp};

	snprintf(c.sub, sizeof c.sub, "alice@example.test");
	snprintf(c.fam, sizeof c.fam, "%s", fam);
	return c;
}

static void test_roundtrip(void)
{
	struct ims_token_key *k = key(secret);
	struct ims_token_claims c = claims(1000, 1900), got;
	char *tok = NULL;

	CHECK(ims_token_issue(k, &c, &tok) == IMS_OK);
	CHECK(ims_token_verify(k, tok, 1500, &got) == IMS_OK);
	CHECK(strcmp(got.sub, "alice@example.test") == 0);
	CHECK(got.role == IMS_ROLE_ADMIN);
	CHECK(strcmp(got.fam, fam) == 0);
	CHECK(got.exp == 1900);
	free(tok);
	ims_token_key_free(k);
}

static void test_expired_and_future(void)
{
	struct ims_token_key *k = key(secret);
	struct ims_token_claims c = claims(1000, 1900), got;
	char *tok = NULL;

	CHECK(ims_token_issue(k, &c, &tok) == IMS_OK);
	CHECK(ims_token_verify(k, tok, 1900, &got) == IMS_EPERM);
	CHECK(ims_token_verify(k, tok, 5000, &got) == IMS_EPERM);
	CHECK(ims_token_verify(k, tok, 900, &got) == IMS_EPERM); /* issued in the future */
	CHECK(got.sub[0] == '\0');
	free(tok);
	ims_token_key_free(k);
}

static void test_wrong_key(void)
{
	struct ims_token_key *k = key(secret), *other = key("another-secret-another-secret-12345");
	struct ims_token_claims c = claims(1000, 1900), got;
	char *tok = NULL;

	CHECK(ims_token_issue(other, &c, &tok) == IMS_OK);
	CHECK(ims_token_verify(k, tok, 1500, &got) == IMS_EPERM);
	free(tok);
	ims_token_key_free(k);
	ims_token_key_free(other);
}

/* Verified tokens are cached per thread: a hit must still check the
 * times, the key and every byte. */
static void test_verify_cache(void)
{
	struct ims_token_key *k = key(secret), *other;
	struct ims_token_claims c = claims(1000, 1900), got;
	char *tok = NULL;
	size_t n;

	CHECK(ims_token_issue(k, &c, &tok) == IMS_OK);
	CHECK(ims_token_verify(k, tok, 1500, &got) == IMS_OK);
	CHECK(ims_token_verify(k, tok, 1501, &got) == IMS_OK); /* from the cache */
	CHECK(strcmp(got.sub, "alice@example.test") == 0 && got.exp == 1900 &&
	      got.role == IMS_ROLE_ADMIN && strcmp(got.fam, fam) == 0);
	CHECK(ims_token_verify(k, tok, 1900, &got) == IMS_EPERM);
	CHECK(got.sub[0] == '\0');
	CHECK(ims_token_verify(k, tok, 900, &got) == IMS_EPERM);
	CHECK(ims_token_verify(k, tok, 1600, &got) == IMS_OK);
	n = strlen(tok);
	tok[n - 10] = tok[n - 10] == 'A' ? 'B' : 'A'; /* another signature */
	CHECK(ims_token_verify(k, tok, 1600, &got) == IMS_EPERM);
	tok[n - 10] = tok[n - 10] == 'A' ? 'B' : 'A';
	/* a new key (likely at the same address) with another secret */
	ims_token_key_free(k);
	other = key("another-secret-another-secret-12345");
	CHECK(ims_token_verify(other, tok, 1600, &got) == IMS_EPERM);
	free(tok);
	ims_token_key_free(other);
}

static void b64url(const char *in, char *out, size_t outlen)
{
	sodium_bin2base64(out, outlen, (const unsigned char *)in, strlen(in),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void test_alg_none_and_forged(void)
{
	struct ims_token_key *k = key(secret);
	struct ims_token_claims got;
	char h[256], p[512], tok[1024];
	const char *payload = "{\"sub\":\"alice@example.test\",\"role\":\"admin\",\"fam\":"
	                      "\"00112233445566778899aabbccddeeff\",\"typ\":\"access\","
	                      "\"iat\":1000,\"exp\":1900}";

	b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", h, sizeof h);
	b64url(payload, p, sizeof p);
	snprintf(tok, sizeof tok, "%s.%s.", h, p);
	CHECK(ims_token_verify(k, tok, 1500, &got) == IMS_EPERM);
	snprintf(tok, sizeof tok, "%s.%s.AAAA", h, p);
	CHECK(ims_token_verify(k, tok, 1500, &got) == IMS_EPERM);
	/* HS256 header, signature of something else */
	b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", h, sizeof h);
	snprintf(tok, sizeof tok, "%s.%s.c2lnbmF0dXJlLW5vdC1yZWFs", h, p);
	CHECK(ims_token_verify(k, tok, 1500, &got) == IMS_EPERM);
	/* garbage */
	CHECK(ims_token_verify(k, "", 1500, &got) == IMS_EPERM);
	CHECK(ims_token_verify(k, "a.b", 1500, &got) == IMS_EPERM);
	CHECK(ims_token_verify(k, "a.b.c", 1500, &got) == IMS_EPERM);
	CHECK(ims_token_verify(k, "a b.c.d", 1500, &got) == IMS_EPERM);
	CHECK(ims_token_verify(k, NULL, 1500, &got) == IMS_EPERM);
	ims_token_key_free(k);
}

static void test_other_alg_same_key(void)
{
	struct ims_token_key *k = key(secret);
	struct ims_token_claims got;
	jwt_t *jwt = NULL;
	char *tok;

	CHECK(jwt_new(&jwt) == 0);
	jwt_add_grant(jwt, "sub", "alice@example.test");
	jwt_add_grant(jwt, "role", "admin");
	jwt_add_grant(jwt, "fam", fam);
	jwt_add_grant(jwt, "typ", "access");
	jwt_add_grant_int(jwt, "iat", 1000);
	jwt_add_grant_int(jwt, "exp", 1900);
	jwt_set_alg(jwt, JWT_ALG_HS512, (const unsigned char *)secret, (int)strlen(secret));
	tok = jwt_encode_str(jwt);
	CHECK(tok != NULL);
	CHECK(ims_token_verify(k, tok, 1500, &got) == IMS_EPERM);
	free(tok);
	/* missing typ */
	jwt_del_grants(jwt, "typ");
	jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
	tok = jwt_encode_str(jwt);
	CHECK(ims_token_verify(k, tok, 1500, &got) == IMS_EPERM);
	free(tok);
	jwt_free(jwt);
	ims_token_key_free(k);
}

static void test_key_load(void)
{
	struct ims_token_key *k = NULL;
	char err[256], path[] = "/tmp/ims-test-jwt-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs("short\n", f);
	fclose(f);
	CHECK(ims_token_key_load(path, &k, err, sizeof err) == IMS_EINVAL);
	CHECK_STR_CONTAINS(err, path);
	f = fopen(path, "w");
	fprintf(f, "%s\n", secret);
	fclose(f);
	CHECK(ims_token_key_load(path, &k, err, sizeof err) == IMS_OK);
	ims_token_key_free(k);
	unlink(path);
	CHECK(ims_token_key_load(path, &k, err, sizeof err) == IMS_EIO);
	CHECK(ims_token_key_load("", &k, err, sizeof err) == IMS_EINVAL);
}

int main(void)
{
	RUN(test_roundtrip);
	RUN(test_expired_and_future);
	RUN(test_wrong_key);
	RUN(test_verify_cache);
	RUN(test_alg_none_and_forged);
	RUN(test_other_alg_same_key);
	RUN(test_key_load);
	return CHECK_DONE();
}
