#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "users.h"

static char *domains[] = {"example.test", "Other.Test", NULL};

static void test_canon(void)
{
	char out[IMS_USERS_ADDR_MAX + 1];

	CHECK(ims_users_canon_address("Alice@Example.TEST", domains, out) == IMS_OK);
	CHECK(strcmp(out, "alice@example.test") == 0);
	CHECK(ims_users_canon_address("a.b+c_d-e@other.test", domains, out) == IMS_OK);
	CHECK(ims_users_canon_address("bob@example.org", domains, out) == IMS_EPERM);
	CHECK(out[0] == '\0');
	CHECK(ims_users_canon_address("bob@example.org", NULL, out) == IMS_EPERM);
	CHECK(ims_users_canon_address("no-at-sign", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("a@b@example.test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("@example.test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address(".a@example.test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("a.@example.test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("a..b@example.test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("a{x}@example.test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("a b@example.test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("a%n@example.test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("a@localhost", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("a@-x.test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address("a@x..test", domains, out) == IMS_EINVAL);
	CHECK(ims_users_canon_address(NULL, domains, out) == IMS_EINVAL);
	{
		char long_addr[400];

		memset(long_addr, 'a', sizeof long_addr);
		snprintf(long_addr + 300, 100, "@example.test");
		CHECK(ims_users_canon_address(long_addr, domains, out) == IMS_EINVAL);
		memset(long_addr, 'a', 65);
		snprintf(long_addr + 65, 100, "@example.test");
		CHECK(ims_users_canon_address(long_addr, domains, out) == IMS_EINVAL);
	}
}

static void test_roles(void)
{
	CHECK(ims_role_parse("admin") == IMS_ROLE_ADMIN);
	CHECK(ims_role_parse("user") == IMS_ROLE_USER);
	CHECK(ims_role_parse("root") == -1);
	CHECK(ims_role_parse(NULL) == -1);
	CHECK(strcmp(ims_role_name(IMS_ROLE_ADMIN), "admin") == 0);
}

/* The stored form is what Dovecot reads: {ARGON2ID} then libsodium's string,
 * with the cost parameters of users.h. */
static void test_hash(void)
{
	char h[crypto_pwhash_STRBYTES + 16];

	CHECK(ims_users_hash_password("correct horse", h, sizeof h) == IMS_OK);
	CHECK(strncmp(h, "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$", 41) == 0);
	CHECK(crypto_pwhash_str_verify(h + 10, "correct horse", 13) == 0);
	CHECK(crypto_pwhash_str_verify(h + 10, "wrong horse", 11) != 0);
	CHECK(ims_users_hash_password("x", h, 10) == IMS_EINVAL);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(test_canon);
	RUN(test_roles);
	RUN(test_hash);
	return CHECK_DONE();
}
