#include "config.h"

#include <inttypes.h>
#include <stdlib.h>

#include "metrics.h"

static const int statuses[] = {200, 201, 202, 204, 302, 304, 400, 401, 403,
                               404, 405, 409, 413, 429, 500, 503, 0 /* other */};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

/* upper bounds in microseconds; the last bucket is +Inf */
static const uint64_t bounds_us[] = {500,   1000,   2500,   5000,   10000,   20000,
                                     50000, 100000, 250000, 500000, 1000000, 2500000};
#define NBOUNDS (sizeof bounds_us / sizeof bounds_us[0])

struct cell {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t buckets[NBOUNDS]; /* non-cumulative; +Inf = count */
};

struct ims_metrics {
	size_t nroutes; /* including "unmatched" */
	const char *const *names;
	struct cell *cells; /* nroutes * NSTATUS */
};

ims_status ims_metrics_new(size_t nroutes, const char *const *names, struct ims_metrics **out)
{
	struct ims_metrics *m = calloc(1, sizeof *m);

	*out = NULL;
	if (!m)
		return IMS_ENOMEM;
	m->nroutes = nroutes + 1;
	m->names = names;
	m->cells = calloc(m->nroutes * NSTATUS, sizeof *m->cells);
	if (!m->cells) {
		free(m);
		return IMS_ENOMEM;
	}
	*out = m;
	return IMS_OK;
}

void ims_metrics_free(struct ims_metrics *m)
{
	if (!m)
		return;
	free(m->cells);
	free(m);
}

static size_t status_slot(int status)
{
	for (size_t i = 0; i + 1 < NSTATUS; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

void ims_metrics_observe(struct ims_metrics *m, int route, int status, uint64_t ns)
{
	size_t ri = route < 0 || (size_t)route >= m->nroutes - 1 ? m->nroutes - 1 : (size_t)route;
	struct cell *c = &m->cells[ri * NSTATUS + status_slot(status)];
	uint64_t us = ns / 1000;

	__atomic_fetch_add(&c->count, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->sum_ns, ns, __ATOMIC_RELAXED);
	for (size_t b = 0; b < NBOUNDS; b++)
		if (us <= bounds_us[b]) {
			__atomic_fetch_add(&c->buckets[b], 1, __ATOMIC_RELAXED);
			break;
		}
}

static const char *route_name(struct ims_metrics *m, size_t i)
{
	return i < m->nroutes - 1 ? m->names[i] : "unmatched";
}

static void status_label(char *buf, size_t len, size_t si)
{
	if (statuses[si])
		snprintf(buf, len, "%d", statuses[si]);
	else
		snprintf(buf, len, "other");
}

void ims_metrics_write(struct ims_metrics *m, FILE *f)
{
	char st[8];

	fputs("# HELP ims_webapi_requests_total HTTP requests by route and status.\n"
	      "# TYPE ims_webapi_requests_total counter\n",
	      f);
	for (size_t i = 0; i < m->nroutes; i++)
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t n =
			    __atomic_load_n(&m->cells[i * NSTATUS + s].count, __ATOMIC_RELAXED);

			if (!n)
				continue;
			status_label(st, sizeof st, s);
			fprintf(f,
			        "ims_webapi_requests_total{route=\"%s\",status=\"%s\"} %" PRIu64
			        "\n",
			        route_name(m, i), st, n);
		}
	fputs("# HELP ims_webapi_request_duration_seconds Time from the request's first byte "
	      "to the response.\n"
	      "# TYPE ims_webapi_request_duration_seconds histogram\n",
	      f);
	for (size_t i = 0; i < m->nroutes; i++)
		for (size_t s = 0; s < NSTATUS; s++) {
			struct cell *c = &m->cells[i * NSTATUS + s];
			uint64_t n = __atomic_load_n(&c->count, __ATOMIC_RELAXED), cum = 0;

			if (!n)
				continue;
			status_label(st, sizeof st, s);
			for (size_t b = 0; b < NBOUNDS; b++) {
				cum += __atomic_load_n(&c->buckets[b], __ATOMIC_RELAXED);
				fprintf(f,
				        "ims_webapi_request_duration_seconds_bucket{route=\"%s\","
				        "status=\"%s\",le=\"%g\"} %" PRIu64 "\n",
				        route_name(m, i), st, (double)bounds_us[b] / 1e6, cum);
			}
			fprintf(
			    f,
			    "ims_webapi_request_duration_seconds_bucket{route=\"%s\",status=\"%s\","
			    "le=\"+Inf\"} %" PRIu64 "\n",
			    route_name(m, i), st, n);
			fprintf(
			    f,
			    "ims_webapi_request_duration_seconds_sum{route=\"%s\",status=\"%s\"} "
			    "%.6f\n",
			    route_name(m, i), st,
			    (double)__atomic_load_n(&c->sum_ns, __ATOMIC_RELAXED) / 1e9);
			fprintf(
			    f,
			    "ims_webapi_request_duration_seconds_count{route=\"%s\",status=\"%s\"} "
			    "%" PRIu64 "\n",
			    route_name(m, i), st, n);
		}
}
