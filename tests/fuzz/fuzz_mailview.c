/* Fuzz target: a stored message as the web UI shows it
 * (webapi/mailview.c, GMime).
 *
 * Oracles: the view is a JSON object that jansson can write out (valid
 * UTF-8 throughout); headers and bodies stay within their caps; the html
 * field passes the sanitiser oracle; every listed attachment downloads
 * (ims_mailview_attachment) with the size the list gives. */
#include "config.h"

#include <gmime/gmime.h>
#include <jansson.h>
#include <stdint.h>

#include "fuzz_html_check.h"
#include "mailview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	json_t *v = NULL, *html, *text;
	char *dump;

	if (!init) { /* as ims-webapi's main does */
		g_mime_init();
		xmlInitParser();
		init = 1;
	}
	if (ims_mailview_parse((const char *)data, size, &v) != IMS_OK)
		return 0;
	if (!json_is_object(v))
		fuzz_fail("mail view is not an object");
	dump = json_dumps(v, JSON_COMPACT);
	if (!dump)
		fuzz_fail("mail view cannot be written as JSON");
	free(dump);
	if (json_array_size(json_object_get(v, "headers")) > IMS_MAILVIEW_HEADERS_MAX)
		fuzz_fail("mail view has %zu headers",
		          json_array_size(json_object_get(v, "headers")));
	text = json_object_get(v, "text");
	if (json_is_string(text) && !json_is_true(json_object_get(v, "unparsed")) &&
	    json_string_length(text) > IMS_MAILVIEW_BODY_MAX)
		fuzz_fail("text of %zu bytes", json_string_length(text));
	html = json_object_get(v, "html");
	if (json_is_string(html)) {
		if (json_string_length(html) > IMS_MAILVIEW_BODY_MAX)
			fuzz_fail("html of %zu bytes", json_string_length(html));
		fuzz_check_sanitized(json_string_value(html), json_string_length(html), 0);
	}
	/* GET /emails/{id}/attachments/{n}: each listed attachment (the first
	 * few) decodes to the size the list gave, or is a message part (404);
	 * one past the end is not found */
	{
		json_t *atts = json_object_get(v, "attachments");
		size_t n = json_array_size(atts);

		for (size_t i = 0; i <= n && i < 4; i++) {
			json_t *a = json_array_get(atts, i), *sz = json_object_get(a, "size");
			char *d = NULL;
			size_t dlen = 0;
			ims_status rc =
			    ims_mailview_attachment((const char *)data, size, i, &d, &dlen);

			if (i == n && rc != IMS_ENOTFOUND)
				fuzz_fail("attachment %zu of %zu found", i, n);
			if (i < n && json_is_integer(sz) && rc != IMS_OK)
				fuzz_fail("listed attachment %zu not found (%d)", i, (int)rc);
			if (rc == IMS_OK && json_is_integer(sz) &&
			    (json_int_t)dlen != json_integer_value(sz))
				fuzz_fail("attachment %zu: %zu bytes, listed as %lld", i, dlen,
				          (long long)json_integer_value(sz));
			free(d);
		}
	}
	json_decref(v);
	return 0;
}
