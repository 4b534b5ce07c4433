#include "config.h"

#include <string.h>

#include "router.h"
#include "routes.h"

#define ROUTES(X)                                                                                  \
	X("GET", "/health", IMS_OPEN, "health", ims_route_health)                                  \
	X("GET", "/metrics", IMS_OPEN, "metrics", ims_route_metrics)                               \
	X("GET", "/", IMS_OPEN, "root", ims_route_root)                                            \
	X("GET", "/ui/*", IMS_OPEN, "ui", ims_route_ui)                                            \
	X("GET", "/click", IMS_OPEN, "click", ims_route_click)                                     \
	X("GET", "/frame/{}", IMS_OPEN, "frame", ims_route_frame)                                  \
	X("POST", "/auth/register", IMS_OPEN, "auth_register", ims_route_register)                 \
	X("POST", "/auth/login", IMS_OPEN, "auth_login", ims_route_login)                          \
	X("POST", "/auth/refresh", IMS_OPEN, "auth_refresh", ims_route_refresh)                    \
	X("POST", "/auth/logout", IMS_USER, "auth_logout", ims_route_logout)                       \
	X("GET", "/auth/me", IMS_USER, "auth_me", ims_route_me)                                    \
	X("GET", "/emails", IMS_USER, "emails", ims_route_emails)                                  \
	X("GET", "/emails/folders", IMS_USER, "emails_folders", ims_route_folders)                 \
	X("POST", "/emails/trash/empty", IMS_USER, "emails_empty_trash", ims_route_empty_trash)    \
	X("GET", "/emails/inbox", IMS_USER, "emails_inbox", ims_route_inbox)                       \
	X("GET", "/emails/sent", IMS_USER, "emails_sent", ims_route_sent)                          \
	X("POST", "/emails/send", IMS_USER, "emails_send", ims_route_email_send)                   \
	X("POST", "/emails/drafts", IMS_USER, "emails_draft", ims_route_email_draft)               \
	X("GET", "/emails/quarantine", IMS_USER, "emails_quarantine", ims_route_user_quarantine)   \
	X("GET", "/emails/quarantine/{}", IMS_USER, "email_quarantine_get",                        \
	  ims_route_user_quarantine_get)                                                           \
	X("POST", "/emails/quarantine/{}/release", IMS_USER, "email_quarantine_release",           \
	  ims_route_user_release)                                                                  \
	X("GET", "/emails/{}", IMS_USER, "email_get", ims_route_email_get)                         \
	X("DELETE", "/emails/{}", IMS_USER, "email_delete", ims_route_email_delete)                \
	X("GET", "/emails/{}/raw", IMS_USER, "email_raw", ims_route_email_raw)                     \
	X("POST", "/emails/{}/frame", IMS_USER, "email_frame", ims_route_email_frame)              \
	X("GET", "/emails/{}/attachments/{}", IMS_USER, "email_attachment",                        \
	  ims_route_email_attachment)                                                              \
	X("POST", "/emails/{}/report", IMS_USER, "email_report", ims_route_email_report)           \
	X("POST", "/emails/{}/flags", IMS_USER, "email_flags", ims_route_email_flags)              \
	X("POST", "/emails/{}/move", IMS_USER, "email_move", ims_route_email_move)                 \
	X("POST", "/scan-email", IMS_USER, "scan_email", ims_route_scan_email)                     \
	X("GET", "/admin/scans", IMS_ADMIN, "admin_scans", ims_route_admin_scans)                  \
	X("GET", "/admin/scans/{}", IMS_ADMIN, "admin_scan", ims_route_admin_scan)                 \
	X("GET", "/admin/stats", IMS_ADMIN, "admin_stats", ims_route_admin_stats)                  \
	X("GET", "/admin/dashboard", IMS_ADMIN, "admin_dashboard", ims_route_admin_dashboard)      \
	X("GET", "/admin/symbols", IMS_ADMIN, "admin_symbols", ims_route_admin_symbols)            \
	X("GET", "/admin/quarantine", IMS_ADMIN, "admin_quarantine", ims_route_admin_quarantine)   \
	X("GET", "/admin/quarantine/{}", IMS_ADMIN, "admin_quarantine_get",                        \
	  ims_route_admin_quarantine_get)                                                          \
	X("DELETE", "/admin/quarantine/{}", IMS_ADMIN, "admin_quarantine_delete",                  \
	  ims_route_admin_quarantine_delete)                                                       \
	X("POST", "/admin/quarantine/{}/release", IMS_ADMIN, "admin_release",                      \
	  ims_route_admin_release)                                                                 \
	X("GET", "/admin/audit", IMS_ADMIN, "admin_audit", ims_route_admin_audit)                  \
	X("GET", "/admin/clicks", IMS_ADMIN, "admin_clicks", ims_route_admin_clicks)               \
	X("GET", "/admin/users", IMS_ADMIN, "admin_users", ims_route_admin_users)                  \
	X("POST", "/admin/users", IMS_ADMIN, "admin_user_create", ims_route_admin_user_create)     \
	X("GET", "/admin/users/{}", IMS_ADMIN, "admin_user_get", ims_route_admin_user_get)         \
	X("PATCH", "/admin/users/{}", IMS_ADMIN, "admin_user_patch", ims_route_admin_user_patch)   \
	X("POST", "/admin/users/{}/password", IMS_ADMIN, "admin_user_password",                    \
	  ims_route_admin_user_password)                                                           \
	X("GET", "/settings/senders", IMS_USER, "senders_get", ims_route_senders)                  \
	X("PUT", "/settings/senders", IMS_USER, "senders_put", ims_route_senders)                  \
	X("DELETE", "/settings/senders", IMS_USER, "senders_delete", ims_route_senders)            \
	X("GET", "/admin/senders/users/{}", IMS_ADMIN, "admin_senders_user_get",                   \
	  ims_route_admin_senders_user)                                                            \
	X("PUT", "/admin/senders/users/{}", IMS_ADMIN, "admin_senders_user_put",                   \
	  ims_route_admin_senders_user)                                                            \
	X("DELETE", "/admin/senders/users/{}", IMS_ADMIN, "admin_senders_user_delete",             \
	  ims_route_admin_senders_user)                                                            \
	X("GET", "/admin/senders/domains/{}", IMS_ADMIN, "admin_senders_domain_get",               \
	  ims_route_admin_senders_domain)                                                          \
	X("PUT", "/admin/senders/domains/{}", IMS_ADMIN, "admin_senders_domain_put",               \
	  ims_route_admin_senders_domain)                                                          \
	X("DELETE", "/admin/senders/domains/{}", IMS_ADMIN, "admin_senders_domain_delete",         \
	  ims_route_admin_senders_domain)

#define ROW(m, p, a, n, h)  {m, p, a, n, h},
#define NAME(m, p, a, n, h) n,

const struct ims_route ims_routes[] = {ROUTES(ROW)};
const size_t ims_nroutes = sizeof ims_routes / sizeof ims_routes[0];
const char *const ims_route_names[] = {ROUTES(NAME)};

/* Matches path against pattern; fills params when r is not NULL. */
static int match(const char *pat, const char *path, struct ims_req *r)
{
	int np = 0;

	while (*pat && *path) {
		if (pat[0] == '*' && pat[1] == '\0')
			return 1;
		if (pat[0] == '{' && pat[1] == '}') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= IMS_REQ_PARAM_MAX || np >= IMS_REQ_MAX_PARAMS)
				return 0;
			if (r) {
				memcpy(r->params[np], path, n);
				r->params[np][n] = '\0';
			}
			np++;
			path += n;
			pat += 2;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	if (pat[0] == '*' && pat[1] == '\0')
		return 1;
	return *pat == '\0' && *path == '\0';
}

int ims_router_match(const char *method, const char *path, struct ims_req *r)
{
	int path_known = 0;

	for (size_t i = 0; i < ims_nroutes; i++) {
		if (!match(ims_routes[i].pattern, path, NULL))
			continue;
		if (strcmp(ims_routes[i].method, method) == 0) {
			match(ims_routes[i].pattern, path, r);
			return (int)i;
		}
		path_known = 1;
	}
	return path_known ? -2 : -1;
}
