/* ims: the command-line tool.  Global options, then a subcommand from the
 * table below.  See man/ims.1. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ims.h"

/* The subcommands.  To add one: write cli/cmd_NAME.c with
 * `int ims_cmd_NAME(struct ims_cli *, int, char **)`, declare it in
 * cli/ims.h, add it to cli/local.mk and add a row here (and a section to
 * man/ims.1).  Other engineers add rows (e.g. "user", cli/cmd_user.c). */
static const struct ims_command commands[] = {
    {"train", ims_cmd_train, "train a model from folders of ham and spam"},
    {"classify", ims_cmd_classify, "classify messages: one line (or JSON object) each"},
    {"eval", ims_cmd_eval, "measure a model on folders of ham and spam (JSON)"},
    {"model", ims_cmd_model, "show what a model file holds ('ims model info')"},
    {"user", ims_cmd_user, "manage accounts: add, del, passwd, list, role, disable, enable"},
    {"config", ims_cmd_config, "check a configuration file ('ims config check')"},
    {"retrain", ims_cmd_retrain, "train a candidate with users' feedback; install it if not worse"},
    {"feedback", ims_cmd_feedback, "record a user's spam/ham move ('ims feedback learn')"},
    {"quarantine", ims_cmd_quarantine, "mail users a digest of held messages; purge old ones"},
    {"migrate", ims_cmd_migrate, "drop the Redis copies of delivered mail an older ims kept"},
    {"rescan", ims_cmd_rescan, "score delivered mail again; pull what is now bad into quarantine"},
    {"events", ims_cmd_events, "print the event stream (JSON, CEF); forward it to syslog"},
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: ims [-c FILE] [--model FILE] COMMAND [ARGS...]\n\n"
	        "  -c FILE       configuration file (default %s)\n"
	        "  --model FILE  model file (default: [classifier] model in the configuration)\n"
	        "  -h, --help    this help; 'ims COMMAND --help' for a command's\n"
	        "  --version     print the version\n\ncommands:\n",
	        IMS_CONF_DEFAULT_PATH);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	struct ims_cli cli = {0};
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return IMS_EXIT_OK;
		} else if (strcmp(a, "--version") == 0) {
			printf("ims %s\n", PACKAGE_VERSION);
			return IMS_EXIT_OK;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (++i >= argc)
				return ims_cli_usage_error(NULL, "%s needs a file", a);
			cli.conf_path = argv[i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			cli.conf_path = a + 9;
		} else if (strcmp(a, "--model") == 0) {
			if (++i >= argc)
				return ims_cli_usage_error(NULL, "--model needs a file");
			cli.model_path = argv[i];
		} else if (strncmp(a, "--model=", 8) == 0) {
			cli.model_path = a + 8;
		} else {
			return ims_cli_usage_error(NULL, "unknown option %s", a);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return IMS_EXIT_USAGE;
	}
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
		if (strcmp(argv[i], commands[k].name) == 0) {
			rc = commands[k].run(&cli, argc - i, argv + i);
			ims_cli_done(&cli);
			return rc;
		}
	}
	return ims_cli_usage_error(NULL, "unknown command '%s'", argv[i]);
}
