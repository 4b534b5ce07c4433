#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "log.h"
#include "spf.h"

struct ims_auth {
	struct ims_dns *dns;
	struct ims_spf *spf;
	struct ims_dkim *dkim;
	struct ims_dmarc *dmarc;
	char **trusted; /* borrowed from the conf the engine holds */
};

static long since_us(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (long)((b.tv_sec - a->tv_sec) * 1000000L + (b.tv_nsec - a->tv_nsec) / 1000L);
}

void ims_auth_free(struct ims_auth *a)
{
	if (!a)
		return;
	ims_spf_free(a->spf);
	ims_dkim_free(a->dkim);
	ims_dmarc_free(a->dmarc);
	ims_dns_free(a->dns);
	free(a);
}

struct ims_dns *ims_auth_dns(struct ims_auth *a)
{
	return a->dns;
}

ims_status ims_auth_new(const struct ims_conf *conf, struct ims_auth **out, char *err,
                        size_t errlen)
{
	struct ims_auth *a = calloc(1, sizeof *a);
	ims_status rc = IMS_ENOMEM;

	*out = NULL;
	if (!a)
		goto out;
	a->trusted = conf->milter_trusted_networks;
	rc = ims_dns_new(conf, &a->dns, err, errlen);
	if (rc != IMS_OK)
		goto out;
	rc = ims_spf_new(a->dns, &a->spf);
	if (rc != IMS_OK) {
		snprintf(err, errlen, "SPF: %s", ims_strstatus(rc));
		goto out;
	}
	rc = ims_dkim_new(a->dns, conf, &a->dkim, err, errlen);
	if (rc != IMS_OK)
		goto out;
	rc = ims_dmarc_new(a->dns, &a->dmarc);
	if (rc != IMS_OK) {
		snprintf(err, errlen, "DMARC: %s", ims_strstatus(rc));
		goto out;
	}
	*out = a;
	a = NULL;
out:
	ims_auth_free(a);
	return rc;
}

/* 1 when ip lies in one of the CIDRs ("10.0.0.0/8", "2001:db8::/32", or a
 * bare address). */
static int ip_in_list(const char *ip, char *const *cidrs)
{
	unsigned char addr[16], net[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	if (!cidrs || inet_pton(fam, ip, addr) != 1)
		return 0;
	for (; *cidrs; cidrs++) {
		char buf[64];
		char *slash;
		int bits = fam == AF_INET ? 32 : 128, nfam;
		snprintf(buf, sizeof buf, "%s", *cidrs);
		slash = strchr(buf, '/');
		if (slash) {
			*slash = '\0';
			bits = (int)strtol(slash + 1, NULL, 10);
		}
		nfam = strchr(buf, ':') ? AF_INET6 : AF_INET;
		if (nfam != fam || inet_pton(fam, buf, net) != 1 || bits < 0 ||
		    bits > (fam == AF_INET ? 32 : 128))
			continue;
		int i = 0, match = 1;
		for (; bits >= 8; bits -= 8, i++)
			if (addr[i] != net[i])
				match = 0;
		if (match && bits > 0) {
			unsigned char mask = (unsigned char)(0xFF << (8 - bits));
			match = (addr[i] & mask) == (net[i] & mask);
		}
		if (match)
			return 1;
	}
	return 0;
}

static void check_spf(struct ims_auth *a, const struct ims_auth_input *in,
                      struct ims_auth_result *res, struct ims_spf_outcome *outcome,
                      ims_auth_emit emit, void *arg)
{
	static const char *const symbol[] = {
	    [IMS_SPF_NONE] = "SPF_NONE",           [IMS_SPF_NEUTRAL] = "SPF_NEUTRAL",
	    [IMS_SPF_PASS] = "SPF_PASS",           [IMS_SPF_FAIL] = "SPF_FAIL",
	    [IMS_SPF_SOFTFAIL] = "SPF_SOFTFAIL",   [IMS_SPF_TEMPERROR] = "SPF_TEMPERROR",
	    [IMS_SPF_PERMERROR] = "SPF_PERMERROR",
	};
	struct ims_spf_outcome o;
	struct timespec t;
	char detail[320];

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (!in->client_ip || !*in->client_ip ||
	    ims_spf_check(a->spf, in->client_ip, in->helo, in->mail_from, &o) != IMS_OK) {
		memset(&o, 0, sizeof o);
		o.result = IMS_SPF_NONE;
	}
	res->spf_us = since_us(&t);
	snprintf(res->spf, sizeof res->spf, "%s", ims_spf_result_name(o.result));
	snprintf(res->spf_domain, sizeof res->spf_domain, "%s",
	         in->mail_from && *in->mail_from ? in->mail_from : o.domain);
	res->spf_helo = o.helo;
	snprintf(detail, sizeof detail, "ip=%s domain=%s", in->client_ip ? in->client_ip : "",
	         o.domain);
	if ((unsigned)o.result < sizeof symbol / sizeof symbol[0])
		emit(arg, symbol[o.result], detail);
	*outcome = o;
}

static void check_dkim(struct ims_auth *a, const struct ims_auth_input *in,
                       struct ims_auth_result *res, struct ims_dkim_result *out, ims_auth_emit emit,
                       void *arg)
{
	struct ims_dkim_result r;
	struct timespec t;
	char detail[640];
	const char *sym = "DKIM_NONE";

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (ims_dkim_verify(a->dkim, in->raw, in->len, &r) != IMS_OK)
		r.count = 0;
	res->dkim_us = since_us(&t);
	detail[0] = '\0';
	for (size_t i = 0; i < r.count && res->ndkim < IMS_AUTH_MAX_SIGS; i++) {
		struct ims_auth_sig *sg = &res->dkim[res->ndkim++];
		snprintf(sg->domain, sizeof sg->domain, "%s", r.sigs[i].domain);
		snprintf(sg->selector, sizeof sg->selector, "%s", r.sigs[i].selector);
		snprintf(sg->result, sizeof sg->result, "%s",
		         ims_dkim_result_name(r.sigs[i].result));
		if (i == 0)
			snprintf(detail, sizeof detail, "d=%.255s s=%.127s %.127s",
			         r.sigs[i].domain, r.sigs[i].selector, r.sigs[i].reason);
	}
	switch (ims_dkim_summary(&r)) {
	case IMS_DKIM_PASS: sym = "DKIM_VALID"; break;
	case IMS_DKIM_FAIL: sym = "DKIM_INVALID"; break;
	case IMS_DKIM_TEMPERROR: sym = "DKIM_TEMPERROR"; break;
	case IMS_DKIM_NEUTRAL:
	case IMS_DKIM_PERMERROR: sym = "DKIM_PERMERROR"; break;
	default: break;
	}
	emit(arg, sym, detail);
	*out = r;
}

static void check_dmarc(struct ims_auth *a, const struct ims_auth_input *in,
                        struct ims_auth_result *res, const struct ims_spf_outcome *spf,
                        const struct ims_dkim_result *dkim, ims_auth_emit emit, void *arg)
{
	struct ims_dmarc_outcome o;
	struct timespec t;
	const char *sym = "DMARC_NONE";
	char detail[400];

	if (!in->from_domain || !*in->from_domain)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (ims_dmarc_check(a->dmarc, in->client_ip, in->from_domain, spf, dkim, &o) != IMS_OK) {
		res->dmarc_us = since_us(&t);
		snprintf(res->dmarc, sizeof res->dmarc, "permerror");
		return;
	}
	res->dmarc_us = since_us(&t);
	snprintf(res->dmarc, sizeof res->dmarc, "%s", ims_dmarc_result_name(o.result));
	res->dmarc_pct = o.pct;
	if (o.policy != IMS_DMARC_POLICY_ABSENT)
		snprintf(res->dmarc_policy, sizeof res->dmarc_policy, "%s",
		         ims_dmarc_policy_name(o.policy));
	snprintf(res->from_domain, sizeof res->from_domain, "%s", o.domain);
	switch (o.result) {
	case IMS_DMARC_PASS: sym = "DMARC_PASS"; break;
	case IMS_DMARC_TEMPERROR: sym = "DMARC_TEMPERROR"; break;
	case IMS_DMARC_FAIL:
		sym = o.policy == IMS_DMARC_POLICY_REJECT       ? "DMARC_POLICY_REJECT"
		      : o.policy == IMS_DMARC_POLICY_QUARANTINE ? "DMARC_POLICY_QUARANTINE"
		      : o.policy == IMS_DMARC_POLICY_NONE       ? "DMARC_POLICY_NONE"
		                                                : "DMARC_NONE";
		break;
	default: break;
	}
	snprintf(detail, sizeof detail, "%.255s %.140s", o.domain, o.reason);
	emit(arg, sym, detail);
}

void ims_auth_check(struct ims_auth *a, const struct ims_auth_input *in,
                    struct ims_auth_result *res, ims_auth_emit emit, void *arg)
{
	struct ims_spf_outcome spf;
	struct ims_dkim_result dkim;

	res->ndkim = 0;
	res->dmarc_pct = 100;
	res->spf[0] = res->dmarc[0] = res->dmarc_policy[0] = '\0';
	if (in->client_ip && ip_in_list(in->client_ip, a->trusted)) {
		snprintf(res->spf, sizeof res->spf, "none");
		return; /* a configured trusted network: no sender checks */
	}
	check_spf(a, in, res, &spf, emit, arg);
	check_dkim(a, in, res, &dkim, emit, arg);
	check_dmarc(a, in, res, &spf, &dkim, emit, arg);
}

ims_status ims_auth_sign(struct ims_auth *a, const char *raw, size_t len, const char *domain,
                         char **header)
{
	*header = NULL;
	return ims_dkim_sign(a->dkim, raw, len, domain, header);
}
