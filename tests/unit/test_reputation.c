/* lib/dnsbl.c, lib/intel.c, lib/orgdomain.c: rule parsing, query names,
 * list lookups against in-process DNS data (libunbound local data), the
 * lookup limit, a failing list, list files and their reload. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "dns.h"
#include "dnsbl.h"
#include "intel.h"
#include "message.h"
#include "orgdomain.h"
#include "reputation.h"

static void test_rule_parse(void)
{
	struct ims_dnsbl_rule r;
	char why[300];

	CHECK(ims_dnsbl_rule_parse("zen.test:127.0.0.2=ZEN_SBL:3.0", &r, why, sizeof why) ==
	      IMS_OK);
	CHECK(strcmp(r.zone, "zen.test") == 0 && r.code_kind == IMS_DNSBL_EXACT &&
	      r.code == 0x7f000002 && strcmp(r.symbol, "ZEN_SBL") == 0 && r.weight == 3.0);
	CHECK(ims_dnsbl_rule_parse("multi.test:&4=URI_BLACK:-1.5", &r, why, sizeof why) == IMS_OK);
	CHECK(r.code_kind == IMS_DNSBL_MASK && r.code == 4 && r.weight == -1.5);
	CHECK(ims_dnsbl_rule_parse("any.test=ANY_LISTED:1", &r, why, sizeof why) == IMS_OK);
	CHECK(r.code_kind == IMS_DNSBL_ANY);
	/* refused: no weight, lower case symbol, built-in symbol, code outside 127/8 */
	CHECK(ims_dnsbl_rule_parse("zen.test=ZEN", &r, why, sizeof why) == IMS_EINVAL);
	CHECK(ims_dnsbl_rule_parse("zen.test=zen:1", &r, why, sizeof why) == IMS_EINVAL);
	CHECK(ims_dnsbl_rule_parse("zen.test=SPF_FAIL:1", &r, why, sizeof why) == IMS_EINVAL);
	CHECK_STR_CONTAINS(why, "built-in");
	CHECK(ims_dnsbl_rule_parse("zen.test:10.0.0.2=X:1", &r, why, sizeof why) == IMS_EINVAL);
	CHECK(ims_dnsbl_rule_parse("zen..test=X:1", &r, why, sizeof why) == IMS_EINVAL);
	CHECK(ims_dnsbl_rule_parse("zen.test:&0=X:1", &r, why, sizeof why) == IMS_EINVAL);
	CHECK(ims_dnsbl_rule_parse("zen.test=X:nan", &r, why, sizeof why) == IMS_EINVAL);
}

static void test_names(void)
{
	char n[300];

	CHECK(ims_dnsbl_ip_name("192.0.2.7", "zen.test", n, sizeof n) == IMS_OK);
	CHECK(strcmp(n, "7.2.0.192.zen.test") == 0);
	CHECK(ims_dnsbl_ip_name("2001:db8::1", "v6.test", n, sizeof n) == IMS_OK);
	CHECK(
	    strcmp(n, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.v6.test") ==
	    0);
	CHECK(ims_dnsbl_ip_name("::ffff:192.0.2.7", "zen.test", n, sizeof n) == IMS_OK);
	CHECK(strcmp(n, "7.2.0.192.zen.test") == 0);
	CHECK(ims_dnsbl_ip_name("not-an-ip", "zen.test", n, sizeof n) == IMS_EINVAL);
	CHECK(ims_dnsbl_ip_name("2001:db8::1", "v6.test", n, 40) == IMS_ELIMIT);
	CHECK(ims_dnsbl_domain_name("example.org", "dbl.test", n, sizeof n) == IMS_OK);
	CHECK(strcmp(n, "example.org.dbl.test") == 0);

	CHECK(ims_orgdomain("a.b.Example.co.uk", n, sizeof n) == IMS_OK);
	CHECK(strcmp(n, "example.co.uk") == 0);
	CHECK(ims_orgdomain("www.example.com.", n, sizeof n) == IMS_OK);
	CHECK(strcmp(n, "example.com") == 0);
	CHECK(ims_orgdomain("co.uk", n, sizeof n) == IMS_ENOTFOUND);
	CHECK(ims_orgdomain("192.0.2.1", n, sizeof n) == IMS_ENOTFOUND);
	CHECK(ims_orgdomain("", n, sizeof n) == IMS_ENOTFOUND);
}

struct found {
	char text[4096];
	int n;
};

static void collect(void *arg, const char *symbol, double weight, const char *detail)
{
	struct found *f = arg;
	size_t at = strlen(f->text);

	snprintf(f->text + at, sizeof f->text - at, "%s(%g) %s\n", symbol, weight, detail);
	f->n++;
}

static char *rules(const char *a, const char *b)
{
	(void)b;
	return strdup(a);
}

static struct ims_dns *local_dns(void)
{
	struct ims_dns *dns = NULL;
	char err[256];
	static const char *const rr[] = {
	    "7.2.0.192.zen.test. 300 IN A 127.0.0.2",
	    "8.2.0.192.zen.test. 300 IN A 127.0.0.10",
	    "9.2.0.192.zen.test. 300 IN A 127.255.255.254",
	    "bad.example.dbl.test. 300 IN A 127.0.1.2",
	    "evil.example.multi.test. 300 IN A 127.0.0.6",
	};

	CHECK(ims_dns_new_local(300, &dns, err, sizeof err) == IMS_OK);
	if (!dns)
		return NULL;
	CHECK(ims_dns_local_zone(dns, "down.test", "refuse", err, sizeof err) == IMS_OK);
	for (size_t i = 0; i < sizeof rr / sizeof rr[0]; i++)
		CHECK(ims_dns_local_data(dns, rr[i], err, sizeof err) == IMS_OK);
	return dns;
}

static struct ims_conf *conf_with(const char *client, const char *domain, int max)
{
	struct ims_conf *c = NULL;

	CHECK(ims_conf_defaults(&c) == IMS_OK);
	if (!c)
		return NULL;
	/* the lists as the config loader leaves them: NULL-terminated */
	free(c->dnsbl_client);
	free(c->dnsbl_domain);
	c->dnsbl_client = calloc(4, sizeof *c->dnsbl_client);
	c->dnsbl_domain = calloc(4, sizeof *c->dnsbl_domain);
	if (client) {
		c->dnsbl_client[0] = rules("zen.test:127.0.0.2=ZEN_SBL:3", NULL);
		c->dnsbl_client[1] = rules("zen.test:127.0.0.10=ZEN_PBL:1", NULL);
		c->dnsbl_client[2] = rules(client, NULL);
	}
	if (domain) {
		c->dnsbl_domain[0] = rules("dbl.test=DBL_LISTED:4", NULL);
		c->dnsbl_domain[1] = rules(domain, NULL);
	}
	c->dnsbl_max_lookups = max;
	return c;
}

/* ims_dns_query_many: each name gets what ims_dns_query would give it,
 * also with several threads asking at once (one resolver, one pipe). */
static struct ims_dns *many_dns;

static void *many_worker(void *arg)
{
	const char *names[64];
	char buf[64][64];
	ims_status st[64];
	struct ub_result *res[64];
	long bad = 0;

	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 64; i++) {
			if (i % 4 == 0)
				snprintf(buf[i], sizeof buf[i], "7.2.0.192.zen.test");
			else if (i % 4 == 1)
				snprintf(buf[i], sizeof buf[i], "n%d-%d-%d.zen.test",
				         (int)(intptr_t)arg, round, i);
			else if (i % 4 == 2)
				snprintf(buf[i], sizeof buf[i], "x%d.down.test", i);
			else
				snprintf(buf[i], sizeof buf[i], "bad..name");
			names[i] = buf[i];
		}
		if (ims_dns_query_many(many_dns, names, 64, 1, st, res) != IMS_OK)
			return (void *)1;
		for (int i = 0; i < 64; i++) {
			ims_status want = i % 4 == 0   ? IMS_OK
			                  : i % 4 == 1 ? IMS_ENOTFOUND
			                  : i % 4 == 2 ? IMS_ETEMP
			                               : IMS_EINVAL;
			if (st[i] != want || (want == IMS_OK && (!res[i] || res[i]->len[0] != 4)) ||
			    (want != IMS_OK && want != IMS_ENOTFOUND && res[i]))
				bad++;
			if (res[i])
				ub_resolve_free(res[i]);
		}
	}
	return (void *)(intptr_t)bad;
}

static void test_query_many(void)
{
	many_dns = local_dns();
	if (!many_dns)
		return;
	CHECK(ims_dns_query_many(many_dns, NULL, 0, 1, NULL, NULL) == IMS_OK);
	CHECK(run_threads(many_worker, 4, NULL) == 0);
	ims_dns_free(many_dns);
	many_dns = NULL;
}

static void test_dnsbl_lookups(void)
{
	struct ims_dns *dns = local_dns();
	struct ims_conf *c =
	    conf_with("down.test=DOWN_LISTED:5", "multi.test:&4=MULTI_BLACK:2", 32);
	struct ims_dnsbl *b = NULL;
	char err[256];
	const char *hosts[] = {"www.evil.example", "mail.bad.example", "clean.example",
	                       "www.evil.example"};
	struct ims_dnsbl_input in = {.client_ip = "192.0.2.7",
	                             .helo = "[192.0.2.7]",
	                             .from_domain = "news.bad.example",
	                             .hosts = hosts,
	                             .nhosts = 4};
	struct found f = {0};
	struct timespec t0, t1;

	if (!dns || !c)
		goto out;
	CHECK(ims_dnsbl_new(c, &b, err, sizeof err) == IMS_OK && b);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ims_dnsbl_check(b, dns, &in, collect, &f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_STR_CONTAINS(f.text, "ZEN_SBL(3) 192.0.2.7 listed in zen.test (127.0.0.2)");
	CHECK(!strstr(f.text, "ZEN_PBL"));
	CHECK_STR_CONTAINS(f.text, "DBL_LISTED(4) bad.example listed in dbl.test");
	CHECK_STR_CONTAINS(f.text, "MULTI_BLACK(2) evil.example listed in multi.test (127.0.0.6)");
	/* the refusing list is neutral, once */
	CHECK_STR_CONTAINS(f.text, "DNSBL_FAIL(0) zone=down.test");
	CHECK(!strstr(f.text, "DOWN_LISTED"));
	CHECK(!strstr(f.text, "DNSBL_LIMIT"));
	CHECK((t1.tv_sec - t0.tv_sec) < 2);

	/* an error code (127.255.255.x) is the list's failure, not a listing */
	memset(&f, 0, sizeof f);
	in.client_ip = "192.0.2.9";
	in.nhosts = 0;
	in.from_domain = NULL;
	ims_dnsbl_check(b, dns, &in, collect, &f);
	CHECK_STR_CONTAINS(f.text, "DNSBL_FAIL(0) zone=zen.test error=code 127.255.255.254");
	CHECK(!strstr(f.text, "ZEN_"));
out:
	ims_dnsbl_free(b);
	ims_conf_unref(c);
	ims_dns_free(dns);
}

static void test_dnsbl_limit(void)
{
	struct ims_dns *dns = local_dns();
	struct ims_conf *c = conf_with(NULL, "multi.test:&4=MULTI_BLACK:2", 3);
	struct ims_dnsbl *b = NULL;
	char err[256];
	/* 2 lists x 4 distinct domains = 8 lookups for 3 allowed; the links'
	 * lookups come after From's, so the limit cuts them */
	const char *hosts[] = {"a.one.example", "b.two.example", "evil.example"};
	struct ims_dnsbl_input in = {.from_domain = "bad.example", .hosts = hosts, .nhosts = 3};
	struct found f = {0};

	if (!dns || !c)
		goto out;
	CHECK(ims_dnsbl_new(c, &b, err, sizeof err) == IMS_OK && b);
	ims_dnsbl_check(b, dns, &in, collect, &f);
	CHECK_STR_CONTAINS(f.text, "DBL_LISTED(4) bad.example");
	CHECK_STR_CONTAINS(f.text, "DNSBL_LIMIT(0) max_lookups=3 skipped=5");
	CHECK(!strstr(f.text, "MULTI_BLACK"));
out:
	ims_dnsbl_free(b);
	ims_conf_unref(c);
	ims_dns_free(dns);
}

/* A server that never answers (a UDP socket nobody reads): every lookup
 * times out, and the check still returns within two [dns] timeouts. */
static void test_dnsbl_deadline(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof sa;
	char srv[64], err[256];
	const char *servers[] = {srv, NULL};
	struct ims_dns *dns = NULL;
	struct ims_conf *c = conf_with("slow.test=SLOW:1", "multi.test:&4=MULTI_BLACK:2", 64);
	struct ims_dnsbl *b = NULL;
	const char *hosts[] = {"a.example", "b.example", "c.example", "d.example", "e.example",
	                       "f.example", "g.example", "h.example", "i.example", "j.example"};
	struct ims_dnsbl_input in = {
	    .client_ip = "192.0.2.7", .from_domain = "k.example", .hosts = hosts, .nhosts = 10};
	struct found f = {0};
	struct timespec t0, t1;
	double took;

	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	      getsockname(fd, (struct sockaddr *)&sa, &salen) == 0);
	snprintf(srv, sizeof srv, "127.0.0.1:%u", ntohs(sa.sin_port));
	CHECK(ims_dns_new_servers(servers, 300, &dns, err, sizeof err) == IMS_OK);
	if (!dns || !c)
		goto out;
	CHECK(ims_dnsbl_new(c, &b, err, sizeof err) == IMS_OK && b);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ims_dnsbl_check(b, dns, &in, collect, &f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* 3 client + 22 domain lookups in 4 lists, all timing out */
	CHECK(took < 0.3 * 2 + 0.4);
	CHECK_STR_CONTAINS(f.text, "DNSBL_FAIL(0) zone=zen.test");
	CHECK_STR_CONTAINS(f.text, "zone=dbl.test");
	CHECK_STR_CONTAINS(f.text, "zone=multi.test");
	CHECK(!strstr(f.text, "ZEN_SBL") && !strstr(f.text, "DBL_LISTED"));
out:
	ims_dnsbl_free(b);
	ims_conf_unref(c);
	ims_dns_free(dns);
	if (fd >= 0)
		close(fd);
}

static void test_intel_lines(void)
{
	enum ims_intel_kind k;
	char n[IMS_INTEL_ENTRY_MAX + 1], why[200];

	CHECK(ims_intel_parse_line("  # comment", &k, n, sizeof n, why, sizeof why) ==
	      IMS_ENOTFOUND);
	CHECK(ims_intel_parse_line("\n", &k, n, sizeof n, why, sizeof why) == IMS_ENOTFOUND);
	CHECK(ims_intel_parse_line("198.51.100.7\n", &k, n, sizeof n, why, sizeof why) == IMS_OK);
	CHECK(k == IMS_INTEL_NET && strcmp(n, "198.51.100.7/32") == 0);
	CHECK(ims_intel_parse_line("2001:DB8::/32 # doc", &k, n, sizeof n, why, sizeof why) ==
	      IMS_OK);
	CHECK(k == IMS_INTEL_NET && strcmp(n, "2001:db8::/32") == 0);
	CHECK(ims_intel_parse_line("Evil.Example.", &k, n, sizeof n, why, sizeof why) == IMS_OK);
	CHECK(k == IMS_INTEL_DOMAIN && strcmp(n, "evil.example") == 0);
	CHECK(ims_intel_parse_line("HTTP://X.Example/P?q=1#frag", &k, n, sizeof n, why,
	                           sizeof why) == IMS_OK);
	CHECK(k == IMS_INTEL_URL && strcmp(n, "http://x.example/P?q=1") == 0);
	CHECK(ims_intel_parse_line(
	          "sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", &k, n,
	          sizeof n, why, sizeof why) == IMS_OK);
	CHECK(k == IMS_INTEL_SHA256 &&
	      strcmp(n, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08") == 0);
	CHECK(ims_intel_parse_line("10.1.2.3/8", &k, n, sizeof n, why, sizeof why) == IMS_EINVAL);
	CHECK(ims_intel_parse_line("not a domain!", &k, n, sizeof n, why, sizeof why) ==
	      IMS_EINVAL);
	CHECK(ims_intel_parse_line("sha256:abc", &k, n, sizeof n, why, sizeof why) == IMS_EINVAL);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_intel_lists(void)
{
	static const char *const files[] = {"feed.block", "partners.allow", "ignored.block.tmp",
	                                    "feed.block.new"};
	char dir[] = "/tmp/ims-intel-XXXXXX", path[512];
	struct ims_intel *w = NULL;
	struct ims_intel_set *s, *old;
	struct ims_intel_hit h;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	write_file(dir, "feed.block",
	           "# a feed\n203.0.113.0/24\nevil.example\nhttps://phish.example/login\n"
	           "this is bad\n"
	           "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n");
	write_file(dir, "partners.allow", "198.51.100.7\npartner.example\n");
	write_file(dir, "ignored.block.tmp", "192.0.2.1\n");
	CHECK(ims_intel_new(dir, 100, &w) == IMS_OK && w);
	if (!w)
		goto out;
	s = ims_intel_acquire(w);
	CHECK(ims_intel_set_size(s) == 6);
	CHECK(ims_intel_match_ip(s, 0, "203.0.113.99", &h) && strcmp(h.list, "feed") == 0 &&
	      strcmp(h.entry, "203.0.113.0/24") == 0);
	CHECK(!ims_intel_match_ip(s, 0, "192.0.2.1", &h));
	CHECK(ims_intel_match_domain(s, 0, "Login.Evil.Example", &h) &&
	      strcmp(h.entry, "evil.example") == 0);
	CHECK(!ims_intel_match_domain(s, 0, "notevil.example", &h));
	CHECK(ims_intel_match_url(s, 0, "https://PHISH.example/login#x", &h));
	CHECK(!ims_intel_match_url(s, 0, "https://phish.example/other", &h));
	CHECK(ims_intel_match_sha256(
	    s, 0, "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", &h));
	CHECK(ims_intel_match_ip(s, 1, "198.51.100.7", &h) && strcmp(h.list, "partners") == 0);
	CHECK(!ims_intel_match_ip(s, 0, "198.51.100.7", &h));
	CHECK(ims_intel_has_hashes(s));

	/* a feed replaces its file: the next check swaps in a new set, the old
	 * one stays valid for its holder */
	old = s;
	snprintf(path, sizeof path, "%s/feed.block.new", dir);
	write_file(dir, "feed.block.new", "192.0.2.1\n");
	{
		char to[512];
		snprintf(to, sizeof to, "%s/feed.block", dir);
		CHECK(rename(path, to) == 0);
	}
	ims_intel_check_now(w);
	s = ims_intel_acquire(w);
	CHECK(s != old);
	CHECK(ims_intel_match_ip(s, 0, "192.0.2.1", &h));
	CHECK(!ims_intel_match_domain(s, 0, "evil.example", &h));
	CHECK(ims_intel_match_domain(old, 0, "evil.example", &h));
	ims_intel_set_unref(old);
	ims_intel_set_unref(s);

	/* max_entries bounds all files together */
	ims_intel_free(w);
	w = NULL;
	CHECK(ims_intel_new(dir, 2, &w) == IMS_OK && w);
	if (w) {
		s = ims_intel_acquire(w);
		CHECK(ims_intel_set_size(s) == 2);
		ims_intel_set_unref(s);
	}
out:
	ims_intel_free(w);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	CHECK(rmdir(dir) == 0);
}

/* A change found by ims_intel_acquire is loaded in a thread of its own:
 * the caller goes on with the old set, a later acquire gets the new one; a
 * watcher freed while it loads waits for the loader. */
static void test_intel_background(void)
{
	char dir[] = "/tmp/ims-intel-bg-XXXXXX", path[512];
	struct ims_intel *w = NULL;
	struct ims_intel_set *s;
	struct ims_intel_hit h;
	int found = 0;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	write_file(dir, "a.block", "one.example\n");
	CHECK(ims_intel_new(dir, 100, &w) == IMS_OK && w);
	if (!w)
		goto out;
	write_file(dir, "b.block", "two.example\n");
	usleep((IMS_INTEL_CHECK_MS + 100) * 1000);
	s = ims_intel_acquire(w); /* starts the load */
	CHECK(ims_intel_match_domain(s, 0, "one.example", &h));
	ims_intel_set_unref(s);
	for (int i = 0; i < 500 && !found; i++) {
		s = ims_intel_acquire(w);
		found = ims_intel_match_domain(s, 0, "two.example", &h);
		ims_intel_set_unref(s);
		if (!found)
			usleep(10000);
	}
	CHECK(found);
	/* freed while a load runs */
	write_file(dir, "c.block", "three.example\n");
	usleep((IMS_INTEL_CHECK_MS + 100) * 1000);
	ims_intel_set_unref(ims_intel_acquire(w));
out:
	ims_intel_free(w);
	for (const char *f = "abc"; *f; f++) {
		snprintf(path, sizeof path, "%s/%c.block", dir, *f);
		unlink(path);
	}
	CHECK(rmdir(dir) == 0);
}

/* The scan's view (lib/reputation.c): a private client address is not sent
 * to a DNS list; an attachment's SHA-256 from the GMime parse matches an
 * intel entry; a block entry wins over an allow entry. */
static void test_reputation_stage(void)
{
	char dir[] = "/tmp/ims-rep-XXXXXX", path[512], err[256];
	struct ims_dns *dns = local_dns();
	struct ims_conf *c = conf_with(NULL, "multi.test:&4=MULTI_BLACK:2", 32);
	struct ims_reputation *r = NULL;
	struct ims_parsed *parsed = NULL;
	const struct ims_link *links = NULL;
	static const char msg[] =
	    "From: a@x.example\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
	    "--B\r\nContent-Type: text/html\r\n\r\n<a href=\"http://www.bad.example/x\">x</a>\r\n"
	    "--B\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Disposition: attachment; filename=\"t.bin\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\ndGVzdA==\r\n--B--\r\n";
	struct ims_reputation_input in = {.client_ip = "127.0.0.1",
	                                  .helo = "mx.x.example",
	                                  .mail_from = "a@x.example",
	                                  .from_domain = "x.example",
	                                  .dmarc_pass = 1};
	struct found f = {0};

	if (!mkdtemp(dir) || !dns || !c) {
		CHECK(0);
		goto out;
	}
	/* sha256("test"), and an allow entry for the same client */
	write_file(dir, "hashes.block",
	           "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n");
	write_file(dir, "ok.allow", "x.example\n");
	free(c->dnsbl_client);
	c->dnsbl_client = calloc(2, sizeof *c->dnsbl_client);
	c->dnsbl_client[0] = strdup("zen.test=ZEN_ANY:3");
	free(c->intel_dir);
	c->intel_dir = strdup(dir);
	CHECK(ims_dns_local_data(dns, "1.0.0.127.zen.test. 300 IN A 127.0.0.2", err, sizeof err) ==
	      IMS_OK);
	CHECK(ims_reputation_new(c, &r, err, sizeof err) == IMS_OK && r);
	CHECK(ims_parse_message(msg, sizeof msg - 1, &parsed) == IMS_OK);
	if (!r || !parsed)
		goto out;
	in.nlinks = ims_parsed_links(parsed, &links);
	in.links = links;
	in.parsed = parsed;
	ims_reputation_check(r, dns, &in, collect, &f);
	CHECK(!strstr(f.text, "ZEN_ANY")); /* 127.0.0.1 is not asked */
	CHECK_STR_CONTAINS(f.text, "INTEL_BLOCK(10) list=hashes entry=9f86d081");
	CHECK_STR_CONTAINS(f.text, "(attachment t.bin)");
	CHECK_STR_CONTAINS(f.text, "DBL_LISTED(4) bad.example listed in dbl.test");
	CHECK(!strstr(f.text, "INTEL_ALLOW")); /* a block entry matched */

	/* the scan's one idea of an attachment (classifier/message.h): an inline
	 * part that is not body text (text/plain or text/html) is one too */
	ims_parsed_free(parsed);
	parsed = NULL;
	{
		static const char inl[] =
		    "From: a@x.example\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
		    "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
		    "--B\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
		    "--B\r\nContent-Type: text/x-shellscript\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\ndGVzdA==\r\n--B--\r\n";

		CHECK(ims_parse_message(inl, sizeof inl - 1, &parsed) == IMS_OK);
		memset(&f, 0, sizeof f);
		in.nlinks = 0;
		in.parsed = parsed;
		if (parsed)
			ims_reputation_check(r, dns, &in, collect, &f);
		CHECK_STR_CONTAINS(f.text, "INTEL_BLOCK(10) list=hashes entry=9f86d081");
		CHECK_STR_CONTAINS(f.text, "(attachment (no name))");
	}

	/* without the attachment: the DMARC-passing From domain is allowed */
	memset(&f, 0, sizeof f);
	in.parsed = NULL;
	in.client_ip = "192.0.2.7";
	ims_reputation_check(r, dns, &in, collect, &f);
	CHECK_STR_CONTAINS(f.text, "INTEL_ALLOW(-5) list=ok entry=x.example");
	CHECK_STR_CONTAINS(f.text, "ZEN_ANY(3) 192.0.2.7");
	memset(&f, 0, sizeof f);
	in.dmarc_pass = 0;
	ims_reputation_check(r, dns, &in, collect, &f);
	CHECK(!strstr(f.text, "INTEL_ALLOW"));
out:
	ims_parsed_free(parsed);
	ims_reputation_free(r);
	ims_conf_unref(c);
	ims_dns_free(dns);
	snprintf(path, sizeof path, "%s/hashes.block", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/ok.allow", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(test_rule_parse);
	RUN(test_names);
	RUN(test_query_many);
	RUN(test_dnsbl_lookups);
	RUN(test_dnsbl_limit);
	RUN(test_dnsbl_deadline);
	RUN(test_intel_lines);
	RUN(test_intel_lists);
	RUN(test_intel_background);
	RUN(test_reputation_stage);
	return CHECK_DONE();
}
