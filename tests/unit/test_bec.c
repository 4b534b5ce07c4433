/* lib/bec.c: look-alike domains, display-name impersonation, Reply-To;
 * lib/correspondents.c and the scan's store stage: what is recorded for
 * first-time senders (its lookups against a real Redis are in
 * tests/e2e/test_bec.py). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bec.h"
#include "check.h"
#include "conf.h"
#include "correspondents.h"
#include "engine.h"
#include "model.h"
#include "scan.h"
#include "store.h"
#include "symbols.h"

static char model_path[] = "/tmp/ims-test-bec-XXXXXX";

/* A ham model: every message gets decision value -1. */
static int make_ham_model(void)
{
	double *w = calloc((1u << 10) + 1, sizeof *w);
	struct ims_model_params p = {
	    .hash_bits = 10, .w = w, .rho = 1.0, .platt_a = -8.0, .c = 1.0, .trainer = "test"};
	struct ims_model *m = NULL;
	char err[256];
	int fd = mkstemp(model_path), rc = -1;

	if (fd >= 0 && ims_model_new(&p, &m) == IMS_OK &&
	    ims_model_save(m, model_path, err, sizeof err) == IMS_OK)
		rc = 0;
	if (fd >= 0)
		close(fd);
	ims_model_unref(m);
	free(w);
	return rc;
}

static char found[4096];

static void collect(void *arg, const char *symbol, const char *detail)
{
	size_t n = strlen(found);

	(void)arg;
	snprintf(found + n, sizeof found - n, "%s(%s) ", symbol, detail);
}

static const char *const locals[] = {"example.test", NULL};

static const char *run(struct ims_bec_input *in)
{
	found[0] = '\0';
	if (!in->local_domains)
		in->local_domains = locals;
	if (!in->max_edit_distance)
		in->max_edit_distance = 1;
	if (!in->min_label_length)
		in->min_label_length = 5;
	ims_bec_run(in, collect, NULL);
	return found;
}

static int looks(const char *d, const char *p)
{
	char why[64];

	return ims_bec_lookalike(d, p, 1, 5, why, sizeof why);
}

static void test_skeleton(void)
{
	char s[256];

	CHECK(ims_bec_skeleton("examp1e", s, sizeof s) == 0 && strcmp(s, "example") == 0);
	CHECK(ims_bec_skeleton("exarnple", s, sizeof s) == 0 && strcmp(s, "example") == 0);
	CHECK(ims_bec_skeleton("xn--xample-2of", s, sizeof s) == 0 && strcmp(s, "example") == 0);
	CHECK(ims_bec_skeleton("\xd0\xb5xample", s, sizeof s) == 0 && strcmp(s, "example") == 0);
	CHECK(ims_bec_skeleton("EXAMPLE", s, sizeof s) == 0 && strcmp(s, "example") == 0);
	CHECK(ims_bec_edit_distance("example", "exmaple", 2) == 1);
	CHECK(ims_bec_edit_distance("example", "examples", 2) == 1);
	CHECK(ims_bec_edit_distance("example", "sample", 1) == 2);
	CHECK(ims_bec_edit_distance("a", "abcdef", 2) == 3);
}

static void test_lookalike_pairs(void)
{
	char why[64];

	CHECK(ims_bec_lookalike("examp1e.test", "example.test", 1, 5, why, sizeof why));
	CHECK(strcmp(why, "confusable") == 0);
	CHECK(looks("exarnple.test", "example.test"));
	/* Cyrillic е (U+0435) in punycode and as UTF-8 */
	CHECK(ims_bec_lookalike("xn--xample-2of.test", "example.test", 1, 5, why, sizeof why));
	CHECK(strcmp(why, "punycode confusable") == 0);
	CHECK(looks("\xd0\xb5xample.test", "example.test"));
	CHECK(looks("mail.xn--mple-43d3a6i.test", "example.test")); /* ехаmple */
	CHECK(ims_bec_lookalike("exmaple.test", "example.test", 1, 5, why, sizeof why));
	CHECK(strcmp(why, "edit distance 1") == 0);
	CHECK(looks("examples.co.uk", "example.co.uk"));
	CHECK(looks("examp1e.com", "example.test")); /* another suffix too */
	/* not look-alikes */
	CHECK(!looks("example.test", "example.test"));
	CHECK(!looks("mail.example.test", "example.test"));
	CHECK(!looks("example.net", "example.test")); /* same name, other suffix */
	CHECK(!looks("sample.test", "example.test"));
	CHECK(!looks("abd.test", "abc.test")); /* short: distance not used */
	CHECK(looks("abc.test", "a\xd0\xbe"
	                        "c.test") == 0); /* nothing alike */
	CHECK(!ims_bec_lookalike("exmaple.test", "example.test", 0, 5, why, sizeof why));
}

static void test_lookalike_checks(void)
{
	const char *const partners[] = {"mybank.test", NULL};
	const char *const corr[] = {"supplier.test", NULL};
	struct ims_bec_input in = {.from_addr = "ceo@examp1e.test", .from_name = "Boss"};

	CHECK_STR_CONTAINS(
	    run(&in), "BEC_LOOKALIKE_DOMAIN(examp1e.test looks like example.test (confusable))");
	in = (struct ims_bec_input){.from_addr = "x@xn--xample-2of.test"};
	CHECK_STR_CONTAINS(run(&in), "BEC_LOOKALIKE_DOMAIN(xn--xample-2of.test looks like "
	                             "example.test (punycode confusable))");
	in = (struct ims_bec_input){.from_addr = "x@rnybank.test", .protected_domains = partners};
	CHECK_STR_CONTAINS(run(&in), "BEC_LOOKALIKE_DOMAIN(rnybank.test looks like mybank.test");
	in = (struct ims_bec_input){.from_addr = "x@suppiler.test", .correspondent_domains = corr};
	CHECK_STR_CONTAINS(run(&in), "BEC_LOOKALIKE_CORRESPONDENT(suppiler.test looks like "
	                             "supplier.test (edit distance 1))");
	/* the real ones, and local senders, are not flagged */
	in = (struct ims_bec_input){.from_addr = "x@supplier.test", .correspondent_domains = corr};
	CHECK(strcmp(run(&in), "") == 0);
	in = (struct ims_bec_input){.from_addr = "x@sub.example.test"};
	CHECK(strcmp(run(&in), "") == 0);
}

static void test_display_name(void)
{
	const char *const names[] = {"Alice Smith", NULL};
	struct ims_bec_input in = {.from_addr = "alice.smith@gmail.test",
	                           .from_name = "Alice Smith",
	                           .learned_name_owner = "alice@example.test"};

	CHECK_STR_CONTAINS(run(&in), "BEC_DISPLAY_NAME_LOCAL_USER(\"alice smith\" is the name of "
	                             "alice@example.test; From alice.smith@gmail.test)");
	in = (struct ims_bec_input){.from_addr = "x@evil.test",
	                            .from_name = "  ALICE  Sm\xd1\x96th (CEO)",
	                            .protected_names = names};
	CHECK_STR_CONTAINS(run(&in), "BEC_DISPLAY_NAME_LOCAL_USER(\"alice smith (ceo)\" names "
	                             "protected \"Alice Smith\"");
	/* padding, invisible characters and broken bytes do not hide the name */
	{
		char longname[1024];

		snprintf(longname, sizeof longname, "Alice Smith %0900d", 7);
		in = (struct ims_bec_input){
		    .from_addr = "x@evil.test", .from_name = longname, .protected_names = names};
		CHECK_STR_CONTAINS(run(&in), "BEC_DISPLAY_NAME_LOCAL_USER(");
	}
	in = (struct ims_bec_input){.from_addr = "x@evil.test",
	                            .from_name = "Ali\xe2\x80\x8b"
	                                         "ce Smith \xff\xfe",
	                            .protected_names = names};
	CHECK_STR_CONTAINS(run(&in), "BEC_DISPLAY_NAME_LOCAL_USER(");
	in = (struct ims_bec_input){
	    .from_addr = "x@evil.test", .from_name = "Alice Smithers", .protected_names = names};
	CHECK(strcmp(run(&in), "") == 0);
	/* from inside it is the user */
	in = (struct ims_bec_input){.from_addr = "alice@example.test",
	                            .from_name = "Alice Smith",
	                            .learned_name_owner = "alice@example.test"};
	CHECK(strcmp(run(&in), "") == 0);
}

static void test_reply_to(void)
{
	const char *const freemail[] = {"gmail.com", NULL};
	struct ims_bec_input in = {.from_addr = "ceo@partner.test",
	                           .reply_to = "ceo.partner@gmail.com",
	                           .freemail_domains = freemail};

	CHECK_STR_CONTAINS(run(&in), "BEC_REPLY_TO_FREEMAIL(Reply-To ceo.partner@gmail.com, From "
	                             "ceo@partner.test)");
	in.reply_to = "billing@mail.partner.test";
	CHECK(strcmp(run(&in), "") == 0);
	in.reply_to = "x@other.test";
	CHECK_STR_CONTAINS(run(&in), "BEC_REPLY_TO_UNRELATED(Reply-To x@other.test");
	in.list_mail = 1;
	CHECK(strcmp(run(&in), "") == 0);
	in.reply_to = "x@gmail.com";
	CHECK_STR_CONTAINS(run(&in), "BEC_REPLY_TO_FREEMAIL");
}

/* Delivered inbound mail records the sender for each local recipient;
 * outbound mail records the recipients and the name the user sends under. */
static void test_store_records(void)
{
	struct ims_conf *c;
	struct ims_store *st;
	struct ims_engine *e = NULL;
	struct ims_scan *s;
	char err[256];
	const char *in_rcpts[] = {"Alice@Example.test", "bob@elsewhere.test"};
	const char *out_rcpts[] = {"carol@partner.test"};
	struct ims_envelope in_env = {.client_ip = "192.0.2.9",
	                              .helo = "mx.partner.test",
	                              .mail_from = "carol@partner.test",
	                              .rcpts = in_rcpts,
	                              .nrcpts = 2,
	                              .queue_id = "Q1"};
	struct ims_envelope out_env = {.client_ip = "127.0.0.1",
	                               .helo = "localhost",
	                               .mail_from = "alice@example.test",
	                               .auth_user = "alice@example.test",
	                               .rcpts = out_rcpts,
	                               .nrcpts = 1,
	                               .queue_id = "Q2"};
	const char in_msg[] = "From: Carol <Carol@Partner.test>\r\nTo: alice@example.test\r\n"
	                      "Subject: hi\r\n\r\nhello\r\n";
	const char out_msg[] =
	    "From: Alice Smith <alice@example.test>\r\nTo: carol@partner.test\r\n"
	    "Subject: re\r\n\r\nthanks\r\n";

	CHECK(ims_conf_defaults(&c) == IMS_OK);
	free(c->classifier_model);
	c->classifier_model = strdup(model_path);
	for (char **d = c->milter_local_domains; d && *d; d++)
		free(*d);
	free(c->milter_local_domains);
	c->milter_local_domains = calloc(2, sizeof(char *));
	c->milter_local_domains[0] = strdup("example.test");
	CHECK(ims_store_open_memory(&st) == IMS_OK);
	CHECK(ims_engine_new_with_store(c, st, &e, err, sizeof err) == IMS_OK);
	ims_conf_unref(c);
	if (!e)
		return;
	CHECK(ims_scan_run(e, &in_env, in_msg, sizeof in_msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_store(e, s, in_msg, sizeof in_msg - 1, NULL, 0) == IMS_OK);
	ims_scan_free(s);
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "ZADD ims:{alice@example.test}:correspondents");
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "carol@partner.test");
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "ZADD ims:{alice@example.test}:corrdomains");
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "ZREMRANGEBYRANK ims:{alice@example.test}:correspondents 0 -1001");
	CHECK(strstr(ims_store_memory_log(st), "ims:{bob@elsewhere.test}:correspondents") == NULL);

	CHECK(ims_scan_run(e, &out_env, out_msg, sizeof out_msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_store(e, s, out_msg, sizeof out_msg - 1, NULL, 0) == IMS_OK);
	ims_scan_free(s);
	CHECK_STR_CONTAINS(ims_store_memory_log(st), "HSET ims:{global}:bec:names alice smith "
	                                             "alice@example.test");
	ims_engine_unref(e);
}

/* "name(detail) " of every symbol of s */
static const char *symbols(const struct ims_scan *s)
{
	found[0] = '\0';
	for (size_t i = 0; i < ims_scan_symbol_count(s); i++) {
		const char *name, *detail;
		double w;
		size_t n = strlen(found);

		if (ims_scan_symbol(s, i, &name, &w, &detail) == 0)
			snprintf(found + n, sizeof found - n, "%s(%s) ", name, detail);
	}
	return found;
}

static struct ims_engine *engine_tag(struct ims_store **st, double tag)
{
	struct ims_conf *c;
	struct ims_engine *e = NULL;
	char err[256];

	CHECK(ims_conf_defaults(&c) == IMS_OK);
	free(c->classifier_model);
	c->classifier_model = strdup(model_path);
	for (char **d = c->milter_local_domains; d && *d; d++)
		free(*d);
	free(c->milter_local_domains);
	c->milter_local_domains = calloc(2, sizeof(char *));
	c->milter_local_domains[0] = strdup("example.test");
	if (tag < 5.0) /* a tag from the look-alike alone: 9 - 3 (SVM_HAM) */
		c->scores[ims_symbol_find("BEC_LOOKALIKE_DOMAIN")] = 9.0;
	CHECK(ims_store_open_memory(st) == IMS_OK);
	CHECK(ims_engine_new_with_store(c, *st, &e, err, sizeof err) == IMS_OK);
	ims_conf_unref(c);
	return e;
}

static struct ims_engine *engine(struct ims_store **st)
{
	return engine_tag(st, 5.0);
}

static const char *in_rcpts[] = {"alice@example.test"};
static const struct ims_envelope in_env = {.client_ip = "192.0.2.9",
                                           .helo = "mx.examp1e.test",
                                           .mail_from = "ceo@examp1e.test",
                                           .rcpts = in_rcpts,
                                           .nrcpts = 1,
                                           .queue_id = "Q3"};

/* Through the scan: a look-alike From domain, a Reply-To at free mail. */
static void test_scan_symbols(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(&st);
	struct ims_scan *s;
	const char msg[] = "From: CEO <ceo@examp1e.test>\r\nReply-To: ceo@gmail.com\r\n"
	                   "To: alice@example.test\r\nSubject: wire\r\n\r\nurgent\r\n";

	if (!e)
		return;
	CHECK(ims_scan_run(e, &in_env, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK_STR_CONTAINS(symbols(s), "BEC_LOOKALIKE_DOMAIN(examp1e.test looks like example.test "
	                               "(confusable))");
	CHECK_STR_CONTAINS(symbols(s), "BEC_REPLY_TO_FREEMAIL(Reply-To ceo@gmail.com, From "
	                               "ceo@examp1e.test)");
	ims_scan_free(s);
	ims_engine_unref(e);
}

/* The link the phishing check judges is the one the mail view renders:
 * with <base href> the relative link goes to evil.test.  Before, the
 * checks read the stripper's "login" (no host) and saw nothing. */
static void test_scan_judges_rendered_link(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(&st);
	struct ims_scan *s;
	const char msg[] = "From: PayPal <service@paypal.test>\r\nTo: alice@example.test\r\n"
	                   "Subject: account\r\nContent-Type: text/html\r\n\r\n"
	                   "<html><head><base href=\"http://evil.test/\"></head><body>"
	                   "<a href=\"login\">www.paypal.test</a></body></html>\r\n";

	if (!e)
		return;
	CHECK(ims_scan_run(e, &in_env, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK_STR_CONTAINS(symbols(s), "PHISH_URL_TEXT_MISMATCH(www.paypal.test->evil.test)");
	ims_scan_free(s);
	ims_engine_unref(e);
}

/* A tagged (suspect) inbound message does not make its sender known. */
static void test_tagged_not_recorded(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine_tag(&st, 0.0); /* a look-alike is tagged */
	struct ims_scan *s;
	const char msg[] = "From: Spammer <x@examp1e.test>\r\nTo: alice@example.test\r\n"
	                   "Subject: offer\r\n\r\nbuy\r\n";

	if (!e)
		return;
	CHECK(ims_scan_run(e, &in_env, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK(ims_scan_action(s) == IMS_ACTION_TAG);
	CHECK(ims_scan_store(e, s, msg, sizeof msg - 1, NULL, 0) == IMS_OK);
	CHECK(strstr(ims_store_memory_log(st), "ZADD ims:{alice@example.test}:correspondents") ==
	      NULL);
	ims_scan_free(s);
	ims_engine_unref(e);
}

/* Redis down: the checks that need it give nothing (neutral), the rest
 * still run, and the scan is not held back. */
static void test_redis_down_neutral(void)
{
	struct ims_store *st;
	struct ims_engine *e = engine(&st);
	struct ims_scan *s;
	const char msg[] = "From: CEO <ceo@examp1e.test>\r\nTo: alice@example.test\r\n"
	                   "Subject: wire\r\n\r\nurgent\r\n";

	if (!e)
		return;
	ims_store_memory_set_down(st, true);
	CHECK(ims_scan_run(e, &in_env, msg, sizeof msg - 1, &s) == IMS_OK);
	CHECK_STR_CONTAINS(symbols(s), "BEC_LOOKALIKE_DOMAIN(");
	CHECK(strstr(symbols(s), "BEC_FIRST_TIME_SENDER") == NULL);
	CHECK(strstr(symbols(s), "BEC_DISPLAY_NAME_LOCAL_USER") == NULL);
	ims_scan_free(s);
	ims_engine_unref(e);
}

int main(void)
{
	RUN(test_skeleton);
	RUN(test_lookalike_pairs);
	RUN(test_lookalike_checks);
	RUN(test_display_name);
	RUN(test_reply_to);
	if (make_ham_model() == 0) {
		RUN(test_store_records);
		RUN(test_scan_symbols);
		RUN(test_scan_judges_rendered_link);
		RUN(test_redis_down_neutral);
		RUN(test_tagged_not_recorded);
	} else
		CHECK(!"model");
	unlink(model_path);
	return CHECK_DONE();
}
