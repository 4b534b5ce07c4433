/* Fuzz target: the click tokens GET /click accepts (lib/linktoken.c), the
 * one input of ims-webapi that needs no login.
 *
 * Input: "S" + fields to sign (scan id, NUL, user, NUL, url; the kind and
 * time from the first bytes); anything else is token text to verify with a
 * fixed key at a fixed time.
 *
 * Oracles: a token that verifies has clean fields within their limits,
 * signing those fields again gives the same text (it round-trips), and it
 * never verifies under another key; signed fields verify back to themselves. */
#include "config.h"

#include <stdint.h>

#include "fuzz_common.h"
#include "linktoken.h"

#define NOW      1800000000ull
#define LIFETIME (90ull * 86400)

static struct ims_linkkey *key, *other;

static void init(void)
{
	if (key)
		return;
	if (ims_linkkey_from_bytes("fuzz key fuzz key fuzz key fuzz key", 35, &key) != IMS_OK ||
	    ims_linkkey_from_bytes("another key, thirty-two bytes long!", 35, &other) != IMS_OK)
		abort();
}

static int same(const struct ims_linktoken *a, const struct ims_linktoken *b)
{
	return a->kind == b->kind && a->issued == b->issued &&
	       strcmp(a->scan_id, b->scan_id) == 0 && strcmp(a->user, b->user) == 0 &&
	       strcmp(a->url, b->url) == 0;
}

static void clean(const char *what, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		fuzz_fail("%s longer than its limit", what);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			fuzz_fail("%s holds a control character", what);
}

static void verify_text(const char *text, size_t len)
{
	struct ims_linktoken t, again;
	char tok[IMS_LINKTOKEN_MAX + 1];
	ims_status st = ims_linktoken_verify(key, text, len, NOW, LIFETIME, &t);

	if (st == IMS_EINVAL) {
		if (t.url[0] || t.scan_id[0] || t.user[0])
			fuzz_fail("a refused token left fields behind");
		return;
	}
	if (st != IMS_OK && st != IMS_ELIMIT)
		fuzz_fail("verify returned %d", (int)st);
	clean("scan id", t.scan_id, IMS_LINKTOKEN_SCAN_MAX);
	clean("user", t.user, IMS_LINKTOKEN_USER_MAX);
	clean("url", t.url, IMS_LINKTOKEN_URL_MAX);
	if (ims_linktoken_sign(key, &t, tok, sizeof tok) != IMS_OK)
		fuzz_fail("a verified token's fields cannot be signed again");
	if (strlen(tok) != len || memcmp(tok, text, len) != 0)
		fuzz_fail("a verified token does not round-trip");
	if (ims_linktoken_verify(key, tok, strlen(tok), NOW, LIFETIME, &again) != st ||
	    !same(&t, &again))
		fuzz_fail("re-signed token verifies differently");
	if (ims_linktoken_verify(other, text, len, NOW, LIFETIME, &again) != IMS_EINVAL)
		fuzz_fail("a token verified under another key");
}

static void sign_fields(const uint8_t *d, size_t n)
{
	struct ims_linktoken t = {0}, back;
	char tok[IMS_LINKTOKEN_MAX + 1];
	const char *f[3] = {"", "", ""};
	char buf[4096];
	size_t k = 0, nf = 1;
	ims_status st;

	if (n < 3)
		return;
	t.kind = d[0] & 1 ? IMS_LINKTOKEN_CONTINUE : IMS_LINKTOKEN_CLICK;
	t.issued = NOW - (d[1] * 3600ull);
	d += 2, n -= 2;
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, d, n);
	buf[n] = '\0';
	f[0] = buf;
	for (k = 0; k < n && nf < 3; k++)
		if (buf[k] == '\0')
			f[nf++] = buf + k + 1;
	snprintf(t.scan_id, sizeof t.scan_id, "%s", f[0]);
	snprintf(t.user, sizeof t.user, "%s", f[1]);
	snprintf(t.url, sizeof t.url, "%s", f[2]);
	st = ims_linktoken_sign(key, &t, tok, sizeof tok);
	if (st == IMS_EINVAL || st == IMS_ELIMIT)
		return;
	if (st != IMS_OK)
		fuzz_fail("sign returned %d", (int)st);
	if (strlen(tok) > IMS_LINKTOKEN_MAX)
		fuzz_fail("token longer than IMS_LINKTOKEN_MAX");
	if (ims_linktoken_verify(key, tok, strlen(tok), NOW, LIFETIME, &back) != IMS_OK ||
	    !same(&t, &back))
		fuzz_fail("a signed token does not verify to its fields");
	verify_text(tok, strlen(tok));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	if (size > 0 && data[0] == 'S')
		sign_fields(data + 1, size - 1);
	else
		verify_text((const char *)data, size);
	return 0;
}
