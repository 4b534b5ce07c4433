/* HTML to text: see html.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "html.h"

struct entity {
	const char *name;
	unsigned long cp;
};

/* The named references seen in mail; anything else is kept as written. */
static const struct entity entities[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},      {"quot", '"'},     {"apos", '\''},
    {"nbsp", ' '},      {"copy", 0xA9},    {"reg", 0xAE},    {"trade", 0x2122}, {"euro", 0x20AC},
    {"pound", 0xA3},    {"yen", 0xA5},     {"cent", 0xA2},   {"mdash", 0x2014}, {"ndash", 0x2013},
    {"hellip", 0x2026}, {"laquo", 0xAB},   {"raquo", 0xBB},  {"lsquo", 0x2018}, {"rsquo", 0x2019},
    {"ldquo", 0x201C},  {"rdquo", 0x201D}, {"bull", 0x2022}, {"middot", 0xB7},  {"eacute", 0xE9},
    {"egrave", 0xE8},   {"agrave", 0xE0},  {"auml", 0xE4},   {"ouml", 0xF6},    {"uuml", 0xFC},
    {"szlig", 0xDF},    {"ccedil", 0xE7},  {"shy", 0xAD},    {"zwnj", 0x200C},  {"zwj", 0x200D},
};

/* Tags after which the text continues on a new line. */
static const char *const block_tags[] = {
    "br",    "p",  "div", "tr", "li",         "h1", "h2", "h3",     "h4",   "h5",   "h6", "table",
    "title", "hr", "ul",  "ol", "blockquote", "td", "th", "center", "form", "body", NULL};

void ims_html_append_utf8(GString *out, unsigned long cp)
{
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	g_string_append_unichar(out, (gunichar)cp);
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Case-insensitive search for needle (lower case) in s[0..len). */
static const char *find_ci(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++) {
		size_t j = 0;

		while (j < n && lower((unsigned char)s[i + j]) == needle[j])
			j++;
		if (j == n)
			return s + i;
	}
	return NULL;
}

/* Decodes the reference at s[0] == '&'; appends it to out and returns the
 * bytes consumed (1 when it is no reference: the '&' is kept). */
static size_t decode_entity(const char *s, size_t len, GString *out)
{
	size_t i = 1;

	if (len > 2 && s[1] == '#') {
		unsigned long cp = 0;
		int hex = (s[2] == 'x' || s[2] == 'X');
		size_t digits = 0;

		for (i = hex ? 3 : 2; i < len && digits < 8; i++, digits++) {
			int c = (unsigned char)s[i];

			if (c >= '0' && c <= '9')
				cp = cp * (hex ? 16 : 10) + (unsigned long)(c - '0');
			else if (hex && lower(c) >= 'a' && lower(c) <= 'f')
				cp = cp * 16 + (unsigned long)(lower(c) - 'a' + 10);
			else
				break;
		}
		if (digits == 0)
			goto literal;
		if (i < len && s[i] == ';')
			i++;
		ims_html_append_utf8(out, cp);
		return i;
	}
	{
		char name[16];
		size_t n = 0;

		while (i < len && n < sizeof name - 1 && is_alnum((unsigned char)s[i]))
			name[n++] = s[i++];
		name[n] = '\0';
		for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++) {
			if (strcmp(entities[k].name, name) == 0) {
				if (i < len && s[i] == ';')
					i++;
				ims_html_append_utf8(out, entities[k].cp);
				return i;
			}
		}
	}
literal:
	g_string_append_c(out, '&');
	return 1;
}

/* Finds attribute attr (lower case) in the tag body [s, s+len) and
 * appends its entity-decoded value to val.  Returns 1 when found. */
static int tag_attr(const char *s, size_t len, const char *attr, GString *val, int keep_spaces)
{
	size_t an = strlen(attr);
	size_t i = 0;

	while (i < len) {
		/* at an attribute name? */
		if (i + an < len && (i == 0 || is_space((unsigned char)s[i - 1])) &&
		    find_ci(s + i, an, attr) == s + i) {
			size_t j = i + an;

			while (j < len && is_space((unsigned char)s[j]))
				j++;
			if (j < len && s[j] == '=') {
				char q = 0;
				size_t end;

				j++;
				while (j < len && is_space((unsigned char)s[j]))
					j++;
				if (j < len && (s[j] == '"' || s[j] == '\''))
					q = s[j++];
				for (end = j; end < len; end++) {
					if (q ? s[end] == q
					      : (is_space((unsigned char)s[end]) || s[end] == '>'))
						break;
				}
				for (size_t k = j; k < end;) {
					if (s[k] == '&')
						k += decode_entity(s + k, end - k, val);
					else if (keep_spaces || !is_space((unsigned char)s[k]))
						g_string_append_c(val, s[k++]);
					else
						k++; /* "http://ex ample.com" is one URL */
				}
				return 1;
			}
		}
		i++;
	}
	return 0;
}

struct anchor {
	int open;
	GString *href;
	size_t text_start; /* offset in out where the anchor text begins */
};

static void close_anchor(struct anchor *a, GString *out, ims_html_link_fn link, void *ctx,
                         struct ims_html_stats *st)
{
	if (!a->open)
		return;
	a->open = 0;
	if (st)
		st->links++;
	if (link) {
		size_t start = a->text_start <= out->len ? a->text_start : out->len;
		size_t n = out->len - start;
		char buf[IMS_HTML_MAX_ANCHOR + 1];
		const char *t = out->str + start;

		while (n > 0 && is_space((unsigned char)*t)) {
			t++;
			n--;
		}
		while (n > 0 && is_space((unsigned char)t[n - 1]))
			n--;
		if (n > IMS_HTML_MAX_ANCHOR)
			n = IMS_HTML_MAX_ANCHOR;
		memcpy(buf, t, n);
		buf[n] = '\0';
		link(ctx, a->href->str, buf);
	}
}

static void append_space(GString *out, char c)
{
	if (out->len == 0)
		return;
	char last = out->str[out->len - 1];

	if (c == '\n') {
		if (last == ' ')
			out->str[out->len - 1] = '\n';
		else if (last != '\n')
			g_string_append_c(out, '\n');
	} else if (last != ' ' && last != '\n') {
		g_string_append_c(out, ' ');
	}
}

void ims_html_to_text(const char *html, size_t len, GString *out, size_t max_out,
                      ims_html_link_fn link, void *ctx, struct ims_html_stats *st)
{
	struct anchor a = {0, g_string_new(NULL), 0};
	size_t i = 0;

	while (i < len && out->len < max_out) {
		unsigned char c = (unsigned char)html[i];

		if (c == '&') {
			i += decode_entity(html + i, len - i, out);
			continue;
		}
		if (is_space(c)) {
			append_space(out, ' ');
			i++;
			continue;
		}
		if (c != '<') {
			g_string_append_c(out, (char)c);
			i++;
			continue;
		}
		/* a comment */
		if (len - i >= 4 && memcmp(html + i, "<!--", 4) == 0) {
			const char *e = find_ci(html + i + 4, len - i - 4, "-->");

			i = e ? (size_t)(e - html) + 3 : len;
			continue;
		}
		/* a tag: find its end within the limit */
		size_t lim = len - i < IMS_HTML_MAX_TAG ? len - i : IMS_HTML_MAX_TAG;
		const char *gt = memchr(html + i, '>', lim);

		if (!gt) {
			if (lim < IMS_HTML_MAX_TAG)
				break; /* truncated tag at the end */
			i += lim;      /* absurdly long tag: skip it */
			continue;
		}
		const char *body = html + i + 1;
		size_t blen = (size_t)(gt - body);
		int closing = blen > 0 && body[0] == '/';
		char name[12];
		size_t n = 0, k = closing ? 1 : 0;

		while (k < blen && n < sizeof name - 1 && is_alnum((unsigned char)body[k]))
			name[n++] = (char)lower((unsigned char)body[k++]);
		name[n] = '\0';
		i = (size_t)(gt - html) + 1;
		if (n == 0) {
			if (!closing && blen > 0 && body[0] != '!' && body[0] != '?') {
				/* "<" followed by no name: it was text ("a < b") */
				g_string_append_c(out, '<');
				i = (size_t)(body - html);
			}
			continue;
		}
		if (st)
			st->tags++;
		if (!closing && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0)) {
			char endtag[16];

			snprintf(endtag, sizeof endtag, "</%s", name);
			const char *e = find_ci(html + i, len - i, endtag);

			if (!e) {
				i = len;
				continue;
			}
			const char *g2 = memchr(e, '>', (size_t)(html + len - e));

			i = g2 ? (size_t)(g2 - html) + 1 : len;
			continue;
		}
		if (strcmp(name, "a") == 0) {
			close_anchor(&a, out, link, ctx, st);
			if (!closing) {
				g_string_truncate(a.href, 0);
				if (tag_attr(body + k, blen - k, "href", a.href, 0)) {
					a.open = 1;
					a.text_start = out->len;
				}
			}
			append_space(out, ' ');
			continue;
		}
		if (strcmp(name, "img") == 0) {
			GString *alt = g_string_new(NULL);

			if (st)
				st->images++;
			if (tag_attr(body + k, blen - k, "alt", alt, 1) && alt->len) {
				append_space(out, ' ');
				g_string_append_len(out, alt->str, (gssize)alt->len);
			}
			g_string_free(alt, TRUE);
			append_space(out, ' ');
			continue;
		}
		for (const char *const *b = block_tags; *b; b++) {
			if (name[0] == (*b)[0] && strcmp(name, *b) == 0) {
				append_space(out, '\n');
				goto next;
			}
		}
		/* inline tags (font, b, span...) separate nothing: "f<b>r</b>ee" is "free" */
	next:;
	}
	close_anchor(&a, out, link, ctx, st);
	if (out->len > max_out)
		g_string_truncate(out, max_out);
	g_string_free(a.href, TRUE);
}
