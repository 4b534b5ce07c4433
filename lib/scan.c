#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "classify.h"
#include "heuristics.h"
#include "msglinks.h"
#include "clicks.h"
#include "log.h"
#include "message.h"
#include "model.h"
#include "netaddr.h"
#include "reputation.h"
#include "rfc5322.h"
#include "scan.h"
#include "scan_internal.h"
#include "senders.h"
#include "symbols.h"
#include "ulid.h"
#include "users.h"

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
	free(s->log_hdrs);
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

/* Symbols of the reputation checks carry their own weight (DNS list rules
 * name theirs). */
static void emit_weighted(void *arg, const char *symbol, double weight, const char *detail)
{
	ims_scan_add_symbol(arg, symbol, weight, detail);
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

ims_status ims_scan_check_rcpt(const struct ims_engine *eng, const char *addr)
{
	const struct ims_conf *c = ims_engine_conf(eng);
	bool known = false;
	ims_status rc;

	if (!c->milter_reject_unknown_recipients || !ims_scan_addr_is_local(c, addr))
		return IMS_OK;
	rc = ims_users_is_recipient(ims_engine_store(eng), addr, &known);
	if (rc != IMS_OK)
		return rc;
	return known ? IMS_OK : IMS_ENOTFOUND;
}

/* Whether the decoded body text (HTML as text), the links, or the HTML
 * sources of the parse hold a URL: the one question the link rewriter needs
 * answered before it parses the message for writing (lib/links.c). */
static int body_has_url(const struct ims_parsed *p)
{
	const struct ims_link *links;
	const char *const *html;
	size_t nh = ims_parsed_html_sources(p, &html);

	if (ims_parsed_links(p, &links) > 0 || strstr(ims_parsed_text(p), "://"))
		return 1;
	for (size_t i = 0; i < nh; i++)
		if (strstr(html[i], "://"))
			return 1;
	return 0;
}

/* A copy of s fit for a quoted log value: no quote, backslash or control
 * character (an address's quoted local part may hold any of them). */
static const char *log_safe(char *dst, size_t n, const char *s)
{
	size_t i = 0;

	for (; s && s[i] && i + 1 < n; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\')
		             ? '_'
		             : s[i];
	dst[i] = '\0';
	return dst;
}

/* From mailboxes checked against the login; more than this is not the
 * login's (and not signed). */
#define OWNER_CHECKS_MAX 16

struct owner_check {
	struct ims_scan *s;
	struct ims_store *st;
	ims_status rc;
	size_t n;
	int all_owned;                        /* every mailbox is the login's */
	char local_bad[IMS_MSG_ADDR_MAX + 1]; /* first local mailbox that is not */
};

static int check_from_addr(const char *addr, void *arg)
{
	struct owner_check *c = arg;
	bool ok = false;

	if (++c->n > OWNER_CHECKS_MAX || !*addr) {
		c->all_owned = 0;
		return 1;
	}
	c->rc = ims_users_may_send_as(c->st, c->s->auth_user, addr, &ok);
	if (c->rc != IMS_OK)
		return 1;
	if (!ok) {
		c->all_owned = 0;
		if (!c->local_bad[0] && ims_scan_addr_is_local(c->s->conf, addr))
			snprintf(c->local_bad, sizeof c->local_bad, "%s", addr);
	}
	return 0;
}

/* Outbound mail: may the authenticated login send as the From mailboxes
 * and the envelope sender?  A local address that is neither the login nor
 * one of its aliases (ims user alias) gets a symbol and a log line; the
 * message is DKIM-signed only when every From mailbox and the envelope
 * sender are the login's (a foreign or null envelope sender is no local
 * user's, and does not stop signing).  IMS_ETEMP when the registry could
 * not be asked. */
static ims_status check_sender(struct ims_scan *s, struct ims_engine *eng,
                               const struct ims_msg *msg)
{
	struct owner_check c = {.s = s, .st = ims_engine_store(eng), .rc = IMS_OK, .all_owned = 1};
	bool env_ok = true;
	ims_status st;

	if (!msg || ims_msg_from_addrs(msg, check_from_addr, &c) != IMS_OK)
		c.all_owned = 0; /* no From mailbox: nothing to sign for */
	if (c.rc != IMS_OK)
		return c.rc;
	if (s->mail_from[0] && ims_scan_addr_is_local(s->conf, s->mail_from)) {
		st = ims_users_may_send_as(c.st, s->auth_user, s->mail_from, &env_ok);
		if (st != IMS_OK)
			return st;
	}
	if (c.local_bad[0])
		ims_scan_add_symbol(s, "AUTH_FROM_NOT_OWNED",
		                    ims_conf_score(s->conf, "AUTH_FROM_NOT_OWNED"), c.local_bad);
	if (!env_ok)
		ims_scan_add_symbol(s, "AUTH_MAIL_FROM_NOT_OWNED",
		                    ims_conf_score(s->conf, "AUTH_MAIL_FROM_NOT_OWNED"),
		                    s->mail_from);
	if (c.local_bad[0] || !env_ok) {
		char login[256], from[IMS_MSG_ADDR_MAX + 1], mfrom[IMS_MSG_ADDR_MAX + 1];

		ims_log_warn(s->id,
		             "event=sender_not_owned login=\"%s\" from=\"%s\" mail_from=\"%s\"",
		             log_safe(login, sizeof login, s->auth_user),
		             log_safe(from, sizeof from, c.local_bad),
		             log_safe(mfrom, sizeof mfrom, env_ok ? "" : s->mail_from));
	}
	s->sender_owned = c.all_owned && env_ok;
	return IMS_OK;
}

int ims_scan_holds_for(const struct ims_scan *s, const char *addr)
{
	return s->action == IMS_ACTION_QUARANTINE && ims_scan_addr_is_local(s->conf, addr);
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

/* A message to hold stays with ims until someone releases it into a local
 * mailbox (lib/quarantine.h), so it must fit the quarantine and have a
 * local recipient.  Recipients ims has no mailbox for get it as tagged
 * (inbound, the milter holds it for the local ones only); outbound mail
 * that would leave the site is refused, so its sender knows. */
static void hold_policy(struct ims_scan *s)
{
	const struct ims_conf *c = s->conf;
	size_t local = 0;
	char was[200];

	if (s->action != IMS_ACTION_QUARANTINE)
		return;
	snprintf(was, sizeof was, "%.199s", s->reason);
	for (size_t i = 0; i < s->nrcpts; i++)
		local += ims_scan_addr_is_local(c, s->rcpts[i]) != 0;
	if (s->size > c->quarantine_max_message_size) {
		s->action = IMS_ACTION_REJECT;
		snprintf(s->reason, sizeof s->reason, "%s; too large to hold (%zu > %zu bytes)",
		         was, s->size, c->quarantine_max_message_size);
	} else if (s->nrcpts == 0) {
		return; /* POST /scan-email: no envelope to hold for */
	} else if (s->outbound && local < s->nrcpts) {
		s->action = IMS_ACTION_REJECT;
		snprintf(s->reason, sizeof s->reason,
		         "%s; held mail is only delivered to local mailboxes", was);
	} else if (local == 0) {
		s->action = IMS_ACTION_TAG;
		snprintf(s->reason, sizeof s->reason, "%s; no local mailbox to hold it for", was);
	}
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
		s->hold_class = "score";
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
			s->hold_class = "dmarc";
		}
	}
	/* a check that decides whatever the score ([antivirus] action); its
	 * reason wins over the score's for the same action */
	if (s->floor_action != IMS_ACTION_ACCEPT && s->floor_action >= s->action) {
		s->action = s->floor_action;
		snprintf(s->reason, sizeof s->reason, "%s", s->floor_reason);
		if (s->action == IMS_ACTION_QUARANTINE)
			s->hold_class = s->floor_class;
	}
	hold_policy(s);
	if (forced_reason) {
		s->action = IMS_ACTION_REJECT;
		snprintf(s->reason, sizeof s->reason, "%s", forced_reason);
	}
}

static int first_addr(const char *addr, void *arg)
{
	snprintf(arg, IMS_MSG_ADDR_MAX + 1, "%s", addr);
	return 1;
}

/* Local recipients whose sender lists are read; more are not (logged). */
#define SENDER_LIST_RCPTS 50

/* Inbound: the recipients' sender allow/block lists (lib/senders.h).  The
 * message is one for all its recipients, so a list decides only when every
 * local recipient's verdict is the same.  Redis trouble is neutral here (the
 * store step reports it). */
static void sender_lists(struct ims_scan *s, struct ims_engine *eng, const char *from_addr)
{
	enum ims_sender_action all = IMS_SENDER_NONE, a;
	char why[400], first[400] = "";
	size_t local = 0;
	ims_status st;

	for (size_t i = 0; i < s->nrcpts; i++) {
		if (!ims_scan_addr_is_local(s->conf, s->rcpts[i]))
			continue;
		if (++local > SENDER_LIST_RCPTS) {
			ims_log_info(s->id, "event=sender_lists_limit rcpts_checked=%d",
			             SENDER_LIST_RCPTS);
			return;
		}
		st =
		    ims_senders_verdict(ims_engine_store(eng), s->rcpts[i], s->mail_from, from_addr,
		                        strcmp(s->auth.dmarc, "pass") == 0, &a, why, sizeof why);
		if (st != IMS_OK) {
			ims_log_warn(s->id, "event=sender_lists error=\"%s\"", ims_strstatus(st));
			return;
		}
		if (local == 1) {
			all = a;
			snprintf(first, sizeof first, "%s", why);
		} else if (a != all) {
			all = IMS_SENDER_NONE;
		}
	}
	if (all == IMS_SENDER_BLOCK)
		ims_scan_add_symbol(s, "SENDER_BLOCK", ims_conf_score(s->conf, "SENDER_BLOCK"),
		                    first);
	else if (all == IMS_SENDER_ALLOW)
		ims_scan_add_symbol(s, "SENDER_ALLOW", ims_conf_score(s->conf, "SENDER_ALLOW"),
		                    first);
}

/* 1 when an authenticated sender writes to local recipients only. */
static int local_to_local(const struct ims_scan *s)
{
	if (!s->auth_user || s->nrcpts == 0)
		return 0;
	for (size_t i = 0; i < s->nrcpts; i++)
		if (!ims_scan_addr_is_local(s->conf, s->rcpts[i]))
			return 0;
	return 1;
}

/* The SVM on the parsed message: SVM_SPAM or SVM_HAM, weighing one point
 * per unit of the calibrated log-odds around the model's threshold, within
 * [scores] SVM_HAM .. SVM_SPAM: an uncertain verdict adds little either
 * way.  When the model carries a quarantine threshold, the classifier alone
 * reaches [actions] quarantine only past it.  Mail between authenticated
 * local users gets no points for spam from the classifier alone
 * (docs/milter.md "Scoring"). */
static void classify_stage(struct ims_scan *s, const struct ims_model *model,
                           const struct ims_parsed *parsed)
{
	struct ims_classification c;
	char detail[64];
	double w, lo = ims_conf_score(s->conf, "SVM_HAM"), hi = ims_conf_score(s->conf, "SVM_SPAM");
	int local = local_to_local(s);

	if (ims_classify_parsed(model, parsed, &c) != IMS_OK) {
		snprintf(s->verdict, sizeof s->verdict, "ham");
		return;
	}
	s->classified = 1;
	s->svm_score = c.score;
	s->probability = c.probability;
	snprintf(s->verdict, sizeof s->verdict, "%s", c.spam ? "spam" : "ham");
	w = c.log_odds;
	if (w > hi)
		w = hi;
	if (w < lo)
		w = lo;
	{
		struct ims_model_info mi;

		ims_model_get_info(model, &mi);
		if (mi.has_quarantine && !c.quarantine && s->conf->action_quarantine >= 0 &&
		    w >= s->conf->action_quarantine)
			w = s->conf->action_quarantine - 0.1;
	}
	if (local && w > 0)
		w = 0;
	snprintf(detail, sizeof detail, "p=%.3f%s%s", c.probability, c.quarantine ? " strict" : "",
	         local && c.spam ? " local" : "");
	ims_scan_add_symbol(s, c.spam ? "SVM_SPAM" : "SVM_HAM", w, detail);
}

/* Copies the header fields for the scan log (s->log_hdrs): each value
 * unfolded (line ends and the white space after them become one space),
 * within IMS_SCAN_LOG_HEADERS fields and IMS_SCAN_LOG_HEADERS_BYTES bytes;
 * a list cut short says so (log_hdrs_cut).  IMS_ENOMEM only. */
static ims_status keep_headers(struct ims_scan *s, const struct ims_msg *msg)
{
	size_t n = ims_msg_header_count(msg), used = 0;
	char *buf = malloc(IMS_SCAN_LOG_HEADERS_BYTES);

	if (!buf)
		return IMS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *name, *value;
		size_t vlen, nlen, start = used;

		if (ims_msg_header(msg, i, &name, &value, &vlen) != IMS_OK)
			continue;
		nlen = strlen(name);
		if (s->nlog_hdrs == IMS_SCAN_LOG_HEADERS ||
		    used + nlen + 2 + 1 > IMS_SCAN_LOG_HEADERS_BYTES) {
			s->log_hdrs_cut = 1;
			break;
		}
		memcpy(buf + used, name, nlen + 1);
		used += nlen + 1;
		while (*value == ' ' || *value == '\t')
			value++;
		for (int space = 0; *value; value++) {
			int ws =
			    *value == ' ' || *value == '\t' || *value == '\r' || *value == '\n';

			if (ws && space)
				continue;
			if (used + 2 > IMS_SCAN_LOG_HEADERS_BYTES) {
				s->log_hdrs_cut = 1;
				break;
			}
			buf[used++] = ws ? ' ' : *value;
			space = ws;
		}
		if (s->log_hdrs_cut) {
			used = start; /* not half a field */
			break;
		}
		while (used > start + nlen + 1 && buf[used - 1] == ' ')
			used--;
		buf[used++] = '\0';
		s->nlog_hdrs++;
	}
	s->log_hdrs = buf;
	return IMS_OK;
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
	struct ims_msglinks *links = NULL;
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

	if (ims_engine_model_reload_error(eng))
		ims_scan_add_symbol(s, "MODEL_STALE", ims_conf_score(s->conf, "MODEL_STALE"),
		                    ims_engine_model_reload_error(eng));

	/* RFC 5322 fields, as received */
	st = ims_msg_parse(raw, len, (size_t)s->conf->milter_max_headers,
	                   s->conf->milter_max_header_size, &msg);
	if (st == IMS_ELIMIT) {
		forced = "message header section exceeds the limits";
		ims_scan_add_symbol(s, "HEADER_LIMIT", ims_conf_score(s->conf, "HEADER_LIMIT"), "");
	} else if (st == IMS_ENOMEM) {
		rc = IMS_ENOMEM; /* rc is IMS_OK after copy_envelope */
		goto out;
	}
	if (msg && keep_headers(s, msg) != IMS_OK) {
		rc = IMS_ENOMEM;
		goto out;
	}
	if (msg) {
		char fdom[IMS_AUTH_DOMAIN] = "";
		body = ims_msg_body(msg, &body_len);
		from_count = ims_msg_from_count(msg);
		if (ims_msg_from_domain(msg, fdom, sizeof fdom, NULL) == IMS_OK)
			snprintf(s->auth.from_domain, sizeof s->auth.from_domain, "%s", fdom);
	}

	/* outbound: is the login sending as itself (or one of its aliases)? */
	if (s->outbound && !forced) {
		st = check_sender(s, eng, msg);
		if (st != IMS_OK) {
			s->action = IMS_ACTION_TEMPFAIL;
			snprintf(s->reason, sizeof s->reason, "user registry unavailable: %s",
			         ims_strstatus(st));
			rc = st == IMS_ENOMEM ? IMS_ENOMEM : IMS_ETEMP;
			goto out;
		}
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
		if (st == IMS_ENOMEM) {
			rc = IMS_ENOMEM;
			goto out;
		}
		if (st != IMS_OK) {
			forced = "message could not be parsed within the limits";
			parsed = NULL;
		}
	}
	s->parse_us = elapsed_us(&t);
	s->maybe_links = !parsed || ims_parsed_mime_limit(parsed) || body_has_url(parsed);
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
		if (ims_parsed_mime_limit(parsed))
			ims_scan_add_symbol(s, "MIME_NESTING_LIMIT",
			                    ims_conf_score(s->conf, "MIME_NESTING_LIMIT"), "");
		/* the links judged: the ones the mail view renders (msglinks.h) */
		if (ims_msglinks_build(parsed, &links) != IMS_OK) {
			rc = IMS_ENOMEM;
			goto out;
		}
		hin.nlinks = ims_msglinks_get(links, &hin.links);
		hin.nattachments = ims_parsed_attachments(parsed, &hin.attachments);
		clock_gettime(CLOCK_MONOTONIC, &t);
		ims_heuristics_run(&hin, emit_symbol, s);
		ims_scan_bec(s, ims_engine_store(eng), hin.from,
		             msg ? ims_msg_find(msg, "Reply-To", 0) : NULL,
		             msg && ims_msg_find(msg, "List-Id", 0) != NULL);
		s->heuristics_us = elapsed_us(&t);
		if (!s->outbound) {
			struct ims_reputation_input rin = {
			    .client_ip = s->client_ip,
			    .client_trusted =
			        ims_ip_in_cidrs(s->client_ip, s->conf->milter_trusted_networks),
			    .helo = s->helo,
			    .mail_from = s->mail_from,
			    .from_domain = s->auth.from_domain,
			    .dmarc_pass = strcmp(s->auth.dmarc, "pass") == 0,
			    .links = hin.links,
			    .nlinks = hin.nlinks,
			    .parsed = parsed,
			};
			clock_gettime(CLOCK_MONOTONIC, &t);
			size_t before = s->nhits;

			ims_reputation_check(ims_engine_reputation(eng),
			                     ims_auth_dns(ims_engine_auth(eng)), &rin,
			                     emit_weighted, s);
			ims_clicks_note_listed(s, hin.links, hin.nlinks, before);
			s->reputation_us = elapsed_us(&t);
			{
				char fa[IMS_MSG_ADDR_MAX + 1] = "";
				if (msg)
					ims_msg_from_addrs(msg, first_addr, fa);
				sender_lists(s, eng, fa);
			}
		}
		if (ims_scan_malware(s, raw, len, parsed) != IMS_OK) {
			rc = IMS_ENOMEM;
			goto out;
		}
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
	/* clamd could not say, and [antivirus] on_error = tempfail: the MTA
	 * retries (a message rejected anyway needs no antivirus) */
	if (s->av_error[0] && s->action != IMS_ACTION_REJECT) {
		s->action = IMS_ACTION_TEMPFAIL;
		snprintf(s->reason, sizeof s->reason, "%s", s->av_error);
		s->total_us = elapsed_us(&t0);
		rc = IMS_ETEMP;
		goto out;
	}

	/* DKIM signature for outbound mail of a local domain, sent by its owner */
	if (s->outbound && s->sender_owned && s->conf->milter_sign_outbound &&
	    s->auth.from_domain[0] && domain_is_local(s->conf, s->auth.from_domain) &&
	    s->action <= IMS_ACTION_TAG) {
		char *sig = NULL;
		st = ims_auth_sign(ims_engine_auth(eng), raw, len, s->auth.from_domain, &sig);
		if (st == IMS_OK)
			s->dkim_sig = sig;
		else if (st != IMS_ENOTFOUND)
			ims_log_warn(s->id, "event=dkim_sign domain=%s error=\"%s\"",
			             s->auth.from_domain, ims_strstatus(st));
	}
	ims_scan_idem_key(s, msg ? ims_msg_find(msg, "Message-ID", 0) : NULL, body, body_len, raw,
	                  len);
	rc = ims_scan_make_headers(s);
	s->total_us = elapsed_us(&t0);
out:
	ims_msglinks_free(links);
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
	long v =
	    s->total_us - s->auth.spf_us - s->auth.dkim_us - s->auth.dmarc_us - s->reputation_us;

	return v > 0 ? v : 0;
}

void ims_scan_timings(const struct ims_scan *s, struct ims_scan_timings *out)
{
	*out = (struct ims_scan_timings){
	    .total = s->total_us,
	    .parse = s->parse_us,
	    .spf = s->auth.spf_us,
	    .dkim = s->auth.dkim_us,
	    .dmarc = s->auth.dmarc_us,
	    .heuristics = s->heuristics_us,
	    .classify = s->classify_us,
	    .antivirus = s->antivirus_us,
	    .attachments = s->attachments_us,
	    .reputation = s->reputation_us,
	};
}

long ims_scan_total_us(const struct ims_scan *s)
{
	return s->total_us;
}

size_t ims_scan_symbol_count(const struct ims_scan *s)
{
	return s->nhits;
}

void ims_scan_hold_after_delivery(struct ims_scan *s)
{
	char reason[sizeof s->reason];

	/* cut to fit: the reason is one line for the log and the note */
	snprintf(reason, sizeof reason, "after delivery: %.*s", (int)(sizeof reason - 17),
	         s->reason[0] ? s->reason : "rescan");
	memcpy(s->reason, reason, sizeof reason);
	s->action = IMS_ACTION_QUARANTINE;
	s->hold_class = "rescan";
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
