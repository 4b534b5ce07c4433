/* Links at click time: click tokens (lib/linktoken.c) and the MIME link
 * rewriter (lib/linkrewrite.c). */
#include "config.h"

#include <fcntl.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "clicks.h"
#include "linkrewrite.h"
#include "links.h"
#include "linktoken.h"
#include "message.h"
#include "scan_internal.h"

static const char secret[] = "0123456789abcdef0123456789abcdef-test-key";

static struct ims_linkkey *key(void)
{
	struct ims_linkkey *k = NULL;

	CHECK(ims_linkkey_from_bytes(secret, sizeof secret - 1, &k) == IMS_OK);
	return k;
}

static void sign(const struct ims_linkkey *k, const char *url, uint64_t issued, char *out,
                 size_t outlen)
{
	struct ims_linktoken t = {.kind = IMS_LINKTOKEN_CLICK, .issued = issued};

	snprintf(t.scan_id, sizeof t.scan_id, "01HZX3ABCDEF");
	snprintf(t.user, sizeof t.user, "bob@example.org");
	snprintf(t.url, sizeof t.url, "%s", url);
	CHECK(ims_linktoken_sign(k, &t, out, outlen) == IMS_OK);
}

static void test_token_roundtrip(void)
{
	struct ims_linkkey *k = key();
	struct ims_linktoken v;
	char tok[IMS_LINKTOKEN_MAX + 1];

	sign(k, "https://example.com/a?b=1&c=\"2\"", 1000, tok, sizeof tok);
	CHECK(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
	      strlen(tok));
	CHECK(ims_linktoken_verify(k, tok, strlen(tok), 1010, 3600, &v) == IMS_OK);
	CHECK(v.kind == IMS_LINKTOKEN_CLICK && v.issued == 1000);
	CHECK(strcmp(v.url, "https://example.com/a?b=1&c=\"2\"") == 0);
	CHECK(strcmp(v.user, "bob@example.org") == 0);
	CHECK(strcmp(v.scan_id, "01HZX3ABCDEF") == 0);
	ims_linkkey_free(k);
}

static void test_token_expiry(void)
{
	struct ims_linkkey *k = key();
	struct ims_linktoken v;
	char tok[IMS_LINKTOKEN_MAX + 1];

	sign(k, "https://example.com/", 1000, tok, sizeof tok);
	CHECK(ims_linktoken_verify(k, tok, strlen(tok), 1000 + 3600, 3600, &v) == IMS_OK);
	CHECK(ims_linktoken_verify(k, tok, strlen(tok), 1000 + 3601, 3600, &v) == IMS_ELIMIT);
	CHECK(strcmp(v.url, "https://example.com/") == 0); /* still says what it was */
	/* from the future, past the skew */
	CHECK(ims_linktoken_verify(k, tok, strlen(tok), 1000 - IMS_LINKTOKEN_SKEW_S - 1, 3600,
	                           &v) == IMS_ELIMIT);
	ims_linkkey_free(k);
}

static void test_token_tamper(void)
{
	struct ims_linkkey *k = key(), *other = NULL;
	struct ims_linktoken v;
	char tok[IMS_LINKTOKEN_MAX + 1], bad[IMS_LINKTOKEN_MAX + 1];
	size_t n;
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	sign(k, "https://example.com/x", 1000, tok, sizeof tok);
	n = strlen(tok);
	/* every single-character change is refused */
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, tok, n + 1);
		bad[i] = alphabet[(strchr(alphabet, bad[i]) - alphabet + 1) % 64];
		if (ims_linktoken_verify(k, bad, n, 1000, 3600, &v) != IMS_EINVAL) {
			CHECK(!"an altered token verified");
			break;
		}
		CHECK(v.url[0] == '\0');
	}
	CHECK(ims_linktoken_verify(k, tok, n - 1, 1000, 3600, &v) == IMS_EINVAL);
	CHECK(ims_linktoken_verify(k, "", 0, 1000, 3600, &v) == IMS_EINVAL);
	CHECK(ims_linktoken_verify(k, "!!!!", 4, 1000, 3600, &v) == IMS_EINVAL);
	CHECK(ims_linktoken_verify(k, tok, IMS_LINKTOKEN_MAX + 1, 1000, 3600, &v) == IMS_EINVAL);
	/* another key: a forgery */
	CHECK(ims_linkkey_from_bytes("another key, thirty-two bytes long!", 35, &other) == IMS_OK);
	CHECK(ims_linktoken_verify(other, tok, n, 1000, 3600, &v) == IMS_EINVAL);
	ims_linkkey_free(other);
	CHECK(ims_linkkey_from_bytes("short", 5, &other) == IMS_EINVAL && !other);
	ims_linkkey_free(k);
}

static void test_token_limits(void)
{
	struct ims_linkkey *k = key();
	struct ims_linktoken t = {.kind = IMS_LINKTOKEN_CONTINUE, .issued = 5}, v;
	char tok[IMS_LINKTOKEN_MAX + 1], small[16];

	memset(t.url, 'a', IMS_LINKTOKEN_URL_MAX);
	memset(t.user, 'u', IMS_LINKTOKEN_USER_MAX);
	memset(t.scan_id, 's', IMS_LINKTOKEN_SCAN_MAX);
	CHECK(ims_linktoken_sign(k, &t, tok, sizeof tok) == IMS_OK);
	CHECK(strlen(tok) <= IMS_LINKTOKEN_MAX);
	CHECK(ims_linktoken_verify(k, tok, strlen(tok), 5, 10, &v) == IMS_OK);
	CHECK(v.kind == IMS_LINKTOKEN_CONTINUE && strlen(v.url) == IMS_LINKTOKEN_URL_MAX);
	CHECK(ims_linktoken_sign(k, &t, small, sizeof small) == IMS_ELIMIT);
	snprintf(t.url, sizeof t.url, "https://a/\n");
	CHECK(ims_linktoken_sign(k, &t, tok, sizeof tok) == IMS_EINVAL);
	ims_linkkey_free(k);
}

static void test_key_file(void)
{
	char dir[] = "/tmp/ims-linkkey-XXXXXX", path[64], err[256];
	struct ims_linkkey *k = NULL;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/key", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, secret, sizeof secret - 1) == (ssize_t)(sizeof secret - 1));
	close(fd);
	CHECK(ims_linkkey_load(path, &k, err, sizeof err) == IMS_EPERM && !k);
	CHECK_STR_CONTAINS(err, "0644");
	chmod(path, 0640);
	CHECK(ims_linkkey_load(path, &k, err, sizeof err) == IMS_OK && k);
	ims_linkkey_free(k);
	k = NULL;
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "short", 5) == 5);
	close(fd);
	CHECK(ims_linkkey_load(path, &k, err, sizeof err) == IMS_EINVAL && !k);
	unlink(path);
	CHECK(ims_linkkey_load(path, &k, err, sizeof err) == IMS_EIO && !k);
	rmdir(dir);
}

/* The rewriter with a callback that marks every URL. */
static char *mark(void *arg, const char *url)
{
	size_t n = strlen(url) + 40;
	char *r = malloc(n);

	(*(int *)arg)++;
	snprintf(r, n, "https://click.test/c?u=%zu", strlen(url));
	return r;
}

static int has_8bit_str(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* A click URL of 120 bytes: ten of them pass 998 bytes on one line. */
static char *long_mark(void *arg, const char *url)
{
	char *r = malloc(130);

	(void)url;
	(*(int *)arg)++;
	snprintf(r, 130, "https://click.test/c?t=%0100d", *(int *)arg);
	return r;
}

struct rewritten {
	ims_status rc;
	char *body;
	size_t len;
	struct ims_linkrewrite_stats st;
	int calls;
};

static struct rewritten rewrite(const char *msg)
{
	struct rewritten r = {0};

	r.rc =
	    ims_linkrewrite_message(msg, strlen(msg), 100, mark, &r.calls, &r.body, &r.len, &r.st);
	return r;
}

/* The decoded content of leaf part i (0-based, in order) of headers + body. */
static char *part_text(const char *headers, const char *body, int want)
{
	char *all = g_strconcat(headers, body, NULL);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(all, strlen(all));
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	GMimePartIter *it;
	char *out = NULL;
	int i = 0;

	g_free(all);
	CHECK(m != NULL);
	if (!m)
		return NULL;
	if (GMIME_IS_PART(m->mime_part)) {
		GMimeStream *mem = g_mime_stream_mem_new();
		GByteArray *b;

		g_mime_data_wrapper_write_to_stream(
		    g_mime_part_get_content(GMIME_PART(m->mime_part)), mem);
		b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		out = g_strndup((char *)b->data, b->len);
		g_object_unref(mem);
	} else {
		it = g_mime_part_iter_new(GMIME_OBJECT(m));
		do {
			GMimeObject *o = g_mime_part_iter_get_current(it);

			if (GMIME_IS_PART(o) && i++ == want) {
				GMimeStream *mem = g_mime_stream_mem_new();
				GByteArray *b;

				g_mime_data_wrapper_write_to_stream(
				    g_mime_part_get_content(GMIME_PART(o)), mem);
				b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
				out = g_strndup((char *)b->data, b->len);
				g_object_unref(mem);
			}
		} while (g_mime_part_iter_next(it));
		g_mime_part_iter_free(it);
	}
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(s);
	return out;
}

#define HDR "From: a@example.com\r\nTo: b@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n"

static void test_rewrite_text(void)
{
	const char *h = HDR "Content-Type: text/plain; charset=utf-8\r\n\r\n";
	char msg[1024];
	struct rewritten r;
	char *t;

	snprintf(msg, sizeof msg,
	         "%sSee https://example.com/a?b=1, or <http://x.example/p>.\r\n"
	         "Not a link: ftp://f.example/ or mailto:a@b\r\n",
	         h);
	r = rewrite(msg);
	CHECK(r.rc == IMS_OK);
	CHECK(r.st.links == 2 && r.st.parts == 1 && r.calls == 2);
	CHECK(r.body && strstr(r.body, "\r\n") && !strstr(r.body, "example.com/a"));
	t = part_text(h, r.body ? r.body : "", 0);
	CHECK_STR_CONTAINS(t, "See https://click.test/c?u=25, or <https://click.test/c?u=18>.");
	CHECK_STR_CONTAINS(t, "ftp://f.example/");
	g_free(t);
	free(r.body);

	/* no link: nothing to do */
	snprintf(msg, sizeof msg, "%sHello, no links here ://\r\n", h);
	r = rewrite(msg);
	CHECK(r.rc == IMS_ENOTFOUND && !r.body);
}

static void test_rewrite_html_escaping(void)
{
	const char *h = HDR "Content-Type: text/html; charset=us-ascii\r\n\r\n";
	char msg[2048];
	struct rewritten r;
	char *t;

	snprintf(msg, sizeof msg,
	         "%s<html><body><p>Hi <a href=\"https://bank.example/login?a=1&amp;b=2\">"
	         "https://bank.example/</a> and <A HREF='HTTP://evil.example/\"x'>y</A>"
	         "<a href=\"mailto:x@y\">m</a> visit http://text.example/ now</p>"
	         "<script>var u='http://script.example/';</script></body></html>\r\n",
	         h);
	r = rewrite(msg);
	CHECK(r.rc == IMS_OK);
	CHECK(r.st.links == 3);
	t = part_text(h, r.body ? r.body : "", 0);
	/* the href decoded by the parser: "&amp;" is one "&" (length 34) */
	CHECK_STR_CONTAINS(t, "href=\"https://click.test/c?u=34\"");
	CHECK_STR_CONTAINS(t, "href=\"https://click.test/c?u=22\"");
	CHECK_STR_CONTAINS(t, "visit https://click.test/c?u=20 now");
	/* anchor text and scripts stay; mailto stays */
	CHECK_STR_CONTAINS(t, ">https://bank.example/</a>");
	CHECK_STR_CONTAINS(t, "mailto:x@y");
	CHECK_STR_CONTAINS(t, "http://script.example/");
	CHECK(!strstr(t ? t : "", "evil.example"));
	g_free(t);
	free(r.body);
}

/* An attribute value that needs escaping is written escaped. */
static char *quote_mark(void *arg, const char *url)
{
	(void)url;
	return strdup(++*(int *)arg == 1 ? "https://click.test/c?a=1&t=<x>'y"
	                                 : "https://click.test/c?a=1&t=\"x");
}

static void test_rewrite_html_attribute_escaped(void)
{
	const char *h = HDR "Content-Type: text/html; charset=utf-8\r\n\r\n";
	char msg[512], *body = NULL, *t;
	struct ims_linkrewrite_stats st;
	size_t len;
	int calls = 0;

	snprintf(msg, sizeof msg, "%s<p><a href=\"https://a.example/\">a</a></p>\r\n", h);
	CHECK(ims_linkrewrite_message(msg, strlen(msg), 10, quote_mark, &calls, &body, &len, &st) ==
	      IMS_OK);
	t = part_text(h, body ? body : "", 0);
	/* libxml2 writes the attribute: & and < escaped */
	CHECK_STR_CONTAINS(t, "href=\"https://click.test/c?a=1&amp;t=&lt;x&gt;'y\"");
	CHECK(!strstr(t ? t : "", "DOCTYPE"));
	g_free(t);
	free(body);
	body = NULL;
	/* a quote it would write URI-escaped (%22): the link read back is not
	 * the one made, so the message is left alone */
	CHECK(ims_linkrewrite_message(msg, strlen(msg), 10, quote_mark, &calls, &body, &len, &st) ==
	      IMS_EFORMAT);
	CHECK(!body);
	CHECK_STR_CONTAINS(st.reason, "does not read back");
}

static void test_rewrite_qp_base64_multipart(void)
{
	const char *h = HDR "Content-Type: multipart/alternative; boundary=\"BB\"\r\n\r\n";
	char msg[4096];
	struct rewritten r;
	char *t;

	snprintf(msg, sizeof msg,
	         "%spreamble\r\n--BB\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
	         "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	         "Caf=E9: https://qp.example/a-very-long-path-that-gets-soft-broken-by-the-q=\r\n"
	         "p-encoder/x end\r\n"
	         "--BB\r\nContent-Type: text/html; charset=utf-8\r\n"
	         "Content-Transfer-Encoding: base64\r\n\r\n"
	         "PHA+PGEgaHJlZj0iaHR0cHM6Ly9iNjQuZXhhbXBsZS94Ij54PC9hPjwvcD4K\r\n"
	         "--BB\r\nContent-Type: application/octet-stream\r\n"
	         "Content-Transfer-Encoding: base64\r\n\r\n"
	         "aHR0cHM6Ly9ub3QuYS5ib2R5LnBhcnQv\r\n"
	         "--BB--\r\nepilogue\r\n",
	         h);
	r = rewrite(msg);
	CHECK(r.rc == IMS_OK);
	CHECK(r.st.links == 2 && r.st.parts == 2);
	CHECK_STR_CONTAINS(r.body, "preamble\r\n--BB\r\n");
	CHECK_STR_CONTAINS(r.body, "Content-Transfer-Encoding: quoted-printable\r\n");
	CHECK_STR_CONTAINS(r.body, "aHR0cHM6Ly9ub3QuYS5ib2R5LnBhcnQv"); /* attachment unchanged */
	CHECK_STR_CONTAINS(r.body, "--BB--\r\nepilogue");
	t = part_text(h, r.body ? r.body : "", 0);
	CHECK_STR_CONTAINS(t, "Caf\xe9: https://click.test/c?u=");
	CHECK_STR_CONTAINS(t, " end");
	CHECK(!strstr(t ? t : "", "qp.example"));
	g_free(t);
	t = part_text(h, r.body ? r.body : "", 1);
	CHECK_STR_CONTAINS(t, "href=\"https://click.test/c?u=21\"");
	g_free(t);
	free(r.body);
}

/* Links whose "://" never shows in the raw message: a base64 body, and a
 * quoted-printable soft line break inside the scheme.  Whether there is
 * anything to rewrite is the decoded text's question, not the raw bytes'. */
static void test_rewrite_encoded_only(void)
{
	struct rewritten r;
	char *t;
	const char *b64 = HDR "Content-Type: text/html; charset=utf-8\r\n"
	                      "Content-Transfer-Encoding: base64\r\n\r\n"
	                      "PHA+PGEgaHJlZj0iaHR0cHM6Ly9iNjQuZXhhbXBsZS94Ij54PC9hPjwvcD4K\r\n";
	const char *qp = HDR "Content-Type: text/plain; charset=utf-8\r\n"
	                     "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	                     "see https:=\r\n//qp.example/x today\r\n";

	r = rewrite(b64);
	CHECK(r.rc == IMS_OK && r.st.links == 1);
	t = part_text(HDR "Content-Type: text/html; charset=utf-8\r\n"
	                  "Content-Transfer-Encoding: base64\r\n\r\n",
	              r.body ? r.body : "", 0);
	CHECK_STR_CONTAINS(t, "https://click.test/c?u=");
	CHECK(!strstr(t ? t : "", "b64.example"));
	g_free(t);
	free(r.body);
	r = rewrite(qp);
	CHECK(r.rc == IMS_OK && r.st.links == 1);
	free(r.body);
}

static void test_rewrite_left_alone(void)
{
	char msg[1024];
	struct rewritten r;

	/* a charset that is not ASCII-compatible */
	snprintf(msg, sizeof msg,
	         HDR "Content-Type: text/plain; charset=utf-16\r\n\r\nhttps://x.example/\r\n");
	r = rewrite(msg);
	CHECK(r.rc == IMS_EFORMAT && !r.body);
	CHECK_STR_CONTAINS(r.st.reason, "utf-16");
	/* 8-bit text with no charset */
	snprintf(msg, sizeof msg,
	         HDR "Content-Type: text/plain\r\n\r\n\xe4 https://x.example/\r\n");
	r = rewrite(msg);
	CHECK(r.rc == IMS_EFORMAT && !r.body);
	/* 8-bit text labelled US-ASCII */
	snprintf(msg, sizeof msg,
	         HDR "Content-Type: text/html; charset=us-ascii\r\n\r\n<p>\xe9 "
	             "<a href=\"https://x.example/\">x</a></p>\r\n");
	r = rewrite(msg);
	CHECK(r.rc == IMS_EFORMAT && !r.body);
	CHECK_STR_CONTAINS(r.st.reason, "8-bit text labelled us-ascii");
	/* Shift_JIS: an ASCII byte may be half of a character */
	snprintf(msg, sizeof msg,
	         HDR "Content-Type: text/plain; charset=Shift_JIS\r\n\r\nhttps://x.example/\r\n");
	r = rewrite(msg);
	CHECK(r.rc == IMS_EFORMAT && !r.body);
	/* a 7bit line that would grow past 998 bytes: quoted-printable, the
	 * caller told to change the message's field */
	{
		char line[990];

		memset(line, 'x', sizeof line - 1);
		line[sizeof line - 1] = '\0';
		snprintf(msg, sizeof msg, "%s", "");
		char *big = g_strdup_printf(HDR "Content-Type: text/plain\r\n"
		                                "Content-Transfer-Encoding: 7bit\r\n\r\n"
		                                "https://x.example/ %s\r\n",
		                            line);
		struct ims_linkrewrite_stats st;
		char *body = NULL;
		size_t len;
		int calls = 0;

		CHECK(ims_linkrewrite_message(big, strlen(big), 10, mark, &calls, &body, &len,
		                              &st) == IMS_OK);
		CHECK(body && st.to_qp == 1);
		free(body);
		g_free(big);
	}
	/* more links than the limit */
	{
		struct ims_linkrewrite_stats st;
		char *body = NULL;
		size_t len;
		int calls = 0;

		snprintf(
		    msg, sizeof msg,
		    HDR
		    "Content-Type: text/plain\r\n\r\nhttps://a.example/ https://b.example/\r\n");
		CHECK(ims_linkrewrite_message(msg, strlen(msg), 1, mark, &calls, &body, &len,
		                              &st) == IMS_ELIMIT);
		CHECK(!body && st.links == 0);
	}
}

/* HTML is written as ASCII with character references, whatever the MIME
 * charset or a <meta> says: the text stays the same characters. */
static void test_rewrite_html_charsets(void)
{
	const char *h = HDR "Content-Type: text/html; charset=utf-8\r\n\r\n";
	char msg[1024];
	struct rewritten r;
	char *t;

	snprintf(msg, sizeof msg,
	         "%s<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
	         "charset=iso-8859-1\"></head><body><p>Caf\xc3\xa9 \xe2\x82\xac "
	         "<a href=\"https://x.example/\">x</a></p></body></html>\r\n",
	         h);
	r = rewrite(msg);
	CHECK(r.rc == IMS_OK);
	t = part_text(h, r.body ? r.body : "", 0);
	CHECK(t && !has_8bit_str(t));
	CHECK_STR_CONTAINS(t, "Caf&eacute; &euro;");
	CHECK_STR_CONTAINS(t, "charset=iso-8859-1"); /* the meta is kept */
	CHECK_STR_CONTAINS(t, "href=\"https://click.test/c?u=18\"");
	g_free(t);
	free(r.body);

	/* KOI8-R text: ASCII-compatible; an 8-bit character after a URL is
	 * part of it (a mail client may link it: an IDN) */
	snprintf(
	    msg, sizeof msg,
	    HDR "Content-Type: text/plain; charset=koi8-r\r\n"
	        "Content-Transfer-Encoding: 8bit\r\n\r\n\xf0\xd2\xc9 https://x.example/a\xf7 \r\n");
	r = rewrite(msg);
	CHECK(r.rc == IMS_OK);
	CHECK(r.body && strstr(r.body, "\xf0\xd2\xc9 https://click.test/c?u=20 "));
	free(r.body);
}

/* A long line in a 7bit part: the part becomes quoted-printable (in a
 * single-part message the caller changes the message's field). */
static void test_rewrite_long_line(void)
{
	GString *line = g_string_new("");
	char *msg, *t;
	struct rewritten r;

	for (int i = 0; i < 10; i++)
		g_string_append_printf(line, "https://x%d.example/ and ", i);
	g_string_append(line, "a long line");
	msg = g_strdup_printf(HDR "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
	                          "Content-Type: text/plain; charset=us-ascii\r\n"
	                          "Content-Transfer-Encoding: 7bit\r\n\r\n%s\r\n--B--\r\n",
	                      line->str);
	memset(&r, 0, sizeof r);
	r.rc = ims_linkrewrite_message(msg, strlen(msg), 100, long_mark, &r.calls, &r.body, &r.len,
	                               &r.st);
	g_free(msg);
	CHECK(r.rc == IMS_OK);
	CHECK(r.body && strstr(r.body, "Content-Transfer-Encoding: quoted-printable\r\n"));
	CHECK(r.body && !strstr(r.body, "Content-Transfer-Encoding: 7bit"));
	t = part_text(HDR "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n",
	              r.body ? r.body : "", 0);
	CHECK(t && strlen(t) > 998 && strstr(t, "a long line"));
	g_free(t);
	free(r.body);

	msg = g_strdup_printf(HDR "Content-Type: text/plain; charset=us-ascii\r\n"
	                          "Content-Transfer-Encoding: 7bit\r\n\r\n%s\r\n",
	                      line->str);
	memset(&r, 0, sizeof r);
	r.rc = ims_linkrewrite_message(msg, strlen(msg), 100, long_mark, &r.calls, &r.body, &r.len,
	                               &r.st);
	/* the body is quoted-printable, and the caller must say so */
	CHECK(r.rc == IMS_OK && r.st.to_qp == 1);
	CHECK(r.body && strstr(r.body, "=\r\n"));
	t = part_text(HDR "Content-Type: text/plain; charset=us-ascii\r\n"
	                  "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	              r.body ? r.body : "", 0);
	CHECK(t && strlen(t) > 998 && strstr(t, "a long line") && !strstr(t, "x1.example"));
	g_free(t);
	free(r.body);
	g_free(msg);

	/* two Content-Transfer-Encoding fields: which one would a client read? */
	msg = g_strdup_printf(HDR "Content-Type: text/plain; charset=us-ascii\r\n"
	                          "Content-Transfer-Encoding: 7bit\r\n"
	                          "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
	                      line->str);
	memset(&r, 0, sizeof r);
	r.rc = ims_linkrewrite_message(msg, strlen(msg), 100, long_mark, &r.calls, &r.body, &r.len,
	                               &r.st);
	CHECK(r.rc == IMS_ELIMIT && !r.body && !r.st.to_qp);
	CHECK_STR_CONTAINS(r.st.reason, "998 bytes in a");
	g_free(msg);
	g_string_free(line, TRUE);
}

static void test_click_url(void)
{
	struct ims_linkkey *k = key();
	struct ims_linktoken v;
	char *u = ims_links_click_url("https://mail.example/click", k, "SCAN1", "bob@example.org",
	                              "https://example.com/", 77);
	char *u2 =
	    ims_links_click_url("https://mail.example/r?x=1", k, "SCAN1", "", "https://e/", 77);
	const char *t;

	CHECK(u && strncmp(u, "https://mail.example/click?t=", 29) == 0);
	t = u ? u + 29 : "";
	CHECK(ims_linktoken_verify(k, t, strlen(t), 78, 10, &v) == IMS_OK);
	CHECK(strcmp(v.scan_id, "SCAN1") == 0 && strcmp(v.url, "https://example.com/") == 0);
	CHECK(u2 && strncmp(u2, "https://mail.example/r?x=1&t=", 29) == 0);
	free(u);
	free(u2);
	ims_linkkey_free(k);
}

/* Which link domains a scan's listing symbols name (the scans since). */
static void test_note_listed(void)
{
	struct ims_scan *s = calloc(1, sizeof *s);
	const struct ims_link links[] = {
	    {.href = "https://www.bad.example/x", .text = ""},
	    {.href = "https://evil.intel.example/", .text = ""},
	    {.href = "https://xbad.example/", .text = ""},
	    {.href = "https://good.example/", .text = ""},
	    {.href = "http://203.0.113.5/", .text = ""},
	};

	ims_scan_add_symbol(s, "SPF_PASS", -0.5, "bad.example"); /* before first_hit */
	ims_scan_add_symbol(s, "TEST_DBL", 4, "bad.example listed in dbl.test (127.0.1.2)");
	ims_scan_add_symbol(s, "INTEL_BLOCK", 0, "list=feed entry=intel.example (link)");
	ims_scan_add_symbol(s, "DNSBL_FAIL", 0, "good.example: dbl2.test did not answer");
	ims_scan_add_symbol(s, "TEST_INFO", 0, "good.example listed in info.test");
	ims_clicks_note_listed(s, links, sizeof links / sizeof links[0], 1);
	CHECK(s->nlisted == 2);
	CHECK(strcmp(s->listed[0], "bad.example") == 0);
	CHECK(strcmp(s->listed[1], "intel.example") == 0);
	free(s);
}

/* The click-time verdicts that need no list (eng and Redis NULL). */
static void test_click_verdicts(void)
{
	struct ims_click_check c;

	ims_click_check_url(NULL, NULL, "https://docs.example.org/a", &c);
	CHECK(c.verdict == IMS_CLICK_CLEAN && !c.reason[0]);
	ims_click_check_url(NULL, NULL, "http://203.0.113.5/x", &c);
	CHECK(c.verdict == IMS_CLICK_WARN);
	CHECK_STR_CONTAINS(c.reason, "bare IP address");
	ims_click_check_url(NULL, NULL, "https://[2001:db8::1]/x", &c);
	CHECK(c.verdict == IMS_CLICK_WARN);
	ims_click_check_url(NULL, NULL, "https://www.xn--pypal-4ve.com/", &c);
	CHECK(c.verdict == IMS_CLICK_WARN);
	CHECK_STR_CONTAINS(c.reason, "punycode");
	ims_click_check_url(NULL, NULL, "javascript:alert(1)", &c);
	CHECK(c.verdict == IMS_CLICK_BLOCK);
	/* no host to check (browsers read "https:///x" as host x, lib/urls.h) */
	ims_click_check_url(NULL, NULL, "https://", &c);
	CHECK(c.verdict == IMS_CLICK_WARN);
	CHECK(strcmp(ims_click_verdict_name(IMS_CLICK_BLOCK), "block") == 0);
}

int main(void)
{
	g_mime_init();
	RUN(test_token_roundtrip);
	RUN(test_token_expiry);
	RUN(test_token_tamper);
	RUN(test_token_limits);
	RUN(test_key_file);
	RUN(test_rewrite_text);
	RUN(test_rewrite_html_escaping);
	RUN(test_rewrite_html_attribute_escaped);
	RUN(test_rewrite_qp_base64_multipart);
	RUN(test_rewrite_encoded_only);
	RUN(test_rewrite_left_alone);
	RUN(test_rewrite_html_charsets);
	RUN(test_rewrite_long_line);
	RUN(test_click_url);
	RUN(test_note_listed);
	RUN(test_click_verdicts);
	return CHECK_DONE();
}
