#include "config.h"

#include <string.h>

#include "hdrvalue.h"

/* RFC 2045 token characters: printable US-ASCII but SPACE and tspecials. */
static bool is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* RFC 5322 atext. */
static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static bool is_token(const char *v, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_token_char((unsigned char)v[i]))
			return false;
	return true;
}

static bool is_dot_atom(const char *v, size_t len)
{
	if (len == 0 || v[0] == '.' || v[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '.' ? v[i + 1] == '.' : !is_atext((unsigned char)v[i]))
			return false;
	}
	return true;
}

bool ims_hdr_is_domain(const char *v, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253 || v[len - 1] == '.' || v[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

static size_t put_raw(char *out, size_t outlen, const char *v, size_t len)
{
	if (outlen == 0)
		return 0;
	if (len > outlen - 1)
		len = outlen - 1;
	memcpy(out, v, len);
	out[len] = '\0';
	return len;
}

size_t ims_hdr_pvalue(char *out, size_t outlen, const char *v)
{
	size_t len = v ? strlen(v) : 0, o = 0;
	const char *at;

	if (outlen == 0)
		return 0;
	if (len == 0)
		return put_raw(out, outlen, "unknown", 7);
	if (is_token(v, len))
		return put_raw(out, outlen, v, len);
	at = strrchr(v, '@');
	if (at && ims_hdr_is_domain(at + 1, len - (size_t)(at - v) - 1)) {
		if (at == v || is_dot_atom(v, (size_t)(at - v)))
			return put_raw(out, outlen, v, len);
		return put_raw(out, outlen, at + 1, len - (size_t)(at - v) - 1);
	}
	/* a quoted-string: needs room for the closing quote and the NUL */
	if (outlen < 3)
		return put_raw(out, outlen, "", 0);
	out[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		size_t need = (c == '"' || c == '\\') ? 2 : 1;

		if (o + need + 2 > outlen)
			break;
		if (need == 2)
			out[o++] = '\\';
		out[o++] = (c < 0x20 || c == 0x7f || c == ';') ? '?' : (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

size_t ims_hdr_clean(char *v)
{
	size_t n = 0;

	for (; v && *v; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*v = ' ';
			n++;
		}
	}
	return n;
}
