/* ims rescan [--hours N] [--threshold ACTION] [--rate N] [--max N] [--dry-run]:
 * post-delivery protection.  Scores again the mail every account in the
 * registry (lib/users.h) received in its INBOX in the last N hours, read
 * from Dovecot (webapi/mailbox.h), with today's model, lists and rules
 * (ims_scan_run, with the original envelope from the message's scan log
 * when it still exists; mail of authenticated local senders and mail
 * released from the quarantine are skipped).  A message whose new action is at or above the
 * threshold is held in the quarantine (ims_scan_hold_after_delivery +
 * ims_scan_store: stored first), then expunged from the mailbox, with an
 * audit event (op rescan.quarantine) and a note saved into the INBOX.
 * Bounded: --rate messages per second, --max messages per run.  Prints
 * one JSON object: the counts and the messages pulled (or, with
 * --dry-run, that would be). */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "compose.h"
#include "engine.h"
#include "events.h"
#include "ims.h"
#include "mailbox.h"
#include "quarantine.h"
#include "scanlog.h"
#include "rfc5322.h"
#include "scan.h"
#include "ulid.h"
#include "users.h"

#define PAGE 100
/* on the note, naming the held message (see leave_alone) */
#define NOTE_HEADER "X-IMS-Rescan-Note"

struct run {
	const struct ims_conf *conf;
	struct ims_store *rc;
	struct ims_engine *eng;
	struct ims_dove *dove;
	enum ims_action threshold;
	uint64_t since_ms;
	double rate, next_start; /* messages a second; when the next may start */
	long max, scanned, pulled, skipped, errors;
	bool dry;
	json_t *pulled_list;
	char from[IMS_USERS_ADDR_MAX + 1];
	char actor[300];
};

static void help(void)
{
	printf(
	    "usage: ims rescan [--hours N] [--threshold ACTION] [--rate N] [--max N] [--dry-run]\n"
	    "Scores again the INBOX mail of the last N hours with the current model, lists\n"
	    "and rules; a message now at or above ACTION is moved from the mailbox into the\n"
	    "quarantine, with an audit event and a note to the user.\n"
	    "  --hours N          window (default 24, at most 720)\n"
	    "  --threshold A      tag, quarantine (default) or reject\n"
	    "  --rate N           messages per second at most (default 10)\n"
	    "  --max N            messages scanned per run at most (default 1000)\n"
	    "  --dry-run          report what would be pulled, change nothing\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Paces the messages: message k starts no sooner than 1/rate s after
 * message k-1 started (the scan's own time counts towards the gap). */
static void pace(struct run *x)
{
	double now = now_s(), wait = x->next_start - now;

	if (x->next_start > 0 && wait > 0) {
		struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};

		nanosleep(&ts, NULL);
		now = x->next_start;
	}
	x->next_start = now + 1.0 / x->rate;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : NULL;
}

/* The scan log of the delivery (NULL when gone or unreadable). */
static json_t *scan_log(struct ims_store *rc, const char *scan_id)
{
	char *text = NULL;
	size_t len = 0;
	json_t *j = NULL;

	if (!scan_id || strlen(scan_id) > 64)
		return NULL;
	if (ims_scanlog_get(rc, scan_id, &text, &len) == IMS_OK)
		j = json_loadb(text, len, 0, NULL);
	free(text);
	return j;
}

/* Whether the message is to be left alone: released from the quarantine
 * (X-IMS-Released, written by lib/quarantine.c; the milter strips it from
 * mail that comes in), or a note of an earlier run (NOTE_HEADER naming a
 * message a rescan held, and no X-IMS-Scan-Id: it never went through the
 * milter). */
static int leave_alone(struct run *x, const char *text)
{
	struct ims_msg *m;
	const char *note;
	int yes = 0;

	if (ims_msg_parse(text, strlen(text), 100000, 16 * 1024 * 1024, &m) != IMS_OK)
		return 0;
	if (ims_msg_find(m, "X-IMS-Released", 0)) {
		yes = 1;
	} else if ((note = ims_msg_find(m, NOTE_HEADER, 0)) &&
	           !ims_msg_find(m, "X-IMS-Scan-Id", 0)) {
		struct ims_quarantine_msg *q = NULL;
		char id[40];

		if (sscanf(note, " %39[0-9A-Za-z]", id) == 1 &&
		    ims_quarantine_get(x->rc, id, false, &q) == IMS_OK)
			yes = q->hold_class && strcmp(q->hold_class, "rescan") == 0;
		ims_quarantine_msg_free(q);
	}
	ims_msg_free(m);
	return yes;
}

/* The note left in the user's INBOX, with NOTE_HEADER naming the held copy
 * (so later runs leave the note alone: it quotes the message's subject). */
static void leave_note(struct run *x, const char *user, json_t *item, const struct ims_scan *s)
{
	struct ims_composed msg = {0};
	char *text = NULL, *raw = NULL, err[256] = "out of memory";
	const char *subj = jstr(item, "subject"), *from = jstr(item, "from");
	json_t *j;

	if (asprintf(&text,
	             "A message delivered to you was found dangerous after delivery and has been\n"
	             "moved out of your INBOX into the quarantine.\n\n"
	             "  From:    %s\n  Subject: %s\n  Reason:  %s\n  Scan:    %s\n\n"
	             "If you expected this message, ask your administrator to review it.\n",
	             from ? from : "", subj ? subj : "", ims_scan_reason(s), ims_scan_id(s)) < 0)
		text = NULL;
	j = text ? json_pack("{s:[s], s:s, s:s}", "to", user, "subject",
	                     "A message was moved to quarantine", "text", text)
	         : NULL;
	if (!j || ims_compose(x->from, j, &msg, err, sizeof err) != IMS_OK ||
	    asprintf(&raw, NOTE_HEADER ": %s\r\n%.*s", ims_scan_id(s), (int)msg.len, msg.raw) < 0 ||
	    ims_mbox_save(x->dove, user, "INBOX", raw, strlen(raw), NULL, err, sizeof err) !=
	        IMS_OK) {
		fprintf(stderr, "ims: rescan: note for %s not saved: %s\n", user, err);
		x->errors++;
	}
	ims_composed_free(&msg);
	json_decref(j);
	free(text);
	free(raw);
}

/* One delivered message: scan it again, pull it when it is now bad. */
static void rescan_one(struct run *x, const char *user, json_t *item)
{
	const char *id = jstr(item, "id"), *old = jstr(item, "scan_id");
	const char *rcpts[1] = {user};
	struct ims_envelope env = {.rcpts = rcpts, .nrcpts = 1};
	struct ims_msgref ref;
	struct ims_scan *s = NULL;
	json_t *msg = NULL, *log = NULL, *client;
	const char *text;
	char err[256] = "Dovecot sent no text";
	ims_status st;

	if (!id || ims_mbox_id_parse(id, &ref) != 0)
		return;
	x->scanned++;
	if (ims_mbox_fetch(x->dove, user, &ref, false, &msg, err, sizeof err) != IMS_OK ||
	    !(text = jstr(msg, "text"))) {
		fprintf(stderr, "ims: rescan: %s %s: %s\n", user, id, err);
		x->errors++;
		goto out;
	}
	if (leave_alone(x, text)) {
		x->skipped++;
		goto out;
	}
	if ((log = scan_log(x->rc, old))) {
		client = json_object_get(log, "client");
		if (json_string_value(json_object_get(client, "auth"))) {
			x->skipped++; /* a local user's own mail: not rescanned */
			goto out;
		}
		env.client_ip = jstr(client, "ip");
		env.client_name = jstr(client, "name");
		env.helo = jstr(client, "helo");
		env.mail_from = jstr(log, "mail_from");
		env.queue_id = jstr(log, "queue_id");
	}
	st = ims_scan_run(x->eng, &env, text, strlen(text), &s);
	if (st != IMS_OK || ims_scan_action(s) == IMS_ACTION_TEMPFAIL) {
		fprintf(stderr, "ims: rescan: %s %s: scan failed: %s\n", user, id,
		        s ? ims_scan_reason(s) : ims_strstatus(st));
		x->errors++;
		goto out;
	}
	if (ims_scan_action(s) < x->threshold)
		goto out;
	{
		json_t *row = json_pack(
		    "{s:s, s:s, s:s?, s:s, s:f, s:s, s:s?}", "user", user, "id", id, "scan_id", old,
		    "action", ims_action_name(ims_scan_action(s)), "score", ims_scan_score(s),
		    "reason", ims_scan_reason(s), "subject", jstr(item, "subject"));
		char score[32];

		if (x->dry) {
			json_array_append_new(x->pulled_list, row);
			x->pulled++;
			goto out;
		}
		/* held first: a failed store leaves the message where it is */
		ims_scan_hold_after_delivery(s);
		if (ims_scan_store(x->eng, s, text, strlen(text), err, sizeof err) != IMS_OK) {
			fprintf(stderr, "ims: rescan: %s %s: not held, left in the mailbox: %s\n",
			        user, id, err);
			json_decref(row);
			x->errors++;
			goto out;
		}
		json_object_set_new(row, "held_as", json_string(ims_scan_id(s)));
		if (ims_mbox_expunge(x->dove, user, &ref, err, sizeof err) != IMS_OK) {
			/* held and still delivered: nothing lost; the next run retries */
			fprintf(stderr, "ims: rescan: %s %s: held as %s but not expunged: %s\n",
			        user, id, ims_scan_id(s), err);
			json_decref(row);
			x->errors++;
			goto out;
		}
		snprintf(score, sizeof score, "%.2f", ims_scan_score(s));
		{
			const char *kv[] = {
			    "user",         user,    "message", id,       "delivered_scan_id",
			    old ? old : "", "score", score,     "reason", ims_scan_reason(s)};

			if (ims_events_audit(x->rc, x->actor, "rescan.quarantine", ims_scan_id(s),
			                     kv, 5, NULL) != IMS_OK) {
				fprintf(stderr, "ims: rescan: audit event for %s not written\n",
				        ims_scan_id(s));
				x->errors++;
			}
		}
		leave_note(x, user, item, s);
		json_array_append_new(x->pulled_list, row);
		x->pulled++;
	}
out:
	ims_scan_free(s);
	json_decref(msg);
	json_decref(log);
}

/* The user's INBOX, newest first, until the window ends. */
static void rescan_user(struct run *x, const char *user)
{
	char next[IMS_MBOX_CURSOR_MAX] = "", cursor[IMS_MBOX_CURSOR_MAX] = "", err[256];

	for (;;) {
		json_t *items = NULL, *item;
		size_t i;
		bool done = false;

		if (ims_mbox_list(x->dove, NULL, user, "INBOX", cursor[0] ? cursor : NULL, NULL,
		                  PAGE, &items, next, err, sizeof err) != IMS_OK) {
			fprintf(stderr, "ims: rescan: %s: %s\n", user, err);
			x->errors++;
			return;
		}
		json_array_foreach(items, i, item)
		{
			json_int_t received = json_integer_value(json_object_get(item, "received"));

			if ((uint64_t)received < x->since_ms) {
				done = true;
				break;
			}
			if (x->scanned >= x->max) {
				done = true;
				break;
			}
			pace(x);
			rescan_one(x, user, item);
		}
		json_decref(items);
		if (done || !next[0])
			return;
		snprintf(cursor, sizeof cursor, "%s", next);
	}
}

struct addrs {
	char **v;
	size_t n;
};

static int add_user(const struct ims_user_info *info, void *arg)
{
	struct addrs *a = arg;
	char **v = realloc(a->v, (a->n + 1) * sizeof *v);

	if (!v)
		return -1;
	a->v = v;
	if (!(v[a->n] = strdup(info->address)))
		return -1;
	a->n++;
	return 0;
}

int ims_cmd_rescan(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"hours", required_argument, NULL, 'H'},
	    {"threshold", required_argument, NULL, 't'},
	    {"rate", required_argument, NULL, 'r'},
	    {"max", required_argument, NULL, 'm'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct run x = {.threshold = IMS_ACTION_QUARANTINE, .rate = 10, .max = 1000};
	struct addrs users = {0};
	struct ims_users *reg = NULL;
	char err[256], *end, last[IMS_USERS_ADDR_MAX + 1] = "";
	long hours = 24;
	int c, ret = IMS_EXIT_ERROR;
	bool more = true;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			hours = strtol(optarg, &end, 10);
			if (*end || hours < 1 || hours > 720)
				return ims_cli_usage_error("rescan", "--hours is 1..720");
			break;
		case 't':
			if (strcmp(optarg, "tag") == 0)
				x.threshold = IMS_ACTION_TAG;
			else if (strcmp(optarg, "quarantine") == 0)
				x.threshold = IMS_ACTION_QUARANTINE;
			else if (strcmp(optarg, "reject") == 0)
				x.threshold = IMS_ACTION_REJECT;
			else
				return ims_cli_usage_error(
				    "rescan", "--threshold is tag, quarantine or reject");
			break;
		case 'r':
			x.rate = strtod(optarg, &end);
			if (*end || !(x.rate >= 0.01 && x.rate <= 1000))
				return ims_cli_usage_error(
				    "rescan", "--rate is 0.01..1000 messages a second");
			break;
		case 'm':
			x.max = strtol(optarg, &end, 10);
			if (*end || x.max < 1 || x.max > 1000000)
				return ims_cli_usage_error("rescan", "--max is 1..1000000");
			break;
		case 'n': x.dry = true; break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("rescan", "bad option");
		}
	}
	if (optind < argc)
		return ims_cli_usage_error("rescan", "unexpected argument %s", argv[optind]);
	if (cli->model_path) /* the engine scans with what the milter uses */
		return ims_cli_usage_error("rescan", "--model: rescan uses [classifier] model");
	if (!(x.conf = ims_cli_conf(cli)))
		return IMS_EXIT_ERROR;
	if (x.conf->quarantine_digest_from && *x.conf->quarantine_digest_from)
		snprintf(x.from, sizeof x.from, "%s", x.conf->quarantine_digest_from);
	else if (x.conf->milter_local_domains && x.conf->milter_local_domains[0])
		snprintf(x.from, sizeof x.from, "postmaster@%s", x.conf->milter_local_domains[0]);
	else
		return ims_cli_error(
		    "rescan: set [quarantine] digest_from (or [milter] local_domains)");
	ims_events_cli_actor(x.actor, sizeof x.actor);
	x.since_ms = ims_now_ms() - (uint64_t)hours * 3600000u;
	g_mime_init();
	if (ims_dove_open(x.conf, &x.dove, err, sizeof err) != IMS_OK)
		return ims_cli_error("rescan: %s", err);
	if (!x.dove)
		return ims_cli_error("rescan: [dovecot] api_key_file is not set");
	if (!(x.rc = ims_cli_store(cli, "rescan")))
		goto out;
	/* the engine keeps its own reference to the configuration */
	if (ims_engine_new((struct ims_conf *)x.conf, &x.eng, err, sizeof err) != IMS_OK) {
		ims_cli_error("rescan: %s", err);
		goto out;
	}
	if (ims_users_new(x.rc, x.conf, &reg) != IMS_OK) {
		ims_cli_error("rescan: out of memory");
		goto out;
	}
	while (more) {
		size_t before = users.n;

		if (ims_users_list(reg, last[0] ? last : NULL, PAGE, add_user, &users, &more) !=
		    IMS_OK) {
			ims_cli_error("rescan: cannot list the accounts (Redis failed)");
			goto out;
		}
		if (users.n == before)
			break;
		snprintf(last, sizeof last, "%s", users.v[users.n - 1]);
	}
	x.pulled_list = json_array();
	for (size_t i = 0; i < users.n && x.scanned < x.max; i++)
		rescan_user(&x, users.v[i]);
	{
		json_t *o =
		    json_pack("{s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:O}", "dry_run", x.dry, "users",
		              (json_int_t)users.n, "scanned", (json_int_t)x.scanned,
		              x.dry ? "would_pull" : "pulled", (json_int_t)x.pulled, "skipped",
		              (json_int_t)x.skipped, "errors", (json_int_t)x.errors, "hours",
		              (json_int_t)hours, "messages", x.pulled_list);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	ret = x.errors ? IMS_EXIT_ERROR : IMS_EXIT_OK;
out:
	for (size_t i = 0; i < users.n; i++)
		free(users.v[i]);
	free(users.v);
	json_decref(x.pulled_list);
	ims_users_free(reg);
	ims_engine_unref(x.eng);
	ims_dove_free(x.dove);
	return ret;
}
