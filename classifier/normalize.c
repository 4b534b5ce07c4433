/* Unicode normalisation before tokenising: see normalize.h. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "normalize.h"

/* Cyrillic and Greek letters that look like a Latin letter in common
 * fonts (after Unicode's confusables.txt, the letters seen in spam), sorted
 * by code point. */
static const struct {
	unsigned short from;
	char to;
} confusables[] = {
    {0x0391, 'A'}, {0x0392, 'B'}, {0x0395, 'E'}, {0x0396, 'Z'}, {0x0397, 'H'}, {0x0399, 'I'},
    {0x039A, 'K'}, {0x039C, 'M'}, {0x039D, 'N'}, {0x039F, 'O'}, {0x03A1, 'P'}, {0x03A4, 'T'},
    {0x03A5, 'Y'}, {0x03A7, 'X'}, {0x03B1, 'a'}, {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'},
    {0x03BF, 'o'}, {0x03C1, 'p'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x0405, 'S'}, {0x0406, 'I'},
    {0x0408, 'J'}, {0x0410, 'A'}, {0x0412, 'B'}, {0x0415, 'E'}, {0x041A, 'K'}, {0x041C, 'M'},
    {0x041D, 'H'}, {0x041E, 'O'}, {0x0420, 'P'}, {0x0421, 'C'}, {0x0422, 'T'}, {0x0423, 'Y'},
    {0x0425, 'X'}, {0x0430, 'a'}, {0x0435, 'e'}, {0x043A, 'k'}, {0x043E, 'o'}, {0x0440, 'p'},
    {0x0441, 'c'}, {0x0443, 'y'}, {0x0445, 'x'}, {0x0455, 's'}, {0x0456, 'i'}, {0x0458, 'j'},
    {0x04BB, 'h'}, {0x0501, 'd'}, {0x051B, 'q'}, {0x051D, 'w'},
};

unsigned ims_confusable_latin(unsigned ch)
{
	size_t lo = 0, hi = sizeof confusables / sizeof confusables[0];

	if (ch < 0x0391 || ch > 0x051D)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (confusables[mid].from == ch)
			return (unsigned char)confusables[mid].to;
		if (confusables[mid].from < ch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int invisible(gunichar c)
{
	return c == 0x00AD || c == 0x034F || c == 0x180E || (c >= 0x200B && c <= 0x200F) ||
	       (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF;
}

static int ascii_only(const char *s, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		guint64 w;

		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ULL)
			return 0;
	}
	for (; i < n; i++)
		if ((unsigned char)s[i] & 0x80)
			return 0;
	return 1;
}

static int is_latin(gunichar c)
{
	return c < 0x80 ? g_ascii_isalpha((char)c)
	                : g_unichar_get_script(c) == G_UNICODE_SCRIPT_LATIN;
}

/* Maps the look-alikes in words that are otherwise Latin, in place (the
 * mapped letter is shorter than the one it replaces).  Returns the new
 * length. */
static size_t map_confusables(char *s, size_t n)
{
	const char *r = s, *end = s + n;
	char *w = s;

	while (r < end) {
		gunichar c = g_utf8_get_char(r);

		if (!g_unichar_isalnum(c) && !ims_confusable_latin(c)) {
			const char *nx = g_utf8_next_char(r);

			memmove(w, r, (size_t)(nx - r));
			w += nx - r;
			r = nx;
			continue;
		}
		/* a word: decide, then copy it (mapped or not) */
		const char *ws = r, *we = r;
		int latin = 0, other = 0, look = 0;

		while (we < end) {
			gunichar d = g_utf8_get_char(we);

			if (ims_confusable_latin(d))
				look = 1;
			else if (is_latin(d))
				latin = 1;
			else if (g_unichar_isalpha(d))
				other = 1;
			else if (!g_unichar_isalnum(d))
				break;
			we = g_utf8_next_char(we);
		}
		for (const char *q = ws; q < we;) {
			gunichar d = g_utf8_get_char(q);
			const char *nx = g_utf8_next_char(q);
			unsigned to = latin && look && !other ? ims_confusable_latin(d) : 0;

			if (to) {
				*w++ = (char)to;
			} else {
				memmove(w, q, (size_t)(nx - q));
				w += nx - q;
			}
			q = nx;
		}
		r = we;
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* A run of non-ASCII characters that NFKC leaves as it is whatever
 * surrounds it: the letters U+00C0..U+00FF (composed, no compatibility
 * mapping) and nothing else. */
static int latin1_letters(const char *s, size_t n)
{
	if (n == 0 || n % 2)
		return 0;
	for (size_t i = 0; i < n; i += 2)
		if ((unsigned char)s[i] != 0xC3)
			return 0;
	return 1;
}

/* Appends the normal form of one run of non-ASCII text (with the ASCII
 * character before it, which a combining mark may join) to out. */
static void normalize_run(const char *r, size_t n, GString *out)
{
	char buf[256], *seg = n < sizeof buf ? buf : g_malloc(n + 1);
	size_t sl = 0;

	for (const char *q = r, *end = r + n; q < end;) {
		const char *nx = g_utf8_next_char(q);

		if ((unsigned char)*q < 0x80 || !invisible(g_utf8_get_char(q))) {
			memcpy(seg + sl, q, (size_t)(nx - q));
			sl += (size_t)(nx - q);
		}
		q = nx;
	}
	seg[sl] = '\0';
	if (sl == 2 && (unsigned char)seg[0] == 0xC2 && (unsigned char)seg[1] == 0xA0) {
		g_string_append_c(out, ' '); /* no-break space, the commonest */
	} else if (latin1_letters(seg + (sl && (unsigned char)seg[0] < 0x80),
	                          sl - (sl && (unsigned char)seg[0] < 0x80))) {
		g_string_append_len(out, seg, (gssize)sl);
	} else {
		char *nf = g_utf8_normalize(seg, (gssize)sl, G_NORMALIZE_NFKC);

		if (nf)
			g_string_append(out, nf);
		else
			g_string_append_len(out, seg, (gssize)sl);
		g_free(nf);
	}
	if (seg != buf)
		g_free(seg);
}

char *ims_text_normalize(const char *s, size_t n, size_t *outn)
{
	char *valid = NULL;
	GString *out;
	size_t i = 0, copied = 0;
	int cyrgreek = 0;

	if (ascii_only(s, n))
		return NULL;
	if (!g_utf8_validate(s, (gssize)n, NULL)) {
		valid = g_utf8_make_valid(s, (gssize)n);
		s = valid;
		n = strlen(valid);
	}
	out = g_string_sized_new(n + 16);
	/* NFKC run by run: an ASCII character never combines with the one
	 * before it, so the text splits into ASCII stretches (already normal)
	 * and runs of other characters with the ASCII character before each. */
	while (i < n) {
		if (!((unsigned char)s[i] & 0x80)) {
			i++;
			continue;
		}
		size_t st = i > copied ? i - 1 : i; /* the ASCII character before */
		size_t en = i;

		while (en < n && ((unsigned char)s[en] & 0x80)) {
			unsigned char b = (unsigned char)s[en];

			cyrgreek |= b >= 0xCD && b <= 0xD4;
			en++;
		}
		g_string_append_len(out, s + copied, (gssize)(st - copied));
		normalize_run(s + st, en - st, out);
		copied = i = en;
	}
	g_string_append_len(out, s + copied, (gssize)(n - copied));
	g_free(valid);
	/* look-alike letters in Latin words */
	if (cyrgreek)
		out->len = map_confusables(out->str, out->len);
	*outn = out->len;
	return g_string_free(out, FALSE);
}
