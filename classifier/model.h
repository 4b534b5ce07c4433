/* A trained linear SVM model: one weight vector w over the hashed feature
 * space, the bias rho (decision f = w.x - rho), the decision threshold t
 * set by training at a target false-positive rate on held-out decision
 * values (f > t means spam), optionally a stricter threshold for
 * quarantine, and the Platt sigmoid fitted on the same held-out values
 * (P(spam) = 1 / (1 + exp(A * f + B))).
 *
 * A loaded model is immutable and reference-counted: a daemon swaps in a
 * new one on reload while messages in flight keep the old one.  Any number
 * of threads may classify with one model at once.
 *
 * File format (docs/classifier.md "Model file"): magic "IMSMODEL", format
 * version, a JSON header (feature settings, model version, training date,
 * metrics, rho, Platt A/B), the non-zero weights, and a BLAKE2b checksum
 * (libsodium crypto_generichash) over everything before it. */
#ifndef IMS_MODEL_H
#define IMS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define IMS_MODEL_FORMAT_VERSION 1
#define IMS_MODEL_MAX_FILE       (256u << 20)
#define IMS_MODEL_MAX_HEADER     (1u << 20)

struct ims_model;
struct ims_fvec;

/* Loads a model file.  On IMS_OK the caller owns the one reference in *out.
 * Errors (with a one-line reason in err): IMS_ENOTFOUND/IMS_EIO (cannot
 * read), IMS_EFORMAT (not a model, corrupt or truncated), IMS_EVERSION
 * (another file format or feature version: retrain), IMS_ENOMEM. */
ims_status ims_model_load(const char *path, struct ims_model **out, char *err, size_t errlen);

/* Adds a reference; returns m. */
struct ims_model *ims_model_ref(struct ims_model *m);

/* Drops a reference; the last one frees the model.  NULL is fine. */
void ims_model_unref(struct ims_model *m);

/* Model version id, e.g. "20261123T061500Z-3f9a01c2"; owned by m. */
const char *ims_model_version(const struct ims_model *m);

/* What a model is made of.  Strings are owned by m. */
struct ims_model_info {
	unsigned format_version;
	unsigned feature_version;
	unsigned hash_bits;
	const char *version;
	const char *trained_at;   /* ISO 8601 UTC */
	const char *trainer;      /* "libsvm" or "liblinear" */
	const char *metrics_json; /* JSON object text: training and CV figures */
	double c, rho, platt_a, platt_b;
	double threshold;                  /* f > threshold is spam */
	double threshold_quarantine;       /* the stricter cut; == threshold when none */
	int has_quarantine;                /* the model carries a quarantine threshold */
	double target_fpr, quarantine_fpr; /* what they were set for (-1: given) */
	size_t nonzero;                    /* non-zero weights */
};
void ims_model_get_info(const struct ims_model *m, struct ims_model_info *out);

/* The decision value f = w.x - rho for a vector built with the model's
 * hash_bits, and the Platt probability of spam for a decision value. */
double ims_model_decision(const struct ims_model *m, const struct ims_fvec *x);
double ims_model_probability(const struct ims_model *m, double decision);

/* The calibrated log-odds of spam at f relative to those at the threshold,
 * -A * (f - threshold): 0 at the threshold, > 0 on the spam side. */
double ims_model_log_odds(const struct ims_model *m, double decision);

/* What training hands over to build a model. */
struct ims_model_params {
	unsigned hash_bits;
	const double *w; /* 1 + 2^hash_bits entries, w[0] unused; copied */
	double rho, platt_a, platt_b, c;
	double threshold;            /* f > threshold is spam */
	double threshold_quarantine; /* used when has_quarantine */
	int has_quarantine;
	double target_fpr, quarantine_fpr; /* for the record; -1 when not set by an FPR */
	const char *trainer;
	const char *metrics_json; /* a JSON object, or NULL */
};

/* Builds a model in memory (one reference, owned by the caller). */
ims_status ims_model_new(const struct ims_model_params *p, struct ims_model **out);

/* Writes m to path (through a temporary file and rename). */
ims_status ims_model_save(const struct ims_model *m, const char *path, char *err, size_t errlen);

#endif
