/* MIME to text with GMime 3: see message.h. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "urls.h"
#include "message.h"
#include "mimeparse.h"

/* Encoded bytes of one text part that are decoded at most: enough for
 * IMS_MIME_MAX_TEXT of text after base64 and HTML overhead. */
#define MAX_ENCODED_TEXT_PART (4 * IMS_MIME_MAX_TEXT)

struct ims_parsed {
	GMimeMessage *msg;
	GString *text;
	char *subject;
	GArray *links;               /* struct ims_link, strings g_malloc'ed */
	GPtrArray *html_src;         /* UTF-8 source of each text/html part, g_malloc'ed */
	GArray *attachments;         /* struct ims_attachment, strings g_malloc'ed */
	GPtrArray *attachment_parts; /* GMimePart of each attachment, owned by msg's tree */
	int malformed;
	bool mime_limit; /* over IMS_MIME_MAX_BOUNDARY_WORK: headers only */
	size_t parts, plain, html;
	size_t ninner; /* attached messages, owned by msg's tree */
	GMimeMessage *inner[IMS_MIME_MAX_INNER];
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_init_once(void)
{
	g_mime_init();
}

static void on_parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
                              gpointer user_data)
{
	struct ims_parsed *p = user_data;

	switch (code) {
	case GMIME_WARN_MALFORMED_MULTIPART:
	case GMIME_WARN_TRUNCATED_MESSAGE:
	case GMIME_WARN_MALFORMED_MESSAGE:
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
	case GMIME_CRIT_NESTING_OVERFLOW:
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: p->malformed = 1; break;
	default: break;
	}
}

static void append_link(struct ims_parsed *p, const char *href, size_t len, const char *text,
                        int html)
{
	struct ims_link l;

	if (p->links->len >= IMS_MIME_MAX_LINKS)
		return;
	l.href = g_strndup(href, len);
	l.text = g_strdup(text);
	l.html = html;
	g_array_append_val(p->links, l);
}

/* a link of an HTML part, from the stripper */
static void add_link(void *ctx, const char *href, const char *text)
{
	append_link(ctx, href, strlen(href), text, 1);
}

/* a URL of a plain-text part (lib/urls.h) */
static int add_text_url(void *ctx, const struct ims_url_ref *r)
{
	struct ims_parsed *p = ctx;

	append_link(p, r->url, r->len, "", 0);
	return p->links->len >= IMS_MIME_MAX_LINKS;
}

#define MAX_PINNED_CHARSETS 32

static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char name[40];
	iconv_t cd; /* kept open, never used: it holds the gconv module */
} pinned[MAX_PINNED_CHARSETS];
static size_t npinned;

/* Keeps the gconv module of charset loaded for the life of the process.
 * glibc unloads a module when its last descriptor is closed, and GMime's
 * iconv cache closes them, so the next message in Windows-1252 or Latin-1
 * paid a dlopen (file, mmap, relocations) again: ~40 loads on the test
 * part, about 5 % of the wall-clock time.  One descriptor per charset, at
 * most MAX_PINNED_CHARSETS. */
static void pin_charset(const char *charset)
{
	size_t i;

	pthread_mutex_lock(&pin_lock);
	for (i = 0; i < npinned; i++)
		if (g_ascii_strcasecmp(pinned[i].name, charset) == 0)
			break;
	if (i == npinned && npinned < MAX_PINNED_CHARSETS &&
	    strlen(charset) < sizeof pinned[0].name) {
		iconv_t cd = iconv_open("UTF-8", g_mime_charset_iconv_name(charset));

		if (cd != (iconv_t)-1) {
			g_strlcpy(pinned[npinned].name, charset, sizeof pinned[0].name);
			pinned[npinned++].cd = cd;
		}
	}
	pthread_mutex_unlock(&pin_lock);
}

/* Converts n bytes from charset to UTF-8 with GMime's iconv cache (iconv_open
 * loads and unloads a gconv module each time otherwise); NULL when the
 * charset is unknown or the result is not valid UTF-8.  Caller g_free()s. */
static char *convert(const char *buf, size_t n, const char *charset)
{
	iconv_t cd = g_mime_iconv_open("UTF-8", charset);
	char *res;

	if (cd == (iconv_t)-1)
		return NULL;
	pin_charset(charset);
	res = g_mime_iconv_strndup(cd, buf, n);
	g_mime_iconv_close(cd);
	if (res && !g_utf8_validate(res, -1, NULL)) {
		g_free(res);
		res = NULL;
	}
	return res;
}

/* Whether n bytes are all ASCII (then they are valid UTF-8 as they are). */
static int is_ascii(const char *s, size_t n)
{
	uint64_t acc = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)s[i];
	return (acc & 0x8080808080808080ULL) == 0;
}

/* Charsets in which every ASCII byte stands for itself, so that ASCII text
 * converts to the same bytes: what to_utf8() would return anyway (NULL:
 * undeclared, read as UTF-8 or Windows-1252).  Not UTF-7, UTF-16,
 * ISO-2022-*, EBCDIC, HZ...: they are converted. */
static int ascii_superset(const char *charset)
{
	static const char *const prefixes[] = {
	    "utf-8",     "us-ascii",    "ascii", "iso-8859-", "iso8859-",
	    "iso_8859-", "windows-125", "cp125", "koi8-",     "latin",
	};

	if (!charset)
		return 1;
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (g_ascii_strncasecmp(charset, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

static int is_latin1(const char *charset)
{
	return g_ascii_strcasecmp(charset, "iso-8859-1") == 0 ||
	       g_ascii_strcasecmp(charset, "iso8859-1") == 0 ||
	       g_ascii_strcasecmp(charset, "iso_8859-1") == 0 ||
	       g_ascii_strcasecmp(charset, "latin1") == 0;
}

/* ISO-8859-1 is U+0000..U+00FF byte for byte, so this is what iconv gives
 * (a fifth of the time of g_mime_iconv_strndup); caller g_free()s. */
static char *latin1_to_utf8(const char *buf, size_t n)
{
	char *out = g_malloc(2 * n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c < 0x80) {
			*o++ = (char)c;
		} else {
			*o++ = (char)(0xC0 | (c >> 6));
			*o++ = (char)(0x80 | (c & 0x3F));
		}
	}
	*o = '\0';
	return out;
}

/* Turns n bytes in charset (may be NULL) into valid UTF-8; caller g_free()s. */
static char *to_utf8(const char *buf, size_t n, const char *charset)
{
	char *res;

	if (is_ascii(buf, n) && ascii_superset(charset))
		return g_strndup(buf, n); /* what iconv would give, without it */
	if (charset && is_latin1(charset))
		return latin1_to_utf8(buf, n);
	if (charset && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0 && (res = convert(buf, n, charset)))
		return res;
	if (g_utf8_validate(buf, (gssize)n, NULL))
		return g_strndup(buf, n);
	/* Undeclared or wrong charset: mail of this era is mostly Latin-1/CP1252. */
	if ((res = convert(buf, n, "WINDOWS-1252")) || (res = convert(buf, n, "ISO-8859-1")))
		return res;
	return g_utf8_make_valid(buf, (gssize)n);
}

/* Decodes the transfer encoding of at most MAX_ENCODED_TEXT_PART bytes of
 * the part's content; returns a g_malloc'ed buffer of *n bytes or NULL. */
static char *decode_part(struct ims_parsed *p, GMimePart *part, size_t *n)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *src;
	GMimeEncoding enc;
	char *in, *outbuf;
	gssize got;
	gint64 slen;
	size_t total = 0, cap;

	*n = 0;
	if (!content || !(src = g_mime_data_wrapper_get_stream(content)))
		return NULL;
	g_mime_stream_reset(src);
	slen = g_mime_stream_length(src);
	cap = slen >= 0 && (guint64)slen < MAX_ENCODED_TEXT_PART ? (size_t)slen + 1
	                                                         : MAX_ENCODED_TEXT_PART;
	in = g_malloc(cap);
	while (total < cap && (got = g_mime_stream_read(src, in + total, cap - total)) > 0)
		total += (size_t)got;
	if (total == MAX_ENCODED_TEXT_PART && !g_mime_stream_eos(src))
		p->malformed = 1; /* text part beyond the limit: cut */
	g_mime_stream_reset(src);
	g_mime_encoding_init_decode(&enc, g_mime_data_wrapper_get_encoding(content));
	outbuf = g_malloc(g_mime_encoding_outlen(&enc, total) + 1);
	*n = g_mime_encoding_step(&enc, in, total, outbuf);
	g_free(in);
	return outbuf;
}

/* Approximate decoded size of a part, without decoding it. */
static size_t part_size(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *s;
	gint64 len;

	if (!content || !(s = g_mime_data_wrapper_get_stream(content)))
		return 0;
	len = g_mime_stream_length(s);
	if (len < 0)
		return 0;
	if (g_mime_data_wrapper_get_encoding(content) == GMIME_CONTENT_ENCODING_BASE64)
		return (size_t)len / 4 * 3;
	return (size_t)len;
}

/* Appends n bytes of plain text in charset (NULL: unknown) to the body text. */
static void add_plain(struct ims_parsed *p, const char *buf, size_t n, const char *charset)
{
	char *utf8 = to_utf8(buf, n, charset);
	size_t room = IMS_MIME_MAX_TEXT > p->text->len ? IMS_MIME_MAX_TEXT - p->text->len : 0;
	size_t len = strlen(utf8);

	if (p->text->len)
		g_string_append(p->text, "\n\n");
	ims_urls_in_text(utf8, len, add_text_url, p);
	g_string_append_len(p->text, utf8, (gssize)(len < room ? len : room));
	if (p->text->len >= IMS_MIME_MAX_TEXT)
		p->malformed = 1;
	g_free(utf8);
}

static void add_text(struct ims_parsed *p, GMimePart *part, int is_html)
{
	size_t n;
	char *raw = decode_part(p, part, &n);
	const char *charset =
	    g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");

	if (!raw)
		return;
	if (is_html) {
		char *utf8 = to_utf8(raw, n, charset);

		if (p->text->len)
			g_string_append(p->text, "\n\n");
		ims_html_to_text(utf8, strlen(utf8), p->text, IMS_MIME_MAX_TEXT, add_link, p, NULL);
		if (p->text->len >= IMS_MIME_MAX_TEXT)
			p->malformed = 1;
		g_ptr_array_add(p->html_src, utf8); /* kept for the scan's links */
	} else {
		add_plain(p, raw, n, charset);
	}
	g_free(raw);
}

static void add_attachment(struct ims_parsed *p, GMimePart *part, GMimeContentType *ct)
{
	struct ims_attachment a;
	const char *fn = g_mime_part_get_filename(part);

	if (p->attachments->len >= IMS_MIME_MAX_ATTACHMENTS)
		return;
	a.filename = g_strdup(fn ? fn : "");
	if (ct) {
		char *mt = g_mime_content_type_get_mime_type(ct);

		a.content_type = g_ascii_strdown(mt, -1);
		g_free(mt);
	} else {
		a.content_type = g_strdup("application/octet-stream");
	}
	a.size = part_size(part);
	g_array_append_val(p->attachments, a);
	g_ptr_array_add(p->attachment_parts, part);
}

static void walk(struct ims_parsed *p, GMimeObject *obj, int depth)
{
	if (!obj)
		return;
	if (depth > IMS_MIME_MAX_DEPTH) {
		p->malformed = 1;
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner && p->ninner < IMS_MIME_MAX_INNER)
			p->inner[p->ninner++] = inner;
		if (inner)
			walk(p, g_mime_message_get_mime_part(inner), depth + 1);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int count = g_mime_multipart_get_count(mp);

		if (count <= 0) {
			/* no boundary, or one that never shows up: GMime keeps the
			 * body as the prologue; read it as plain text */
			const char *pro = g_mime_multipart_get_prologue(mp);

			p->malformed = 1;
			if (pro && *pro)
				add_plain(p, pro, strlen(pro), NULL);
			return;
		}
		for (int i = 0; i < count && p->parts <= IMS_MIME_MAX_PARTS; i++)
			walk(p, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	if (++p->parts > IMS_MIME_MAX_PARTS) {
		p->malformed = 1;
		return;
	}

	GMimePart *part = GMIME_PART(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *disp = g_mime_object_get_disposition(obj);
	int attached = disp && g_ascii_strcasecmp(disp, "attachment") == 0;
	int is_text = ct && g_mime_content_type_is_type(ct, "text", "plain");
	int is_html = ct && g_mime_content_type_is_type(ct, "text", "html");

	if (!ct)
		is_text = 1; /* RFC 2045: no Content-Type means text/plain */
	if ((is_text || is_html) && !attached) {
		if (is_html)
			p->html++;
		else
			p->plain++;
		add_text(p, part, is_html);
	} else {
		add_attachment(p, part, ct);
	}
}

/* Parses raw with GMime; with warn, GMime's parser warnings set p->malformed. */
static GMimeMessage *gmime_parse(const char *raw, size_t len, struct ims_parsed *p, int warn)
{
	GMimeParserOptions *opts = g_mime_parser_options_new();
	GMimeMessage *msg;

	if (warn)
		g_mime_parser_options_set_warning_callback(opts, on_parser_warning, p);
	msg = ims_mime_parse(raw, len, opts, &p->mime_limit);
	if (p->mime_limit)
		p->malformed = 1;
	g_mime_parser_options_free(opts);
	return msg;
}

/* Whether the tree under obj holds anything the parser warns about
 * (on_parser_warning): a multipart whose end boundary was not found
 * (truncated, or cut by a parent's boundary) or that has no parts (no
 * boundary, nesting overflow), a message/rfc822 part (its own headers and
 * nesting), a leaf typed message/... (an encoded or too deeply nested
 * message), or more depth or parts than we walk.  Errs on the side of yes. */
static int tree_may_warn(GMimeObject *obj, int depth, size_t *budget)
{
	if (!obj)
		return 0;
	if (depth > IMS_MIME_MAX_DEPTH || *budget == 0)
		return 1;
	--*budget;
	if (GMIME_IS_MESSAGE_PART(obj))
		return 1;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int count = g_mime_multipart_get_count(mp);

		if (count <= 0 || !mp->write_end_boundary)
			return 1;
		for (int i = 0; i < count; i++)
			if (tree_may_warn(g_mime_multipart_get_part(mp, i), depth + 1, budget))
				return 1;
		return 0;
	}
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct && g_mime_content_type_is_type(ct, "message", "*");
}

/* Whether a parse without the warning callback may have missed a warning:
 * besides the tree, headers that run to the end of the input (no empty
 * line, "\n\n" or "\n\r\n", anywhere) are truncated or broken. */
static int parse_may_warn(const char *raw, size_t len, GMimeMessage *msg)
{
	size_t budget = 2 * IMS_MIME_MAX_PARTS;
	const char *q = raw, *end = raw + len;
	int blank = 0;

	while (!blank && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		q++;
		blank = q < end && (*q == '\n' || (*q == '\r' && q + 1 < end && q[1] == '\n'));
	}
	if (!blank)
		return 1;
	return tree_may_warn(g_mime_message_get_mime_part(msg), 0, &budget);
}

ims_status ims_parse_message(const char *raw, size_t len, struct ims_parsed **out)
{
	struct ims_parsed *p;
	const char *subj;

	*out = NULL;
	if (len > IMS_MIME_MAX_MESSAGE)
		return IMS_ELIMIT;
	pthread_once(&gmime_once, gmime_init_once);

	p = calloc(1, sizeof *p);
	if (!p)
		return IMS_ENOMEM;
	p->text = g_string_sized_new(4096);
	p->links = g_array_new(FALSE, FALSE, sizeof(struct ims_link));
	p->html_src = g_ptr_array_new_with_free_func(g_free);
	p->attachments = g_array_new(FALSE, FALSE, sizeof(struct ims_attachment));
	p->attachment_parts = g_ptr_array_new();

	if (!raw)
		raw = "";
	/* With a warning callback set, GMime decodes (RFC 2047, charsets) and
	 * validates every header value while parsing, about a sixth of the
	 * whole classification time.  So parse without it first, and parse
	 * again with it only when the result shows something the parser may
	 * have warned about: the flags are the same, clean mail pays once. */
	p->msg = gmime_parse(raw, len, p, 0);
	if (p->msg && parse_may_warn(raw, len, p->msg)) {
		g_object_unref(p->msg);
		p->msg = gmime_parse(raw, len, p, 1);
	}
	if (!p->msg) {
		/* Not even a message: keep what looks like text, flag it. */
		char *t = to_utf8(raw, len < IMS_MIME_MAX_TEXT ? len : IMS_MIME_MAX_TEXT, NULL);

		p->malformed = 1;
		p->msg = g_mime_message_new(TRUE);
		g_string_append(p->text, t);
		g_free(t);
	} else {
		walk(p, g_mime_message_get_mime_part(p->msg), 0);
	}
	if (!is_ascii(p->text->str, p->text->len) &&
	    !g_utf8_validate(p->text->str, (gssize)p->text->len, NULL)) {
		/* a cut at the text limit may split a character */
		char *v = g_utf8_make_valid(p->text->str, (gssize)p->text->len);

		g_string_assign(p->text, v);
		g_free(v);
	}
	subj = g_mime_message_get_subject(p->msg);
	p->subject = to_utf8(subj ? subj : "", subj ? strlen(subj) : 0, NULL);

	*out = p;
	return IMS_OK;
}

void ims_parsed_free(struct ims_parsed *p)
{
	if (!p)
		return;
	for (guint i = 0; i < p->links->len; i++) {
		struct ims_link *l = &g_array_index(p->links, struct ims_link, i);

		g_free((char *)l->href);
		g_free((char *)l->text);
	}
	for (guint i = 0; i < p->attachments->len; i++) {
		struct ims_attachment *a = &g_array_index(p->attachments, struct ims_attachment, i);

		g_free((char *)a->filename);
		g_free((char *)a->content_type);
	}
	g_array_free(p->links, TRUE);
	g_ptr_array_free(p->html_src, TRUE);
	g_array_free(p->attachments, TRUE);
	g_ptr_array_free(p->attachment_parts, TRUE);
	g_string_free(p->text, TRUE);
	g_free(p->subject);
	if (p->msg)
		g_object_unref(p->msg);
	free(p);
}

const char *ims_parsed_text(const struct ims_parsed *p)
{
	return p->text->str;
}

const char *ims_parsed_subject(const struct ims_parsed *p)
{
	return p->subject;
}

size_t ims_parsed_links(const struct ims_parsed *p, const struct ims_link **out)
{
	*out = (const struct ims_link *)(const void *)p->links->data;
	return p->links->len;
}

size_t ims_parsed_html_sources(const struct ims_parsed *p, const char *const **out)
{
	*out = (const char *const *)p->html_src->pdata;
	return p->html_src->len;
}

size_t ims_parsed_attachments(const struct ims_parsed *p, const struct ims_attachment **out)
{
	*out = (const struct ims_attachment *)(const void *)p->attachments->data;
	return p->attachments->len;
}

ims_status ims_parsed_attachment_content(const struct ims_parsed *p, size_t i, size_t max,
                                         char **out, size_t *len, bool *cut)
{
	GMimePart *part;
	GMimeDataWrapper *content;
	GMimeStream *src;
	GMimeEncoding enc;
	char in[4096], *buf;
	size_t n = 0, size = 4096;

	*out = NULL, *len = 0, *cut = false;
	if (i >= p->attachment_parts->len)
		return IMS_ENOTFOUND;
	part = g_ptr_array_index(p->attachment_parts, i);
	content = g_mime_part_get_content(part);
	if (!(buf = malloc(size)))
		return IMS_ENOMEM;
	if (!content || !(src = g_mime_data_wrapper_get_stream(content)))
		goto done;
	g_mime_stream_reset(src);
	g_mime_encoding_init_decode(&enc, g_mime_data_wrapper_get_encoding(content));
	/* decode chunk by chunk, never more than max + one chunk */
	for (;;) {
		gssize got = g_mime_stream_read(src, in, sizeof in);
		size_t need;

		if (got <= 0)
			break;
		need = n + g_mime_encoding_outlen(&enc, (size_t)got);
		if (need > size) {
			char *nb;

			while (size < need)
				size *= 2;
			if (!(nb = realloc(buf, size))) {
				free(buf);
				g_mime_stream_reset(src);
				return IMS_ENOMEM;
			}
			buf = nb;
		}
		n += g_mime_encoding_step(&enc, in, (size_t)got, buf + n);
		if (n > max) {
			n = max;
			*cut = true;
			break;
		}
	}
	if (!*cut) {
		char tail[16];
		size_t t = g_mime_encoding_flush(&enc, "", 0, tail);

		if (n + t > max)
			*cut = true, t = max - n;
		if (n + t > size) {
			char *nb = realloc(buf, n + t);

			if (!nb) {
				free(buf);
				g_mime_stream_reset(src);
				return IMS_ENOMEM;
			}
			buf = nb;
		}
		memcpy(buf + n, tail, t);
		n += t;
	}
	g_mime_stream_reset(src);
done:
	*out = buf;
	*len = n;
	return IMS_OK;
}

int ims_parsed_mime_limit(const struct ims_parsed *p)
{
	return p->mime_limit;
}

int ims_parsed_malformed(const struct ims_parsed *p)
{
	return p->malformed;
}

size_t ims_parsed_part_count(const struct ims_parsed *p)
{
	return p->parts;
}

size_t ims_parsed_plain_parts(const struct ims_parsed *p)
{
	return p->plain;
}

size_t ims_parsed_html_parts(const struct ims_parsed *p)
{
	return p->html;
}

GMimeMessage *ims_parsed_gmime(const struct ims_parsed *p)
{
	return p->msg;
}

size_t ims_parsed_inner_messages(const struct ims_parsed *p, GMimeMessage *const **out)
{
	*out = p->inner;
	return p->ninner;
}
