/* ROC AUC, Platt scaling, confusion counts: see metrics.h. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "metrics.h"

struct scored {
	double s;
	int y;
};

static int cmp_scored(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;

	return (x > y) - (x < y);
}

ims_status ims_roc_auc(const double *score, const int *y, size_t n, double *auc)
{
	struct scored *v;
	double pos = 0, neg = 0, rank_sum = 0;

	*auc = 0.5;
	if (n == 0)
		return IMS_OK;
	v = malloc(n * sizeof *v);
	if (!v)
		return IMS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].s = score[i];
		v[i].y = y[i] > 0;
	}
	qsort(v, n, sizeof *v, cmp_scored);
	/* Mann-Whitney: sum of the (tie-averaged) ranks of the positives */
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && v[j].s == v[i].s)
			j++;
		double avg = (double)(i + 1 + j) / 2.0; /* ranks i+1 .. j */

		for (size_t k = i; k < j; k++) {
			if (v[k].y) {
				rank_sum += avg;
				pos++;
			} else {
				neg++;
			}
		}
		i = j;
	}
	free(v);
	if (pos > 0 && neg > 0)
		*auc = (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
	return IMS_OK;
}

ims_status ims_platt_fit(const double *f, const int *y, size_t n, double *a_out, double *b_out)
{
	double prior1 = 0, prior0 = 0;
	const int max_iter = 100;
	const double min_step = 1e-10, sigma = 1e-12, eps = 1e-5;
	double a, b, fval = 0;

	if (n == 0)
		return IMS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (y[i] > 0)
			prior1++;
		else
			prior0++;
	}
	const double hi = (prior1 + 1.0) / (prior1 + 2.0), lo = 1.0 / (prior0 + 2.0);

	a = 0.0;
	b = log((prior0 + 1.0) / (prior1 + 1.0));
	for (size_t i = 0; i < n; i++) {
		double t = y[i] > 0 ? hi : lo, fa = f[i] * a + b;

		fval += fa >= 0 ? t * fa + log(1 + exp(-fa)) : (t - 1) * fa + log(1 + exp(fa));
	}
	for (int iter = 0; iter < max_iter; iter++) {
		double h11 = sigma, h22 = sigma, h21 = 0, g1 = 0, g2 = 0;

		for (size_t i = 0; i < n; i++) {
			double t = y[i] > 0 ? hi : lo, fa = f[i] * a + b, p, q;

			if (fa >= 0) {
				p = exp(-fa) / (1.0 + exp(-fa));
				q = 1.0 / (1.0 + exp(-fa));
			} else {
				p = 1.0 / (1.0 + exp(fa));
				q = exp(fa) / (1.0 + exp(fa));
			}
			double d2 = p * q, d1 = t - p;

			h11 += f[i] * f[i] * d2;
			h22 += d2;
			h21 += f[i] * d2;
			g1 += f[i] * d1;
			g2 += d1;
		}
		if (fabs(g1) < eps && fabs(g2) < eps)
			break;
		double det = h11 * h22 - h21 * h21;
		double da = -(h22 * g1 - h21 * g2) / det, db = -(-h21 * g1 + h11 * g2) / det;
		double gd = g1 * da + g2 * db, step = 1;

		while (step >= min_step) {
			double na = a + step * da, nb = b + step * db, nf = 0;

			for (size_t i = 0; i < n; i++) {
				double t = y[i] > 0 ? hi : lo, fa = f[i] * na + nb;

				nf += fa >= 0 ? t * fa + log(1 + exp(-fa))
				              : (t - 1) * fa + log(1 + exp(fa));
			}
			if (nf < fval + 0.0001 * step * gd) {
				a = na;
				b = nb;
				fval = nf;
				break;
			}
			step /= 2.0;
		}
		if (step < min_step)
			break; /* line search failed: keep the best so far */
	}
	*a_out = a;
	*b_out = b;
	return IMS_OK;
}

void ims_confusion_count(const double *score, const int *y, size_t n, struct ims_confusion *c)
{
	ims_confusion_count_at(score, y, n, 0.0, c);
}

void ims_confusion_count_at(const double *score, const int *y, size_t n, double threshold,
                            struct ims_confusion *c)
{
	c->ham = c->spam = c->false_positives = c->false_negatives = 0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] > 0) {
			c->spam++;
			if (!(score[i] > threshold))
				c->false_negatives++;
		} else {
			c->ham++;
			if (score[i] > threshold)
				c->false_positives++;
		}
	}
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

ims_status ims_threshold_at_fpr(const double *score, const int *y, size_t n, double fpr,
                                double *threshold)
{
	size_t nham = 0, k;
	double *h;

	for (size_t i = 0; i < n; i++)
		nham += y[i] <= 0;
	if (nham == 0 || !(fpr >= 0 && fpr < 1))
		return IMS_EINVAL;
	h = malloc(nham * sizeof *h);
	if (!h)
		return IMS_ENOMEM;
	nham = 0;
	for (size_t i = 0; i < n; i++)
		if (y[i] <= 0)
			h[nham++] = score[i];
	qsort(h, nham, sizeof *h, cmp_desc);
	/* k ham may score above it: halfway between the k-th highest ham score
	 * and the next one (ties move it up, never past the target) */
	k = (size_t)floor(fpr * (double)nham + 1e-9);
	while (k > 0 && h[k - 1] == h[k < nham ? k : nham - 1] && k < nham)
		k--;
	if (k == 0)
		*threshold = h[0];
	else if (k >= nham)
		*threshold = h[nham - 1] - 1e-9;
	else
		*threshold = (h[k - 1] + h[k]) / 2.0;
	free(h);
	return IMS_OK;
}

int ims_paired_worse(size_t worse, size_t better, size_t n, double z, double tolerance)
{
	double diff = (double)worse - (double)better;

	return diff > z * sqrt((double)(worse + better)) + tolerance * (double)n;
}
