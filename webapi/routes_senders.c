/* Sender allow/block lists (lib/senders.h): a user's own under
 * /settings/senders, any user's and each local domain's under
 * /admin/senders/... (admins; every change is an audit event).
 *
 *   GET    LIST             {"items": [{"entry", "action"}...], "max": N}
 *   PUT    LIST             {"entry": "bob@example.org" | "example.org",
 *                            "action": "block" | "allow"}  -> 200 the entry
 *   DELETE LIST?entry=E     204, 404 when absent */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "routes.h"
#include "senders.h"
#include "users.h"

static void add_item(void *arg, const char *entry, const char *action)
{
	json_array_append_new(arg, json_pack("{s:s, s:s}", "entry", entry, "action", action));
}

/* GET/PUT/DELETE on the list at key; audit names the target for admins
 * (NULL for a user's own list). */
static void serve(struct ims_req *r, const char *key, const char *audit)
{
	struct ims_store *c = ims_req_store(r);
	char entry[IMS_SENDERS_ENTRY_MAX + 1];
	json_t *j = NULL;
	ims_status st;

	if (!c)
		return;
	if (strcmp(r->method, "GET") == 0) {
		json_t *items = json_array();

		if (ims_senders_list(c, key, add_item, items) != IMS_OK) {
			json_decref(items);
			ims_req_store_failed(r, IMS_ETEMP);
			return;
		}
		ims_req_json(r, 200,
		             json_pack("{s:o, s:i}", "items", items, "max",
		                       r->app->conf->senders_max_entries));
		return;
	}
	if (strcmp(r->method, "DELETE") == 0) {
		if (ims_senders_entry_norm(ims_req_query(r, "entry"), entry) != IMS_OK) {
			ims_req_error(r, 400, "?entry= must be an address or a domain");
			return;
		}
		st = ims_senders_delete(c, key, entry);
		if (st == IMS_ENOTFOUND) {
			ims_req_error(r, 404, "no such entry");
		} else if (st != IMS_OK) {
			ims_req_store_failed(r, IMS_ETEMP);
		} else if (audit && ims_req_audit(r, "senders.delete", audit, "entry", entry,
		                                  NULL) != IMS_OK) {
			ims_req_store_failed(r, IMS_ETEMP);
		} else {
			ims_req_empty(r, 204);
		}
		return;
	}
	/* PUT */
	if (!(j = ims_req_body_json(r)))
		return;
	{
		const char *e = json_string_value(json_object_get(j, "entry"));
		int a = ims_sender_action_parse(json_string_value(json_object_get(j, "action")));

		if (ims_senders_entry_norm(e, entry) != IMS_OK || a < 0) {
			ims_req_error(
			    r, 400,
			    "entry (an address or a domain) and action (block or allow) are "
			    "required");
			goto out;
		}
		st = ims_senders_put(c, key, entry, (enum ims_sender_action)a,
		                     r->app->conf->senders_max_entries);
		if (st == IMS_ELIMIT) {
			ims_req_error(r, 409, "the list is full (%d entries)",
			              r->app->conf->senders_max_entries);
		} else if (st != IMS_OK) {
			ims_req_store_failed(r, IMS_ETEMP);
		} else if (audit && ims_req_audit(r, "senders.put", audit, "entry", entry, "action",
		                                  ims_sender_action_name((enum ims_sender_action)a),
		                                  NULL) != IMS_OK) {
			ims_req_store_failed(r, IMS_ETEMP);
		} else {
			ims_req_json(r, 200,
			             json_pack("{s:s, s:s}", "entry", entry, "action",
			                       ims_sender_action_name((enum ims_sender_action)a)));
		}
	}
out:
	json_decref(j);
}

void ims_route_senders(struct ims_req *r)
{
	char key[IMS_SENDERS_KEY_MAX];

	ims_senders_user_key(r->who.sub, key);
	serve(r, key, NULL);
}

void ims_route_admin_senders_user(struct ims_req *r)
{
	char canon[IMS_USERS_ADDR_MAX + 1], key[IMS_SENDERS_KEY_MAX],
	    target[IMS_USERS_ADDR_MAX + 8];

	if (ims_users_canon_address(r->params[0], r->app->conf->milter_local_domains, canon) !=
	    IMS_OK) {
		ims_req_error(r, 404, "not an address of a local domain");
		return;
	}
	ims_senders_user_key(canon, key);
	snprintf(target, sizeof target, "user:%s", canon);
	serve(r, key, target);
}

void ims_route_admin_senders_domain(struct ims_req *r)
{
	char key[IMS_SENDERS_KEY_MAX], target[IMS_REQ_PARAM_MAX + 8], dom[IMS_REQ_PARAM_MAX];
	char *const *d;

	for (size_t i = 0; i <= strlen(r->params[0]); i++)
		dom[i] =
		    (char)(r->params[0][i] >= 'A' && r->params[0][i] <= 'Z' ? r->params[0][i] + 32
		                                                            : r->params[0][i]);
	for (d = r->app->conf->milter_local_domains; d && *d; d++)
		if (strcasecmp(*d, dom) == 0)
			break;
	if (!d || !*d) {
		ims_req_error(r, 404, "not a local domain");
		return;
	}
	ims_senders_domain_key(dom, key);
	snprintf(target, sizeof target, "domain:%s", dom);
	serve(r, key, target);
}
