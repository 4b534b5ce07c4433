/* Admin routes: scans, one scan, stats, quarantine and release, audit,
 * users (the quarantine is routes_quarantine.c).  Every change an admin makes is an event in
 * ims:{global}:events (ims_req_audit), and so is an audit export. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dashboard.h"
#include "events.h"
#include "log.h"
#include "page.h"
#include "routes.h"
#include "scanlog.h"
#include "stats.h"
#include "symbols.h"
#include "ulid.h"
#include "users.h"

#define TOP_N 10

/* Filter values: [A-Za-z0-9_.-], at most 64; sets a 400 otherwise. */
static int token_ok(struct ims_req *r, const char *name, const char *v)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '_' || v[i] == '.' || v[i] == '-')) {
			n = 0;
			break;
		}
	if (n == 0 || n > 64) {
		ims_req_error(r, 400, "bad value for %s", name);
		return 0;
	}
	return 1;
}

/* The list is the stored scan logs as text (lib/scanlog.h). */
void ims_route_admin_scans(struct ims_req *r)
{
	struct ims_scan_filter f = {ims_req_query(r, "verdict"),   ims_req_query(r, "action"),
	                            ims_req_query(r, "symbol"),    ims_req_query(r, "sender"),
	                            ims_req_query(r, "recipient"), ims_req_query(r, "ip")};
	long long from = LLONG_MIN, to = LLONG_MAX;
	int limit = ims_req_limit(r);
	char *buf = NULL;
	size_t len = 0;
	ims_status st;

	if (limit < 0)
		return;
	if ((f.verdict && !token_ok(r, "verdict", f.verdict)) ||
	    (f.action && !token_ok(r, "action", f.action)) ||
	    (f.symbol && !token_ok(r, "symbol", f.symbol)) || ims_page_time_arg(r, "from", &from) ||
	    ims_page_time_arg(r, "to", &to))
		return;
	if ((f.sender && strlen(f.sender) > IMS_USERS_ADDR_MAX) ||
	    (f.recipient && strlen(f.recipient) > IMS_USERS_ADDR_MAX)) {
		ims_req_error(r, 400, "address too long");
		return;
	}
	if (f.ip && !ims_scan_filter_ip_ok(f.ip)) {
		ims_req_error(r, 400, "ip must be an IPv4 or IPv6 address");
		return;
	}
	st = ims_scanlog_list(ims_req_store(r), &f, ims_req_query(r, "cursor"), from, to,
	                      (size_t)limit, &buf, &len);
	if (st != IMS_OK) {
		ims_page_failed(r, st);
		return;
	}
	ims_req_take(r, 200, "application/json", buf, len);
}

void ims_route_admin_scan(struct ims_req *r)
{
	char *text = NULL;
	size_t len = 0;
	json_t *s;
	ims_status st;

	if (!ims_ulid_valid(r->params[0])) {
		ims_req_error(r, 404, "no such scan");
		return;
	}
	st = ims_scanlog_get(ims_req_store(r), r->params[0], &text, &len);
	if (st == IMS_ENOTFOUND)
		ims_req_error(r, 404, "no such scan");
	else if (st != IMS_OK)
		ims_req_store_failed(r, st);
	else if (!(s = json_loadb(text, len, 0, NULL)))
		ims_req_error(r, 500, "the stored scan log is not JSON");
	else
		ims_req_json(r, 200, s);
	free(text);
}

void ims_route_admin_stats(struct ims_req *r)
{
	long long now = (long long)ims_req_now_ms(), from = now - 24LL * 3600 * 1000, to = now;
	const char *bq = ims_req_query(r, "bucket");
	long long step = 3600LL * 1000, hour = 3600LL * 1000;
	json_t *report = NULL;
	ims_status st;

	if (ims_page_time_arg(r, "from", &from) || ims_page_time_arg(r, "to", &to))
		return;
	if (bq && strcmp(bq, "day") == 0)
		step *= 24;
	else if (bq && strcmp(bq, "hour") != 0) {
		ims_req_error(r, 400, "bucket must be hour or day");
		return;
	}
	from -= from % hour;
	if (to < from) {
		ims_req_error(r, 400, "from is after to");
		return;
	}
	if ((to - from) / hour + 1 > IMS_STATS_BUCKETS_MAX) {
		ims_req_error(r, 400, "at most %d hours at once", IMS_STATS_BUCKETS_MAX);
		return;
	}
	st = ims_stats_report(ims_req_store(r), from, to, step, TOP_N, &report);
	if (st != IMS_OK)
		ims_req_store_failed(r, st);
	else
		ims_req_json(r, 200, report);
}

/* The symbols a scan can carry, with their weights as configured ([scores])
 * and what each means: the console's symbol picker. */
void ims_route_admin_symbols(struct ims_req *r)
{
	json_t *items = json_array();

	for (int i = 0; items && ims_symbols[i].name; i++)
		json_array_append_new(
		    items, json_pack("{s:s, s:f, s:s}", "name", ims_symbols[i].name, "weight",
		                     r->app->conf->scores ? r->app->conf->scores[i]
		                                          : ims_symbols[i].weight,
		                     "doc", ims_symbols[i].doc ? ims_symbols[i].doc : ""));
	ims_req_json(r, 200, json_pack("{s:o}", "items", items));
}

void ims_route_admin_dashboard(struct ims_req *r)
{
	const char *range = ims_req_query(r, "range");
	json_t *o = NULL;
	ims_status st =
	    ims_dashboard_read(ims_req_store(r), range ? range : "24h", ims_req_now_ms(), &o);

	if (st == IMS_OK)
		ims_req_json(r, 200, o);
	else if (st == IMS_EINVAL)
		ims_req_error(r, 400, "range must be 1h, 24h, 7d or 30d");
	else
		ims_req_store_failed(r, st);
}

static const char *const csv_cols[] = {"time",   "type", "actor",  "op",
                                       "target", "id",   "action", "score"};

/* A plain decimal number ("-3.5"): a spreadsheet reads it as a number,
 * never as a formula, so it keeps its leading '-'. */
static bool csv_number(const char *s)
{
	size_t n;

	s += *s == '-';
	n = strspn(s, "0123456789");
	if (n == 0)
		return false;
	s += n;
	if (*s == '.' && (n = strspn(s + 1, "0123456789")) > 0)
		s += 1 + n;
	return *s == '\0';
}

/* One quoted CSV cell.  A cell that starts with = + - @ tab or CR would be
 * run as a formula by a spreadsheet that opens the export (CSV injection):
 * it gets a leading ' as OWASP recommends, unless it is a plain number. */
static void csv_cell(FILE *f, const char *s)
{
	fputc('"', f);
	if (s && strchr("=+-@\t\r", *s) && *s && !csv_number(s))
		fputc('\'', f);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* At most this many events are read for one filtered page: a rare type
 * gets a short page and a cursor instead of a scan of the whole stream. */
#define AUDIT_READ_MAX 5000

void ims_route_admin_audit(struct ims_req *r)
{
	const char *fmt = ims_req_query(r, "format"), *cur = ims_req_query(r, "cursor");
	const char *type = ims_req_query(r, "type"), *actor = ims_req_query(r, "actor");
	int limit = ims_req_limit(r), csv = fmt && strcmp(fmt, "csv") == 0;
	json_t *items = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = NULL;

	if (limit < 0)
		return;
	if (fmt && !csv && strcmp(fmt, "json") != 0) {
		ims_req_error(r, 400, "format must be json or csv");
		return;
	}
	if (type && strcmp(type, "admin") != 0 && strcmp(type, "scan") != 0 &&
	    strcmp(type, "click") != 0) {
		ims_req_error(r, 400, "type must be admin, scan or click");
		return;
	}
	if (actor && (!actor[0] || strlen(actor) > IMS_USERS_ADDR_MAX)) {
		ims_req_error(r, 400, "bad value for actor");
		return;
	}
	if (cur) {
		/* a stream id, exclusive: "(1700000000000-0" */
		unsigned long long a, b;
		char extra;

		if (strlen(cur) > 40 || sscanf(cur, "%llu-%llu%c", &a, &b, &extra) != 2) {
			ims_req_error(r, 400, "malformed cursor");
			return;
		}
	}
	items = json_array();
	if (csv) {
		f = open_memstream(&buf, &len);
		if (!f)
			goto out;
		fputs("stream_id", f);
		for (size_t k = 0; k < sizeof csv_cols / sizeof csv_cols[0]; k++)
			fprintf(f, ",%s", csv_cols[k]);
		fputs("\r\n", f);
	}
	{
		/* Batches newest first until the page is full, the stream ends
		 * or AUDIT_READ_MAX events were read; the cursor is the last
		 * event read (exclusive), so the next page goes on from there. */
		int batch = !type && !actor               ? limit + 1
		            : limit * 20 < 500            ? 500
		            : limit * 20 > AUDIT_READ_MAX ? AUDIT_READ_MAX
		                                          : limit * 20;
		size_t kept = 0, read = 0;
		char last[64] = "";
		int more = 0, done = 0;

		while (!done) {
			struct ims_events_batch b;
			ims_status st = ims_events_before(ims_req_store(r), last[0] ? last : cur,
			                                  (size_t)batch, &b);

			if (st != IMS_OK) {
				ims_events_batch_free(&b);
				ims_req_store_failed(r, st);
				goto out;
			}
			for (size_t i = 0; i < b.n; i++) {
				const struct ims_siem_event *e = &b.ev[i];
				const char *t;
				json_t *o;

				if (kept == (size_t)limit) {
					more = done = 1;
					break;
				}
				snprintf(last, sizeof last, "%s", e->id);
				read++;
				o = json_pack("{s:s}", "stream_id", e->id);
				for (size_t k = 0; k < e->n; k++)
					json_object_set_new(o, e->kv[2 * k],
					                    json_string(e->kv[2 * k + 1]));
				t = json_string_value(json_object_get(o, "type"));
				if ((type && (!t || strcmp(t, type) != 0)) ||
				    (actor &&
				     !(json_string_value(json_object_get(o, "actor")) &&
				       strcasecmp(json_string_value(json_object_get(o, "actor")),
				                  actor) == 0))) {
					json_decref(o);
					continue;
				}
				kept++;
				if (csv) {
					csv_cell(f, e->id);
					for (size_t k = 0; k < sizeof csv_cols / sizeof csv_cols[0];
					     k++) {
						fputc(',', f);
						csv_cell(f, json_string_value(
						                json_object_get(o, csv_cols[k])));
					}
					fputs("\r\n", f);
					json_decref(o);
				} else {
					json_array_append_new(items, o);
				}
			}
			if (!done && (b.n < (size_t)batch || !last[0]))
				done = 1; /* the end of the stream */
			else if (!done && read >= AUDIT_READ_MAX)
				more = done = 1;
			ims_events_batch_free(&b);
		}
		if (csv) {
			fclose(f);
			f = NULL;
			if (ims_req_audit(r, "audit.export", "csv", NULL) != IMS_OK)
				goto out;
			r->disposition = "attachment; filename=\"ims-audit.csv\"";
			ims_req_take(r, 200, "text/csv; charset=utf-8", buf, len);
			buf = NULL;
		} else {
			ims_req_json(r, 200,
			             json_pack("{s:O, s:s?}", "items", items, "next_cursor",
			                       more && last[0] ? last : NULL));
		}
	}
out:
	if (f)
		fclose(f);
	free(buf);
	json_decref(items);
	if (!r->responded)
		ims_req_error(r, 500, "out of memory");
}

struct user_list {
	json_t *items;
	char last[IMS_USERS_ADDR_MAX + 1];
};

static int add_user(const struct ims_user_info *info, void *arg)
{
	struct user_list *l = arg;

	json_array_append_new(l->items,
	                      json_pack("{s:s, s:s, s:I, s:b}", "address", info->address, "role",
	                                ims_role_name(info->role), "created",
	                                (json_int_t)info->created_ms, "disabled", info->disabled));
	snprintf(l->last, sizeof l->last, "%s", info->address);
	return 0;
}

void ims_route_admin_users(struct ims_req *r)
{
	struct ims_users *u = NULL;
	struct user_list l = {json_array(), ""};
	int limit = ims_req_limit(r);
	bool more = false;

	if (limit < 0 || ims_users_new(ims_req_store(r), r->app->conf, &u) != IMS_OK)
		goto out;
	switch (ims_users_list(u, ims_req_query(r, "cursor"), (size_t)limit, add_user, &l, &more)) {
	case IMS_OK: break;
	case IMS_EINVAL: ims_req_error(r, 400, "stale cursor: that account is gone"); goto out;
	default: ims_req_store_failed(r, IMS_ETEMP); goto out;
	}
	ims_req_json(r, 200,
	             json_pack("{s:O, s:s?}", "items", l.items, "next_cursor",
	                       more && l.last[0] ? l.last : NULL));
out:
	ims_users_free(u);
	json_decref(l.items);
}

void ims_route_admin_user_create(struct ims_req *r)
{
	struct ims_users *u = NULL;
	json_t *j = ims_req_body_json(r);
	const char *addr, *pw, *role;
	char canon[IMS_USERS_ADDR_MAX + 1];
	int rl;
	ims_status st;

	if (!j)
		return;
	addr = json_string_value(json_object_get(j, "address"));
	pw = json_string_value(json_object_get(j, "password"));
	role = json_string_value(json_object_get(j, "role"));
	rl = role ? ims_role_parse(role) : IMS_ROLE_USER;
	if (!addr || !pw || rl < 0) {
		ims_req_error(r, 400, "address, password and role (user or admin) are required");
		goto out;
	}
	st = ims_users_canon_address(addr, r->app->conf->milter_local_domains, canon);
	if (st != IMS_OK) {
		ims_req_error(r, 400,
		              st == IMS_EPERM ? "the domain is not a local domain"
		                              : "not a valid address");
		goto out;
	}
	if (ims_users_new(ims_req_store(r), r->app->conf, &u) != IMS_OK)
		goto out;
	st = ims_users_create(u, canon, pw, (enum ims_role)rl);
	if (st == IMS_EEXIST) {
		ims_req_error(r, 409, "this address is taken");
	} else if (st == IMS_EINVAL) {
		ims_req_error(r, 400, "the password must be %d to %d bytes", IMS_USERS_PASSWORD_MIN,
		              IMS_USERS_PASSWORD_MAX);
	} else if (st != IMS_OK) {
		ims_req_store_failed(r, st);
	} else if (ims_req_audit(r, "user.create", canon, "role", ims_role_name(rl), NULL) ==
	           IMS_OK) {
		ims_req_json(r, 201,
		             json_pack("{s:s, s:s}", "address", canon, "role", ims_role_name(rl)));
	}
out:
	ims_users_free(u);
	json_decref(j);
}
