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

static char *format_event(const struct ims_siem_event *ev, int cef)
{
	return cef ? ims_siem_cef(ev) : ims_siem_json(ev);
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

/* Prints the events of b (from the last one back when reverse), one line
 * each; last = the id of the newest printed.  -1 when out of memory. */
static int print_batch(const struct ims_events_batch *b, int reverse, int cef, char last[64])
{
	for (size_t k = 0; k < b->n; k++) {
		const struct ims_siem_event *ev = &b->ev[reverse ? b->n - 1 - k : k];
		char *line = format_event(ev, cef);

		if (!line)
			return -1;
		printf("%s\n", line);
		free(line);
		snprintf(last, 64, "%s", ev->id);
	}
	return 0;
}

static int cmd_tail(struct ims_store *st, int follow, int cef, const char *since, long count)
{
	struct ims_events_batch b;
	char last[64] = "0";

	if (!since) {
		if (ims_events_before(st, NULL, (size_t)count, &b) != IMS_OK) {
			ims_events_batch_free(&b);
			return ims_cli_error("events: Redis failed");
		}
		if (print_batch(&b, 1, cef, last) != 0) {
			ims_events_batch_free(&b);
			return ims_cli_error("events: out of memory");
		}
		/* nothing yet: follow from the oldest possible id */
		ims_events_batch_free(&b);
	} else {
		snprintf(last, sizeof last, "%s", since);
	}
	fflush(stdout);
	catch_signals();
	for (;;) {
		size_t n;

		if (stop)
			break;
		if (!since && !follow)
			break;
		if (ims_events_after(st, last, PAGE, &b) != IMS_OK) {
			ims_events_batch_free(&b);
			return ims_cli_error("events: Redis failed");
		}
		if (print_batch(&b, 0, cef, last) != 0) {
			ims_events_batch_free(&b);
			return ims_cli_error("events: out of memory");
		}
		fflush(stdout);
		n = b.n;
		ims_events_batch_free(&b);
		if (n < PAGE) {
			if (!follow)
				break;
			nap(IDLE_MS);
		}
	}
	return IMS_EXIT_OK;
}

static int cmd_forward(const struct ims_conf *conf, struct ims_store *store, int once,
                       const char *since)
{
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
		char pos[64];

		st = ims_events_position_get(store, pos);
		if (st != IMS_OK && st != IMS_ENOTFOUND && st != IMS_EFORMAT)
			return ims_cli_error("events forward: Redis failed");
		if (st == IMS_OK && valid_id(pos))
			snprintf(last, sizeof last, "%s", pos);
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
		struct ims_events_batch b;
		size_t i;

		if (!sink) {
			nap(1000);
			if (ims_siem_sink_open(conf->siem_syslog, &sink, err, sizeof err) != IMS_OK)
				continue;
		}
		if (ims_events_after(store, last, (size_t)conf->siem_batch, &b) != IMS_OK) {
			ims_events_batch_free(&b);
			ims_siem_sink_close(sink);
			return ims_cli_error("events forward: Redis failed");
		}
		for (i = 0; i < b.n && !stop; i++) {
			const struct ims_siem_event *ev = &b.ev[i];
			char *body, *frame;
			size_t len;

			body = format_event(ev, cef);
			frame = body ? ims_siem_syslog(ev, body, fac, ims_siem_sink_is_stream(sink),
			                               &len)
			             : NULL;
			free(body);
			if (!frame) {
				ims_events_batch_free(&b);
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
			snprintf(last, sizeof last, "%s", ev->id);
			sent++;
		}
		if (ims_events_position_set(store, last) != IMS_OK) {
			ims_events_batch_free(&b);
			ims_siem_sink_close(sink);
			return ims_cli_error("events forward: Redis failed saving the position");
		}
		if (sink && b.n < (size_t)conf->siem_batch) {
			ims_events_batch_free(&b);
			if (once)
				break;
			nap(IDLE_MS);
			continue;
		}
		ims_events_batch_free(&b);
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
	struct ims_store *st;
	char *end;
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
	if (!(st = ims_cli_store(cli, "events")))
		return IMS_EXIT_ERROR;
	ret = strcmp(sub, "tail") == 0 ? cmd_tail(st, follow, cef, since, count)
	                               : cmd_forward(conf, st, once, since);
	return ret;
}
