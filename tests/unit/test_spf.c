#include "config.h"

#include <pthread.h>

#include "check.h"
#include "dns.h"
#include "spf.h"
#include "test_dns_local.h"

static struct ims_dns *dns;
static struct ims_spf *spf;

static const char records[] =
    "{\"example.test\": [[\"TXT\", \"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx -all\"],"
    "                    [\"MX\", [10, \"mx.example.test\"]]],"
    " \"mx.example.test\": [[\"A\", \"198.51.100.25\"]],"
    " \"soft.test\": [[\"TXT\", \"v=spf1 include:example.test ~all\"]],"
    " \"neutral.test\": [[\"TXT\", \"v=spf1 ?all\"], [\"TXT\", \"not spf\"]],"
    " \"nospf.test\": [[\"TXT\", \"google-site-verification=x\"]],"
    " \"broken.test\": [[\"TXT\", \"v=spf1 ip4:300.1.1.1 -all\"]],"
    " \"two.test\": [[\"TXT\", \"v=spf1 -all\"], [\"TXT\", \"v=spf1 +all\"]],"
    " \"badinclude.test\": [[\"TXT\", \"v=spf1 include:nx.example.test -all\"]],"
    " \"tmp.test\": [[\"TXT\", \"v=spf1 include:down.test -all\"]],"
    " \"down.test\": [[\"TIMEOUT\", null]],"
    " \"helo.example.test\": [[\"TXT\", \"v=spf1 a -all\"], [\"A\", \"203.0.113.9\"]],"
    " \"badname.test\": [[\"TXT\", \"v=spf1 a:abc.123 -all\"]],"
    " \"macro.test\": [[\"TXT\", \"v=spf1 a:%%{h} -all\"]],"
    " \"ctrl.test\": [[\"TXT\", \"v=spf1 a:ctrl.test\\rptr -all\"], [\"A\", \"203.0.113.1\"]],"
    " \"manymx.test\": [[\"TXT\", \"v=spf1 mx -all\"], %s],"
    " \"manyptr.test\": [[\"TXT\", \"v=spf1 ptr -all\"]],"
    " \"5.113.0.203.in-addr.arpa\": [%s],"
    " \"*.manyptr.test\": [[\"A\", \"203.0.113.5\"]],"
    " \"mx.manymx.test\": [[\"A\", \"203.0.113.5\"]]}";

static struct ims_spf_outcome check(const char *ip, const char *helo, const char *from)
{
	struct ims_spf_outcome o;

	memset(&o, 0xff, sizeof o);
	if (ims_spf_check(spf, ip, helo, from, &o) != IMS_OK)
		o.result = (enum ims_spf_result) - 1;
	return o;
}

static void test_results(void)
{
	struct ims_spf_outcome o;

	o = check("192.0.2.7", "mail.example.test", "alice@example.test");
	CHECK(o.result == IMS_SPF_PASS);
	CHECK(strcmp(o.domain, "example.test") == 0 && !o.helo);
	CHECK_STR_CONTAINS(o.reason, "designates");
	CHECK(check("198.51.100.25", "x", "a@example.test").result == IMS_SPF_PASS); /* mx */
	CHECK(check("2001:db8::1", "x", "a@example.test").result == IMS_SPF_PASS);
	CHECK(check("::ffff:192.0.2.9", "x", "a@example.test").result == IMS_SPF_PASS);
	o = check("203.0.113.1", "x", "a@example.test");
	CHECK(o.result == IMS_SPF_FAIL);
	CHECK(check("2001:db9::1", "x", "a@example.test").result == IMS_SPF_FAIL);
	CHECK(check("203.0.113.1", "x", "a@soft.test").result == IMS_SPF_SOFTFAIL);
	CHECK(check("192.0.2.1", "x", "a@soft.test").result == IMS_SPF_PASS);
	CHECK(check("203.0.113.1", "x", "a@neutral.test").result == IMS_SPF_NEUTRAL);
	CHECK(check("203.0.113.1", "x", "a@nospf.test").result == IMS_SPF_NONE);
	CHECK(check("203.0.113.1", "x", "a@nx.example.test").result == IMS_SPF_NONE);
	o = check("203.0.113.1", "x", "a@broken.test");
	printf("broken: %s (%s)\n", ims_spf_result_name(o.result), o.reason);
	CHECK(o.result == IMS_SPF_PERMERROR);
	CHECK(check("203.0.113.1", "x", "a@two.test").result == IMS_SPF_PERMERROR);
	CHECK(check("203.0.113.1", "x", "a@badinclude.test").result == IMS_SPF_PERMERROR);
	o = check("203.0.113.1", "x", "a@tmp.test");
	CHECK(o.result == IMS_SPF_TEMPERROR);
	o = check("203.0.113.1", "x", "a@x.down.test");
	CHECK(o.result == IMS_SPF_TEMPERROR);
}

static void test_helo_and_edges(void)
{
	struct ims_spf_outcome o;

	o = check("203.0.113.9", "helo.example.test", "");
	CHECK(o.result == IMS_SPF_PASS && o.helo);
	CHECK(strcmp(o.domain, "helo.example.test") == 0);
	CHECK(check("203.0.113.8", "helo.example.test", NULL).result == IMS_SPF_FAIL);
	o = check("203.0.113.9", "helo.example.test", "<>");
	CHECK(o.result == IMS_SPF_PASS && o.helo);
	o = check("192.0.2.7", "x", "<alice@example.test>");
	CHECK(o.result == IMS_SPF_PASS && strcmp(o.domain, "example.test") == 0);
	o = check("203.0.113.8", "", "");
	CHECK(o.result == IMS_SPF_NONE && o.reason[0]);
	o = check("127.0.0.1", "helo.example.test", "a@example.test");
	CHECK(o.result == IMS_SPF_NONE); /* no built-in trust of loopback */
	CHECK_STR_CONTAINS(o.reason, "loopback");
	CHECK(ims_spf_check(spf, "not-an-ip", "x", "a@example.test", &o) == IMS_EINVAL);
	CHECK(strcmp(ims_spf_result_name(IMS_SPF_SOFTFAIL), "softfail") == 0);
	CHECK(strcmp(ims_spf_result_name(IMS_SPF_PERMERROR), "permerror") == 0);
	CHECK(strcmp(ims_spf_result_name(IMS_SPF_NONE), "none") == 0);
}

/* RFC 7208 rules that our DNS layer adds to libspf2's evaluation. */
static void test_rfc7208_extras(void)
{
	struct ims_spf_outcome o;

	o = check("203.0.113.1", "x", "a@badname.test"); /* toplabel all digits */
	CHECK(o.result == IMS_SPF_PERMERROR);
	CHECK_STR_CONTAINS(o.reason, "invalid domain");
	/* a name invalid only after macro expansion is no error (7.1) */
	CHECK(check("203.0.113.1", "[203.0.113.1]", "a@macro.test").result == IMS_SPF_FAIL);
	o = check("203.0.113.1", "x", "a@ctrl.test");
	CHECK(o.result == IMS_SPF_PERMERROR);
	CHECK_STR_CONTAINS(o.reason, "control");
	o = check("203.0.113.5", "x", "a@manymx.test"); /* 11 MX records */
	CHECK(o.result == IMS_SPF_PERMERROR);
	/* 11 PTR names: the first 10 are used, no error (libspf2 alone: permerror) */
	o = check("203.0.113.5", "x", "a@manyptr.test");
	CHECK(o.result == IMS_SPF_PASS);
	CHECK(strncmp(o.reason, "vm:", 3) != 0 && o.reason[0] != ':');
}

static void *worker(void *arg)
{
	long bad = 0;

	(void)arg;
	for (int i = 0; i < 20; i++) {
		bad += check("192.0.2.7", "x", "a@soft.test").result != IMS_SPF_PASS;
		bad += check("203.0.113.1", "x", "a@example.test").result != IMS_SPF_FAIL;
	}
	return (void *)(intptr_t)bad;
}

static void test_threads(void)
{

	CHECK(run_threads(worker, 4, NULL) == 0);
}

/* DNS down: every server silent -> temperror, within the timeout. */
static void test_dns_down(void)
{
	const char *servers[] = {"127.0.0.1:9", NULL}; /* discard port: nothing answers */
	struct ims_dns *d = NULL;
	struct ims_spf *s = NULL;
	struct ims_spf_outcome o;

	CHECK(ims_dns_new_servers(servers, 300, &d, NULL, 0) == IMS_OK);
	CHECK(ims_spf_new(d, &s) == IMS_OK);
	CHECK(ims_spf_check(s, "192.0.2.7", "x", "a@example.test", &o) == IMS_OK);
	CHECK(o.result == IMS_SPF_TEMPERROR);
	ims_spf_free(s);
	ims_dns_free(d);
}

int main(void)
{
	char mx[1024], ptr[1024], json[8192];
	size_t nm = 0, np = 0;

	for (int i = 0; i < 11; i++) {
		nm += (size_t)snprintf(mx + nm, sizeof mx - nm,
		                       "%s[\"MX\", [%d, \"mx.manymx.test\"]]", i ? ", " : "", i);
		np +=
		    (size_t)snprintf(ptr + np, sizeof ptr - np,
		                     "%s[\"PTR\", \"host%d.manyptr.test\"]", i ? ", " : "", i + 1);
	}
	snprintf(json, sizeof json, records, mx, ptr);
	dns = test_dns_new(json, 2000);
	if (!dns || ims_spf_new(dns, &spf) != IMS_OK) {
		ims_dns_free(dns);
		return 1;
	}
	RUN(test_results);
	RUN(test_helo_and_edges);
	RUN(test_rfc7208_extras);
	RUN(test_threads);
	RUN(test_dns_down);
	ims_spf_free(spf);
	ims_dns_free(dns);
	return CHECK_DONE();
}
