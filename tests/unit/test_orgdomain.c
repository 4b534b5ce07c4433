/* One organisational domain everywhere: lib/orgdomain.c (libpsl) is what
 * DMARC's record lookup, the phishing heuristics and the classifier's host
 * features use, so a.b.example.co.uk is example.co.uk in all three, and a
 * private suffix of the list (github.io) separates two sites where the
 * old last-two-labels rules of the heuristics and the features merged
 * them. */
#include "config.h"

#include <string.h>

#include "check.h"
#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "featurize.h"
#include "heuristics.h"
#include "message.h"
#include "orgdomain.h"
#include "spf.h"
#include "test_dns_local.h"

static const char records[] = "{\"_dmarc.example.co.uk\": [[\"TXT\", \"v=DMARC1; p=reject\"]],"
                              " \"_dmarc.alice.github.io\": [[\"TXT\", \"v=DMARC1; p=none\"]]}";

static void test_lib(void)
{
	char o[256];

	CHECK(ims_orgdomain("a.b.example.co.uk", o, sizeof o) == IMS_OK &&
	      strcmp(o, "example.co.uk") == 0);
	CHECK(ims_orgdomain("x.alice.github.io", o, sizeof o) == IMS_OK &&
	      strcmp(o, "alice.github.io") == 0);
	CHECK(ims_orgdomain("mail.corp.test", o, sizeof o) == IMS_OK &&
	      strcmp(o, "corp.test") == 0);
}

static void test_dmarc(void)
{
	struct ims_dns *dns = test_dns_new(records, 2000);
	struct ims_dmarc *dmarc = NULL;
	struct ims_spf_outcome spf;
	struct ims_dmarc_outcome out;

	if (!dns || ims_dmarc_new(dns, &dmarc) != IMS_OK) {
		CHECK(!"dmarc setup");
		ims_dns_free(dns);
		return;
	}
	memset(&spf, 0, sizeof spf);
	spf.result = IMS_SPF_PASS;
	snprintf(spf.domain, sizeof spf.domain, "example.co.uk");
	CHECK(ims_dmarc_check(dmarc, "192.0.2.1", "a.b.example.co.uk", &spf, NULL, &out) == IMS_OK);
	CHECK(strcmp(out.org_domain, "example.co.uk") == 0);
	CHECK(strcmp(out.record_domain, "example.co.uk") == 0);
	/* the last two labels would be github.io: the record is at alice's */
	snprintf(spf.domain, sizeof spf.domain, "alice.github.io");
	CHECK(ims_dmarc_check(dmarc, "192.0.2.1", "x.alice.github.io", &spf, NULL, &out) == IMS_OK);
	CHECK(strcmp(out.org_domain, "alice.github.io") == 0);
	CHECK(strcmp(out.record_domain, "alice.github.io") == 0);
	/* libopendmarc's relaxed alignment (its own reader of the same list
	 * file) agrees: a sibling under the private suffix is another org */
	CHECK(out.result == IMS_DMARC_PASS && out.spf_aligned);
	snprintf(spf.domain, sizeof spf.domain, "mail.alice.github.io");
	CHECK(ims_dmarc_check(dmarc, "192.0.2.1", "x.alice.github.io", &spf, NULL, &out) == IMS_OK);
	CHECK(out.spf_aligned);
	snprintf(spf.domain, sizeof spf.domain, "bob.github.io");
	CHECK(ims_dmarc_check(dmarc, "192.0.2.1", "x.alice.github.io", &spf, NULL, &out) == IMS_OK);
	CHECK(!out.spf_aligned);
	snprintf(spf.domain, sizeof spf.domain, "other.co.uk");
	CHECK(ims_dmarc_check(dmarc, "192.0.2.1", "a.b.example.co.uk", &spf, NULL, &out) == IMS_OK);
	CHECK(!out.spf_aligned);
	ims_dmarc_free(dmarc);
	ims_dns_free(dns);
}

static char found[1024];

static void collect(void *arg, const char *symbol, const char *detail)
{
	size_t n = strlen(found);

	(void)arg;
	snprintf(found + n, sizeof found - n, "%s(%s) ", symbol, detail);
}

static void test_heuristics(void)
{
	struct ims_link same = {.href = "https://www.example.co.uk/login",
	                        .text = "a.b.example.co.uk"};
	struct ims_link other = {.href = "https://bob.github.io/login", .text = "alice.github.io"};
	struct ims_heur_input in = {.links = &same, .nlinks = 1, .from_count = 1};

	found[0] = '\0';
	ims_heuristics_run(&in, collect, NULL);
	CHECK(strstr(found, "PHISH_URL_TEXT_MISMATCH") == NULL);
	in.links = &other;
	found[0] = '\0';
	ims_heuristics_run(&in, collect, NULL);
	CHECK_STR_CONTAINS(found, "PHISH_URL_TEXT_MISMATCH(alice.github.io->bob.github.io)");
}

static GString *toks;

static void tok(void *ctx, const char *t, size_t len)
{
	(void)ctx;
	g_string_append_len(toks, t, (gssize)len);
	g_string_append_c(toks, ' ');
}

static void test_features(void)
{
	static const char msg[] = "From: Bob <bob@a.b.example.co.uk>\r\n"
	                          "Subject: hi\r\n\r\n"
	                          "see https://x.alice.github.io/page\r\n";
	struct ims_parsed *p = NULL;

	toks = g_string_new(NULL);
	CHECK(ims_parse_message(msg, sizeof msg - 1, &p) == IMS_OK);
	if (p)
		ims_features_tokens(p, tok, NULL);
	/* the From domain's organisational domain, not "co.uk" */
	CHECK_STR_CONTAINS(toks->str, "example.co.uk ");
	CHECK(strstr(toks->str, ":co.uk ") == NULL);
	CHECK_STR_CONTAINS(toks->str, "alice.github.io ");
	ims_parsed_free(p);
	g_string_free(toks, TRUE);
}

int main(void)
{
	RUN(test_lib);
	RUN(test_dmarc);
	RUN(test_heuristics);
	RUN(test_features);
	return CHECK_DONE();
}
