/* ims classify: one verdict per message.  See man/ims.1. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "classify.h"
#include "ims.h"

static void help(void)
{
	printf("usage: ims classify [--json] [--model FILE] FILE...\n\n"
	       "Classifies each message file ('-' reads one message from stdin) and\n"
	       "prints one line per message:\n"
	       "  FILE: spam|ham score=S probability=P\n"
	       "With --json, one JSON object per line instead:\n"
	       "  {\"file\": ..., \"verdict\": \"spam\"|\"ham\", \"score\": S, \"threshold\": T,\n"
	       "   \"probability\": P}\n"
	       "The score is the SVM decision value, spam above the model's threshold T;\n"
	       "the probability is of spam.\n"
	       "Exits 1 if any file could not be read (the others are still classified).\n");
}

static void print_json(const char *file, const struct ims_classification *c)
{
	json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:f}", "file", file, "verdict",
	                      c->spam ? "spam" : "ham", "score", c->score, "threshold",
	                      c->threshold, "probability", c->probability);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

int ims_cmd_classify(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"model", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int json = 0, c, rc = IMS_EXIT_OK;
	struct ims_model *m;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': json = 1; break;
		case 'm': cli->model_path = optarg; break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("classify", "bad option");
		}
	}
	if (optind >= argc)
		return ims_cli_usage_error("classify", "no message files given ('-' reads stdin)");
	m = ims_cli_model(cli);
	if (!m)
		return IMS_EXIT_ERROR;
	for (int i = optind; i < argc; i++) {
		const char *file = argv[i];
		char *buf;
		size_t len;
		struct ims_classification res;
		ims_status st = ims_cli_read_file(file, IMS_MIME_MAX_MESSAGE, &buf, &len);

		if (st == IMS_OK) {
			st = ims_classify_raw(m, buf, len, &res);
			free(buf);
		}
		if (st != IMS_OK) {
			fflush(stdout);
			if (st == IMS_ENOTFOUND || st == IMS_EIO)
				ims_cli_error("%s: %s", file, strerror(errno));
			else if (st == IMS_ELIMIT)
				ims_cli_error("%s: larger than %u bytes", file,
				              IMS_MIME_MAX_MESSAGE);
			else
				ims_cli_error("%s: %s", file, ims_strstatus(st));
			rc = IMS_EXIT_ERROR;
			continue;
		}
		if (json)
			print_json(file, &res);
		else
			printf("%s: %s score=%.4f probability=%.4f\n", file,
			       res.spam ? "spam" : "ham", res.score, res.probability);
	}
	ims_model_unref(m);
	if (fflush(stdout) != 0)
		rc = ims_cli_error("write error: %s", strerror(errno));
	return rc;
}
