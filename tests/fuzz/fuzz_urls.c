/* Fuzz target: URLs and look-alikes (lib/urls.c, lib/htmldoc.c, lib/bec.c).
 *
 * The input is read as a URL (ims_url_host), as plain text and as HTML
 * (every URL found), and as a domain and a display name for the look-alike
 * skeleton, the edit distance and the name key.  Oracles: a host is within
 * its cap, lower case, without '@', '/' or white space; text URLs lie
 * inside the input; no crash, leak or undefined behaviour. */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

#include "bec.h"
#include "fuzz_common.h"
#include "htmldoc.h"
#include "urls.h"

struct ctx {
	const char *base;
	size_t len;
};

static void check_host(const struct ims_url_host *h)
{
	size_t n = strlen(h->host);

	if (n == 0 || n > IMS_URL_MAX_HOST)
		fuzz_fail("host of %zu bytes", n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h->host[i];

		if (c == '@' || c == '/' || c <= ' ' || (c >= 'A' && c <= 'Z') || c >= 0x80)
			fuzz_fail("host '%s' has byte 0x%02x", h->host, c);
	}
	if (!g_utf8_validate(h->unicode, -1, NULL))
		fuzz_fail("unicode form of %s is not UTF-8", h->host);
}

static int on_url(void *arg, const struct ims_url_ref *r)
{
	struct ctx *c = arg;
	struct ims_url_host h;

	if (r->offset != (size_t)-1 &&
	    (r->offset + r->len > c->len || r->url != c->base + r->offset))
		fuzz_fail("text URL outside the input");
	if (ims_url_host(r->url, r->len, &h) == IMS_OK)
		check_host(&h);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct ims_url_host h;
	struct ctx c = {(const char *)data, size};
	char sk[512], key[1100], why[64];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ims_url_host((const char *)data, size, &h) == IMS_OK)
		check_host(&h);
	ims_urls_in_text((const char *)data, size, on_url, &c);
	ims_urls_in_html((const char *)data, size, on_url, &c);
	if (ims_bec_skeleton(s, sk, sizeof sk) == 0 && strlen(sk) >= sizeof sk)
		fuzz_fail("skeleton overflow");
	ims_bec_name_key(s, key, sizeof key);
	ims_bec_lookalike(s, "example.test", 2, 3, why, sizeof why);
	if (size > 1) {
		char *a = g_strndup(s, size / 2), *b = g_strdup(s + size / 2);
		int d = ims_bec_edit_distance(a, b, 2);

		if (d < 0 || d > 3)
			fuzz_fail("edit distance %d", d);
		g_free(a);
		g_free(b);
	}
	free(s);
	return 0;
}
