/* ims feedback learn: record that a user calls a message spam or ham.
 * Dovecot's IMAPSieve runs it (through mta-config/dovecot/ims-feedback)
 * when a user moves a message into Junk or out of it; the message comes on
 * stdin.  The bounds and the one-entry-per-message rule live in
 * lib/feedback.c.  See man/ims.1. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "feedback.h"
#include "ims.h"
#include "log.h"

static void help(void)
{
	printf("usage: ims feedback learn --spam|--ham --user ADDRESS [--source NAME] < MESSAGE\n"
	       "       ims feedback count [--user ADDRESS]\n\n"
	       "Records that ADDRESS calls the message on stdin spam or ham, once per\n"
	       "message and user, within the [feedback] bounds of ims.conf.  Prints what\n"
	       "it did: recorded, changed, duplicate, rate_limited or user_full.\n\n"
	       "  --spam, --ham     the label\n"
	       "  --user ADDRESS    whose feedback it is (Dovecot's user name)\n"
	       "  --source NAME     where it came from (default imap)\n\n"
	       "count prints how many entries the feedback stream holds, or how many\n"
	       "messages one user's feedback covers.\n");
}

/* Dovecot's user names are lower-cased (%Lu) as ims stores them; a
 * caller's may not be. */
static void lower(const char *s, char *out)
{
	size_t i = 0;

	for (; s[i]; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	out[i] = '\0';
}

static int learn(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"spam", no_argument, NULL, 's'},       {"ham", no_argument, NULL, 'H'},
	    {"user", required_argument, NULL, 'u'}, {"source", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	const struct ims_conf *conf;
	const char *user = NULL, *source = "imap";
	char addr[IMS_FEEDBACK_USER_MAX + 1], err[512] = "", entry[32];
	struct ims_feedback_msg msg = {0};
	enum ims_feedback_outcome outcome;
	struct ims_store *rc;
	int c, label = 0, ret = IMS_EXIT_ERROR;
	ims_status st;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': label = IMS_FEEDBACK_SPAM; break;
		case 'H': label = IMS_FEEDBACK_HAM; break;
		case 'u': user = optarg; break;
		case 'S': source = optarg; break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("feedback", "bad option");
		}
	}
	if (optind < argc)
		return ims_cli_usage_error("feedback", "unexpected argument '%s'", argv[optind]);
	if (!label || !user)
		return ims_cli_usage_error("feedback", "learn needs --spam or --ham, and --user");
	if (strlen(user) > IMS_FEEDBACK_USER_MAX || !*user)
		return ims_cli_usage_error("feedback", "bad --user");
	for (size_t i = 0;
	     (addr[i] = (char)(user[i] >= 'A' && user[i] <= 'Z' ? user[i] + 32 : user[i])); i++)
		;
	if (!(conf = ims_cli_conf(cli)))
		return IMS_EXIT_ERROR;
	ims_log_open("ims-feedback", conf->log_target, conf->log_level, conf->log_facility);
	st = ims_feedback_msg_read(STDIN_FILENO, conf->feedback_max_message_size, &msg);
	if (st != IMS_OK) {
		ret = ims_cli_error("feedback: reading the message: %s",
		                    st == IMS_EIO      ? strerror(errno)
		                    : st == IMS_EINVAL ? "empty message"
		                                       : ims_strstatus(st));
		goto out;
	}
	if (!(rc = ims_cli_store_err(cli, err, sizeof err)) ||
	    ims_feedback_record(rc, conf, addr, label, &msg, source, &outcome, entry, err,
	                        sizeof err) != IMS_OK) {
		ims_log_err(NULL, "event=feedback_failed user=%s error=\"%s\"", addr, err);
		ret = ims_cli_error("feedback: %s", err);
		goto out;
	}
	if (outcome == IMS_FEEDBACK_RATE_LIMITED || outcome == IMS_FEEDBACK_USER_FULL)
		ims_log_warn(
		    NULL, "event=feedback_refused user=%s label=%s key=%s reason=%s limit=%d", addr,
		    label > 0 ? "spam" : "ham", msg.key, ims_feedback_outcome_name(outcome),
		    outcome == IMS_FEEDBACK_RATE_LIMITED ? conf->feedback_rate_per_hour
		                                         : conf->feedback_max_per_user);
	else
		ims_log_info(NULL, "event=feedback user=%s label=%s key=%s outcome=%s entry=%s%s",
		             addr, label > 0 ? "spam" : "ham", msg.key,
		             ims_feedback_outcome_name(outcome), entry[0] ? entry : "-",
		             msg.truncated ? " truncated=1" : "");
	printf("%s %s%s%s\n", ims_feedback_outcome_name(outcome), msg.key, entry[0] ? " " : "",
	       entry);
	ret = IMS_EXIT_OK;
out:
	ims_feedback_msg_clear(&msg);
	return ret;
}

static int count(struct ims_cli *cli, int argc, char **argv)
{
	const struct ims_conf *conf;
	char addr[IMS_FEEDBACK_USER_MAX + 1], err[512] = "";
	const char *user = NULL;
	struct ims_store *rc;
	long long n = 0;
	int ret;

	if (argc == 3 && strcmp(argv[1], "--user") == 0 &&
	    strlen(argv[2]) <= IMS_FEEDBACK_USER_MAX) {
		lower(argv[2], addr);
		user = addr;
	} else if (argc != 1) {
		return ims_cli_usage_error("feedback", "count takes only --user ADDRESS");
	}
	if (!(conf = ims_cli_conf(cli)))
		return IMS_EXIT_ERROR;
	if (!(rc = ims_cli_store_err(cli, err, sizeof err)))
		return ims_cli_error("feedback: %s", err);
	if (ims_feedback_count(rc, user, &n) != IMS_OK) {
		ret = ims_cli_error("feedback: counting failed (Redis)");
	} else {
		printf("%lld\n", n);
		ret = IMS_EXIT_OK;
	}
	return ret;
}

int ims_cmd_feedback(struct ims_cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help();
		return argc < 2 ? IMS_EXIT_USAGE : IMS_EXIT_OK;
	}
	if (strcmp(argv[1], "learn") == 0)
		return learn(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "count") == 0)
		return count(cli, argc - 1, argv + 1);
	return ims_cli_usage_error("feedback", "unknown action '%s'", argv[1]);
}
