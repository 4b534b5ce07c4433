/* Fuzz target: the raw header/body splitter and the From helpers
 * (lib/rfc5322.c).
 *
 * Oracles: within the limits; every field has a name without colon, white
 * space or control bytes, its whole text is "name[WSP]:value", ims_msg_find
 * finds it; header fields and body lie within the input's size; a From
 * domain is lower case. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "rfc5322.h"

/* Oracle: each From address is a NUL-terminated string within the limit. */
static int check_addr(const char *addr, void *arg)
{
	(void)arg;
	if (strlen(addr) > IMS_MSG_ADDR_MAX)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_msg *m = NULL;
	char domain[256];
	size_t naddr, len, total = 0, n;

	if (ims_msg_parse((const char *)data, size, 200, 8192, &m) != IMS_OK)
		return 0;
	n = ims_msg_header_count(m);
	if (n > 200)
		fuzz_fail("%zu header fields over a limit of 200", n);
	for (size_t i = 0; i < n; i++) {
		const char *name, *value, *field;
		size_t nlen, flen;

		if (ims_msg_header(m, i, &name, &value, &len) != IMS_OK ||
		    ims_msg_header_field(m, i, &field, &flen) != IMS_OK)
			fuzz_fail("field %zu of %zu missing", i, n);
		nlen = strlen(name);
		if (nlen == 0 || flen > 8192 || flen < nlen + 1 + len)
			fuzz_fail("field %zu: name of %zu, value of %zu, field of %zu bytes", i,
			          nlen, len, flen);
		for (size_t k = 0; k < nlen; k++)
			if (name[k] == ':' || isspace((unsigned char)name[k]) ||
			    iscntrl((unsigned char)name[k]))
				fuzz_fail("field name \"%s\"", name);
		/* obs-optional (RFC 5322 4.5): white space before the colon */
		size_t c = nlen;
		while (c < flen && (field[c] == ' ' || field[c] == '\t'))
			c++;
		if (strncmp(field, name, nlen) != 0 || c >= flen || field[c] != ':' ||
		    memcmp(field + flen - len, value, len) != 0)
			fuzz_fail("field %zu is not \"name:value\"", i);
		if (!ims_msg_find(m, name, 0))
			fuzz_fail("ims_msg_find misses \"%s\"", name);
		total += flen;
	}
	(void)ims_msg_body(m, &len);
	if (total + len > size)
		fuzz_fail("fields (%zu) and body (%zu) longer than the input (%zu)", total, len,
		          size);
	(void)ims_msg_from_count(m);
	if (ims_msg_from_domain(m, domain, sizeof domain, &naddr) == IMS_OK)
		for (const char *c = domain; *c; c++)
			if (isupper((unsigned char)*c))
				fuzz_fail("From domain \"%s\" is not lower case", domain);
	(void)ims_msg_from_addrs(m, check_addr, NULL);
	ims_msg_free(m);
	return 0;
}
