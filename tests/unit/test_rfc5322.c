#include "config.h"

#include <string.h>
#include <strings.h>

#include "check.h"
#include "hdrvalue.h"
#include "rfc5322.h"

static struct ims_msg *parse(const char *s, ims_status *st)
{
	struct ims_msg *m = NULL;

	*st = ims_msg_parse(s, strlen(s), 100, 1000, &m);
	return m;
}

static void test_crlf_and_folding(void)
{
	const char *raw = "From: Alice <alice@Example.COM>\r\n"
	                  "Subject: hello\r\n"
	                  "\tworld\r\n"
	                  "To: bob@example.net\r\n"
	                  "\r\n"
	                  "body line\r\n";
	ims_status st;
	struct ims_msg *m = parse(raw, &st);
	const char *name, *value, *field, *body;
	size_t vlen, flen, blen;
	char dom[256];
	size_t naddr;

	CHECK(st == IMS_OK);
	CHECK(ims_msg_header_count(m) == 3);
	CHECK(ims_msg_header(m, 1, &name, &value, &vlen) == IMS_OK);
	CHECK(strcmp(name, "Subject") == 0);
	CHECK(strcmp(value, " hello\r\n\tworld") == 0);
	CHECK(vlen == strlen(" hello\r\n\tworld"));
	CHECK(ims_msg_header_field(m, 1, &field, &flen) == IMS_OK);
	CHECK(flen == strlen("Subject: hello\r\n\tworld"));
	CHECK(memcmp(field, "Subject: hello\r\n\tworld", flen) == 0);
	CHECK(ims_msg_header(m, 3, &name, &value, &vlen) == IMS_EINVAL);
	CHECK(strcmp(ims_msg_find(m, "to", 0), " bob@example.net") == 0);
	CHECK(ims_msg_find(m, "to", 1) == NULL);
	body = ims_msg_body(m, &blen);
	CHECK(blen == strlen("body line\r\n"));
	CHECK(memcmp(body, "body line\r\n", blen) == 0);
	CHECK(ims_msg_from_count(m) == 1);
	CHECK(ims_msg_from_domain(m, dom, sizeof dom, &naddr) == IMS_OK);
	CHECK(strcmp(dom, "example.com") == 0);
	CHECK(naddr == 1);
	ims_msg_free(m);
}

static void test_lf_mbox_and_no_body(void)
{
	ims_status st;
	struct ims_msg *m = parse("From someone@x Thu Aug 22 12:00:00 2002\n"
	                          "From: \"Doe, J\" <j@Sub.Example.org>\n"
	                          "From: other@evil.test\n"
	                          "Subject :obs spacing\n",
	                          &st);
	size_t blen = 99;
	char dom[64];

	CHECK(st == IMS_OK);
	CHECK(ims_msg_header_count(m) == 3);
	CHECK(ims_msg_from_count(m) == 2);
	CHECK(ims_msg_count(m, "subject") == 1);
	CHECK(strcmp(ims_msg_find(m, "Subject", 0), "obs spacing") == 0);
	ims_msg_body(m, &blen);
	CHECK(blen == 0);
	CHECK(ims_msg_from_domain(m, dom, sizeof dom, NULL) == IMS_OK);
	CHECK(strcmp(dom, "sub.example.org") == 0);
	CHECK(ims_msg_from_domain(m, dom, 4, NULL) == IMS_ELIMIT);
	ims_msg_free(m);
}

static void test_non_header_line_starts_body(void)
{
	ims_status st;
	struct ims_msg *m = parse("Subject: x\nthis is not a header\nmore\n", &st);
	const char *body;
	size_t blen;

	CHECK(st == IMS_OK);
	CHECK(ims_msg_header_count(m) == 1);
	body = ims_msg_body(m, &blen);
	CHECK(blen == strlen("this is not a header\nmore\n"));
	CHECK(body && strncmp(body, "this is not", 11) == 0);
	ims_msg_free(m);
}

static void test_malformed(void)
{
	ims_status st;
	struct ims_msg *m;
	char dom[64];

	CHECK(parse("", &st) == NULL && st == IMS_EFORMAT);
	CHECK(parse("\r\nbody only\r\n", &st) == NULL && st == IMS_EFORMAT);
	CHECK(parse("no colon here\r\n\r\n", &st) == NULL && st == IMS_EFORMAT);
	CHECK(parse(" leading space: x\r\n", &st) == NULL && st == IMS_EFORMAT);
	CHECK(parse(": empty name\r\n", &st) == NULL && st == IMS_EFORMAT);
	CHECK(ims_msg_parse(NULL, 0, 10, 10, &m) == IMS_EINVAL);

	/* no From, or a From without an address */
	m = parse("Subject: x\r\n\r\n", &st);
	CHECK(st == IMS_OK);
	CHECK(ims_msg_from_domain(m, dom, sizeof dom, NULL) == IMS_ENOTFOUND);
	ims_msg_free(m);
	m = parse("From: undisclosed\r\n\r\n", &st);
	CHECK(st == IMS_OK);
	CHECK(ims_msg_from_domain(m, dom, sizeof dom, NULL) == IMS_ENOTFOUND);
	ims_msg_free(m);
	m = parse("From: group: a@one.test, b@two.test;\r\n\r\n", &st);
	size_t naddr = 0;
	CHECK(ims_msg_from_domain(m, dom, sizeof dom, &naddr) == IMS_OK);
	CHECK(strcmp(dom, "one.test") == 0);
	CHECK(naddr == 2);
	ims_msg_free(m);

	/* an internationalised domain comes back as A-labels */
	m = parse("From: =?UTF-8?Q?J=C3=B6rg?= <j@b\xc3\xbc"
	          "cher.example>\r\n\r\n",
	          &st);
	CHECK(st == IMS_OK);
	CHECK(ims_msg_from_domain(m, dom, sizeof dom, NULL) == IMS_OK);
	CHECK(strcmp(dom, "xn--bcher-kva.example") == 0);
	ims_msg_free(m);

	/* NUL bytes in a value are kept with their length */
	static const char nul[] = "X-A: a\0b\r\n\r\nbody";
	CHECK(ims_msg_parse(nul, sizeof nul - 1, 10, 100, &m) == IMS_OK);
	const char *v;
	size_t vlen;
	CHECK(ims_msg_header(m, 0, NULL, &v, &vlen) == IMS_OK && vlen == 4);
	ims_msg_free(m);
}

static void test_limits(void)
{
	struct ims_msg *m = NULL;
	char big[4096];
	size_t n = 0;

	for (int i = 0; i < 5; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "X-H%d: v\r\n", i);
	n += (size_t)snprintf(big + n, sizeof big - n, "\r\nbody\r\n");
	CHECK(ims_msg_parse(big, n, 5, 100, &m) == IMS_OK);
	ims_msg_free(m);
	CHECK(ims_msg_parse(big, n, 4, 100, &m) == IMS_ELIMIT && m == NULL);

	/* one field over the size limit, in one line or through folding */
	const char *longf = "Subject: 0123456789012345678901234567890123456789\r\n\r\n";
	CHECK(ims_msg_parse(longf, strlen(longf), 10, 20, &m) == IMS_ELIMIT);
	const char *folded = "Subject: 0123456789\r\n 0123456789\r\n 0123456789\r\n\r\n";
	CHECK(ims_msg_parse(folded, strlen(folded), 10, 30, &m) == IMS_ELIMIT);
	CHECK(ims_msg_parse(folded, strlen(folded), 10, 50, &m) == IMS_OK);
	ims_msg_free(m);
}

/* RFC 8601 pvalues of header fields ims writes: nothing from outside can
 * end the field, start a result (;) or leave its quotes. */
static void pv(const char *in, const char *want)
{
	char out[128];

	ims_hdr_pvalue(out, sizeof out, in);
	if (strcmp(out, want) != 0) {
		fprintf(stderr, "  pvalue(%s) = %s, want %s\n", in ? in : "NULL", out, want);
		check_failures++;
	}
	CHECK(!strpbrk(out, "\r\n;"));
}

static void test_pvalue(void)
{
	char small[8];

	pv("example.org", "example.org");
	pv("pass", "pass");
	pv("bob@example.org", "bob@example.org");
	pv("bob.o'neil+x@mail.example.org", "bob.o'neil+x@mail.example.org");
	pv("@example.org", "@example.org");
	pv(NULL, "unknown");
	pv("", "unknown");
	/* a quoted local part: reduced to the domain (the forged dkim=pass) */
	pv("\"x; dkim=pass header.d=bank.example\"@evil.example", "evil.example");
	pv("a b@evil.example", "evil.example");
	pv("x..y@evil.example", "evil.example");
	/* no domain to reduce to: a quoted-string with ; CR LF made harmless */
	pv("x; dkim=pass", "\"x? dkim=pass\"");
	pv("a\r\nX-Spam-Flag: NO", "\"a??X-Spam-Flag: NO\"");
	pv("q\"u\\o", "\"q\\\"u\\\\o\"");
	pv("x@evil.example;dkim=pass", "\"x@evil.example?dkim=pass\"");
	pv("x@[192.0.2.1]", "\"x@[192.0.2.1]\"");
	/* cut short, never mid-escape or without its closing quote */
	CHECK(ims_hdr_pvalue(small, sizeof small, "\"\"\"\"\"\"") == 6);
	CHECK(strcmp(small, "\"\\\"\\\"\"") == 0);
	CHECK(ims_hdr_pvalue(small, sizeof small, "example.organisation") == 7);
	CHECK(ims_hdr_is_domain("a-b.example", 11) && !ims_hdr_is_domain("a..b", 4) &&
	      !ims_hdr_is_domain("a.", 2) && !ims_hdr_is_domain("a;b", 3));
	{
		char v[] = "No\r\nX: y\x01\tz";

		CHECK(ims_hdr_clean(v) == 3 && strcmp(v, "No  X: y \tz") == 0);
	}
}

static int collect(const char *addr, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s;", addr); /* out is test_from_addrs' got[512] */
	return 0;
}

/* Every mailbox of every From field, domains lower-cased, as an owner check wants. */
static void test_from_addrs(void)
{
	char got[512] = "";
	ims_status st;
	struct ims_msg *m = parse("From: Alice <Alice@Example.TEST.>, grp: b@two.test;\r\n"
	                          "To: x@y.test\r\nFrom: c@three.test\r\n\r\n",
	                          &st);

	CHECK(st == IMS_OK);
	CHECK(ims_msg_from_addrs(m, collect, got) == IMS_OK);
	CHECK(strcmp(got, "Alice@example.test;b@two.test;c@three.test;") == 0);
	ims_msg_free(m);
	m = parse("Subject: no From\r\n\r\n", &st);
	got[0] = '\0';
	CHECK(ims_msg_from_addrs(m, collect, got) == IMS_ENOTFOUND);
	ims_msg_free(m);
}

static int drop_x(const char *name)
{
	return strcasecmp(name, "X-Drop") == 0;
}

/* The one header walk that puts ims's fields first (scan rewrite, release
 * copy): dropped names go, the rest stays in order with the body as it
 * was; text with no header section is all body. */
static void test_reheader(void)
{
	char *out = NULL;
	size_t len = 0;
	const char *raw = "Subject: a\r\nx-drop: forged\r\nTo: b@example.test\r\n"
	                  " folded\r\n\r\nbody\r\nX-Drop: not a header\r\n";

	CHECK(ims_msg_reheader(raw, strlen(raw), 100, 1000, "X-New: 1\r\n", 10, drop_x, "\r\n",
	                       &out, &len) == IMS_OK);
	CHECK(out && strcmp(out, "X-New: 1\r\nSubject: a\r\nTo: b@example.test\r\n folded\r\n"
	                         "\r\nbody\r\nX-Drop: not a header\r\n") == 0);
	CHECK(out && len == strlen(out));
	free(out);
	/* no header section: ours, a blank line, the text as body */
	raw = " X-Drop: folded into nothing\nbody\n";
	CHECK(ims_msg_reheader(raw, strlen(raw), 100, 1000, "X-New: 1\n", 9, drop_x, "\n", &out,
	                       &len) == IMS_OK);
	CHECK(out && strcmp(out, "X-New: 1\n\n X-Drop: folded into nothing\nbody\n") == 0);
	free(out);
	/* over a limit: the parser's error, no copy */
	raw = "A: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	CHECK(ims_msg_reheader(raw, strlen(raw), 2, 1000, "", 0, NULL, "\r\n", &out, &len) ==
	      IMS_ELIMIT);
	CHECK(out == NULL);
}

int main(void)
{
	RUN(test_crlf_and_folding);
	RUN(test_lf_mbox_and_no_body);
	RUN(test_non_header_line_starts_body);
	RUN(test_malformed);
	RUN(test_limits);
	RUN(test_pvalue);
	RUN(test_from_addrs);
	RUN(test_reheader);
	return CHECK_DONE();
}
