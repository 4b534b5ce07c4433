/* Fuzz target: HTML to text for the classifier (classifier/html.c).
 *
 * Oracles: the text stays within its cap; each link callback gets
 * NUL-terminated strings within their caps; UTF-8 in gives UTF-8 out. */
#include "config.h"

#include <glib.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "html.h"

struct links {
	unsigned n;
};

static void on_link(void *ctx, const char *href, const char *text)
{
	struct links *l = ctx;

	if (!href || !text || strlen(text) > IMS_HTML_MAX_ANCHOR * 4)
		fuzz_fail("link text of %zu bytes", text ? strlen(text) : 0);
	if (strlen(href) > IMS_HTML_MAX_TAG)
		fuzz_fail("href of %zu bytes", strlen(href));
	l->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max = size > 0 && data[0] == 'S' ? 100 : 1u << 20;
	GString *out = g_string_new(NULL);
	struct ims_html_stats st = {0};
	struct links l = {0};

	ims_html_to_text((const char *)data, size, out, max, on_link, &l, &st);
	if (out->len > max)
		fuzz_fail("text of %zu bytes, cap %zu", out->len, max);
	if (strlen(out->str) != out->len && !memchr(data, 0, size))
		fuzz_fail("NUL in the text of an input without one");
	if (out->len < max && g_utf8_validate((const char *)data, (gssize)size, NULL) &&
	    !g_utf8_validate(out->str, (gssize)out->len, NULL))
		fuzz_fail("UTF-8 input gave text that is not UTF-8: %s", out->str);
	g_string_free(out, TRUE);
	return 0;
}
