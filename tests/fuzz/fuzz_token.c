/* Fuzz target: the tokens the web API accepts: access JWTs
 * (webapi/auth_token.c, libjwt) and refresh tokens (webapi/session.c).
 *
 * Input: "R" + a refresh token; "I" + claims to issue (sub, then NUL, then
 * role, fam and times taken from the bytes); anything else is a JWT to
 * verify (HS256 with a fixed key at a fixed time).
 *
 * Oracles: a JWT that verifies has sane claims and issuing those claims
 * again gives a token that verifies to the same claims; an issued token
 * verifies to what was issued, and never with another key; a refresh token
 * that parses has an address and a hex family, and a new token for them
 * parses back to them. */
#include "config.h"

#include <stdint.h>

#include "auth_token.h"
#include "fuzz_common.h"
#include "session.h"

#define NOW 1800000000

static struct ims_token_key *key, *other;

static int same(const struct ims_token_claims *a, const struct ims_token_claims *b)
{
	return strcmp(a->sub, b->sub) == 0 && a->role == b->role && strcmp(a->fam, b->fam) == 0 &&
	       a->iat == b->iat && a->exp == b->exp;
}

static void check_claims(const struct ims_token_claims *c, int64_t now)
{
	struct ims_token_claims again;
	char *t = NULL;

	if (!c->sub[0] || !strchr(c->sub, '@') ||
	    (c->role != IMS_ROLE_USER && c->role != IMS_ROLE_ADMIN) ||
	    strlen(c->fam) != IMS_TOKEN_FAMILY_LEN || c->exp <= now)
		fuzz_fail("verified token with bad claims: sub \"%s\" fam \"%s\"", c->sub, c->fam);
	if (ims_token_issue(key, c, &t) != IMS_OK)
		fuzz_fail("verified claims cannot be issued again");
	if (ims_token_verify(key, t, now, &again) != IMS_OK || !same(c, &again))
		fuzz_fail("re-issued token does not verify to the same claims: %s", t);
	if (ims_token_verify(other, t, now, &again) != IMS_EPERM)
		fuzz_fail("token verifies with another key: %s", t);
	free(t);
}

static void refresh(const char *s)
{
	char addr[IMS_USERS_ADDR_MAX + 1], fam[IMS_TOKEN_FAMILY_LEN + 1];
	char addr2[IMS_USERS_ADDR_MAX + 1], fam2[IMS_TOKEN_FAMILY_LEN + 1];
	char *t;

	if (ims_session_token_parse(s, addr, fam) != IMS_OK) {
		if (addr[0] || fam[0])
			fuzz_fail("refused refresh token leaves addr/fam set");
		return;
	}
	if (!strchr(addr, '@') || strpbrk(addr, "{}") || strlen(fam) != IMS_TOKEN_FAMILY_LEN ||
	    strspn(fam, "0123456789abcdef") != IMS_TOKEN_FAMILY_LEN)
		fuzz_fail("refresh token parsed to addr \"%s\" fam \"%s\"", addr, fam);
	t = ims_session_token_new(addr, fam);
	if (!t || ims_session_token_parse(t, addr2, fam2) != IMS_OK || strcmp(addr, addr2) != 0 ||
	    strcmp(fam, fam2) != 0)
		fuzz_fail("new refresh token for \"%s\" does not parse back: %s", addr, t);
	free(t);
}

static void issue(const uint8_t *d, size_t n)
{
	struct ims_token_claims c = {0}, v;
	const uint8_t *nul = memchr(d, 0, n);
	size_t sl = nul ? (size_t)(nul - d) : n;
	char *t = NULL;

	if (sl > IMS_USERS_ADDR_MAX)
		return;
	memcpy(c.sub, d, sl);
	d += sl;
	n -= sl;
	c.role = n > 1 && (d[1] & 1) ? IMS_ROLE_ADMIN : IMS_ROLE_USER;
	for (size_t i = 0; i < IMS_TOKEN_FAMILY_LEN; i++)
		c.fam[i] =
		    "0123456789abcdef"[(n > 2 + i / 2 ? d[2 + i / 2] >> (i % 2 * 4) : 0) & 15];
	c.iat = NOW - (n > 20 ? d[20] : 0);
	c.exp = NOW + (n > 21 ? d[21] : 0) - 100;
	if (ims_token_issue(key, &c, &t) != IMS_OK)
		return;
	if (ims_token_verify(key, t, NOW, &v) == IMS_OK) {
		if (!same(&c, &v))
			fuzz_fail("issued token verifies to other claims: %s", t);
		check_claims(&v, NOW);
	}
	if (getenv("FUZZ_VERBOSE"))
		printf("%s\n", t);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_token_claims c;
	char *s;

	if (!key &&
	    (ims_token_key_new("fuzz-secret-fuzz-secret-fuzz-secret!", 36, &key) != IMS_OK ||
	     ims_token_key_new("another-secret-another-secret-another", 37, &other) != IMS_OK))
		fuzz_fail("keys");
	if (size > 0 && data[0] == 'I') {
		issue(data + 1, size - 1);
		return 0;
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (size > 0 && data[0] == 'R')
		refresh(s + 1);
	else if (ims_token_verify(key, s, NOW, &c) == IMS_OK)
		check_claims(&c, NOW);
	free(s);
	return 0;
}
