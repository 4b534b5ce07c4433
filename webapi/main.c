/* ims-webapi: the HTTP API over the ims Redis store, and the web UI.
 *
 *   ims-webapi [-c FILE]
 *
 * Runs in the foreground (systemd keeps it), logs per [log], stops on
 * SIGTERM or SIGINT after the requests in flight are answered. */
#include "config.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gmime/gmime.h>
#include <libxml/parser.h>
#include <sodium.h>

#include "app.h"
#include "conf.h"
#include "engine.h"
#include "linktoken.h"
#include "log.h"
#include "notify.h"
#include "router.h"
#include "secretfile.h"
#include "server.h"
#include "store.h"

#define DRAIN_MS          10000
#define PASSWORD_MAX      1024
#define METRICS_TOKEN_MIN 16

/* A secret (the submission password, the metrics token) from its file (first line).  NULL when none
 * is configured; on a read error err says why and -1 is returned. */
static int read_password(const char *path, char **out, char *err, size_t errlen)
{
	char buf[PASSWORD_MAX + 2];
	FILE *f;

	*out = NULL;
	if (!path || !*path)
		return 0;
	if (ims_secret_fopen(path, &f, err, errlen) != IMS_OK)
		return -1;
	if (!fgets(buf, sizeof buf, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = strdup(buf);
	sodium_memzero(buf, sizeof buf);
	return *out ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ims-webapi [-c FILE]\n"
	           "  -c FILE  configuration (default " IMS_CONF_DEFAULT_PATH ")\n"
	           "  -V       print the version\n");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	struct ims_conf *conf = NULL;
	struct ims_web app = {0};
	struct ims_server *srv = NULL;
	char err[512];
	sigset_t set;
	int opt, sig = 0, rc = 1;

	/* A list page is 20-60 KB built and freed per request: without these
	 * glibc gives the pages of each worker's heap back to the kernel after
	 * every response (madvise) and faults them in again on the next one. */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	while ((opt = getopt(argc, argv, "c:hV")) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'V': printf("ims-webapi %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (ims_conf_load(path, &conf, err, sizeof err) != IMS_OK) {
		fprintf(stderr, "ims-webapi: %s\n", err);
		return 1;
	}
	if (ims_log_open("ims-webapi", conf->log_target, conf->log_level, conf->log_facility) !=
	    IMS_OK) {
		fprintf(stderr, "ims-webapi: bad [log] settings\n");
		goto out;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		ims_log_err(NULL, "event=init_failed");
		goto out;
	}
	g_mime_init();
	xmlInitParser();
	app.conf = conf;
	if (ims_token_key_load(conf->webapi_jwt_secret_file, &app.key, err, sizeof err) != IMS_OK) {
		ims_log_err(NULL, "event=config_error error=\"%s\"", err);
		fprintf(stderr, "ims-webapi: %s\n", err);
		goto out;
	}
	if (read_password(conf->webapi_submission_password_file, &app.submission_password, err,
	                  sizeof err) != 0) {
		ims_log_err(NULL, "event=config_error error=\"%s\"", err);
		goto out;
	}
	if (read_password(conf->webapi_metrics_token_file, &app.metrics_token, err, sizeof err) !=
	    0) {
		ims_log_err(NULL, "event=config_error error=\"%s\"", err);
		goto out;
	}
	if (conf->links_key_file && *conf->links_key_file) {
		/* GET /click reads it for each click: a bad one stops us now */
		struct ims_linkkey *lk = NULL;

		if (ims_linkkey_load(conf->links_key_file, &lk, err, sizeof err) != IMS_OK) {
			ims_log_err(NULL, "event=config_error error=\"[links] key_file %s\"", err);
			fprintf(stderr, "ims-webapi: [links] key_file %s\n", err);
			goto out;
		}
		ims_linkkey_free(lk);
	}
	if (app.metrics_token && strlen(app.metrics_token) < METRICS_TOKEN_MIN) {
		ims_log_err(NULL, "event=config_error error=\"%s: the token is shorter than %d\"",
		            conf->webapi_metrics_token_file, METRICS_TOKEN_MIN);
		goto out;
	}
	if (ims_dove_open(conf, &app.dove, err, sizeof err) != IMS_OK) {
		ims_log_err(NULL, "event=config_error error=\"%s\"", err);
		fprintf(stderr, "ims-webapi: %s\n", err);
		goto out;
	}
	if (app.dove &&
	    ims_imap_open(conf, app.submission_password, &app.imap, err, sizeof err) != IMS_OK) {
		ims_log_err(NULL, "event=config_error error=\"%s\"", err);
		fprintf(stderr, "ims-webapi: %s\n", err);
		goto out;
	}
	if (!app.dove)
		ims_log_warn(NULL, "event=no_mailbox note=\"no [dovecot] api_key_file: the "
		                   "mailbox routes answer 503\"");
	/* Redis: one pooled store every thread shares; it connects lazily,
	 * so a Redis that is down now only makes requests answer 503 */
	if (ims_store_open(conf, &app.store) != IMS_OK) {
		fprintf(stderr, "ims-webapi: cannot set up the Redis store ([redis])\n");
		goto out;
	}
	if (ims_metrics_new(ims_nroutes, ims_route_names, &app.metrics) != IMS_OK)
		goto out;
	/* The scan engine of POST /scan-email: the milter's own code.  Without
	 * one (bad DNS or DKIM settings) the rest of the API still runs. */
	{
		struct ims_engine *eng = NULL;

		if (ims_engine_new(conf, &eng, err, sizeof err) == IMS_OK) {
			ims_engine_publish(eng);
			if (ims_engine_model_error(eng))
				ims_log_warn(NULL, "event=no_model error=\"%s\"",
				             ims_engine_model_error(eng));
			ims_engine_unref(eng);
		} else {
			ims_log_warn(NULL, "event=no_scan_engine error=\"%s\"", err);
		}
	}

	/* Signals go to this thread only: block them before MHD starts its
	 * threads, then wait for them here. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ims_server_start(&app, &srv, err, sizeof err) != IMS_OK) {
		ims_log_err(NULL, "event=listen_failed error=\"%s\"", err);
		fprintf(stderr, "ims-webapi: %s\n", err);
		goto out;
	}
	ims_log_notice(NULL, "event=started listen=%s port=%d threads=%d", conf->webapi_listen,
	               ims_server_port(srv), conf->webapi_threads);
	ims_notify_ready();
	for (;;) {
		/* every few seconds: close the IMAP connections left idle */
		struct timespec tick = {.tv_sec = 5};

		sig = sigtimedwait(&set, NULL, &tick);
		if (sig < 0) {
			ims_imap_sweep(app.imap);
			continue;
		}
		if (sig == SIGHUP) {
			ims_log_notice(NULL, "event=sighup note=\"restart to reload the config\"");
			continue;
		}
		break;
	}
	ims_notify_stopping();
	ims_log_notice(NULL, "event=draining signal=%d", sig);
	app.draining = 1;
	ims_server_stop(srv, DRAIN_MS);
	ims_log_notice(NULL, "event=stopped");
	rc = 0;
out:
	ims_engine_publish(NULL);
	ims_metrics_free(app.metrics);
	ims_token_key_free(app.key);
	if (app.metrics_token) {
		sodium_memzero(app.metrics_token, strlen(app.metrics_token));
		free(app.metrics_token);
	}
	ims_imap_free(app.imap);
	ims_dove_free(app.dove);
	ims_store_free(app.store);
	if (app.submission_password) {
		sodium_memzero(app.submission_password, strlen(app.submission_password));
		free(app.submission_password);
	}
	ims_conf_unref(conf);
	return rc;
}
