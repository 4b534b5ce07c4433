/* GET /health, GET /metrics, the web UI's static files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "engine.h"
#include "router.h"
#include "routes.h"
#include "scanlog.h"
#include "stats.h"
#include "store.h"

#define UI_FILE_MAX (4 * 1024 * 1024)

void ims_route_health(struct ims_req *r)
{
	json_t *j, *sj = NULL, *v;
	const char *model = NULL, *stale = NULL;
	char *text = NULL;
	size_t i, len = 0;
	ims_status st;

	if (r->app->draining) {
		ims_req_error(r, 503, "shutting down");
		return;
	}
	if ((st = ims_store_ping(ims_req_store(r))) != IMS_OK) {
		ims_req_store_failed(r, st);
		return;
	}
	/* the model the milter used last, from the newest scan log */
	st = ims_scanlog_latest(ims_req_store(r), &text, &len);
	if (st != IMS_OK && st != IMS_ENOTFOUND) {
		ims_req_store_failed(r, st);
		return;
	}
	if (text) {
		sj = json_loadb(text, len, 0, NULL);
		free(text);
		model = json_string_value(json_object_get(sj, "model_version"));
		json_array_foreach(json_object_get(sj, "symbols"), i, v)
		{
			const char *n = json_string_value(json_object_get(v, "name"));
			if (n && strcmp(n, "MODEL_STALE") == 0)
				stale = json_string_value(json_object_get(v, "detail"));
		}
	}
	{
		/* the model this process scans with (POST /scan-email) */
		struct ims_engine *eng = ims_engine_acquire();
		const char *own =
		    eng && ims_engine_model(eng) ? ims_engine_model_version(eng) : NULL;

		const char *own_stale = eng ? ims_engine_model_reload_error(eng) : NULL;

		/* degraded: a model reload failed and the previous model still
		 * scans (here, or in the milter that stored the newest scan) */
		j = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}", "status",
		              stale || own_stale ? "degraded" : "ok", "redis", "ok",
		              "model_version", own, "model_error",
		              eng && !own ? ims_engine_model_error(eng) : NULL,
		              "model_reload_error", own_stale, "milter_model_version", model,
		              "milter_model_reload_error", stale, "version", PACKAGE_VERSION);
		if (eng)
			ims_engine_unref(eng);
	}
	ims_req_json(r, 200, j);
	json_decref(sj);
}

/* Prometheus label values: keep [A-Za-z0-9_.:-], replace the rest. */
static void label(char *out, size_t len, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < len; i++) {
		char c = s[i];

		out[o++] = ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		            (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' || c == '-')
		               ? c
		               : '_';
	}
	out[o] = '\0';
}

/* One counter family from the milter's stats hash: every field named
 * PREFIX<value> becomes METRIC{LABEL="<value>"}. */
static void put_scan_family(FILE *f, json_t *scans, const char *prefix, const char *metric,
                            const char *labelname, const char *help)
{
	size_t plen = strlen(prefix);
	const char *k;
	json_t *v;

	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", metric, help, metric);
	json_object_foreach(scans, k, v)
	{
		char l[128];

		if (strncmp(k, prefix, plen) == 0) {
			label(l, sizeof l, k + plen, strlen(k + plen));
			fprintf(f, "%s{%s=\"%s\"} %lld\n", metric, labelname, l,
			        (long long)json_integer_value(v));
		}
	}
}

void ims_route_metrics(struct ims_req *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	json_t *scans;
	ims_status st;

	if (r->app->metrics_token) {
		/* [webapi] metrics_token_file: a bearer token, compared in
		 * constant time */
		const char *h = ims_req_header(r, "Authorization");
		size_t n = strlen(r->app->metrics_token);

		if (!h || strncasecmp(h, "Bearer ", 7) != 0 || strlen(h + 7) != n ||
		    sodium_memcmp(h + 7, r->app->metrics_token, n) != 0) {
			ims_req_error(r, 401, "/metrics requires its bearer token");
			return;
		}
	}
	/* the running totals the scan store keeps in the same transaction as
	 * each scan log (one HGETALL per scrape; they never fall when hourly
	 * buckets expire; a store older than them has none until `ims
	 * migrate`, docs/operations.md) */
	if ((st = ims_stats_totals(ims_req_store(r), &scans)) != IMS_OK) {
		ims_req_store_failed(r, st);
		return;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		json_decref(scans);
		ims_req_error(r, 500, "out of memory");
		return;
	}
	ims_metrics_write(r->app->metrics, f);
	fputs("# HELP ims_scans_total Messages scanned by ims-milter.\n"
	      "# TYPE ims_scans_total counter\n",
	      f);
	fprintf(f, "ims_scans_total %lld\n",
	        (long long)json_integer_value(json_object_get(scans, "total")));
	put_scan_family(f, scans, "action:", "ims_scans_by_action_total", "action",
	                "Scans by the action taken.");
	put_scan_family(f, scans, "verdict:", "ims_scans_by_verdict_total", "verdict",
	                "Scans by classifier verdict.");
	put_scan_family(f, scans, "symbol:", "ims_scan_symbols_total", "symbol",
	                "Scans by symbol that fired.");
	fprintf(f, "# TYPE ims_webapi_requests_in_flight gauge\nims_webapi_requests_in_flight %d\n",
	        __atomic_load_n(&r->app->inflight, __ATOMIC_RELAXED));
	fclose(f);
	json_decref(scans);
	ims_req_take(r, 200, "text/plain; version=0.0.4", buf, len);
}

void ims_route_root(struct ims_req *r)
{
	ims_req_empty(r, 302); /* Location: /ui/ */
}

static const char *ctype_of(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".json", "application/json"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

void ims_route_ui(struct ims_req *r)
{
	const char *rel = r->path + strlen("/ui/");
	char path[4096];
	struct stat st;
	char *buf = NULL;
	ssize_t got;
	int fd = -1;

	if (*rel == '\0')
		rel = "index.html";
	for (const char *p = rel; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-' ||
		      *p == '/')) {
			ims_req_error(r, 404, "no such file");
			return;
		}
	if (rel[0] == '/' || rel[0] == '.' || strstr(rel, "..") || strstr(rel, "/.") ||
	    snprintf(path, sizeof path, "%s/%s", r->app->conf->webapi_ui_dir, rel) >=
	        (int)sizeof path) {
		ims_req_error(r, 404, "no such file");
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > UI_FILE_MAX) {
		ims_req_error(r, 404, "no such file");
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ims_req_error(r, 500, "out of memory");
		goto out;
	}
	got = read(fd, buf, (size_t)st.st_size);
	if (got != st.st_size) {
		ims_req_error(r, 500, "cannot read %s", rel);
		goto out;
	}
	ims_req_take(r, 200, ctype_of(path), buf, (size_t)got);
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
}
