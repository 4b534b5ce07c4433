/* Training: feature vectors in, a model with a calibrated probability out.
 *
 * C is chosen by stratified k-fold cross-validation on the data given
 * (which must be the training part only), the Platt sigmoid is fitted to
 * the held-out (out-of-fold) decision values of the chosen C, and the
 * final model is trained on all the data.  The linear model is collapsed
 * into one weight vector (libsvm: w = sum sv_coef * SV).  Trainers:
 * "libsvm" (linear kernel, C-SVC) and, when built with liblinear,
 * "liblinear" (L2-regularised hinge-loss dual: the same objective). */
#ifndef IMS_TRAIN_H
#define IMS_TRAIN_H

#include <stddef.h>

#include "featurize.h"
#include "model.h"
#include "status.h"

/* A growing set of labelled vectors (+1 spam, -1 ham). */
struct ims_dataset {
	size_t n, cap;
	struct ims_fvec *x;
	int *y;
};

/* Takes ownership of *x's arrays (and clears *x).  IMS_ENOMEM. */
ims_status ims_dataset_add(struct ims_dataset *ds, struct ims_fvec *x, int y);
void ims_dataset_free(struct ims_dataset *ds);

#define IMS_TRAIN_MAX_GRID 16

/* `ims train`'s default --target-fpr: docs/classifier.md "Threshold". */
#define IMS_TARGET_FPR_DEFAULT 0.005

struct ims_train_opts {
	const char *trainer; /* "libsvm" (NULL: default) or "liblinear" */
	unsigned hash_bits;  /* the vectors' hash_bits */
	double c;            /* > 0: use this C (CV still fits Platt); else choose by CV */
	const double *grid;  /* C values to try (NULL: the default grid) */
	size_t grid_n;
	double ham_weight;   /* C multiplier for ham (class weight); <= 0: 1 */
	int folds;           /* default 5 */
	int threads;         /* default 2 */
	int verbose;         /* progress lines on stderr */
	const char *cv_dump; /* write out-of-fold decision values here (debugging), or NULL */
	/* The decision threshold: at most this share of the out-of-fold ham
	 * decision values above it (0 < target_fpr < 1); 0 means
	 * IMS_TARGET_FPR_DEFAULT (so every caller gets the same default), < 0
	 * the SVM's own threshold 0.  quarantine_fpr the same for a second,
	 * stricter threshold (0 < quarantine_fpr < target_fpr); otherwise none. */
	double target_fpr, quarantine_fpr;
};

struct ims_train_report {
	double c;
	size_t ham, spam;
	int folds;
	double cv_accuracy, cv_fpr, cv_fnr, cv_auc;
	double platt_a, platt_b;
	double threshold, threshold_quarantine; /* the latter only with has_quarantine */
	int has_quarantine;
	double target_fpr, quarantine_fpr;
	double cv_t_accuracy, cv_t_fpr, cv_t_fnr; /* out-of-fold, at the threshold */
	double seconds_cv, seconds_final;
	size_t grid_n;
	double grid_c[IMS_TRAIN_MAX_GRID], grid_accuracy[IMS_TRAIN_MAX_GRID],
	    grid_auc[IMS_TRAIN_MAX_GRID], grid_seconds[IMS_TRAIN_MAX_GRID];
};

/* Trains; on IMS_OK *out is a new model (one reference, caller's) and
 * *report is filled.  IMS_EINVAL (with err) for an empty class or a bad
 * option, IMS_ENOMEM. */
ims_status ims_train(const struct ims_dataset *ds, const struct ims_train_opts *opts,
                     struct ims_model **out, struct ims_train_report *report, char *err,
                     size_t errlen);

/* The report as a JSON object text (malloc'ed, caller frees); NULL on ENOMEM. */
char *ims_train_report_json(const struct ims_train_report *r, const char *trainer);

/* 1 when this build can train with the named trainer. */
int ims_train_have(const char *trainer);

#endif
