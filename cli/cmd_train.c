/* ims train: build a model from folders of ham and spam.  See man/ims.1. */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "featurize.h"
#include "ims.h"
#include "message.h"
#include "train.h"
#include "train_feedback.h"

static void help(void)
{
	printf("usage: ims train --ham DIR --spam DIR -o MODEL [options]\n\n"
	       "Trains a linear SVM on every file in the ham and spam folders (each\n"
	       "may be given several times), chooses C by cross-validation on that\n"
	       "data, fits the probability sigmoid on held-out decision values, and\n"
	       "writes the model file.\n\n"
	       "  --ham DIR         a folder of ham messages, one message per file\n"
	       "  --spam DIR        a folder of spam messages\n"
	       "  -o, --output FILE the model file to write\n"
	       "  --trainer NAME    liblinear (default when built with it) or libsvm\n"
	       "  --C VALUE         use this C instead of choosing one by cross-validation\n"
	       "  --grid LIST       C values to try, comma-separated (default 0.3,1,3,10,30)\n"
	       "  --folds N         cross-validation folds (default 5)\n"
	       "  --threads N       training threads (default 2)\n"
	       "  --hash-bits N     feature space of 2^N (default %d)\n"
	       "  --ham-weight W    weight of a ham error relative to a spam error (default 1)\n"
	       "  --target-fpr F    set the decision threshold where a share F of the\n"
	       "                    held-out ham scores above it (default %g; 0: the SVM's\n"
	       "                    own threshold 0)\n"
	       "  --quarantine-fpr F  also a stricter threshold for quarantine at a share F\n"
	       "                    (< the target; default none)\n"
	       "  --feedback        also learn from users' spam/ham feedback (moves into and\n"
	       "                    out of Junk, web reports) in the Redis of the config file\n"
	       "  --cv-dump FILE    write the out-of-fold decision values ('label value' per\n"
	       "                    message, ham folders first, files sorted) for analysis\n"
	       "  -q, --quiet       no progress on stderr\n",
	       IMS_HASH_BITS_DEFAULT, IMS_TARGET_FPR_DEFAULT);
}

/* A positive number (C, a grid value, a class weight). */
static int parse_positive(const char *s, double *out)
{
	return ims_cli_parse_double(s, DBL_MIN, DBL_MAX, out);
}

/* Reads, parses and featurises every file of the folders into ds. */
static int load_dirs(char **dirs, size_t ndirs, int label, unsigned bits, struct ims_dataset *ds)
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
			char *buf;
			size_t len;

			st = ims_cli_read_file(files[i], IMS_MIME_MAX_MESSAGE, &buf, &len);
			if (st == IMS_ELIMIT) {
				fprintf(stderr, "ims train: %s: larger than %u bytes, skipped\n",
				        files[i], IMS_MIME_MAX_MESSAGE);
				continue;
			}
			if (st != IMS_OK) {
				int e = errno;

				ims_cli_free_list(files, n);
				return ims_cli_error("%s: %s", files[i], strerror(e));
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

int ims_cmd_train(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"ham", required_argument, NULL, 'H'},
	    {"spam", required_argument, NULL, 'S'},
	    {"output", required_argument, NULL, 'o'},
	    {"trainer", required_argument, NULL, 't'},
	    {"C", required_argument, NULL, 'C'},
	    {"grid", required_argument, NULL, 'g'},
	    {"folds", required_argument, NULL, 'f'},
	    {"threads", required_argument, NULL, 'j'},
	    {"hash-bits", required_argument, NULL, 'b'},
	    {"ham-weight", required_argument, NULL, 'w'},
	    {"cv-dump", required_argument, NULL, 'D'},
	    {"target-fpr", required_argument, NULL, 'T'},
	    {"quarantine-fpr", required_argument, NULL, 'Q'},
	    {"feedback", no_argument, NULL, 'F'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char **ham = calloc((size_t)argc, sizeof *ham), **spam = calloc((size_t)argc, sizeof *spam);
	size_t nham = 0, nspam = 0;
	const char *output = NULL;
	struct ims_train_opts o = {.trainer = NULL,
	                           .hash_bits = IMS_HASH_BITS_DEFAULT,
	                           .folds = 5,
	                           .threads = 2,
	                           .verbose = 1,
	                           .target_fpr = IMS_TARGET_FPR_DEFAULT};
	double grid[IMS_TRAIN_MAX_GRID];
	struct ims_dataset ds = {0};
	struct ims_model *m = NULL;
	struct ims_train_report rep;
	char err[512] = "";
	int c, rc = IMS_EXIT_ERROR, feedback = 0;
	long v;

	if (!ham || !spam) {
		rc = ims_cli_error("out of memory");
		goto out;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': ham[nham++] = optarg; break;
		case 'S': spam[nspam++] = optarg; break;
		case 'o': output = optarg; break;
		case 't':
			if (!ims_train_have(optarg)) {
				rc = ims_cli_usage_error("train", "trainer '%s' is not available",
				                         optarg);
				goto out;
			}
			o.trainer = optarg;
			break;
		case 'C':
			if (!parse_positive(optarg, &o.c)) {
				rc = ims_cli_usage_error("train", "bad --C '%s'", optarg);
				goto out;
			}
			break;
		case 'g': {
			char *s = optarg, *tok, *save = NULL;

			o.grid_n = 0;
			while ((tok = strtok_r(s, ",", &save)) && o.grid_n < IMS_TRAIN_MAX_GRID) {
				s = NULL;
				if (!parse_positive(tok, &grid[o.grid_n])) {
					rc = ims_cli_usage_error("train",
					                         "bad C value '%s' in --grid", tok);
					goto out;
				}
				o.grid_n++;
			}
			o.grid = grid;
			break;
		}
		case 'f':
			if (!ims_cli_parse_long(optarg, 2, 20, &v)) {
				rc = ims_cli_usage_error("train", "--folds must be 2..20");
				goto out;
			}
			o.folds = (int)v;
			break;
		case 'j':
			if (!ims_cli_parse_long(optarg, 1, 8, &v)) {
				rc = ims_cli_usage_error("train", "--threads must be 1..8");
				goto out;
			}
			o.threads = (int)v;
			break;
		case 'b':
			if (!ims_cli_parse_long(optarg, IMS_HASH_BITS_MIN, IMS_HASH_BITS_MAX, &v)) {
				rc = ims_cli_usage_error("train", "--hash-bits must be %d..%d",
				                         IMS_HASH_BITS_MIN, IMS_HASH_BITS_MAX);
				goto out;
			}
			o.hash_bits = (unsigned)v;
			break;
		case 'w':
			if (!parse_positive(optarg, &o.ham_weight)) {
				rc = ims_cli_usage_error("train", "bad --ham-weight '%s'", optarg);
				goto out;
			}
			break;
		case 'D': o.cv_dump = optarg; break;
		case 'T':
		case 'Q': {
			char *end;
			double f;

			errno = 0;
			f = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(f >= 0 && f < 0.5)) {
				rc =
				    ims_cli_usage_error("train", "--%s must be 0 <= F < 0.5",
				                        c == 'T' ? "target-fpr" : "quarantine-fpr");
				goto out;
			}
			if (c == 'T')
				o.target_fpr = f > 0 ? f : -1; /* 0: the SVM's own threshold */
			else
				o.quarantine_fpr = f;
			break;
		}
		case 'F': feedback = 1; break;
		case 'q': o.verbose = 0; break;
		case 'h':
			help();
			rc = IMS_EXIT_OK;
			goto out;
		default: rc = ims_cli_usage_error("train", "bad option"); goto out;
		}
	}
	if (optind < argc) {
		rc = ims_cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!nham || !nspam || !output) {
		rc = ims_cli_usage_error("train", "--ham, --spam and -o are required");
		goto out;
	}
	if (o.quarantine_fpr > 0 && o.target_fpr > 0 && o.quarantine_fpr >= o.target_fpr) {
		rc = ims_cli_usage_error("train", "--quarantine-fpr must be below --target-fpr");
		goto out;
	}
	if (!o.trainer) /* liblinear when built with it: docs/classifier.md "Training" */
		o.trainer = ims_train_have("liblinear") ? "liblinear" : "libsvm";
	if (load_dirs(ham, nham, -1, o.hash_bits, &ds) ||
	    load_dirs(spam, nspam, 1, o.hash_bits, &ds))
		goto out;
	if (feedback) {
		const struct ims_conf *conf = ims_cli_conf(cli);
		struct ims_fb_set fb;
		size_t fham, fspam;
		ims_status st;

		if (!conf)
			goto out;
		if ((st = ims_fb_collect(cli, &fb, err, sizeof err)) == IMS_OK) {
			st = ims_fb_add(&fb, o.hash_bits, -1, &ds, &fham, &fspam, err, sizeof err);
			if (st == IMS_OK && o.verbose)
				fprintf(stderr,
				        "ims train: feedback: %zu reports, %zu ham + %zu spam "
				        "messages\n",
				        fb.entries, fham, fspam);
			ims_fb_set_free(&fb);
		}
		if (st != IMS_OK) {
			rc = ims_cli_error("train --feedback: %s", err);
			goto out;
		}
	}
	if (ims_train(&ds, &o, &m, &rep, err, sizeof err) != IMS_OK) {
		rc = ims_cli_error("train: %s", err);
		goto out;
	}
	if (ims_model_save(m, output, err, sizeof err) != IMS_OK) {
		rc = ims_cli_error("%s", err);
		goto out;
	}
	printf("trained %s on %zu ham + %zu spam: C=%g, cv accuracy %.4f, cv fpr %.4f, "
	       "cv roc_auc %.5f; threshold %.4f: cv accuracy %.4f, cv fpr %.4f, cv fnr %.4f; "
	       "%.1f s; wrote %s (version %s)\n",
	       o.trainer, rep.ham, rep.spam, rep.c, rep.cv_accuracy, rep.cv_fpr, rep.cv_auc,
	       rep.threshold, rep.cv_t_accuracy, rep.cv_t_fpr, rep.cv_t_fnr,
	       rep.seconds_cv + rep.seconds_final, output, ims_model_version(m));
	rc = IMS_EXIT_OK;
out:
	(void)cli;
	ims_model_unref(m);
	ims_dataset_free(&ds);
	free(ham);
	free(spam);
	return rc;
}
