/* Request metrics for GET /metrics: counts and latency histograms by route
 * and status, kept in lock-free atomic counters, rendered as Prometheus
 * text (version 0.0.4). */
#ifndef IMS_WEB_METRICS_H
#define IMS_WEB_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"

struct ims_metrics;

/* names[0..nroutes-1] label the routes (borrowed; must outlive m); one
 * more slot, "unmatched", takes requests no route matched.  The caller
 * owns *out (ims_metrics_free). */
ims_status ims_metrics_new(size_t nroutes, const char *const *names, struct ims_metrics **out);
void ims_metrics_free(struct ims_metrics *m);

/* Records one request: route index (-1: unmatched), HTTP status, time
 * taken in nanoseconds.  Thread-safe. */
void ims_metrics_observe(struct ims_metrics *m, int route, int status, uint64_t ns);

/* Writes the request metrics to f. */
void ims_metrics_write(struct ims_metrics *m, FILE *f);

#endif
