/* Fuzz target: the checkpassword input Dovecot hands ims-checkpassword on
 * descriptor 3 (lib/checkpw.c), whose user name and password come from a
 * mail client, and the user name as the registry canonicalises it.
 *
 * Oracles: a parsed input has both fields inside the buffer, each ended by
 * its NUL, the password right after the user's NUL; input without two
 * NULs or over IMS_CHECKPW_INPUT_MAX bytes is refused. */
#include "config.h"

#include <stdint.h>

#include "checkpw.h"
#include "fuzz_common.h"
#include "users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char d1[] = "example.test";
	char *const domains[] = {d1, NULL};
	char out[IMS_USERS_ADDR_MAX + 1];
	const char *user, *pw;
	char *buf = malloc(size ? size : 1);
	size_t nuls = 0;
	ims_status rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (size_t i = 0; i < size; i++)
		nuls += buf[i] == '\0';
	rc = ims_checkpw_parse(buf, size, &user, &pw);
	if (rc == IMS_OK) {
		size_t ul = strlen(user);

		if (user != buf || pw != buf + ul + 1 || ul + 1 + strlen(pw) + 1 > size)
			fuzz_fail("fields outside the input (%zu bytes)", size);
		if (size > IMS_CHECKPW_INPUT_MAX)
			fuzz_fail("accepted %zu bytes", size);
		(void)ims_users_canon_address(user, domains, out);
	} else if (size <= IMS_CHECKPW_INPUT_MAX && nuls >= 2) {
		fuzz_fail("refused %zu bytes with %zu NULs", size, nuls);
	}
	free(buf);
	return 0;
}
