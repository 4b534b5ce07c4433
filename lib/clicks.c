/* Links at click time, the click side: see clicks.h. */
#include "config.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>

#include "auth.h"
#include "clicks.h"
#include "dashboard.h"
#include "rkeys.h"
#include "urls.h"
#include "events.h"
#include "heuristics.h"
#include "store.h"
#include "reputation.h"
#include "scan_internal.h"

const char *ims_click_verdict_name(enum ims_click_verdict v)
{
	return v == IMS_CLICK_BLOCK ? "block" : v == IMS_CLICK_WARN ? "warn" : "clean";
}

/* The host a link goes to (lib/urls.h, the one URL parser), or -1. */
static int link_host(const char *url, char *host, size_t hostlen)
{
	struct ims_url_host h;

	if (ims_url_host(url, strlen(url), &h) != IMS_OK)
		return -1;
	snprintf(host, hostlen, "%s", h.host);
	return 0;
}

static void judge(struct ims_click_check *out, enum ims_click_verdict v, const char *why)
{
	if (v < out->verdict)
		return;
	if (v > out->verdict || !out->reason[0])
		snprintf(out->reason, sizeof out->reason, "%s", why);
	out->verdict = v;
}

/* 1 for a reputation symbol that lists something: INTEL_BLOCK whatever
 * its weight, a DNS list rule with a positive weight (a zero-weight rule
 * is informational); never DNSBL_FAIL, DNSBL_LIMIT or an allow list. */
static int listing(const char *symbol, double weight)
{
	if (strcmp(symbol, "INTEL_BLOCK") == 0)
		return 1;
	return weight > 0 && strcmp(symbol, "DNSBL_FAIL") != 0 &&
	       strcmp(symbol, "DNSBL_LIMIT") != 0 && strcmp(symbol, "INTEL_ALLOW") != 0;
}

/* A finding of the reputation checks on the one link. */
static void emit(void *arg, const char *symbol, double weight, const char *detail)
{
	struct ims_click_check *out = arg;
	char why[300];

	snprintf(why, sizeof why, "%s %.250s", symbol, detail ? detail : "");
	if (strcmp(symbol, "DNSBL_FAIL") == 0 || strcmp(symbol, "DNSBL_LIMIT") == 0)
		judge(out, IMS_CLICK_WARN, why); /* not asked: cannot say it is clean */
	else if (listing(symbol, weight))
		judge(out, IMS_CLICK_BLOCK, why);
}

/* Did a scan find host, or a parent domain of it, on a list (the scans
 * since the message arrived, and before: within the retention)? */
#define PARENTS_MAX 8

static void later_scans(struct ims_store *st, const char *host, struct ims_click_check *out)
{
	const char *names[PARENTS_MAX];
	size_t n = 0;

	for (const char *d = host; strchr(d, '.') && n < PARENTS_MAX; d = strchr(d, '.') + 1)
		names[n++] = d;
	for (size_t i = 0; i < n; i++) {
		const char *argv[] = {"ZSCORE", IMS_KEY_BAD_HOSTS, names[i]};
		redisReply *r = NULL;
		char err[256];

		if (ims_store_cmdv(st, &r, 3, argv, NULL, err, sizeof err) == IMS_OK &&
		    r->type == REDIS_REPLY_STRING) { /* a score: a scan listed it */
			char why[300];

			snprintf(why, sizeof why, "a scan found %s on a block list", names[i]);
			judge(out, IMS_CLICK_BLOCK, why);
			ims_store_reply_free(r);
			return;
		}
		ims_store_reply_free(r);
	}
}

void ims_click_check_url(struct ims_engine *eng, struct ims_store *st, const char *url,
                         struct ims_click_check *out)
{
	char host[IMS_URL_MAX_HOST + 1];
	struct ims_link link = {.href = url, .text = ""};
	struct ims_reputation_input in = {
	    .client_trusted = 1, /* no client, no HELO: only the link */
	    .mail_from = "",
	    .from_domain = "",
	    .links = &link,
	    .nlinks = 1,
	};

	memset(out, 0, sizeof *out);
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		judge(out, IMS_CLICK_BLOCK, "not an http(s) link");
		return;
	}
	if (link_host(url, host, sizeof host) != 0) {
		judge(out, IMS_CLICK_WARN, "the link names no host ims can check");
		return;
	}
	if (eng)
		ims_reputation_check(ims_engine_reputation(eng), ims_auth_dns(ims_engine_auth(eng)),
		                     &in, emit, out);
	if (st)
		later_scans(st, host, out);
	if (ims_url_is_ip_literal(host))
		judge(out, IMS_CLICK_WARN, "the link points at a bare IP address");
	else if (strncmp(host, "xn--", 4) == 0 || strstr(host, ".xn--"))
		judge(out, IMS_CLICK_WARN,
		      "the link's host is punycode (it may imitate another name)");
}

static char *click_json(const struct ims_click_event *ev)
{
	json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "time",
	                      (json_int_t)ev->time_ms, "scan", ev->scan_id, "user", ev->user, "url",
	                      ev->url, "verdict", ev->verdict, "reason", ev->reason, "ip", ev->ip);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

ims_status ims_click_record(struct ims_store *store, const struct ims_click_event *ev,
                            int retention_days)
{
	char kscan[IMS_CLICKS_KEY_MAX], kuser[IMS_CLICKS_KEY_MAX], evtime[24], keep[16], ttl[24];
	char *js = click_json(ev);
	struct ims_store_txn *t;
	char err[256];
	ims_status st;
	int nuser = ev->user[0] != '\0';

	if (!js)
		return IMS_ENOMEM;
	if ((size_t)snprintf(kscan, sizeof kscan, IMS_KEY_CLICKS_SCAN_FMT, ev->scan_id) >=
	        sizeof kscan ||
	    (size_t)snprintf(kuser, sizeof kuser, IMS_KEY_CLICKS_USER_FMT, ev->user) >=
	        sizeof kuser) {
		free(js);
		return IMS_EINVAL;
	}
	snprintf(keep, sizeof keep, "%d", IMS_CLICKS_KEEP - 1);
	snprintf(ttl, sizeof ttl, "%lld", (long long)retention_days * 86400);
	if (!(t = ims_store_txn_new())) {
		free(js);
		return IMS_ENOMEM;
	}
	{
		const char *xadd[IMS_EVENTS_CLICK_ARGC];

		/* the event as the events layer spells it; the event and the
		 * lists are all {global}: one MULTI/EXEC */
		ims_events_click_argv(xadd, evtime, ev->time_ms, ev->scan_id, ev->user, ev->url,
		                      ev->verdict, ev->reason, ev->ip);
		ims_store_txn_cmd(t, xadd[0]);
		for (int i = 1; i < IMS_EVENTS_CLICK_ARGC; i++)
			ims_store_txn_str(t, xadd[i]);
		for (int u = 0; u <= nuser; u++) {
			const char *key = u ? kuser : kscan;

			ims_store_txn_cmd(t, "LPUSH");
			ims_store_txn_str(t, key);
			ims_store_txn_str(t, js);
			ims_store_txn_cmd(t, "LTRIM");
			ims_store_txn_str(t, key);
			ims_store_txn_str(t, "0");
			ims_store_txn_str(t, keep);
			ims_store_txn_cmd(t, "EXPIRE");
			ims_store_txn_str(t, key);
			ims_store_txn_str(t, ttl);
		}
		/* the dashboard's click counters (lib/dashboard.h) */
		ims_dashboard_txn_click(t, ev->time_ms, ev->verdict, retention_days);
	}
	st = ims_store_exec(store, t, err, sizeof err);
	ims_store_txn_free(t);
	free(js);
	return st;
}

ims_status ims_clicks_list(struct ims_store *st, int by_user, const char *who, size_t limit,
                           char ***out, size_t *n)
{
	char key[IMS_CLICKS_KEY_MAX], stop[24];
	const char *argv[] = {"LRANGE", key, "0", stop};
	redisReply *r = NULL;
	char **v;

	*out = NULL;
	*n = 0;
	if ((size_t)snprintf(key, sizeof key,
	                     by_user ? IMS_KEY_CLICKS_USER_FMT : IMS_KEY_CLICKS_SCAN_FMT,
	                     who) >= sizeof key)
		return IMS_EINVAL;
	snprintf(stop, sizeof stop, "%zu", limit ? limit - 1 : 0);
	{
		char err[256];
		ims_status rc = ims_store_cmdv(st, &r, 4, argv, NULL, err, sizeof err);

		if (rc != IMS_OK)
			return rc;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		ims_store_reply_free(r);
		return IMS_ETEMP;
	}
	v = calloc(r->elements ? r->elements : 1, sizeof *v);
	if (!v) {
		ims_store_reply_free(r);
		return IMS_ENOMEM;
	}
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    (v[*n] = strdup(r->element[i]->str)))
			(*n)++;
	ims_store_reply_free(r);
	*out = v;
	return IMS_OK;
}

void ims_clicks_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* 1 when name appears in detail as a whole domain name (not inside a
 * longer one: "xbad.example" does not name "bad.example"). */
static int names(const char *detail, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = detail; (p = strstr(p, name)); p++) {
		char before = p == detail ? ' ' : p[-1], after = p[n];

		if (!(before == '.' || before == '-' || g_ascii_isalnum(before)) &&
		    !(after == '.' || after == '-' || g_ascii_isalnum(after)))
			return 1;
	}
	return 0;
}

static void note(struct ims_scan *s, const char *dom)
{
	for (size_t i = 0; i < s->nlisted; i++)
		if (strcmp(s->listed[i], dom) == 0)
			return;
	if (s->nlisted < IMS_SCAN_MAX_LISTED)
		snprintf(s->listed[s->nlisted++], sizeof s->listed[0], "%s", dom);
}

void ims_clicks_note_listed(struct ims_scan *s, const struct ims_link *links, size_t nlinks,
                            size_t first_hit)
{
	for (size_t h = first_hit; h < s->nhits; h++) {
		const struct ims_scan_hit *hit = &s->hits[h];

		if (!listing(hit->name, hit->weight))
			continue;
		for (size_t i = 0; i < nlinks && s->nlisted < IMS_SCAN_MAX_LISTED; i++) {
			char host[IMS_URL_MAX_HOST + 1];

			if (link_host(links[i].href, host, sizeof host) != 0 ||
			    ims_url_is_ip_literal(host))
				continue;
			/* the host, then each parent domain with a dot in it */
			for (const char *d = host; strchr(d, '.'); d = strchr(d, '.') + 1)
				if (names(hit->detail, d)) {
					note(s, d);
					break;
				}
		}
	}
}
