/* ims quarantine digest|purge: the quarantine (lib/quarantine.h) from the
 * command line.
 *
 * digest mails each user a list of what was held for them since the last
 * digest, submitted through Postfix like the web API's mail ([webapi]
 * submission, logging in as the Dovecot master user submission_user acting
 * as [quarantine] digest_from), so it is scanned and signed like any other
 * message.  Each user's place (the newest held message listed) is kept in
 * Redis only after their digest was accepted, so a failed run sends the
 * rest next time and nobody gets the same list twice.  See man/ims.1. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>
#include <jansson.h>
#include <sodium.h>

#include "compose.h"
#include "ims.h"
#include "quarantine.h"
#include "smtp.h"
#include "users.h"

#define DIGEST_MAX_ITEMS 200 /* listed per user and run; the rest next run */
#define PURGE_MAX        100000

static void help(void)
{
	printf("usage: ims quarantine digest [--dry-run]\n"
	       "       ims quarantine purge\n\n"
	       "digest: mails each user the list of messages held for them since their last\n"
	       "digest, through [webapi] submission as [quarantine] digest_from (an ims user);\n"
	       "--dry-run prints the messages instead and remembers nothing.\n"
	       "purge: removes held messages older than [quarantine] retention_days.\n");
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct addrs {
	char (*a)[IMS_USERS_ADDR_MAX + 1];
	size_t n, cap;
	char last[IMS_USERS_ADDR_MAX + 1]; /* the last account listed, disabled or not */
	int oom;
};

static int collect(const struct ims_user_info *info, void *arg)
{
	struct addrs *l = arg;

	snprintf(l->last, sizeof l->last, "%s", info->address);
	if (info->disabled)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->a, cap * sizeof *l->a);
		if (!p) {
			l->oom = 1;
			return 1;
		}
		l->a = p;
		l->cap = cap;
	}
	snprintf(l->a[l->n++], IMS_USERS_ADDR_MAX + 1, "%s", info->address);
	return 0;
}

static ims_status all_users(struct ims_store *rc, const struct ims_conf *conf, struct addrs *out)
{
	struct ims_users *u = NULL;
	char after[IMS_USERS_ADDR_MAX + 1] = "";
	bool more = true;
	ims_status st = ims_users_new(rc, conf, &u);

	while (st == IMS_OK && more) {
		out->last[0] = '\0';
		st = ims_users_list(u, after[0] ? after : NULL, 500, collect, out, &more);
		if (out->oom)
			st = IMS_ENOMEM;
		if (!out->last[0])
			break;
		snprintf(after, sizeof after, "%s", out->last);
	}
	ims_users_free(u);
	return st;
}

/* Appends text to a growable string; -1 when out of memory. */
static int cat(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap * 2 : 4096;
		while (c < *len + n + 1)
			c *= 2;
		char *b = realloc(*buf, c);
		if (!b)
			return -1;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

/* The digest's text for the held messages ms[0..n-1]. */
static char *digest_text(struct ims_quarantine_msg **ms, size_t n, size_t listed)
{
	char *buf = NULL, line[1400], when[32];
	size_t len = 0, cap = 0;
	int bad = 0;

	snprintf(line, sizeof line,
	         "ims held %zu message%s for you since the last digest. %s not in your\n"
	         "mailbox. Sign in to the web mail (Quarantine) to see why, and to release\n"
	         "one if it is yours to release; otherwise ask your administrator.\n\n",
	         listed, listed == 1 ? "" : "s", listed == 1 ? "It is" : "They are");
	bad |= cat(&buf, &len, &cap, line);
	for (size_t i = 0; i < n; i++) {
		time_t t;
		struct tm tm;
		if (!ms[i])
			continue;
		t = (time_t)(ms[i]->time_ms / 1000);
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
		snprintf(line, sizeof line,
		         "%s\n  From:    %.300s\n  Subject: %.300s\n  Why:     %.300s\n  Id:      "
		         "%s\n\n",
		         when, ms[i]->from[0] ? ms[i]->from : ms[i]->mail_from, ms[i]->subject,
		         ms[i]->reason, ms[i]->id);
		bad |= cat(&buf, &len, &cap, line);
	}
	if (bad) {
		free(buf);
		return NULL;
	}
	/* stored subjects and senders may carry any bytes: the digest is UTF-8 */
	{
		gchar *valid = g_utf8_make_valid(buf, (gssize)len);
		free(buf);
		buf = valid ? strdup(valid) : NULL;
		g_free(valid);
	}
	return buf;
}

static char *read_secret(const char *path)
{
	char line[1024];
	FILE *f;

	if (!path || !*path)
		return NULL;
	if (!(f = fopen(path, "r")))
		return NULL;
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return strdup(line);
}

/* One user's digest: 1 sent, 0 nothing to send, -1 failed. */
static int digest_one(struct ims_store *rc, const struct ims_conf *conf, const char *from,
                      const char *password, const char *addr, bool dry_run)
{
	char(*ids)[IMS_QUARANTINE_ID_MAX + 1] = NULL;
	uint64_t *times = NULL, cursor = 0, newest = 0;
	struct ims_quarantine_msg **ms = NULL;
	const char **idp = NULL;
	struct ims_composed msg = {0};
	char *text = NULL, err[512], subject[128];
	size_t n = 0, listed = 0;
	json_t *j = NULL;
	int ret = -1;
	ims_status st;

	ids = calloc(DIGEST_MAX_ITEMS, sizeof *ids);
	times = calloc(DIGEST_MAX_ITEMS, sizeof *times);
	ms = calloc(DIGEST_MAX_ITEMS, sizeof *ms);
	idp = calloc(DIGEST_MAX_ITEMS, sizeof *idp);
	if (!ids || !times || !ms || !idp) {
		ims_cli_error("quarantine digest: out of memory");
		goto out;
	}
	if (ims_quarantine_digest_get(rc, addr, &cursor) != IMS_OK ||
	    ims_quarantine_user_since(rc, addr, cursor, DIGEST_MAX_ITEMS, ids, times, &n) !=
	        IMS_OK) {
		ims_cli_error("quarantine digest: redis failed");
		goto out;
	}
	if (n == 0) {
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		idp[i] = ids[i];
		if (times[i] > newest)
			newest = times[i];
	}
	if ((st = ims_quarantine_get_many(rc, idp, n, ms)) != IMS_OK) {
		ims_cli_error("quarantine digest: %s", ims_strstatus(st));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int k = ms[i] ? ims_quarantine_held_for(ms[i], addr) : -1;
		if (k < 0 || ms[i]->delivered[k]) {
			ims_quarantine_msg_free(ms[i]); /* released or gone since */
			ms[i] = NULL;
		} else
			listed++;
	}
	if (listed == 0) {
		ret = 0;
		goto advance;
	}
	/* the listing without the gaps */
	{
		size_t w = 0;
		for (size_t i = 0; i < n; i++)
			if (ms[i])
				ms[w++] = ms[i];
		for (size_t i = w; i < n; i++)
			ms[i] = NULL;
	}
	snprintf(subject, sizeof subject, "Held for review: %zu message%s", listed,
	         listed == 1 ? "" : "s");
	if (!(text = digest_text(ms, listed, listed)) ||
	    !(j = json_pack("{s:[s], s:s, s:s}", "to", addr, "subject", subject, "text", text))) {
		ims_cli_error("quarantine digest: out of memory");
		goto out;
	}
	if (ims_compose(from, j, &msg, err, sizeof err) != IMS_OK) {
		ims_cli_error("quarantine digest for %s: %s", addr, err);
		goto out;
	}
	if (dry_run) {
		printf("--- digest for %s (%zu held)\n%.*s\n", addr, listed, (int)msg.len, msg.raw);
		ret = 1;
		goto out; /* remembers nothing */
	}
	{
		struct ims_smtp_job job = {
		    .url = conf->webapi_submission,
		    .user = conf->webapi_submission_user && *conf->webapi_submission_user
		                ? conf->webapi_submission_user
		                : NULL,
		    .password = password,
		    .authzid = from, /* act as the digest's sender (Dovecot master user) */
		    .mail_from = from,
		    .rcpts = (const char *const *)msg.rcpts,
		    .nrcpts = msg.nrcpts,
		    .raw = msg.raw,
		    .len = msg.len,
		    .timeout_s = conf->webapi_timeout_s,
		};
		if (!job.user)
			job.authzid = NULL;
		if ((st = ims_smtp_send(&job, err, sizeof err)) != IMS_OK) {
			ims_cli_error("quarantine digest for %s: not sent: %s", addr, err);
			goto out;
		}
	}
	ret = 1;
advance:
	if (ims_quarantine_digest_set(rc, addr, newest) != IMS_OK) {
		ims_cli_error("quarantine digest for %s: sent, but its place was not saved", addr);
		ret = -1;
	}
out:
	for (size_t i = 0; ms && i < n; i++)
		ims_quarantine_msg_free(ms[i]);
	free(ms);
	free(ids);
	free(times);
	free(idp);
	free(text);
	json_decref(j);
	ims_composed_free(&msg);
	return ret;
}

static int digest(const struct ims_conf *conf, struct ims_store *rc, bool dry_run)
{
	struct addrs users = {0};
	char from[IMS_USERS_ADDR_MAX + 1], *password = NULL;
	size_t sent = 0, failed = 0;
	ims_status st;

	if (conf->quarantine_digest_from && *conf->quarantine_digest_from)
		snprintf(from, sizeof from, "%s", conf->quarantine_digest_from);
	else if (conf->milter_local_domains && conf->milter_local_domains[0])
		snprintf(from, sizeof from, "postmaster@%s", conf->milter_local_domains[0]);
	else
		return ims_cli_error("quarantine digest: set [quarantine] digest_from (or [milter] "
		                     "local_domains)");
	if (conf->webapi_submission_user && *conf->webapi_submission_user && !dry_run &&
	    !(password = read_secret(conf->webapi_submission_password_file)))
		return ims_cli_error("quarantine digest: cannot read [webapi] "
		                     "submission_password_file %s",
		                     conf->webapi_submission_password_file);
	g_mime_init();
	if ((st = all_users(rc, conf, &users)) != IMS_OK) {
		ims_cli_error("quarantine digest: listing users: %s", ims_strstatus(st));
		failed++;
	}
	for (size_t i = 0; i < users.n; i++) {
		int r = digest_one(rc, conf, from, password, users.a[i], dry_run);
		if (r > 0)
			sent++;
		else if (r < 0)
			failed++;
	}
	if (!dry_run)
		printf("quarantine digest: %zu sent, %zu failed, %zu users\n", sent, failed,
		       users.n);
	free(users.a);
	if (password) {
		sodium_memzero(password, strlen(password));
		free(password);
	}
	return failed ? IMS_EXIT_ERROR : IMS_EXIT_OK;
}

int ims_cmd_quarantine(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const struct ims_conf *conf;
	struct ims_store *rc;
	bool dry_run = false;
	int c, ret;

	optind = 1;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help();
		return argc < 2 ? IMS_EXIT_USAGE : IMS_EXIT_OK;
	}
	while ((c = getopt_long(argc - 1, argv + 1, "nh", opts, NULL)) != -1) {
		if (c == 'n')
			dry_run = true;
		else if (c == 'h') {
			help();
			return IMS_EXIT_OK;
		} else
			return ims_cli_usage_error("quarantine", "unknown option");
	}
	if (optind + 1 != argc)
		return ims_cli_usage_error("quarantine", "unexpected argument '%s'",
		                           argv[optind + 1]);
	if (strcmp(argv[1], "digest") != 0 && strcmp(argv[1], "purge") != 0)
		return ims_cli_usage_error("quarantine", "unknown command '%s'", argv[1]);
	if (!(conf = ims_cli_conf(cli)))
		return IMS_EXIT_ERROR;
	if (!(rc = ims_cli_store(cli, "quarantine")))
		return IMS_EXIT_ERROR;
	if (strcmp(argv[1], "digest") == 0) {
		ret = digest(conf, rc, dry_run);
	} else {
		size_t n = 0;
		ims_status st = ims_quarantine_purge(rc, conf, now_ms(), PURGE_MAX, &n);
		if (st != IMS_OK)
			ret = ims_cli_error("quarantine purge: %s", ims_strstatus(st));
		else {
			printf("quarantine purge: %zu held message%s past retention removed\n", n,
			       n == 1 ? "" : "s");
			ret = IMS_EXIT_OK;
		}
	}
	return ret;
}
