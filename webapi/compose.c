#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>
#include <sodium.h>

#include "compose.h"

/* Up to 100 bytes of an address for an error reason, control bytes as
 * '?': the reason is one line whatever the client sent. */
static void quote_addr(char out[101], const char *s)
{
	size_t n = 0;

	for (; s && *s && n < 100; s++)
		out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	out[n] = '\0';
}

/* Adds the mailboxes of v (a string or an array of strings) to the header
 * list of type t (Bcc: to bcc, kept for the sender's copy only) and to the
 * envelope; 0 on success.  The parsed list l has
 * one owner and is released only at out:, after err is written, because the
 * error quotes the address it holds. */
static int add_addrs(GMimeMessage *m, GMimeAddressType t, InternetAddressList *bcc, json_t *v,
                     struct ims_composed *c, char *err, size_t errlen, const char *what)
{
	json_t *items = NULL;
	InternetAddressList *l = NULL;
	size_t i;
	json_t *x;
	int rc = -1;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		items = json_pack("[O]", v);
	} else if (json_is_array(v)) {
		items = json_incref(v);
	} else {
		snprintf(err, errlen, "%s must be a string or a list of strings", what);
		return -1;
	}
	json_array_foreach(items, i, x)
	{
		const char *s = json_string_value(x);

		if (!s || strlen(s) > 2048) {
			snprintf(err, errlen, "%s: each address must be a string", what);
			goto out;
		}
		l = internet_address_list_parse(NULL, s);
		if (!l || internet_address_list_length(l) == 0) {
			char q[101];

			quote_addr(q, s);
			snprintf(err, errlen, "%s: cannot parse '%s'", what, q);
			goto out;
		}
		for (int k = 0; k < internet_address_list_length(l); k++) {
			InternetAddress *a = internet_address_list_get_address(l, k);
			const char *addr;

			if (!INTERNET_ADDRESS_IS_MAILBOX(a)) {
				snprintf(err, errlen, "%s: groups are not supported", what);
				goto out;
			}
			addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
			if (!addr || !strchr(addr, '@') || strpbrk(addr, "<>\r\n ") ||
			    strlen(addr) > 254) {
				char q[101];

				quote_addr(q, addr);
				snprintf(err, errlen, "%s: '%s' is not an address", what, q);
				goto out;
			}
			if (c->nrcpts >= IMS_COMPOSE_MAX_RCPTS) {
				snprintf(err, errlen, "at most %d recipients",
				         IMS_COMPOSE_MAX_RCPTS);
				goto out;
			}
			c->rcpts[c->nrcpts] = strdup(addr);
			if (!c->rcpts[c->nrcpts])
				goto out;
			c->nrcpts++;
			internet_address_list_add(
			    t == GMIME_ADDRESS_TYPE_BCC ? bcc : g_mime_message_get_addresses(m, t),
			    a);
		}
		g_object_unref(l);
		l = NULL;
	}
	rc = 0;
out:
	if (l)
		g_object_unref(l);
	json_decref(items);
	return rc;
}

/* The text with every line break (CRLF, a lone CR or LF) as one LF: the
 * message is written with CRLF, and a bare CR must not reach the wire. */
static char *one_newline(const char *s)
{
	char *out = g_malloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '\r') {
			*o++ = '\n';
			if (s[1] == '\n')
				s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static GMimeObject *text_part(const char *subtype, const char *s)
{
	GMimeTextPart *p = g_mime_text_part_new_with_subtype(subtype);
	char *text = one_newline(s);

	g_mime_text_part_set_text(p, text);
	g_free(text);
	g_mime_object_encode(GMIME_OBJECT(p), GMIME_ENCODING_CONSTRAINT_7BIT);
	return GMIME_OBJECT(p);
}

/* Whether v is one line of printable ASCII, at most max bytes. */
static int printable_line(const char *v, size_t max)
{
	size_t n = 0;

	for (; v[n]; n++)
		if ((unsigned char)v[n] < 0x20 || (unsigned char)v[n] > 0x7e)
			return 0;
	return n > 0 && n <= max;
}

/* In-Reply-To and References of a reply or forward. */
static void set_thread(GMimeMessage *m, const char *msgid, const char *refs, int reply)
{
	GString *r;

	if (!msgid || !printable_line(msgid, 900))
		return;
	if (reply)
		g_mime_object_set_header(GMIME_OBJECT(m), "In-Reply-To", msgid, NULL);
	r = g_string_new(NULL);
	/* keep References under one header line's worth: drop the oldest */
	if (refs && printable_line(refs, 8000)) {
		const char *p = refs;

		while (strlen(p) + strlen(msgid) > 900 && (p = strchr(p + 1, '<')))
			;
		if (p)
			g_string_append_printf(r, "%s ", p);
	}
	g_string_append(r, msgid);
	g_mime_object_set_header(GMIME_OBJECT(m), "References", r->str, NULL);
	g_string_free(r, TRUE);
}

/* Whether s has no control bytes. */
static int printable_utf8(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* Whether the parsed ct is the type/subtype that s starts with. */
static int mime_type_is(GMimeContentType *ct, const char *s)
{
	char *t = g_mime_content_type_get_mime_type(ct);
	size_t n = t ? strlen(t) : 0;
	int ok =
	    n && g_ascii_strncasecmp(s, t, n) == 0 && (s[n] == '\0' || s[n] == ';' || s[n] == ' ');

	g_free(t);
	return ok;
}

/* The part of one entry of "attachments" ({"filename", "content_type",
 * "data": standard base64}), or NULL with the reason in err. */
static GMimeObject *attachment_part(json_t *a, size_t i, char *err, size_t errlen)
{
	const char *fn = json_string_value(json_object_get(a, "filename"));
	const char *type = json_string_value(json_object_get(a, "content_type"));
	const char *data = json_string_value(json_object_get(a, "data"));
	size_t dlen = json_string_length(json_object_get(a, "data")), blen = 0;
	GMimeContentType *ct = NULL;
	GMimeStream *mem = NULL;
	GMimeDataWrapper *dw = NULL;
	GMimePart *p = NULL;
	unsigned char *bin = NULL;

	if (!json_is_object(a) || !fn || !data) {
		snprintf(err, errlen, "attachments[%zu]: an object with filename and data", i);
		return NULL;
	}
	if (!*fn || strlen(fn) > 255 || strpbrk(fn, "\"/\\") || !printable_utf8(fn)) {
		snprintf(err, errlen,
		         "attachments[%zu]: filename must be 1-255 bytes, one line, no path", i);
		return NULL;
	}
	/* GMime's parser falls back to text/plain: the type must be what was given */
	if (type && (strlen(type) > 255 || !(ct = g_mime_content_type_parse(NULL, type)) ||
	             !mime_type_is(ct, type))) {
		snprintf(err, errlen, "attachments[%zu]: content_type is not a MIME type", i);
		goto out;
	}
	bin = malloc(dlen / 4 * 3 + 3);
	if (!bin || sodium_base642bin(bin, dlen / 4 * 3 + 3, data, dlen, NULL, &blen, NULL,
	                              sodium_base64_VARIANT_ORIGINAL) != 0) {
		snprintf(err, errlen, "attachments[%zu]: data is not base64", i);
		goto out;
	}
	p = g_mime_part_new_with_type(ct ? g_mime_content_type_get_media_type(ct) : "application",
	                              ct ? g_mime_content_type_get_media_subtype(ct)
	                                 : "octet-stream");
	mem = g_mime_stream_mem_new_with_buffer((const char *)bin, blen);
	dw = g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, dw);
	g_mime_part_set_filename(p, fn); /* also Content-Disposition: attachment */
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
out:
	if (dw)
		g_object_unref(dw);
	if (mem)
		g_object_unref(mem);
	if (ct)
		g_object_unref(ct);
	free(bin);
	return p ? GMIME_OBJECT(p) : NULL;
}

static ims_status compose(const char *from, json_t *j, const char *parent_msgid,
                          const char *parent_refs, int reply, int draft, struct ims_composed *out,
                          char *err, size_t errlen);

ims_status ims_compose(const char *from, json_t *j, struct ims_composed *out, char *err,
                       size_t errlen)
{
	return compose(from, j, NULL, NULL, 0, 0, out, err, errlen);
}

ims_status ims_compose_draft(const char *from, json_t *j, struct ims_composed *out, char *err,
                             size_t errlen)
{
	return compose(from, j, NULL, NULL, 0, 1, out, err, errlen);
}

ims_status ims_compose_thread(const char *from, json_t *j, const char *parent_msgid,
                              const char *parent_refs, int reply, struct ims_composed *out,
                              char *err, size_t errlen)
{
	return compose(from, j, parent_msgid, parent_refs, reply, 0, out, err, errlen);
}

static ims_status compose(const char *from, json_t *j, const char *parent_msgid,
                          const char *parent_refs, int reply, int draft, struct ims_composed *out,
                          char *err, size_t errlen)
{
	json_t *atts = json_object_get(j, "attachments");
	GMimeObject *body = NULL;
	GMimeMessage *m = NULL;
	GMimeFormatOptions *fo = NULL;
	GDateTime *now = NULL;
	const char *subject = json_string_value(json_object_get(j, "subject"));
	const char *text = json_string_value(json_object_get(j, "text"));
	const char *html = json_string_value(json_object_get(j, "html"));
	const char *at = strchr(from, '@');
	InternetAddressList *bcc = NULL;
	char *mid = NULL, *s = NULL, *sent = NULL;
	ims_status rc = IMS_EINVAL;

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	out->rcpts = calloc(IMS_COMPOSE_MAX_RCPTS, sizeof *out->rcpts);
	if (!out->rcpts)
		return IMS_ENOMEM;
	if (json_object_get(j, "subject") && !subject) {
		snprintf(err, errlen, "subject must be a string");
		goto out;
	}
	if (subject && (strlen(subject) > IMS_COMPOSE_SUBJECT_MAX || strpbrk(subject, "\r\n"))) {
		snprintf(err, errlen, "subject: one line of at most %d bytes",
		         IMS_COMPOSE_SUBJECT_MAX);
		goto out;
	}
	if ((json_object_get(j, "text") && !text) || (json_object_get(j, "html") && !html)) {
		snprintf(err, errlen, "text and html must be strings");
		goto out;
	}
	if (!text && !html && !draft) {
		snprintf(err, errlen, "text or html is required");
		goto out;
	}
	if (!text && !html)
		text = "";
	if (atts && (!json_is_array(atts) || json_array_size(atts) > IMS_COMPOSE_MAX_ATTACHMENTS)) {
		snprintf(err, errlen, "attachments: a list of at most %d",
		         IMS_COMPOSE_MAX_ATTACHMENTS);
		goto out;
	}
	m = g_mime_message_new(TRUE);
	bcc = internet_address_list_new();
	{
		InternetAddress *me = internet_address_mailbox_new(NULL, from);

		/* the list takes its own reference */
		internet_address_list_add(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_FROM),
		                          me);
		g_object_unref(me);
	}
	if (add_addrs(m, GMIME_ADDRESS_TYPE_TO, bcc, json_object_get(j, "to"), out, err, errlen,
	              "to") ||
	    add_addrs(m, GMIME_ADDRESS_TYPE_CC, bcc, json_object_get(j, "cc"), out, err, errlen,
	              "cc") ||
	    add_addrs(m, GMIME_ADDRESS_TYPE_BCC, bcc, json_object_get(j, "bcc"), out, err, errlen,
	              "bcc"))
		goto out;
	if (out->nrcpts == 0 && !draft) {
		snprintf(err, errlen, "at least one recipient is required");
		goto out;
	}
	g_mime_message_set_subject(m, subject ? subject : "", "utf-8");
	now = g_date_time_new_now_utc();
	g_mime_message_set_date(m, now);
	mid = g_mime_utils_generate_message_id(at ? at + 1 : "localhost");
	g_mime_message_set_message_id(m, mid);
	snprintf(out->message_id, sizeof out->message_id, "<%s>", mid);
	set_thread(m, parent_msgid, parent_refs, reply);
	if (text && html) {
		GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
		GMimeObject *tp = text_part("plain", text), *hp = text_part("html", html);

		g_mime_multipart_add(alt, tp);
		g_mime_multipart_add(alt, hp);
		g_object_unref(tp);
		g_object_unref(hp);
		body = GMIME_OBJECT(alt);
	} else {
		body = text_part(text ? "plain" : "html", text ? text : html);
	}
	if (json_array_size(atts)) {
		GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");

		g_mime_multipart_add(mixed, body);
		g_object_unref(body);
		body = GMIME_OBJECT(mixed);
		for (size_t i = 0; i < json_array_size(atts); i++) {
			GMimeObject *a = attachment_part(json_array_get(atts, i), i, err, errlen);

			if (!a)
				goto out;
			g_mime_multipart_add(mixed, a);
			g_object_unref(a);
		}
	}
	g_mime_message_set_mime_part(m, body);
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	s = g_mime_object_to_string(GMIME_OBJECT(m), fo);
	rc = IMS_ENOMEM;
	if (!s)
		goto out;
	out->len = strlen(s);
	out->raw = malloc(out->len + 1);
	if (!out->raw)
		goto out;
	memcpy(out->raw, s, out->len + 1);
	/* the sender's copy names the Bcc recipients, as mail clients keep it;
	 * the same message (Date, Message-ID) with one more header */
	if (internet_address_list_length(bcc) > 0) {
		internet_address_list_append(
		    g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_BCC), bcc);
		sent = g_mime_object_to_string(GMIME_OBJECT(m), fo);
		if (!sent)
			goto out;
		out->sent_len = strlen(sent);
		out->sent_raw = malloc(out->sent_len + 1);
		if (!out->sent_raw)
			goto out;
		memcpy(out->sent_raw, sent, out->sent_len + 1);
	}
	rc = IMS_OK;
out:
	/* a reason quotes what the client sent: one line, no control bytes */
	for (char *e = err; rc != IMS_OK && err && *e; e++)
		if ((unsigned char)*e < 0x20 || *e == 0x7f)
			*e = '?';
	g_free(s);
	g_free(sent);
	g_free(mid);
	if (bcc)
		g_object_unref(bcc);
	if (body)
		g_object_unref(body);
	if (now)
		g_date_time_unref(now);
	if (fo)
		g_mime_format_options_free(fo);
	if (m)
		g_object_unref(m);
	if (rc != IMS_OK)
		ims_composed_free(out);
	return rc;
}

void ims_composed_free(struct ims_composed *c)
{
	for (size_t i = 0; c->rcpts && i < c->nrcpts; i++)
		free(c->rcpts[i]);
	free(c->rcpts);
	free(c->raw);
	free(c->sent_raw);
	memset(c, 0, sizeof *c);
}
