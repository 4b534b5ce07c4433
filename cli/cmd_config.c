/* ims config check: is this configuration one the daemons will start with?
 * See man/ims.1.
 *
 * Loading the file already checks every value (lib/conf.c: types, ranges,
 * networks, addresses, sockets, users, thresholds in order).  This command
 * adds what only makes sense on the machine that will run it: the files the
 * configuration names exist, can be read, and secrets are not readable by
 * everyone; the model loads; clamd answers (a warning only: a clamd that is
 * down must not stop the milter, [antivirus] on_error decides). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "clamd.h"
#include "ims.h"
#include "intel.h"
#include "linktoken.h"

static void help(void)
{
	printf("usage: ims [-c FILE] config check [--no-files]\n\n"
	       "Loads the configuration as ims-milter and ims-webapi do (every value is\n"
	       "checked, errors name FILE:LINE and the key), then checks the files it names:\n"
	       "secrets and DKIM keys exist, are readable and are not world-readable, the\n"
	       "[intel] dir's lists load, and the model loads; warns when [antivirus] socket\n"
	       "is set and clamd does not answer.  Prints 'FILE: ok' and exits 0, or one line\n"
	       "per problem and exits 1.  --no-files skips the checks of the files and of\n"
	       "clamd.\n");
}

/* A file the configuration names: must exist and be readable; a secret must
 * not be readable by others.  Returns 1 when it is wrong (after saying why). */
static int check_file(const char *conf, const char *what, const char *path, int secret)
{
	struct stat st;
	FILE *f;

	if (!path || !*path)
		return 0;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s %s: %s\n", conf, what, path, strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: %s %s: not a regular file\n", conf, what, path);
		return 1;
	}
	if (!(f = fopen(path, "r"))) {
		fprintf(stderr, "%s: %s %s: cannot read: %s\n", conf, what, path, strerror(errno));
		return 1;
	}
	fclose(f);
	if (secret && (st.st_mode & 0007)) {
		fprintf(stderr, "%s: %s %s: readable by everyone (mode %04o; want 0600 or 0640)\n",
		        conf, what, path, (unsigned)(st.st_mode & 07777));
		return 1;
	}
	return 0;
}

/* [intel] dir: a readable directory whose list files load (bad lines are
 * logged as the daemons log them, and do not fail the check). */
static int check_intel(const char *conf, const char *dir)
{
	struct ims_intel_set *s = NULL;
	struct stat st;
	char err[300];

	if (!dir || !*dir)
		return 0;
	if (stat(dir, &st) != 0) {
		fprintf(stderr, "%s: [intel] dir %s: %s\n", conf, dir, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: [intel] dir %s: not a directory\n", conf, dir);
		return 1;
	}
	if (ims_intel_load(dir, 100000000, &s, err, sizeof err) != IMS_OK) {
		fprintf(stderr, "%s: [intel] dir %s: %s\n", conf, dir, err);
		return 1;
	}
	ims_intel_set_unref(s);
	return 0;
}

/* clamd answers an empty INSTREAM with "stream: OK": the socket is there,
 * this user may use it, and clamd is up.  Warns otherwise. */
static void check_clamd(const struct ims_conf *c, const char *conf)
{
	struct ims_clamd *cl = NULL;
	char why[256];
	bool infected;

	if (!c->antivirus_socket || !*c->antivirus_socket)
		return;
	if (ims_clamd_new(c->antivirus_socket, c->antivirus_timeout_ms, &cl, why, sizeof why) ==
	        IMS_OK &&
	    ims_clamd_scan(cl, "", 0, &infected, why, sizeof why) == IMS_OK)
		why[0] = '\0';
	ims_clamd_free(cl);
	if (why[0])
		fprintf(stderr,
		        "%s: warning: [antivirus] socket %s: %s (until it answers, on_error = %s "
		        "applies)\n",
		        conf, c->antivirus_socket, why, c->antivirus_on_error);
}

static int check(struct ims_cli *cli, int files)
{
	const struct ims_conf *c = ims_cli_conf(cli);
	struct ims_model *m;
	int bad = 0;

	if (!c)
		return IMS_EXIT_ERROR; /* the error (FILE:LINE: ...) is printed */
	if (files) {
		const char *p = c->path ? c->path : "(defaults)";
		bad += check_file(p, "[webapi] jwt_secret_file", c->webapi_jwt_secret_file, 1);
		bad += check_file(p, "[webapi] submission_password_file",
		                  c->webapi_submission_password_file, 1);
		if (c->links_key_file && *c->links_key_file) {
			struct ims_linkkey *k = NULL;
			char err[400];

			/* the rules the daemons apply (lib/linktoken.h) */
			if (ims_linkkey_load(c->links_key_file, &k, err, sizeof err) != IMS_OK) {
				fprintf(stderr, "%s: [links] key_file %s\n", p, err);
				bad++;
			}
			ims_linkkey_free(k);
		}
		for (char **k = c->dkim_keys; k && *k; k++) {
			const char *path = strchr(strchr(*k, ':') + 1, ':') + 1;
			bad += check_file(p, "[dkim] key", path, 1);
		}
		bad += check_intel(p, c->intel_dir);
		if (!(m = ims_cli_model(cli)))
			bad++;
		else
			ims_model_unref(m);
		check_clamd(c, p);
	}
	if (c->links_click_url && *c->links_click_url && strcmp(c->links_rewrite, "off") != 0 &&
	    (!c->links_key_file || !*c->links_key_file)) {
		fprintf(stderr,
		        "%s: [links] click_url is set but key_file is not: no link is "
		        "rewritten\n",
		        c->path ? c->path : "(defaults)");
		bad++;
	}
	if (bad)
		return IMS_EXIT_ERROR;
	printf("%s: ok\n", c->path ? c->path : "built-in defaults");
	return IMS_EXIT_OK;
}

int ims_cmd_config(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"no-files", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, files = 1;

	optind = 1; /* options may follow the subcommand: GNU getopt permutes */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': files = 0; break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("config", "bad option");
		}
	}
	if (optind >= argc)
		return ims_cli_usage_error("config", "missing subcommand (check)");
	if (strcmp(argv[optind], "check") != 0)
		return ims_cli_usage_error("config", "unknown subcommand '%s'", argv[optind]);
	if (optind + 1 != argc)
		return ims_cli_usage_error("config", "unexpected argument '%s'", argv[optind + 1]);
	return check(cli, files);
}
