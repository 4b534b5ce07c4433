/* ims events tail|forward: the event stream ims:{global}:events for a
 * SIEM (lib/siem.h; docs/operations.md, "SIEM").
 *
 *   tail [--follow] [--format json|cef] [--since ID] [--count N]
 *       prints events, one line each: the last N (default 20), or all
 *       after ID (read in pages), then with --follow new ones as they come.
 *   forward [--once] [--since ID]
 *       sends every event after the saved position (IMS_KEY_SIEM_POSITION;
 *       without one, from the oldest event Redis holds) to [siem] syslog as
 *       one RFC 5424 message each, saving the position after each batch;
 *       runs until SIGTERM (--once: until the stream is drained). */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "ims.h"
#include "log.h"
#include "rconn.h"
#include "rkeys.h"
#include "siem.h"

#define PAGE    500
#define IDLE_MS 500

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = {0};

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void help(void)
{
	printf("usage: ims events tail [--follow] [--format json|cef] [--since ID] [--count N]\n"
	       "       ims events forward [--once] [--since ID]\n"
	       "tail prints the event stream (scans, clicks, releases, admin actions), one\n"
	       "line each; forward sends it to [siem] syslog (RFC 5424) from a saved position.\n"
	       "  --follow     keep printing new events until interrupted\n"
	       "  --format F   json (default) or cef (ArcSight Common Event Format)\n"
	       "  --since ID   start after this stream id (0 for the oldest)\n"
	       "  --count N    without --since: the last N events (default 20)\n"
	       "  --once       forward: stop when the stream is drained\n");
}

/* The entry e of an XRANGE/XREAD reply as an event; kv points into e. */
static int to_event(const redisReply *e, const char **kv, struct ims_siem_event *ev)
{
	const redisReply *f;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
		return -1;
	f = e->element[1];
	ev->id = e->element[0]->str;
	ev->n = 0;
	for (size_t i = 0; i + 1 < f->elements && ev->n < 2 * IMS_EVENTS_MAX_FIELDS + 16; i += 2) {
		if (f->element[i]->type != REDIS_REPLY_STRING ||
		    f->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		kv[2 * ev->n] = f->element[i]->str;
		kv[2 * ev->n + 1] = f->element[i + 1]->str;
		ev->n++;
	}
	ev->kv = kv;
	return 0;
}

#define KV_MAX (2 * (2 * IMS_EVENTS_MAX_FIELDS + 16))

static char *format_event(const struct ims_siem_event *ev, int cef)
{
	return cef ? ims_siem_cef(ev) : ims_siem_json(ev);
}

/* XRANGE key (after COUNT n: the entries after the id after. */
static redisReply *range_after(redisContext *rc, const char *after, int n)
{
	char start[64], count[16];
	const char *argv[] = {"XRANGE", IMS_KEY_EVENTS, start, "+", "COUNT", count};
	redisReply *r;

	snprintf(start, sizeof start, "(%s", after);
	snprintf(count, sizeof count, "%d", n);
	r = ims_rconn_cmd(rc, 6, argv, NULL);
	if (r && r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static int valid_id(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 20)
		return 0;
	if (!s[n])
		return 1;
	return s[n] == '-' && strspn(s + n + 1, "0123456789") == strlen(s + n + 1) && s[n + 1] &&
	       strlen(s + n + 1) <= 20;
}

static int cmd_tail(redisContext *rc, int follow, int cef, const char *since, long count)
{
	const char *kv[KV_MAX];
	char last[64] = "0";
	redisReply *r;

	if (!since) {
		char n[24];
		const char *argv[] = {"XREVRANGE", IMS_KEY_EVENTS, "+", "-", "COUNT", n};

		snprintf(n, sizeof n, "%ld", count);
		r = ims_rconn_cmd(rc, 6, argv, NULL);
		if (!r || r->type != REDIS_REPLY_ARRAY) {
			if (r)
				freeReplyObject(r);
			return ims_cli_error("events: Redis failed");
		}
		for (size_t i = r->elements; i-- > 0;) {
			struct ims_siem_event ev;
			char *line;

			if (to_event(r->element[i], kv, &ev) != 0)
				continue;
			if (!(line = format_event(&ev, cef))) {
				freeReplyObject(r);
				return ims_cli_error("events: out of memory");
			}
			printf("%s\n", line);
			free(line);
			snprintf(last, sizeof last, "%s", ev.id);
		}
		if (r->elements == 0) {
			/* nothing yet: follow from the newest possible id */
			snprintf(last, sizeof last, "0");
		}
		freeReplyObject(r);
	} else {
		snprintf(last, sizeof last, "%s", since);
	}
	fflush(stdout);
	catch_signals();
	for (;;) {
		if (stop)
			break;
		if (!since && !follow)
			break;
		r = range_after(rc, last, PAGE);
		if (!r)
			return ims_cli_error("events: Redis failed");
		for (size_t i = 0; i < r->elements; i++) {
			struct ims_siem_event ev;
			char *line;

			if (to_event(r->element[i], kv, &ev) != 0)
				continue;
			if (!(line = format_event(&ev, cef))) {
				freeReplyObject(r);
				return ims_cli_error("events: out of memory");
			}
			printf("%s\n", line);
			free(line);
			snprintf(last, sizeof last, "%s", ev.id);
		}
		fflush(stdout);
		if (r->elements < PAGE) {
			freeReplyObject(r);
			if (!follow)
				break;
			nap(IDLE_MS);
			continue;
		}
		freeReplyObject(r);
	}
	return IMS_EXIT_OK;
}

static int save_pos(redisContext *rc, const char *id)
{
	const char *argv[] = {"SET", IMS_KEY_SIEM_POSITION, id};
	redisReply *r = ims_rconn_cmd(rc, 3, argv, NULL);
	int ok = r && r->type == REDIS_REPLY_STATUS;

	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

static int cmd_forward(const struct ims_conf *conf, redisContext *rc, int once, const char *since)
{
	const char *kv[KV_MAX];
	struct ims_siem_sink *sink = NULL;
	char last[64] = "0", err[256];
	int cef = strcmp(conf->siem_format, "json") != 0;
	int fac = ims_log_facility_parse(conf->siem_facility);
	long sent = 0;
	ims_status st;

	if (!conf->siem_syslog || !*conf->siem_syslog)
		return ims_cli_error("events forward: [siem] syslog is not set");
	if (since) {
		snprintf(last, sizeof last, "%s", since);
	} else {
		const char *argv[] = {"GET", IMS_KEY_SIEM_POSITION};
		redisReply *r = ims_rconn_cmd(rc, 2, argv, NULL);

		if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
			if (r)
				freeReplyObject(r);
			return ims_cli_error("events forward: Redis failed");
		}
		if (r->type == REDIS_REPLY_STRING && valid_id(r->str))
			snprintf(last, sizeof last, "%s", r->str);
		freeReplyObject(r);
	}
	st = ims_siem_sink_open(conf->siem_syslog, &sink, err, sizeof err);
	if (st == IMS_EINVAL || st == IMS_ENOMEM)
		return ims_cli_error("events forward: %s", err);
	if (st != IMS_OK && once)
		return ims_cli_error("events forward: %s", err);
	if (st != IMS_OK)
		fprintf(stderr, "ims: events forward: %s (retrying)\n", err);
	catch_signals();
	while (!stop) {
		redisReply *r;
		size_t i;

		if (!sink) {
			nap(1000);
			if (ims_siem_sink_open(conf->siem_syslog, &sink, err, sizeof err) != IMS_OK)
				continue;
		}
		if (!(r = range_after(rc, last, conf->siem_batch)))
			return ims_siem_sink_close(sink),
			       ims_cli_error("events forward: Redis failed");
		for (i = 0; i < r->elements && !stop; i++) {
			struct ims_siem_event ev;
			char *body, *frame;
			size_t len;

			if (to_event(r->element[i], kv, &ev) != 0)
				continue;
			body = format_event(&ev, cef);
			frame = body ? ims_siem_syslog(&ev, body, fac,
			                               ims_siem_sink_is_stream(sink), &len)
			             : NULL;
			free(body);
			if (!frame) {
				freeReplyObject(r);
				ims_siem_sink_close(sink);
				return ims_cli_error("events forward: out of memory");
			}
			st = ims_siem_sink_send(sink, frame, len);
			free(frame);
			if (st != IMS_OK) {
				/* not sent: reconnect and resend from this event */
				fprintf(stderr,
				        "ims: events forward: sending to %s failed (retrying)\n",
				        conf->siem_syslog);
				ims_siem_sink_close(sink);
				sink = NULL;
				break;
			}
			snprintf(last, sizeof last, "%s", ev.id);
			sent++;
		}
		if (save_pos(rc, last) != 0) {
			freeReplyObject(r);
			ims_siem_sink_close(sink);
			return ims_cli_error("events forward: Redis failed saving the position");
		}
		if (sink && r->elements < (size_t)conf->siem_batch) {
			freeReplyObject(r);
			if (once)
				break;
			nap(IDLE_MS);
			continue;
		}
		freeReplyObject(r);
	}
	ims_siem_sink_close(sink);
	printf("{\"sent\":%ld,\"position\":\"%s\"}\n", sent, last);
	return IMS_EXIT_OK;
}

int ims_cmd_events(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"format", required_argument, NULL, 'F'},
	    {"since", required_argument, NULL, 's'},
	    {"count", required_argument, NULL, 'n'},
	    {"once", no_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct ims_conf *conf;
	const char *since = NULL, *sub;
	redisContext *rc;
	char err[256], *end;
	int c, follow = 0, cef = 0, once = 0, ret;
	long count = 20;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		help();
		return IMS_EXIT_OK;
	}
	if (argc < 2 || (strcmp(argv[1], "tail") != 0 && strcmp(argv[1], "forward") != 0))
		return ims_cli_usage_error("events", "tail or forward expected");
	sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow = 1; break;
		case 'o': once = 1; break;
		case 'F':
			if (strcmp(optarg, "cef") == 0)
				cef = 1;
			else if (strcmp(optarg, "json") != 0)
				return ims_cli_usage_error("events", "--format is json or cef");
			break;
		case 's':
			if (!valid_id(optarg))
				return ims_cli_usage_error(
				    "events", "--since needs a stream id (MS or MS-SEQ)");
			since = optarg;
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1 || count > 100000)
				return ims_cli_usage_error("events", "--count is 1..100000");
			break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("events", "bad option");
		}
	}
	if (optind < argc - 1)
		return ims_cli_usage_error("events", "unexpected argument %s", argv[optind + 1]);
	if (strcmp(sub, "tail") == 0 && once)
		return ims_cli_usage_error("events", "--once is for forward");
	if (strcmp(sub, "forward") == 0 && (follow || cef || count != 20))
		return ims_cli_usage_error("events",
		                           "forward takes --once and --since ([siem] format)");
	if (!(conf = ims_cli_conf(cli)))
		return IMS_EXIT_ERROR;
	if (ims_rconn_open(conf, &rc, err, sizeof err) != IMS_OK)
		return ims_cli_error("events: %s", err);
	ret = strcmp(sub, "tail") == 0 ? cmd_tail(rc, follow, cef, since, count)
	                               : cmd_forward(conf, rc, once, since);
	redisFree(rc);
	return ret;
}
