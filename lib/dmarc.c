#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>

#include <opendmarc/dmarc.h>

#include "dkim.h"
#include "dmarc.h"
#include "orgdomain.h"
#include "dns.h"
#include "spf.h"

struct ims_dmarc {
	struct ims_dns *dns;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_ok;
static OPENDMARC_LIB_T lib_conf; /* libopendmarc keeps using it */

static void lib_start(void)
{
	memset(&lib_conf, 0, sizeof lib_conf);
	lib_conf.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
	snprintf((char *)lib_conf.tld_source_file, sizeof lib_conf.tld_source_file, "%s",
	         IMS_PUBLIC_SUFFIX_LIST);
	lib_ok = opendmarc_policy_library_init(&lib_conf) == DMARC_PARSE_OKAY;
}

ims_status ims_dmarc_new(struct ims_dns *dns, struct ims_dmarc **out)
{
	struct ims_dmarc *d;

	if (!dns || !out)
		return IMS_EINVAL;
	*out = NULL;
	pthread_once(&lib_once, lib_start);
	if (!lib_ok)
		return IMS_EIO;
	d = calloc(1, sizeof *d);
	if (!d)
		return IMS_ENOMEM;
	d->dns = dns;
	*out = d;
	return IMS_OK;
}

void ims_dmarc_free(struct ims_dmarc *dmarc)
{
	free(dmarc); /* the library state stays for the life of the process */
}

const char *ims_dmarc_result_name(enum ims_dmarc_res r)
{
	switch (r) {
	case IMS_DMARC_PASS: return "pass";
	case IMS_DMARC_FAIL: return "fail";
	case IMS_DMARC_TEMPERROR: return "temperror";
	case IMS_DMARC_PERMERROR: return "permerror";
	case IMS_DMARC_NONE: break;
	}
	return "none";
}

const char *ims_dmarc_policy_name(enum ims_dmarc_policy p)
{
	switch (p) {
	case IMS_DMARC_POLICY_NONE: return "none";
	case IMS_DMARC_POLICY_QUARANTINE: return "quarantine";
	case IMS_DMARC_POLICY_REJECT: return "reject";
	case IMS_DMARC_POLICY_ABSENT: break;
	}
	return "absent";
}

/* Looks up _dmarc.<domain>.  IMS_OK with *record (caller frees) when there
 * is exactly one DMARC record; IMS_ENOTFOUND when there is none;
 * IMS_EEXIST when there are several; IMS_ETEMP on DNS failure. */
static ims_status fetch_record(struct ims_dns *dns, const char *domain, char **record)
{
	char name[300], **v = NULL;
	ims_status rc;
	size_t found = 0;

	*record = NULL;
	if ((size_t)snprintf(name, sizeof name, "_dmarc.%s", domain) >= sizeof name)
		return IMS_ENOTFOUND;
	rc = ims_dns_txt(dns, name, &v);
	if (rc == IMS_EINVAL)
		return IMS_ENOTFOUND;
	if (rc != IMS_OK)
		return rc;
	for (size_t i = 0; v[i]; i++) {
		const char *s = v[i];

		while (*s == ' ' || *s == '\t')
			s++;
		/* RFC 7489 6.6.3: records that do not start with v=DMARC1 are discarded */
		if (strncmp(s, "v=DMARC1", 8) != 0)
			continue;
		if (s[8] != '\0' && s[8] != ';' && s[8] != ' ' && s[8] != '\t')
			continue;
		if (found++ == 0)
			*record = strdup(s);
	}
	ims_dns_strv_free(v);
	if (found == 0)
		return IMS_ENOTFOUND;
	if (found > 1) {
		free(*record);
		*record = NULL;
		return IMS_EEXIST;
	}
	return *record ? IMS_OK : IMS_ENOMEM;
}

static int spf_outcome(enum ims_spf_result r)
{
	switch (r) {
	case IMS_SPF_PASS: return DMARC_POLICY_SPF_OUTCOME_PASS;
	case IMS_SPF_FAIL:
	case IMS_SPF_SOFTFAIL: return DMARC_POLICY_SPF_OUTCOME_FAIL;
	case IMS_SPF_TEMPERROR: return DMARC_POLICY_SPF_OUTCOME_TMPFAIL;
	default: return DMARC_POLICY_SPF_OUTCOME_NONE;
	}
}

static int dkim_outcome(enum ims_dkim_res r)
{
	switch (r) {
	case IMS_DKIM_PASS: return DMARC_POLICY_DKIM_OUTCOME_PASS;
	case IMS_DKIM_FAIL: return DMARC_POLICY_DKIM_OUTCOME_FAIL;
	case IMS_DKIM_TEMPERROR: return DMARC_POLICY_DKIM_OUTCOME_TMPFAIL;
	default: return DMARC_POLICY_DKIM_OUTCOME_NONE;
	}
}

static enum ims_dmarc_policy map_policy(int p)
{
	switch (p) {
	case DMARC_RECORD_P_NONE: return IMS_DMARC_POLICY_NONE;
	case DMARC_RECORD_P_QUARANTINE: return IMS_DMARC_POLICY_QUARANTINE;
	case DMARC_RECORD_P_REJECT: return IMS_DMARC_POLICY_REJECT;
	default: return IMS_DMARC_POLICY_ABSENT;
	}
}

static int normalise_domain(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen || n > 253)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= ' ' || c == ';' || c == '@' || c == '"' || c == '\\')
			return -1;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return strstr(out, "..") || out[0] == '.' ? -1 : 0;
}

/* RFC 7489 3.2: the public suffix plus one label, from the one
 * implementation (lib/orgdomain.h; the list's implicit "*" rule makes the
 * last label of a TLD missing from the list, such as .test, the suffix).
 * A domain that has none (a public suffix itself) is its own. */
static void org_domain(const char *domain, char *out, size_t outlen)
{
	if (ims_orgdomain(domain, out, outlen) != IMS_OK)
		snprintf(out, outlen, "%s", domain);
}

#define REASON(...) snprintf(out->reason, sizeof out->reason, __VA_ARGS__)

ims_status ims_dmarc_check(struct ims_dmarc *dmarc, const char *client_ip, const char *from_domain,
                           const struct ims_spf_outcome *spf, const struct ims_dkim_result *dkim,
                           struct ims_dmarc_outcome *out)
{
	DMARC_POLICY_T *p = NULL;
	char *record = NULL;
	const char *org = NULL;
	ims_status rc, st;
	int any_temp = 0, dkim_al = 0, spf_al = 0, pol, pv = 0, spv = 0, pct = 100;

	if (!dmarc || !client_ip || !from_domain || !spf || !out)
		return IMS_EINVAL;
	memset(out, 0, sizeof *out);
	out->pct = 100;
	if (normalise_domain(from_domain, out->domain, sizeof out->domain) != 0)
		return IMS_EINVAL;
	org_domain(out->domain, out->org_domain, sizeof out->org_domain);

	/* the record: at the From domain, else at its organizational domain */
	st = fetch_record(dmarc->dns, out->domain, &record);
	if (st == IMS_ENOTFOUND && strcmp(out->org_domain, out->domain) != 0) {
		st = fetch_record(dmarc->dns, out->org_domain, &record);
		org = out->org_domain;
	}
	switch (st) {
	case IMS_OK: break;
	case IMS_ENOTFOUND: REASON("no DMARC record for %.100s", out->domain); return IMS_OK;
	case IMS_EEXIST:
		REASON("several DMARC records at _dmarc.%.100s", org ? org : out->domain);
		return IMS_OK;
	case IMS_ENOMEM: return IMS_ENOMEM;
	default:
		out->result = IMS_DMARC_TEMPERROR;
		REASON("DMARC record lookup failed temporarily");
		return IMS_OK;
	}
	snprintf(out->record_domain, sizeof out->record_domain, "%s", org ? org : out->domain);

	rc = IMS_ENOMEM;
	p = opendmarc_policy_connect_init((u_char *)client_ip, strchr(client_ip, ':')
	                                                           ? DMARC_POLICY_IP_TYPE_IPV6
	                                                           : DMARC_POLICY_IP_TYPE_IPV4);
	if (!p)
		goto out;
	if (opendmarc_policy_store_from_domain(p, (u_char *)out->domain) != DMARC_PARSE_OKAY) {
		rc = IMS_EINVAL;
		goto out;
	}
	if (opendmarc_policy_store_dmarc(p, (u_char *)record, (u_char *)out->domain,
	                                 (u_char *)org) != DMARC_PARSE_OKAY) {
		out->result = IMS_DMARC_PERMERROR;
		REASON("DMARC record at _dmarc.%.100s does not parse", out->record_domain);
		rc = IMS_OK;
		goto out;
	}
	if (spf->domain[0])
		opendmarc_policy_store_spf(p, (u_char *)spf->domain, spf_outcome(spf->result),
		                           spf->helo ? DMARC_POLICY_SPF_ORIGIN_HELO
		                                     : DMARC_POLICY_SPF_ORIGIN_MAILFROM,
		                           NULL);
	any_temp = spf->result == IMS_SPF_TEMPERROR;
	for (size_t i = 0; dkim && i < dkim->count && i < IMS_DKIM_MAX_SIGS; i++) {
		const struct ims_dkim_sig *s = &dkim->sigs[i];

		if (!s->domain[0])
			continue;
		opendmarc_policy_store_dkim(p, (u_char *)s->domain, (u_char *)s->selector,
		                            dkim_outcome(s->result), NULL);
		any_temp |= s->result == IMS_DKIM_TEMPERROR;
	}

	pol = opendmarc_get_policy_to_enforce(p);
	opendmarc_policy_fetch_alignment(p, &dkim_al, &spf_al);
	out->dkim_aligned = dkim_al == DMARC_POLICY_DKIM_ALIGNMENT_PASS;
	out->spf_aligned = spf_al == DMARC_POLICY_SPF_ALIGNMENT_PASS;
	opendmarc_policy_fetch_p(p, &pv);
	opendmarc_policy_fetch_sp(p, &spv);
	if (opendmarc_policy_fetch_pct(p, &pct) == DMARC_PARSE_OKAY)
		out->pct = pct;
	out->policy = map_policy(org && spv != DMARC_RECORD_P_UNSPECIFIED ? spv : pv);

	switch (pol) {
	case DMARC_POLICY_PASS:
		out->result = IMS_DMARC_PASS;
		REASON("aligned %s%s%s pass", out->spf_aligned ? "SPF" : "",
		       out->spf_aligned && out->dkim_aligned ? " and " : "",
		       out->dkim_aligned ? "DKIM" : "");
		break;
	case DMARC_POLICY_REJECT:
	case DMARC_POLICY_QUARANTINE:
	case DMARC_POLICY_NONE:
		if (any_temp) {
			out->result = IMS_DMARC_TEMPERROR;
			REASON("no aligned pass, and SPF or DKIM failed temporarily");
		} else {
			out->result = IMS_DMARC_FAIL;
			REASON("no aligned SPF or DKIM pass; policy %s",
			       ims_dmarc_policy_name(out->policy));
		}
		break;
	default: /* DMARC_POLICY_ABSENT or an error */
		out->result = IMS_DMARC_NONE;
		out->policy = IMS_DMARC_POLICY_ABSENT;
		REASON("no usable DMARC policy (libopendmarc status %d)", pol);
		break;
	}
	rc = IMS_OK;
out:
	if (p)
		opendmarc_policy_connect_shutdown(p);
	free(record);
	return rc;
}
