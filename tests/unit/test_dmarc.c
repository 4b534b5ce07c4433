#include "config.h"

#include <pthread.h>

#include "check.h"
#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "spf.h"
#include "test_dns_local.h"

static struct ims_dns *dns;
static struct ims_dmarc *dmarc;

static const char records[] =
    "{\"_dmarc.example.test\": [[\"TXT\", \"v=DMARC1; p=reject; sp=quarantine; pct=50\"],"
    "                          [\"TXT\", \"unrelated\"]],"
    " \"_dmarc.quar.test\": [[\"TXT\", \"v=DMARC1; p=quarantine\"]],"
    " \"_dmarc.mon.test\": [[\"TXT\", \"v=DMARC1; p=none\"]],"
    " \"_dmarc.strict.test\": [[\"TXT\", \"v=DMARC1; p=reject; aspf=s; adkim=s\"]],"
    " \"_dmarc.bad.test\": [[\"TXT\", \"v=DMARC1; p=bogus\"]],"
    " \"_dmarc.two.test\": [[\"TXT\", \"v=DMARC1; p=reject\"], [\"TXT\", \"v=DMARC1; p=none\"]],"
    " \"_dmarc.slow.test\": [[\"TIMEOUT\", null]],"
    " \"_dmarc.example.co.uk\": [[\"TXT\", \"v=DMARC1; p=reject\"]]}";

static struct ims_spf_outcome spf(enum ims_spf_result r, const char *domain)
{
	struct ims_spf_outcome o;

	memset(&o, 0, sizeof o);
	o.result = r;
	snprintf(o.domain, sizeof o.domain, "%s", domain);
	return o;
}

static struct ims_dkim_result dkim1(enum ims_dkim_res r, const char *domain)
{
	struct ims_dkim_result d;

	memset(&d, 0, sizeof d);
	d.count = 1;
	d.sigs[0].result = r;
	snprintf(d.sigs[0].domain, sizeof d.sigs[0].domain, "%s", domain);
	snprintf(d.sigs[0].selector, sizeof d.sigs[0].selector, "sel");
	return d;
}

static struct ims_dmarc_outcome run(const char *from, struct ims_spf_outcome s,
                                    const struct ims_dkim_result *d)
{
	struct ims_dmarc_outcome o;

	memset(&o, 0xff, sizeof o);
	if (ims_dmarc_check(dmarc, "192.0.2.1", from, &s, d, &o) != IMS_OK)
		o.result = (enum ims_dmarc_res) - 1;
	return o;
}

static void test_aligned_pass(void)
{
	struct ims_dmarc_outcome o;
	struct ims_dkim_result d;

	o = run("example.test", spf(IMS_SPF_PASS, "example.test"), NULL);
	CHECK(o.result == IMS_DMARC_PASS && o.spf_aligned && !o.dkim_aligned);
	CHECK(o.policy == IMS_DMARC_POLICY_REJECT && o.pct == 50);
	CHECK(strcmp(o.record_domain, "example.test") == 0);
	CHECK_STR_CONTAINS(o.reason, "SPF");
	/* relaxed: a subdomain's SPF pass aligns with the organizational domain */
	o = run("Example.TEST.", spf(IMS_SPF_PASS, "bounce.example.test"), NULL);
	CHECK(o.result == IMS_DMARC_PASS && o.spf_aligned);
	CHECK(strcmp(o.domain, "example.test") == 0);
	/* DKIM aligned, SPF failed */
	d = dkim1(IMS_DKIM_PASS, "example.test");
	o = run("example.test", spf(IMS_SPF_FAIL, "example.test"), &d);
	CHECK(o.result == IMS_DMARC_PASS && o.dkim_aligned && !o.spf_aligned);
}

static void test_fail_policies(void)
{
	struct ims_dmarc_outcome o;
	struct ims_dkim_result d = dkim1(IMS_DKIM_PASS, "other.test");

	o = run("example.test", spf(IMS_SPF_PASS, "other.test"), &d);
	CHECK(o.result == IMS_DMARC_FAIL && o.policy == IMS_DMARC_POLICY_REJECT);
	CHECK(!o.spf_aligned && !o.dkim_aligned);
	o = run("quar.test", spf(IMS_SPF_SOFTFAIL, "quar.test"), NULL);
	CHECK(o.result == IMS_DMARC_FAIL && o.policy == IMS_DMARC_POLICY_QUARANTINE);
	o = run("mon.test", spf(IMS_SPF_NONE, "mon.test"), NULL);
	CHECK(o.result == IMS_DMARC_FAIL && o.policy == IMS_DMARC_POLICY_NONE);
	/* strict alignment: a subdomain does not align */
	o = run("strict.test", spf(IMS_SPF_PASS, "mail.strict.test"), NULL);
	CHECK(o.result == IMS_DMARC_FAIL && o.policy == IMS_DMARC_POLICY_REJECT);
	o = run("strict.test", spf(IMS_SPF_PASS, "strict.test"), NULL);
	CHECK(o.result == IMS_DMARC_PASS);
	/* a DKIM key lookup that failed temporarily: temperror, not fail */
	d = dkim1(IMS_DKIM_TEMPERROR, "example.test");
	o = run("example.test", spf(IMS_SPF_FAIL, "example.test"), &d);
	CHECK(o.result == IMS_DMARC_TEMPERROR);
}

static void test_org_domain_and_sp(void)
{
	struct ims_dmarc_outcome o;

	o = run("news.example.test", spf(IMS_SPF_FAIL, "news.example.test"), NULL);
	CHECK(o.result == IMS_DMARC_FAIL);
	CHECK(o.policy == IMS_DMARC_POLICY_QUARANTINE); /* sp= */
	CHECK(strcmp(o.org_domain, "example.test") == 0);
	CHECK(strcmp(o.record_domain, "example.test") == 0);
	o = run("news.example.test", spf(IMS_SPF_PASS, "example.test"), NULL);
	CHECK(o.result == IMS_DMARC_PASS);
	/* the public suffix list: co.uk is a suffix */
	o = run("a.b.example.co.uk", spf(IMS_SPF_PASS, "example.co.uk"), NULL);
	CHECK(o.result == IMS_DMARC_PASS && strcmp(o.org_domain, "example.co.uk") == 0);
	o = run("a.b.example.co.uk", spf(IMS_SPF_PASS, "other.co.uk"), NULL);
	CHECK(o.result == IMS_DMARC_FAIL && o.policy == IMS_DMARC_POLICY_REJECT);
}

static void test_no_bad_temp(void)
{
	struct ims_dmarc_outcome o;
	struct ims_spf_outcome s = spf(IMS_SPF_PASS, "x.test");

	o = run("nodmarc.test", spf(IMS_SPF_PASS, "nodmarc.test"), NULL);
	CHECK(o.result == IMS_DMARC_NONE && o.policy == IMS_DMARC_POLICY_ABSENT);
	CHECK(o.record_domain[0] == '\0');
	o = run("bad.test", spf(IMS_SPF_PASS, "bad.test"), NULL);
	CHECK(o.result == IMS_DMARC_PERMERROR && o.policy == IMS_DMARC_POLICY_ABSENT);
	o = run("two.test", spf(IMS_SPF_PASS, "two.test"), NULL);
	CHECK(o.result == IMS_DMARC_NONE);
	o = run("slow.test", spf(IMS_SPF_PASS, "slow.test"), NULL);
	CHECK(o.result == IMS_DMARC_TEMPERROR);
	CHECK(ims_dmarc_check(dmarc, "192.0.2.1", "bad..domain", &s, NULL, &o) == IMS_EINVAL);
	CHECK(ims_dmarc_check(dmarc, "2001:db8::1", "example.test", &s, NULL, &o) == IMS_OK);
	CHECK(strcmp(ims_dmarc_result_name(IMS_DMARC_PERMERROR), "permerror") == 0);
	CHECK(strcmp(ims_dmarc_policy_name(IMS_DMARC_POLICY_QUARANTINE), "quarantine") == 0);
}

static void *worker(void *arg)
{
	long bad = 0;

	(void)arg;
	for (int i = 0; i < 50; i++) {
		struct ims_dkim_result d = dkim1(IMS_DKIM_PASS, "other.test");
		bad += run("example.test", spf(IMS_SPF_PASS, "example.test"), NULL).result !=
		       IMS_DMARC_PASS;
		bad += run("news.example.test", spf(IMS_SPF_PASS, "other.test"), &d).policy !=
		       IMS_DMARC_POLICY_QUARANTINE;
	}
	return (void *)(intptr_t)bad;
}

static void test_threads(void)
{

	CHECK(run_threads(worker, 4, NULL) == 0);
}

int main(void)
{
	dns = test_dns_new(records, 2000);
	if (!dns || ims_dmarc_new(dns, &dmarc) != IMS_OK) {
		fprintf(stderr, "setup failed\n");
		ims_dns_free(dns);
		return 1;
	}
	RUN(test_aligned_pass);
	RUN(test_fail_policies);
	RUN(test_org_domain_and_sp);
	RUN(test_no_bad_temp);
	RUN(test_threads);
	ims_dmarc_free(dmarc);
	ims_dns_free(dns);
	return CHECK_DONE();
}
