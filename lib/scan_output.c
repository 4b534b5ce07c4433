/* The outputs of a scan: the header fields the MTA adds, the JSON scan
 * log, and the message as stored (our headers first, forged ones gone). */
#include "config.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hdrvalue.h"
#include "rfc5322.h"
#include "scan.h"
#include "scan_internal.h"

static const char *const own_headers[] = {"Authentication-Results", "X-Spam-Flag",   "X-Spam-Score",
                                          "X-Spam-Status",          "X-IMS-Scan-Id", NULL};

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

/* Authentication-Results (RFC 8601).  Every value that is not one of ims's
 * own words goes through ims_hdr_pvalue (lib/hdrvalue.h): MAIL FROM, HELO,
 * the SASL login and the DKIM tags come from the sender. */
static char *make_auth_results(const struct ims_scan *s)
{
	char buf[2048], id[256], v1[512], v2[512];
	size_t len = 0;
	const struct ims_auth_result *a = &s->auth;

	authserv_id(s->conf, v1, sizeof v1);
	ims_hdr_pvalue(id, sizeof id, v1);
	append(buf, sizeof buf, &len, "%s;", id);
	if (s->auth_user) {
		ims_hdr_pvalue(v1, sizeof v1, s->auth_user);
		append(buf, sizeof buf, &len, " auth=pass smtp.auth=%s", v1);
		return strdup(buf);
	}
	if (!a->spf[0] && a->ndkim == 0 && !a->dmarc[0]) {
		append(buf, sizeof buf, &len, " none");
		return strdup(buf);
	}
	if (a->spf[0]) {
		ims_hdr_pvalue(v1, sizeof v1, a->spf_domain);
		append(buf, sizeof buf, &len, " spf=%s %s=%s;", a->spf,
		       a->spf_helo ? "smtp.helo" : "smtp.mailfrom", v1);
	}
	if (a->ndkim == 0)
		append(buf, sizeof buf, &len, " dkim=none;");
	for (int i = 0; i < a->ndkim; i++) {
		ims_hdr_pvalue(v1, sizeof v1, a->dkim[i].domain);
		ims_hdr_pvalue(v2, sizeof v2, a->dkim[i].selector);
		append(buf, sizeof buf, &len, " dkim=%s header.d=%s header.s=%s;",
		       a->dkim[i].result, v1, v2);
	}
	if (a->dmarc[0]) {
		append(buf, sizeof buf, &len, " dmarc=%s", a->dmarc);
		if (a->dmarc_policy[0])
			append(buf, sizeof buf, &len, " (p=%s)", a->dmarc_policy);
		ims_hdr_pvalue(v1, sizeof v1, a->from_domain);
		append(buf, sizeof buf, &len, " header.from=%s", v1);
	}
	while (len > 0 && buf[len - 1] == ';')
		buf[--len] = '\0';
	return strdup(buf);
}

ims_status ims_scan_make_headers(struct ims_scan *s)
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
	for (size_t i = 0; i < IMS_SCAN_NHEADERS; i++) {
		if (!s->hdr_value[i])
			return IMS_ENOMEM;
		ims_hdr_clean(s->hdr_value[i]); /* the last net: no value ends its field */
	}
	return IMS_OK;
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
	/* written on release from the quarantine (lib/quarantine.c) */
	return strcasecmp(name, "X-IMS-Released") == 0;
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
	client = json_pack("{s:o, s:o, s:o, s:o}", "ip", json_text(s->client_ip), "name",
	                   json_text(s->client_name), "helo", json_text(s->helo), "auth",
	                   s->auth_user ? json_text(s->auth_user) : json_null());
	auth = json_pack("{s:s, s:o, s:s, s:s, s:o}", "spf", s->auth.spf[0] ? s->auth.spf : "none",
	                 "dkim", dkim, "dmarc", s->auth.dmarc[0] ? s->auth.dmarc : "none",
	                 "dmarc_policy", s->auth.dmarc_policy, "from_domain",
	                 json_text(s->auth.from_domain));
	dkim = NULL;
	timings =
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "total",
	              (json_int_t)s->total_us, "local", (json_int_t)ims_scan_local_us(s), "spf",
	              (json_int_t)s->auth.spf_us, "dkim", (json_int_t)s->auth.dkim_us, "dmarc",
	              (json_int_t)s->auth.dmarc_us, "parse", (json_int_t)s->parse_us, "heuristics",
	              (json_int_t)s->heuristics_us, "classify", (json_int_t)s->classify_us,
	              "reputation", (json_int_t)s->reputation_us, "antivirus",
	              (json_int_t)s->antivirus_us, "attachments", (json_int_t)s->attachments_us);
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
	if (s->log_hdrs) {
		/* the header fields as received, unfolded, bounded
		 * (IMS_SCAN_LOG_HEADERS): the console's scan detail */
		json_t *hdrs = json_array();
		const char *p = s->log_hdrs;

		for (size_t i = 0; hdrs && i < s->nlog_hdrs; i++) {
			const char *v = p + strlen(p) + 1;

			json_array_append_new(hdrs, json_pack("{s:o, s:o}", "name", json_text(p),
			                                      "value", json_text(v)));
			p = v + strlen(v) + 1;
		}
		json_object_set_new(o, "headers", hdrs);
		if (s->log_hdrs_cut)
			json_object_set_new(o, "headers_truncated", json_true());
	}
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

char *ims_scan_brief_json(const struct ims_scan *s)
{
	json_t *o, *rcpt = json_array();
	char *text = NULL;

	if (!rcpt)
		return NULL;
	for (size_t i = 0; i < s->nrcpts; i++)
		json_array_append_new(rcpt, json_text(s->rcpts[i]));
	o = json_pack("{s:s, s:s, s:f, s:o, s:o}", "verdict", s->verdict, "action",
	              ims_action_name(s->action), "score", s->score, "rcpt", rcpt, "auth",
	              s->auth_user ? json_text(s->auth_user) : json_null());
	if (o)
		text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	return text;
}

ims_status ims_scan_rewrite(const struct ims_scan *s, const char *raw, size_t len, char **out,
                            size_t *outlen)
{
	const char *eol = memmem(raw, len < 65536 ? len : 65536, "\r\n", 2) ? "\r\n" : "\n";
	size_t cap = 1, n = 0, el = strlen(eol);
	char *head = NULL;
	ims_status rc = IMS_ENOMEM;

	*out = NULL;
	*outlen = 0;
	if (s->dkim_sig)
		cap += 2 * strlen(s->dkim_sig) + 32;
	for (size_t i = 0; i < ims_scan_header_count(s); i++)
		cap += strlen(own_headers[i]) + strlen(s->hdr_value[i]) + 8;
	if (!(head = malloc(cap)))
		return IMS_ENOMEM;
#define PUT(p, l)                                                                                  \
	do {                                                                                       \
		if (n + (l) > cap) {                                                               \
			rc = IMS_ELIMIT;                                                           \
			goto out;                                                                  \
		}                                                                                  \
		memcpy(head + n, (p), (l));                                                        \
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
#undef PUT
	/* our fields first, the sender's copies of them dropped; text with no
	 * header section (its first line starts with a space, say) is all body,
	 * as the parser and Postfix's cleanup see it (lib/rfc5322.h).  Any
	 * other failure is the caller's error, never a copy that keeps the
	 * sender's fields as they came. */
	rc = ims_msg_reheader(raw, len, SIZE_MAX / 2, SIZE_MAX / 2, head, n, ims_scan_is_own_header,
	                      eol, out, outlen);
out:
	free(head);
	return rc;
}
