/* Training with libsvm or liblinear: see train.h. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libsvm/svm.h>
#ifdef HAVE_LIBLINEAR
#ifdef HAVE_LIBLINEAR_LINEAR_H
#include <liblinear/linear.h>
#else
#include <linear.h>
#endif
#endif

#include "metrics.h"
#include "train.h"

static const double default_grid[] = {0.3, 1, 3, 10, 30};

ims_status ims_dataset_add(struct ims_dataset *ds, struct ims_fvec *x, int y)
{
	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? ds->cap * 2 : 1024;
		struct ims_fvec *nx = realloc(ds->x, cap * sizeof *nx);

		if (!nx)
			return IMS_ENOMEM;
		ds->x = nx;
		int *ny = realloc(ds->y, cap * sizeof *ny);

		if (!ny)
			return IMS_ENOMEM;
		ds->y = ny;
		ds->cap = cap;
	}
	ds->x[ds->n] = *x;
	ds->y[ds->n] = y > 0 ? 1 : -1;
	ds->n++;
	memset(x, 0, sizeof *x);
	return IMS_OK;
}

void ims_dataset_free(struct ims_dataset *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		ims_fvec_free(&ds->x[i]);
	free(ds->x);
	free(ds->y);
	memset(ds, 0, sizeof *ds);
}

int ims_train_have(const char *trainer)
{
	if (strcmp(trainer, "libsvm") == 0)
		return 1;
#ifdef HAVE_LIBLINEAR
	if (strcmp(trainer, "liblinear") == 0)
		return 1;
#endif
	return 0;
}

static void quiet(const char *s)
{
	(void)s;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Nodes for both libraries, built once; svm_node and feature_node have
 * the same layout ({int index; double value;}), and the last real node is
 * followed by the bias node (liblinear) and the terminator. */
struct nodes {
	struct svm_node **row; /* row[i] -> n_i + 2 nodes */
	struct svm_node *pool;
};

static ims_status nodes_build(const struct ims_dataset *ds, struct nodes *nd)
{
	size_t total = 0, off = 0;

	for (size_t i = 0; i < ds->n; i++)
		total += ds->x[i].n + 2;
	nd->row = malloc(ds->n * sizeof *nd->row);
	nd->pool = malloc(total * sizeof *nd->pool);
	if (!nd->row || !nd->pool)
		return IMS_ENOMEM;
	for (size_t i = 0; i < ds->n; i++) {
		nd->row[i] = nd->pool + off;
		for (size_t k = 0; k < ds->x[i].n; k++) {
			nd->pool[off].index = (int)ds->x[i].idx[k];
			nd->pool[off++].value = ds->x[i].val[k];
		}
		nd->pool[off].index = -1; /* liblinear's bias node is patched in by the caller */
		nd->pool[off++].value = 1.0;
		nd->pool[off].index = -1;
		nd->pool[off++].value = 0;
	}
	return IMS_OK;
}

static void nodes_free(struct nodes *nd)
{
	free(nd->row);
	free(nd->pool);
}

/* Training checks the collapsed w against the library's own decision
 * values on this many rows. */
#define COLLAPSE_CHECK_ROWS 32

static double sparse_dot(const double *w, const void *row)
{
	const struct svm_node *p = row;
	double d = 0;

	for (; p->index != -1; p++)
		d += w[p->index] * p->value;
	return d;
}

/* Trains on rows[0..nrows) with C; fills w (dim + 1, zeroed by the caller)
 * and *rho so that decision = w.x - rho is > 0 for spam. */
static ims_status train_once(const char *trainer, const struct ims_dataset *ds,
                             const struct nodes *nd, const size_t *rows, size_t nrows,
                             unsigned bits, double c, double ham_weight, double *w, double *rho)
{
	int wlabel[1] = {-1};
	double wval[1] = {ham_weight > 0 ? ham_weight : 1.0};
	ims_status rc = IMS_ENOMEM;
	double *y = malloc(nrows * sizeof *y);
	void **x = malloc(nrows * sizeof *x);
	size_t dim = (size_t)1 << bits;

	if (!y || !x)
		goto out;
	for (size_t i = 0; i < nrows; i++) {
		y[i] = ds->y[rows[i]];
		x[i] = nd->row[rows[i]];
	}
	if (strcmp(trainer, "libsvm") == 0) {
		struct svm_problem prob = {(int)nrows, y, (struct svm_node **)x};
		struct svm_parameter param;
		struct svm_model *m;

		memset(&param, 0, sizeof param);
		param.svm_type = C_SVC;
		param.kernel_type = LINEAR;
		param.C = c;
		param.eps = 1e-3;
		param.cache_size = 200;
		param.shrinking = 1;
		param.probability = 0;
		param.nr_weight = 1;
		param.weight_label = wlabel;
		param.weight = wval;
		if (svm_check_parameter(&prob, &param)) {
			rc = IMS_EINVAL;
			goto out;
		}
		m = svm_train(&prob, &param);
		if (!m)
			goto out;
		double sign = m->label[0] == 1 ? 1.0 : -1.0;

		for (int i = 0; i < m->l; i++)
			for (const struct svm_node *p = m->SV[i]; p->index != -1; p++)
				w[p->index] += sign * m->sv_coef[0][i] * p->value;
		*rho = sign * m->rho[0];
		/* The collapsed w must give libsvm's own decision values (it does
		 * only for sorted, unique indices: notes/libraries.md 5). */
		for (size_t i = 0; i < nrows && i < COLLAPSE_CHECK_ROWS; i++) {
			double dv, mine = sparse_dot(w, x[i]) - *rho;

			svm_predict_values(m, x[i], &dv);
			if (fabs(sign * dv - mine) > 1e-6 * (1.0 + fabs(dv))) {
				svm_free_and_destroy_model(&m);
				rc = IMS_EFORMAT;
				goto out;
			}
		}
		svm_free_and_destroy_model(&m);
		rc = IMS_OK;
	}
#ifdef HAVE_LIBLINEAR
	else if (strcmp(trainer, "liblinear") == 0) {
		/* liblinear wants the bias as an extra feature dim+1 in each row;
		 * the rows are shared between threads, so copy them. */
		struct feature_node **fx = calloc(nrows, sizeof *fx);
		struct problem prob;
		struct parameter param;
		struct model *m;

		if (!fx)
			goto out;
		for (size_t i = 0; i < nrows; i++) {
			const struct svm_node *s = x[i];
			size_t n = 0;

			while (s[n].index != -1)
				n++;
			fx[i] = malloc((n + 2) * sizeof **fx);
			if (!fx[i])
				goto ll_out;
			for (size_t k = 0; k < n; k++) {
				fx[i][k].index = s[k].index;
				fx[i][k].value = s[k].value;
			}
			fx[i][n].index = (int)dim + 1;
			fx[i][n].value = 1.0;
			fx[i][n + 1].index = -1;
		}
		memset(&param, 0, sizeof param);
		param.solver_type = L2R_L1LOSS_SVC_DUAL;
		param.C = c;
		param.eps = 0.1;
		param.nr_weight = 1;
		param.weight_label = wlabel;
		param.weight = wval;
		prob.l = (int)nrows;
		prob.n = (int)dim + 1;
		prob.y = y;
		prob.x = fx;
		prob.bias = 1.0;
		if (check_parameter(&prob, &param)) {
			rc = IMS_EINVAL;
			goto ll_out;
		}
		srand(1); /* liblinear shuffles with rand(): same data, same model */
		m = train(&prob, &param);
		if (!m)
			goto ll_out;
		{
			double sign = m->label[0] == 1 ? 1.0 : -1.0;

			for (size_t j = 1; j <= dim && (int)j <= m->nr_feature; j++)
				w[j] = sign * m->w[j - 1];
			*rho = -sign * m->w[dim] * m->bias;
			for (size_t i = 0; i < nrows && i < COLLAPSE_CHECK_ROWS; i++) {
				double dv, mine = sparse_dot(w, x[i]) - *rho;

				predict_values(m, fx[i], &dv);
				if (fabs(sign * dv - mine) > 1e-6 * (1.0 + fabs(dv))) {
					free_and_destroy_model(&m);
					rc = IMS_EFORMAT;
					goto ll_out;
				}
			}
		}
		free_and_destroy_model(&m);
		rc = IMS_OK;
	ll_out:
		for (size_t i = 0; i < nrows; i++)
			free(fx[i]);
		free(fx);
	}
#endif
	else {
		rc = IMS_EINVAL;
	}
out:
	free(y);
	free(x);
	return rc;
}

static double decision(const double *w, double rho, const struct ims_fvec *x)
{
	double d = -rho;

	for (size_t i = 0; i < x->n; i++)
		d += w[x->idx[i]] * x->val[i];
	return d;
}

/* --- cross-validation: (C, fold) tasks shared by a few threads --- */

struct cv {
	const struct ims_dataset *ds;
	const struct nodes *nd;
	const struct ims_train_opts *o;
	const double *grid;
	size_t grid_n;
	int folds;
	int *fold_of;     /* row -> fold */
	double **dec;     /* [grid][row]: out-of-fold decision values */
	double *task_sec; /* [grid * folds] */
	atomic_size_t next;
	atomic_int failed;
};

static void *cv_worker(void *arg)
{
	struct cv *cv = arg;
	size_t dim = (size_t)1 << cv->o->hash_bits;
	size_t ntasks = cv->grid_n * (size_t)cv->folds;
	size_t *rows = malloc(cv->ds->n * sizeof *rows);
	double *w = malloc((dim + 1) * sizeof *w);

	if (!rows || !w) {
		atomic_store(&cv->failed, IMS_ENOMEM);
		goto out;
	}
	for (;;) {
		size_t t = atomic_fetch_add(&cv->next, 1);

		if (t >= ntasks || atomic_load(&cv->failed))
			break;
		size_t g = t / (size_t)cv->folds;
		int fold = (int)(t % (size_t)cv->folds);
		size_t nr = 0;
		double rho = 0, t0 = now_s();

		for (size_t i = 0; i < cv->ds->n; i++)
			if (cv->fold_of[i] != fold)
				rows[nr++] = i;
		memset(w, 0, (dim + 1) * sizeof *w);
		ims_status rc =
		    train_once(cv->o->trainer, cv->ds, cv->nd, rows, nr, cv->o->hash_bits,
		               cv->grid[g], cv->o->ham_weight, w, &rho);

		if (rc != IMS_OK) {
			atomic_store(&cv->failed, rc);
			break;
		}
		for (size_t i = 0; i < cv->ds->n; i++)
			if (cv->fold_of[i] == fold)
				cv->dec[g][i] = decision(w, rho, &cv->ds->x[i]);
		cv->task_sec[t] = now_s() - t0;
		if (cv->o->verbose)
			fprintf(stderr, "ims train: C=%g fold %d/%d: %.2f s\n", cv->grid[g],
			        fold + 1, cv->folds, cv->task_sec[t]);
	}
out:
	free(rows);
	free(w);
	return NULL;
}

/* Stratified folds from a fixed seed, so runs are repeatable. */
static void assign_folds(const struct ims_dataset *ds, int folds, int *fold_of)
{
	uint64_t s = 0x9E3779B97F4A7C15ULL;
	size_t *idx = malloc(ds->n * sizeof *idx);
	size_t counter[2] = {0, 0};

	if (!idx) {
		for (size_t i = 0; i < ds->n; i++)
			fold_of[i] = (int)(i % (size_t)folds);
		return;
	}
	for (size_t i = 0; i < ds->n; i++)
		idx[i] = i;
	for (size_t i = ds->n; i > 1; i--) { /* Fisher-Yates with xorshift64 */
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		size_t j = (size_t)(s % i), t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
	for (size_t k = 0; k < ds->n; k++) {
		size_t i = idx[k];
		int cls = ds->y[i] > 0;

		fold_of[i] = (int)(counter[cls]++ % (size_t)folds);
	}
	free(idx);
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

ims_status ims_train(const struct ims_dataset *ds, const struct ims_train_opts *opts,
                     struct ims_model **out, struct ims_train_report *r, char *err, size_t errlen)
{
	ims_status rc = IMS_ENOMEM;
	struct ims_train_opts o = *opts;
	struct nodes nd = {0};
	struct cv cv;
	pthread_t th[8];
	int nth = 0;
	size_t dim, best = 0;
	double *w = NULL, t0;
	size_t *all = NULL;
	char *metrics = NULL;
	struct ims_confusion conf;

	*out = NULL;
	memset(r, 0, sizeof *r);
	memset(&cv, 0, sizeof cv);
	if (!o.trainer)
		o.trainer = "libsvm";
	if (!ims_train_have(o.trainer)) {
		seterr(err, errlen, "trainer '%s' is not available in this build", o.trainer);
		return IMS_EINVAL;
	}
	if (o.folds <= 1)
		o.folds = 5;
	if (o.threads <= 0)
		o.threads = 2;
	if (o.threads > 8)
		o.threads = 8;
	if (strcmp(o.trainer, "liblinear") == 0)
		o.threads = 1; /* it uses the global rand(): one thread keeps runs repeatable */
	if (o.hash_bits < IMS_HASH_BITS_MIN || o.hash_bits > IMS_HASH_BITS_MAX) {
		seterr(err, errlen, "bad hash_bits %u", o.hash_bits);
		return IMS_EINVAL;
	}
	if (o.c > 0) {
		o.grid = &opts->c;
		o.grid_n = 1;
	} else if (!o.grid || o.grid_n == 0) {
		o.grid = default_grid;
		o.grid_n = sizeof default_grid / sizeof default_grid[0];
	}
	if (o.grid_n > IMS_TRAIN_MAX_GRID)
		o.grid_n = IMS_TRAIN_MAX_GRID;
	for (size_t i = 0; i < ds->n; i++) {
		if (ds->y[i] > 0)
			r->spam++;
		else
			r->ham++;
	}
	if (r->ham < (size_t)o.folds || r->spam < (size_t)o.folds) {
		seterr(err, errlen, "need at least %d ham and %d spam messages (have %zu and %zu)",
		       o.folds, o.folds, r->ham, r->spam);
		return IMS_EINVAL;
	}
	svm_set_print_string_function(quiet);
#ifdef HAVE_LIBLINEAR
	set_print_string_function(quiet);
#endif
	dim = (size_t)1 << o.hash_bits;
	if (nodes_build(ds, &nd) != IMS_OK)
		goto out;

	/* cross-validation over the grid */
	t0 = now_s();
	cv.ds = ds;
	cv.nd = &nd;
	cv.o = &o;
	cv.grid = o.grid;
	cv.grid_n = o.grid_n;
	cv.folds = o.folds;
	cv.fold_of = malloc(ds->n * sizeof *cv.fold_of);
	cv.dec = calloc(o.grid_n, sizeof *cv.dec);
	cv.task_sec = calloc(o.grid_n * (size_t)o.folds, sizeof *cv.task_sec);
	if (!cv.fold_of || !cv.dec || !cv.task_sec)
		goto out;
	for (size_t g = 0; g < o.grid_n; g++)
		if (!(cv.dec[g] = calloc(ds->n, sizeof **cv.dec)))
			goto out;
	assign_folds(ds, o.folds, cv.fold_of);
	atomic_init(&cv.next, 0);
	atomic_init(&cv.failed, 0);
	for (nth = 0; nth < o.threads; nth++)
		if (pthread_create(&th[nth], NULL, cv_worker, &cv) != 0)
			break;
	if (nth == 0)
		cv_worker(&cv);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	if (atomic_load(&cv.failed)) {
		rc = (ims_status)atomic_load(&cv.failed);
		seterr(err, errlen, "training failed during cross-validation (%s)",
		       rc == IMS_ENOMEM ? "out of memory"
		       : rc == IMS_EFORMAT
		           ? "the weight vector does not reproduce the solver's decision values"
		           : "bad parameters");
		goto out;
	}
	r->seconds_cv = now_s() - t0;
	r->grid_n = o.grid_n;
	r->folds = o.folds;
	for (size_t g = 0; g < o.grid_n; g++) {
		double auc;

		if (ims_roc_auc(cv.dec[g], ds->y, ds->n, &auc) != IMS_OK)
			goto out;
		ims_confusion_count(cv.dec[g], ds->y, ds->n, &conf);
		r->grid_c[g] = o.grid[g];
		r->grid_accuracy[g] =
		    1.0 - (double)(conf.false_positives + conf.false_negatives) / (double)ds->n;
		r->grid_auc[g] = auc;
		for (int f = 0; f < o.folds; f++)
			r->grid_seconds[g] += cv.task_sec[g * (size_t)o.folds + (size_t)f];
		/* best accuracy; ties go to the higher AUC, then the smaller C */
		if (g == 0 || r->grid_accuracy[g] > r->grid_accuracy[best] + 1e-12 ||
		    (fabs(r->grid_accuracy[g] - r->grid_accuracy[best]) <= 1e-12 &&
		     auc > r->grid_auc[best] + 1e-12))
			best = g;
	}
	r->c = o.grid[best];
	r->cv_accuracy = r->grid_accuracy[best];
	r->cv_auc = r->grid_auc[best];
	ims_confusion_count(cv.dec[best], ds->y, ds->n, &conf);
	r->cv_fpr = conf.ham ? (double)conf.false_positives / (double)conf.ham : 0;
	r->cv_fnr = conf.spam ? (double)conf.false_negatives / (double)conf.spam : 0;
	if (o.cv_dump) { /* out-of-fold decision values, one "label value" line per row */
		FILE *f = fopen(o.cv_dump, "w");

		for (size_t i = 0; f && i < ds->n; i++)
			fprintf(f, "%d %.6f\n", ds->y[i], cv.dec[best][i]);
		if (f)
			fclose(f);
	}
	rc = ims_platt_fit(cv.dec[best], ds->y, ds->n, &r->platt_a, &r->platt_b);
	if (rc != IMS_OK)
		goto out;
	if (!(r->platt_a < 0)) {
		rc = IMS_EINVAL;
		seterr(err, errlen, "the held-out decision values do not separate ham from spam");
		goto out;
	}
	/* the threshold(s) from the same out-of-fold values */
	if (o.target_fpr == 0)
		o.target_fpr = IMS_TARGET_FPR_DEFAULT;
	r->target_fpr = o.target_fpr > 0 && o.target_fpr < 1 ? o.target_fpr : -1;
	r->threshold = 0;
	if (r->target_fpr > 0 &&
	    (rc = ims_threshold_at_fpr(cv.dec[best], ds->y, ds->n, r->target_fpr, &r->threshold)) !=
	        IMS_OK)
		goto out;
	r->quarantine_fpr = -1;
	if (o.quarantine_fpr > 0 && o.quarantine_fpr < 1) {
		r->has_quarantine = 1;
		r->quarantine_fpr = o.quarantine_fpr;
		rc = ims_threshold_at_fpr(cv.dec[best], ds->y, ds->n, o.quarantine_fpr,
		                          &r->threshold_quarantine);
		if (rc != IMS_OK)
			goto out;
		if (r->threshold_quarantine < r->threshold) /* stricter, never looser */
			r->threshold_quarantine = r->threshold;
	}
	ims_confusion_count_at(cv.dec[best], ds->y, ds->n, r->threshold, &conf);
	r->cv_t_accuracy =
	    1.0 - (double)(conf.false_positives + conf.false_negatives) / (double)ds->n;
	r->cv_t_fpr = conf.ham ? (double)conf.false_positives / (double)conf.ham : 0;
	r->cv_t_fnr = conf.spam ? (double)conf.false_negatives / (double)conf.spam : 0;

	/* the final model on everything */
	t0 = now_s();
	rc = IMS_ENOMEM;
	w = calloc(dim + 1, sizeof *w);
	all = malloc(ds->n * sizeof *all);
	if (!w || !all)
		goto out;
	for (size_t i = 0; i < ds->n; i++)
		all[i] = i;
	double rho = 0;

	rc = train_once(o.trainer, ds, &nd, all, ds->n, o.hash_bits, r->c, o.ham_weight, w, &rho);
	if (rc != IMS_OK) {
		seterr(err, errlen, "final training failed%s",
		       rc == IMS_EFORMAT
		           ? ": the weight vector does not reproduce the solver's decision values"
		           : "");
		goto out;
	}
	r->seconds_final = now_s() - t0;
	if (o.verbose)
		fprintf(stderr,
		        "ims train: chose C=%g (CV accuracy %.4f, AUC %.5f); final fit %.2f s\n",
		        r->c, r->cv_accuracy, r->cv_auc, r->seconds_final);
	metrics = ims_train_report_json(r, o.trainer);
	if (!metrics) {
		rc = IMS_ENOMEM;
		goto out;
	}
	struct ims_model_params mp = {
	    .hash_bits = o.hash_bits,
	    .w = w,
	    .rho = rho,
	    .platt_a = r->platt_a,
	    .platt_b = r->platt_b,
	    .threshold = r->threshold,
	    .threshold_quarantine = r->threshold_quarantine,
	    .has_quarantine = r->has_quarantine,
	    .target_fpr = r->target_fpr,
	    .quarantine_fpr = r->quarantine_fpr,
	    .c = r->c,
	    .trainer = o.trainer,
	    .metrics_json = metrics,
	};

	rc = ims_model_new(&mp, out);
out:
	if (rc == IMS_ENOMEM)
		seterr(err, errlen, "out of memory");
	if (cv.dec)
		for (size_t g = 0; g < o.grid_n; g++)
			free(cv.dec[g]);
	free(cv.dec);
	free(cv.fold_of);
	free(cv.task_sec);
	free(all);
	free(w);
	free(metrics);
	nodes_free(&nd);
	return rc;
}

char *ims_train_report_json(const struct ims_train_report *r, const char *trainer)
{
	json_t *grid = json_array(), *o;
	char *s = NULL;

	if (!grid)
		return NULL;
	for (size_t g = 0; g < r->grid_n; g++)
		json_array_append_new(grid,
		                      json_pack("{s:f, s:f, s:f, s:f}", "C", r->grid_c[g],
		                                "cv_accuracy", r->grid_accuracy[g], "cv_roc_auc",
		                                r->grid_auc[g], "seconds", r->grid_seconds[g]));
	o = json_pack("{s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o}",
	              "trainer", trainer, "train_ham", (json_int_t)r->ham, "train_spam",
	              (json_int_t)r->spam, "cv_folds", (json_int_t)r->folds, "C", r->c,
	              "cv_accuracy", r->cv_accuracy, "cv_false_positive_rate", r->cv_fpr,
	              "cv_false_negative_rate", r->cv_fnr, "cv_roc_auc", r->cv_auc, "platt_a",
	              r->platt_a, "platt_b", r->platt_b, "seconds_cv", r->seconds_cv,
	              "seconds_final", r->seconds_final, "grid", grid);
	if (o &&
	    (json_object_set_new(o, "threshold", json_real(r->threshold)) ||
	     json_object_set_new(o, "target_fpr", json_real(r->target_fpr)) ||
	     json_object_set_new(o, "cv_accuracy_at_threshold", json_real(r->cv_t_accuracy)) ||
	     json_object_set_new(o, "cv_false_positive_rate_at_threshold",
	                         json_real(r->cv_t_fpr)) ||
	     json_object_set_new(o, "cv_false_negative_rate_at_threshold",
	                         json_real(r->cv_t_fnr)) ||
	     (r->has_quarantine &&
	      (json_object_set_new(o, "threshold_quarantine", json_real(r->threshold_quarantine)) ||
	       json_object_set_new(o, "quarantine_fpr", json_real(r->quarantine_fpr)))))) {
		json_decref(o);
		return NULL;
	}
	if (o)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
