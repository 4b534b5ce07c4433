#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "engine.h"
#include "metrics.h"
#include "scan.h"

/* Latency buckets (upper bounds, µs): a scan without DNS takes about a
 * millisecond, DNS-bound checks up to the DNS timeout. */
static const uint64_t bucket_us[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                     100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

enum stage {
	ST_TOTAL,
	ST_PARSE,
	ST_SPF,
	ST_DKIM,
	ST_DMARC,
	ST_HEURISTICS,
	ST_CLASSIFY,
	ST_REPUTATION,
	ST_ANTIVIRUS,   /* only messages clamd saw */
	ST_ATTACHMENTS, /* only messages with attachments looked at */
	NSTAGES
};
static const char *const stage_name[NSTAGES] = {"total",     "parse",      "spf",      "dkim",
                                                "dmarc",     "heuristics", "classify", "reputation",
                                                "antivirus", "attachments"};

struct histogram {
	uint64_t buckets[NBUCKETS + 1]; /* the last one is +Inf */
	uint64_t sum_us;
	uint64_t count;
};

static const char *const outcome_name[] = {"accept", "tag", "quarantine", "reject", "tempfail"};
#define NOUTCOMES (sizeof outcome_name / sizeof outcome_name[0])

static const char *const cause_name[IMS_TF_NCAUSES] = {
    [IMS_TF_NOT_READY] = "not_ready",
    [IMS_TF_NO_MODEL] = "no_model",
    [IMS_TF_SCAN] = "scan",
    [IMS_TF_STORE] = "redis",
    [IMS_TF_QUARANTINE_FULL] = "quarantine_full",
    [IMS_TF_HEADERS] = "headers",
    [IMS_TF_MEMORY] = "memory",
    [IMS_TF_DRAINING] = "draining",
    [IMS_TF_RECIPIENTS] = "recipients",
};

static const char *const dns_check[] = {"spf", "dkim", "dmarc", "dnsbl"};
static const char *const dns_symbol[] = {"SPF_TEMPERROR", "DKIM_TEMPERROR", "DMARC_TEMPERROR",
                                         "DNSBL_FAIL"};
#define NDNS (sizeof dns_check / sizeof dns_check[0])

static struct histogram hist[NSTAGES];
static uint64_t outcomes[NOUTCOMES];
static uint64_t tempfails[IMS_TF_NCAUSES];
static uint64_t dns_errors[NDNS];
static uint64_t redis_errors;
/* clamd's answers by symbol: found, could not scan, scanned in part */
static const char *const av_result[] = {"virus", "error", "size_limit"};
static const char *const av_symbol[] = {"VIRUS_FOUND", "AV_UNAVAILABLE", "AV_SIZE_LIMIT"};
static uint64_t av_results[3];

static void add(uint64_t *v, uint64_t n)
{
	__atomic_add_fetch(v, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void observe(struct histogram *h, long us)
{
	size_t i = 0;
	uint64_t v = us < 0 ? 0 : (uint64_t)us;

	while (i < NBUCKETS && v > bucket_us[i])
		i++;
	add(&h->buckets[i], 1);
	add(&h->sum_us, v);
	add(&h->count, 1);
}

void ims_mmetrics_tempfail(enum ims_tempfail_cause cause)
{
	if ((unsigned)cause >= IMS_TF_NCAUSES)
		return;
	add(&tempfails[cause], 1);
	if (cause == IMS_TF_STORE)
		add(&redis_errors, 1);
}

void ims_mmetrics_scan(const struct ims_scan *s, const char *outcome)
{
	struct ims_scan_timings t;
	const char *name;
	double w;

	for (size_t i = 0; i < NOUTCOMES; i++)
		if (strcmp(outcome, outcome_name[i]) == 0)
			add(&outcomes[i], 1);
	if (!s)
		return;
	ims_scan_timings(s, &t);
	observe(&hist[ST_TOTAL], t.total);
	observe(&hist[ST_PARSE], t.parse);
	observe(&hist[ST_SPF], t.spf);
	observe(&hist[ST_DKIM], t.dkim);
	observe(&hist[ST_DMARC], t.dmarc);
	observe(&hist[ST_HEURISTICS], t.heuristics);
	observe(&hist[ST_CLASSIFY], t.classify);
	observe(&hist[ST_REPUTATION], t.reputation);
	if (t.antivirus > 0)
		observe(&hist[ST_ANTIVIRUS], t.antivirus);
	if (t.attachments > 0)
		observe(&hist[ST_ATTACHMENTS], t.attachments);
	for (size_t i = 0; i < ims_scan_symbol_count(s); i++) {
		if (ims_scan_symbol(s, i, &name, &w, NULL) != 0 || !name)
			continue;
		for (size_t k = 0; k < NDNS; k++)
			if (strcmp(name, dns_symbol[k]) == 0)
				add(&dns_errors[k], 1);
		for (size_t k = 0; k < 3; k++)
			if (strcmp(name, av_symbol[k]) == 0)
				add(&av_results[k], 1);
	}
}

/* A growable text buffer; on allocation failure it stays NULL. */
struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->p)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			free(b->p);
			b->p = NULL;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *np = realloc(b->p, b->cap * 2 + (size_t)n);
		if (!np) {
			free(b->p);
			b->p = NULL;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

/* Prometheus label values: backslash, quote and newline escaped. */
static void put_label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			put(b, "\\%c", *v);
		else if (*v == '\n')
			put(b, "\\n");
		else
			put(b, "%c", *v);
	}
}

char *ims_mmetrics_render(void)
{
	struct buf b = {malloc(8192), 0, 8192};
	struct ims_engine *e = ims_engine_acquire();

	put(&b, "# HELP ims_milter_scan_seconds Time of a scan, whole (stage=\"total\") and per "
	        "check.\n# TYPE ims_milter_scan_seconds histogram\n");
	for (int s = 0; s < NSTAGES; s++) {
		uint64_t cum = 0;
		for (size_t i = 0; i <= NBUCKETS; i++) {
			cum += get(&hist[s].buckets[i]);
			if (i < NBUCKETS)
				put(&b,
				    "ims_milter_scan_seconds_bucket{stage=\"%s\",le=\"%g\"} "
				    "%" PRIu64 "\n",
				    stage_name[s], (double)bucket_us[i] / 1e6, cum);
			else
				put(&b,
				    "ims_milter_scan_seconds_bucket{stage=\"%s\",le=\"+Inf\"} "
				    "%" PRIu64 "\n",
				    stage_name[s], cum);
		}
		put(&b, "ims_milter_scan_seconds_sum{stage=\"%s\"} %.6f\n", stage_name[s],
		    (double)get(&hist[s].sum_us) / 1e6);
		put(&b, "ims_milter_scan_seconds_count{stage=\"%s\"} %" PRIu64 "\n", stage_name[s],
		    get(&hist[s].count));
	}
	put(&b, "# HELP ims_milter_messages_total Messages by what the MTA was told.\n"
	        "# TYPE ims_milter_messages_total counter\n");
	for (size_t i = 0; i < NOUTCOMES; i++)
		put(&b, "ims_milter_messages_total{outcome=\"%s\"} %" PRIu64 "\n", outcome_name[i],
		    get(&outcomes[i]));
	put(&b, "# HELP ims_milter_tempfails_total Temporary failures (4xx) by cause.\n"
	        "# TYPE ims_milter_tempfails_total counter\n");
	for (int i = 0; i < IMS_TF_NCAUSES; i++)
		put(&b, "ims_milter_tempfails_total{cause=\"%s\"} %" PRIu64 "\n", cause_name[i],
		    get(&tempfails[i]));
	put(&b, "# HELP ims_milter_dns_errors_total Checks that ended in a DNS temperror.\n"
	        "# TYPE ims_milter_dns_errors_total counter\n");
	for (size_t i = 0; i < NDNS; i++)
		put(&b, "ims_milter_dns_errors_total{check=\"%s\"} %" PRIu64 "\n", dns_check[i],
		    get(&dns_errors[i]));
	put(&b, "# HELP ims_milter_antivirus_total clamd's results: virus found, could not scan "
	        "(down, timeout, error), scanned only in part (size limit).\n"
	        "# TYPE ims_milter_antivirus_total counter\n");
	for (size_t i = 0; i < 3; i++)
		put(&b, "ims_milter_antivirus_total{result=\"%s\"} %" PRIu64 "\n", av_result[i],
		    get(&av_results[i]));
	put(&b,
	    "# HELP ims_milter_redis_errors_total Scans Redis did not store.\n"
	    "# TYPE ims_milter_redis_errors_total counter\nims_milter_redis_errors_total %" PRIu64
	    "\n",
	    get(&redis_errors));
	put(&b,
	    "# HELP ims_milter_model_loaded 1 when a model scans, 0 when messages are "
	    "tempfailed for want of one.\n# TYPE ims_milter_model_loaded gauge\n"
	    "ims_milter_model_loaded %d\n",
	    e && ims_engine_model(e) ? 1 : 0);
	put(&b, "# HELP ims_milter_model_info The model in use.\n# TYPE ims_milter_model_info "
	        "gauge\nims_milter_model_info{version=\"");
	put_label(&b, e ? ims_engine_model_version(e) : "");
	put(&b, "\"} 1\n");
	put(&b,
	    "# HELP ims_milter_model_stale 1 when the last model load failed and the previous "
	    "model still scans.\n# TYPE ims_milter_model_stale gauge\nims_milter_model_stale %d\n",
	    e && ims_engine_model_reload_error(e) ? 1 : 0);
	put(&b,
	    "# HELP ims_milter_model_load_failures_total Model loads that failed and kept "
	    "the previous model.\n# TYPE ims_milter_model_load_failures_total counter\n"
	    "ims_milter_model_load_failures_total %lu\n",
	    ims_engine_model_reload_failures());
	ims_engine_unref(e);
	return b.p;
}

static struct MHD_Daemon *daemon_;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = NULL;
	unsigned code = MHD_HTTP_OK;

	(void)cls, (void)version, (void)upload, (void)upload_len, (void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		code = MHD_HTTP_NOT_FOUND;
	} else if (!(text = ims_mmetrics_render())) {
		code = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	if (text)
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        code == MHD_HTTP_OK ? "text/plain; version=0.0.4" : "text/plain");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

ims_status ims_mmetrics_start(const char *listen, char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	char host[64];
	long port;
	char *end;

	if (!listen || !*listen)
		return IMS_OK;
	if (!colon || (size_t)(colon - listen) >= sizeof host) {
		snprintf(err, errlen, "[milter] metrics_listen: want 127.0.0.1:PORT, got '%s'",
		         listen);
		return IMS_EINVAL;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
		snprintf(err, errlen,
		         "[milter] metrics_listen: want a loopback 127.x.y.z:PORT, got '%s'",
		         listen);
		return IMS_EINVAL;
	}
	sa.sin_port = htons((uint16_t)port);
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, NULL,
	                           MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                           MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT,
	                           10u, MHD_OPTION_END);
	if (!daemon_) {
		snprintf(err, errlen, "[milter] metrics_listen: cannot listen on %s", listen);
		return IMS_EIO;
	}
	return IMS_OK;
}

void ims_mmetrics_stop(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
