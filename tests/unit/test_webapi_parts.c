/* Unit tests of the ims-webapi parts that need no server: request ids,
 * the router, the HTML sanitiser, the mail view and message composition. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>
#include <libxml/parser.h>

#include "check.h"
#include "compose.h"
#include "html_sanitize.h"
#include "jsonw.h"
#include "mailview.h"
#include "reqid.h"
#include "request.h"
#include "router.h"

static void test_reqid(void)
{
	char out[IMS_REQID_MAX + 1];

	CHECK(ims_reqid_valid("abc-123_x.y:z"));
	CHECK(!ims_reqid_valid(""));
	CHECK(!ims_reqid_valid(NULL));
	CHECK(!ims_reqid_valid("a b"));
	CHECK(!ims_reqid_valid("a\nb"));
	{
		char long_id[80];

		memset(long_id, 'a', 65);
		long_id[65] = '\0';
		CHECK(!ims_reqid_valid(long_id));
		long_id[64] = '\0';
		CHECK(ims_reqid_valid(long_id));
	}
	ims_reqid_pick("client-id", out);
	CHECK(strcmp(out, "client-id") == 0);
	ims_reqid_pick("bad id", out);
	CHECK(strlen(out) == 26 && ims_reqid_valid(out));
	{
		char other[IMS_REQID_MAX + 1];

		ims_reqid_pick(NULL, other);
		CHECK(strcmp(out, other) != 0);
	}
}

static void test_router(void)
{
	struct ims_req r;
	int i;

	memset(&r, 0, sizeof r);
	i = ims_router_match("GET", "/emails/inbox", &r);
	CHECK(i >= 0 && strcmp(ims_routes[i].name, "emails_inbox") == 0);
	i = ims_router_match("GET", "/emails/01ABC", &r);
	CHECK(i >= 0 && strcmp(ims_routes[i].name, "email_get") == 0);
	CHECK(strcmp(r.params[0], "01ABC") == 0);
	i = ims_router_match("POST", "/emails/01ABC/report", &r);
	CHECK(i >= 0 && strcmp(ims_routes[i].name, "email_report") == 0);
	i = ims_router_match("POST", "/admin/quarantine/XYZ/release", &r);
	CHECK(i >= 0 && ims_routes[i].access == IMS_ADMIN && strcmp(r.params[0], "XYZ") == 0);
	CHECK(ims_router_match("PUT", "/emails/inbox", &r) == -2);
	CHECK(ims_router_match("GET", "/nope", &r) == -1);
	CHECK(ims_router_match("GET", "/emails//raw", &r) == -1);
	CHECK(ims_router_match("GET", "/emails/a/b/c", &r) == -1);
	i = ims_router_match("GET", "/ui/js/app.js", &r);
	CHECK(i >= 0 && ims_routes[i].access == IMS_OPEN);
	for (size_t k = 0; k < ims_nroutes; k++)
		if (strncmp(ims_routes[k].pattern, "/admin/", 7) == 0)
			CHECK(ims_routes[k].access == IMS_ADMIN);
}

static char *clean(const char *html)
{
	char *out = NULL;
	size_t len = 0;

	CHECK(ims_html_sanitize(html, strlen(html), 1 << 20, &out, &len) == IMS_OK);
	CHECK(out && strlen(out) == len);
	return out;
}

static void test_sanitize(void)
{
	static const char *const evil[] = {
	    "<script>alert(1)</script>",
	    "<img src=x onerror=alert(1)>",
	    "<a href=\"javascript:alert(1)\">x</a>",
	    "<a href=\" JaVaScRiPt:alert(1)\">x</a>",
	    "<svg onload=alert(1)><circle/></svg>",
	    "<iframe src=\"http://evil\"></iframe>",
	    "<p style=\"background:url(http://evil)\">x</p>",
	    "<form action=http://evil><input name=p></form>",
	    "<div onclick=\"alert(1)\">x</div>",
	    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
	    "<scr<script>ipt>alert(1)</script>",
	    "<!--<script>alert(1)</script>-->",
	    "<base href=\"http://evil/\">",
	    "<meta http-equiv=refresh content=\"0;url=http://evil\">",
	    "<object data=x></object><embed src=x>",
	    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
	};
	char *o;

	for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		o = clean(evil[i]);
		CHECK(!strstr(o, "<script") && !strstr(o, "onerror") && !strstr(o, "onload") &&
		      !strstr(o, "javascript") && !strstr(o, "JaVaScRiPt") &&
		      !strstr(o, "<iframe") && !strstr(o, "style=") && !strstr(o, "<form") &&
		      !strstr(o, "onclick") && !strstr(o, "<img") && !strstr(o, "<base") &&
		      !strstr(o, "<meta") && !strstr(o, "<object") && !strstr(o, "<embed") &&
		      !strstr(o, "data:"));
		if (strstr(o, "<script") || strstr(o, "javascript") || strstr(o, "data:"))
			fprintf(stderr, "  input %s -> %s\n", evil[i], o);
		free(o);
	}
	o = clean("<p>Hi <b>you</b> &amp; <a href=\"https://example.org/?a=1&b=2\">link</a></p>");
	CHECK_STR_CONTAINS(o,
	                   "<p>Hi <b>you</b> &amp; <a href=\"https://example.org/?a=1&amp;b=2\"");
	CHECK_STR_CONTAINS(o, "rel=\"noopener noreferrer nofollow\"");
	free(o);
	o = clean("<table><tr><td colspan=\"2\">x</td></tr></table><br><hr>");
	CHECK_STR_CONTAINS(o, "<td colspan=\"2\">x</td>");
	CHECK_STR_CONTAINS(o, "<br><hr>");
	free(o);
	/* text that looks like markup is escaped */
	o = clean("<p>1 &lt; 2 &quot;q&quot;</p>");
	CHECK_STR_CONTAINS(o, "1 &lt; 2 &quot;q&quot;");
	free(o);
	/* deep nesting and unknown tags do not crash; output stays bounded */
	{
		size_t n = 20000;
		char *deep = malloc(n * 5 + 1), *out = NULL;
		size_t len = 0;

		for (size_t i = 0; i < n; i++)
			memcpy(deep + i * 5, "<div>", 5);
		deep[n * 5] = '\0';
		CHECK(ims_html_sanitize(deep, n * 5, 1000, &out, &len) == IMS_OK);
		CHECK(len <= 1000);
		free(out);
		free(deep);
	}
	o = clean("");
	CHECK(o[0] == '\0');
	free(o);
}

/* IMS_HTML_REMOTE_IMAGES: http/https images stay, nothing else does */
static void test_sanitize_images(void)
{
	const char *html =
	    "<p>a<img src=\" http://127.0.0.1/p.png?a=1&amp;b=2\" alt=\"x\" width=\"1\" "
	    "onerror=\"alert(1)\" style=\"a\"><img src=\"https://e.test/b.gif\">"
	    "<img src=\"javascript:alert(1)\"><img src=\"data:image/png;base64,AA\">"
	    "<img src=\"cid:x@y\"><img src=\"/rel.png\"><img srcset=\"http://e.test/s 1x\">"
	    "<picture><img src=\"http://e.test/in-picture\"></picture></p>";
	char *out = NULL;
	size_t len = 0, images = 99;

	/* the default drops them and counts the web ones */
	CHECK(ims_html_sanitize_ex(html, strlen(html), 1 << 20, 0, &out, &len, &images) == IMS_OK);
	CHECK(!strstr(out, "<img"));
	CHECK(images == 2);
	free(out);
	CHECK(ims_html_sanitize_ex(html, strlen(html), 1 << 20, IMS_HTML_REMOTE_IMAGES, &out, &len,
	                           &images) == IMS_OK);
	CHECK(images == 2);
	CHECK_STR_CONTAINS(out, "<img src=\"http://127.0.0.1/p.png?a=1&amp;b=2\" alt=\"x\" "
	                        "width=\"1\">");
	CHECK_STR_CONTAINS(out, "<img src=\"https://e.test/b.gif\">");
	CHECK(!strstr(out, "onerror") && !strstr(out, "style") && !strstr(out, "javascript") &&
	      !strstr(out, "data:") && !strstr(out, "cid:") && !strstr(out, "rel.png") &&
	      !strstr(out, "srcset") && !strstr(out, "in-picture"));
	free(out);
}

/* frame tickets: one use, expire, only the exact token */
static void test_mailview(void)
{
	const char *raw =
	    "From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\n"
	    "To: a@example.test, b@example.test\r\n"
	    "Subject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n"
	    "Date: Mon, 23 Nov 2026 06:00:00 +0000\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=X\r\n\r\n"
	    "--X\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\nS=FC=DF\r\n"
	    "--X\r\nContent-Type: text/html\r\n\r\n<p onmouseover=x>hi<script>x</script></p>\r\n"
	    "--X\r\nContent-Type: application/zip; name=\"a.zip\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--X--\r\n";
	json_t *j = NULL;

	CHECK(ims_mailview_parse(raw, strlen(raw), &j) == IMS_OK);
	CHECK(strcmp(json_string_value(json_object_get(j, "subject")), "Grüße") == 0);
	CHECK_STR_CONTAINS(json_string_value(json_object_get(j, "from")), "Jürgen");
	CHECK_STR_CONTAINS(json_string_value(json_object_get(j, "text")), "Süß");
	CHECK(strcmp(json_string_value(json_object_get(j, "html")), "<p>hi</p>") == 0);
	{
		json_t *a = json_array_get(json_object_get(j, "attachments"), 0);

		CHECK(strcmp(json_string_value(json_object_get(a, "filename")), "a.zip") == 0);
		CHECK(json_integer_value(json_object_get(a, "size")) == 4);
	}
	json_decref(j);
	/* invalid UTF-8 declared as UTF-8 still gives valid JSON strings */
	raw = "Subject: \xff\xfe bad\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xc3\x28 "
	      "x\r\n";
	CHECK(ims_mailview_parse(raw, strlen(raw), &j) == IMS_OK);
	{
		char *s = json_dumps(j, 0);

		CHECK(s != NULL);
		free(s);
	}
	json_decref(j);
	CHECK(ims_mailview_parse("", 0, &j) == IMS_OK);
	json_decref(j);
}

/* One message through the view: subject and text as expected, and no
 * U+FFFD anywhere in the JSON. */
static void check_view(const char *raw, const char *subject, const char *text)
{
	json_t *j = NULL;
	char *s;

	CHECK(ims_mailview_parse(raw, strlen(raw), &j) == IMS_OK);
	if (subject)
		CHECK_STR_CONTAINS(json_string_value(json_object_get(j, "subject")), subject);
	CHECK_STR_CONTAINS(json_string_value(json_object_get(j, "text")), text);
	s = json_dumps(j, 0);
	CHECK(s != NULL && !strstr(s, "\xef\xbf\xbd") && !strstr(s, "\\ufffd"));
	free(s);
	json_decref(j);
}

/* Mail that is not UTF-8: declared charsets in 8-bit bodies and RFC 2047
 * words, and 8-bit text with no charset (GMime's fallback charsets). */
static void test_mailview_charsets(void)
{
	check_view("Subject: =?iso-8859-1?q?K=F6ln?=\r\nMIME-Version: 1.0\r\n"
	           "Content-Type: text/plain; charset=ISO-8859-1\r\n"
	           "Content-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdf"
	           "e aus K\xf6ln\r\n",
	           "Köln", "Grüße aus Köln");
	check_view("Subject: =?windows-1252?q?=80_5?=\r\nMIME-Version: 1.0\r\n"
	           "Content-Type: text/plain; charset=windows-1252\r\n"
	           "Content-Transfer-Encoding: 8bit\r\n\r\nPreis: 5 \x80 \x93gut\x94\r\n",
	           "€ 5", "Preis: 5 € “gut”");
	check_view("Subject: =?koi8-r?b?8NLJ18XU?=\r\nMIME-Version: 1.0\r\n"
	           "Content-Type: text/plain; charset=koi8-r\r\n"
	           "Content-Transfer-Encoding: 8bit\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n",
	           "Привет", "Привет");
	check_view("Subject: =?shift_jis?b?k/qWe4zq?=\r\nMIME-Version: 1.0\r\n"
	           "Content-Type: text/plain; charset=Shift_JIS\r\n"
	           "Content-Transfer-Encoding: 8bit\r\n\r\n\x93\xfa\x96{\x8c\xea\r\n",
	           "日本語", "日本語");
	/* the same in HTML */
	{
		const char *raw = "MIME-Version: 1.0\r\nContent-Type: text/html; charset=koi8-r\r\n"
		                  "\r\n<p>\xf0\xd2\xc9\xd7\xc5\xd4</p>\r\n";
		json_t *j = NULL;

		CHECK(ims_mailview_parse(raw, strlen(raw), &j) == IMS_OK);
		CHECK_STR_CONTAINS(json_string_value(json_object_get(j, "html")), "Привет");
		json_decref(j);
	}
	/* 8-bit with no charset at all: UTF-8 when it is, else Windows-1252 */
	check_view("Subject: Gr\xfc\xdf"
	           "e\r\n\r\nK\xf6ln \x80 5\r\n",
	           "Grüße", "Köln € 5");
	check_view("Subject: caf\xc3\xa9\r\nContent-Type: text/plain\r\n\r\nna\xc3\xafve\r\n",
	           "café", "naïve");
	/* declared US-ASCII, sent as 8-bit anyway */
	check_view("Content-Type: text/plain; charset=us-ascii\r\n\r\nK\xf6ln\r\n", NULL, "Köln");
	/* a charset iconv does not know: the bytes are still read */
	check_view("Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nK\xf6ln\r\n", NULL,
	           "Köln");
}

static void test_compose(void)
{
	struct ims_composed c;
	char err[256];
	json_t *j = json_pack("{s:[s,s], s:s, s:[s], s:s, s:s}", "to", "a@example.org",
	                      "Bee <b@example.net>", "cc", "c@example.org", "bcc", "d@example.org",
	                      "subject", "Grüße", "text", "line\n.\nend");

	CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_OK);
	CHECK(c.nrcpts == 4);
	CHECK(strcmp(c.rcpts[1], "b@example.net") == 0);
	CHECK(strcmp(c.rcpts[3], "d@example.org") == 0);
	CHECK_STR_CONTAINS(c.raw, "From: me@example.test\r\n");
	CHECK_STR_CONTAINS(c.raw, "Subject: =?");
	CHECK(!strstr(c.raw, "d@example.org"));
	CHECK(!strstr(c.raw, "\n\n")); /* CRLF only */
	/* the sender's copy: the same message with the Bcc */
	CHECK(c.sent_raw != NULL);
	CHECK_STR_CONTAINS(c.sent_raw, "Bcc: d@example.org\r\n");
	CHECK_STR_CONTAINS(c.sent_raw, c.message_id + 1);
	CHECK(c.sent_len == strlen(c.sent_raw) && c.sent_len > c.len);
	CHECK(c.message_id[0] == '<');
	ims_composed_free(&c);
	json_decref(j);

	j = json_pack("{s:s, s:s, s:s}", "to", "a@example.org", "subject", "a\r\nBcc: x@y", "text",
	              "x");
	CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_EINVAL);
	CHECK_STR_CONTAINS(err, "subject");
	json_decref(j);
	j = json_pack("{s:s, s:s}", "to", "not an address", "text", "x");
	CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_EINVAL);
	json_decref(j);
	/* GMime parses "b" as a mailbox without '@': the error names it, read
	 * from memory that is still the caller's (was a use-after-free). */
	j = json_pack("{s:[s], s:s}", "to", "b", "text", "");
	CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_EINVAL);
	CHECK_STR_CONTAINS(err, "'b' is not an address");
	json_decref(j);
	j = json_pack("{s:[s,s], s:s}", "cc", "a@example.org", "Bee <b c@x>", "text", "");
	CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_EINVAL);
	json_decref(j);
	j = json_pack("{s:s}", "to", "a@example.org");
	CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_EINVAL);
	json_decref(j);
	j = json_pack("{s:i, s:s}", "to", 5, "text", "x");
	CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_EINVAL);
	json_decref(j);
}

/* Attachments on send (base64 in the JSON), drafts without recipients, and
 * the attachment read back from the composed message (GET
 * /emails/{id}/attachments/{n}). */
static void test_compose_attachments(void)
{
	struct ims_composed c;
	char err[256], *data = NULL;
	size_t len = 0;
	json_t *j = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s}]}", "to", "a@example.org",
	                      "text", "see attached", "attachments", "filename", "menu.txt",
	                      "content_type", "text/plain", "data", "bWVudTogc291cAo=", "filename",
	                      "blob.bin", "data", "AAEC/w==");
	json_t *view = NULL;

	CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_OK);
	CHECK_STR_CONTAINS(c.raw, "multipart/mixed");
	CHECK_STR_CONTAINS(c.raw, "filename=menu.txt");
	CHECK_STR_CONTAINS(c.raw, "bWVudTogc291cAo=");
	CHECK(ims_mailview_parse(c.raw, c.len, &view) == IMS_OK);
	CHECK(json_array_size(json_object_get(view, "attachments")) == 2);
	CHECK(strcmp(json_string_value(json_object_get(view, "text")), "see attached") == 0);
	CHECK(ims_mailview_attachment(c.raw, c.len, 0, &data, &len) == IMS_OK);
	CHECK(len == 11 && data && memcmp(data, "menu: soup\n", 11) == 0);
	free(data);
	CHECK(ims_mailview_attachment(c.raw, c.len, 1, &data, &len) == IMS_OK);
	CHECK(len == 4 && data && memcmp(data, "\x00\x01\x02\xff", 4) == 0);
	free(data);
	CHECK(ims_mailview_attachment(c.raw, c.len, 2, &data, &len) == IMS_ENOTFOUND);
	CHECK(ims_mailview_attachment("not a message", 13, 0, &data, &len) == IMS_ENOTFOUND);
	json_decref(view);
	ims_composed_free(&c);
	json_decref(j);
	/* bad attachments: a clear 400 reason each */
	{
		static const char *const bad[][3] = {
		    {"a.txt", "text/plain", "not base64!"},  {"", "text/plain", "AAAA"},
		    {"../etc/passwd", "text/plain", "AAAA"}, {"a\r\nb.txt", "text/plain", "AAAA"},
		    {"a.txt", "not a type", "AAAA"},
		};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			j = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}]}", "to", "a@example.org",
			              "text", "x", "attachments", "filename", bad[i][0],
			              "content_type", bad[i][1], "data", bad[i][2]);
			CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_EINVAL);
			CHECK_STR_CONTAINS(err, "attachments[0]");
			json_decref(j);
		}
		j = json_pack("{s:s, s:s, s:s}", "to", "a@example.org", "text", "x", "attachments",
		              "x");
		CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_EINVAL);
		json_decref(j);
	}
	/* a draft needs neither recipients nor text; a message does */
	j = json_pack("{s:s}", "subject", "later");
	CHECK(ims_compose("me@example.test", j, &c, err, sizeof err) == IMS_EINVAL);
	CHECK(ims_compose_draft("me@example.test", j, &c, err, sizeof err) == IMS_OK);
	CHECK_STR_CONTAINS(c.raw, "Subject: later\r\n");
	CHECK(c.nrcpts == 0);
	ims_composed_free(&c);
	json_decref(j);
}

static void jsonw_check(const char *in, size_t len, const char *want)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	json_t *j;

	ims_jsonw_str(f, in, len);
	fclose(f);
	j = json_loadb(buf, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	CHECK(j != NULL);
	if (j && want)
		CHECK(strcmp(json_string_value(j), want) == 0);
	if (!j)
		fprintf(stderr, "  not JSON: %s\n", buf);
	json_decref(j);
	free(buf);
}

static void test_jsonw(void)
{
	jsonw_check("plain", 5, "plain");
	jsonw_check("q\"b\\s\n\r\t\x01", 9, "q\"b\\s\n\r\t\x01");
	jsonw_check("Gr\xc3\xbc\xc3\x9f", 6, "Grüß");
	jsonw_check("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
	jsonw_check("a\xff"
	            "b",
	            3,
	            "a\xef\xbf\xbd"
	            "b");
	jsonw_check("\xc3", 1, "\xef\xbf\xbd");
	jsonw_check("\xed\xa0\x80", 3, NULL); /* a surrogate */
	jsonw_check("\xc0\xaf", 2, NULL);     /* overlong */
	jsonw_check("nul\0in", 6, NULL);
	jsonw_check("", 0, "");
}

/* The buffer form: what the list routes write with. */
static void test_jsonw_buf(void)
{
	struct ims_jsonw w = {0};
	char big[5000], *s;
	size_t n = 99;
	json_t *j;

	s = ims_jsonw_take(&w, &n); /* nothing written */
	CHECK(s == NULL && n == 0);
	memset(big, 'x', sizeof big);
	ims_jsonw_raw(&w, "{\"a\":", 5);
	ims_jsonw_string(&w, "q\"\x01\xff", 4);
	ims_jsonw_puts(&w, ",\"b\":[");
	for (int i = 0; i < 8; i++) /* past the first allocation */
		ims_jsonw_string(&w, big, sizeof big), ims_jsonw_raw(&w, i < 7 ? "," : "", i < 7);
	ims_jsonw_raw(&w, "]}", 2);
	CHECK(!w.failed);
	s = ims_jsonw_take(&w, &n);
	CHECK(s != NULL && n == strlen(s) && w.buf == NULL && w.len == 0);
	CHECK_STR_CONTAINS(s, "{\"a\":\"q\\\"\\u0001\xef\xbf\xbd\",\"b\":[\"xxx");
	j = s ? json_loads(s, 0, NULL) : NULL;
	CHECK(j && json_array_size(json_object_get(j, "b")) == 8);
	json_decref(j);
	free(s);
	w.failed = true; /* as after a failed allocation */
	ims_jsonw_raw(&w, "x", 1);
	CHECK(ims_jsonw_take(&w, &n) == NULL && n == 0);
}

int main(void)
{
	g_mime_init();
	xmlInitParser();
	RUN(test_reqid);
	RUN(test_router);
	RUN(test_sanitize);
	RUN(test_sanitize_images);
	RUN(test_mailview);
	RUN(test_mailview_charsets);
	RUN(test_compose);
	RUN(test_compose_attachments);
	RUN(test_jsonw);
	RUN(test_jsonw_buf);
	xmlCleanupParser();
	g_mime_shutdown();
	return CHECK_DONE();
}
