/* ims retrain: train a candidate model from the corpus's training part and
 * users' feedback, compare it with the installed model on held-out data,
 * and install it only when it is not worse.  See man/ims.1 and
 * docs/classifier.md ("Retraining").
 *
 * Held out, by a fixed split so every run holds out the same messages:
 * the corpus files whose name, and the feedback whose message key, hash
 * (FNV-1a) to 0 modulo --holdout (default 5).  The candidate never trains
 * on them; both models are measured on all of them.  The criterion, on the
 * corpus share and the feedback share each: the candidate's extra errors
 * (messages it gets wrong and the baseline right, minus the reverse), and
 * its extra false positives among the ham, are at most --z standard errors
 * of that paired difference plus --tolerance of the messages
 * (ims_paired_worse, classifier/metrics.h).  Installing is ims_model_save (a temporary file renamed
 * over the model), after the old file is kept as MODEL.prev; ims-milter and
 * ims-webapi watch the file and use the new model within seconds (lib/
 * engine.h).  Every run, installed or not, is an audit event. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib.h>
#include <jansson.h>

#include "classify.h"
#include "events.h"
#include "featurize.h"
#include "ims.h"
#include "message.h"
#include "metrics.h"
#include "train.h"
#include "train_feedback.h"

struct heldout {
	struct {
		char *raw;
		size_t len;
		int label;
	} * m;
	size_t n, cap;
	size_t corpus, feedback;
};

struct figures {
	int have;
	size_t ham, spam, fp, fn;
	double accuracy, fpr, fnr;
};

static void help(void)
{
	printf("usage: ims retrain --ham DIR --spam DIR [options]\n\n"
	       "Trains a candidate from the corpus's training part (--ham/--spam, each\n"
	       "may be given several times) and users' feedback in Redis, measures it\n"
	       "and the installed model on the same held-out messages (a fixed share of\n"
	       "both that the candidate never trains on), and installs the candidate\n"
	       "only when it is not worse: its extra errors, and its extra false\n"
	       "positives on ham, over the installed model's on the same messages are\n"
	       "within what chance explains (a paired, McNemar-style test).  The model\n"
	       "file is --model FILE or [classifier] model; the old one is kept as\n"
	       "FILE.prev.  The result is an audit event (op model.retrain) and one\n"
	       "JSON object on stdout.\n\n"
	       "  --ham DIR         ham of the corpus's training part (never its test part)\n"
	       "  --spam DIR        spam of the corpus's training part\n"
	       "  --holdout N       hold out 1 in N messages (default 5)\n"
	       "  --z Z             standard errors of the paired difference that still\n"
	       "                    count as chance (default 1.645: one-sided 95 %%)\n"
	       "  --tolerance X     a further margin, as a share of the held-out messages\n"
	       "                    (default 0)\n"
	       "  --no-feedback     train and measure on the corpus alone\n"
	       "  --dry-run         measure and report; install nothing\n"
	       "  --trainer NAME    liblinear (default when built with it) or libsvm\n"
	       "  --C VALUE         use this C instead of choosing one by cross-validation\n"
	       "  --folds N         cross-validation folds (default 5)\n"
	       "  --threads N       training threads (default 2)\n"
	       "  --hash-bits N     feature space (default: the installed model's)\n"
	       "  -q, --quiet       no progress on stderr\n");
}

static unsigned fnv1a(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int held_add(struct heldout *h, char *raw, size_t len, int label)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 512;
		void *p = realloc(h->m, cap * sizeof *h->m);

		if (!p)
			return -1;
		h->m = p;
		h->cap = cap;
	}
	h->m[h->n].raw = raw;
	h->m[h->n].len = len;
	h->m[h->n].label = label;
	h->n++;
	return 0;
}

static void held_free(struct heldout *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->m[i].raw);
	free(h->m);
}

/* Every file of the folders: held-out ones kept raw in h, the others
 * featurised into ds. */
static int load_corpus(char **dirs, size_t ndirs, int label, unsigned bits, unsigned mod,
                       struct ims_dataset *ds, struct heldout *h)
{
	struct ims_feature_opts fo = {bits};

	for (size_t d = 0; d < ndirs; d++) {
		char **files = NULL;
		size_t n = 0;
		ims_status st = ims_cli_list_dir(dirs[d], &files, &n);

		if (st != IMS_OK) {
			ims_cli_free_list(files, n);
			return ims_cli_error("%s: %s", dirs[d],
			                     st == IMS_ENOMEM ? "out of memory" : strerror(errno));
		}
		for (size_t i = 0; i < n; i++) {
			const char *base = strrchr(files[i], '/');
			char *buf;
			size_t len;

			st = ims_cli_read_file(files[i], IMS_MIME_MAX_MESSAGE, &buf, &len);
			if (st == IMS_ELIMIT)
				continue;
			if (st != IMS_OK) {
				int e = errno;

				ims_cli_free_list(files, n);
				return ims_cli_error("%s: %s", files[i], strerror(e));
			}
			if (fnv1a(base ? base + 1 : files[i]) % mod == 0) {
				if (held_add(h, buf, len, label) != 0) {
					free(buf);
					ims_cli_free_list(files, n);
					return ims_cli_error("out of memory");
				}
				h->corpus++;
				continue;
			}
			st = ims_cli_dataset_add_message(ds, &fo, buf, len, label);
			free(buf);
			if (st != IMS_OK) {
				ims_cli_free_list(files, n);
				return ims_cli_error("%s: %s", files[i], ims_strstatus(st));
			}
		}
		ims_cli_free_list(files, n);
	}
	return 0;
}

/* Figures of m on held-out messages [from, to). */
/* Discordant messages of the candidate against the baseline on the same
 * held-out messages: errors (all) and false positives (ham) that the
 * candidate makes and the baseline does not (worse), and the reverse. */
struct paired {
	size_t n, err_worse, err_better;
	size_t ham, fp_worse, fp_better;
};

static void figures_end(struct figures *f)
{
	f->have = 1;
	f->accuracy =
	    f->ham + f->spam ? 1.0 - (double)(f->fp + f->fn) / (double)(f->ham + f->spam) : 0.0;
	f->fpr = f->ham ? (double)f->fp / (double)f->ham : 0.0;
	f->fnr = f->spam ? (double)f->fn / (double)f->spam : 0.0;
}

/* Classifies held-out messages [from, to) with cand and, when base is not
 * NULL, with base, and fills their figures and the paired counts. */
static ims_status measure(const struct ims_model *cand, const struct ims_model *base,
                          const struct heldout *h, size_t from, size_t to, struct figures *fc,
                          struct figures *fb, struct paired *p)
{
	memset(fc, 0, sizeof *fc);
	memset(fb, 0, sizeof *fb);
	memset(p, 0, sizeof *p);
	if (from == to)
		return IMS_OK; /* nothing held out here: no figures */
	for (size_t i = from; i < to; i++) {
		struct ims_classification c, b = {0};
		ims_status st = ims_classify_raw(cand, h->m[i].raw, h->m[i].len, &c);
		int spam = h->m[i].label > 0, cwrong, bwrong;

		if (st == IMS_OK && base)
			st = ims_classify_raw(base, h->m[i].raw, h->m[i].len, &b);
		if (st == IMS_ELIMIT)
			continue;
		if (st != IMS_OK)
			return st;
		cwrong = (c.spam != 0) != spam;
		bwrong = (b.spam != 0) != spam;
		if (spam) {
			fc->spam++;
			fb->spam++;
			fc->fn += cwrong;
			fb->fn += bwrong;
		} else {
			fc->ham++;
			fb->ham++;
			fc->fp += cwrong;
			fb->fp += bwrong;
			p->ham++;
			p->fp_worse += cwrong && !bwrong;
			p->fp_better += bwrong && !cwrong;
		}
		p->n++;
		p->err_worse += cwrong && !bwrong;
		p->err_better += bwrong && !cwrong;
	}
	figures_end(fc);
	if (base)
		figures_end(fb);
	return IMS_OK;
}

static json_t *paired_json(const struct paired *p)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "errors_worse", (json_int_t)p->err_worse,
	                 "errors_better", (json_int_t)p->err_better, "false_positives_worse",
	                 (json_int_t)p->fp_worse, "false_positives_better",
	                 (json_int_t)p->fp_better);
}

static json_t *figures_json(const struct figures *f)
{
	if (!f->have)
		return json_null();
	return json_pack("{s:f, s:f, s:f, s:I, s:I, s:I, s:I}", "accuracy", f->accuracy,
	                 "false_positive_rate", f->fpr, "false_negative_rate", f->fnr, "ham",
	                 (json_int_t)f->ham, "spam", (json_int_t)f->spam, "false_positives",
	                 (json_int_t)f->fp, "false_negatives", (json_int_t)f->fn);
}

/* MODEL.retrain says which model `ims retrain` installed with which
 * split; only such a model never saw the held-out messages. */
static int trained_without_heldout(const char *path, const struct ims_model *m, unsigned mod)
{
	char *side = g_strdup_printf("%s.retrain", path);
	json_t *j = json_load_file(side, 0, NULL);
	const char *v = json_string_value(json_object_get(j, "model_version"));
	int ok = v && strcmp(v, ims_model_version(m)) == 0 &&
	         json_integer_value(json_object_get(j, "holdout")) == (json_int_t)mod;

	json_decref(j);
	g_free(side);
	return ok;
}

static ims_status write_sidecar(const char *path, const struct ims_model *m, unsigned mod,
                                char *err, size_t errlen)
{
	char *side = g_strdup_printf("%s.retrain", path), *tmp = g_strdup_printf("%s.tmp", side);
	json_t *j =
	    json_pack("{s:s, s:I, s:s}", "model_version", ims_model_version(m), "holdout",
	              (json_int_t)mod, "split", "fnv1a(file name | message key) % holdout == 0");
	ims_status st = IMS_OK;

	if (!j || json_dump_file(j, tmp, JSON_INDENT(1)) != 0 || rename(tmp, side) != 0) {
		snprintf(err, errlen, "%s: %s", side, strerror(errno));
		unlink(tmp);
		st = IMS_EIO;
	}
	json_decref(j);
	g_free(side);
	g_free(tmp);
	return st;
}

/* An exclusive flock on MODEL.lock; -1 (err says why) when another run
 * holds it or it cannot be made. */
static int lock_model(const char *path, char *err, size_t errlen)
{
	char *lock = g_strdup_printf("%s.lock", path);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		snprintf(err, errlen, "%s: %s", lock, strerror(errno));
	else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "%s: %s", lock,
		         errno == EWOULDBLOCK ? "another ims retrain is running" : strerror(errno));
		close(fd);
		fd = -1;
	}
	g_free(lock);
	return fd;
}

/* Keeps the installed file as path.prev (a hard link, so the installed
 * name never disappears), then saves m over path (temporary file and
 * rename). */
static ims_status install(const struct ims_model *m, const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path) + 8;
	char *prev = malloc(n);
	ims_status st;

	if (!prev) {
		snprintf(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	snprintf(prev, n, "%s.prev", path);
	if ((unlink(prev) != 0 && errno != ENOENT) || (link(path, prev) != 0 && errno != ENOENT)) {
		snprintf(err, errlen, "%s: %s", prev, strerror(errno));
		free(prev);
		return IMS_EIO;
	}
	free(prev);
	st = ims_model_save(m, path, err, errlen);
	return st;
}

int ims_cmd_retrain(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"ham", required_argument, NULL, 'H'},
	    {"spam", required_argument, NULL, 'S'},
	    {"holdout", required_argument, NULL, 'k'},
	    {"tolerance", required_argument, NULL, 'T'},
	    {"z", required_argument, NULL, 'Z'},
	    {"no-feedback", no_argument, NULL, 'N'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"trainer", required_argument, NULL, 't'},
	    {"C", required_argument, NULL, 'C'},
	    {"folds", required_argument, NULL, 'f'},
	    {"threads", required_argument, NULL, 'j'},
	    {"hash-bits", required_argument, NULL, 'b'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char **ham = calloc((size_t)argc, sizeof *ham), **spam = calloc((size_t)argc, sizeof *spam);
	size_t nham = 0, nspam = 0, fb_ham = 0, fb_spam = 0, fb_entries = 0, n_corpus = 0;
	struct ims_train_opts o = {.folds = 5, .threads = 2, .verbose = 1};
	struct ims_dataset ds = {0};
	struct heldout held = {0};
	struct ims_fb_set fb = {0};
	struct ims_model *cur = NULL, *cand = NULL, *ref = NULL;
	struct ims_train_report rep;
	struct figures fcur[2] = {{0}}, fcand[2] = {{0}};
	struct paired pair[2] = {{0}};
	const struct ims_conf *conf = NULL;
	const char *path, *result, *reason, *baseline = "current";
	char err[512] = "", cur_err[512] = "", actor[128], event_id[32] = "",
	     no_model_reason[640] = "";
	struct ims_store *store;
	int lock_fd = -1;
	double tolerance = 0.0, z = 1.645;
	int c, rc = IMS_EXIT_ERROR, use_feedback = 1, dry_run = 0, swap;
	unsigned mod = 5;
	long v;
	ims_status st;

	if (!ham || !spam) {
		rc = ims_cli_error("out of memory");
		goto out;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': ham[nham++] = optarg; break;
		case 'S': spam[nspam++] = optarg; break;
		case 'k':
			if (!ims_cli_parse_long(optarg, 2, 100, &v)) {
				rc = ims_cli_usage_error("retrain", "--holdout must be 2..100");
				goto out;
			}
			mod = (unsigned)v;
			break;
		case 'T':
			if (!ims_cli_parse_double(optarg, 0, 1, &tolerance)) {
				rc = ims_cli_usage_error("retrain", "--tolerance must be 0..1");
				goto out;
			}
			break;
		case 'Z':
			if (!ims_cli_parse_double(optarg, 0, 10, &z)) {
				rc = ims_cli_usage_error("retrain", "--z must be 0..10");
				goto out;
			}
			break;
		case 'N': use_feedback = 0; break;
		case 'n': dry_run = 1; break;
		case 't':
			if (!ims_train_have(optarg)) {
				rc = ims_cli_usage_error("retrain", "trainer '%s' is not available",
				                         optarg);
				goto out;
			}
			o.trainer = optarg;
			break;
		case 'C':
			if (!ims_cli_parse_double(optarg, 1e-6, 1e6, &o.c)) {
				rc = ims_cli_usage_error("retrain", "bad --C '%s'", optarg);
				goto out;
			}
			break;
		case 'f':
			if (!ims_cli_parse_long(optarg, 2, 20, &v)) {
				rc = ims_cli_usage_error("retrain", "--folds must be 2..20");
				goto out;
			}
			o.folds = (int)v;
			break;
		case 'j':
			if (!ims_cli_parse_long(optarg, 1, 8, &v)) {
				rc = ims_cli_usage_error("retrain", "--threads must be 1..8");
				goto out;
			}
			o.threads = (int)v;
			break;
		case 'b':
			if (!ims_cli_parse_long(optarg, IMS_HASH_BITS_MIN, IMS_HASH_BITS_MAX, &v)) {
				rc = ims_cli_usage_error("retrain", "--hash-bits must be %d..%d",
				                         IMS_HASH_BITS_MIN, IMS_HASH_BITS_MAX);
				goto out;
			}
			o.hash_bits = (unsigned)v;
			break;
		case 'q': o.verbose = 0; break;
		case 'h':
			help();
			rc = IMS_EXIT_OK;
			goto out;
		default: rc = ims_cli_usage_error("retrain", "bad option"); goto out;
		}
	}
	if (optind < argc) {
		rc = ims_cli_usage_error("retrain", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!nham || !nspam) {
		rc = ims_cli_usage_error("retrain", "--ham and --spam are required");
		goto out;
	}
	if (!(conf = ims_cli_conf(cli)))
		goto out;
	path = cli->model_path ? cli->model_path : conf->classifier_model;
	if (!path || !*path) {
		rc = ims_cli_error(
		    "retrain: no model file: give --model FILE or set [classifier] model");
		goto out;
	}
	/* one run at a time per model file (they would share MODEL.tmp) */
	if ((lock_fd = lock_model(path, err, sizeof err)) < 0) {
		rc = ims_cli_error("retrain: %s", err);
		goto out;
	}
	/* Redis first: the audit event must be writable before anything is
	 * installed */
	if (!(store = ims_cli_store(cli, "retrain"))) {
		rc = IMS_EXIT_ERROR;
		goto out;
	}
	/* the installed model; a missing or broken one is replaced by any
	 * candidate that trains */
	if (ims_model_load(path, &cur, cur_err, sizeof cur_err) != IMS_OK) {
		cur = NULL;
		snprintf(no_model_reason, sizeof no_model_reason,
		         "no installed model could be loaded: %s", cur_err);
	}
	/* trained like the installed model: its hash bits and the false-positive
	 * rates its thresholds were set for (else ims train's defaults) */
	o.target_fpr = IMS_TARGET_FPR_DEFAULT;
	if (cur) {
		struct ims_model_info info;

		ims_model_get_info(cur, &info);
		if (!o.hash_bits)
			o.hash_bits = info.hash_bits;
		if (info.target_fpr > 0 && info.target_fpr < 1)
			o.target_fpr = info.target_fpr;
		if (info.has_quarantine && info.quarantine_fpr > 0 &&
		    info.quarantine_fpr < o.target_fpr)
			o.quarantine_fpr = info.quarantine_fpr;
	}
	if (!o.hash_bits)
		o.hash_bits = IMS_HASH_BITS_DEFAULT;
	if (!o.trainer)
		o.trainer = ims_train_have("liblinear") ? "liblinear" : "libsvm";
	if (load_corpus(ham, nham, -1, o.hash_bits, mod, &ds, &held) ||
	    load_corpus(spam, nspam, 1, o.hash_bits, mod, &ds, &held))
		goto out;
	n_corpus = ds.n;
	if (use_feedback) {
		if ((st = ims_fb_collect(cli, &fb, err, sizeof err)) != IMS_OK) {
			rc = ims_cli_error("retrain: feedback: %s", err);
			goto out;
		}
		fb_entries = fb.entries;
		if ((st = ims_fb_add(&fb, o.hash_bits, 0, &ds, &fb_ham, &fb_spam, err,
		                     sizeof err)) != IMS_OK) {
			rc = ims_cli_error("retrain: %s", err);
			goto out;
		}
		for (size_t i = 0; i < fb.n; i++) {
			if (!fb.r[i].holdout)
				continue;
			if (held_add(&held, fb.r[i].raw, fb.r[i].len, fb.r[i].label) != 0) {
				rc = ims_cli_error("out of memory");
				goto out;
			}
			fb.r[i].raw = NULL; /* held owns it now */
			held.feedback++;
		}
	}
	if (o.verbose)
		fprintf(stderr,
		        "ims retrain: %zu training messages (feedback %zu ham + %zu spam of %zu "
		        "reports), %zu held out (%zu corpus, %zu feedback)\n",
		        ds.n, fb_ham, fb_spam, fb_entries, held.n, held.corpus, held.feedback);
	if (!held.n) {
		rc = ims_cli_error("retrain: nothing held out (too few messages for --holdout %u)",
		                   mod);
		goto out;
	}
	if (ims_train(&ds, &o, &cand, &rep, err, sizeof err) != IMS_OK) {
		rc = ims_cli_error("retrain: %s", err);
		goto out;
	}
	/* The installed model is the baseline when it never trained on the
	 * held-out messages (ims retrain installed it with this split).  Else
	 * (`ims train` used the whole training part) it would be judged on
	 * messages it learnt, so a reference stands in for it: trained on the
	 * corpus share alone with the installed model's C, hash bits and the
	 * candidate's trainer. */
	if (cur && !trained_without_heldout(path, cur, mod)) {
		struct ims_dataset corpus = {.n = n_corpus, .cap = n_corpus, .x = ds.x, .y = ds.y};
		struct ims_train_opts ro = o;
		struct ims_train_report rr;

		struct ims_model_info info;

		ims_model_get_info(cur, &info);
		ro.c = info.c > 0 ? info.c : rep.c;
		ro.verbose = 0;
		if (ims_train(&corpus, &ro, &ref, &rr, err, sizeof err) != IMS_OK) {
			rc = ims_cli_error("retrain: reference: %s", err);
			goto out;
		}
		baseline = "reference";
	}
	/* part 0: the corpus's held-out share (added first), 1: the feedback's */
	for (int k = 0; k < 2; k++) {
		size_t from = k ? held.corpus : 0, to = k ? held.n : held.corpus;

		if ((st = measure(cand, cur ? (ref ? ref : cur) : NULL, &held, from, to, &fcand[k],
		                  &fcur[k], &pair[k])) != IMS_OK) {
			rc = ims_cli_error("retrain: measuring: %s", ims_strstatus(st));
			goto out;
		}
	}
	swap = 1;
	reason = cur ? "not worse on the held-out messages" : no_model_reason;
	for (int k = 0; cur && k < 2 && swap; k++) {
		if (!fcand[k].have)
			continue;
		if (ims_paired_worse(pair[k].err_worse, pair[k].err_better, pair[k].n, z,
		                     tolerance)) {
			swap = 0;
			reason = k ? "lower accuracy on the held-out feedback"
			           : "lower accuracy on the held-out corpus messages";
		} else if (ims_paired_worse(pair[k].fp_worse, pair[k].fp_better, pair[k].ham, z,
		                            tolerance)) {
			swap = 0;
			reason = k ? "higher false-positive rate on the held-out feedback"
			           : "higher false-positive rate on the held-out corpus messages";
		}
	}
	result = !swap ? "kept" : dry_run ? "dry_run" : "installed";
	if (swap && !dry_run &&
	    (install(cand, path, err, sizeof err) != IMS_OK ||
	     write_sidecar(path, cand, mod, err, sizeof err) != IMS_OK)) {
		rc = ims_cli_error("retrain: installing %s: %s", path, err);
		goto out;
	}
	/* the audit event: every run, installed or not */
	{
		char num[8][32], nheld[32], nfb[32];
		const char *kv[] = {
		    "result",
		    result,
		    "reason",
		    reason,
		    "candidate",
		    ims_model_version(cand),
		    "current",
		    cur ? ims_model_version(cur) : "",
		    "baseline",
		    cur ? baseline : "",
		    "corpus_accuracy",
		    num[0],
		    "corpus_fpr",
		    num[1],
		    "baseline_corpus_accuracy",
		    num[2],
		    "baseline_corpus_fpr",
		    num[3],
		    "feedback_accuracy",
		    num[4],
		    "feedback_fpr",
		    num[5],
		    "baseline_feedback_accuracy",
		    num[6],
		    "baseline_feedback_fpr",
		    num[7],
		    "heldout",
		    nheld,
		    "feedback",
		    nfb,
		};

		for (int k = 0; k < 2; k++) {
			const struct figures *fc = &fcand[k], *base = &fcur[k];

			snprintf(num[4 * k], 32, fc->have ? "%.6f" : "", fc->accuracy);
			snprintf(num[4 * k + 1], 32, fc->have ? "%.6f" : "", fc->fpr);
			snprintf(num[4 * k + 2], 32, base->have ? "%.6f" : "", base->accuracy);
			snprintf(num[4 * k + 3], 32, base->have ? "%.6f" : "", base->fpr);
		}
		snprintf(nheld, sizeof nheld, "%zu", held.n);
		snprintf(nfb, sizeof nfb, "%zu", fb_ham + fb_spam);
		ims_events_cli_actor(actor, sizeof actor);
		/* the connection opened at the start may have timed out meanwhile:
		 * the store connects again, once more */
		if ((st = ims_events_audit(store, actor, "model.retrain", path, kv,
		                           sizeof kv / sizeof kv[0] / 2, event_id)) != IMS_OK &&
		    (st = ims_events_audit(store, actor, "model.retrain", path, kv,
		                           sizeof kv / sizeof kv[0] / 2, event_id)) != IMS_OK) {
			rc = ims_cli_error("retrain: %s, but the audit event could not be "
			                   "written (Redis: %s)",
			                   result, ims_strstatus(st));
			goto out;
		}
	}
	{
		json_t *j = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:{s:I, s:I}, s:{s:I, s:I, s:I, s:f}, "
		    "s:{s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o}, s:f, s:s}",
		    "result", result, "reason", reason, "model", path, "candidate_version",
		    ims_model_version(cand), "current_version", cur ? ims_model_version(cur) : "",
		    "baseline", cur ? baseline : "", "tolerance", tolerance, "heldout", "corpus",
		    (json_int_t)held.corpus, "feedback", (json_int_t)held.feedback, "training",
		    "messages", (json_int_t)ds.n, "feedback_ham", (json_int_t)fb_ham,
		    "feedback_spam", (json_int_t)fb_spam, "C", rep.c, "candidate", "corpus",
		    figures_json(&fcand[0]), "feedback", figures_json(&fcand[1]),
		    "baseline_figures", "corpus", figures_json(&fcur[0]), "feedback",
		    figures_json(&fcur[1]), "paired", "corpus",
		    cur && fcand[0].have ? paired_json(&pair[0]) : json_null(), "feedback",
		    cur && fcand[1].have ? paired_json(&pair[1]) : json_null(), "z", z, "event_id",
		    event_id);
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

		if (!text) {
			json_decref(j);
			rc = ims_cli_error("out of memory");
			goto out;
		}
		printf("%s\n", text);
		free(text);
		json_decref(j);
	}
	rc = IMS_EXIT_OK;
out:
	if (lock_fd >= 0)
		close(lock_fd); /* releases the lock */
	ims_model_unref(cur);
	ims_model_unref(cand);
	ims_model_unref(ref);
	ims_fb_set_free(&fb);
	held_free(&held);
	ims_dataset_free(&ds);
	free(ham);
	free(spam);
	return rc;
}
