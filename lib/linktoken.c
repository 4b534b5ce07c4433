/* Click tokens: see linktoken.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linktoken.h"
#include "secretfile.h"

#define TOKEN_VERSION 1
#define MAC_BYTES     crypto_auth_hmacsha256_BYTES
#define HEAD          (1 + 1 + 8)
#define PAYLOAD_MAX                                                                                \
	(HEAD + 1 + IMS_LINKTOKEN_SCAN_MAX + 2 + IMS_LINKTOKEN_USER_MAX + 2 + IMS_LINKTOKEN_URL_MAX)
#define KEY_FILE_MAX 4096

struct ims_linkkey {
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
};

_Static_assert(IMS_LINKTOKEN_MAX >= ((PAYLOAD_MAX + MAC_BYTES + 2) / 3) * 4,
               "IMS_LINKTOKEN_MAX holds the largest token");

ims_status ims_linkkey_from_bytes(const void *secret, size_t n, struct ims_linkkey **out)
{
	struct ims_linkkey *k;

	*out = NULL;
	if (n < 32)
		return IMS_EINVAL;
	if (sodium_init() < 0)
		return IMS_ENOMEM;
	k = malloc(sizeof *k);
	if (!k)
		return IMS_ENOMEM;
	/* a fixed-size key whatever the file holds (a hex line, raw bytes) */
	crypto_hash_sha256(k->key, secret, n);
	*out = k;
	return IMS_OK;
}

ims_status ims_linkkey_load(const char *path, struct ims_linkkey **out, char *err, size_t errlen)
{
	unsigned char buf[KEY_FILE_MAX + 1];
	size_t len;
	ims_status rc;
	FILE *f = NULL;

	*out = NULL;
	/* the one rule for secret files: 0600 or 0640 (lib/secretfile.h) */
	rc = ims_secret_fopen(path, &f, err, errlen);
	if (rc != IMS_OK)
		return rc;
	len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	if (len > KEY_FILE_MAX || len < 32) {
		snprintf(err, errlen, "%s: %zu bytes (want 32 to %d)", path, len, KEY_FILE_MAX);
		sodium_memzero(buf, sizeof buf);
		return IMS_EINVAL;
	}
	rc = ims_linkkey_from_bytes(buf, len, out);
	sodium_memzero(buf, sizeof buf);
	if (rc != IMS_OK)
		snprintf(err, errlen, "%s: %s", path, ims_strstatus(rc));
	return rc;
}

void ims_linkkey_free(struct ims_linkkey *k)
{
	if (!k)
		return;
	sodium_memzero(k, sizeof *k);
	free(k);
}

static int clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

ims_status ims_linktoken_sign(const struct ims_linkkey *k, const struct ims_linktoken *t, char *out,
                              size_t outlen)
{
	unsigned char buf[PAYLOAD_MAX + MAC_BYTES];
	size_t ls = strnlen(t->scan_id, sizeof t->scan_id), lu = strnlen(t->user, sizeof t->user),
	       lurl = strnlen(t->url, sizeof t->url), n = 0;

	if (ls > IMS_LINKTOKEN_SCAN_MAX || lu > IMS_LINKTOKEN_USER_MAX ||
	    lurl > IMS_LINKTOKEN_URL_MAX)
		return IMS_ELIMIT;
	if (!clean(t->scan_id, ls) || !clean(t->user, lu) || !clean(t->url, lurl) ||
	    (t->kind != IMS_LINKTOKEN_CLICK && t->kind != IMS_LINKTOKEN_CONTINUE))
		return IMS_EINVAL;
	buf[n++] = TOKEN_VERSION;
	buf[n++] = (unsigned char)t->kind;
	for (int i = 7; i >= 0; i--)
		buf[n++] = (unsigned char)(t->issued >> (8 * i));
	buf[n++] = (unsigned char)ls;
	memcpy(buf + n, t->scan_id, ls), n += ls;
	buf[n++] = (unsigned char)(lu >> 8), buf[n++] = (unsigned char)lu;
	memcpy(buf + n, t->user, lu), n += lu;
	buf[n++] = (unsigned char)(lurl >> 8), buf[n++] = (unsigned char)lurl;
	memcpy(buf + n, t->url, lurl), n += lurl;
	crypto_auth_hmacsha256(buf + n, buf, n, k->key);
	n += MAC_BYTES;
	if (outlen < sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return IMS_ELIMIT;
	sodium_bin2base64(out, outlen, buf, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return IMS_OK;
}

/* Reads a length-prefixed field of w bytes of length at p (n bytes left)
 * into dst (max bytes at most); advances.  -1 when it does not fit. */
static int field(const unsigned char **p, size_t *n, int w, char *dst, size_t max)
{
	size_t len;

	if (*n < (size_t)w)
		return -1;
	len = w == 1 ? (*p)[0] : ((size_t)(*p)[0] << 8) | (*p)[1];
	*p += w, *n -= (size_t)w;
	if (len > max || len > *n || !clean((const char *)*p, len))
		return -1;
	memcpy(dst, *p, len);
	dst[len] = '\0';
	*p += len, *n -= len;
	return 0;
}

ims_status ims_linktoken_verify(const struct ims_linkkey *k, const char *text, size_t len,
                                uint64_t now, uint64_t lifetime_s, struct ims_linktoken *out)
{
	unsigned char buf[PAYLOAD_MAX + MAC_BYTES];
	const unsigned char *p;
	size_t n = 0, left;

	memset(out, 0, sizeof *out);
	if (len == 0 || len > IMS_LINKTOKEN_MAX)
		return IMS_EINVAL;
	if (sodium_base642bin(buf, sizeof buf, text, len, NULL, &n, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n < HEAD + 5 + MAC_BYTES)
		return IMS_EINVAL;
	left = n - MAC_BYTES;
	if (crypto_auth_hmacsha256_verify(buf + left, buf, left, k->key) != 0)
		return IMS_EINVAL;
	/* genuine from here on: still, nothing is trusted to be in bounds */
	if (buf[0] != TOKEN_VERSION || buf[1] > IMS_LINKTOKEN_CONTINUE)
		goto bad;
	out->kind = (enum ims_linktoken_kind)buf[1];
	for (int i = 0; i < 8; i++)
		out->issued = (out->issued << 8) | buf[2 + i];
	p = buf + HEAD;
	left -= HEAD;
	if (field(&p, &left, 1, out->scan_id, IMS_LINKTOKEN_SCAN_MAX) ||
	    field(&p, &left, 2, out->user, IMS_LINKTOKEN_USER_MAX) ||
	    field(&p, &left, 2, out->url, IMS_LINKTOKEN_URL_MAX) || left != 0)
		goto bad;
	if (out->issued > now + IMS_LINKTOKEN_SKEW_S ||
	    (now > out->issued && now - out->issued > lifetime_s))
		return IMS_ELIMIT;
	return IMS_OK;
bad:
	memset(out, 0, sizeof *out);
	return IMS_EINVAL;
}
