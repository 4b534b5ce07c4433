/* ims model info: what a model file holds.  See man/ims.1. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ims.h"

static void help(void)
{
	printf("usage: ims [--model FILE] model info [--model FILE]\n\n"
	       "Checks the model file (checksum, format and feature version) and prints\n"
	       "its version, training date, trainer, feature settings, C, bias, Platt\n"
	       "sigmoid, decision threshold (and the quarantine threshold when it has\n"
	       "one) with the false-positive rates they were set for, and training\n"
	       "metrics, one 'key: value' per line.\n");
}

int ims_cmd_model(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"model", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ims_model_info in;
	struct ims_model *m;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': cli->model_path = optarg; break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("model", "bad option");
		}
	}
	if (optind >= argc)
		return ims_cli_usage_error("model", "missing subcommand (info)");
	if (strcmp(argv[optind], "info") != 0)
		return ims_cli_usage_error("model", "unknown subcommand '%s'", argv[optind]);
	/* options after "info" */
	argc -= optind;
	argv += optind;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': cli->model_path = optarg; break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("model", "bad option");
		}
	}
	if (optind < argc)
		return ims_cli_usage_error("model", "unexpected argument '%s'", argv[optind]);
	m = ims_cli_model(cli);
	if (!m)
		return IMS_EXIT_ERROR;
	ims_model_get_info(m, &in);
	printf("version: %s\n"
	       "trained_at: %s\n"
	       "trainer: %s\n"
	       "format_version: %u\n"
	       "feature_version: %u\n"
	       "hash_bits: %u\n"
	       "nonzero_weights: %zu\n"
	       "C: %g\n"
	       "rho: %.17g\n"
	       "platt_a: %.17g\n"
	       "platt_b: %.17g\n"
	       "threshold: %.17g\n"
	       "target_fpr: %g\n",
	       in.version, in.trained_at, in.trainer, in.format_version, in.feature_version,
	       in.hash_bits, in.nonzero, in.c, in.rho, in.platt_a, in.platt_b, in.threshold,
	       in.target_fpr);
	if (in.has_quarantine)
		printf("threshold_quarantine: %.17g\n"
		       "quarantine_fpr: %g\n",
		       in.threshold_quarantine, in.quarantine_fpr);
	printf("metrics: %s\n", in.metrics_json);
	ims_model_unref(m);
	return IMS_EXIT_OK;
}
