#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "dns.h"
#include "dnsbl.h"
#include "orgdomain.h"
#include "symbols.h"

#define RR_A 1

/* One zone of one target with the rules that read its answers. */
struct list {
	enum ims_dnsbl_target target;
	char zone[254];
	const struct ims_dnsbl_rule *rules[IMS_DNSBL_MAX_RULES];
	size_t nrules;
};

struct ims_dnsbl {
	struct ims_dnsbl_rule rules[IMS_DNSBL_MAX_RULES];
	size_t nrules;
	struct list lists[IMS_DNSBL_MAX_RULES];
	size_t nlists;
	int max_lookups;
	double fail_weight, limit_weight;
};

static int symbol_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int zone_ok(const char *z)
{
	size_t n = strlen(z), label = 0;

	if (n == 0 || n > 200)
		return 0;
	for (const char *p = z; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		           (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0;
}

ims_status ims_dnsbl_rule_parse(const char *text, struct ims_dnsbl_rule *out, char *why,
                                size_t whylen)
{
	const char *eq = strchr(text, '='), *colon, *wcolon;
	size_t zlen;
	char code[64], *end;

	memset(out, 0, sizeof *out);
	if (!eq)
		goto bad;
	colon = memchr(text, ':', (size_t)(eq - text));
	zlen = (size_t)((colon ? colon : eq) - text);
	if (zlen == 0 || zlen >= sizeof out->zone)
		goto bad;
	memcpy(out->zone, text, zlen);
	if (!zone_ok(out->zone)) {
		snprintf(why, whylen, "'%s': '%s' is not a DNS zone", text, out->zone);
		return IMS_EINVAL;
	}
	if (colon) {
		size_t clen = (size_t)(eq - colon - 1);
		struct in_addr a;

		if (clen == 0 || clen >= sizeof code)
			goto bad;
		memcpy(code, colon + 1, clen);
		code[clen] = '\0';
		if (code[0] == '&') {
			unsigned long m;

			errno = 0;
			m = strtoul(code + 1, &end, 0);
			if (errno || end == code + 1 || *end || m == 0 || m > 255) {
				snprintf(why, whylen, "'%s': mask '%s' is not &1..&255", text,
				         code);
				return IMS_EINVAL;
			}
			out->code_kind = IMS_DNSBL_MASK;
			out->code = (uint32_t)m;
		} else if (inet_pton(AF_INET, code, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127) {
			out->code_kind = IMS_DNSBL_EXACT;
			out->code = ntohl(a.s_addr);
		} else {
			snprintf(why, whylen,
			         "'%s': code '%s' is not an address in 127.0.0.0/8 or &MASK", text,
			         code);
			return IMS_EINVAL;
		}
	}
	wcolon = strchr(eq + 1, ':');
	if (!wcolon || wcolon == eq + 1 || (size_t)(wcolon - eq - 1) > IMS_DNSBL_SYMBOL_MAX)
		goto bad;
	memcpy(out->symbol, eq + 1, (size_t)(wcolon - eq - 1));
	for (const char *p = out->symbol; *p; p++)
		if (!symbol_char(*p)) {
			snprintf(why, whylen, "'%s': symbol '%s' may hold only A-Z, 0-9 and _",
			         text, out->symbol);
			return IMS_EINVAL;
		}
	if (ims_symbol_find(out->symbol) >= 0) {
		snprintf(why, whylen, "'%s': %s is a built-in symbol; give the list its own name",
		         text, out->symbol);
		return IMS_EINVAL;
	}
	errno = 0;
	out->weight = strtod(wcolon + 1, &end);
	if (errno || end == wcolon + 1 || *end || !isfinite(out->weight) ||
	    fabs(out->weight) > 1e6) {
		snprintf(why, whylen, "'%s': '%s' is not a weight", text, wcolon + 1);
		return IMS_EINVAL;
	}
	return IMS_OK;
bad:
	snprintf(why, whylen, "'%s': want ZONE[:CODE]=SYMBOL:WEIGHT", text);
	return IMS_EINVAL;
}

ims_status ims_dnsbl_ip_name(const char *ip, const char *zone, char *out, size_t outlen)
{
	unsigned char a[16];
	size_t at = 0;
	int n;

	if (!ip || !zone)
		return IMS_EINVAL;
	if (inet_pton(AF_INET, ip, a) == 1) {
		n = snprintf(out, outlen, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0], zone);
		return n < 0 || (size_t)n >= outlen ? IMS_ELIMIT : IMS_OK;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return IMS_EINVAL;
	/* an IPv4-mapped address is looked up as IPv4 */
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		n = snprintf(out, outlen, "%u.%u.%u.%u.%s", a[15], a[14], a[13], a[12], zone);
		return n < 0 || (size_t)n >= outlen ? IMS_ELIMIT : IMS_OK;
	}
	if (outlen < 64 + strlen(zone) + 1)
		return IMS_ELIMIT;
	for (int i = 15; i >= 0; i--) {
		static const char hex[] = "0123456789abcdef";

		out[at++] = hex[a[i] & 0xf];
		out[at++] = '.';
		out[at++] = hex[a[i] >> 4];
		out[at++] = '.';
	}
	snprintf(out + at, outlen - at, "%s", zone);
	return IMS_OK;
}

ims_status ims_dnsbl_domain_name(const char *domain, const char *zone, char *out, size_t outlen)
{
	int n;

	if (!domain || !*domain || !zone)
		return IMS_EINVAL;
	n = snprintf(out, outlen, "%s.%s", domain, zone);
	if (n < 0 || (size_t)n >= outlen || n > 253)
		return IMS_ELIMIT;
	return IMS_OK;
}

static ims_status add_rules(struct ims_dnsbl *b, enum ims_dnsbl_target target, char **items,
                            const char *key, char *err, size_t errlen)
{
	for (char **p = items; p && *p; p++) {
		struct ims_dnsbl_rule *r;
		struct list *l = NULL;
		char why[300];

		if (b->nrules >= IMS_DNSBL_MAX_RULES) {
			snprintf(err, errlen, "[dnsbl]: more than %d rules", IMS_DNSBL_MAX_RULES);
			return IMS_ELIMIT;
		}
		r = &b->rules[b->nrules];
		if (ims_dnsbl_rule_parse(*p, r, why, sizeof why) != IMS_OK) {
			snprintf(err, errlen, "[dnsbl] %s: %s", key, why);
			return IMS_EINVAL;
		}
		b->nrules++;
		for (size_t i = 0; i < b->nlists && !l; i++)
			if (b->lists[i].target == target &&
			    strcasecmp(b->lists[i].zone, r->zone) == 0)
				l = &b->lists[i];
		if (!l) {
			l = &b->lists[b->nlists++];
			l->target = target;
			memcpy(l->zone, r->zone, sizeof l->zone);
		}
		l->rules[l->nrules++] = r;
	}
	return IMS_OK;
}

ims_status ims_dnsbl_new(const struct ims_conf *conf, struct ims_dnsbl **out, char *err,
                         size_t errlen)
{
	struct ims_dnsbl *b;
	ims_status rc;

	*out = NULL;
	if (!conf || (!(conf->dnsbl_client && *conf->dnsbl_client) &&
	              !(conf->dnsbl_helo && *conf->dnsbl_helo) &&
	              !(conf->dnsbl_domain && *conf->dnsbl_domain)))
		return IMS_OK;
	if (!(b = calloc(1, sizeof *b)))
		return IMS_ENOMEM;
	b->max_lookups = conf->dnsbl_max_lookups;
	b->fail_weight = ims_conf_score(conf, "DNSBL_FAIL");
	b->limit_weight = ims_conf_score(conf, "DNSBL_LIMIT");
	if ((rc = add_rules(b, IMS_DNSBL_CLIENT, conf->dnsbl_client, "client", err, errlen)) ||
	    (rc = add_rules(b, IMS_DNSBL_HELO, conf->dnsbl_helo, "helo", err, errlen)) ||
	    (rc = add_rules(b, IMS_DNSBL_DOMAIN, conf->dnsbl_domain, "domain", err, errlen))) {
		free(b);
		return rc;
	}
	*out = b;
	return IMS_OK;
}

void ims_dnsbl_free(struct ims_dnsbl *b)
{
	free(b);
}

/* One lookup of one message. */
struct lookup {
	const struct list *list;
	size_t list_index;
	char name[256]; /* the query */
	char what[254]; /* what was looked up (the address or domain) */
	ims_status st;
	uint32_t codes[8];
	size_t ncodes;
};

/* The A records of an answer, as host-order addresses. */
static void read_codes(struct lookup *l, const struct ub_result *res)
{
	for (size_t i = 0; res && res->data[i] && l->ncodes < 8; i++)
		if (res->len[i] == 4) {
			const unsigned char *d = (const unsigned char *)res->data[i];
			l->codes[l->ncodes++] = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
			                        (uint32_t)d[2] << 8 | d[3];
		}
}

/* Adds the lookup of what (an address for client lists, a domain else) in
 * every list of target; counts what did not fit in max. */
static void plan(const struct ims_dnsbl *b, enum ims_dnsbl_target target, const char *what,
                 struct lookup *lk, size_t *n, size_t max, size_t *skipped)
{
	for (size_t i = 0; i < b->nlists; i++) {
		const struct list *l = &b->lists[i];
		char name[256];
		int dup = 0;

		if (l->target != target)
			continue;
		if ((target == IMS_DNSBL_CLIENT
		         ? ims_dnsbl_ip_name(what, l->zone, name, sizeof name)
		         : ims_dnsbl_domain_name(what, l->zone, name, sizeof name)) != IMS_OK)
			continue;
		for (size_t j = 0; j < *n && !dup; j++)
			dup = lk[j].list == l && strcasecmp(lk[j].name, name) == 0;
		if (dup)
			continue;
		if (*n >= max) {
			(*skipped)++;
			continue;
		}
		lk[*n] = (struct lookup){.list = l, .list_index = i, .st = IMS_ENOTFOUND};
		snprintf(lk[*n].name, sizeof lk[*n].name, "%s", name);
		snprintf(lk[*n].what, sizeof lk[*n].what, "%s", what);
		(*n)++;
	}
}

static void plan_domain(const struct ims_dnsbl *b, enum ims_dnsbl_target target, const char *host,
                        struct lookup *lk, size_t *n, size_t max, size_t *skipped)
{
	char org[254];

	if (host && *host && ims_orgdomain(host, org, sizeof org) == IMS_OK)
		plan(b, target, org, lk, n, max, skipped);
}

static int rule_matches(const struct ims_dnsbl_rule *r, uint32_t code)
{
	switch (r->code_kind) {
	case IMS_DNSBL_ANY: return 1;
	case IMS_DNSBL_EXACT: return code == r->code;
	case IMS_DNSBL_MASK: return (code & 0xff & r->code) != 0;
	}
	return 0;
}

static void report(const struct ims_dnsbl *b, const struct lookup *l, int *fail_reported,
                   ims_dnsbl_emit emit, void *arg)
{
	char detail[640];

	if (l->st == IMS_ETEMP) {
		snprintf(detail, sizeof detail, "zone=%s error=no answer", l->list->zone);
		goto fail;
	}
	for (size_t i = 0; l->st == IMS_OK && i < l->ncodes; i++) {
		uint32_t c = l->codes[i];

		if ((c >> 24) != 127 || (c >> 8) == 0x7fffff) {
			snprintf(detail, sizeof detail, "zone=%s error=code %u.%u.%u.%u",
			         l->list->zone, c >> 24, (c >> 16) & 0xff, (c >> 8) & 0xff,
			         c & 0xff);
			goto fail;
		}
		for (size_t j = 0; j < l->list->nrules; j++)
			if (rule_matches(l->list->rules[j], c)) {
				snprintf(detail, sizeof detail, "%s listed in %s (%u.%u.%u.%u)",
				         l->what, l->list->zone, c >> 24, (c >> 16) & 0xff,
				         (c >> 8) & 0xff, c & 0xff);
				emit(arg, l->list->rules[j]->symbol, l->list->rules[j]->weight,
				     detail);
			}
	}
	return;
fail:
	if (!fail_reported[l->list_index]) {
		fail_reported[l->list_index] = 1;
		emit(arg, "DNSBL_FAIL", b->fail_weight, detail);
	}
}

void ims_dnsbl_check(const struct ims_dnsbl *b, struct ims_dns *dns,
                     const struct ims_dnsbl_input *in, ims_dnsbl_emit emit, void *arg)
{
	struct lookup *lk;
	const char **names = NULL;
	ims_status *st = NULL;
	struct ub_result **res = NULL;
	size_t max, n = 0, skipped = 0;
	int fail_reported[IMS_DNSBL_MAX_RULES] = {0};

	if (!b || !dns || !in || b->max_lookups <= 0)
		return;
	max = (size_t)b->max_lookups;
	if (!(lk = calloc(max, sizeof *lk)))
		return;
	if (in->client_ip && *in->client_ip)
		plan(b, IMS_DNSBL_CLIENT, in->client_ip, lk, &n, max, &skipped);
	if (in->helo && *in->helo && in->helo[0] != '[')
		plan_domain(b, IMS_DNSBL_HELO, in->helo, lk, &n, max, &skipped);
	if (in->from_domain)
		plan_domain(b, IMS_DNSBL_DOMAIN, in->from_domain, lk, &n, max, &skipped);
	for (size_t i = 0; i < in->nhosts; i++)
		plan_domain(b, IMS_DNSBL_DOMAIN, in->hosts[i], lk, &n, max, &skipped);

	/* every lookup at once, one wait (at most one [dns] timeout) */
	if (n && (names = calloc(n, sizeof *names)) && (st = calloc(n, sizeof *st)) &&
	    (res = calloc(n, sizeof *res))) {
		for (size_t i = 0; i < n; i++)
			names[i] = lk[i].name;
		if (ims_dns_query_many(dns, names, n, RR_A, st, res) == IMS_OK) {
			for (size_t i = 0; i < n; i++) {
				lk[i].st = st[i];
				if (st[i] == IMS_OK)
					read_codes(&lk[i], res[i]);
				if (res[i])
					ub_resolve_free(res[i]);
				report(b, &lk[i], fail_reported, emit, arg);
			}
		}
	}
	if (skipped) {
		char detail[96];

		snprintf(detail, sizeof detail, "max_lookups=%d skipped=%zu", b->max_lookups,
		         skipped);
		emit(arg, "DNSBL_LIMIT", b->limit_weight, detail);
	}
	free(names);
	free(st);
	free(res);
	free(lk);
}
