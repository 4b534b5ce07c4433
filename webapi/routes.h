/* Route handlers, one group per file: routes_auth.c, routes_mail.c,
 * routes_admin.c, routes_quarantine.c, routes_misc.c.  Each fills r's response. */
#ifndef IMS_WEB_ROUTES_H
#define IMS_WEB_ROUTES_H

#include "request.h"

/* open */
void ims_route_health(struct ims_req *r);
void ims_route_metrics(struct ims_req *r);
void ims_route_ui(struct ims_req *r);
void ims_route_root(struct ims_req *r);
void ims_route_register(struct ims_req *r);
void ims_route_login(struct ims_req *r);
void ims_route_refresh(struct ims_req *r);
void ims_route_click(struct ims_req *r); /* routes_click.c: the token is the authority */
void ims_route_frame(struct ims_req *r); /* routes_mail.c: the ticket is the authority */

/* any signed-in user */
void ims_route_logout(struct ims_req *r);
void ims_route_me(struct ims_req *r);
void ims_route_emails(struct ims_req *r);
void ims_route_folders(struct ims_req *r);
void ims_route_empty_trash(struct ims_req *r);
void ims_route_inbox(struct ims_req *r);
void ims_route_sent(struct ims_req *r);
void ims_route_email_get(struct ims_req *r);
void ims_route_email_raw(struct ims_req *r);
void ims_route_email_frame(struct ims_req *r);
void ims_route_email_delete(struct ims_req *r);
void ims_route_email_report(struct ims_req *r);
void ims_route_email_flags(struct ims_req *r);
void ims_route_email_move(struct ims_req *r);
void ims_route_email_draft(struct ims_req *r);
void ims_route_email_attachment(struct ims_req *r);
void ims_route_email_send(struct ims_req *r);
void ims_route_scan_email(struct ims_req *r);
void ims_route_user_quarantine(struct ims_req *r);
void ims_route_user_quarantine_get(struct ims_req *r);
void ims_route_user_release(struct ims_req *r);
void ims_route_senders(struct ims_req *r); /* GET, PUT, DELETE */

/* admin */
void ims_route_admin_scans(struct ims_req *r);
void ims_route_admin_scan(struct ims_req *r);
void ims_route_admin_stats(struct ims_req *r);
void ims_route_admin_dashboard(struct ims_req *r);
void ims_route_admin_symbols(struct ims_req *r);
void ims_route_admin_quarantine(struct ims_req *r);
void ims_route_admin_quarantine_get(struct ims_req *r);
void ims_route_admin_quarantine_delete(struct ims_req *r);
void ims_route_admin_release(struct ims_req *r);
void ims_route_admin_audit(struct ims_req *r);
void ims_route_admin_clicks(struct ims_req *r);
void ims_route_admin_users(struct ims_req *r);
void ims_route_admin_user_create(struct ims_req *r);
/* routes_users.c: one account */
void ims_route_admin_user_get(struct ims_req *r);
void ims_route_admin_user_patch(struct ims_req *r);
void ims_route_admin_user_password(struct ims_req *r);
void ims_route_admin_senders_user(struct ims_req *r);   /* GET, PUT, DELETE */
void ims_route_admin_senders_domain(struct ims_req *r); /* GET, PUT, DELETE */

#endif
