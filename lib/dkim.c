#include "config.h"

#include <opendkim/dkim.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "dkim.h"
#include "dns.h"
#include "rfc5322.h"
#include "secretfile.h"

#define MAX_KEY_FILE            (64 * 1024)
#define DEFAULT_MAX_HEADERS     1000
#define DEFAULT_MAX_HEADER_SIZE (64 * 1024)
#define FEED_CHUNK              8192
#define SIGHDR_PREFIX           "DKIM-Signature: "

struct dkim_key {
	char *domain;
	char *selector;
	unsigned char *pem;
	size_t pem_len;
};

struct ims_dkim {
	struct ims_dns *dns;
	DKIM_LIB *lib;
	struct dkim_key *keys;
	size_t nkeys;
	size_t max_headers, max_header_size;
	dkim_canon_t hcanon, bcanon;
};

/* Per verification: which key lookups failed temporarily.  libopendkim
 * stops the whole message when the key callback says "try again", so the
 * callback answers "not found" and remembers the name; the signature's
 * NOKEY error is then reported as temperror. */
struct verify_ctx {
	struct ims_dkim *k;
	long long deadline_ms; /* key lookups stop after this (CLOCK_MONOTONIC) */
	size_t ntemp;
	char temp[IMS_DKIM_MAX_SIGS][400]; /* "selector._domainkey.domain" */
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(char *err, size_t errlen, const char *what, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s", what, arg ? arg : "");
}

/* The libopendkim key lookup: <s>._domainkey.<d> TXT through ims_dns. */
static DKIM_CBSTAT key_lookup(DKIM *d, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct verify_ctx *vc = dkim_get_user_context(d);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	char name[400], **v = NULL;
	DKIM_CBSTAT cb = DKIM_CBSTAT_NOTFOUND;
	ims_status st;
	size_t n;

	if (!vc || !sel || !dom || !sel[0] || !dom[0])
		return DKIM_CBSTAT_NOTFOUND;
	if ((size_t)snprintf(name, sizeof name, "%s._domainkey.%s", sel, dom) >= sizeof name)
		return DKIM_CBSTAT_NOTFOUND;
	st = mono_ms() > vc->deadline_ms ? IMS_ETEMP : ims_dns_txt(vc->k->dns, name, &v);
	if (st == IMS_OK && v[0]) {
		const char *key = v[0];

		for (size_t i = 0; v[i]; i++) /* the key record among other TXT records */
			if (strstr(v[i], "p=")) {
				key = v[i];
				break;
			}
		n = strlen(key);
		if (n >= buflen) {
			cb = DKIM_CBSTAT_ERROR;
		} else {
			memcpy(buf, key, n + 1);
			cb = DKIM_CBSTAT_CONTINUE;
		}
	} else if (st != IMS_OK && st != IMS_ENOTFOUND && st != IMS_EINVAL &&
	           vc->ntemp < IMS_DKIM_MAX_SIGS) {
		snprintf(vc->temp[vc->ntemp++], sizeof vc->temp[0], "%s", name);
	}
	ims_dns_strv_free(v);
	return cb;
}

/* Checks at most IMS_DKIM_MAX_SIGS signatures of a message. */
static DKIM_CBSTAT prescreen(DKIM *d, DKIM_SIGINFO **sigs, int nsigs)
{
	(void)d;
	for (int i = IMS_DKIM_MAX_SIGS; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

static ims_status read_key(const char *path, struct dkim_key *key, char *err, size_t errlen)
{
	FILE *f = NULL;
	size_t n;
	ims_status rc = ims_secret_fopen(path, &f, err, errlen);

	if (rc != IMS_OK)
		return rc;
	key->pem = malloc(MAX_KEY_FILE + 1);
	if (!key->pem) {
		fclose(f);
		return IMS_ENOMEM;
	}
	n = fread(key->pem, 1, MAX_KEY_FILE + 1, f);
	fclose(f);
	key->pem_len = n; /* what ims_dkim_free wipes */
	if (n == 0 || n > MAX_KEY_FILE)
		return IMS_EINVAL;
	key->pem[n] = '\0';
	if (!strstr((char *)key->pem, "PRIVATE KEY-----"))
		return IMS_EINVAL;
	return IMS_OK;
}

/* "domain:selector:/path/key.pem" */
static ims_status add_key(struct ims_dkim *k, const char *entry, char *err, size_t errlen)
{
	const char *c1 = strchr(entry, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	struct dkim_key *key = &k->keys[k->nkeys];
	ims_status rc;

	if (!c1 || !c2 || c1 == entry || c2 == c1 + 1 || !c2[1] || c1 - entry > 253 ||
	    c2 - c1 - 1 > 63) {
		set_err(err, errlen, "[dkim] keys: expected domain:selector:/path/key.pem, got ",
		        entry);
		return IMS_EINVAL;
	}
	key->domain = strndup(entry, (size_t)(c1 - entry));
	key->selector = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
	k->nkeys++; /* freed with the others from here on */
	if (!key->domain || !key->selector)
		return IMS_ENOMEM;
	{
		char why[512] = "";

		rc = read_key(c2 + 1, key, why, sizeof why);
		if (rc == IMS_EINVAL && !why[0])
			set_err(err, errlen, "[dkim] keys: not a PEM private key: ", entry);
		else if (rc != IMS_OK)
			set_err(err, errlen, "[dkim] keys: ", why);
	}
	return rc;
}

/* "header/body" as [dkim] canonicalization allows (relaxed/relaxed,
 * simple/relaxed, ...); anything else stays relaxed. */
static void parse_canon(const char *s, dkim_canon_t *h, dkim_canon_t *b)
{
	const char *slash = s ? strchr(s, '/') : NULL;

	*h = s && strncmp(s, "simple/", 7) == 0 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
	*b = slash && strcmp(slash + 1, "simple") == 0 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
}

ims_status ims_dkim_new(struct ims_dns *dns, const struct ims_conf *conf, struct ims_dkim **out,
                        char *err, size_t errlen)
{
	static const char *oversign[] = {"From", NULL};
	struct ims_dkim *k = NULL;
	ims_status rc = IMS_ENOMEM;
	size_t n = 0;

	if (!dns || !out)
		return IMS_EINVAL;
	*out = NULL;
	k = calloc(1, sizeof *k);
	if (!k)
		goto out;
	k->dns = dns;
	k->max_headers = conf && conf->milter_max_headers > 0 ? (size_t)conf->milter_max_headers
	                                                      : DEFAULT_MAX_HEADERS;
	k->max_header_size = conf && conf->milter_max_header_size > 0 ? conf->milter_max_header_size
	                                                              : DEFAULT_MAX_HEADER_SIZE;
	parse_canon(conf ? conf->dkim_canonicalization : NULL, &k->hcanon, &k->bcanon);
	k->lib = dkim_init(NULL, NULL);
	if (!k->lib) {
		set_err(err, errlen, "cannot initialise libopendkim", NULL);
		goto out;
	}
	if (dkim_set_key_lookup(k->lib, key_lookup) != DKIM_STAT_OK ||
	    dkim_set_prescreen(k->lib, prescreen) != DKIM_STAT_OK ||
	    dkim_options(k->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, oversign,
	                 sizeof(char **)) != DKIM_STAT_OK) {
		set_err(err, errlen, "cannot configure libopendkim", NULL);
		rc = IMS_EIO;
		goto out;
	}
	while (conf && conf->dkim_keys && conf->dkim_keys[n])
		n++;
	if (n > 0) {
		k->keys = calloc(n, sizeof *k->keys);
		if (!k->keys)
			goto out;
		for (size_t i = 0; i < n; i++) {
			if (!conf->dkim_keys[i][0])
				continue;
			rc = add_key(k, conf->dkim_keys[i], err, errlen);
			if (rc != IMS_OK)
				goto out;
		}
	}
	*out = k;
	k = NULL;
	rc = IMS_OK;
out:
	ims_dkim_free(k);
	return rc;
}

void ims_dkim_free(struct ims_dkim *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nkeys; i++) {
		free(k->keys[i].domain);
		free(k->keys[i].selector);
		if (k->keys[i].pem)
			memset(k->keys[i].pem, 0, k->keys[i].pem_len);
		free(k->keys[i].pem);
	}
	free(k->keys);
	if (k->lib)
		dkim_close(k->lib);
	free(k);
}

/* Feeds bytes with bare LF turned into CRLF: a header field in one call,
 * the body through a bounded buffer. */
static DKIM_STAT feed_crlf(DKIM *d, const char *p, size_t len, int is_header)
{
	unsigned char buf[FEED_CHUNK + 2];
	size_t n = 0;
	char prev = 0;
	DKIM_STAT st = DKIM_STAT_OK;

	if (is_header) { /* one call per field: it must fit at once */
		unsigned char *h = malloc(len * 2 + 1);
		if (!h)
			return DKIM_STAT_NORESOURCE;
		for (size_t i = 0; i < len; i++) {
			if (p[i] == '\n' && prev != '\r')
				h[n++] = '\r';
			h[n++] = (unsigned char)p[i];
			prev = p[i];
		}
		st = dkim_header(d, h, n);
		free(h);
		return st;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && prev != '\r')
			buf[n++] = '\r';
		buf[n++] = (unsigned char)p[i];
		prev = p[i];
		if (n >= FEED_CHUNK) {
			st = dkim_body(d, buf, n);
			if (st != DKIM_STAT_OK)
				return st;
			n = 0;
		}
	}
	if (n > 0)
		st = dkim_body(d, buf, n);
	return st;
}

static DKIM_STAT feed(DKIM *d, const struct ims_msg *m)
{
	size_t nh = ims_msg_header_count(m), blen;
	const char *body;
	DKIM_STAT st;

	for (size_t i = 0; i < nh; i++) {
		const char *f;
		size_t flen;

		if (ims_msg_header_field(m, i, &f, &flen) != IMS_OK)
			continue;
		st = feed_crlf(d, f, flen, 1);
		if (st == DKIM_STAT_NORESOURCE)
			return st;
		/* a field libopendkim finds malformed is skipped, as opendkim does */
	}
	st = dkim_eoh(d);
	if (st != DKIM_STAT_OK)
		return st;
	body = ims_msg_body(m, &blen);
	if (blen > 0) {
		st = feed_crlf(d, body, blen, 0);
		if (st != DKIM_STAT_OK)
			return st;
	}
	return dkim_eom(d, NULL);
}

static int lookup_failed(const struct verify_ctx *vc, const char *sel, const char *dom)
{
	char name[400];

	snprintf(name, sizeof name, "%s._domainkey.%s", sel ? sel : "", dom ? dom : "");
	for (size_t i = 0; i < vc->ntemp; i++)
		if (strcmp(vc->temp[i], name) == 0)
			return 1;
	return 0;
}

static enum ims_dkim_res sig_result(const struct verify_ctx *vc, DKIM_SIGINFO *sig,
                                    const char **reason)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig);

	if (err == DKIM_SIGERROR_NOKEY && lookup_failed(vc, (const char *)dkim_sig_getselector(sig),
	                                                (const char *)dkim_sig_getdomain(sig))) {
		*reason = "key lookup failed temporarily";
		return IMS_DKIM_TEMPERROR;
	}

	*reason = err != DKIM_SIGERROR_OK ? dkim_sig_geterrorstr(err) : NULL;
	if ((flags & DKIM_SIGFLAG_PASSED) && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH) {
		*reason = NULL;
		return IMS_DKIM_PASS;
	}
	switch (err) {
	case DKIM_SIGERROR_KEYFAIL: return IMS_DKIM_TEMPERROR;
	case DKIM_SIGERROR_NOKEY:
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYDECODE:
	case DKIM_SIGERROR_KEYTOOSMALL: return IMS_DKIM_PERMERROR;
	case DKIM_SIGERROR_BADSIG:
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_FUTURE:
	case DKIM_SIGERROR_TIMESTAMPS:
	case DKIM_SIGERROR_SUBDOMAIN:
	case DKIM_SIGERROR_MBSFAILED:
	case DKIM_SIGERROR_TOOLARGE_L:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_KEYREVOKED: return IMS_DKIM_FAIL;
	case DKIM_SIGERROR_OK:
		if ((flags & DKIM_SIGFLAG_PROCESSED) &&
		    dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH) {
			*reason = "body hash did not verify";
			return IMS_DKIM_FAIL;
		}
		if (flags & DKIM_SIGFLAG_PROCESSED) {
			*reason = "signature did not verify";
			return IMS_DKIM_FAIL;
		}
		*reason = "signature not processed";
		return IMS_DKIM_NEUTRAL;
	default: /* the signature's own syntax */ return IMS_DKIM_NEUTRAL;
	}
}

ims_status ims_dkim_verify_msg(struct ims_dkim *k, const struct ims_msg *m,
                               struct ims_dkim_result *out)
{
	DKIM *d = NULL;
	DKIM_SIGINFO **sigs = NULL;
	DKIM_STAT st;
	int nsigs = 0;
	ims_status rc = IMS_ENOMEM;
	struct verify_ctx *vc = NULL;

	if (!k || !m || !out)
		return IMS_EINVAL;
	memset(out, 0, sizeof *out);
	vc = calloc(1, sizeof *vc);
	if (!vc)
		goto out;
	vc->k = k;
	vc->deadline_ms =
	    mono_ms() + (long long)IMS_DKIM_BUDGET_FACTOR * ims_dns_timeout_ms(k->dns);
	d = dkim_verify(k->lib, (const unsigned char *)"ims", NULL, &st);
	if (!d)
		goto out;
	dkim_set_user_context(d, vc);
	st = feed(d, m);
	if (st == DKIM_STAT_NOSIG) {
		rc = IMS_OK;
		goto out;
	}
	if (st == DKIM_STAT_NORESOURCE)
		goto out;
	if (dkim_getsiglist(d, &sigs, &nsigs) != DKIM_STAT_OK || !sigs) {
		rc = IMS_OK; /* nothing usable to report */
		goto out;
	}
	for (int i = 0; i < nsigs; i++) {
		struct ims_dkim_sig *s;
		const char *dom, *sel, *reason = NULL;

		if (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) {
			out->ignored++;
			continue;
		}
		if (out->count >= IMS_DKIM_MAX_SIGS) {
			out->ignored++;
			continue;
		}
		s = &out->sigs[out->count++];
		dom = (const char *)dkim_sig_getdomain(sigs[i]);
		sel = (const char *)dkim_sig_getselector(sigs[i]);
		snprintf(s->domain, sizeof s->domain, "%s", dom ? dom : "");
		snprintf(s->selector, sizeof s->selector, "%s", sel ? sel : "");
		s->result = sig_result(vc, sigs[i], &reason);
		snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
	}
	rc = IMS_OK;
out:
	if (d)
		dkim_free(d);
	free(vc);
	return rc;
}

ims_status ims_dkim_verify(struct ims_dkim *k, const char *raw, size_t len,
                           struct ims_dkim_result *out)
{
	struct ims_msg *m = NULL;
	ims_status rc;

	if (!k || !raw || !out)
		return IMS_EINVAL;
	memset(out, 0, sizeof *out);
	rc = ims_msg_parse(raw, len, k->max_headers, k->max_header_size, &m);
	if (rc == IMS_OK)
		rc = ims_dkim_verify_msg(k, m, out);
	ims_msg_free(m);
	return rc;
}

enum ims_dkim_res ims_dkim_summary(const struct ims_dkim_result *r)
{
	static const enum ims_dkim_res order[] = {IMS_DKIM_PASS, IMS_DKIM_TEMPERROR, IMS_DKIM_FAIL,
	                                          IMS_DKIM_PERMERROR, IMS_DKIM_NEUTRAL};

	if (!r)
		return IMS_DKIM_NONE;
	for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
		for (size_t i = 0; i < r->count && i < IMS_DKIM_MAX_SIGS; i++)
			if (r->sigs[i].result == order[o])
				return order[o];
	return IMS_DKIM_NONE;
}

const char *ims_dkim_result_name(enum ims_dkim_res r)
{
	switch (r) {
	case IMS_DKIM_PASS: return "pass";
	case IMS_DKIM_FAIL: return "fail";
	case IMS_DKIM_NEUTRAL: return "neutral";
	case IMS_DKIM_TEMPERROR: return "temperror";
	case IMS_DKIM_PERMERROR: return "permerror";
	case IMS_DKIM_NONE: break;
	}
	return "none";
}

/* The key for domain: exact match, else the closest parent with a key. */
static const struct dkim_key *find_key(const struct ims_dkim *k, const char *domain)
{
	for (const char *d = domain; d && *d;) {
		for (size_t i = 0; i < k->nkeys; i++)
			if (strcasecmp(k->keys[i].domain, d) == 0)
				return &k->keys[i];
		d = strchr(d, '.');
		if (d)
			d++;
	}
	return NULL;
}

/* 1 when every From field of m parses with libopendkim's own address
 * parser: a verifier (libopendkim, OpenDKIM) that cannot parse From reports
 * no signature at all, so ims must not sign such a message (fuzz-auth). */
static int from_parses(const struct ims_msg *m)
{
	int seen = 0;

	for (size_t i = 0; i < ims_msg_header_count(m); i++) {
		const char *name, *value;
		size_t vlen;
		unsigned char *copy, *user = NULL, *dom = NULL;
		int ok;

		ims_msg_header(m, i, &name, &value, &vlen);
		if (strcasecmp(name, "From") != 0)
			continue;
		if (!(copy = malloc(vlen + 1)))
			return 0;
		memcpy(copy, value, vlen);
		copy[vlen] = '\0';
		ok = dkim_mail_parse(copy, &user, &dom) == 0 && user && dom && *dom;
		free(copy);
		if (!ok)
			return 0;
		seen = 1;
	}
	return seen;
}

ims_status ims_dkim_sign(struct ims_dkim *k, const char *raw, size_t len, const char *domain,
                         char **header_out)
{
	const struct dkim_key *key;
	struct ims_msg *m = NULL;
	DKIM *d = NULL;
	DKIM_STAT st;
	unsigned char *hdr = NULL;
	size_t hlen = 0;
	ims_status rc;

	if (!k || !raw || !domain || !header_out)
		return IMS_EINVAL;
	*header_out = NULL;
	key = find_key(k, domain);
	if (!key)
		return IMS_ENOTFOUND;
	rc = ims_msg_parse(raw, len, k->max_headers, k->max_header_size, &m);
	if (rc != IMS_OK)
		goto out;
	if (!from_parses(m)) {
		rc = IMS_EINVAL; /* a signature nobody could verify */
		goto out;
	}
	rc = IMS_EIO;
	d = dkim_sign(k->lib, (const unsigned char *)"ims", NULL, (dkim_sigkey_t)key->pem,
	              (const unsigned char *)key->selector, (const unsigned char *)key->domain,
	              k->hcanon, k->bcanon, DKIM_SIGN_RSASHA256, -1, &st);
	if (!d)
		goto out;
	st = feed(d, m);
	if (st != DKIM_STAT_OK)
		goto out;
	if (dkim_getsighdr_d(d, strlen(SIGHDR_PREFIX), &hdr, &hlen) != DKIM_STAT_OK || !hdr)
		goto out;
	/* libopendkim folds with "\r\n\t"; milters pass header values with bare
	 * "\n" line ends and the MTA writes CRLF, the bytes libopendkim signed */
	*header_out = malloc(hlen + 1);
	if (!*header_out) {
		rc = IMS_ENOMEM;
		goto out;
	}
	{
		size_t n = 0;

		for (size_t i = 0; i < hlen; i++)
			if (hdr[i] != '\r')
				(*header_out)[n++] = (char)hdr[i];
		(*header_out)[n] = '\0';
	}
	rc = IMS_OK;
out:
	if (d)
		dkim_free(d);
	ims_msg_free(m);
	return rc;
}
