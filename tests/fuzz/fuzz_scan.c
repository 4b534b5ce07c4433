/* Fuzz target: the whole scan pipeline (lib/scan) as ims-milter and POST
 * /scan-email run it: SPF, DKIM, DMARC with DNS answers from the input,
 * MIME parsing, heuristics, the SVM, DKIM signing of outbound mail, the
 * scan log, the headers ims adds and the stored copy.
 *
 * Input:
 *   CLIENT_IP HELO MAIL_FROM AUTH_USER RCPT...   (one line; AUTH_USER "-": none)
 *   NAME TYPE DATA                                (DNS records, any number of lines)
 *                                                 (an empty line)
 *   the message
 * Names under fail.test get REFUSED (temperror).  Local domain: example.test
 * (DKIM key example.test:sel).
 *
 * Oracles: the scan log is one JSON object (jansson) with all its parts and
 * agrees with the result; every header value ims adds, and the
 * DKIM-Signature, cannot end its field; the Authentication-Results value
 * holds one result per check ims ran (RFC 8601 tokens: nothing from the
 * sender or the login becomes a result); the stored copy has at most one of
 * each header ims adds (a sender cannot forge a verdict). */
#include "config.h"

#include <jansson.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "engine.h"
#include "fuzz_common.h"
#include "model.h"
#include "rfc5322.h"
#include "scan.h"
#include "store.h"

static struct ims_engine *eng;
static struct ims_dns *dns;

static void set_list1(char ***field, const char *s)
{
	char **l = calloc(2, sizeof *l);

	for (char **p = *field; p && *p; p++)
		free(*p);
	free(*field);
	l[0] = strdup(s);
	*field = l;
}

/* A small model with weights of both signs, so the score varies. */
static void make_model(const char *path)
{
	double *w = calloc((1u << 10) + 1, sizeof *w);
	struct ims_model_params p = {.hash_bits = 10,
	                             .w = w,
	                             .rho = 0.1,
	                             .platt_a = -2.0,
	                             .platt_b = 0.0,
	                             .c = 1.0,
	                             .trainer = "fuzz"};
	struct ims_model *m;
	char err[256];

	for (size_t i = 1; i <= 1u << 10; i++)
		w[i] = (double)((int)(i * 2654435761u % 200) - 100) / 100.0;
	if (ims_model_new(&p, &m) != IMS_OK || ims_model_save(m, path, err, sizeof err) != IMS_OK)
		fuzz_fail("cannot write the fuzz model: %s", err);
	ims_model_unref(m);
	free(w);
}

static struct ims_conf *conf;

/* The model lives in a memfd (loaded through /proc/self/fd/N), so no file
 * is left behind however the process ends. */
static void setup(void)
{
	char key[4200], tmp[64] = "/tmp/ims-fuzz-model-XXXXXX", path[64], buf[65536];
	int fd = mkstemp(tmp), mfd = memfd_create("ims-fuzz-model", 0);
	ssize_t n;

	if (fd < 0 || mfd < 0)
		fuzz_fail("mkstemp/memfd_create");
	close(fd);
	make_model(tmp);
	fd = open(tmp, O_RDONLY);
	unlink(tmp);
	if (fd < 0)
		fuzz_fail("cannot read the fuzz model back");
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (write(mfd, buf, (size_t)n) != n)
			fuzz_fail("memfd write");
	close(fd);
	snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
	if (ims_conf_defaults(&conf) != IMS_OK)
		fuzz_fail("conf");
	free(conf->classifier_model);
	conf->classifier_model = strdup(path);
	set_list1(&conf->milter_local_domains, "example.test");
	snprintf(key, sizeof key, "example.test:sel:%s",
	         fuzz_private_copy("tests/data/dkim/sel.private"));
	set_list1(&conf->dkim_keys, key);
	free(conf->milter_authserv_id);
	conf->milter_authserv_id = strdup("mx.example.test");
}

/* An engine with its own memory store and in-process resolver for each
 * input: what an input stores and the records it adds go with it
 * (libunbound keeps a removed record's memory until the resolver is freed,
 * which would look like a leak to libFuzzer after every input and grow
 * without bound). */
static void new_engine(void)
{
	struct ims_store *st;
	char err[256] = "";

	if (ims_store_open_memory(&st) != IMS_OK ||
	    ims_engine_new_with_store(conf, st, &eng, err, sizeof err) != IMS_OK)
		fuzz_fail("engine: %s", err);
	if (!ims_engine_model(eng))
		fuzz_fail("model not loaded: %s", ims_engine_model_error(eng));
	dns = ims_auth_dns(ims_engine_auth(eng));
	if (ims_dns_local_only(dns) != IMS_OK ||
	    ims_dns_local_zone(dns, "fail.test", "refuse", err, sizeof err) != IMS_OK)
		fuzz_fail("local DNS: %s", err);
}

/* Counts the results of each method in an Authentication-Results value
 * (RFC 8601: authserv-id, then resinfo separated by ';' outside quoted
 * strings and comments; a resinfo starts with method=result). */
static void count_methods(const char *v, size_t *spf, size_t *dkim, size_t *dmarc, size_t *auth,
                          size_t *other)
{
	int depth = 0, quoted = 0, first = 1;
	const char *start = NULL;

	*spf = *dkim = *dmarc = *auth = *other = 0;
	for (const char *c = v;; c++) {
		if (*c == '\0' || (*c == ';' && !quoted && depth == 0)) {
			if (!first && start) {
				size_t n = strcspn(start, "= \t\r\n;(");
				if (n == 3 && strncmp(start, "spf", 3) == 0)
					(*spf)++;
				else if (n == 4 && strncmp(start, "dkim", 4) == 0)
					(*dkim)++;
				else if (n == 5 && strncmp(start, "dmarc", 5) == 0)
					(*dmarc)++;
				else if (n == 4 && strncmp(start, "auth", 4) == 0)
					(*auth)++;
				else if (!(n == 4 && strncmp(start, "none", 4) == 0))
					(*other)++;
			}
			if (*c == '\0')
				return;
			first = 0;
			start = NULL;
			continue;
		}
		if (quoted) {
			if (*c == '\\' && c[1])
				c++;
			else if (*c == '"')
				quoted = 0;
			continue;
		}
		if (*c == '"') {
			quoted = 1;
		} else if (*c == '(') {
			depth++;
		} else if (*c == ')' && depth > 0) {
			depth--;
		} else if (!start && depth == 0 && !strchr(" \t\r\n", *c)) {
			start = c;
		}
	}
}

/* The Authentication-Results value says exactly what the scan checked:
 * one result per method run, nothing a sender's text could add. */
static void check_auth_results(const struct ims_scan *s, json_t *log)
{
	const char *ar = NULL, *name, *value;
	json_t *auth = json_object_get(log, "auth");
	size_t spf, dkim, dmarc, au, other, want_dkim;
	int authed = json_is_string(json_object_get(json_object_get(log, "client"), "auth"));

	for (size_t i = 0; i < ims_scan_header_count(s); i++)
		if (ims_scan_header(s, i, &name, &value) == 0 &&
		    strcmp(name, "Authentication-Results") == 0)
			ar = value;
	if (!ar)
		fuzz_fail("no Authentication-Results");
	count_methods(ar, &spf, &dkim, &dmarc, &au, &other);
	if (authed) {
		if (au != 1 || spf || dkim || dmarc || other)
			fuzz_fail("Authentication-Results of authenticated mail: %s", ar);
		return;
	}
	if (!json_is_object(auth))
		return; /* not checked (trusted network, tempfail) */
	want_dkim = json_array_size(json_object_get(auth, "dkim"));
	if (other || au || spf != (json_string_length(json_object_get(auth, "spf")) ? 1u : 0u) ||
	    (dkim != want_dkim && !(want_dkim == 0 && dkim <= 1)) ||
	    dmarc > 1) /* the log says "none" for a DMARC check not run, the header omits it */
		fuzz_fail("Authentication-Results does not match the checks (spf %zu, dkim %zu of "
		          "%zu, dmarc %zu, auth %zu, other %zu): %s\nscan log: %s",
		          spf, dkim, want_dkim, dmarc, au, other, ar,
		          json_dumps(log, JSON_COMPACT));
}

static void check_result(const struct ims_scan *s, const char *raw, size_t len)
{
	json_error_t jerr;
	json_t *j;
	char *log = ims_scan_json(s), *out = NULL;
	size_t outlen, counts[16] = {0};
	struct ims_msg *m = NULL;

	if (!log)
		fuzz_fail("no scan log");
	j = json_loads(log, 0, &jerr);
	if (!json_is_object(j))
		fuzz_fail("scan log is not a JSON object (%s): %s", jerr.text, log);
	const char *action = json_string_value(json_object_get(j, "action"));
	if (!action || strcmp(action, ims_action_name(ims_scan_action(s))) != 0)
		fuzz_fail("scan log action differs: %s", log);
	if (!json_is_string(json_object_get(json_object_get(j, "client"), "ip")) ||
	    !json_is_object(json_object_get(j, "auth")))
		fuzz_fail("scan log lost its client or auth object: %s", log);
	check_auth_results(s, j);
	json_decref(j);
	if (getenv("FUZZ_VERBOSE"))
		printf("%s\nDKIM-Signature: %s\n", log,
		       ims_scan_dkim_signature(s) ? ims_scan_dkim_signature(s) : "(none)");
	free(log);

	for (size_t i = 0; i < ims_scan_header_count(s); i++) {
		const char *name, *value;
		if (ims_scan_header(s, i, &name, &value) != 0)
			fuzz_fail("header %zu missing", i);
		fuzz_check_header_value(name, value);
	}
	if (ims_scan_dkim_signature(s))
		fuzz_check_header_value("DKIM-Signature", ims_scan_dkim_signature(s));

	/* the stored copy: ims's headers once, the sender's versions gone */
	if (ims_scan_rewrite(s, raw, len, &out, &outlen) != IMS_OK)
		return;
	if (ims_msg_parse(out, outlen, 100000, 1u << 20, &m) == IMS_OK) {
		for (size_t i = 0; i < ims_msg_header_count(m); i++) {
			const char *name, *value;
			size_t vlen;
			ims_msg_header(m, i, &name, &value, &vlen);
			if (!ims_scan_is_own_header(name))
				continue;
			for (size_t k = 0; k < ims_scan_header_count(s) && k < 16; k++) {
				const char *own, *v;
				ims_scan_header(s, k, &own, &v);
				if (strcasecmp(own, name) == 0 && ++counts[k] > 1)
					fuzz_fail("stored copy has %s twice", own);
			}
		}
		ims_msg_free(m);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *line;
	char first[1024], *f[6 + 8] = {0}, *save = NULL;
	const char *rcpts[sizeof f / sizeof f[0]];
	struct ims_envelope env = {0};
	struct fuzz_dns added = {0};
	struct ims_scan *s = NULL;
	size_t len, nf = 0;
	ims_status rc;

	if (!conf)
		setup();
	new_engine();
	line = fuzz_line(&p, end, &len);
	if (!line || len >= sizeof first) {
		ims_engine_unref(eng);
		eng = NULL;
		return 0;
	}
	memcpy(first, line, len);
	first[len] = '\0';
	for (char *t = strtok_r(first, " ", &save); t && nf < sizeof f / sizeof f[0];
	     t = strtok_r(NULL, " ", &save))
		f[nf++] = t;
	env.client_ip = f[0];
	env.helo = f[1];
	env.mail_from = f[2] && strcmp(f[2], "<>") != 0 ? f[2] : "";
	env.auth_user = f[3] && strcmp(f[3], "-") != 0 ? f[3] : NULL;
	for (size_t i = 4; i < nf; i++)
		rcpts[env.nrcpts++] = f[i];
	env.rcpts = rcpts;
	env.queue_id = "FUZZQ";
	while ((line = fuzz_line(&p, end, &len)) && len > 0)
		fuzz_dns_add(dns, &added, line, len);

	rc = ims_scan_run(eng, &env, p, (size_t)(end - p), &s);
	if (rc != IMS_OK && rc != IMS_ETEMP && rc != IMS_ENOMEM)
		fuzz_fail("ims_scan_run: %s", ims_strstatus(rc));
	if (s)
		check_result(s, p, (size_t)(end - p));
	ims_scan_free(s);
	ims_engine_unref(eng);
	eng = NULL;
	return 0;
}
