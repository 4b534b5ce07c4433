#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <unistd.h>

#include "check.h"
#include "dns.h"
#include "test_dns_local.h"

static struct ims_dns *dns;

static const char records[] =
    "{\"example.test\": [[\"TXT\", \"v=spf1 -all\"], [\"TXT\", [\"two \", \"strings\"]],"
    "                    [\"MX\", [10, \"mx.example.test\"]], [\"A\", \"192.0.2.1\"]],"
    " \"mx.example.test\": [[\"A\", \"192.0.2.25\"], [\"AAAA\", \"2001:db8::25\"]],"
    " \"1.2.0.192.in-addr.arpa\": [[\"PTR\", \"host.example.test\"]],"
    " \"long.example.test\": [[\"TXT\", \"%s\"]],"
    " \"slow.example.test\": [[\"TIMEOUT\", null]]}";

static long long ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_txt(void)
{
	char **v = NULL;
	int spf = 0, two = 0, n = 0;

	CHECK(ims_dns_txt(dns, "example.test", &v) == IMS_OK);
	for (; v && v[n]; n++) {
		spf += strcmp(v[n], "v=spf1 -all") == 0;
		two += strcmp(v[n], "two strings") == 0;
	}
	CHECK(n == 2 && spf == 1 && two == 1);
	ims_dns_strv_free(v);

	CHECK(ims_dns_txt(dns, "long.example.test", &v) == IMS_OK);
	CHECK(v && v[0] && strlen(v[0]) == 600 && v[1] == NULL);
	ims_dns_strv_free(v);

	CHECK(ims_dns_txt(dns, "nx.example.test", &v) == IMS_ENOTFOUND && v == NULL);
	CHECK(ims_dns_txt(dns, "mx.example.test", &v) == IMS_ENOTFOUND); /* NODATA */
	CHECK(ims_dns_txt(dns, "a.slow.example.test", &v) == IMS_ETEMP); /* SERVFAIL */
	CHECK(ims_dns_txt(dns, "a..example.test", &v) == IMS_EINVAL);
	CHECK(ims_dns_txt(dns,
	                  "a1234567890123456789012345678901234567890123456789012345678901234"
	                  ".example.test",
	                  &v) == IMS_EINVAL);
}

static void test_query(void)
{
	struct ub_result *r = NULL;
	char name[256];

	CHECK(ims_dns_query(dns, "example.test", 15, &r) == IMS_OK);
	CHECK(r && r->data[0] && r->len[0] > 2);
	if (r && r->data[0]) {
		CHECK(ims_dns_wire_name((unsigned char *)r->data[0] + 2, (size_t)r->len[0] - 2,
		                        name, sizeof name) == IMS_OK);
		CHECK(strcmp(name, "mx.example.test") == 0);
		CHECK(ims_dns_wire_name((unsigned char *)r->data[0] + 2, (size_t)r->len[0] - 2,
		                        name, 5) == IMS_ELIMIT);
	}
	ub_resolve_free(r);

	CHECK(ims_dns_query(dns, "1.2.0.192.in-addr.arpa", 12, &r) == IMS_OK);
	CHECK(ims_dns_wire_name((unsigned char *)r->data[0], (size_t)r->len[0], name,
	                        sizeof name) == IMS_OK);
	CHECK(strcmp(name, "host.example.test") == 0);
	ub_resolve_free(r);

	CHECK(ims_dns_query(dns, "mx.example.test", 28, &r) == IMS_OK && r->len[0] == 16);
	ub_resolve_free(r);
	r = NULL;
	CHECK(ims_dns_query(dns, "nx.example.test", 1, &r) == IMS_ENOTFOUND && r && r->nxdomain);
	ub_resolve_free(r);
	r = NULL;
	CHECK(ims_dns_query(dns, "mx.example.test", 15, &r) == IMS_ENOTFOUND && r && !r->nxdomain);
	ub_resolve_free(r);

	static const unsigned char bad[] = {3, 'a', 'b'};
	CHECK(ims_dns_wire_name(bad, sizeof bad, name, sizeof name) == IMS_EFORMAT);
	static const unsigned char ptr[] = {0xc0, 12};
	CHECK(ims_dns_wire_name(ptr, sizeof ptr, name, sizeof name) == IMS_EFORMAT);
}

static void *worker(void *arg)
{
	long bad = 0;

	for (int i = 0; i < 30; i++) {
		struct ub_result *r = NULL;
		char **v = NULL;
		char name[64];

		snprintf(name, sizeof name, "n%ld-%d.example.test", (long)(intptr_t)arg, i);
		bad += ims_dns_txt(dns, "example.test", &v) != IMS_OK;
		ims_dns_strv_free(v);
		bad += ims_dns_query(dns, name, 1, &r) != IMS_ENOTFOUND;
		ub_resolve_free(r);
		r = NULL;
		bad += ims_dns_query(dns, "mx.example.test", 1, &r) != IMS_OK;
		ub_resolve_free(r);
	}
	return (void *)(intptr_t)bad;
}

static void test_threads(void)
{

	CHECK(run_threads(worker, 8, NULL) == 0);
}

/* A server that reads nothing and never answers: the query must give up at
 * the configured timeout, not hang. */
static void test_silent_server(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof sa;
	char server[64];
	const char *servers[] = {server, NULL};
	struct ims_dns *silent = NULL;
	char **v = NULL;
	long long t0, took;

	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	snprintf(server, sizeof server, "127.0.0.1:%d", ntohs(sa.sin_port));
	CHECK(ims_dns_new_servers(servers, 300, &silent, NULL, 0) == IMS_OK);
	t0 = ms();
	CHECK(ims_dns_txt(silent, "example.test", &v) == IMS_ETEMP && v == NULL);
	took = ms() - t0;
	CHECK(took >= 250 && took < 1000);
	printf("silent server: gave up after %lld ms (timeout 300)\n", took);
	ims_dns_free(silent);
	close(fd);
}

static struct ims_dns *silent_dns;

static void *silent_worker(void *arg)
{
	char **v = NULL;
	long long t0 = ms();
	ims_status st = ims_dns_txt(silent_dns, (const char *)arg, &v);
	long long took = ms() - t0;

	ims_dns_strv_free(v);
	return (void *)(intptr_t)(st == IMS_ETEMP && took >= 250 && took < 1000 ? 0 : 1);
}

/* Several threads waiting on a server that never answers: each gives up at
 * its own deadline (only one of them reads libunbound's pipe at a time). */
static void test_silent_threads(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof sa;
	char server[64];
	const char *servers[] = {server, NULL};
	static const char *names[] = {"a.example.test", "b.example.test", "c.example.test",
	                              "d.example.test"};

	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	snprintf(server, sizeof server, "127.0.0.1:%d", ntohs(sa.sin_port));
	CHECK(ims_dns_new_servers(servers, 300, &silent_dns, NULL, 0) == IMS_OK);
	CHECK(run_threads(silent_worker, 4, (void *const *)names) == 0);
	ims_dns_free(silent_dns);
	close(fd);
}

/* The in-process seam itself: data added and removed while the resolver
 * runs, refused zones, wildcards, bad records. */
static void test_local(void)
{
	struct ims_dns *d = NULL;
	char **v = NULL, err[200] = "";

	CHECK(ims_dns_new_local(500, &d, err, sizeof err) == IMS_OK);
	/* zones first: a refused one, and a redirect one answering for every name under it */
	CHECK(ims_dns_local_zone(d, "down.local.test", "refuse", err, sizeof err) == IMS_OK);
	CHECK(ims_dns_local_zone(d, "w.local.test", "redirect", err, sizeof err) == IMS_OK);
	CHECK(ims_dns_txt(d, "a.local.test", &v) == IMS_ENOTFOUND);
	CHECK(ims_dns_local_data(d, "a.local.test. 60 IN TXT \"one\" \"two\"", err, sizeof err) ==
	      IMS_OK);
	CHECK(ims_dns_txt(d, "a.local.test", &v) == IMS_OK && v && strcmp(v[0], "onetwo") == 0);
	ims_dns_strv_free(v);
	v = NULL;
	CHECK(ims_dns_local_data(d, "w.local.test. 60 IN A 192.0.2.9", err, sizeof err) == IMS_OK);
	{
		struct ub_result *r = NULL;
		CHECK(ims_dns_query(d, "x.w.local.test", 1, &r) == IMS_OK && r && r->len[0] == 4);
		ub_resolve_free(r);
	}
	CHECK(ims_dns_txt(d, "x.down.local.test", &v) == IMS_ETEMP);
	CHECK(ims_dns_txt(d, "longer-label.down.local.test", &v) == IMS_ETEMP);
	ims_dns_local_remove(d, "a.local.test");
	CHECK(ims_dns_txt(d, "a.local.test", &v) == IMS_ENOTFOUND);
	CHECK(ims_dns_local_data(d, "bad record", err, sizeof err) == IMS_EINVAL);
	CHECK_STR_CONTAINS(err, "local data");
	CHECK(ims_dns_local_only(d) == IMS_EINVAL); /* already answering */
	ims_dns_free(d);
}

static void test_config(void)
{
	struct ims_dns *d = NULL;
	char err[200] = "";
	const char *bad[] = {"ns.example.com:53", NULL};
	const char *bad_port[] = {"127.0.0.1:99999", NULL};
	const char *ok[] = {"127.0.0.1:5353", "[::1]:53", "::1", "192.0.2.1", NULL};

	CHECK(ims_dns_new_servers(bad, 100, &d, err, sizeof err) == IMS_EINVAL && d == NULL);
	CHECK_STR_CONTAINS(err, "ns.example.com:53");
	CHECK(ims_dns_new_servers(bad_port, 100, &d, err, sizeof err) == IMS_EINVAL);
	CHECK(ims_dns_new_servers(ok, 100, &d, err, sizeof err) == IMS_OK);
	CHECK(ims_dns_timeout_ms(d) == 100);
	ims_dns_free(d);
	CHECK(ims_dns_new(NULL, &d, err, sizeof err) == IMS_OK); /* system resolver */
	CHECK(ims_dns_timeout_ms(d) == 5000);
	ims_dns_free(d);
}

int main(void)
{
	char json[2048], longtxt[601];

	memset(longtxt, 'x', 600);
	longtxt[600] = '\0';
	snprintf(json, sizeof json, records, longtxt);
	dns = test_dns_new(json, 2000);
	if (!dns)
		return 1;
	RUN(test_txt);
	RUN(test_query);
	RUN(test_threads);
	RUN(test_silent_server);
	RUN(test_silent_threads);
	RUN(test_config);
	RUN(test_local);
	ims_dns_free(dns);
	return CHECK_DONE();
}
