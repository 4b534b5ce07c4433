/* GET /click (open: the signed token is the authority) and
 * GET /admin/clicks: links at click time (lib/clicks.h, lib/linktoken.h). */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clicks.h"
#include "engine.h"
#include "linktoken.h"
#include "log.h"
#include "routes.h"

/* The "continue" link of a warning page works this long. */
#define CONTINUE_S 3600

/* Appends s to g with the five HTML special characters escaped. */
static void esc(GString *g, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': g_string_append(g, "&amp;"); break;
		case '<': g_string_append(g, "&lt;"); break;
		case '>': g_string_append(g, "&gt;"); break;
		case '"': g_string_append(g, "&quot;"); break;
		case '\'': g_string_append(g, "&#39;"); break;
		default: g_string_append_c(g, *s);
		}
}

/* A small HTML page: title, a paragraph, the URL (escaped), and an
 * optional "continue" link (href: "?t=TOKEN", base64url only). */
static void page(struct ims_req *r, int status, const char *title, const char *text,
                 const char *url, const char *reason, const char *cont)
{
	GString *g = g_string_sized_new(2048);

	g_string_append(g, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                   "<meta name=\"referrer\" content=\"no-referrer\"><title>");
	esc(g, title);
	g_string_append(g, "</title></head><body><h1>");
	esc(g, title);
	g_string_append(g, "</h1><p>");
	esc(g, text);
	g_string_append(g, "</p>");
	if (url) {
		g_string_append(g, "<p>Link: <code id=\"url\">");
		esc(g, url);
		g_string_append(g, "</code></p>");
	}
	if (reason && *reason) {
		g_string_append(g, "<p>Why: <span id=\"reason\">");
		esc(g, reason);
		g_string_append(g, "</span></p>");
	}
	if (cont) {
		g_string_append(g, "<p><a id=\"continue\" rel=\"noreferrer noopener\" href=\"?t=");
		esc(g, cont);
		g_string_append(g, "\">Continue to the site anyway</a></p>");
	}
	g_string_append(g, "<p>Request ");
	esc(g, r->id);
	g_string_append(g, "</p></body></html>\n");
	{
		size_t len = g->len;

		ims_req_take(r, status, "text/html; charset=utf-8", g_string_free(g, FALSE), len);
	}
}

/* The URL as a Location value (malloc'd): bytes outside printable ASCII
 * and the characters RFC 3986 never allows in a URL (quotes, <, >, ...)
 * percent-encoded; also how log lines show it. */
static char *location(const char *url)
{
	GString *g = g_string_sized_new(strlen(url) + 16);

	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
			g_string_append_printf(g, "%%%02X", *p);
		else
			g_string_append_c(g, (char)*p);
	{
		char *s = strdup(g->str);

		g_string_free(g, TRUE);
		return s;
	}
}

void ims_route_click(struct ims_req *r)
{
	const struct ims_conf *c = r->app->conf;
	const char *t = ims_req_query(r, "t");
	struct ims_linkkey *key = NULL;
	struct ims_linktoken tok;
	struct ims_click_check chk;
	struct ims_engine *eng = NULL;
	struct ims_store *rc;
	char err[300], cont[IMS_LINKTOKEN_MAX + 1];
	const char *verdict;
	uint64_t now_ms = ims_req_now_ms();
	ims_status st;

	if (!c->links_key_file || !*c->links_key_file) {
		page(r, 404, "Link protection is off", "This server does not check links.", NULL,
		     NULL, NULL);
		return;
	}
	if (!t || !*t || strlen(t) > IMS_LINKTOKEN_MAX) {
		page(r, 400, "This link is not valid", "The link is incomplete or too long.", NULL,
		     NULL, NULL);
		return;
	}
	if (ims_linkkey_load(c->links_key_file, &key, err, sizeof err) != IMS_OK) {
		ims_log_err(r->id, "event=links_key error=\"%s\"", err);
		page(r, 503, "Link check unavailable", "Try again later.", NULL, NULL, NULL);
		return;
	}
	st = ims_linktoken_verify(key, t, strlen(t), now_ms / 1000,
	                          (uint64_t)c->links_lifetime_days * 86400, &tok);
	if (st == IMS_OK && tok.kind == IMS_LINKTOKEN_CONTINUE &&
	    tok.issued + CONTINUE_S < now_ms / 1000)
		st = IMS_ELIMIT;
	if (st != IMS_OK) {
		ims_log_notice(r->id, "event=click_refused ip=%s reason=%s scan=%s", r->ip,
		               st == IMS_ELIMIT ? "expired" : "invalid",
		               st == IMS_ELIMIT ? tok.scan_id : "-");
		if (st == IMS_ELIMIT)
			page(r, 403, "This link has expired",
			     "Links in mail are checked for a limited time. Ask the sender for the "
			     "link again.",
			     NULL, NULL, NULL);
		else
			page(r, 403, "This link is not valid",
			     "The link was changed or was not made by this server.", NULL, NULL,
			     NULL);
		goto out;
	}
	eng = ims_engine_acquire();
	rc = ims_req_store(r);
	ims_click_check_url(eng, rc, tok.url, &chk);
	verdict = ims_click_verdict_name(chk.verdict);
	if (tok.kind == IMS_LINKTOKEN_CONTINUE && chk.verdict == IMS_CLICK_WARN) {
		chk.verdict = IMS_CLICK_CLEAN;
		verdict = "continue";
	}
	if (rc) {
		struct ims_click_event ev = {
		    .scan_id = tok.scan_id,
		    .user = tok.user,
		    .url = tok.url,
		    .verdict = verdict,
		    .reason = chk.reason,
		    .ip = r->ip,
		    .time_ms = now_ms,
		};

		if (ims_click_record(rc, &ev, c->redis_retention_days) != IMS_OK) {
			ims_req_store_failed(r, IMS_ETEMP);
			ims_log_warn(r->id, "event=click_not_recorded scan=%s", tok.scan_id);
		}
	}
	r->location = location(tok.url);
	{
		/* the recipient came from the SMTP envelope: an unquoted log value */
		char user[IMS_LINKTOKEN_USER_MAX + 1];

		snprintf(user, sizeof user, "%s", tok.user[0] ? tok.user : "-");
		for (char *p = user; *p; p++)
			if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '\\' || *p == '=')
				*p = '?';
		ims_log_info(r->id, "event=click scan=%s user=%s verdict=%s url=\"%.300s\"",
		             tok.scan_id, user, verdict, r->location ? r->location : "?");
	}
	switch (chk.verdict) {
	case IMS_CLICK_CLEAN:
		if (!r->location) {
			page(r, 500, "Out of memory", "Try again later.", NULL, NULL, NULL);
			break;
		}
		ims_req_empty(r, 302);
		break;
	case IMS_CLICK_WARN: {
		struct ims_linktoken ct = tok;

		ct.kind = IMS_LINKTOKEN_CONTINUE;
		ct.issued = now_ms / 1000;
		if (ims_linktoken_sign(key, &ct, cont, sizeof cont) != IMS_OK)
			cont[0] = '\0';
		page(r, 200, "Careful: this link may be unsafe",
		     "ims could not confirm that the site is safe. Go on only if you trust it.",
		     tok.url, chk.reason, cont[0] ? cont : NULL);
		break;
	}
	case IMS_CLICK_BLOCK:
		page(r, 403, "This link is blocked",
		     "The site is listed as dangerous. It was not opened.", tok.url, chk.reason,
		     NULL);
		break;
	}
out:
	if (eng)
		ims_engine_unref(eng);
	ims_linkkey_free(key);
}

void ims_route_admin_clicks(struct ims_req *r)
{
	const char *scan = ims_req_query(r, "scan"), *user = ims_req_query(r, "user");
	int limit = ims_req_limit(r);
	struct ims_store *rc;
	char **v = NULL;
	size_t n = 0;
	json_t *items;
	ims_status st;

	if (limit < 0)
		return;
	if ((!scan) == (!user) || (scan && !*scan) || (user && !*user)) {
		ims_req_error(r, 400, "give one of ?scan=ID or ?user=ADDR");
		return;
	}
	if (!(rc = ims_req_store(r)))
		return;
	if (user) { /* recipients are kept lower case, as mailbox keys are */
		char *low = g_ascii_strdown(user, -1);

		st = ims_clicks_list(rc, 1, low, (size_t)limit, &v, &n);
		g_free(low);
	} else {
		st = ims_clicks_list(rc, 0, scan, (size_t)limit, &v, &n);
	}
	if (st == IMS_EINVAL) {
		ims_req_error(r, 400, "scan id or address too long");
		return;
	}
	if (st != IMS_OK) {
		ims_req_store_failed(r, IMS_ETEMP);
		return;
	}
	items = json_array();
	for (size_t i = 0; items && i < n; i++) {
		json_t *j = json_loads(v[i], 0, NULL);

		if (j)
			json_array_append_new(items, j);
	}
	ims_clicks_free(v, n);
	ims_req_json(r, 200, items ? json_pack("{s:o}", "items", items) : NULL);
}
