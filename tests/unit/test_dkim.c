#include "config.h"

#include <pthread.h>

#include "check.h"
#include "conf.h"
#include "dkim.h"
#include "dns.h"
#include "test_dns_local.h"

static struct ims_dns *dns;
static struct ims_dkim *dkim;
static char dir[] = "/tmp/dkXXXXXX"; /* short: inih lines end at 200 bytes */

static const char msg_lf[] = "From: Alice <alice@example.test>\n"
                             "To: bob@example.net\n"
                             "Subject: quarterly\n"
                             "  report\n"
                             "Date: Mon, 23 Nov 2026 06:00:00 +0000\n"
                             "Message-ID: <1@example.test>\n"
                             "\n"
                             "Hello Bob,\n"
                             "the numbers are in.\n";

/* The p= record of an opendkim-genkey .txt file: its quoted strings joined. */
static int read_genkey_txt(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	int c, in = 0;
	size_t n = 0;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF && n + 1 < outlen) {
		if (c == '"')
			in = !in;
		else if (in)
			out[n++] = (char)c;
	}
	out[n] = '\0';
	fclose(f);
	return n > 0 ? 0 : -1;
}

/* "DKIM-Signature: <value>\r\n" + msg, with the value's "\n\t" folds as CRLF. */
static char *prepend(const char *value, const char *msg)
{
	size_t n = 0, cap = strlen(value) * 2 + strlen(msg) + 64;
	char *out = malloc(cap);

	n += (size_t)snprintf(out, cap, "DKIM-Signature: ");
	for (const char *p = value; *p; p++) {
		if (*p == '\n')
			out[n++] = '\r';
		out[n++] = *p;
	}
	memcpy(out + n, "\r\n", 2);
	n += 2;
	memcpy(out + n, msg, strlen(msg) + 1);
	return out;
}

static char *signed_msg(const char *domain, const char *msg)
{
	char *sig = NULL, *out;

	if (ims_dkim_sign(dkim, msg, strlen(msg), domain, &sig) != IMS_OK)
		return NULL;
	out = prepend(sig, msg);
	free(sig);
	return out;
}

static void test_sign_verify_pass(void)
{
	struct ims_dkim_result r;
	char *sig = NULL, *m;

	CHECK(ims_dkim_sign(dkim, msg_lf, strlen(msg_lf), "example.test", &sig) == IMS_OK);
	CHECK_STR_CONTAINS(sig, "d=example.test");
	CHECK_STR_CONTAINS(sig, "s=sel");
	CHECK_STR_CONTAINS(sig, "c=relaxed/relaxed");
	CHECK(sig && strncmp(sig, "DKIM-Signature", 14) != 0);   /* value only */
	CHECK(sig && !strchr(sig, '\r') && strstr(sig, "\n\t")); /* folded with LF-TAB */
	m = prepend(sig, msg_lf);
	CHECK(ims_dkim_verify(dkim, m, strlen(m), &r) == IMS_OK);
	CHECK(r.count == 1 && r.ignored == 0);
	CHECK(r.sigs[0].result == IMS_DKIM_PASS);
	CHECK(strcmp(r.sigs[0].domain, "example.test") == 0);
	CHECK(strcmp(r.sigs[0].selector, "sel") == 0);
	CHECK(ims_dkim_summary(&r) == IMS_DKIM_PASS);
	free(m);
	free(sig);

	/* a subdomain sender is signed with the parent's key */
	m = signed_msg("mail.example.test", msg_lf);
	CHECK(m && ims_dkim_verify(dkim, m, strlen(m), &r) == IMS_OK);
	CHECK(r.count == 1 && r.sigs[0].result == IMS_DKIM_PASS);
	free(m);
}

static void test_crlf_and_lf_agree(void)
{
	struct ims_dkim_result r;
	char *m = signed_msg("example.test", msg_lf);
	char crlf[4096];
	size_t n = 0;

	/* the same message converted to CRLF still verifies */
	for (const char *p = m; p && *p && n + 2 < sizeof crlf; p++) {
		if (*p == '\n' && (p == m || p[-1] != '\r'))
			crlf[n++] = '\r';
		crlf[n++] = *p;
	}
	crlf[n] = '\0';
	CHECK(ims_dkim_verify(dkim, crlf, n, &r) == IMS_OK);
	CHECK(r.count == 1 && r.sigs[0].result == IMS_DKIM_PASS);
	free(m);
}

static void test_altered(void)
{
	struct ims_dkim_result r;
	char *m = signed_msg("example.test", msg_lf), *p;

	/* body changed */
	p = strstr(m, "numbers");
	p[0] = 'N';
	CHECK(ims_dkim_verify(dkim, m, strlen(m), &r) == IMS_OK);
	CHECK(r.count == 1 && r.sigs[0].result == IMS_DKIM_FAIL);
	CHECK(r.sigs[0].reason[0] != '\0');
	p[0] = 'n';
	/* signed header changed */
	p = strstr(m, "quarterly");
	p[0] = 'Q';
	CHECK(ims_dkim_verify(dkim, m, strlen(m), &r) == IMS_OK);
	CHECK(r.count == 1 && r.sigs[0].result == IMS_DKIM_FAIL);
	CHECK(ims_dkim_summary(&r) == IMS_DKIM_FAIL);
	free(m);
}

static void test_key_problems(void)
{
	struct ims_dkim_result r;
	char *m;

	/* no key published for nokey._domainkey.other.test */
	m = signed_msg("other.test", msg_lf);
	CHECK(m && ims_dkim_verify(dkim, m, strlen(m), &r) == IMS_OK);
	CHECK(r.count == 1 && r.sigs[0].result == IMS_DKIM_PERMERROR);
	printf("missing key: %s (%s)\n", ims_dkim_result_name(r.sigs[0].result), r.sigs[0].reason);
	free(m);

	/* the key's name gets SERVFAIL */
	m = signed_msg("slow.test", msg_lf);
	CHECK(m && ims_dkim_verify(dkim, m, strlen(m), &r) == IMS_OK);
	printf("key lookup SERVFAIL: count=%zu %s (%s)\n", r.count,
	       ims_dkim_result_name(r.sigs[0].result), r.sigs[0].reason);
	CHECK(r.count == 1 && r.sigs[0].result == IMS_DKIM_TEMPERROR);
	CHECK(ims_dkim_summary(&r) == IMS_DKIM_TEMPERROR);
	free(m);

	/* a revoked key (empty p=) */
	m = signed_msg("revoked.test", msg_lf);
	CHECK(m && ims_dkim_verify(dkim, m, strlen(m), &r) == IMS_OK);
	CHECK(r.count == 1 && r.sigs[0].result == IMS_DKIM_FAIL);
	free(m);
}

static void test_dns_down(void)
{
	const char *servers[] = {"127.0.0.1:9", NULL};
	struct ims_dns *d = NULL;
	struct ims_dkim *k = NULL;
	struct ims_dkim_result r;
	char *m = signed_msg("example.test", msg_lf);

	CHECK(ims_dns_new_servers(servers, 300, &d, NULL, 0) == IMS_OK);
	CHECK(ims_dkim_new(d, NULL, &k, NULL, 0) == IMS_OK);
	CHECK(ims_dkim_verify(k, m, strlen(m), &r) == IMS_OK);
	CHECK(r.count == 1 && r.sigs[0].result == IMS_DKIM_TEMPERROR);
	ims_dkim_free(k);
	ims_dns_free(d);
	free(m);
}

static void test_unsigned_and_limits(void)
{
	struct ims_dkim_result r;
	char *sig = NULL, *m, *many;
	size_t n = 0, cap;

	CHECK(ims_dkim_verify(dkim, msg_lf, strlen(msg_lf), &r) == IMS_OK);
	CHECK(r.count == 0 && ims_dkim_summary(&r) == IMS_DKIM_NONE);
	CHECK(strcmp(ims_dkim_result_name(IMS_DKIM_NONE), "none") == 0);
	CHECK(ims_dkim_sign(dkim, msg_lf, strlen(msg_lf), "nokey.example", &sig) == IMS_ENOTFOUND);
	CHECK(ims_dkim_verify(dkim, "", 0, &r) == IMS_EFORMAT);

	/* 12 signatures: 10 checked, 2 ignored */
	CHECK(ims_dkim_sign(dkim, msg_lf, strlen(msg_lf), "example.test", &sig) == IMS_OK);
	m = prepend(sig, "");
	cap = strlen(m) * 12 + strlen(msg_lf) + 1;
	many = malloc(cap);
	for (int i = 0; i < 12; i++) {
		memcpy(many + n, m, strlen(m));
		n += strlen(m);
	}
	memcpy(many + n, msg_lf, strlen(msg_lf) + 1);
	CHECK(ims_dkim_verify(dkim, many, strlen(many), &r) == IMS_OK);
	CHECK(r.count == IMS_DKIM_MAX_SIGS && r.ignored == 2);
	CHECK(r.sigs[0].result == IMS_DKIM_PASS);
	free(many);
	free(m);
	free(sig);
}

static char *thread_msg;

static void *verify_worker(void *arg)
{
	long bad = 0;

	(void)arg;
	for (int i = 0; i < 20; i++) {
		struct ims_dkim_result r;
		char *sig = NULL;

		bad += ims_dkim_verify(dkim, thread_msg, strlen(thread_msg), &r) != IMS_OK ||
		       r.count != 1 || r.sigs[0].result != IMS_DKIM_PASS;
		bad += ims_dkim_sign(dkim, msg_lf, strlen(msg_lf), "example.test", &sig) != IMS_OK;
		free(sig);
	}
	return (void *)(intptr_t)bad;
}

/* One ims_dkim shared by several threads, as the milter does. */
static void test_threads(void)
{

	thread_msg = signed_msg("example.test", msg_lf);
	CHECK(run_threads(verify_worker, 4, NULL) == 0);
	free(thread_msg);
}

/* [dkim] canonicalization = simple/simple reaches the signature. */
static void test_simple_canon(void)
{
	char path[512], err[300] = "", *sig = NULL, *m;
	struct ims_conf *conf = NULL;
	struct ims_dkim *k = NULL;
	struct ims_dkim_result r;
	FILE *f;

	snprintf(path, sizeof path, "%s/simple.conf", dir);
	f = fopen(path, "w");
	fprintf(f, "[dkim]\nkeys = example.test:sel:%s/k.pem\ncanonicalization = simple/simple\n",
	        dir);
	fclose(f);
	CHECK(ims_conf_load(path, &conf, err, sizeof err) == IMS_OK);
	CHECK(ims_dkim_new(dns, conf, &k, err, sizeof err) == IMS_OK);
	CHECK(ims_dkim_sign(k, msg_lf, strlen(msg_lf), "example.test", &sig) == IMS_OK);
	CHECK_STR_CONTAINS(sig, "c=simple/simple");
	m = prepend(sig, msg_lf);
	CHECK(ims_dkim_verify(dkim, m, strlen(m), &r) == IMS_OK);
	CHECK(r.count == 1 && r.sigs[0].result == IMS_DKIM_PASS);
	free(m);
	free(sig);
	ims_dkim_free(k);
	ims_conf_unref(conf);
}

static void test_bad_config(void)
{
	char path[512], err[300] = "";
	struct ims_conf *conf = NULL;
	struct ims_dkim *k = NULL;
	FILE *f;

	snprintf(path, sizeof path, "%s/bad.conf", dir);
	f = fopen(path, "w");
	fprintf(f, "[dkim]\nkeys = example.test:sel:%s/k.pem, broken-entry\n", dir);
	fclose(f);
	/* refused when the file is loaded (lib/conf.c checks each key's form) */
	CHECK(ims_conf_load(path, &conf, err, sizeof err) == IMS_EINVAL && conf == NULL);
	CHECK_STR_CONTAINS(err, "broken-entry");

	f = fopen(path, "w");
	fprintf(f, "[dkim]\nkeys = example.test:sel:%s/missing.pem\n", dir);
	fclose(f);
	CHECK(ims_conf_load(path, &conf, err, sizeof err) == IMS_OK);
	CHECK(ims_dkim_new(dns, conf, &k, err, sizeof err) == IMS_EIO);
	CHECK_STR_CONTAINS(err, "missing.pem");
	ims_conf_unref(conf);

	/* a private key other users can read is refused, with what to do */
	{
		char cmd[1200];

		snprintf(cmd, sizeof cmd, "cp %s/k.pem %s/world.pem && chmod 644 %s/world.pem", dir,
		         dir, dir);
		CHECK(system(cmd) == 0);
	}
	f = fopen(path, "w");
	fprintf(f, "[dkim]\nkeys = example.test:sel:%s/world.pem\n", dir);
	fclose(f);
	CHECK(ims_conf_load(path, &conf, err, sizeof err) == IMS_OK);
	CHECK(ims_dkim_new(dns, conf, &k, err, sizeof err) == IMS_EPERM && k == NULL);
	CHECK_STR_CONTAINS(err, "world.pem: mode 0644");
	CHECK_STR_CONTAINS(err, "chmod 600");
	ims_conf_unref(conf);
}

int main(void)
{
	char cmd[1024], txt[4096], json[8192], path[512], err[300] = "";
	struct ims_conf *conf = NULL;
	FILE *f;

	/* a fixed test key pair (made once by opendkim-genkey -b 1024 -d
	 * example.test -s sel), so the test needs no key tool */
	if (!mkdtemp(dir))
		return 1;
	snprintf(cmd, sizeof cmd, "cp '%s' %s/k.pem && chmod 600 %s/k.pem",
	         fixture("dkim/sel.private"), dir, dir);
	if (system(cmd) != 0)
		return 1;
	if (read_genkey_txt(fixture("dkim/sel.txt"), txt, sizeof txt) != 0)
		return 1;
	snprintf(json, sizeof json,
	         "{\"sel._domainkey.example.test\": [[\"TXT\", \"%s\"]],"
	         " \"sel._domainkey.slow.test\": [[\"TIMEOUT\", null]],"
	         " \"sel._domainkey.revoked.test\": [[\"TXT\", \"v=DKIM1; k=rsa; p=\"]]}",
	         txt);
	dns = test_dns_new(json, 2000);
	if (!dns)
		return 1;
	snprintf(path, sizeof path, "%s/ims.conf", dir);
	f = fopen(path, "w");
	fprintf(f,
	        "[dkim]\nkeys = example.test:sel:%s/k.pem, other.test:nokey:%s/k.pem,"
	        " slow.test:sel:%s/k.pem, revoked.test:sel:%s/k.pem\n",
	        dir, dir, dir, dir);
	fclose(f);
	if (ims_conf_load(path, &conf, err, sizeof err) != IMS_OK ||
	    ims_dkim_new(dns, conf, &dkim, err, sizeof err) != IMS_OK) {
		fprintf(stderr, "setup: %s\n", err);
		ims_dns_free(dns);
		return 1;
	}
	RUN(test_sign_verify_pass);
	RUN(test_crlf_and_lf_agree);
	RUN(test_altered);
	RUN(test_key_problems);
	RUN(test_dns_down);
	RUN(test_unsigned_and_limits);
	RUN(test_threads);
	RUN(test_simple_canon);
	RUN(test_bad_config);
	ims_dkim_free(dkim);
	ims_dns_free(dns);
	ims_conf_unref(conf);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return CHECK_DONE();
}
