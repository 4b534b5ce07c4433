/* Phishing, attachment, GTUBE and From heuristics on plain structs. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "heuristics.h"

static char found[4096];

static void collect(void *arg, const char *symbol, const char *detail)
{
	(void)arg;
	size_t n = strlen(found);
	snprintf(found + n, sizeof found - n, "%s(%s) ", symbol, detail);
}

static const char *run(const struct ims_heur_input *in)
{
	found[0] = '\0';
	ims_heuristics_run(in, collect, NULL);
	return found;
}

static void test_text_domain(void)
{
	char d[256];

	CHECK(ims_heur_text_domain("Log in at www.PayPal.com now", d, sizeof d) == 0);
	CHECK(strcmp(d, "www.paypal.com") == 0);
	CHECK(ims_heur_text_domain("https://secure.bank.example/x", d, sizeof d) == 0);
	CHECK(strcmp(d, "secure.bank.example") == 0);
	CHECK(ims_heur_text_domain("Click here", d, sizeof d) != 0);
	CHECK(ims_heur_text_domain("version 1.2.3", d, sizeof d) != 0);
	CHECK(ims_heur_text_domain("mail bob@example.org", d, sizeof d) != 0);
}

/* URL hosts, IP literals: tests/unit/test_urls.c; organisational domains:
 * tests/unit/test_orgdomain.c */

static void test_links(void)
{
	struct ims_link links[] = {
	    {"http://evil.example.net/paypal", "www.paypal.com"},
	    {"http://192.0.2.7/login", "Sign in"},
	    {"https://xn--pypal-4ve.com/", "Account"},
	    {"https://www.example.org/a", "example.org"},
	    {"https://news.example.org/a", "www.example.org/news"},
	};
	struct ims_heur_input in = {.links = links, .nlinks = 5, .from_count = 1};
	const char *r = run(&in);

	CHECK_STR_CONTAINS(r, "PHISH_URL_TEXT_MISMATCH(www.paypal.com->evil.example.net)");
	CHECK_STR_CONTAINS(r, "PHISH_URL_IP_LITERAL(192.0.2.7)");
	CHECK_STR_CONTAINS(r, "PHISH_URL_PUNYCODE(xn--pypal-4ve.com (p\xd0\xb0ypal.com))");
	CHECK(!strstr(r, "example.org->"));
}

static void test_attachments(void)
{
	struct ims_attachment att[] = {
	    {"invoice.pdf.exe", "application/octet-stream", 10},
	    {"report.pdf", "application/pdf", 10},
	    {"run.JS", "text/plain", 1},
	    {"", "application/x-msdownload", 1},
	};
	struct ims_heur_input in = {.attachments = att, .nattachments = 4, .from_count = 1};
	const char *r = run(&in);
	int dbl;

	CHECK_STR_CONTAINS(r, "BAD_ATTACHMENT_EXT(invoice.pdf.exe)");
	CHECK_STR_CONTAINS(r, "DOUBLE_ATTACHMENT_EXT(invoice.pdf.exe)");
	CHECK_STR_CONTAINS(r, "BAD_ATTACHMENT_EXT(run.JS)");
	CHECK_STR_CONTAINS(r, "BAD_ATTACHMENT_EXT(application/x-msdownload)");
	CHECK(!strstr(r, "report.pdf)"));
	CHECK(ims_heur_bad_filename("a.exe.", &dbl) && !dbl);
	CHECK(ims_heur_bad_filename("photo.jpg   .scr", &dbl) && dbl);
	CHECK(!ims_heur_bad_filename("noext", &dbl));
}

static void test_from_and_gtube(void)
{
	const char *locals[] = {"example.test", NULL};
	const char body[] = "hello\r\n" IMS_GTUBE "\r\n";
	struct ims_heur_input in = {.from_count = 0, .body = body, .body_len = sizeof body - 1};
	const char *r = run(&in);

	CHECK_STR_CONTAINS(r, "GTUBE()");
	CHECK_STR_CONTAINS(r, "MISSING_FROM()");
	in.from_count = 2;
	in.body_len = 10;
	r = run(&in);
	CHECK_STR_CONTAINS(r, "MULTIPLE_FROM(count=2)");
	CHECK(!strstr(r, "GTUBE"));

	in.from_count = 1;
	in.local_domains = locals;
	in.from = " \"IT desk example.test\" <helpdesk@evil.example.net>";
	r = run(&in);
	CHECK_STR_CONTAINS(r, "PHISH_DISPLAY_NAME_LOCAL(example.test<helpdesk@evil.example.net>)");
	in.from = " \"IT desk example.test\" <helpdesk@mail.example.test>";
	r = run(&in);
	CHECK(!strstr(r, "PHISH_DISPLAY_NAME_LOCAL"));
	in.from = " <<<garbage";
	r = run(&in);
	CHECK(!strstr(r, "PHISH_DISPLAY_NAME_LOCAL"));
}

int main(void)
{
	g_mime_init();
	RUN(test_text_domain);
	RUN(test_links);
	RUN(test_attachments);
	RUN(test_from_and_gtube);
	g_mime_shutdown();
	return CHECK_DONE();
}
