/* Fuzz target: SPF, DKIM and DMARC on a message and its envelope
 * (lib/auth.c over lib/spf, lib/dkim, lib/dmarc), with DNS answers from the
 * input, and DKIM signing (ims_auth_sign).
 *
 * Input:
 *   CLIENT_IP HELO MAIL_FROM        (one line)
 *   NAME TYPE DATA                  (DNS records, any number of lines)
 *                                   (an empty line)
 *   the message
 * Names under fail.test get REFUSED.  sel._domainkey.example.test holds
 * the public half of the signing key (tests/data/dkim).
 *
 * Oracles: results are from their documented sets; the DKIM-Signature ims
 * writes cannot end its field; a well-formed message that ims signed
 * verifies as "pass" for d=example.test with that signature in front. */
#include "config.h"

#include <stdint.h>
#include <strings.h>

#include "auth.h"
#include "conf.h"
#include "fuzz_common.h"
#include "rfc5322.h"

static struct ims_conf *conf;
static struct ims_auth *auth;
static struct ims_dns *dns;
static char key_rr[2200];

static void setup(void)
{
	struct ims_conf *c;
	char err[256] = "", key[4200], txt[2048];
	size_t n = 0;
	FILE *f;
	int ch, in = 0;

	if (ims_conf_defaults(&conf) != IMS_OK)
		fuzz_fail("conf");
	c = conf;
	snprintf(key, sizeof key, "example.test:sel:%s",
	         fuzz_private_copy("tests/data/dkim/sel.private"));
	for (char **p = c->dkim_keys; p && *p; p++)
		free(*p);
	free(c->dkim_keys);
	c->dkim_keys = calloc(2, sizeof *c->dkim_keys);
	c->dkim_keys[0] = strdup(key);
	/* the public key: the quoted strings of opendkim-genkey's sel.txt */
	f = fopen(fuzz_srcfile("tests/data/dkim/sel.txt"), "r");
	if (!f)
		fuzz_fail("tests/data/dkim/sel.txt");
	while ((ch = fgetc(f)) != EOF && n + 1 < sizeof txt) {
		if (ch == '"')
			in = !in;
		else if (in)
			txt[n++] = (char)ch;
	}
	txt[n] = '\0';
	fclose(f);
	snprintf(key_rr, sizeof key_rr, "sel._domainkey.example.test. 60 IN TXT \"%s\"", txt);
	(void)err;
}

/* A checker with its own in-process resolver for each input: the records
 * an input adds go with it (libunbound keeps a removed record's memory
 * until the resolver is freed, which would look like a leak to libFuzzer
 * after every input and grow without bound).  The checker borrows lists of
 * conf, which stays for the process. */
static void new_auth(void)
{
	char err[256];

	if (ims_auth_new(conf, &auth, err, sizeof err) != IMS_OK)
		fuzz_fail("auth: %s", err);
	dns = ims_auth_dns(auth);
	if (ims_dns_local_only(dns) != IMS_OK ||
	    ims_dns_local_zone(dns, "fail.test", "refuse", err, sizeof err) != IMS_OK ||
	    ims_dns_local_data(dns, key_rr, err, sizeof err) != IMS_OK)
		fuzz_fail("local DNS: %s", err);
}

static void emit(void *arg, const char *symbol, const char *detail)
{
	(void)arg;
	if (!symbol || !symbol[0] || !detail)
		fuzz_fail("symbol without a name or detail");
}

static int one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

static void check_result(const struct ims_auth_result *r)
{
	static const char *const spf[] = {"pass", "fail",      "softfail",  "neutral",
	                                  "none", "temperror", "permerror", NULL};
	static const char *const dkim[] = {"pass",      "fail", "neutral", "temperror",
	                                   "permerror", "none", "policy",  NULL};
	/* "": not checked (no From domain) */
	static const char *const dmarc[] = {"pass",      "fail", "none", "temperror",
	                                    "permerror", "",     NULL};

	if (!one_of(r->spf, spf))
		fuzz_fail("SPF result \"%s\"", r->spf);
	if (r->ndkim < 0 || r->ndkim > IMS_AUTH_MAX_SIGS)
		fuzz_fail("%d DKIM signatures", r->ndkim);
	for (int i = 0; i < r->ndkim; i++)
		if (!one_of(r->dkim[i].result, dkim))
			fuzz_fail("DKIM result \"%s\"", r->dkim[i].result);
	if (!one_of(r->dmarc, dmarc))
		fuzz_fail("DMARC result \"%s\"", r->dmarc);
}

/* A message ims would sign as it is (lib/scan signs when the From domain
 * is local): parses, From domain example.test, no NUL, no bare CR. */
static int well_formed(const char *raw, size_t len)
{
	struct ims_msg *m = NULL;
	char dom[256] = "";
	size_t naddr = 0;

	if (memchr(raw, '\0', len))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (raw[i] == '\r' && (i + 1 >= len || raw[i + 1] != '\n'))
			return 0;
	if (ims_msg_parse(raw, len, 1000, 65536, &m) != IMS_OK)
		return 0;
	if (ims_msg_from_domain(m, dom, sizeof dom, &naddr) != IMS_OK || naddr != 1 ||
	    strcasecmp(dom, "example.test") != 0) {
		ims_msg_free(m);
		return 0;
	}
	ims_msg_free(m);
	return 1;
}

static void sign_and_verify(const char *raw, size_t len)
{
	struct ims_auth_input in = {.client_ip = "192.0.2.1", .helo = "h", .mail_from = ""};
	struct ims_auth_result r;
	char *hdr = NULL, *signed_msg;
	const char *nl = memchr(raw, '\n', len);
	const char *eol = nl && nl > raw && nl[-1] == '\r' ? "\r\n" : "\n";
	size_t n;
	int pass = 0;

	if (ims_auth_sign(auth, raw, len, "example.test", &hdr) != IMS_OK)
		return;
	fuzz_check_header_value("DKIM-Signature", hdr);
	if (!well_formed(raw, len)) {
		free(hdr);
		return;
	}
	n = strlen("DKIM-Signature: ") + strlen(hdr) + strlen(eol) + len;
	signed_msg = malloc(n + 1);
	snprintf(signed_msg, n + 1, "DKIM-Signature: %s%s", hdr, eol);
	memcpy(signed_msg + n - len, raw, len);
	in.raw = signed_msg;
	in.len = n;
	in.from_domain = "example.test";
	ims_auth_check(auth, &in, &r, emit, NULL);
	for (int i = 0; i < r.ndkim; i++)
		pass |= strcmp(r.dkim[i].domain, "example.test") == 0 &&
		        strcmp(r.dkim[i].result, "pass") == 0;
	if (!pass)
		fuzz_fail("a message ims signed does not verify (%s):\n%.*s",
		          r.ndkim ? r.dkim[0].result : "no signature", (int)n, signed_msg);
	free(signed_msg);
	free(hdr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *line;
	char first[1024], *f[3] = {0}, *save = NULL, fdom[256] = "";
	struct ims_auth_input in = {0};
	struct ims_auth_result r;
	struct fuzz_dns added = {0};
	struct ims_msg *m = NULL;
	size_t len, nf = 0;

	if (!conf)
		setup();
	new_auth();
	line = fuzz_line(&p, end, &len);
	if (!line || len >= sizeof first) {
		ims_auth_free(auth);
		auth = NULL;
		return 0;
	}
	memcpy(first, line, len);
	first[len] = '\0';
	for (char *t = strtok_r(first, " ", &save); t && nf < 3; t = strtok_r(NULL, " ", &save))
		f[nf++] = t;
	while ((line = fuzz_line(&p, end, &len)) && len > 0)
		fuzz_dns_add(dns, &added, line, len);
	in.client_ip = f[0] ? f[0] : "";
	in.helo = f[1] ? f[1] : "";
	in.mail_from = f[2] && strcmp(f[2], "<>") != 0 ? f[2] : "";
	in.raw = p;
	in.len = (size_t)(end - p);
	if (ims_msg_parse(p, in.len, 1000, 65536, &m) == IMS_OK) {
		(void)ims_msg_from_domain(m, fdom, sizeof fdom, NULL);
		ims_msg_free(m);
	}
	in.from_domain = fdom;
	ims_auth_check(auth, &in, &r, emit, NULL);
	check_result(&r);
	sign_and_verify(p, in.len);
	ims_auth_free(auth);
	auth = NULL;
	return 0;
}
