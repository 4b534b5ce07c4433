#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "classify.h"
#include "heuristics.h"
#include "log.h"
#include "message.h"
#include "model.h"
#include "rfc5322.h"
#include "scan.h"
#include "scan_internal.h"
#include "symbols.h"
#include "ulid.h"

static const char *const own_headers[] = {"Authentication-Results", "X-Spam-Flag",   "X-Spam-Score",
                                          "X-Spam-Status",          "X-IMS-Scan-Id", NULL};

static long elapsed_us(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (long)((b.tv_sec - a->tv_sec) * 1000000L + (b.tv_nsec - a->tv_nsec) / 1000L);
}

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

/* Copies at most max bytes of s, cut at a UTF-8 boundary, control
 * characters turned into spaces (values end up in headers and logs). */
static char *dup_clean(const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max) : 0;
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	while (n > 0 && n == max && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	for (size_t i = 0; i < n; i++)
		d[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
	d[n] = '\0';
	return d;
}

void ims_scan_free(struct ims_scan *s)
{
	if (!s)
		return;
	free(s->client_ip);
	free(s->client_name);
	free(s->helo);
	free(s->auth_user);
	free(s->mail_from);
	free(s->queue_id);
	for (size_t i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	free(s->from);
	free(s->to);
	free(s->subject);
	free(s->date);
	for (size_t i = 0; i < IMS_SCAN_NHEADERS; i++)
		free(s->hdr_value[i]);
	free(s->dkim_sig);
	if (s->conf)
		ims_conf_unref(s->conf);
	free(s);
}

/* Adds a symbol with its configured weight; a name already present is kept
 * once (first detail wins). */
void ims_scan_add_symbol(struct ims_scan *s, const char *name, double weight, const char *detail)
{
	struct ims_scan_hit *h;

	for (size_t i = 0; i < s->nhits; i++)
		if (strcmp(s->hits[i].name, name) == 0)
			return;
	if (s->nhits >= IMS_SCAN_MAX_SYMBOLS)
		return;
	h = &s->hits[s->nhits++];
	snprintf(h->name, sizeof h->name, "%s", name);
	snprintf(h->detail, sizeof h->detail, "%s", detail ? detail : "");
	for (char *p = h->detail; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
			*p = ' ';
	h->weight = weight;
}

static void emit_symbol(void *arg, const char *symbol, const char *detail)
{
	struct ims_scan *s = arg;

	ims_scan_add_symbol(s, symbol, ims_conf_score(s->conf, symbol), detail);
}

static int domain_is_local(const struct ims_conf *c, const char *domain)
{
	for (char **d = c->milter_local_domains; d && *d; d++)
		if (strcasecmp(*d, domain) == 0)
			return 1;
	return 0;
}

int ims_scan_addr_is_local(const struct ims_conf *c, const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at && domain_is_local(c, at + 1);
}

static ims_status copy_envelope(struct ims_scan *s, const struct ims_envelope *env)
{
	s->client_ip = dup_clean(env->client_ip, 64);
	s->client_name = dup_clean(env->client_name, 255);
	s->helo = dup_clean(env->helo, 255);
	s->auth_user = env->auth_user && *env->auth_user ? dup_clean(env->auth_user, 255) : NULL;
	s->mail_from = dup_clean(env->mail_from, 320);
	s->queue_id = dup_clean(env->queue_id, 64);
	if (!s->client_ip || !s->client_name || !s->helo || !s->mail_from || !s->queue_id ||
	    (env->auth_user && *env->auth_user && !s->auth_user))
		return IMS_ENOMEM;
	if (env->nrcpts > IMS_SCAN_MAX_RCPTS)
		return IMS_ELIMIT;
	s->rcpts = calloc(env->nrcpts ? env->nrcpts : 1, sizeof *s->rcpts);
	if (!s->rcpts)
		return IMS_ENOMEM;
	for (size_t i = 0; i < env->nrcpts; i++) {
		s->rcpts[i] = dup_clean(env->rcpts[i], 320);
		if (!s->rcpts[i])
			return IMS_ENOMEM;
		/* mailbox keys are lower case (docs/redis-schema.md) */
		for (char *p = s->rcpts[i]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		s->nrcpts++;
	}
	snprintf(s->trace_id, sizeof s->trace_id, "%s",
	         env->trace_id && *env->trace_id ? env->trace_id : s->id);
	return IMS_OK;
}

static void authserv_id(const struct ims_conf *c, char *out, size_t outlen)
{
	if (c->milter_authserv_id && *c->milter_authserv_id)
		snprintf(out, outlen, "%s", c->milter_authserv_id);
	else if (gethostname(out, outlen) != 0)
		snprintf(out, outlen, "localhost");
	out[outlen - 1] = '\0';
}

/* Appends printf output to buf (size cap) at *len; silently cuts. */
__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t cap, size_t *len,
                                                         const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = (size_t)n >= cap - *len ? cap - 1 : *len + (size_t)n;
}

/* Authentication-Results (RFC 8601). */
static char *make_auth_results(const struct ims_scan *s)
{
	char buf[2048], id[256];
	size_t len = 0;
	const struct ims_auth_result *a = &s->auth;

	authserv_id(s->conf, id, sizeof id);
	append(buf, sizeof buf, &len, "%s;", id);
	if (s->auth_user) {
		append(buf, sizeof buf, &len, " auth=pass smtp.auth=%s", s->auth_user);
		return strdup(buf);
	}
	if (!a->spf[0] && a->ndkim == 0 && !a->dmarc[0]) {
		append(buf, sizeof buf, &len, " none");
		return strdup(buf);
	}
	if (a->spf[0])
		append(buf, sizeof buf, &len, " spf=%s %s=%s;", a->spf,
		       a->spf_helo ? "smtp.helo" : "smtp.mailfrom",
		       a->spf_domain[0] ? a->spf_domain : "unknown");
	if (a->ndkim == 0)
		append(buf, sizeof buf, &len, " dkim=none;");
	for (int i = 0; i < a->ndkim; i++)
		append(buf, sizeof buf, &len, " dkim=%s header.d=%s header.s=%s;",
		       a->dkim[i].result, a->dkim[i].domain, a->dkim[i].selector);
	if (a->dmarc[0]) {
		append(buf, sizeof buf, &len, " dmarc=%s", a->dmarc);
		if (a->dmarc_policy[0])
			append(buf, sizeof buf, &len, " (p=%s)", a->dmarc_policy);
		append(buf, sizeof buf, &len, " header.from=%s",
		       a->from_domain[0] ? a->from_domain : "unknown");
	}
	while (len > 0 && buf[len - 1] == ';')
		buf[--len] = '\0';
	return strdup(buf);
}

static ims_status make_headers(struct ims_scan *s)
{
	char buf[4096];
	size_t len = 0;
	int spam = s->action != IMS_ACTION_ACCEPT;
	double required = s->conf->action_tag >= 0          ? s->conf->action_tag
	                  : s->conf->action_quarantine >= 0 ? s->conf->action_quarantine
	                                                    : s->conf->action_reject;

	s->hdr_value[0] = make_auth_results(s);
	s->hdr_value[1] = strdup(spam ? "YES" : "NO");
	snprintf(buf, sizeof buf, "%.1f", s->score);
	s->hdr_value[2] = strdup(buf);
	append(buf, sizeof buf, &len, "%s, score=%.1f required=%.1f tests=", spam ? "Yes" : "No",
	       s->score, required);
	for (size_t i = 0; i < s->nhits; i++)
		append(buf, sizeof buf, &len, "%s%s", i ? "," : "", s->hits[i].name);
	if (s->nhits == 0)
		append(buf, sizeof buf, &len, "none");
	s->hdr_value[3] = strdup(buf);
	s->hdr_value[4] = strdup(s->id);
	for (size_t i = 0; i < IMS_SCAN_NHEADERS; i++)
		if (!s->hdr_value[i])
			return IMS_ENOMEM;
	return IMS_OK;
}

static void decide(struct ims_scan *s, const char *forced_reason)
{
	const struct ims_conf *c = s->conf;

	s->score = 0;
	for (size_t i = 0; i < s->nhits; i++)
		s->score += s->hits[i].weight;
	s->action = IMS_ACTION_ACCEPT;
	s->reason[0] = '\0';
	if (c->action_reject >= 0 && s->score >= c->action_reject) {
		s->action = IMS_ACTION_REJECT;
		snprintf(s->reason, sizeof s->reason, "score %.1f >= %.1f", s->score,
		         c->action_reject);
	} else if (c->action_quarantine >= 0 && s->score >= c->action_quarantine) {
		s->action = IMS_ACTION_QUARANTINE;
		snprintf(s->reason, sizeof s->reason, "score %.1f >= %.1f", s->score,
		         c->action_quarantine);
	} else if (c->action_tag >= 0 && s->score >= c->action_tag) {
		s->action = IMS_ACTION_TAG;
		snprintf(s->reason, sizeof s->reason, "score %.1f >= %.1f", s->score,
		         c->action_tag);
	}
	/* The From domain's DMARC policy is enforced as published, on pct= of
	 * the failing messages (RFC 7489 6.6.4). */
	if (!s->auth_user && strcmp(s->auth.dmarc, "fail") == 0 &&
	    (s->auth.dmarc_pct >= 100 ||
	     (s->auth.dmarc_pct > 0 && randombytes_uniform(100) < (uint32_t)s->auth.dmarc_pct))) {
		if (strcmp(s->auth.dmarc_policy, "reject") == 0 && s->action < IMS_ACTION_REJECT) {
			s->action = IMS_ACTION_REJECT;
			snprintf(s->reason, sizeof s->reason, "DMARC policy reject for %s",
			         s->auth.from_domain);
		} else if (strcmp(s->auth.dmarc_policy, "quarantine") == 0 &&
		           s->action < IMS_ACTION_QUARANTINE) {
			s->action = IMS_ACTION_QUARANTINE;
			snprintf(s->reason, sizeof s->reason, "DMARC policy quarantine for %s",
			         s->auth.from_domain);
		}
	}
	if (forced_reason) {
		s->action = IMS_ACTION_REJECT;
		snprintf(s->reason, sizeof s->reason, "%s", forced_reason);
	}
}

/* The SVM on the parsed message: SVM_SPAM or SVM_HAM, weight scaled by the
 * probability of the verdict. */
static void classify_stage(struct ims_scan *s, const struct ims_model *model,
                           const struct ims_parsed *parsed)
{
	struct ims_classification c;
	char detail[64];

	if (ims_classify_parsed(model, parsed, &c) != IMS_OK) {
		snprintf(s->verdict, sizeof s->verdict, "ham");
		return;
	}
	s->classified = 1;
	s->svm_score = c.score;
	s->probability = c.probability;
	snprintf(s->verdict, sizeof s->verdict, "%s", c.spam ? "spam" : "ham");
	snprintf(detail, sizeof detail, "p=%.3f", c.probability);
	if (c.spam)
		ims_scan_add_symbol(s, "SVM_SPAM",
		                    ims_conf_score(s->conf, "SVM_SPAM") * c.probability, detail);
	else
		ims_scan_add_symbol(s, "SVM_HAM",
		                    ims_conf_score(s->conf, "SVM_HAM") * (1.0 - c.probability),
		                    detail);
}

/* Summary fields of the stored message, from the parsed headers. */
static void summary_fields(struct ims_scan *s, const struct ims_parsed *parsed)
{
	GMimeMessage *gm = ims_parsed_gmime(parsed);
	const char *from = g_mime_object_get_header(GMIME_OBJECT(gm), "From");
	const char *to = g_mime_object_get_header(GMIME_OBJECT(gm), "To");
	const char *date = g_mime_object_get_header(GMIME_OBJECT(gm), "Date");
	char *dfrom = from ? g_mime_utils_header_decode_text(NULL, from) : NULL;
	char *dto = to ? g_mime_utils_header_decode_text(NULL, to) : NULL;

	s->from = dup_clean(dfrom ? dfrom : "", 512);
	s->to = dup_clean(dto ? dto : "", 1024);
	s->date = dup_clean(date, 128);
	s->subject = dup_clean(ims_parsed_subject(parsed), 512);
	g_free(dfrom);
	g_free(dto);
}

ims_status ims_scan_run(struct ims_engine *eng, const struct ims_envelope *env, const char *raw,
                        size_t len, struct ims_scan **out)
{
	struct ims_scan *s;
	struct ims_msg *msg = NULL;
	struct ims_parsed *parsed = NULL;
	const struct ims_model *model = ims_engine_model(eng);
	struct timespec t0, t;
	const char *forced = NULL, *body = raw;
	size_t body_len = len, from_count = 0;
	ims_status rc = IMS_ENOMEM, st;

	*out = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s = calloc(1, sizeof *s);
	if (!s)
		return IMS_ENOMEM;
	s->conf = ims_conf_ref((struct ims_conf *)ims_engine_conf(eng));
	s->time = ims_now_ms();
	ims_ulid_make(s->id, s->time);
	s->size = len;
	snprintf(s->verdict, sizeof s->verdict, "ham");
	snprintf(s->model_version, sizeof s->model_version, "%s", ims_engine_model_version(eng));
	rc = copy_envelope(s, env);
	if (rc != IMS_OK)
		goto out;
	s->outbound = s->auth_user != NULL;

	if (!model) {
		s->action = IMS_ACTION_TEMPFAIL;
		snprintf(s->reason, sizeof s->reason, "no classifier model: %s",
		         ims_engine_model_error(eng));
		rc = IMS_ETEMP;
		goto out;
	}

	/* RFC 5322 fields, as received */
	st = ims_msg_parse(raw, len, (size_t)s->conf->milter_max_headers,
	                   s->conf->milter_max_header_size, &msg);
	if (st == IMS_ELIMIT) {
		forced = "message header section exceeds the limits";
		ims_scan_add_symbol(s, "HEADER_LIMIT", ims_conf_score(s->conf, "HEADER_LIMIT"), "");
	} else if (st == IMS_ENOMEM) {
		goto out;
	}
	if (msg) {
		char fdom[IMS_AUTH_DOMAIN] = "";
		body = ims_msg_body(msg, &body_len);
		from_count = ims_msg_from_count(msg);
		if (ims_msg_from_domain(msg, fdom, sizeof fdom, NULL) == IMS_OK)
			snprintf(s->auth.from_domain, sizeof s->auth.from_domain, "%s", fdom);
	}

	/* SPF, DKIM, DMARC: inbound only; outbound mail is our own user's */
	if (!s->outbound && !forced) {
		struct ims_auth_input in = {
		    .client_ip = s->client_ip,
		    .helo = s->helo,
		    .mail_from = s->mail_from,
		    .raw = raw,
		    .len = len,
		    .from_domain = s->auth.from_domain,
		};
		char fdom[IMS_AUTH_DOMAIN];
		snprintf(fdom, sizeof fdom, "%s", s->auth.from_domain);
		ims_auth_check(ims_engine_auth(eng), &in, &s->auth, emit_symbol, s);
		if (!s->auth.from_domain[0])
			snprintf(s->auth.from_domain, sizeof s->auth.from_domain, "%s", fdom);
	}

	/* MIME, heuristics, SVM */
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (!forced) {
		st = ims_parse_message(raw, len, &parsed);
		if (st == IMS_ENOMEM)
			goto out;
		if (st != IMS_OK) {
			forced = "message could not be parsed within the limits";
			parsed = NULL;
		}
	}
	s->parse_us = elapsed_us(&t);
	if (parsed) {
		struct ims_heur_input hin = {
		    .from = msg ? ims_msg_find(msg, "From", 0) : NULL,
		    .from_count = from_count,
		    .body = body,
		    .body_len = body_len,
		    .local_domains = (const char *const *)s->conf->milter_local_domains,
		};
		summary_fields(s, parsed);
		if (ims_parsed_malformed(parsed))
			ims_scan_add_symbol(s, "MIME_MALFORMED",
			                    ims_conf_score(s->conf, "MIME_MALFORMED"), "");
		hin.nlinks = ims_parsed_links(parsed, &hin.links);
		hin.nattachments = ims_parsed_attachments(parsed, &hin.attachments);
		clock_gettime(CLOCK_MONOTONIC, &t);
		ims_heuristics_run(&hin, emit_symbol, s);
		s->heuristics_us = elapsed_us(&t);
		clock_gettime(CLOCK_MONOTONIC, &t);
		classify_stage(s, model, parsed);
		s->classify_us = elapsed_us(&t);
	}
	if (!s->from || !s->to || !s->subject || !s->date) {
		free(s->from), free(s->to), free(s->subject), free(s->date);
		s->from = dup0(NULL), s->to = dup0(NULL), s->subject = dup0(NULL),
		s->date = dup0(NULL);
		if (!s->from || !s->to || !s->subject || !s->date)
			goto out;
	}
	if (from_count > 1 && strcmp(s->conf->milter_on_multiple_from, "reject") == 0 && !forced)
		forced = "several From header fields (RFC 5322 allows one)";
	decide(s, forced);

	/* DKIM signature for outbound mail of a local domain */
	if (s->outbound && s->conf->milter_sign_outbound && s->auth.from_domain[0] &&
	    domain_is_local(s->conf, s->auth.from_domain) && s->action <= IMS_ACTION_TAG) {
		char *sig = NULL;
		st = ims_auth_sign(ims_engine_auth(eng), raw, len, s->auth.from_domain, &sig);
		if (st == IMS_OK)
			s->dkim_sig = sig;
		else if (st != IMS_ENOTFOUND)
			ims_log_warn(s->id, "event=dkim_sign domain=%s error=\"%s\"",
			             s->auth.from_domain, ims_strstatus(st));
	}
	rc = make_headers(s);
	s->total_us = elapsed_us(&t0);
out:
	ims_parsed_free(parsed);
	ims_msg_free(msg);
	if (rc == IMS_OK || rc == IMS_ETEMP) {
		*out = s;
		return rc;
	}
	ims_scan_free(s);
	return rc;
}

const char *ims_scan_id(const struct ims_scan *s)
{
	return s->id;
}

enum ims_action ims_scan_action(const struct ims_scan *s)
{
	return s->action;
}

const char *ims_action_name(enum ims_action a)
{
	static const char *const names[] = {"accept", "tag", "quarantine", "reject", "tempfail"};

	return (unsigned)a < 5 ? names[a] : "unknown";
}

double ims_scan_score(const struct ims_scan *s)
{
	return s->score;
}

const char *ims_scan_verdict(const struct ims_scan *s)
{
	return s->verdict;
}

double ims_scan_probability(const struct ims_scan *s)
{
	return s->probability;
}

const char *ims_scan_reason(const struct ims_scan *s)
{
	return s->reason;
}

int ims_scan_outbound(const struct ims_scan *s)
{
	return s->outbound;
}

uint64_t ims_scan_time(const struct ims_scan *s)
{
	return s->time;
}

long ims_scan_local_us(const struct ims_scan *s)
{
	long v = s->total_us - s->auth.spf_us - s->auth.dkim_us - s->auth.dmarc_us;

	return v > 0 ? v : 0;
}

long ims_scan_total_us(const struct ims_scan *s)
{
	return s->total_us;
}

size_t ims_scan_symbol_count(const struct ims_scan *s)
{
	return s->nhits;
}

int ims_scan_symbol(const struct ims_scan *s, size_t i, const char **name, double *weight,
                    const char **detail)
{
	if (i >= s->nhits)
		return -1;
	*name = s->hits[i].name;
	*weight = s->hits[i].weight;
	if (detail)
		*detail = s->hits[i].detail;
	return 0;
}

size_t ims_scan_header_count(const struct ims_scan *s)
{
	return s->hdr_value[0] ? IMS_SCAN_NHEADERS : 0;
}

int ims_scan_header(const struct ims_scan *s, size_t i, const char **name, const char **value)
{
	if (i >= ims_scan_header_count(s))
		return -1;
	*name = own_headers[i];
	*value = s->hdr_value[i];
	return 0;
}

const char *ims_scan_dkim_signature(const struct ims_scan *s)
{
	return s->dkim_sig;
}

int ims_scan_is_own_header(const char *name)
{
	for (int i = 0; own_headers[i]; i++)
		if (strcasecmp(name, own_headers[i]) == 0)
			return 1;
	return 0;
}

/* A JSON string of header text; bytes that are not UTF-8 become '?' (jansson
 * refuses invalid UTF-8, and a header may carry anything). */
static json_t *json_text(const char *t)
{
	json_t *j;
	char *copy;

	if (!t)
		t = "";
	j = json_string(t);
	if (j)
		return j;
	copy = strdup(t);
	if (!copy)
		return json_string("");
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

char *ims_scan_json(const struct ims_scan *s)
{
	json_t *o = json_object(), *syms = json_array(), *rcpt = json_array(), *dkim = json_array();
	json_t *client, *auth, *timings;
	char *text = NULL;

	if (!o || !syms || !rcpt || !dkim)
		goto out;
	for (size_t i = 0; i < s->nrcpts; i++)
		json_array_append_new(rcpt, json_text(s->rcpts[i]));
	/* everything that came from outside goes through json_text (UTF-8) */
	for (size_t i = 0; i < s->nhits; i++)
		json_array_append_new(syms, json_pack("{s:s, s:f, s:o}", "name", s->hits[i].name,
		                                      "weight", s->hits[i].weight, "detail",
		                                      json_text(s->hits[i].detail)));
	for (int i = 0; i < s->auth.ndkim; i++)
		json_array_append_new(dkim, json_pack("{s:o, s:o, s:s}", "domain",
		                                      json_text(s->auth.dkim[i].domain), "selector",
		                                      json_text(s->auth.dkim[i].selector), "result",
		                                      s->auth.dkim[i].result));
	client = json_pack("{s:s, s:o, s:o, s:o}", "ip", s->client_ip, "name",
	                   json_text(s->client_name), "helo", json_text(s->helo), "auth",
	                   s->auth_user ? json_text(s->auth_user) : json_null());
	auth = json_pack("{s:s, s:o, s:s, s:s, s:o}", "spf", s->auth.spf[0] ? s->auth.spf : "none",
	                 "dkim", dkim, "dmarc", s->auth.dmarc[0] ? s->auth.dmarc : "none",
	                 "dmarc_policy", s->auth.dmarc_policy, "from_domain",
	                 json_text(s->auth.from_domain));
	dkim = NULL;
	timings =
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "total", (json_int_t)s->total_us,
	              "local", (json_int_t)ims_scan_local_us(s), "spf", (json_int_t)s->auth.spf_us,
	              "dkim", (json_int_t)s->auth.dkim_us, "dmarc", (json_int_t)s->auth.dmarc_us,
	              "parse", (json_int_t)s->parse_us, "heuristics", (json_int_t)s->heuristics_us,
	              "classify", (json_int_t)s->classify_us);
	json_object_set_new(o, "id", json_string(s->id));
	json_object_set_new(o, "time", json_integer((json_int_t)s->time));
	json_object_set_new(o, "trace_id", json_text(s->trace_id));
	json_object_set_new(o, "queue_id", json_text(s->queue_id));
	json_object_set_new(o, "direction", json_string(s->outbound ? "outbound" : "inbound"));
	json_object_set_new(o, "client", client);
	json_object_set_new(o, "mail_from", json_text(s->mail_from));
	json_object_set_new(o, "rcpt", rcpt);
	rcpt = NULL;
	/* invalid UTF-8 in headers would make json_string fail: stringn + replace */
	json_object_set_new(o, "from", json_text(s->from));
	json_object_set_new(o, "subject", json_text(s->subject));
	json_object_set_new(o, "size", json_integer((json_int_t)s->size));
	json_object_set_new(o, "verdict", json_string(s->verdict));
	json_object_set_new(o, "probability", json_real(s->probability));
	json_object_set_new(o, "svm_score", json_real(s->svm_score));
	json_object_set_new(o, "score", json_real(s->score));
	json_object_set_new(o, "action", json_string(ims_action_name(s->action)));
	json_object_set_new(o, "reason", json_text(s->reason));
	json_object_set_new(o, "symbols", syms);
	syms = NULL;
	json_object_set_new(o, "auth", auth);
	json_object_set_new(o, "model_version", json_string(s->model_version));
	json_object_set_new(o, "timings_us", timings);
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
out:
	json_decref(o);
	json_decref(syms);
	json_decref(rcpt);
	json_decref(dkim);
	return text;
}

ims_status ims_scan_rewrite(const struct ims_scan *s, const char *raw, size_t len, char **out,
                            size_t *outlen)
{
	struct ims_msg *msg = NULL;
	const char *eol = memmem(raw, len < 65536 ? len : 65536, "\r\n", 2) ? "\r\n" : "\n";
	size_t cap = len + 1024, n = 0, el = strlen(eol);
	char *buf = NULL;
	ims_status rc = IMS_ENOMEM;

	*out = NULL;
	*outlen = 0;
	if (ims_msg_parse(raw, len, SIZE_MAX / 2, SIZE_MAX / 2, &msg) != IMS_OK)
		msg = NULL;
	/* every field may gain a CR, plus the blank line */
	if (msg)
		cap += 2 * (ims_msg_header_count(msg) + 1);
	if (s->dkim_sig)
		cap += 2 * strlen(s->dkim_sig) + 32;
	for (size_t i = 0; i < ims_scan_header_count(s); i++)
		cap += strlen(own_headers[i]) + strlen(s->hdr_value[i]) + 8;
	buf = malloc(cap);
	if (!buf)
		goto out;
#define PUT(p, l)                                                                                  \
	do {                                                                                       \
		if (n + (l) > cap) {                                                               \
			rc = IMS_ELIMIT;                                                           \
			goto out;                                                                  \
		}                                                                                  \
		memcpy(buf + n, (p), (l));                                                         \
		n += (l);                                                                          \
	} while (0)
	if (s->dkim_sig) {
		/* folded with bare LF for libmilter: use the message's line end */
		PUT("DKIM-Signature: ", 16);
		for (const char *p = s->dkim_sig; *p; p++) {
			if (*p == '\n' && (p == s->dkim_sig || p[-1] != '\r'))
				PUT(eol, el);
			else
				PUT(p, 1);
		}
		PUT(eol, el);
	}
	for (size_t i = 0; i < ims_scan_header_count(s); i++) {
		PUT(own_headers[i], strlen(own_headers[i]));
		PUT(": ", 2);
		PUT(s->hdr_value[i], strlen(s->hdr_value[i]));
		PUT(eol, el);
	}
	if (!msg) {
		PUT(raw, len);
	} else {
		size_t blen;
		const char *body = ims_msg_body(msg, &blen);
		for (size_t i = 0; i < ims_msg_header_count(msg); i++) {
			const char *name, *value, *field;
			size_t vlen, flen;
			ims_msg_header(msg, i, &name, &value, &vlen);
			if (ims_scan_is_own_header(name))
				continue;
			ims_msg_header_field(msg, i, &field, &flen);
			PUT(field, flen);
			PUT(eol, el);
		}
		PUT(eol, el);
		PUT(body, blen);
	}
#undef PUT
	*out = buf;
	*outlen = n;
	buf = NULL;
	rc = IMS_OK;
out:
	free(buf);
	ims_msg_free(msg);
	return rc;
}
