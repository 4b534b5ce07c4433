/* Fuzz target: addresses as the user registry takes them
 * (ims_users_canon_address in lib/users.c) and role names.
 *
 * Oracles: a canonical address is lower case, one @, only [a-z0-9._+-] and
 * a dotted domain on the local list, at most IMS_USERS_ADDR_MAX bytes, and
 * canonicalising it again gives itself; with no local domains it is
 * refused. */
#include "config.h"

#include <stdint.h>
#include <strings.h>

#include "fuzz_common.h"
#include "users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char d1[] = "example.test", d2[] = "Mail.Example.ORG";
	char *const domains[] = {d1, d2, NULL};
	char *const none[] = {NULL};
	char *in = malloc(size + 1), out[IMS_USERS_ADDR_MAX + 1], again[IMS_USERS_ADDR_MAX + 1];
	const char *at;
	ims_status rc;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	(void)ims_role_parse(in);
	rc = ims_users_canon_address(in, domains, out);
	if (rc == IMS_OK) {
		at = strchr(out, '@');
		if (!at || strchr(at + 1, '@') || strlen(out) > IMS_USERS_ADDR_MAX ||
		    strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789._+-@") != strlen(out) ||
		    (strcasecmp(at + 1, d1) != 0 && strcasecmp(at + 1, d2) != 0))
			fuzz_fail("canonical address \"%s\" of \"%s\"", out, in);
		if (ims_users_canon_address(out, domains, again) != IMS_OK ||
		    strcmp(out, again) != 0)
			fuzz_fail("canonical address \"%s\" is not canonical again", out);
		if (ims_users_canon_address(in, none, again) != IMS_EPERM)
			fuzz_fail("\"%s\" accepted with no local domains", in);
	}
	free(in);
	return 0;
}
