/* The scan pipeline end to end in-process: a tiny model, the memory store,
 * no DNS (loopback client, a resolver pointed at a closed port). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "dashboard.h"
#include "engine.h"
#include "heuristics.h"
#include "model.h"
#include "rfc5322.h"
#include "scan.h"
#include "store.h"
#include "symbols.h"

static char tmpdir[] = "/tmp/ims-test-scan-XXXXXX";
static char model_ham[512], model_spam[512], model_near_spam[512], model_near_ham[512],
    model_spam4[512];

static void make_model_q(const char *path, double rho, double a, double tq)
{
	double *w = calloc((1u << 10) + 1, sizeof *w);
	struct ims_model_params p = {.hash_bits = 10,
	                             .w = w,
	                             .rho = rho,
	                             .platt_a = a,
	                             .threshold_quarantine = tq,
	                             .has_quarantine = tq > 0,
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

static void make_model_a(const char *path, double rho, double a)
{
	make_model_q(path, rho, a, 0);
}

/* Every message gets the decision value -rho; log-odds 8 * -rho. */
static void make_model(const char *path, double rho)
{
	make_model_a(path, rho, -8.0);
}

/* The SVM symbol's weight in s (0 when neither is there). */
static double svm_weight(const struct ims_scan *s, const char **which)
{
	const char *name, *detail;
	double w;

	for (size_t i = 0; ims_scan_symbol(s, i, &name, &w, &detail) == 0; i++)
		if (strncmp(name, "SVM_", 4) == 0) {
			*which = name;
			return w;
		}
	*which = "";
	return 0;
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
	/* the header fields as received, for the console's scan detail */
	CHECK_STR_CONTAINS(json, "\"headers\":[{\"name\":\"From\",\"value\":\"Carol "
	                         "<carol@example.org>\"},{\"name\":\"To\"");
	CHECK_STR_CONTAINS(json, "{\"name\":\"X-Spam-Flag\",\"value\":\"NO\"}]");
	CHECK(!strstr(json, "headers_truncated"));
	free(json);

	/* the stored copy: ours first, the forged ones gone */
	CHECK(ims_scan_rewrite(s, plain, sizeof plain - 1, &out, &outlen) == IMS_OK);
	out[outlen - 1] = '\0';
	CHECK(strncmp(out, "Authentication-Results: mx.example.test;", 40) == 0);
	CHECK(!strstr(out, "forged"));
	CHECK_STR_CONTAINS(out, "\r\nSubject: lunch\r\n\r\nSee you at noon.");
	free(out);
	/* no header section (the first line starts with a space): the whole
	 * text is body, and a forged verdict in it is no header field of the
	 * stored copy (the fallback used to glue our fields to the raw text) */
	{
		static const char *const raws[] = {
		    " folded\r\nX-Spam-Flag: NO\r\nX-IMS-Scan-Id: 0\r\n\r\nbody\r\n",
		    "\tx\nX-Spam-Flag: NO\n\nbody\n",
		    "\r\nX-Spam-Flag: NO\r\n",
		    "",
		};

		for (size_t k = 0; k < sizeof raws / sizeof raws[0]; k++) {
			struct ims_msg *m = NULL;

			CHECK(ims_scan_rewrite(s, raws[k], strlen(raws[k]), &out, &outlen) ==
			      IMS_OK);
			CHECK(ims_msg_parse(out, outlen, 1000, 65536, &m) == IMS_OK);
			CHECK(m && ims_msg_count(m, "X-Spam-Flag") == 1);
			CHECK(m && ims_msg_count(m, "X-IMS-Scan-Id") == 1);
			CHECK(m && strcmp(ims_msg_find(m, "X-Spam-Flag", 0), " NO") == 0);
			CHECK(m && ims_msg_header_count(m) == ims_scan_header_count(s));
			if (m) {
				size_t blen;
				const char *b = ims_msg_body(m, &blen);

				/* the body is the raw text as it came */
				CHECK(blen == strlen(raws[k]) - (raws[k][0] == '\r' ? 2 : 0) &&
				      memcmp(b, raws[k] + (raws[k][0] == '\r' ? 2 : 0), blen) == 0);
			}
			ims_msg_free(m);
			free(out);
		}
	}

	CHECK(ims_scan_store(e, s, plain, sizeof plain - 1, NULL, 0) == IMS_OK);
	/* delivered mail is Dovecot's: no body, no mailbox key in Redis (the
	 * recipient's sender list is read, ims:{ADDR}:senders, nothing written) */
	CHECK(!strstr(ims_store_memory_log(st), "{alice@example.test}:msg:"));
	CHECK(!strstr(ims_store_memory_log(st), "{alice@example.test}:inbox"));
	CHECK(!strstr(ims_store_memory_log(st), "HSET ims:{alice@example.test}"));
	CHECK(!strstr(ims_store_memory_log(st), "elsewhere.example}"));
	CHECK(!strstr(ims_store_memory_log(st), "See you at noon"));
	snprintf(want, sizeof want, "SET ims:{global}:scan:%s <", ims_scan_id(s));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), want);
	snprintf(want, sizeof want, "SET ims:{global}:brief:%s {\"verdict\":", ims_scan_id(s));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), want);
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "ZADD ims:{global}:idx:action:accept");
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "XADD ims:{global}:events MAXLEN ~ 1000000 * type scan");
	/* the counters: the hour's bucket and the running totals (/metrics),
	 * in the same transaction as the scan log, the totals without TTL */
	CHECK(strstr(ims_store_memory_log(st), "HINCRBY ims:{global}:stats:20"));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "HINCRBY ims:{global}:stats:total total 1\n");
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "HINCRBY ims:{global}:stats:total action:accept 1\n");
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "HINCRBY ims:{global}:stats:total verdict:ham 1\n");
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "HINCRBY ims:{global}:stats:total symbol:SVM_HAM 1\n");
	CHECK(!strstr(ims_store_memory_log(st), "EXPIRE ims:{global}:stats:total"));
	/* the day's bucket, the same counters (the 30 d dashboard range),
	 * with the retention as TTL */
	{
		static const char day[] = "HINCRBY ims:{global}:statsd:";
		int sym = 0, spf = 0;

		for (const char *p = strstr(ims_store_memory_log(st), day); p;
		     p = strstr(p + 1, day)) {
			p += sizeof day - 1 + 8; /* YYYYMMDD */
			sym |= strncmp(p, " symbol:SVM_HAM 1\n", 18) == 0;
			spf |= strncmp(p, " spf:", 5) == 0;
		}
		CHECK(sym && spf);
	}
	CHECK(strstr(ims_store_memory_log(st), "PEXPIRE ims:{global}:statsd:20"));
	/* the dashboard's (lib/dashboard.h), in the same transaction: the
	 * 5-minute series, the authentication results, the top senders and
	 * their domains by hour and by day; accepted mail targets no one */
	CHECK(strstr(ims_store_memory_log(st), "HINCRBY ims:{global}:stats5:20"));
	CHECK(strstr(ims_store_memory_log(st), " action:accept 1\nHINCRBY ims:{global}:stats5:"));
	CHECK(strstr(ims_store_memory_log(st), " spf:"));
	CHECK(strstr(ims_store_memory_log(st), " dmarc:"));
	CHECK(strstr(ims_store_memory_log(st), "ZINCRBY ims:{global}:top:senders:h:20"));
	CHECK(strstr(ims_store_memory_log(st), "ZINCRBY ims:{global}:top:domains:d:20"));
	CHECK(!strstr(ims_store_memory_log(st), "top:targets:"));
	/* the hours' top sets live 2 days, the days' 32 but never past the
	 * retention (30 days here) */
	CHECK(strstr(ims_store_memory_log(st), "PEXPIRE ims:{global}:top:senders:h:"));
	CHECK_STR_CONTAINS(strstr(ims_store_memory_log(st), "PEXPIRE ims:{global}:top:senders:h:"),
	                   " 172800000\n");
	CHECK_STR_CONTAINS(strstr(ims_store_memory_log(st), "PEXPIRE ims:{global}:top:senders:d:"),
	                   " 2592000000\n");
	/* Redis down: the store says temporary */
	ims_store_memory_set_down(st, true);
	CHECK(ims_scan_store(e, s, plain, sizeof plain - 1, NULL, 0) == IMS_ETEMP);
	ims_scan_free(s);
	ims_engine_unref(e);
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* A message the MTA retries after a temporary failure that came after the
 * store (a 451 whose EXEC committed late) is recorded once: the retry
 * finds the first scan (ims_scan_recall) and answers with its id. */
/* A click counts in the hour's and the day's buckets (the 30 d range
 * reads days), each with the retention as TTL, and in the 5 minutes'. */
static void test_click_counters(void)
{
	struct ims_store *st = NULL;
	struct ims_store_txn *t = ims_store_txn_new();
	char err[256];

	CHECK(ims_store_open_memory(&st) == IMS_OK);
	CHECK(t != NULL);
	/* 2026-11-23 06:00:00 UTC */
	ims_dashboard_txn_click(t, 1795413600000ULL, "block", 30);
	CHECK(ims_store_exec(st, t, err, sizeof err) == IMS_OK);
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "HINCRBY ims:{global}:stats:2026112306 click:block 1\n"
	                   "EXPIRE ims:{global}:stats:2026112306 2592000\n");
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "HINCRBY ims:{global}:statsd:20261123 click:block 1\n"
	                   "EXPIRE ims:{global}:statsd:20261123 2592000\n");
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "HINCRBY ims:{global}:stats5:202611230600");
	ims_store_txn_free(t);
	ims_store_free(st);
}

static void test_store_once(void)
{
	static const char msg[] = "From: Carol <carol@example.org>\r\n"
	                          "To: alice@example.test\r\n"
	                          "Message-ID: <retry-1@example.org>\r\n"
	                          "Subject: again\r\n"
	                          "\r\n"
	                          "Same text twice.\r\n";
	static const char other[] = "From: Carol <carol@example.org>\r\n"
	                            "To: alice@example.test\r\n"
	                            "Message-ID: <retry-1@example.org>\r\n"
	                            "Subject: again\r\n"
	                            "\r\n"
	                            "Other text.\r\n";
	struct ims_store *st;
	struct ims_engine *e = engine(model_ham, &st);
	struct ims_scan *s1, *s2, *s3, *s4;
	struct ims_envelope retry = env, web = env;
	char first[64];

	CHECK(ims_scan_run(e, &env, msg, sizeof msg - 1, &s1) == IMS_OK);
	CHECK(ims_scan_recall(e, s1) == IMS_ENOTFOUND);
	CHECK(ims_scan_store(e, s1, msg, sizeof msg - 1, NULL, 0) == IMS_OK);
	snprintf(first, sizeof first, "%s", ims_scan_id(s1));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "SET ims:{global}:seen:");
	/* the key lives for the MTA's retry window (7 days), not the scan log's 30 */
	{
		char want[128];
		snprintf(want, sizeof want, " %s PX 604800000\n", first);
		CHECK_STR_CONTAINS(strstr(ims_store_memory_log(st), "SET ims:{global}:seen:"),
		                   want);
	}
	/* the retry: Postfix gives it a new queue id */
	retry.queue_id = "QID2";
	CHECK(ims_scan_run(e, &retry, msg, sizeof msg - 1, &s2) == IMS_OK);
	CHECK(strcmp(ims_scan_id(s2), first) != 0);
	CHECK(ims_scan_recall(e, s2) == IMS_OK);
	CHECK(strcmp(ims_scan_id(s2), first) == 0);
	CHECK(strcmp(header(s2, "X-IMS-Scan-Id"), first) == 0);
	CHECK(count_of(ims_store_memory_log(st), "SET ims:{global}:scan:") == 1);
	CHECK(count_of(ims_store_memory_log(st), "HINCRBY ims:{global}:stats:total total") == 1);
	/* the retry is acknowledged only once the replicas have the first
	 * attempt ([redis] wait_replicas): a write in its slot, then WAIT */
	ims_store_set_wait(st, 1, 100);
	ims_store_memory_set_replicas(st, 0);
	CHECK(ims_scan_run(e, &retry, msg, sizeof msg - 1, &s3) == IMS_OK);
	CHECK(ims_scan_recall(e, s3) == IMS_ETEMP);
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "EXEC\nWAIT 1 100\n"); /* after PEXPIRE ims:{global}:seen:... */
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "MULTI\nPEXPIRE ims:{global}:seen:");
	ims_scan_free(s3);
	ims_store_memory_set_replicas(st, -1);
	CHECK(ims_scan_run(e, &retry, msg, sizeof msg - 1, &s3) == IMS_OK);
	CHECK(ims_scan_recall(e, s3) == IMS_OK);
	ims_scan_free(s3);
	ims_store_set_wait(st, 0, 100);
	CHECK(count_of(ims_store_memory_log(st), "SET ims:{global}:scan:") == 1);
	/* another body under the same Message-ID is another message */
	CHECK(ims_scan_run(e, &retry, other, sizeof other - 1, &s3) == IMS_OK);
	CHECK(ims_scan_recall(e, s3) == IMS_ENOTFOUND);
	/* not from an MTA (no queue id): no key, never skipped */
	web.queue_id = NULL;
	CHECK(ims_scan_run(e, &web, msg, sizeof msg - 1, &s4) == IMS_OK);
	CHECK(ims_scan_recall(e, s4) == IMS_ENOTFOUND);
	/* Redis down: the check says temporary */
	ims_store_memory_set_down(st, true);
	CHECK(ims_scan_recall(e, s3) == IMS_ETEMP);
	ims_scan_free(s1);
	ims_scan_free(s2);
	ims_scan_free(s3);
	ims_scan_free(s4);
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
	/* nothing stored for alice (her sender list was read, that is all) */
	CHECK(!strstr(ims_store_memory_log(st), "ims:{alice@example.test}:msg:"));
	CHECK(!strstr(ims_store_memory_log(st), "ims:{alice@example.test}:inbox"));
	CHECK(!strstr(ims_store_memory_log(st), "ims:{alice@example.test}:scan:"));
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

	/* many long header fields: the scan log keeps whole fields up to its
	 * bound and says it cut the list; a folded value is unfolded */
	{
		size_t cap = 200 * 120 + 64, len = 0;
		char *many = malloc(cap), *js;

		len += (size_t)snprintf(many, cap,
		                        "From: a@example.org\r\nSubject: two\r\n\t lines\r\n");
		for (int i = 0; i < 200; i++)
			len +=
			    (size_t)snprintf(many + len, cap - len, "X-Pad-%03d: %0100d\r\n", i, i);
		len += (size_t)snprintf(many + len, cap - len, "\r\nhi\r\n");
		CHECK(ims_scan_run(e, &env, many, len, &s) == IMS_OK);
		js = ims_scan_json(s);
		CHECK_STR_CONTAINS(js, "{\"name\":\"Subject\",\"value\":\"two lines\"}");
		CHECK_STR_CONTAINS(js, "\"headers_truncated\":true");
		CHECK_STR_CONTAINS(js, "X-Pad-050");
		CHECK(!strstr(js, "X-Pad-199"));
		CHECK(strlen(js) < 16384);
		free(js);
		ims_scan_free(s);
		free(many);
	}

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
	/* held: its local recipient is a targeted user on the dashboard */
	CHECK(strstr(ims_store_memory_log(st), "ZINCRBY ims:{global}:top:targets:h:"));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), " 1 alice@example.test\n");
	CHECK(!strstr(ims_store_memory_log(st), "1 bob@elsewhere.example\n"));
	/* the same message again (a retry), to be held: only a first scan
	 * whose held record is there lets the MTA drop its copy; the memory
	 * store has none, so the retry is held anew, never dropped */
	{
		struct ims_scan *again;

		CHECK(ims_scan_run(e, &env, phish, sizeof phish - 1, &again) == IMS_OK);
		CHECK(ims_scan_action(again) == IMS_ACTION_QUARANTINE);
		CHECK(ims_scan_recall(e, again) == IMS_ENOTFOUND);
		CHECK_STR_CONTAINS(ims_store_memory_log(st), "EXISTS ims:{global}:qmsg:");
		CHECK(strcmp(ims_scan_id(again), ims_scan_id(s)) != 0);
		ims_scan_free(again);
	}
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "ZADD ims:{global}:quarantine");
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "HSET ims:{global}:qmsg:");
	/* one copy: the held body in the quarantine, none in the mailbox */
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "SET ims:{global}:qraw:");
	CHECK(strstr(ims_store_memory_log(st), "HSET ims:{alice@example.test}:msg:") == NULL);
	/* held for the local recipient only */
	CHECK(ims_scan_holds_for(s, "Alice@Example.test"));
	CHECK(!ims_scan_holds_for(s, "bob@elsewhere.example"));
	ims_scan_free(s);
	ims_engine_unref(e);
}

/* What can be held: a local mailbox to release into later.  The SVM gives
 * 8 points inbound and 4 outbound (decision +1, A = -8 and -4), so that the
 * phishing message lands between [actions] quarantine and reject both ways
 * (outbound mail gets other symbols). */
static void test_hold_policy(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_spam, &st);
	struct ims_scan *s;
	const char phish[] = "From: x@example.test\r\nSubject: account\r\n"
	                     "Content-Type: text/html\r\n\r\n"
	                     "<a href=\"http://evil.example.net/\">www.paypal.com</a>\r\n";
	static const char *remote[] = {"bob@elsewhere.example"};
	struct ims_envelope in = env, out = env;

	in.rcpts = remote;
	in.nrcpts = 1;
	CHECK(ims_scan_run(e, &in, phish, sizeof phish - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_TAG);
	CHECK_STR_CONTAINS(ims_scan_reason(s), "no local mailbox to hold it for");
	CHECK(!ims_scan_holds_for(s, "bob@elsewhere.example"));
	ims_scan_free(s);
	ims_engine_unref(e);

	e = engine(model_spam4, &st);
	out.auth_user = "alice@example.test";
	out.mail_from = "alice@example.test";
	CHECK(ims_scan_run(e, &out, phish, sizeof phish - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_REJECT);
	CHECK_STR_CONTAINS(ims_scan_reason(s), "only delivered to local mailboxes");
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
	/* the sent copy is the sender's client's (or the web's) job, in Dovecot
	 * (her correspondents are recorded: lib/correspondents.h) */
	CHECK(!strstr(ims_store_memory_log(st), "{alice@example.test}:sent"));
	CHECK(!strstr(ims_store_memory_log(st), "{alice@example.test}:msg:"));
	CHECK(!strstr(ims_store_memory_log(st), "{alice@example.test}:scan:"));
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "direction outbound");
	ims_scan_free(s);
	ims_engine_unref(e);
}

/* Authentication-Results takes parts of its values from the sender (MAIL
 * FROM, the SASL login): none of them can add a result of its own, and no
 * value ims writes can end its field. */
static void test_header_values(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_ham, &st);
	struct ims_scan *s;
	struct ims_envelope env2 = env;
	const char *ar;

	env2.mail_from = "\"x; dkim=pass header.d=bank.example\"@evil.example";
	CHECK(ims_scan_run(e, &env2, plain, sizeof plain - 1, &s) == IMS_OK);
	ar = header(s, "Authentication-Results");
	CHECK(ar && !strstr(ar, "dkim=pass") && !strstr(ar, "bank.example"));
	CHECK_STR_CONTAINS(ar, " smtp.mailfrom=evil.example;");
	ims_scan_free(s);

	env2.mail_from = "";
	env2.auth_user = "a; dkim=pass\r\nX-Spam-Flag: NO";
	CHECK(ims_scan_run(e, &env2, plain, sizeof plain - 1, &s) == IMS_OK);
	ar = header(s, "Authentication-Results");
	CHECK(ar && !strstr(ar, "; dkim=pass") && strchr(ar, ';') == strrchr(ar, ';'));
	CHECK_STR_CONTAINS(ar, "smtp.auth=\"a? dkim=pass  X-Spam-Flag: NO\"");
	for (size_t i = 0; i < ims_scan_header_count(s); i++) {
		const char *n, *v;

		ims_scan_header(s, i, &n, &v);
		CHECK(!strpbrk(v, "\r\n"));
	}
	ims_scan_free(s);
	ims_engine_unref(e);
}

/* Multiparts nested too deep to parse at a bounded cost: a symbol says so
 * (classifier/mimeparse.h), the scan goes on with the headers. */
static void test_mime_nesting_limit(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_ham, &st);
	struct ims_scan *s;
	char *m = malloc(1 << 20), *json;
	size_t n = 0;

	n += (size_t)snprintf(m + n, 100, "From: x@example.org\r\nSubject: deep\r\n");
	for (int i = 0; i < 3000; i++)
		n += (size_t)snprintf(
		    m + n, 200, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i,
		    i);
	for (int i = 2999; i >= 0; i--)
		n += (size_t)snprintf(m + n, 100, "--b%d--\r\n", i);
	CHECK(ims_scan_run(e, &env, m, n, &s) == IMS_OK);
	json = ims_scan_json(s);
	CHECK_STR_CONTAINS(json, "\"MIME_NESTING_LIMIT\"");
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "MIME_NESTING_LIMIT");
	free(json);
	ims_scan_free(s);
	ims_engine_unref(e);
	free(m);
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

/* An uncertain verdict adds little either way, the same on both sides:
 * decision +-0.1, A = -2: log-odds +-0.2 (p = 0.55 / 0.45). */
static void test_svm_weight_symmetric(void)
{
	struct ims_store *st;
	struct ims_engine *e;
	struct ims_scan *s;
	const char *which;
	double ws, wh;

	e = engine(model_near_spam, &st);
	CHECK(ims_scan_run(e, &env, plain, sizeof plain - 1, &s) == IMS_OK);
	ws = svm_weight(s, &which);
	CHECK(strcmp(which, "SVM_SPAM") == 0);
	CHECK(strcmp(ims_scan_verdict(s), "spam") == 0);
	CHECK(ims_scan_action(s) == IMS_ACTION_ACCEPT);
	ims_scan_free(s);
	ims_engine_unref(e);
	e = engine(model_near_ham, &st);
	CHECK(ims_scan_run(e, &env, plain, sizeof plain - 1, &s) == IMS_OK);
	wh = svm_weight(s, &which);
	CHECK(strcmp(which, "SVM_HAM") == 0);
	ims_scan_free(s);
	ims_engine_unref(e);
	CHECK(ws > 0.19 && ws < 0.21);
	CHECK(wh < -0.19 && wh > -0.21);
	/* bounded by [scores]: the sure ones at SVM_SPAM 8 and SVM_HAM -3 */
	e = engine(model_spam, &st);
	CHECK(ims_scan_run(e, &env, plain, sizeof plain - 1, &s) == IMS_OK);
	CHECK(svm_weight(s, &which) == 8.0);
	ims_scan_free(s);
	ims_engine_unref(e);
	e = engine(model_ham, &st);
	CHECK(ims_scan_run(e, &env, plain, sizeof plain - 1, &s) == IMS_OK);
	CHECK(svm_weight(s, &which) == -3.0);
	ims_scan_free(s);
	ims_engine_unref(e);
}

/* An authenticated local user writing to local users is not tagged on the
 * classifier alone; to the outside, or unauthenticated, it is. */
static void test_local_users_not_tagged(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_spam, &st);
	struct ims_scan *s;
	struct ims_envelope loc = env;
	const char *local_rcpt[] = {"bob@example.test"}, *which;
	const char msg[] = "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\n"
	                   "Subject: hi\r\n\r\nhello\r\n";

	loc.auth_user = "alice@example.test";
	loc.mail_from = "alice@example.test";
	loc.rcpts = local_rcpt;
	loc.nrcpts = 1;
	CHECK(ims_scan_run(e, &loc, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_ACCEPT);
	CHECK(strcmp(ims_scan_verdict(s), "spam") == 0); /* still recorded */
	CHECK(svm_weight(s, &which) == 0.0);
	CHECK(strcmp(which, "SVM_SPAM") == 0);
	ims_scan_free(s);
	/* one outside recipient: the classifier counts */
	loc.rcpts = rcpts;
	loc.nrcpts = 2;
	CHECK(ims_scan_run(e, &loc, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_TAG);
	ims_scan_free(s);
	ims_engine_unref(e);
}

/* A model with a quarantine threshold: the classifier alone (SVM_SPAM
 * raised to 20 by a site) tags above the threshold and quarantines only past
 * the quarantine threshold. */
static void test_quarantine_threshold(void)
{
	char path[600];
	const char *which;
	double w;

	snprintf(path, sizeof path, "%s/q.ims", tmpdir);
	for (int past = 0; past < 2; past++) {
		struct ims_store *st;
		struct ims_engine *e;
		struct ims_scan *s;
		struct ims_conf *c;
		char err[256];

		/* decision 1.5 (log-odds 12); quarantine threshold 1 or 2 */
		make_model_q(path, -1.5, -8.0, past ? 1.0 : 2.0);
		CHECK(ims_conf_defaults(&c) == IMS_OK);
		free(c->classifier_model);
		c->classifier_model = strdup(path);
		set_list1(&c->dns_nameservers, "127.0.0.1:9");
		set_list1(&c->milter_local_domains, "example.test"); /* a mailbox to hold for */
		c->dns_timeout_ms = 100;
		c->scores[ims_symbol_find("SVM_SPAM")] = 20;
		c->action_reject = -1; /* what other symbols add must not reject */
		set_list1(&c->milter_local_domains, "example.test"); /* a mailbox to hold for */
		CHECK(ims_store_open_memory(&st) == IMS_OK);
		CHECK(ims_engine_new_with_store(c, st, &e, err, sizeof err) == IMS_OK);
		ims_conf_unref(c);
		CHECK(ims_scan_run(e, &env, plain, sizeof plain - 1, &s) == IMS_OK);
		w = svm_weight(s, &which);
		CHECK(strcmp(which, "SVM_SPAM") == 0);
		if (past) {
			CHECK(w == 12.0);
			CHECK(ims_scan_action(s) == IMS_ACTION_QUARANTINE);
		} else {
			CHECK(w < 10.0 && w > 9.0); /* just below [actions] quarantine */
			CHECK(ims_scan_action(s) >= IMS_ACTION_TAG);
		}
		ims_scan_free(s);
		ims_engine_unref(e);
	}
	unlink(path);
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

/* An authenticated sender using another local user's From or envelope
 * sender: symbols (the memory store knows no aliases). */
static void test_outbound_not_owned(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(model_ham, &st);
	struct ims_scan *s;
	struct ims_envelope out = env;
	const char msg[] = "From: Admin <admin@example.test>\r\nTo: x@example.org\r\n"
	                   "Subject: hi\r\n\r\nhello\r\n";
	const char own[] = "From: alice@example.test, someone@example.org\r\nTo: x@example.org\r\n"
	                   "Subject: hi\r\n\r\nhello\r\n";

	out.auth_user = "alice@example.test";
	out.mail_from = "admin@example.test";
	CHECK(ims_scan_run(e, &out, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "AUTH_FROM_NOT_OWNED");
	CHECK_STR_CONTAINS(header(s, "X-Spam-Status"), "AUTH_MAIL_FROM_NOT_OWNED");
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "SISMEMBER ims:{alice@example.test}:aliases");
	CHECK(ims_scan_dkim_signature(s) == NULL);
	ims_scan_free(s);
	/* a foreign From mailbox or envelope sender is no local user's: no symbol */
	out.mail_from = "alice@elsewhere.example";
	CHECK(ims_scan_run(e, &out, own, sizeof own - 1, &s) == IMS_OK);
	CHECK(strstr(header(s, "X-Spam-Status"), "AUTH_") == NULL);
	ims_scan_free(s);
	/* registry down: tempfail, not an unchecked signature */
	ims_store_memory_set_down(st, true);
	out.mail_from = "alice@example.test";
	CHECK(ims_scan_run(e, &out, msg, sizeof msg - 1, &s) == IMS_ETEMP);
	CHECK(ims_scan_action(s) == IMS_ACTION_TEMPFAIL);
	ims_scan_free(s);
	ims_store_memory_set_down(st, false);
	ims_engine_unref(e);
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;

	CHECK(in && out);
	while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
		CHECK(fwrite(buf, 1, n, out) == n);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
}

/* The engine watches its model file: a file replaced by rename (as `ims
 * retrain` installs one) is in use at the first acquire after
 * IMS_ENGINE_MODEL_CHECK_MS, sharing the rest of the engine; a broken
 * replacement is refused and the running model stays. */
static void test_model_watch(void)
{
	char live[600], tmp[600], v1[128], v2[128];
	struct ims_store *st;
	struct ims_engine *e = NULL, *cur;
	FILE *f;

	snprintf(live, sizeof live, "%s/live.ims", tmpdir);
	snprintf(tmp, sizeof tmp, "%s/live.ims.tmp", tmpdir);
	copy_file(model_ham, live);
	e = engine(live, &st);
	ims_engine_publish(e);
	cur = ims_engine_acquire();
	CHECK(cur == e && ims_engine_model(cur) != NULL);
	snprintf(v1, sizeof v1, "%s", ims_engine_model_version(cur));
	ims_engine_unref(cur);
	copy_file(model_spam, tmp);
	CHECK(rename(tmp, live) == 0);
	usleep((IMS_ENGINE_MODEL_CHECK_MS + 200) * 1000);
	cur = ims_engine_acquire();
	CHECK(cur != e && ims_engine_model(cur) != NULL);
	CHECK(ims_engine_store(cur) == st && ims_engine_conf(cur) == ims_engine_conf(e));
	snprintf(v2, sizeof v2, "%s", ims_engine_model_version(cur));
	CHECK(strcmp(v1, v2) != 0);
	ims_engine_unref(cur);
	ims_engine_unref(e); /* the old engine is gone; its store lives on in the new one */
	CHECK((f = fopen(tmp, "w")) != NULL);
	if (f) {
		fputs("not a model\n", f);
		fclose(f);
	}
	CHECK(rename(tmp, live) == 0);
	usleep((IMS_ENGINE_MODEL_CHECK_MS + 200) * 1000);
	cur = ims_engine_acquire();
	CHECK(cur && ims_engine_model(cur) && strcmp(ims_engine_model_version(cur), v2) == 0);
	ims_engine_unref(cur);
	ims_engine_publish(NULL);
	unlink(live);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 99;
	snprintf(model_ham, sizeof model_ham, "%s/ham.ims", tmpdir);
	snprintf(model_spam, sizeof model_spam, "%s/spam.ims", tmpdir);
	make_model(model_ham, 1.0);   /* decision -1: ham */
	make_model(model_spam, -1.0); /* decision +1: spam, log-odds 8 */
	snprintf(model_near_spam, sizeof model_near_spam, "%s/near-spam.ims", tmpdir);
	snprintf(model_near_ham, sizeof model_near_ham, "%s/near-ham.ims", tmpdir);
	make_model_a(model_near_spam, -0.1, -2.0);
	make_model_a(model_near_ham, 0.1, -2.0);
	snprintf(model_spam4, sizeof model_spam4, "%s/spam4.ims", tmpdir);
	make_model_a(model_spam4, -1.0, -4.0);
	RUN(test_accept_and_store);
	RUN(test_store_once);
	RUN(test_click_counters);
	RUN(test_gtube_reject);
	RUN(test_multiple_from_and_limits);
	RUN(test_spam_tag_quarantine);
	RUN(test_hold_policy);
	RUN(test_outbound_sent);
	RUN(test_header_values);
	RUN(test_mime_nesting_limit);
	RUN(test_trusted_network);
	RUN(test_multiple_from_score);
	RUN(test_svm_weight_symmetric);
	RUN(test_local_users_not_tagged);
	RUN(test_quarantine_threshold);
	RUN(test_no_model);
	RUN(test_outbound_not_owned);
	RUN(test_model_watch);
	unlink(model_ham);
	unlink(model_spam);
	unlink(model_near_spam);
	unlink(model_near_ham);
	unlink(model_spam4);
	rmdir(tmpdir);
	return CHECK_DONE();
}
