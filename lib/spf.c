#include "config.h"

/* spf2/spf.h needs the socket headers first */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

#include "dns.h"
#include "log.h"
#include "spf.h"

#define SPF_TYPE_SPF 99  /* the obsolete SPF RR type libspf2 asks for first */
#define MAX_SENDER   512 /* longest MAIL FROM / HELO we evaluate */

struct ims_spf {
	struct ims_dns *dns;
	SPF_dns_server_t layer; /* our DNS layer; SPF_server_free leaves it alone */
	SPF_server_t *server;
};

/* libspf2's error handler must not return.  While a check runs, this
 * thread's jump target turns an internal libspf2 error into a temperror
 * for that check (the check's memory may leak; the process survives). */
static __thread jmp_buf *spf_jump;

/* What the DNS layer learns during one check, for the RFC 7208 rules that
 * libspf2 1.2.10 does not enforce itself.  Thread-local: a check runs in
 * one thread from start to end. */
#define MAX_EXEMPT  64
#define SPF_MAX_MX  10 /* RFC 7208 4.6.4: MX records per mx mechanism */
#define SPF_MAX_PTR 10 /* RFC 7208 4.6.4: PTR names used; the rest ignored */

struct check_state {
	int bad_record; /* a v=spf1 record holds a control or non-ASCII byte (3.1, 4.6.1) */
	int bad_name;   /* a mechanism's target is not a valid domain-end (7.1) */
	int too_many_mx;
	size_t nexempt; /* names that came from MX and PTR answers: not domain-specs */
	char exempt[MAX_EXEMPT][256];
	size_t nrecords; /* the v=spf1 records fetched, joined by NULs */
	char records[8192];
	long long deadline_ms; /* the whole check's time budget (CLOCK_MONOTONIC) */
	int out_of_time;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __thread struct check_state *spf_state;

static void note_record(const unsigned char *txt, size_t n)
{
	if (!spf_state || n < 6 || strncasecmp((const char *)txt, "v=spf1", 6) != 0 ||
	    (n > 6 && txt[6] != ' '))
		return;
	for (size_t i = 0; i < n; i++)
		if (txt[i] < 0x20 || txt[i] > 0x7e)
			spf_state->bad_record = 1;
	if (spf_state->nrecords + n + 1 < sizeof spf_state->records) {
		memcpy(spf_state->records + spf_state->nrecords, txt, n);
		spf_state->nrecords += n;
		spf_state->records[spf_state->nrecords++] = '\0';
	}
}

/* True when name is written literally as a domain-spec (":name") in a
 * fetched record.  RFC 7208 7.1 judges the domain-spec as written; a name
 * that only became invalid through macro expansion is not an error. */
static int written_in_record(const char *name)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	for (size_t i = 0; n > 0 && i + n < spf_state->nrecords; i++) {
		const char *r = spf_state->records + i;
		char after;

		if (i == 0 || r[-1] != ':' || strncasecmp(r, name, n) != 0)
			continue;
		after = r[n] == '.' ? r[n + 1] : r[n];
		if (after == '\0' || after == ' ' || after == '/')
			return 1;
	}
	return 0;
}

static void note_exempt(const char *name)
{
	if (spf_state && spf_state->nexempt < MAX_EXEMPT)
		snprintf(spf_state->exempt[spf_state->nexempt++], sizeof spf_state->exempt[0], "%s",
		         name);
}

static int is_exempt(const char *name)
{
	size_t n = strlen(name);

	if (spf_state->nexempt >= MAX_EXEMPT)
		return 1; /* lost track: do not judge */
	if (n > 0 && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < spf_state->nexempt; i++)
		if (strncasecmp(spf_state->exempt[i], name, n) == 0 &&
		    spf_state->exempt[i][n] == '\0')
			return 1;
	return 0;
}

/* RFC 7208 7.1: domain-end = "." toplabel ["."], toplabel =
 * (*alphanum ALPHA *alphanum) / (1*alphanum "-" *(alphanum / "-") alphanum).
 * So at least two labels, and a top label that is not all digits, has no
 * other characters and neither starts nor ends with '-'. */
static int valid_domain_end(const char *name)
{
	size_t n = strlen(name);
	const char *top;
	int alpha = 0, hyphen = 0;

	if (n > 0 && name[n - 1] == '.')
		n--;
	top = NULL;
	for (size_t i = n; i > 0; i--)
		if (name[i - 1] == '.') {
			top = name + i;
			break;
		}
	if (!top || top == name + 1 || top >= name + n)
		return 0;
	if (top[0] == '-' || name[n - 1] == '-')
		return 0;
	for (const char *p = top; p < name + n; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			alpha = 1;
		else if (c == '-')
			hyphen = 1;
		else if (c < '0' || c > '9')
			return 0;
	}
	return alpha || hyphen;
}

__attribute__((noreturn)) static void on_spf_error(const char *file, int line, const char *msg)
{
	ims_log_err(NULL, "event=spf_internal_error file=%s line=%d msg=\"%s\"", file ? file : "-",
	            line, msg ? msg : "-");
	if (spf_jump)
		longjmp(*spf_jump, 1);
	abort(); /* outside a check: a bug in our setup, not in the input */
}

static void on_spf_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void set_handlers(void)
{
	SPF_error_handler = on_spf_error;
	SPF_warning_handler = on_spf_quiet;
	SPF_info_handler = on_spf_quiet;
	SPF_debug_handler = on_spf_quiet;
}

/* Copies one answer record into rr->rr[idx]; returns 1 when stored. */
static int store_record(SPF_dns_rr_t *rr, int idx, ns_type type, const unsigned char *d, size_t len)
{
	char name[256];
	size_t n = 0;

	switch (type) {
	case ns_t_a:
		if (len != sizeof(struct in_addr) ||
		    SPF_dns_rr_buf_realloc(rr, idx, sizeof(struct in_addr)) != SPF_E_SUCCESS)
			return 0;
		memcpy(&rr->rr[idx]->a, d, len);
		return 1;
	case ns_t_aaaa:
		if (len != sizeof(struct in6_addr) ||
		    SPF_dns_rr_buf_realloc(rr, idx, sizeof(struct in6_addr)) != SPF_E_SUCCESS)
			return 0;
		memcpy(&rr->rr[idx]->aaaa, d, len);
		return 1;
	case ns_t_mx:
	case ns_t_ptr: {
		size_t skip = type == ns_t_mx ? 2 : 0;

		if (len <= skip ||
		    ims_dns_wire_name(d + skip, len - skip, name, sizeof name) != IMS_OK)
			return 0;
		n = strlen(name);
		if (SPF_dns_rr_buf_realloc(rr, idx, n + 1) != SPF_E_SUCCESS)
			return 0;
		memcpy(type == ns_t_mx ? rr->rr[idx]->mx : rr->rr[idx]->ptr, name, n + 1);
		note_exempt(name);
		return 1;
	}
	case ns_t_txt: {
		char *dst;
		size_t i = 0;

		if (SPF_dns_rr_buf_realloc(rr, idx, len + 1) != SPF_E_SUCCESS)
			return 0;
		dst = rr->rr[idx]->txt;
		while (i < len) { /* join the character-strings */
			size_t sl = d[i++];
			if (sl > len - i)
				sl = len - i;
			memcpy(dst + n, d + i, sl);
			n += sl;
			i += sl;
		}
		dst[n] = '\0';
		note_record((const unsigned char *)dst, n);
		return 1;
	}
	default: return 0;
	}
}

/* The libspf2 lookup callback.  It must never return NULL (libspf2 would
 * call its error handler), except when even the error record cannot be
 * allocated. */
static SPF_dns_rr_t *spf_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
                                int should_cache)
{
	struct ims_dns *dns = layer->hook;
	struct ub_result *res = NULL;
	SPF_dns_rr_t *rr;
	ims_status st;
	int cnt = 0;

	(void)should_cache;
	if ((int)type == SPF_TYPE_SPF)
		return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	if (spf_state && mono_ms() > spf_state->deadline_ms) {
		spf_state->out_of_time = 1; /* no more lookups: the check ends in temperror */
		return SPF_dns_rr_new_init(layer, domain, type, 0, TRY_AGAIN);
	}
	if (spf_state && (type == ns_t_a || type == ns_t_aaaa || type == ns_t_mx) &&
	    !is_exempt(domain) && !valid_domain_end(domain) && written_in_record(domain)) {
		spf_state->bad_name = 1; /* a/mx/exists target: permerror */
		return SPF_dns_rr_new_nxdomain(layer, domain);
	}
	st = ims_dns_query(dns, domain, (int)type, &res);
	switch (st) {
	case IMS_OK: break;
	case IMS_ENOTFOUND: {
		int nx = res && res->nxdomain;
		ub_resolve_free(res);
		return nx ? SPF_dns_rr_new_nxdomain(layer, domain)
		          : SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	}
	case IMS_EINVAL: /* not a valid domain name: it cannot exist */
		return SPF_dns_rr_new_nxdomain(layer, domain);
	default:
		ims_log_debug(NULL, "event=spf_dns_error name=%s type=%d status=\"%s\"", domain,
		              (int)type, ims_strstatus(st));
		return SPF_dns_rr_new_init(layer, domain, type, 0, TRY_AGAIN);
	}
	rr = SPF_dns_rr_new_init(layer, domain, type, res->ttl, NETDB_SUCCESS);
	if (!rr)
		goto out;
	for (size_t i = 0; res->data[i] && i < IMS_DNS_MAX_RECORDS; i++) {
		if (type == ns_t_ptr && cnt >= SPF_MAX_PTR)
			break; /* the first 10 names are used, the rest ignored */
		if (type == ns_t_mx && cnt >= SPF_MAX_MX && spf_state) {
			spf_state->too_many_mx = 1;
			break;
		}
		cnt += store_record(rr, cnt, type, (const unsigned char *)res->data[i],
		                    (size_t)res->len[i]);
	}
	rr->num_rr = cnt;
	if (cnt == 0)
		rr->herrno = NO_DATA;
out:
	ub_resolve_free(res);
	return rr;
}

ims_status ims_spf_new(struct ims_dns *dns, struct ims_spf **out)
{
	struct ims_spf *spf;

	if (!dns || !out)
		return IMS_EINVAL;
	*out = NULL;
	pthread_once(&handlers_once, set_handlers);
	spf = calloc(1, sizeof *spf);
	if (!spf)
		return IMS_ENOMEM;
	spf->dns = dns;
	spf->layer.destroy = NULL; /* we own it */
	spf->layer.lookup = spf_lookup;
	spf->layer.name = "ims_dns";
	spf->layer.hook = dns;
	spf->server = SPF_server_new_dns(&spf->layer, 0);
	if (!spf->server) {
		free(spf);
		return IMS_ENOMEM;
	}
	*out = spf;
	return IMS_OK;
}

void ims_spf_free(struct ims_spf *spf)
{
	if (!spf)
		return;
	if (spf->server)
		SPF_server_free(spf->server);
	free(spf);
}

const char *ims_spf_result_name(enum ims_spf_result r)
{
	switch (r) {
	case IMS_SPF_NEUTRAL: return "neutral";
	case IMS_SPF_PASS: return "pass";
	case IMS_SPF_FAIL: return "fail";
	case IMS_SPF_SOFTFAIL: return "softfail";
	case IMS_SPF_TEMPERROR: return "temperror";
	case IMS_SPF_PERMERROR: return "permerror";
	case IMS_SPF_NONE: break;
	}
	return "none";
}

/* libspf2 leaves the result INVALID when it stops on an error code
 * (a record that does not compile, for instance): those are permanent
 * errors of the record, except DNS and internal failures. */
static enum ims_spf_result map_result(SPF_result_t r, int errcode)
{
	switch (r) {
	case SPF_RESULT_NEUTRAL: return IMS_SPF_NEUTRAL;
	case SPF_RESULT_PASS: return IMS_SPF_PASS;
	case SPF_RESULT_FAIL: return IMS_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL: return IMS_SPF_SOFTFAIL;
	case SPF_RESULT_NONE: return IMS_SPF_NONE;
	case SPF_RESULT_TEMPERROR: return IMS_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR: return IMS_SPF_PERMERROR;
	default:
		if (errcode == SPF_E_DNS_ERROR || errcode == SPF_E_INTERNAL_ERROR ||
		    errcode == SPF_E_NO_MEMORY || errcode == SPF_E_SUCCESS)
			return IMS_SPF_TEMPERROR;
		return IMS_SPF_PERMERROR;
	}
}

/* Runs the query with this thread's jump target set (see on_spf_error). */
static int guarded_query(SPF_request_t *req, SPF_response_t **resp)
{
	jmp_buf jb;
	int e;

	spf_jump = &jb;
	if (setjmp(jb) != 0) {
		spf_jump = NULL;
		return -1;
	}
	e = (int)SPF_request_query_mailfrom(req, resp);
	spf_jump = NULL;
	return e;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* libspf2 starts its comments with "<this host's name>: ". */
static void strip_rec_dom(const struct ims_spf *spf, char *reason)
{
	const char *rd = spf->server->rec_dom;
	size_t n = rd ? strlen(rd) : 0;

	if (n > 0 && strncmp(reason, rd, n) == 0 && reason[n] == ':' && reason[n + 1] == ' ')
		memmove(reason, reason + n + 2, strlen(reason + n + 2) + 1);
}

ims_status ims_spf_check(struct ims_spf *spf, const char *client_ip, const char *helo,
                         const char *mail_from, struct ims_spf_outcome *out)
{
	struct in_addr v4;
	struct in6_addr v6;
	int is_v6 = 0;
	SPF_request_t *req = NULL;
	SPF_response_t *resp = NULL;
	const char *identity, *at;
	ims_status rc = IMS_ENOMEM;
	struct check_state *state = NULL;
	char from_buf[MAX_SENDER + 1];
	int e;

	if (!spf || !client_ip || !out)
		return IMS_EINVAL;
	memset(out, 0, sizeof *out);
	out->result = IMS_SPF_NONE;
	if (!helo)
		helo = "";
	if (!mail_from)
		mail_from = "";
	if (mail_from[0] == '<') { /* "<a@b>" as libmilter hands it over: unwrap */
		size_t n = strlen(mail_from);
		if (n >= 2 && n - 2 <= MAX_SENDER && mail_from[n - 1] == '>') {
			memcpy(from_buf, mail_from + 1, n - 2);
			from_buf[n - 2] = '\0';
			mail_from = from_buf;
		}
	}

	if (inet_pton(AF_INET, client_ip, &v4) != 1) {
		if (inet_pton(AF_INET6, client_ip, &v6) != 1)
			return IMS_EINVAL;
		if (IN6_IS_ADDR_V4MAPPED(&v6))
			memcpy(&v4, &v6.s6_addr[12], 4);
		else
			is_v6 = 1;
	}

	/* the identity: MAIL FROM's domain, else the HELO name */
	out->helo = mail_from[0] == '\0';
	identity = out->helo ? helo : mail_from;
	at = strrchr(identity, '@');
	copy(out->domain, sizeof out->domain, at ? at + 1 : identity);
	if (identity[0] == '\0') {
		copy(out->reason, sizeof out->reason, "no MAIL FROM domain and no HELO name");
		return IMS_OK;
	}
	if (strlen(identity) > MAX_SENDER || strlen(helo) > MAX_SENDER) {
		copy(out->reason, sizeof out->reason, "sender or HELO name too long");
		return IMS_OK;
	}
	if (is_v6 ? IN6_IS_ADDR_LOOPBACK(&v6) : (ntohl(v4.s_addr) >> 24) == 127) {
		/* libspf2 would answer "pass" for loopback; we do not trust it */
		copy(out->reason, sizeof out->reason, "loopback client: SPF not evaluated");
		return IMS_OK;
	}

	req = SPF_request_new(spf->server);
	if (!req)
		goto out;
	if ((is_v6 ? SPF_request_set_ipv6(req, v6) : SPF_request_set_ipv4(req, v4)) !=
	    SPF_E_SUCCESS)
		goto out;
	if (helo[0] && SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS)
		goto out;
	if (mail_from[0] && SPF_request_set_env_from(req, mail_from) != 0)
		goto out;

	state = calloc(1, sizeof *state);
	if (!state)
		goto out;
	state->deadline_ms =
	    mono_ms() + (long long)IMS_SPF_BUDGET_FACTOR * ims_dns_timeout_ms(spf->dns);
	spf_state = state;
	e = guarded_query(req, &resp);
	spf_state = NULL;
	if (e < 0) {
		out->result = IMS_SPF_TEMPERROR;
		copy(out->reason, sizeof out->reason, "internal libspf2 error");
		resp = NULL; /* state unknown after the jump: leak rather than crash */
		rc = IMS_OK;
		goto out;
	}
	if (!resp)
		goto out;
	out->result = map_result(SPF_response_result(resp), e);
	if (SPF_response_errors(resp) > 0 && out->result != IMS_SPF_PASS) {
		SPF_error_t *m = SPF_response_message(resp, 0);
		copy(out->reason, sizeof out->reason, m ? SPF_error_message(m) : NULL);
	} else {
		copy(out->reason, sizeof out->reason, SPF_response_get_header_comment(resp));
	}
	if (out->reason[0] == '\0')
		copy(out->reason, sizeof out->reason, SPF_strreason(SPF_response_reason(resp)));
	strip_rec_dom(spf, out->reason);
	if (state->out_of_time) {
		out->result = IMS_SPF_TEMPERROR;
		copy(out->reason, sizeof out->reason, "SPF check ran out of time");
	} else if (out->result != IMS_SPF_TEMPERROR &&
	           (state->bad_record || state->bad_name || state->too_many_mx)) {
		out->result = IMS_SPF_PERMERROR;
		copy(out->reason, sizeof out->reason,
		     state->bad_record ? "SPF record holds a control or non-ASCII character"
		     : state->bad_name ? "a mechanism names an invalid domain"
		                       : "mx mechanism with more than 10 MX records");
	}
	rc = IMS_OK;
out:
	free(state);
	if (resp)
		SPF_response_free(resp);
	if (req)
		SPF_request_free(req);
	return rc;
}
