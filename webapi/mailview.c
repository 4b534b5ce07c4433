#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "html_sanitize.h"
#include "mailview.h"
#include "mimeparse.h"

static json_t *utf8_json(const char *s, gssize len);

/* What 8-bit text without a charset (or not in the one it declares) is
 * read as: UTF-8 when it is valid UTF-8, else Windows-1252 (a superset of
 * ISO-8859-1's printable range, what such mail nearly always is).  GMime
 * picks, per text, the one of these that converts with the fewest errors
 * (g_mime_utils_decode_8bit); headers get the same through the parser. */
static const char *const fallback_charsets[] = {"utf-8", "windows-1252", NULL};

struct walk {
	GMimeParserOptions *opts;
	GString *text;
	GString *html;
	json_t *attachments;
	int parts;
	int truncated;
	unsigned flags;    /* IMS_HTML_* for the sanitiser */
	size_t images;     /* http/https images met in the HTML */
	long want;         /* ims_mailview_attachment: the index wanted, else -1 */
	GByteArray *found; /* its content */
};

/* Decoded, UTF-8 content of a part, at most max bytes (plus one, so the
 * caller can tell it was cut): converted from its declared charset by
 * GMime's charset filter; text that is still not UTF-8 (no charset, a
 * wrong one, or one iconv does not know) by GMime's 8-bit decoder with opts'
 * fallback charsets.  The caller frees it (g_byte_array_free). */
static GByteArray *part_bytes(GMimePart *part, size_t max, int to_utf8, GMimeParserOptions *opts)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *mem, *filtered;
	GByteArray *bytes = g_byte_array_new();
	const char *charset =
	    g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");

	if (!dw)
		return bytes;
	mem = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	filtered = g_mime_stream_filter_new(mem);
	if (to_utf8 && charset && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		GMimeFilter *f = g_mime_filter_charset_new(charset, "UTF-8");

		if (f) {
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
			g_object_unref(f);
		}
	}
	g_mime_data_wrapper_write_to_stream(dw, filtered);
	g_mime_stream_flush(filtered);
	g_object_unref(filtered);
	g_object_unref(mem);
	if (to_utf8 && !g_utf8_validate((const char *)bytes->data, (gssize)bytes->len, NULL)) {
		char *u = g_mime_utils_decode_8bit(opts, (const char *)bytes->data, bytes->len);

		if (u) {
			g_byte_array_set_size(bytes, 0);
			g_byte_array_append(bytes, (const guint8 *)u, (guint)strlen(u));
			g_free(u);
		}
	}
	if (bytes->len > max + 1)
		g_byte_array_set_size(bytes, (guint)(max + 1));
	return bytes;
}

static void append_capped(struct walk *w, GString *s, const guint8 *p, size_t n)
{
	size_t room = IMS_MAILVIEW_BODY_MAX -
	              (s->len < IMS_MAILVIEW_BODY_MAX ? s->len : IMS_MAILVIEW_BODY_MAX);

	if (n > room) {
		n = room;
		w->truncated = 1;
		/* do not cut a UTF-8 sequence in half: p[n] is the first byte left out */
		while (n > 0 && (p[n] & 0xC0) == 0x80)
			n--;
	}
	g_string_append_len(s, (const char *)p, (gssize)n);
}

static void on_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct walk *w = data;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *disp = g_mime_object_get_disposition(obj);
	char *type =
	    ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("application/octet-stream");

	(void)parent;
	if (++w->parts > IMS_MAILVIEW_PARTS_MAX) {
		w->truncated = 1;
		goto out;
	}
	if (GMIME_IS_MULTIPART(obj))
		goto out;
	if (GMIME_IS_PART(obj)) {
		GMimePart *part = GMIME_PART(obj);
		const char *fn = g_mime_part_get_filename(part);
		int is_att = (disp && g_ascii_strcasecmp(disp, "attachment") == 0) || fn;

		if (!is_att && w->want >= 0 &&
		    (g_mime_content_type_is_type(ct, "text", "plain") ||
		     g_mime_content_type_is_type(ct, "text", "html")))
			goto out; /* only the attachments are wanted */
		if (!is_att && g_mime_content_type_is_type(ct, "text", "plain")) {
			GByteArray *b = part_bytes(part, IMS_MAILVIEW_BODY_MAX, 1, w->opts);

			if (w->text->len)
				g_string_append(w->text, "\n");
			append_capped(w, w->text, b->data, b->len);
			g_byte_array_free(b, TRUE);
			goto out;
		}
		if (!is_att && g_mime_content_type_is_type(ct, "text", "html")) {
			GByteArray *b = part_bytes(part, IMS_MAILVIEW_BODY_MAX * 4, 1, w->opts);
			char *clean = NULL;
			size_t clen = 0, images = 0;

			if (ims_html_sanitize_ex((const char *)b->data, b->len,
			                         IMS_MAILVIEW_BODY_MAX, w->flags, &clean, &clen,
			                         &images) == IMS_OK) {
				w->images += images;
				append_capped(w, w->html, (const guint8 *)clean, clen);
				free(clean);
			}
			g_byte_array_free(b, TRUE);
			goto out;
		}
		{
			GByteArray *b = part_bytes(part, (size_t)64 * 1024 * 1024, 0, w->opts);

			json_array_append_new(w->attachments,
			                      json_pack("{s:o, s:o, s:I}", "filename",
			                                utf8_json(fn, -1), "content_type",
			                                utf8_json(type, -1), "size",
			                                (json_int_t)b->len));
			if (w->want >= 0 && !w->found &&
			    json_array_size(w->attachments) == (size_t)w->want + 1) {
				w->found = b;
				b = NULL;
			}
			if (b)
				g_byte_array_free(b, TRUE);
		}
		goto out;
	}
	if (GMIME_IS_MESSAGE_PART(obj))
		json_array_append_new(w->attachments,
		                      json_pack("{s:n, s:o, s:n}", "filename", "content_type",
		                                utf8_json(type, -1), "size"));
out:
	g_free(type);
}

static json_t *addr_list(GMimeMessage *m, GMimeAddressType t)
{
	InternetAddressList *l = g_mime_message_get_addresses(m, t);
	char *s = l && internet_address_list_length(l)
	              ? internet_address_list_to_string(l, NULL, FALSE)
	              : NULL;
	json_t *j = utf8_json(s, -1);

	g_free(s);
	return j;
}

/* A JSON string of s (len bytes, -1: NUL-terminated), invalid UTF-8
 * replaced with U+FFFD; null for NULL. */
static json_t *utf8_json(const char *s, gssize len)
{
	char *valid;
	json_t *j;

	if (!s)
		return json_null();
	valid = g_utf8_make_valid(s, len);
	j = json_string(valid);
	g_free(valid);
	return j ? j : json_null();
}

static json_t *str_or_null(const char *s)
{
	return utf8_json(s, -1);
}

ims_status ims_mailview_parse(const char *raw, size_t len, json_t **out)
{
	return ims_mailview_parse_ex(raw, len, 0, out);
}

ims_status ims_mailview_parse_ex(const char *raw, size_t len, unsigned flags, json_t **out)
{
	GMimeMessage *msg = NULL;
	bool limited = false;
	struct walk w = {0};
	json_t *j = NULL, *headers = NULL;
	GMimeHeaderList *hl;
	GDateTime *date;
	ims_status rc = IMS_EFORMAT;

	*out = NULL;
	w.want = -1;
	w.flags = flags;
	w.opts = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(w.opts, (const char **)fallback_charsets);
	msg = ims_mime_parse(raw, len, w.opts, &limited);
	if (!msg) {
		/* not a message at all: show the bytes as text */
		size_t n = len > IMS_MAILVIEW_BODY_MAX ? IMS_MAILVIEW_BODY_MAX : len;
		char *u = g_utf8_validate(raw, (gssize)n, NULL)
		              ? NULL
		              : g_mime_utils_decode_8bit(w.opts, raw, n);

		j = json_pack("{s:[], s:n, s:n, s:n, s:n, s:n, s:n, s:o, s:n, s:[], s:b, s:b}",
		              "headers", "from", "to", "cc", "subject", "message_id", "date",
		              "text", u ? utf8_json(u, -1) : utf8_json(raw, (gssize)n), "html",
		              "attachments", "truncated", n < len, "unparsed", 1);
		g_free(u);
		rc = j ? IMS_OK : IMS_ENOMEM;
		*out = j;
		j = NULL;
		goto out;
	}
	rc = IMS_ENOMEM;
	j = json_object();
	headers = json_array();
	w.attachments = json_array();
	w.text = g_string_new(NULL);
	w.html = g_string_new(NULL);
	if (!j || !headers || !w.attachments)
		goto out;
	hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	for (int i = 0, n = g_mime_header_list_get_count(hl); i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		char *v;

		if (i >= IMS_MAILVIEW_HEADERS_MAX) {
			w.truncated = 1;
			break;
		}
		v = g_mime_utils_header_decode_text(w.opts, g_mime_header_get_value(h));
		json_array_append_new(headers, json_pack("{s:o, s:o}", "name",
		                                         str_or_null(g_mime_header_get_name(h)),
		                                         "value", str_or_null(v)));
		g_free(v);
	}
	g_mime_message_foreach(msg, on_part, &w);
	json_object_set_new(j, "headers", headers);
	headers = NULL;
	json_object_set_new(j, "from", addr_list(msg, GMIME_ADDRESS_TYPE_FROM));
	json_object_set_new(j, "to", addr_list(msg, GMIME_ADDRESS_TYPE_TO));
	json_object_set_new(j, "cc", addr_list(msg, GMIME_ADDRESS_TYPE_CC));
	json_object_set_new(j, "subject", str_or_null(g_mime_message_get_subject(msg)));
	json_object_set_new(j, "message_id", str_or_null(g_mime_message_get_message_id(msg)));
	date = g_mime_message_get_date(msg);
	if (date) {
		char *iso = g_date_time_format_iso8601(date);

		json_object_set_new(j, "date", str_or_null(iso));
		g_free(iso);
	} else {
		json_object_set_new(j, "date", json_null());
	}
	json_object_set_new(j, "text", utf8_json(w.text->str, (gssize)w.text->len));
	json_object_set_new(
	    j, "html", w.html->len ? utf8_json(w.html->str, (gssize)w.html->len) : json_null());
	json_object_set_new(j, "attachments", w.attachments);
	w.attachments = NULL;
	json_object_set_new(j, "remote_images", json_integer((json_int_t)w.images));
	json_object_set_new(j, "truncated", json_boolean(w.truncated || limited));
	if (limited) /* the body's structure was not parsed (mimeparse.h) */
		json_object_set_new(j, "mime_limit", json_true());
	*out = j;
	j = NULL;
	rc = IMS_OK;
out:
	json_decref(j);
	json_decref(headers);
	json_decref(w.attachments);
	if (w.text)
		g_string_free(w.text, TRUE);
	if (w.html)
		g_string_free(w.html, TRUE);
	if (msg)
		g_object_unref(msg);
	g_mime_parser_options_free(w.opts);
	return rc;
}

ims_status ims_mailview_attachment(const char *raw, size_t len, size_t index, char **data,
                                   size_t *dlen)
{
	struct walk w = {0};
	bool limited = false;
	GMimeMessage *msg;
	ims_status rc = IMS_ENOTFOUND;

	*data = NULL;
	*dlen = 0;
	if (index >= IMS_MAILVIEW_PARTS_MAX)
		return rc;
	w.opts = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(w.opts, (const char **)fallback_charsets);
	if (!(msg = ims_mime_parse(raw, len, w.opts, &limited))) {
		g_mime_parser_options_free(w.opts);
		return rc;
	}
	w.want = (long)index;
	w.attachments = json_array();
	if (!w.attachments) {
		rc = IMS_ENOMEM;
		goto out;
	}
	g_mime_message_foreach(msg, on_part, &w);
	if (w.found) {
		rc = IMS_ENOMEM;
		if ((*data = malloc(w.found->len ? w.found->len : 1))) {
			if (w.found->len) /* an empty GByteArray's data is NULL */
				memcpy(*data, w.found->data, w.found->len);
			*dlen = w.found->len;
			rc = IMS_OK;
		}
		g_byte_array_free(w.found, TRUE);
	}
out:
	json_decref(w.attachments);
	g_object_unref(msg);
	g_mime_parser_options_free(w.opts);
	return rc;
}
