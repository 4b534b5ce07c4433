#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

/* Makes room for n more bytes and the NUL; 0 on failure. */
static int grow(struct ims_jsonw *w, size_t n)
{
	size_t cap;
	char *nb;

	if (w->failed)
		return 0;
	if (w->len + n + 1 <= w->cap)
		return 1;
	if (n > IMS_JSONW_MAX || w->len + n + 1 > IMS_JSONW_MAX) {
		w->failed = true;
		return 0;
	}
	cap = w->cap ? w->cap : 16384;
	while (cap < w->len + n + 1)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (!nb) {
		w->failed = true;
		return 0;
	}
	w->buf = nb;
	w->cap = cap;
	return 1;
}

void ims_jsonw_raw_grow(struct ims_jsonw *w, const char *s, size_t n)
{
	if (!grow(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

void ims_jsonw_puts(struct ims_jsonw *w, const char *s)
{
	ims_jsonw_raw(w, s, strlen(s));
}

/* 1 for the bytes a JSON string holds as they are: printable ASCII but
 * the quote and the backslash. */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xE0) == 0xC0) {
		len = 2;
		cp = p[0] & 0x1F;
	} else if ((p[0] & 0xF0) == 0xE0) {
		len = 3;
		cp = p[0] & 0x0F;
	} else if ((p[0] & 0xF8) == 0xF0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	/* no overlong forms, surrogates or values past U+10FFFF */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

void ims_jsonw_string(struct ims_jsonw *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	ims_jsonw_raw(w, "\"", 1);
	while (i < len) {
		unsigned char c = p[i];
		size_t n, run = i;

		/* plain printable ASCII goes out in one copy */
		while (run < len && plain[p[run]])
			run++;
		if (run > i) {
			ims_jsonw_raw(w, s + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};

			ims_jsonw_raw(w, e, 2);
			i++;
		} else if (c < 0x20) {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

			switch (c) {
			case '\n': ims_jsonw_raw(w, "\\n", 2); break;
			case '\r': ims_jsonw_raw(w, "\\r", 2); break;
			case '\t': ims_jsonw_raw(w, "\\t", 2); break;
			default: ims_jsonw_raw(w, u, sizeof u);
			}
			i++;
		} else if ((n = utf8_len(p + i, len - i)) > 0) {
			ims_jsonw_raw(w, s + i, n);
			i += n;
		} else {
			ims_jsonw_raw(w, "\xEF\xBF\xBD", 3); /* U+FFFD */
			i++;
		}
	}
	ims_jsonw_raw(w, "\"", 1);
}

char *ims_jsonw_take(struct ims_jsonw *w, size_t *len)
{
	char *b = w->failed ? NULL : w->buf;

	if (b)
		b[w->len] = '\0'; /* grow() always leaves room for it */
	*len = b ? w->len : 0;
	if (!b)
		free(w->buf);
	memset(w, 0, sizeof *w);
	return b;
}

void ims_jsonw_free(struct ims_jsonw *w)
{
	free(w->buf);
	memset(w, 0, sizeof *w);
}

void ims_jsonw_str(FILE *f, const char *s, size_t len)
{
	struct ims_jsonw w = {0};

	ims_jsonw_string(&w, s, len);
	if (!w.failed)
		fwrite(w.buf, 1, w.len, f);
	ims_jsonw_free(&w);
}
