/* The scan pipeline end to end in-process: a tiny model, the memory store,
 * no DNS (loopback client, a resolver pointed at a closed port). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "engine.h"
#include "heuristics.h"
#include "model.h"
#include "scan.h"
#include "store.h"

static char tmpdir[] = "/tmp/ims-test-scan-XXXXXX";
static char model_ham[512], model_spam[512];

static void make_model(const char *path, double rho)
{
	double *w = calloc((1u << 10) + 1, sizeof *w);
	struct ims_model_params p = {.hash_bits = 10,
	                             .w = w,
	                             .rho = rho,
	                             .platt_a = -2.0,
	                             .platt_b = 0.0,
	                             .c = 1.0,
	                             .trainer = "test"};
	struct ims_model *m;
	char err[256];

	CHECK(ims_model_new(&p, &m) == IMS_OK);
	CHECK(ims_model_save(m, path, err, sizeof err) == IMS_OK);
	ims_model_unref(m);
	free(w);
}

/* Replaces a NULL-terminated list of the config with one entry. */
static void set_list1(char ***field, const char *s)
{
	char **l = calloc(2, sizeof *l);

	for (char **p = *field; p && *p; p++)
		free(*p);
	free(*field);
	l[0] = strdup(s);
	*field = l;
}

/* An engine on the memory store; model is a path; *store gets the store. */
static struct ims_engine *engine(const char *model, struct ims_store **store)
{
	struct ims_conf *c;
	struct ims_engine *e = NULL;
	char err[256];

	CHECK(ims_conf_defaults(&c) == IMS_OK);
	free(c->classifier_model);
	c->classifier_model = strdup(model);
	set_list1(&c->milter_local_domains, "example.test");
	set_list1(&c->dns_nameservers, "127.0.0.1:9");
	c->dns_timeout_ms = 100;
	free(c->milter_authserv_id);
	c->milter_authserv_id = strdup("mx.example.test");
	CHECK(ims_store_open_memory(store) == IMS_OK);
	CHECK(ims_engine_new_with_store(c, *store, &e, err, sizeof err) == IMS_OK);
	ims_conf_unref(c);
	return e;
}

static const char *rcpts[] = {"Alice@Example.test", "bob@elsewhere.example"};
static const struct ims_envelope env = {
    .client_ip = "127.0.0.1",
    .helo = "mx.example.org",
    .mail_from = "carol@example.org",
    .rcpts = rcpts,
    .nrcpts = 2,
    .queue_id = "QID1",
};

static const char plain[] = "From: Carol <carol@example.org>\r\n"
                            "To: alice@example.test\r\n"
                            "Subject: lunch\r\n"
                            "X-Spam-Status: No, forged\r\n"
                            "X-Spam-Flag: NO\r\n"
                            "\r\n"
                            "See you at noon.\r\n";

static const char *header(const struct ims_scan *s, const char *want)
{
	for (size_t i = 0; i < ims_scan_header_count(s); i++) {
		const char *n, *v;
		ims_scan_header(s, i, &n, &v);
		if (strcmp(n, want) == 0)
			return v;
	}
	return NULL;
}

static void test_accept_and_store(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_ham, &st);
	struct ims_scan *s;
	char *json, *out, want[128];
	size_t outlen;

	CHECK(ims_scan_run(e, &env, plain, sizeof plain - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_ACCEPT);
	CHECK(strcmp(ims_scan_verdict(s), "ham") == 0);
	CHECK(ims_scan_score(s) < 0);
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "No, score=-");
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "required=5.0 tests=");
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "SVM_HAM");
	CHECK(strcmp(header(s, "X-Spam-Flag"), "NO") == 0);
	CHECK(strcmp(header(s, "X-IMS-Scan-Id"), ims_scan_id(s)) == 0);
	CHECK_STR_CONTAINS(header(s, "Authentication-Results"), "mx.example.test;");
	json = ims_scan_json(s);
	CHECK_STR_CONTAINS(json, "\"action\":\"accept\"");
	CHECK_STR_CONTAINS(json, "\"rcpt\":[\"alice@example.test\",\"bob@elsewhere.example\"]");
	CHECK_STR_CONTAINS(json, "\"subject\":\"lunch\"");
	CHECK_STR_CONTAINS(json, "\"timings_us\"");
	free(json);

	/* the stored copy: ours first, the forged ones gone */
	CHECK(ims_scan_rewrite(s, plain, sizeof plain - 1, &out, &outlen) == IMS_OK);
	out[outlen - 1] = '\0';
	CHECK(strncmp(out, "Authentication-Results: mx.example.test;", 40) == 0);
	CHECK(!strstr(out, "forged"));
	CHECK_STR_CONTAINS(out, "\r\nSubject: lunch\r\n\r\nSee you at noon.");
	free(out);

	CHECK(ims_scan_store(e, s, plain, sizeof plain - 1, NULL, 0) == IMS_OK);
	/* delivered mail is Dovecot's: no body, no mailbox key in Redis */
	CHECK(!strstr(ims_store_memory_log(st), "{alice@example.test}"));
	CHECK(!strstr(ims_store_memory_log(st), "elsewhere.example}"));
	CHECK(!strstr(ims_store_memory_log(st), "See you at noon"));
	snprintf(want, sizeof want, "SET ims:{global}:scan:%s <", ims_scan_id(s));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), want);
	snprintf(want, sizeof want, "SET ims:{global}:brief:%s {\"verdict\":", ims_scan_id(s));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), want);
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "ZADD ims:{global}:idx:action:accept");
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "XADD ims:{global}:events MAXLEN ~ 1000000 * type scan");
	/* Redis down: the store says temporary */
	ims_store_memory_set_down(st, true);
	CHECK(ims_scan_store(e, s, plain, sizeof plain - 1, NULL, 0) == IMS_ETEMP);
	ims_scan_free(s);
	ims_engine_unref(e);
}

static void test_gtube_reject(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_ham, &st);
	struct ims_scan *s;
	const char msg[] = "From: x@example.org\r\nSubject: t\r\n\r\n" IMS_GTUBE "\r\n";

	CHECK(ims_scan_run(e, &env, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_REJECT);
	CHECK_STR_CONTAINS(ims_scan_reason(s), "score 99");
	CHECK(ims_scan_store(e, s, msg, sizeof msg - 1, NULL, 0) == IMS_OK);
	CHECK(!strstr(ims_store_memory_log(st), "{alice@example.test}"));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "ZADD ims:{global}:idx:action:reject");
	ims_scan_free(s);
	ims_engine_unref(e);
}

static void test_multiple_from_and_limits(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_ham, &st);
	struct ims_scan *s;
	const char msg[] = "From: a@example.org\r\nFrom: b@example.net\r\n\r\nhi\r\n";
	char *big;
	size_t n = 200000;

	CHECK(ims_scan_run(e, &env, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_REJECT);
	CHECK_STR_CONTAINS(ims_scan_reason(s), "several From");
	ims_scan_free(s);

	/* one header field of 200 kB: over max_header_size (64k) */
	big = malloc(n);
	memcpy(big, "Subject: ", 9);
	memset(big + 9, 'a', n - 9 - 4);
	memcpy(big + n - 4, "\r\n\r\n", 4);
	CHECK(ims_scan_run(e, &env, big, n, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_REJECT);
	CHECK_STR_CONTAINS(ims_scan_reason(s), "exceeds the limits");
	ims_scan_free(s);
	free(big);

	/* 8-bit garbage and no header at all */
	char garbage[512];
	for (size_t i = 0; i < sizeof garbage; i++)
		garbage[i] = (char)(0x80 + (i * 37) % 128);
	struct ims_envelope env8 = env;
	env8.helo = "h\xff\xfe.example";
	env8.mail_from = "x\xc3@example.org";
	CHECK(ims_scan_run(e, &env8, garbage, sizeof garbage, &s) == IMS_OK);
	CHECK(ims_scan_action(s) != IMS_ACTION_TEMPFAIL);
	char *json = ims_scan_json(s);
	CHECK(json != NULL);
	CHECK_STR_CONTAINS(json, "MISSING_FROM");
	CHECK_STR_CONTAINS(json, "\"client\":{"); /* 8-bit HELO below must not drop it */
	free(json);
	ims_scan_free(s);
	ims_engine_unref(e);
}

static void test_spam_tag_quarantine(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_spam, &st);
	struct ims_scan *s;
	const char msg[] = "From: x@example.org\r\nSubject: buy\r\n\r\nCheap stuff\r\n";
	const char phish[] = "From: x@example.org\r\nSubject: account\r\n"
	                     "Content-Type: text/html\r\n\r\n"
	                     "<a href=\"http://evil.example.net/\">www.paypal.com</a>\r\n";

	CHECK(ims_scan_run(e, &env, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_TAG);
	CHECK(strcmp(ims_scan_verdict(s), "spam") == 0);
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "Yes, score=");
	CHECK(strcmp(header(s, "X-Spam-Flag"), "YES") == 0);
	ims_scan_free(s);

	CHECK(ims_scan_run(e, &env, phish, sizeof phish - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_QUARANTINE);
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "PHISH_URL_TEXT_MISMATCH");
	CHECK(ims_scan_store(e, s, phish, sizeof phish - 1, NULL, 0) == IMS_OK);
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "ZADD ims:{alice@example.test}:quarantine");
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "ZADD ims:{global}:quarantine");
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "HSET ims:{global}:qmsg:");
	ims_scan_free(s);
	ims_engine_unref(e);
}

static void test_outbound_sent(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_ham, &st);
	struct ims_scan *s;
	struct ims_envelope out = env;
	const char msg[] = "From: Alice <alice@example.test>\r\nTo: x@example.org\r\n"
	                   "Subject: hi\r\n\r\nhello\r\n";

	out.auth_user = "Alice@example.test";
	out.mail_from = "alice@example.test";
	CHECK(ims_scan_run(e, &out, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_outbound(s));
	CHECK_STR_CONTAINS(header(s, "Authentication-Results"),
	                   "auth=pass smtp.auth=Alice@example.test");
	CHECK(ims_scan_store(e, s, msg, sizeof msg - 1, NULL, 0) == IMS_OK);
	/* the sent copy is the sender's client's (or the web's) job, in Dovecot */
	CHECK(!strstr(ims_store_memory_log(st), "{alice@example.test}"));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "direction outbound");
	ims_scan_free(s);
	ims_engine_unref(e);
}

static void test_trusted_network(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_ham, &st);
	struct ims_scan *s;
	struct ims_envelope env2 = env;
	const char *name, *detail;
	double w;

	ims_engine_unref(e);
	/* a configured trusted network skips SPF, DKIM and DMARC; nothing else does */
	{
		struct ims_conf *c;
		char err[256];
		CHECK(ims_conf_defaults(&c) == IMS_OK);
		free(c->classifier_model);
		c->classifier_model = strdup(model_ham);
		set_list1(&c->milter_trusted_networks, "192.0.2.0/24");
		set_list1(&c->dns_nameservers, "127.0.0.1:9");
		c->dns_timeout_ms = 100;
		CHECK(ims_store_open_memory(&st) == IMS_OK);
		CHECK(ims_engine_new_with_store(c, st, &e, err, sizeof err) == IMS_OK);
		ims_conf_unref(c);
	}
	env2.client_ip = "192.0.2.77";
	CHECK(ims_scan_run(e, &env2, plain, sizeof plain - 1, &s) == IMS_OK);
	for (size_t i = 0; ims_scan_symbol(s, i, &name, &w, &detail) == 0; i++)
		CHECK(strncmp(name, "SPF_", 4) != 0 && strncmp(name, "DKIM_", 5) != 0 &&
		      strncmp(name, "DMARC_", 6) != 0);
	ims_scan_free(s);
	env2.client_ip = "198.51.100.1";
	CHECK(ims_scan_run(e, &env2, plain, sizeof plain - 1, &s) == IMS_OK);
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "SPF_");
	ims_scan_free(s);
	ims_engine_unref(e);
}

static void test_multiple_from_score(void)
{
	struct ims_store *st;
	struct ims_engine *e;
	struct ims_scan *s;
	struct ims_conf *c;
	char err[256];
	const char msg[] = "From: a@example.org\r\nFrom: b@example.net\r\n\r\nhi\r\n";

	/* on_multiple_from = score: MULTIPLE_FROM weighs in, no forced reject */
	CHECK(ims_conf_defaults(&c) == IMS_OK);
	free(c->classifier_model);
	c->classifier_model = strdup(model_ham);
	free(c->milter_on_multiple_from);
	c->milter_on_multiple_from = strdup("score");
	set_list1(&c->dns_nameservers, "127.0.0.1:9");
	c->dns_timeout_ms = 100;
	CHECK(ims_store_open_memory(&st) == IMS_OK);
	CHECK(ims_engine_new_with_store(c, st, &e, err, sizeof err) == IMS_OK);
	ims_conf_unref(c);
	CHECK(ims_scan_run(e, &env, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) < IMS_ACTION_REJECT);
	CHECK(ims_scan_score(s) > 3.0); /* MULTIPLE_FROM's 6 points */
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "MULTIPLE_FROM");
	ims_scan_free(s);
	ims_engine_unref(e);
}

static void test_no_model(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine("/nonexistent/model.ims", &st);
	struct ims_scan *s;

	CHECK(ims_engine_model(e) == NULL);
	CHECK(ims_scan_run(e, &env, plain, sizeof plain - 1, &s) == IMS_ETEMP);
	CHECK(s && ims_scan_action(s) == IMS_ACTION_TEMPFAIL);
	CHECK_STR_CONTAINS(ims_scan_reason(s), "no classifier model");
	ims_scan_free(s);
	ims_engine_unref(e);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 99;
	snprintf(model_ham, sizeof model_ham, "%s/ham.ims", tmpdir);
	snprintf(model_spam, sizeof model_spam, "%s/spam.ims", tmpdir);
	make_model(model_ham, 1.0);   /* decision -1: ham */
	make_model(model_spam, -1.0); /* decision +1: spam, p = 0.88 */
	RUN(test_accept_and_store);
	RUN(test_gtube_reject);
	RUN(test_multiple_from_and_limits);
	RUN(test_spam_tag_quarantine);
	RUN(test_outbound_sent);
	RUN(test_trusted_network);
	RUN(test_multiple_from_score);
	RUN(test_no_model);
	unlink(model_ham);
	unlink(model_spam);
	rmdir(tmpdir);
	return CHECK_DONE();
}
