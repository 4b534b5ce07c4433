/* Figures of merit and probability calibration for a binary classifier
 * whose labels are +1 (spam) and -1 (ham). */
#ifndef IMS_METRICS_H
#define IMS_METRICS_H

#include <stddef.h>

#include "status.h"

/* Area under the ROC curve of scores (higher = more spam), ties counted
 * half.  Returns 0.5 when one class is empty.  IMS_ENOMEM possible. */
ims_status ims_roc_auc(const double *score, const int *y, size_t n, double *auc);

/* Fits Platt's sigmoid P(y=+1|f) = 1 / (1 + exp(A f + B)) to decision
 * values f and labels y (Lin, Lin and Weng's Newton method with Platt's
 * smoothed targets).  IMS_EINVAL when n == 0. */
ims_status ims_platt_fit(const double *f, const int *y, size_t n, double *a, double *b);

struct ims_confusion {
	size_t ham, spam, false_positives, false_negatives;
};

/* Counts with the decision threshold 0 (score > 0 is spam). */
void ims_confusion_count(const double *score, const int *y, size_t n, struct ims_confusion *c);

/* The same with another threshold (score > threshold is spam). */
void ims_confusion_count_at(const double *score, const int *y, size_t n, double threshold,
                            struct ims_confusion *c);

/* The threshold at which at most a share fpr (0 <= fpr < 1) of the ham
 * scores lies above it: halfway between the k-th and (k+1)-th highest ham
 * score, k = floor(fpr * ham); the highest ham score for k = 0.
 * IMS_EINVAL without ham or with a bad fpr, IMS_ENOMEM. */
ims_status ims_threshold_at_fpr(const double *score, const int *y, size_t n, double fpr,
                                double *threshold);

/* The "not worse" decision between two classifiers judged on the same n
 * messages (paired): worse = messages the candidate gets wrong and the
 * baseline right, better = the reverse.  The candidate is worse when
 *
 *     worse - better > z * sqrt(worse + better) + tolerance * n
 *
 * that is, when its extra errors are more than chance explains: under "no
 * difference" each of the worse + better discordant messages falls on either
 * side with probability 1/2 (McNemar's test), so worse - better has mean 0
 * and standard deviation sqrt(worse + better); z = 1.645 refuses at one-sided
 * 95 % confidence.  tolerance (a share of n) allows a fixed margin on top.
 * Returns 1 when worse, 0 when not. */
int ims_paired_worse(size_t worse, size_t better, size_t n, double z, double tolerance);

#endif
