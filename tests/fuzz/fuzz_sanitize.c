/* Fuzz target: the HTML sanitiser of the web UI (webapi/html_sanitize.c).
 *
 * Oracles: the output is as long as it says, within the cap, and, parsed
 * again, holds only allowed elements, attributes and link schemes. */
#include "config.h"

#include <stdint.h>

#include "fuzz_html_check.h"
#include "html_sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t outlen = 0, max = size > 0 && data[0] == 'S' ? 64 : 1u << 20;

	if (ims_html_sanitize((const char *)data, size, max, &out, &outlen) != IMS_OK)
		return 0;
	if (strlen(out) != outlen || outlen > max)
		fuzz_fail("sanitiser output length %zu (strlen %zu, cap %zu)", outlen, strlen(out),
		          max);
	fuzz_check_sanitized(out, outlen);
	free(out);
	return 0;
}
