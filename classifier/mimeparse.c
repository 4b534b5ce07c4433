/* Bounded GMime parsing: see mimeparse.h. */
#include "config.h"

#include <string.h>

#include "mimeparse.h"

/* Whether q (before end) is where a parameter's '=' (or RFC 2231 '*')
 * comes, after white space, line breaks and (nested) comments, which
 * GMime's parameter parser skips. */
static bool param_follows(const char *q, const char *end)
{
	int depth = 0;

	for (; q < end; q++) {
		if (depth > 0) {
			if (*q == '\\' && q + 1 < end)
				q++;
			else if (*q == '(')
				depth++;
			else if (*q == ')')
				depth--;
		} else if (*q == '(') {
			depth = 1;
		} else if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
			return *q == '=' || *q == '*';
		}
	}
	return false;
}

bool ims_mime_work_ok(const char *raw, size_t len, unsigned long long *work)
{
	unsigned long long dashes = 0, bounds = 0, w;
	const char *p, *end;

	if (!raw)
		raw = "", len = 0;
	p = raw;
	end = raw + len;

	/* lines that start with "--": the first, and every one after a LF */
	for (const char *q = raw; q && q < end;) {
		if (end - q >= 2 && q[0] == '-' && q[1] == '-')
			dashes++;
		q = memchr(q, '\n', (size_t)(end - q));
		if (q)
			q++;
	}
	/* "boundary" in any case, then '=' or '*' (RFC 2231): a multipart's
	 * parameter can only be spelt so (folding cannot split a token) */
	for (; end - p >= 8; p++)
		if ((*p | 0x20) == 'b' && g_ascii_strncasecmp(p, "boundary", 8) == 0 &&
		    param_follows(p + 8, end))
			bounds++;
	w = dashes * (bounds < dashes ? bounds : dashes);
	if (work)
		*work = w;
	return w <= IMS_MIME_MAX_BOUNDARY_WORK;
}

/* The header section of raw: up to and including the first empty line, or
 * all of it when there is none. */
static size_t header_section(const char *raw, size_t len)
{
	for (const char *q = raw; q && q < raw + len;) {
		if (*q == '\n' || (*q == '\r' && q + 1 < raw + len && q[1] == '\n'))
			return (size_t)(q - raw) + (*q == '\r' ? 2 : 1);
		q = memchr(q, '\n', (size_t)(raw + len - q));
		if (q)
			q++;
	}
	return len;
}

GMimeMessage *ims_mime_parse(const char *raw, size_t len, GMimeParserOptions *opts, bool *limited)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	bool over;

	if (!raw)
		raw = "", len = 0;
	over = !ims_mime_work_ok(raw, len, NULL);
	if (limited)
		*limited = over;
	if (over)
		len = header_section(raw, len);
	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, opts);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}
