/* Fuzz target: the HTML sanitiser of the web UI (webapi/html_sanitize.c).
 *
 * Oracles: the output is as long as it says, within the cap, and, parsed
 * again, holds only allowed elements, attributes and link schemes.  A
 * second byte 'I' asks for remote images (IMS_HTML_REMOTE_IMAGES): then
 * <img> may appear, with an http or https src only. */
#include "config.h"

#include <stdint.h>

#include "fuzz_html_check.h"
#include "html_sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t outlen = 0, images = 0, max = size > 0 && data[0] == 'S' ? 64 : 1u << 20;
	unsigned flags = size > 1 && data[1] == 'I' ? IMS_HTML_REMOTE_IMAGES : 0;

	if (ims_html_sanitize_ex((const char *)data, size, max, flags, &out, &outlen, &images) !=
	    IMS_OK)
		return 0;
	if (strlen(out) != outlen || outlen > max)
		fuzz_fail("sanitiser output length %zu (strlen %zu, cap %zu)", outlen, strlen(out),
		          max);
	fuzz_check_sanitized(out, outlen, flags != 0);
	free(out);
	return 0;
}
