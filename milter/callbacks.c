#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <libmilter/mfdef.h>

#include "callbacks.h"
#include "metrics.h"
#include "conf.h"
#include "engine.h"
#include "links.h"
#include "log.h"
#include "scan.h"

#define MAX_RCPTS IMS_SCAN_MAX_RCPTS
#define NOWN      6 /* header names we add (and remove when they come from outside) */

/* One message: everything from MAIL FROM to its end lives here and is
 * freed by msg_free only (called from eom, abort, close and the next MAIL). */
struct msg {
	struct ims_engine *eng; /* the snapshot this message uses to the end */
	char *mail_from;
	char *auth_user;
	char *message_id; /* the first Message-ID field, for the log line */
	char *rcpts[MAX_RCPTS];
	size_t nrcpts;
	int too_many_rcpts;
	int failed; /* an allocation failed in a stage that cannot reply: tempfail at eom */
	char *buf;  /* headers as received, blank line, body */
	size_t len, cap, limit;
	int oversize;
	int own_count[NOWN]; /* occurrences of each of our header names */
	int cte_count;       /* Content-Transfer-Encoding fields (links: the body may become QP) */
};

struct conn {
	unsigned long proto;   /* SMFIP_* flags agreed with the MTA (no-reply stages) */
	unsigned long actions; /* SMFIF_* actions the MTA allows (SMFIF_CHGBODY: links) */
	char ip[INET6_ADDRSTRLEN];
	char name[256];
	char helo[256];
	struct msg *msg;
};

static const char *const own_names[NOWN] = {"Authentication-Results", "X-Spam-Flag",
                                            "X-Spam-Score",           "X-Spam-Status",
                                            "X-IMS-Scan-Id",          "X-IMS-Released"};
static int in_flight;
static int draining;

int ims_milter_in_flight(void)
{
	return __atomic_load_n(&in_flight, __ATOMIC_ACQUIRE);
}

void ims_milter_drain(void)
{
	__atomic_store_n(&draining, 1, __ATOMIC_RELEASE);
}

static void msg_free(struct msg *m)
{
	if (!m)
		return;
	ims_engine_unref(m->eng);
	free(m->mail_from);
	free(m->auth_user);
	free(m->message_id);
	for (size_t i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->buf);
	free(m);
	__atomic_sub_fetch(&in_flight, 1, __ATOMIC_ACQ_REL);
}

static void conn_end_msg(struct conn *c)
{
	if (c) {
		msg_free(c->msg);
		c->msg = NULL;
	}
}

/* Appends n bytes; past the limit only counts them (oversize). */
static int msg_append(struct msg *m, const void *p, size_t n)
{
	if (m->oversize || m->len + n > m->limit) {
		m->oversize = 1;
		return 0;
	}
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 16384;
		while (cap < m->len + n)
			cap *= 2;
		if (cap > m->limit)
			cap = m->limit;
		char *b = realloc(m->buf, cap);
		if (!b)
			return -1;
		m->buf = b;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return 0;
}

/* Strips <> and surrounding blanks: "<a@b>" -> "a@b". */
static char *addr_dup(const char *a)
{
	const char *s = a ? a : "";
	size_t n;

	while (*s == ' ' || *s == '<')
		s++;
	n = strcspn(s, ">");
	return strndup(s, n > 320 ? 320 : n);
}

static const char *qid(SMFICTX *ctx)
{
	const char *q = smfi_getsymval(ctx, "i");

	return q ? q : "";
}

/* A 451 for the message, counted by cause (milter/metrics.h). */
static sfsistat tempfail(SMFICTX *ctx, enum ims_tempfail_cause cause, const char *why)
{
	ims_mmetrics_tempfail(cause);
	smfi_setreply(ctx, "451", "4.7.1", (char *)why);
	return SMFIS_TEMPFAIL;
}

/* The same before a scan ran: the message counts as tempfailed here. */
static sfsistat tempfail_unscanned(SMFICTX *ctx, enum ims_tempfail_cause cause, const char *why)
{
	ims_mmetrics_scan(NULL, "tempfail");
	return tempfail(ctx, cause, why);
}

/* The reply of a stage: none at all when the MTA agreed not to wait for it
 * (SMFIP_NR_*), which saves a round trip per header and per stage. */
static sfsistat cont(const struct conn *c, unsigned long nr_flag)
{
	return c && (c->proto & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* The macros ims reads, and only those: {auth_authen} at MAIL FROM (the
 * SASL login), the queue id "i" at end of message.  The MTA then sends no
 * macro command for the other stages (Postfix's defaults send one before
 * connect, HELO, MAIL, each RCPT, DATA and end of message).  An empty list
 * for a stage asks for no macros there. */
static void set_macro_lists(SMFICTX *ctx)
{
	static const struct {
		int stage;
		const char *macros;
	} lists[] = {
	    {SMFIM_CONNECT, ""}, {SMFIM_HELO, ""}, {SMFIM_ENVFROM, "{auth_authen}"},
	    {SMFIM_ENVRCPT, ""}, {SMFIM_DATA, ""}, {SMFIM_EOH, ""},
	    {SMFIM_EOM, "i"},
	};

	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		(void)smfi_setsymlist(ctx, lists[i].stage, (char *)lists[i].macros);
}

/* Protocol negotiation: the actions we use, and no replies for the stages
 * where ims never decides (it decides at end of message). */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT | SMFIP_NR_HDR |
	                     SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_DATA | SMFIP_NR_UNKN |
	                     SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC;
	struct conn *c = smfi_getpriv(ctx);
	struct ims_engine *eng = ims_engine_acquire();

	/* RCPT is answered (one round trip per recipient) when unknown local
	 * recipients are refused there; also while no engine is loaded yet */
	if (!eng || ims_engine_conf(eng)->milter_reject_unknown_recipients)
		want &= ~(unsigned long)SMFIP_NR_RCPT;
	ims_engine_unref(eng);

	(void)f2;
	(void)f3;
	if (!c) {
		c = calloc(1, sizeof *c);
		if (!c)
			return SMFIS_REJECT; /* libmilter: give up on this connection */
		smfi_setpriv(ctx, c);
	}
	*pf0 =
	    f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT | SMFIF_SETSYMLIST | SMFIF_CHGBODY);
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	c->proto = *pf1;
	c->actions = *pf0;
	if (*pf0 & SMFIF_SETSYMLIST)
		set_macro_lists(ctx);
	return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct conn *c = smfi_getpriv(ctx);

	if (!c) {
		c = calloc(1, sizeof *c);
		if (!c)
			return SMFIS_TEMPFAIL;
	}
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, c->ip,
		          sizeof c->ip);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, c->ip,
		          sizeof c->ip);
	snprintf(c->name, sizeof c->name, "%s", hostname ? hostname : "");
	smfi_setpriv(ctx, c);
	return cont(c, SMFIP_NR_CONN);
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c)
		snprintf(c->helo, sizeof c->helo, "%s", helo ? helo : "");
	return cont(c, SMFIP_NR_HELO);
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	const char *auth = smfi_getsymval(ctx, "{auth_authen}");
	struct msg *m;

	if (!c)
		return tempfail_unscanned(ctx, IMS_TF_MEMORY, "Out of memory, try again later");
	conn_end_msg(c);
	if (__atomic_load_n(&draining, __ATOMIC_ACQUIRE)) {
		ims_mmetrics_tempfail(IMS_TF_DRAINING);
		ims_mmetrics_scan(NULL, "tempfail");
		smfi_setreply(ctx, "421", "4.3.2", "Filter shutting down, try again later");
		return SMFIS_TEMPFAIL;
	}
	m = calloc(1, sizeof *m);
	if (!m)
		return tempfail_unscanned(ctx, IMS_TF_MEMORY, "Out of memory, try again later");
	__atomic_add_fetch(&in_flight, 1, __ATOMIC_ACQ_REL);
	c->msg = m;
	m->eng = ims_engine_acquire();
	if (!m->eng)
		return tempfail_unscanned(ctx, IMS_TF_NOT_READY,
		                          "Scanner not ready, try again later");
	m->limit = ims_engine_conf(m->eng)->milter_max_message_size;
	m->mail_from = addr_dup(argv ? argv[0] : "");
	m->auth_user = auth && *auth ? strndup(auth, 320) : NULL;
	if (!m->mail_from || (auth && *auth && !m->auth_user))
		return tempfail_unscanned(ctx, IMS_TF_MEMORY, "Out of memory, try again later");
	return SMFIS_CONTINUE;
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;

	if (!m)
		return (c && (c->proto & SMFIP_NR_RCPT)) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	if (m->nrcpts >= MAX_RCPTS) {
		m->too_many_rcpts = 1;
		return cont(c, SMFIP_NR_RCPT);
	}
	m->rcpts[m->nrcpts] = addr_dup(argv ? argv[0] : "");
	if (!m->rcpts[m->nrcpts]) {
		m->failed = 1;
		return cont(c, SMFIP_NR_RCPT);
	}
	if (!(c->proto & SMFIP_NR_RCPT)) {
		char q[400];
		ims_status st = ims_scan_check_rcpt(m->eng, m->rcpts[m->nrcpts]);

		if (st != IMS_OK) {
			/* this recipient only: the others of the transaction stay */
			ims_log_quote(q, sizeof q, m->rcpts[m->nrcpts]);
			free(m->rcpts[m->nrcpts]);
			m->rcpts[m->nrcpts] = NULL;
			if (st == IMS_ENOTFOUND) {
				ims_log_info(NULL, "event=rcpt_unknown rcpt=%s", q);
				smfi_setreply(ctx, "550", "5.1.1",
				              "Recipient address rejected: no such user here");
				return SMFIS_REJECT;
			}
			ims_log_warn(NULL, "event=rcpt_check_failed rcpt=%s status=%s", q,
			             ims_strstatus(st));
			smfi_setreply(ctx, "451", "4.3.0",
			              "Recipient lookup failed, try again later");
			return SMFIS_TEMPFAIL;
		}
	}
	m->nrcpts++;
	return cont(c, SMFIP_NR_RCPT);
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;
	const char *v = value ? value : "";
	int bad = 0;

	if (!m)
		return (c && (c->proto & SMFIP_NR_HDR)) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	for (int i = 0; i < NOWN; i++)
		if (strcasecmp(name, own_names[i]) == 0)
			m->own_count[i]++;
	if (strcasecmp(name, "Content-Transfer-Encoding") == 0)
		m->cte_count++;
	if (!m->message_id && strcasecmp(name, "Message-ID") == 0) {
		const char *t = v + strspn(v, " \t");

		if (!(m->message_id = strdup(t)))
			m->failed = 1;
	}
	/* "Name: value" with the line ends of folded values as CRLF; with
	 * SMFIP_HDR_LEADSPC the value keeps its leading space as received */
	bad |= msg_append(m, name, strlen(name)) || msg_append(m, ":", 1);
	if (!(c->proto & SMFIP_HDR_LEADSPC) && *v != ' ' && *v != '\t')
		bad |= msg_append(m, " ", 1);
	for (const char *p = v; *p && !bad; p++) {
		if (*p == '\n' && (p == v || p[-1] != '\r'))
			bad |= msg_append(m, "\r\n", 2);
		else
			bad |= msg_append(m, p, 1);
	}
	bad |= msg_append(m, "\r\n", 2);
	if (bad)
		m->failed = 1;
	return cont(c, SMFIP_NR_HDR);
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;

	if (!m)
		return (c && (c->proto & SMFIP_NR_EOH)) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	if (msg_append(m, "\r\n", 2))
		m->failed = 1;
	return cont(c, SMFIP_NR_EOH);
}

static sfsistat oversize(SMFICTX *ctx, struct conn *c)
{
	const struct ims_conf *conf = ims_engine_conf(c->msg->eng);
	int reject = strcmp(conf->milter_on_oversize, "reject") == 0;

	ims_log_notice(NULL, "event=oversize queue_id=%s limit=%zu action=%s", qid(ctx),
	               c->msg->limit, reject ? "reject" : "tempfail");
	conn_end_msg(c);
	if (reject) {
		smfi_setreply(ctx, "552", "5.3.4", "Message size exceeds the limit");
		return SMFIS_REJECT;
	}
	smfi_setreply(ctx, "452", "4.3.4", "Message size exceeds the limit");
	return SMFIS_TEMPFAIL;
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;

	if (!m)
		return (c && (c->proto & SMFIP_NR_BODY)) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	if (msg_append(m, chunk, len))
		m->failed = 1;
	/* over the limit: answer now when the MTA waits for body replies,
	 * else at end of message */
	if (m->oversize && !(c->proto & SMFIP_NR_BODY))
		return oversize(ctx, c);
	return cont(c, SMFIP_NR_BODY);
}

/* Adds one header field.  With SMFIP_HDR_LEADSPC negotiated the MTA
 * writes "Name:" and the value exactly as given, so the value brings its
 * own leading space (as OpenDKIM does); otherwise the MTA adds it. */
static int add_field(SMFICTX *ctx, int leadspc, int insert, const char *name, const char *value)
{
	char *v = (char *)value;
	int rc;

	if (leadspc && *value != ' ' && *value != '\t') {
		size_t n = strlen(value);
		if (!(v = malloc(n + 2)))
			return -1;
		v[0] = ' ';
		memcpy(v + 1, value, n + 1);
	}
	rc =
	    insert ? smfi_insheader(ctx, 0, (char *)name, v) : smfi_addheader(ctx, (char *)name, v);
	if (v != value)
		free(v);
	return rc == MI_SUCCESS ? 0 : -1;
}

/* The message's Content-Transfer-Encoding becomes quoted-printable (its
 * body was rewritten as such): the one field changed, or added. */
static int set_cte_qp(SMFICTX *ctx, const struct msg *m)
{
	const struct conn *c = smfi_getpriv(ctx);
	const int leadspc = c && (c->proto & SMFIP_HDR_LEADSPC);
	char *v = leadspc ? " quoted-printable" : "quoted-printable";

	if (m->cte_count == 0)
		return add_field(ctx, leadspc, 0, "Content-Transfer-Encoding", "quoted-printable");
	if (m->cte_count > 1)
		return -1;
	return smfi_chgheader(ctx, "Content-Transfer-Encoding", 1, v) == MI_SUCCESS ? 0 : -1;
}

/* Removes our header names that came from outside, then adds ours. */
static int apply_headers(SMFICTX *ctx, const struct msg *m, const struct ims_scan *s)
{
	const struct conn *c = smfi_getpriv(ctx);
	const int leadspc = c && (c->proto & SMFIP_HDR_LEADSPC);
	const char *sig = ims_scan_dkim_signature(s);

	for (int i = 0; i < NOWN; i++)
		for (int idx = m->own_count[i]; idx >= 1; idx--)
			if (smfi_chgheader(ctx, (char *)own_names[i], idx, NULL) != MI_SUCCESS)
				return -1;
	for (size_t i = 0; i < ims_scan_header_count(s); i++) {
		const char *name, *value;
		ims_scan_header(s, i, &name, &value);
		/* Authentication-Results goes on top, as RFC 8601 asks */
		if (add_field(ctx, leadspc, i == 0, name, value) != 0)
			return -1;
	}
	if (sig && add_field(ctx, leadspc, 1, "DKIM-Signature", sig) != 0)
		return -1;
	return 0;
}

/* The held copy is stored (ims_scan_store): the MTA keeps none.  Held
 * for every recipient: DISCARD.  Held for some (local mailboxes) while
 * others have none here: those are removed and the rest get it tagged. */
static sfsistat hold(SMFICTX *ctx, const struct msg *m, const struct ims_scan *s)
{
	size_t held = 0;

	for (size_t i = 0; i < m->nrcpts; i++)
		held += ims_scan_holds_for(s, m->rcpts[i]) != 0;
	if (held == m->nrcpts)
		return SMFIS_DISCARD;
	for (size_t i = 0; i < m->nrcpts; i++) {
		char addr[330];
		if (!ims_scan_holds_for(s, m->rcpts[i]))
			continue;
		snprintf(addr, sizeof addr, "<%s>", m->rcpts[i]);
		/* the held copy is already stored: a failure here would deliver
		 * twice after a retry, so it is logged and the copy goes out tagged */
		if (smfi_delrcpt(ctx, addr) != MI_SUCCESS)
			ims_log_warn(ims_scan_id(s), "event=delrcpt_failed rcpt=%s", m->rcpts[i]);
	}
	if (apply_headers(ctx, m, s) != 0)
		ims_log_warn(ims_scan_id(s), "event=headers_failed");
	return SMFIS_ACCEPT;
}

/* The one line per message: who sent what to whom (client IP, HELO,
 * sender, recipients, Message-ID) and what ims made of it; every value a
 * sender chose is quoted (ims_log_quote). */
static void log_scan(SMFICTX *ctx, const struct conn *c, const struct msg *m,
                     const struct ims_scan *s, sfsistat ret, const char *links, long links_us)
{
	char helo[300], from[300], rcpt[600], mid[300], syms[600], list[512];
	size_t j = 0;

	list[0] = '\0';
	for (size_t i = 0; i < m->nrcpts && j < sizeof list; i++)
		j += (size_t)snprintf(list + j, sizeof list - j, "%s%s", i ? "," : "", m->rcpts[i]);
	ims_log_quote(rcpt, sizeof rcpt, list);
	j = 0;
	list[0] = '\0';
	for (size_t i = 0; i < ims_scan_symbol_count(s) && j < sizeof list; i++) {
		const char *name = NULL;
		double w = 0;

		if (ims_scan_symbol(s, i, &name, &w, NULL) == 0 && name)
			j += (size_t)snprintf(list + j, sizeof list - j, "%s%s(%.2f)", j ? "," : "",
			                      name, w);
	}
	ims_log_quote(syms, sizeof syms, list);
	ims_log_info(ims_scan_id(s),
	             "event=scan queue_id=%s client_ip=%s helo=%s mail_from=%s rcpt=%s "
	             "message_id=%s action=%s score=%.2f verdict=%s symbols=%s size=%zu "
	             "rcpts=%zu local_us=%ld total_us=%ld links=%s links_us=%ld reply=%s",
	             qid(ctx), c->ip[0] ? c->ip : "-", ims_log_quote(helo, sizeof helo, c->helo),
	             ims_log_quote(from, sizeof from, m->mail_from), rcpt,
	             ims_log_quote(mid, sizeof mid, m->message_id),
	             ret == SMFIS_TEMPFAIL ? "tempfail" : ims_action_name(ims_scan_action(s)),
	             ims_scan_score(s), ims_scan_verdict(s), syms, m->len, m->nrcpts,
	             ims_scan_local_us(s), ims_scan_total_us(s), links, links_us,
	             ret == SMFIS_ACCEPT    ? "accept"
	             : ret == SMFIS_DISCARD ? "discard"
	             : ret == SMFIS_REJECT  ? "reject"
	                                    : "tempfail");
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	struct msg *m = c ? c->msg : NULL;
	struct ims_scan *s = NULL;
	struct ims_envelope env;
	char reply[512], err[256];
	char *newbody = NULL; /* links rewritten ([links]): the body to deliver */
	size_t newlen = 0;
	const char *links = "none";
	long links_us = 0;
	int to_qp = 0; /* the rewritten body is quoted-printable: so must the field be */
	sfsistat ret = SMFIS_TEMPFAIL;
	ims_status st;

	if (!m || !m->eng)
		return tempfail_unscanned(ctx, IMS_TF_NOT_READY,
		                          "Scanner not ready, try again later");
	if (m->oversize)
		return oversize(ctx, c);
	if (m->too_many_rcpts) {
		conn_end_msg(c);
		ims_mmetrics_tempfail(IMS_TF_RECIPIENTS);
		ims_mmetrics_scan(NULL, "tempfail");
		smfi_setreply(ctx, "452", "4.5.3", "Too many recipients");
		return SMFIS_TEMPFAIL;
	}
	if (m->failed) {
		conn_end_msg(c);
		return tempfail_unscanned(ctx, IMS_TF_MEMORY, "Out of memory, try again later");
	}
	env = (struct ims_envelope){
	    .client_ip = c->ip,
	    .client_name = c->name,
	    .helo = c->helo,
	    .auth_user = m->auth_user,
	    .mail_from = m->mail_from,
	    .rcpts = (const char *const *)m->rcpts,
	    .nrcpts = m->nrcpts,
	    .queue_id = qid(ctx),
	};
	st = ims_scan_run(m->eng, &env, m->buf ? m->buf : "", m->len, &s);
	if (st != IMS_OK) {
		ims_log_warn(s ? ims_scan_id(s) : NULL,
		             "event=scan_failed queue_id=%s status=\"%s\" reason=\"%s\"", qid(ctx),
		             ims_strstatus(st), s ? ims_scan_reason(s) : "");
		if (s)
			(void)ims_scan_store(m->eng, s, m->buf, m->len, NULL, 0); /* best effort */
		snprintf(reply, sizeof reply, "Scanner unavailable, try again later (scan %s)",
		         s ? ims_scan_id(s) : "none");
		ret =
		    tempfail(ctx, ims_engine_model(m->eng) ? IMS_TF_SCAN : IMS_TF_NO_MODEL, reply);
		goto out;
	}
	/* links to /click in the delivered copy: decided before the store so
	 * that the scan log says whether it happened */
	if (ims_scan_action(s) <= IMS_ACTION_TAG) {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		st =
		    ims_links_rewrite(m->eng, s, m->buf ? m->buf : "", m->len,
		                      (c->actions & SMFIF_CHGBODY) != 0, &newbody, &newlen, &to_qp);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		links_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L;
		links = st == IMS_OK ? "rewritten" : st == IMS_ENOTFOUND ? "none" : "unchanged";
		if (st == IMS_ENOMEM) {
			ret = tempfail(ctx, IMS_TF_SCAN, "Out of memory, try again later");
			goto out;
		}
	}
	/* a retry of a message stored before (its 451 came after the store
	 * committed): recorded once, answered with the first scan's id */
	st = ims_scan_recall(m->eng, s);
	if (st == IMS_ENOTFOUND)
		/* stored first: a held message is in the quarantine before the
		 * MTA is told to drop its copy; a failed store is a tempfail */
		st = ims_scan_store(m->eng, s, m->buf ? m->buf : "", m->len, err, sizeof err);
	else if (st != IMS_OK)
		snprintf(err, sizeof err, "%s", ims_strstatus(st));
	if (st == IMS_ELIMIT && ims_scan_action(s) == IMS_ACTION_QUARANTINE) {
		snprintf(reply, sizeof reply, "Quarantine full, try again later (scan %s)",
		         ims_scan_id(s));
		ims_mmetrics_tempfail(IMS_TF_QUARANTINE_FULL);
		smfi_setreply(ctx, "452", "4.3.1", reply);
		ret = SMFIS_TEMPFAIL;
		goto out;
	}
	if (st != IMS_OK) {
		snprintf(reply, sizeof reply, "Storage unavailable, try again later (scan %s)",
		         ims_scan_id(s));
		ret = tempfail(ctx, IMS_TF_STORE, reply);
		goto out;
	}
	switch (ims_scan_action(s)) {
	case IMS_ACTION_REJECT:
		snprintf(reply, sizeof reply, "Message rejected: %s (scan %s)", ims_scan_reason(s),
		         ims_scan_id(s));
		for (char *p = reply; *p; p++)
			if (*p == '%' || (unsigned char)*p < 0x20)
				*p = ' ';
		smfi_setreply(ctx, "550", "5.7.1", reply);
		ret = SMFIS_REJECT;
		break;
	case IMS_ACTION_QUARANTINE: ret = hold(ctx, m, s); break;
	default:
		if (apply_headers(ctx, m, s) != 0) {
			ret =
			    tempfail(ctx, IMS_TF_HEADERS, "Could not add headers, try again later");
			break;
		}
		if (newbody &&
		    (smfi_replacebody(ctx, (unsigned char *)newbody, (int)newlen) != MI_SUCCESS ||
		     (to_qp && set_cte_qp(ctx, m) != 0))) {
			ret = tempfail(ctx, IMS_TF_HEADERS,
			               "Could not rewrite links, try again later");
			break;
		}
		ret = SMFIS_ACCEPT;
		break;
	}
out:
	ims_mmetrics_scan(s, ret == SMFIS_TEMPFAIL || !s ? "tempfail"
	                                                 : ims_action_name(ims_scan_action(s)));
	if (s)
		log_scan(ctx, c, m, s, ret, links, links_us);
	free(newbody);
	ims_scan_free(s);
	conn_end_msg(c);
	return ret;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	conn_end_msg(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	conn_end_msg(c);
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat cb_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)cmd;
	return cont(smfi_getpriv(ctx), SMFIP_NR_UNKN);
}

static sfsistat cb_data(SMFICTX *ctx)
{
	return cont(smfi_getpriv(ctx), SMFIP_NR_DATA);
}

struct smfiDesc ims_milter_desc = {
    .xxfi_name = "ims-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT | SMFIF_CHGBODY,
    .xxfi_connect = cb_connect,
    .xxfi_helo = cb_helo,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_envrcpt = cb_envrcpt,
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_unknown = cb_unknown,
    .xxfi_data = cb_data,
    .xxfi_negotiate = cb_negotiate,
};
