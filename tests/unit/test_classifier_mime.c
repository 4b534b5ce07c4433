/* classifier/message.c, html.c, featurize.c: MIME to text, bad input,
 * tokenizer and feature vectors. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "featurize.h"
#include "message.h"
#include "normalize.h"

static char *slurp(const char *name, size_t *len)
{
	FILE *f = fopen(fixture(name), "rb");
	char *buf = malloc(1 << 20);

	*len = 0;
	if (!f || !buf) {
		fprintf(stderr, "cannot read %s\n", fixture(name));
		check_failures++;
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static struct ims_parsed *parse_fixture(const char *name)
{
	size_t len;
	char *raw = slurp(name, &len);
	struct ims_parsed *p = NULL;

	if (!raw)
		return NULL;
	CHECK(ims_parse_message(raw, len, &p) == IMS_OK);
	free(raw); /* the parse must not keep pointers into raw */
	return p;
}

static void test_plain(void)
{
	struct ims_parsed *p = parse_fixture("mime/plain.eml");
	const struct ims_link *l;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_STR_CONTAINS(ims_parsed_text(p), "Hello Bob");
	CHECK(strcmp(ims_parsed_subject(p), "plain text") == 0);
	CHECK(!ims_parsed_malformed(p));
	CHECK(ims_parsed_links(p, &l) == 1);
	CHECK_STR_CONTAINS(l[0].href, "https://www.example.com/docs");
	CHECK(ims_parsed_gmime(p) != NULL);
	ims_parsed_free(p);
}

static void test_charsets(void)
{
	struct ims_parsed *p = parse_fixture("mime/qp-latin1.eml");

	if (p) {
		CHECK_STR_CONTAINS(ims_parsed_text(p), "Café crème brûlée");
		CHECK_STR_CONTAINS(ims_parsed_text(p), "soft-wrapped"); /* QP soft line break */
		CHECK(strcmp(ims_parsed_subject(p), "Café crème") == 0);
		ims_parsed_free(p);
	}
	p = parse_fixture("mime/base64-utf8.eml");
	if (p) {
		CHECK_STR_CONTAINS(ims_parsed_text(p), "Viele Grüße aus Köln – 東京");
		CHECK(strcmp(ims_parsed_subject(p), "Grüße aus Köln") == 0);
		ims_parsed_free(p);
	}
	/* no charset, 8-bit CP1252 bytes: converted, valid UTF-8 */
	p = parse_fixture("mime/undeclared-8bit.eml");
	if (p) {
		CHECK_STR_CONTAINS(ims_parsed_text(p), "Ça coûte 5 €");
		CHECK(g_utf8_validate(ims_parsed_text(p), -1, NULL));
		ims_parsed_free(p);
	}
	/* a charset iconv does not know: still valid UTF-8 text */
	p = parse_fixture("mime/unknown-charset.eml");
	if (p) {
		CHECK_STR_CONTAINS(ims_parsed_text(p), "batlh");
		CHECK(g_utf8_validate(ims_parsed_text(p), -1, NULL));
		ims_parsed_free(p);
	}
}

static void test_html(void)
{
	struct ims_parsed *p = parse_fixture("mime/html-links.eml");
	const struct ims_link *l;
	size_t n;

	if (!p)
		return;
	CHECK_STR_CONTAINS(ims_parsed_text(p), "Plain version.");
	CHECK_STR_CONTAINS(ims_parsed_text(p), "Your & account <needs> attention now €5 ABC.");
	CHECK_STR_CONTAINS(ims_parsed_text(p), "Example site");
	CHECK_STR_CONTAINS(ims_parsed_text(p), "IMG ALT");
	CHECK(strstr(ims_parsed_text(p), "color") == NULL);  /* <style> dropped */
	CHECK(strstr(ims_parsed_text(p), "var x") == NULL);  /* <script> dropped */
	CHECK(strstr(ims_parsed_text(p), "hidden") == NULL); /* comment dropped */
	n = ims_parsed_links(p, &l);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(strcmp(l[0].href, "http://evil.example.net/login") == 0);
		CHECK(strcmp(l[0].text, "https://www.paypal.com/") == 0);
		CHECK(strcmp(l[1].href, "http://example.com/ok") == 0);
		CHECK(strcmp(l[1].text, "Example site") == 0);
	}
	CHECK(ims_parsed_html_parts(p) == 1 && ims_parsed_plain_parts(p) == 1);
	ims_parsed_free(p);
}

static void test_attachments(void)
{
	struct ims_parsed *p = parse_fixture("mime/attachment.eml");
	const struct ims_attachment *a;
	size_t n;

	if (!p)
		return;
	n = ims_parsed_attachments(p, &a);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(strcmp(a[0].filename, "invoice.pdf") == 0);
		CHECK(strcmp(a[0].content_type, "application/pdf") == 0);
		CHECK(a[0].size > 400);
		CHECK(strcmp(a[1].filename, "setup.exe") == 0);
		CHECK(strcmp(a[1].content_type, "application/x-msdownload") == 0);
	}
	CHECK_STR_CONTAINS(ims_parsed_text(p), "invoice attached");
	CHECK(strstr(ims_parsed_text(p), "PDF") == NULL); /* attachments are not text */
	ims_parsed_free(p);
}

static void test_malformed_fixtures(void)
{
	static const char *const names[] = {"mime/truncated.eml", "mime/missing-boundary.eml",
	                                    "mime/wrong-boundary.eml"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct ims_parsed *p = parse_fixture(names[i]);

		if (!p)
			continue;
		CHECK(ims_parsed_malformed(p));
		CHECK(g_utf8_validate(ims_parsed_text(p), -1, NULL));
		ims_parsed_free(p);
	}
	struct ims_parsed *p = parse_fixture("mime/truncated.eml");

	if (p) {
		CHECK_STR_CONTAINS(ims_parsed_text(p), "First part survives.");
		ims_parsed_free(p);
	}
	p = parse_fixture("mime/missing-boundary.eml");
	if (p) { /* best effort: the body is still read */
		CHECK_STR_CONTAINS(ims_parsed_text(p), "never declared");
		ims_parsed_free(p);
	}
}

static void test_empty_and_garbage(void)
{
	struct ims_parsed *p = NULL;
	unsigned char *junk = malloc(65536);
	uint32_t s = 12345;

	CHECK(ims_parse_message("", 0, &p) == IMS_OK);
	if (p) {
		CHECK(strcmp(ims_parsed_text(p), "") == 0);
		CHECK(strcmp(ims_parsed_subject(p), "") == 0);
		ims_parsed_free(p);
	}
	CHECK(ims_parse_message(NULL, 0, &p) == IMS_OK);
	ims_parsed_free(p);
	if (!junk)
		return;
	for (int round = 0; round < 20; round++) {
		size_t n = 1 + (size_t)(s % 65535);

		for (size_t i = 0; i < n; i++) {
			s = s * 1103515245u + 12345u;
			junk[i] = (unsigned char)(s >> 16);
		}
		p = NULL;
		CHECK(ims_parse_message((const char *)junk, n, &p) == IMS_OK);
		if (p) {
			CHECK(g_utf8_validate(ims_parsed_text(p), -1, NULL));
			CHECK(g_utf8_validate(ims_parsed_subject(p), -1, NULL));
			ims_parsed_free(p);
		}
	}
	free(junk);
}

static void test_deep_nesting(void)
{
	const int depth = 1000;
	GString *m = g_string_new("From: a@example.org\nSubject: deep\nMIME-Version: 1.0\n");
	struct ims_parsed *p = NULL;
	clock_t t0 = clock();

	for (int i = 0; i < depth; i++)
		g_string_append_printf(
		    m, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
	g_string_append(m, "Content-Type: text/plain\n\ninnermost text\n");
	for (int i = depth - 1; i >= 0; i--)
		g_string_append_printf(m, "--b%d--\n", i);
	CHECK(ims_parse_message(m->str, m->len, &p) == IMS_OK);
	if (p) {
		CHECK(ims_parsed_malformed(p)); /* deeper than IMS_MIME_MAX_DEPTH */
		ims_parsed_free(p);
	}
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 20.0);
	g_string_free(m, TRUE);
}

static void test_huge_message(void)
{
	const size_t size = 50u << 20;
	GString *m = g_string_sized_new(size + 4096);
	struct ims_parsed *p = NULL;
	clock_t t0 = clock();

	/* 50 MB of text: parsed, text cut at IMS_MIME_MAX_TEXT, flagged */
	g_string_append(m, "From: a@example.org\nSubject: huge\nContent-Type: text/plain\n\n");
	while (m->len < size)
		g_string_append(m, "all work and no play makes jack a dull boy 0123456789\n");
	CHECK(ims_parse_message(m->str, m->len, &p) == IMS_OK);
	if (p) {
		CHECK(strlen(ims_parsed_text(p)) <= IMS_MIME_MAX_TEXT);
		CHECK(ims_parsed_malformed(p));
		ims_parsed_free(p);
	}
	/* 50 MB base64 attachment beside a small text part */
	g_string_assign(m, "From: a@example.org\nSubject: huge\nMIME-Version: 1.0\n"
	                   "Content-Type: multipart/mixed; boundary=\"B\"\n\n--B\n"
	                   "Content-Type: text/plain\n\nsee the attachment\n--B\n"
	                   "Content-Type: application/octet-stream; name=\"big.bin\"\n"
	                   "Content-Transfer-Encoding: base64\n\n");
	while (m->len < size)
		g_string_append(
		    m, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n");
	g_string_append(m, "--B--\n");
	p = NULL;
	CHECK(ims_parse_message(m->str, m->len, &p) == IMS_OK);
	if (p) {
		const struct ims_attachment *a;

		CHECK(ims_parsed_attachments(p, &a) == 1);
		CHECK_STR_CONTAINS(ims_parsed_text(p), "see the attachment");
		ims_parsed_free(p);
	}
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 30.0);
	g_string_free(m, TRUE);
}

static void add_tok(void *ctx, const char *tok, size_t len)
{
	GString *s = ctx;

	g_string_append_len(s, tok, (gssize)len);
	g_string_append_c(s, ' ');
}

static void test_tokenizer(void)
{
	const char *text = "Visit http://Sub.Example.COM/path?x=1 or www.shop.example.net now! "
	                   "Mail Bob@Example.org. FREE money: $1,000,000 call 5551234567 in 2002, "
	                   "Grüße from Köln; e.g. foo.bar.co.uk and 192.168.1.1";
	GString *s = g_string_new(NULL);

	ims_tokenize(text, strlen(text), 'W', add_tok, s);
	CHECK_STR_CONTAINS(s->str, "WU:sub.example.com ");
	CHECK_STR_CONTAINS(s->str, "WU:example.com ");
	CHECK_STR_CONTAINS(s->str, "WU:www.shop.example.net ");
	CHECK_STR_CONTAINS(s->str, "WE:example.org ");
	CHECK_STR_CONTAINS(s->str, "W:#email ");
	CHECK_STR_CONTAINS(s->str, "W:free ");
	CHECK_STR_CONTAINS(s->str, "WK:FREE ");
	CHECK_STR_CONTAINS(s->str, "W:#money ");
	CHECK_STR_CONTAINS(s->str, "WN:#10 ");
	CHECK_STR_CONTAINS(s->str, "WN:2002 ");
	CHECK_STR_CONTAINS(s->str, "W:grüsse "); /* case folding: ß is ss */
	CHECK_STR_CONTAINS(s->str, "W:köln ");
	CHECK_STR_CONTAINS(s->str, "WD:foo.bar.co.uk ");
	CHECK(strstr(s->str, "W:visit ") != NULL);
	g_string_free(s, TRUE);
}

/* The tokens of text (prefix W) as one string "W:a W:b ". */
static char *toks(const char *text)
{
	GString *s = g_string_new(NULL);

	ims_tokenize(text, strlen(text), 'W', add_tok, s);
	return g_string_free(s, FALSE);
}

/* Each obfuscation gives the same tokens as the plain text. */
static void check_same_tokens(const char *obfuscated, const char *plain)
{
	char *a = toks(obfuscated), *b = toks(plain);

	if (strcmp(a, b) != 0) {
		fprintf(stderr, "tokens of '%s': '%s', of '%s': '%s'\n", obfuscated, a, plain, b);
		check_failures++;
	}
	g_free(a);
	g_free(b);
}

static void test_normalize_zero_width(void)
{
	/* U+200B zero-width space, U+200C/U+200D (non-)joiner, U+2060 word
	 * joiner, U+FEFF inside words */
	check_same_tokens("vi\u200Bag\u200Cra fr\u200Dee mo\u2060ney ca\uFEFFsh",
	                  "viagra free money cash");
	check_same_tokens("\u200B\u200B", "");
}

static void test_normalize_soft_hyphen(void)
{
	check_same_tokens("pre\u00ADscrip\u00ADtion me\u00ADds", "prescription meds");
}

static void test_normalize_lookalikes(void)
{
	/* Cyrillic а (U+0430), о (U+043E), р (U+0440), е (U+0435), Greek ο
	 * (U+03BF), Cyrillic capital Р (U+0420), А (U+0410) in Latin words */
	check_same_tokens("p\u0430yp\u0430l acc\u043Eunt", "paypal account");
	check_same_tokens("\u0420AYP\u0410L", "PAYPAL"); /* SHOUTING keeps its token */
	check_same_tokens("fr\u03BF\u03BFm v\u0435rify", "froom verify");
	/* a word in Cyrillic alone stays Cyrillic (case-folded) */
	char *t = toks("\u041F\u0440\u0438\u0432\u0435\u0442 \u0440\u0430\u0441");
	CHECK_STR_CONTAINS(t, "W:\u043F\u0440\u0438\u0432\u0435\u0442 ");
	CHECK_STR_CONTAINS(t, "W:\u0440\u0430\u0441 ");
	g_free(t);
	CHECK(ims_confusable_latin(0x0430) == 'a' && ims_confusable_latin(0x0391) == 'A');
	CHECK(ims_confusable_latin('a') == 0 && ims_confusable_latin(0x0431) == 0);
}

static void test_normalize_nfkc(void)
{
	/* full-width letters, mathematical bold, ligature fi, circled letters,
	 * and a combining accent after an ASCII letter */
	check_same_tokens(
	    "\uFF26\uFF32\uFF25\uFF25 \U0001D40C\U0001D40E\U0001D40D\U0001D404\U0001D418",
	    "FREE MONEY");
	check_same_tokens("\uFB01nance \u24D2\u24D0\u24E2\u24D7", "finance cash");
	check_same_tokens("cafe\u0301", "caf\u00E9");
	check_same_tokens("a\u00A0b\u00A0word", "a b word");
	/* ASCII text is not copied */
	size_t n = 0;
	CHECK(ims_text_normalize("plain ascii", 11, &n) == NULL);
	/* invalid UTF-8 is made valid, never read past the end */
	char *v = ims_text_normalize("ab\xff\xfe", 4, &n);
	CHECK(v && g_utf8_validate(v, (gssize)n, NULL));
	g_free(v);
}

static struct ims_parsed *parse_str(const char *raw)
{
	struct ims_parsed *p = NULL;

	CHECK(ims_parse_message(raw, strlen(raw), &p) == IMS_OK);
	return p;
}

static char *message_tokens(const char *raw)
{
	struct ims_parsed *p = parse_str(raw);
	GString *s = g_string_new(NULL);

	if (p)
		ims_features_tokens(p, add_tok, s);
	ims_parsed_free(p);
	return g_string_free(s, FALSE);
}

static void test_inner_message(void)
{
	char *t = message_tokens("From: Alice <alice@example.org>\r\n"
	                         "Subject: Fwd: look\r\n"
	                         "MIME-Version: 1.0\r\n"
	                         "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	                         "--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
	                         "--b\r\nContent-Type: message/rfc822\r\n\r\n"
	                         "From: Cheap Pills <sales@pills.example>\r\n"
	                         "Subject: Cheapest pharmacy\r\n"
	                         "X-Mailer: Bulk Sender\r\n"
	                         "\r\nbuy now\r\n"
	                         "--b--\r\n");

	/* the attached message's subject, From name and domain, headers and body */
	CHECK_STR_CONTAINS(t, "S:cheapest ");
	CHECK_STR_CONTAINS(t, "S:pharmacy ");
	CHECK_STR_CONTAINS(t, "S3:pha ");
	CHECK_STR_CONTAINS(t, "F:pills ");
	CHECK_STR_CONTAINS(t, "FD:pills.example ");
	CHECK_STR_CONTAINS(t, "HN:x-mailer ");
	CHECK_STR_CONTAINS(t, "M:bulk ");
	CHECK_STR_CONTAINS(t, "W:buy ");
	/* and the outer message's own */
	CHECK_STR_CONTAINS(t, "S:fwd ");
	CHECK_STR_CONTAINS(t, "F:alice ");
	g_free(t);
	{
		struct ims_parsed *p = parse_str("Subject: x\r\n\r\nno attachment\r\n");
		GMimeMessage *const *inner;

		CHECK(p && ims_parsed_inner_messages(p, &inner) == 0);
		ims_parsed_free(p);
	}
}

static void test_time_tokens(void)
{
	char *t = message_tokens(
	    "Received: from mx.example.net (mx.example.net [192.0.2.1]) by mail.example.org\r\n"
	    "\twith ESMTP id 4F2A1; Thu, 22 Aug 2002 18:26:25 +0700 (ICT)\r\n"
	    "Date: Wed, 21 Aug 2002 20:31:57 PDT\r\n"
	    "X-Note: Thursday in August\r\n"
	    "Subject: Meeting on Monday\r\n\r\nSee you on Aug 22.\r\n");

	/* hosts and words of Received stay, its time goes */
	CHECK_STR_CONTAINS(t, "Hreceived:esmtp ");
	CHECK_STR_CONTAINS(t, "HreceivedD:mx.example.net ");
	CHECK(!strstr(t, "Hreceived:thu "));
	CHECK(!strstr(t, "Hreceived:aug "));
	CHECK(!strstr(t, "HreceivedN:"));
	CHECK(!strstr(t, "Hdate:"));
	CHECK(!strstr(t, "HdateN:"));
	CHECK(!strstr(t, "HdateK:PDT"));
	/* elsewhere the words are words */
	CHECK_STR_CONTAINS(t, "Hx-note:thursday ");
	CHECK_STR_CONTAINS(t, "S:monday ");
	CHECK_STR_CONTAINS(t, "W:aug ");
	g_free(t);
}

/* Words with bytes that are not valid UTF-8 (raw header values, 3-grams
 * that cut a character) are lower-cased as bytes, never read past. */
static void test_invalid_utf8_tokens(void)
{
	char *t = message_tokens("Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_=C3=A9t=C3=A9?=\r\n"
	                         "From: =?UTF-8?Q?J=C3=BCrgen_=F0=9F=98=80?= <j@example.org>\r\n"
	                         "X-Raw: ABC\xf0\x9f\x98 \xc3 end\xe2\x82\r\n"
	                         "X-Raw2: \xf0\r\n\r\nbody\r\n");

	CHECK_STR_CONTAINS(t, "S:grüsse ");
	CHECK_STR_CONTAINS(t, "S3:grü ");
	CHECK_STR_CONTAINS(t, "S3:üsse "); /* üße, case-folded */
	CHECK_STR_CONTAINS(t, "S3: ét ");
	CHECK_STR_CONTAINS(t, "F:jürgen ");
	CHECK_STR_CONTAINS(t, "Hx-raw:abc\xf0\x9f\x98 ");
	g_free(t);
	/* every 3-byte window of a word of 4-byte characters */
	GString *s = g_string_new(NULL);
	ims_tokenize("\xf0\x9f\x98\x80\xf0\x9f\x98\x81", 8, 'S', add_tok, s);
	g_string_free(s, TRUE);
}

static void test_vector(void)
{
	struct ims_parsed *p = parse_fixture("mime/html-links.eml");
	struct ims_feature_opts o = {IMS_HASH_BITS_DEFAULT};
	struct ims_fvec v;
	double norm = 0;

	if (!p)
		return;
	CHECK(ims_features_extract(p, &o, &v) == IMS_OK);
	CHECK(v.n > 10);
	for (size_t i = 0; i < v.n; i++) {
		CHECK(v.idx[i] >= 1 && v.idx[i] <= (1u << IMS_HASH_BITS_DEFAULT));
		if (i > 0)
			CHECK(v.idx[i] > v.idx[i - 1]); /* sorted, unique */
		norm += v.val[i] * v.val[i];
	}
	CHECK(fabs(norm - 1.0) < 1e-9);
	ims_fvec_free(&v);
	o.hash_bits = 40;
	CHECK(ims_features_extract(p, &o, &v) == IMS_EINVAL);
	{
		GString *s = g_string_new(NULL);

		ims_features_tokens(p, add_tok, s);
		CHECK_STR_CONTAINS(s->str, "L:#text-host-mismatch");
		CHECK_STR_CONTAINS(s->str, "LU:evil.example.net");
		CHECK_STR_CONTAINS(s->str, "HTML:#alt");
		g_string_free(s, TRUE);
	}
	ims_parsed_free(p);
}

int main(void)
{
	RUN(test_plain);
	RUN(test_charsets);
	RUN(test_html);
	RUN(test_attachments);
	RUN(test_malformed_fixtures);
	RUN(test_empty_and_garbage);
	RUN(test_deep_nesting);
	RUN(test_huge_message);
	RUN(test_tokenizer);
	RUN(test_normalize_zero_width);
	RUN(test_normalize_soft_hyphen);
	RUN(test_normalize_lookalikes);
	RUN(test_normalize_nfkc);
	RUN(test_inner_message);
	RUN(test_time_tokens);
	RUN(test_invalid_utf8_tokens);
	RUN(test_vector);
	return CHECK_DONE();
}
