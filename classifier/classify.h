/* Classify a message with a model: the one call the scan pipeline makes.
 * Thread-safe: any number of threads may classify with one model at once
 * (the model is immutable; all state lives on the caller's stack). */
#ifndef IMS_CLASSIFY_H
#define IMS_CLASSIFY_H

#include <stddef.h>

#include "message.h"
#include "model.h"
#include "status.h"

struct ims_classification {
	double score;       /* SVM decision value f = w.x - rho */
	double threshold;   /* the model's decision threshold */
	double probability; /* of spam, 0..1 (Platt sigmoid fitted on held-out data) */
	double log_odds;    /* calibrated log-odds around the threshold, -A * (f - t) */
	int spam;           /* score > threshold */
	int quarantine;     /* score > the model's quarantine threshold (0 without one) */
};

/* Classifies a parsed message.  IMS_OK or IMS_ENOMEM; *out is filled on
 * IMS_OK.  Neither argument is kept. */
ims_status ims_classify_parsed(const struct ims_model *model, const struct ims_parsed *msg,
                               struct ims_classification *out);

/* Parses len raw bytes and classifies them: IMS_OK, IMS_ENOMEM, or
 * IMS_ELIMIT for a message over IMS_MIME_MAX_MESSAGE. */
ims_status ims_classify_raw(const struct ims_model *model, const char *raw, size_t len,
                            struct ims_classification *out);

#endif
