#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "dnsbl.h"
#include "heuristics.h"
#include "intel.h"
#include "netaddr.h"
#include "reputation.h"
#include "urls.h"

struct ims_reputation {
	struct ims_dnsbl *dnsbl; /* NULL: no DNS lists */
	struct ims_intel *intel; /* NULL: no intel dir */
	double block_weight, allow_weight;
};

ims_status ims_reputation_new(const struct ims_conf *conf, struct ims_reputation **out, char *err,
                              size_t errlen)
{
	struct ims_reputation *r = calloc(1, sizeof *r);
	ims_status rc;

	*out = NULL;
	if (!r)
		return IMS_ENOMEM;
	r->block_weight = ims_conf_score(conf, "INTEL_BLOCK");
	r->allow_weight = ims_conf_score(conf, "INTEL_ALLOW");
	rc = ims_dnsbl_new(conf, &r->dnsbl, err, errlen);
	if (rc == IMS_OK && conf->intel_dir && *conf->intel_dir)
		rc = ims_intel_new(conf->intel_dir, conf->intel_max_entries, &r->intel);
	if (rc != IMS_OK) {
		ims_reputation_free(r);
		return rc;
	}
	*out = r;
	return IMS_OK;
}

void ims_reputation_free(struct ims_reputation *r)
{
	if (!r)
		return;
	ims_dnsbl_free(r->dnsbl);
	ims_intel_free(r->intel);
	free(r);
}

struct ims_intel *ims_reputation_intel(struct ims_reputation *r)
{
	return r ? r->intel : NULL;
}

struct ctx {
	const struct ims_reputation *r;
	const struct ims_intel_set *set;
	ims_reputation_emit emit;
	void *arg;
	int blocked;
};

static void hit(struct ctx *c, int allow, const struct ims_intel_hit *h, const char *what)
{
	char detail[400];

	snprintf(detail, sizeof detail, "list=%s entry=%s (%s)", h->list, h->entry, what);
	c->emit(c->arg, allow ? "INTEL_ALLOW" : "INTEL_BLOCK",
	        allow ? c->r->allow_weight : c->r->block_weight, detail);
	if (!allow)
		c->blocked = 1;
}

static void block_domain(struct ctx *c, const char *domain, const char *what)
{
	struct ims_intel_hit h;

	if (domain && *domain && ims_intel_match_domain(c->set, 0, domain, &h))
		hit(c, 0, &h, what);
}

/* The SHA-256 of every attachment (decoded) as the scan's one parse sees
 * them (classifier/message.h: every part that is not body text, at most
 * IMS_MIME_MAX_ATTACHMENTS), read from the parsed tree. */
static void hash_attachments(struct ctx *c, const struct ims_parsed *parsed)
{
	const struct ims_attachment *atts;
	size_t n = ims_parsed_attachments(parsed, &atts);

	for (size_t i = 0; i < n; i++) {
		unsigned char digest[crypto_hash_sha256_BYTES];
		char hex[crypto_hash_sha256_BYTES * 2 + 1];
		struct ims_intel_hit h;
		char *bytes = NULL;
		size_t len = 0;
		bool cut = false;

		/* no part decodes to more than the message it is in */
		if (ims_parsed_attachment_content(parsed, i, IMS_MIME_MAX_MESSAGE, &bytes, &len,
		                                  &cut) != IMS_OK)
			continue;
		crypto_hash_sha256(digest, (const unsigned char *)bytes, len);
		free(bytes);
		if (cut)
			continue;
		sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
		for (int allow = 0; allow <= 1; allow++)
			if (ims_intel_match_sha256(c->set, allow, hex, &h)) {
				char what[160];

				snprintf(what, sizeof what, "attachment %.100s",
				         atts[i].filename[0] ? atts[i].filename : "(no name)");
				hit(c, allow, &h, what);
				break;
			}
	}
}

static void intel_check(struct ctx *c, const struct ims_reputation_input *in)
{
	struct ims_intel_hit h;
	const char *at = in->mail_from ? strrchr(in->mail_from, '@') : NULL;

	if (!in->client_trusted && in->client_ip &&
	    ims_intel_match_ip(c->set, 0, in->client_ip, &h))
		hit(c, 0, &h, "client");
	if (!in->client_trusted && in->helo && in->helo[0] != '[')
		block_domain(c, in->helo, "HELO");
	if (at)
		block_domain(c, at + 1, "envelope sender");
	block_domain(c, in->from_domain, "From");
	for (size_t i = 0; i < in->nlinks; i++) {
		struct ims_url_host uh;

		if (ims_intel_match_url(c->set, 0, in->links[i].href, &h)) {
			hit(c, 0, &h, "link");
			continue;
		}
		if (ims_url_host(in->links[i].href, strlen(in->links[i].href), &uh) != IMS_OK)
			continue;
		if (uh.flags & IMS_URL_IP) {
			if (ims_intel_match_ip(c->set, 0, uh.host, &h))
				hit(c, 0, &h, "link");
		} else {
			block_domain(c, uh.host, "link");
		}
	}
	if (in->parsed && ims_intel_has_hashes(c->set))
		hash_attachments(c, in->parsed);
	if (c->blocked)
		return; /* a block entry is not undone by an allow entry */
	if (!in->client_trusted && in->client_ip &&
	    ims_intel_match_ip(c->set, 1, in->client_ip, &h))
		hit(c, 1, &h, "client");
	else if (in->dmarc_pass && in->from_domain && *in->from_domain &&
	         ims_intel_match_domain(c->set, 1, in->from_domain, &h))
		hit(c, 1, &h, "From, DMARC pass");
}

/* Addresses no public DNS list knows, and that should not leave the site in
 * a query: loopback, private, shared (CGNAT), link-local, unique local. */
static char *const non_global[] = {
    "127.0.0.0/8",    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
    "169.254.0.0/16", "::1/128",    "fc00::/7",      "fe80::/10",      NULL,
};

void ims_reputation_check(struct ims_reputation *r, struct ims_dns *dns,
                          const struct ims_reputation_input *in, ims_reputation_emit emit,
                          void *arg)
{
	if (!r)
		return;
	if (r->intel) {
		struct ims_intel_set *set = ims_intel_acquire(r->intel);
		struct ctx c = {.r = r, .set = set, .emit = emit, .arg = arg};

		intel_check(&c, in);
		ims_intel_set_unref(set);
	}
	if (r->dnsbl) {
		const char **hosts = NULL;
		char(*buf)[IMS_HEUR_MAX_HOST + 1] = NULL;
		size_t n = 0;
		struct ims_dnsbl_input din = {
		    .client_ip = in->client_trusted || ims_ip_in_cidrs(in->client_ip, non_global)
		                     ? NULL
		                     : in->client_ip,
		    .helo = in->client_trusted ? NULL : in->helo,
		    .from_domain = in->from_domain,
		};

		if (in->nlinks) {
			hosts = calloc(in->nlinks, sizeof *hosts);
			buf = calloc(in->nlinks, sizeof *buf);
		}
		for (size_t i = 0; hosts && buf && i < in->nlinks; i++) {
			struct ims_url_host uh;

			if (ims_url_host(in->links[i].href, strlen(in->links[i].href), &uh) ==
			        IMS_OK &&
			    !(uh.flags & IMS_URL_IP)) {
				memcpy(buf[n], uh.host, sizeof buf[n]);
				hosts[n] = buf[n], n++;
			}
		}
		din.hosts = hosts;
		din.nhosts = n;
		ims_dnsbl_check(r->dnsbl, dns, &din, emit, arg);
		free(hosts);
		free(buf);
	}
}
