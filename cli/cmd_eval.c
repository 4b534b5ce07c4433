/* ims eval: figures of a model on labelled folders.  See man/ims.1. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "classify.h"
#include "ims.h"
#include "metrics.h"

static void help(void)
{
	printf("usage: ims eval --ham DIR --spam DIR [--model FILE]\n\n"
	       "Classifies every file in the folders (each option may be given several\n"
	       "times; either may be omitted) on one thread and prints one JSON object:\n"
	       "accuracy, false_positive_rate (ham called spam), false_negative_rate,\n"
	       "roc_auc, messages_per_second (wall clock, reading, parsing and\n"
	       "classifying), messages_per_cpu_second (the same per second of CPU time,\n"
	       "steady on a busy machine), ham, spam, false_positives, false_negatives,\n"
	       "seconds, cpu_seconds, model_version, threshold (the model's decision\n"
	       "threshold the counts are taken at; roc_auc does not depend on it).\n");
}

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ims_cmd_eval(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"ham", required_argument, NULL, 'H'},
	    {"spam", required_argument, NULL, 'S'},
	    {"model", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char **files = NULL;
	size_t nfiles = 0, nham_files = 0;
	char **hamdirs = calloc((size_t)argc, sizeof *hamdirs);
	char **spamdirs = calloc((size_t)argc, sizeof *spamdirs);
	size_t nh = 0, ns = 0;
	double *score = NULL, t0, c0, secs, cpu, auc = 0.5, threshold = 0;
	int *y = NULL, c, rc = IMS_EXIT_ERROR;
	struct ims_model *m = NULL;
	struct ims_confusion conf;
	json_t *o = NULL;
	char *s = NULL;

	if (!hamdirs || !spamdirs) {
		rc = ims_cli_error("out of memory");
		goto out;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': hamdirs[nh++] = optarg; break;
		case 'S': spamdirs[ns++] = optarg; break;
		case 'm': cli->model_path = optarg; break;
		case 'h':
			help();
			rc = IMS_EXIT_OK;
			goto out;
		default: rc = ims_cli_usage_error("eval", "bad option"); goto out;
		}
	}
	if (optind < argc || nh + ns == 0) {
		rc = ims_cli_usage_error("eval", "give --ham DIR and/or --spam DIR");
		goto out;
	}
	for (size_t pass = 0; pass < 2; pass++) {
		char **dirs = pass ? spamdirs : hamdirs;

		for (size_t d = 0; d < (pass ? ns : nh); d++) {
			ims_status st = ims_cli_list_dir(dirs[d], &files, &nfiles);

			if (st != IMS_OK) {
				rc = ims_cli_error("%s: %s", dirs[d],
				                   st == IMS_ENOMEM ? "out of memory"
				                                    : strerror(errno));
				goto out;
			}
		}
		if (!pass)
			nham_files = nfiles;
	}
	if (nfiles == 0) {
		rc = ims_cli_error("eval: the folders hold no files");
		goto out;
	}
	m = ims_cli_model(cli);
	if (!m)
		goto out;
	score = malloc(nfiles * sizeof *score);
	y = malloc(nfiles * sizeof *y);
	if (!score || !y) {
		rc = ims_cli_error("out of memory");
		goto out;
	}
	t0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t i = 0; i < nfiles; i++) {
		char *buf;
		size_t len;
		struct ims_classification res;
		ims_status st = ims_cli_read_file(files[i], IMS_MIME_MAX_MESSAGE, &buf, &len);

		if (st == IMS_OK) {
			st = ims_classify_raw(m, buf, len, &res);
			free(buf);
		}
		if (st != IMS_OK) {
			rc =
			    ims_cli_error("%s: %s", files[i],
			                  st == IMS_EIO || st == IMS_ENOTFOUND ? strerror(errno)
			                                                       : ims_strstatus(st));
			goto out;
		}
		score[i] = res.score;
		y[i] = i < nham_files ? -1 : 1;
	}
	secs = now_s(CLOCK_MONOTONIC) - t0;
	cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	{
		struct ims_model_info mi;

		ims_model_get_info(m, &mi);
		threshold = mi.threshold;
	}
	ims_confusion_count_at(score, y, nfiles, threshold, &conf);
	if (ims_roc_auc(score, y, nfiles, &auc) != IMS_OK) {
		rc = ims_cli_error("out of memory");
		goto out;
	}
	o = json_pack(
	    "{s:f, s:f, s:f, s:f, s:f, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:s, s:f}", "accuracy",
	    1.0 - (double)(conf.false_positives + conf.false_negatives) / (double)nfiles,
	    "false_positive_rate", conf.ham ? (double)conf.false_positives / (double)conf.ham : 0.0,
	    "false_negative_rate",
	    conf.spam ? (double)conf.false_negatives / (double)conf.spam : 0.0, "roc_auc", auc,
	    "messages_per_second", secs > 0 ? (double)nfiles / secs : 0.0, "ham",
	    (json_int_t)conf.ham, "spam", (json_int_t)conf.spam, "false_positives",
	    (json_int_t)conf.false_positives, "false_negatives", (json_int_t)conf.false_negatives,
	    "seconds", secs, "cpu_seconds", cpu, "messages_per_cpu_second",
	    cpu > 0 ? (double)nfiles / cpu : 0.0, "model_version", ims_model_version(m),
	    "threshold", threshold);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!s) {
		rc = ims_cli_error("out of memory");
		goto out;
	}
	puts(s);
	rc = IMS_EXIT_OK;
out:
	free(s);
	json_decref(o);
	ims_model_unref(m);
	ims_cli_free_list(files, nfiles);
	free(score);
	free(y);
	free(hamdirs);
	free(spamdirs);
	return rc;
}
