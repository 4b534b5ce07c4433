/* Links at click time, the delivery side: see links.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "linkrewrite.h"
#include "links.h"
#include "linktoken.h"
#include "log.h"
#include "scan_internal.h"

char *ims_links_click_url(const char *click_url, const struct ims_linkkey *key, const char *scan_id,
                          const char *user, const char *url, unsigned long long issued)
{
	struct ims_linktoken t = {.kind = IMS_LINKTOKEN_CLICK, .issued = issued};
	char tok[IMS_LINKTOKEN_MAX + 1], *out;
	size_t n;

	if (strlen(url) > IMS_LINKTOKEN_URL_MAX || strlen(user) > IMS_LINKTOKEN_USER_MAX ||
	    strlen(scan_id) > IMS_LINKTOKEN_SCAN_MAX)
		return NULL;
	snprintf(t.scan_id, sizeof t.scan_id, "%s", scan_id);
	snprintf(t.user, sizeof t.user, "%s", user);
	snprintf(t.url, sizeof t.url, "%s", url);
	if (ims_linktoken_sign(key, &t, tok, sizeof tok) != IMS_OK)
		return NULL;
	n = strlen(click_url) + 3 + strlen(tok) + 1;
	if (!(out = malloc(n)))
		return NULL;
	snprintf(out, n, "%s%st=%s", click_url, strchr(click_url, '?') ? "&" : "?", tok);
	return out;
}

struct mk {
	const char *click_url;
	const struct ims_linkkey *key;
	const char *scan_id, *user;
	unsigned long long issued;
};

static char *make(void *arg, const char *url)
{
	const struct mk *m = arg;

	return ims_links_click_url(m->click_url, m->key, m->scan_id, m->user, url, m->issued);
}

static int wanted(const struct ims_conf *c, const struct ims_scan *s)
{
	if (s->outbound || !c->links_click_url || !*c->links_click_url || !c->links_key_file ||
	    !*c->links_key_file || strcmp(c->links_rewrite, "off") == 0)
		return 0;
	if (s->action == IMS_ACTION_TAG)
		return 1;
	return s->action == IMS_ACTION_ACCEPT && strcmp(c->links_rewrite, "all") == 0;
}

/* The reason may quote the message (a charset name, a link): in the log
 * line it cannot end the value or the line. */
static void not_rewritten(struct ims_scan *s, const char *why)
{
	char clean[200];

	snprintf(clean, sizeof clean, "%s", why);
	for (char *p = clean; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			*p = '?';
	ims_scan_add_symbol(s, "LINKS_NOT_REWRITTEN",
	                    ims_conf_score(s->conf, "LINKS_NOT_REWRITTEN"), clean);
	ims_log_notice(s->id, "event=links_not_rewritten reason=\"%s\"", clean);
}

ims_status ims_links_rewrite(struct ims_engine *eng, struct ims_scan *s, const char *raw,
                             size_t len, int can_replace, char **body, size_t *body_len, int *to_qp)
{
	const struct ims_conf *c = ims_engine_conf(eng);
	struct ims_linkkey *key = NULL;
	struct ims_linkrewrite_stats st;
	struct mk m;
	char err[300], detail[64];
	ims_status rc;

	*body = NULL;
	*body_len = 0;
	*to_qp = 0;
	if (!wanted(c, s))
		return IMS_ENOTFOUND;
	/* the scan's parse answers whether there is a URL in the decoded body
	 * (raw bytes do not tell: base64, quoted-printable soft breaks) */
	if (!s->maybe_links)
		return IMS_ENOTFOUND;
	if (!can_replace) {
		not_rewritten(s, "the MTA does not let the milter replace the body");
		return IMS_EPERM;
	}
	rc = ims_linkkey_load(c->links_key_file, &key, err, sizeof err);
	if (rc != IMS_OK) {
		ims_log_err(s->id, "event=links_key error=\"%s\"", err);
		not_rewritten(s, "the link key could not be read");
		return rc;
	}
	m = (struct mk){
	    .click_url = c->links_click_url,
	    .key = key,
	    .scan_id = s->id,
	    .user = s->nrcpts == 1 ? s->rcpts[0] : "",
	    .issued = (unsigned long long)(s->time / 1000),
	};
	rc = ims_linkrewrite_message(raw, len, (size_t)c->links_max_links, make, &m, body, body_len,
	                             &st);
	ims_linkkey_free(key);
	if (rc == IMS_OK) {
		*to_qp = st.to_qp;
		snprintf(detail, sizeof detail, "%zu links in %zu parts", st.links, st.parts);
		ims_scan_add_symbol(s, "LINKS_REWRITTEN",
		                    ims_conf_score(s->conf, "LINKS_REWRITTEN"), detail);
	} else if (rc != IMS_ENOTFOUND && rc != IMS_ENOMEM) {
		not_rewritten(s, st.reason[0] ? st.reason : ims_strstatus(rc));
	}
	return rc;
}
