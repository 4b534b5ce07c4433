/* ims-milter's own metrics, in Prometheus text on a loopback listener
 * ([milter] metrics_listen; off when empty): scan latency histograms (the
 * whole scan and each check), messages by outcome, temporary failures by
 * cause, DNS and Redis errors, the model's version and failed model loads.
 * Counters are process-wide atomics: recording costs a few atomic adds per
 * message and takes no lock. */
#ifndef IMS_MILTER_METRICS_H
#define IMS_MILTER_METRICS_H

#include <stddef.h>

#include "status.h"

struct ims_scan;

/* Why a message got a 4xx; one counter each. */
enum ims_tempfail_cause {
	IMS_TF_NOT_READY, /* no engine yet */
	IMS_TF_NO_MODEL,  /* the scan had no model */
	IMS_TF_SCAN,      /* the scan failed otherwise (registry, memory) */
	IMS_TF_STORE,     /* Redis did not take the scan log */
	IMS_TF_QUARANTINE_FULL,
	IMS_TF_HEADERS, /* the MTA refused our header changes */
	IMS_TF_MEMORY,
	IMS_TF_DRAINING,   /* shutting down */
	IMS_TF_RECIPIENTS, /* too many recipients */
	IMS_TF_NCAUSES
};

void ims_mmetrics_tempfail(enum ims_tempfail_cause cause);

/* One scanned message and what the MTA was told: outcome is "accept",
 * "tag", "quarantine", "reject" or "tempfail". */
void ims_mmetrics_scan(const struct ims_scan *s, const char *outcome);

/* The text /metrics answers, the caller's to free(). */
char *ims_mmetrics_render(void);

/* Starts the listener on listen ("127.0.0.1:9464"; loopback only) /
 * stops it.  IMS_EIO with err set when it cannot listen. */
ims_status ims_mmetrics_start(const char *listen, char *err, size_t errlen);
void ims_mmetrics_stop(void);

#endif
