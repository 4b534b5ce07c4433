/* Admin routes on one account: read it, change its role or disable it,
 * reset its password (docs/api.md, "Admin").  Every change is an audit
 * event; a password reset and a disable end the user's web sessions. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "authcache.h"
#include "routes.h"
#include "sessions.h"
#include "users.h"

/* The account named by the path: its canonical address in canon and a
 * handle in *u (the caller frees it).  0 and a response set when the
 * address is no local account. */
static int account(struct ims_req *r, char *canon, struct ims_users **u, struct ims_user_info *info)
{
	ims_status st;

	*u = NULL;
	if (ims_users_canon_address(r->params[0], r->app->conf->milter_local_domains, canon) !=
	    IMS_OK) {
		ims_req_error(r, 404, "no such account");
		return 0;
	}
	if (ims_users_new(ims_req_store(r), r->app->conf, u) != IMS_OK) {
		ims_req_error(r, 500, "out of memory");
		return 0;
	}
	st = ims_users_get(*u, canon, info);
	if (st == IMS_ENOTFOUND)
		ims_req_error(r, 404, "no such account");
	else if (st != IMS_OK)
		ims_req_store_failed(r, st);
	return st == IMS_OK;
}

static json_t *info_json(const struct ims_user_info *info)
{
	return json_pack("{s:s, s:s, s:I, s:b}", "address", info->address, "role",
	                 ims_role_name(info->role), "created", (json_int_t)info->created_ms,
	                 "disabled", info->disabled);
}

void ims_route_admin_user_get(struct ims_req *r)
{
	char canon[IMS_USERS_ADDR_MAX + 1];
	struct ims_users *u;
	struct ims_user_info info;

	if (account(r, canon, &u, &info))
		ims_req_json(r, 200, info_json(&info));
	ims_users_free(u);
}

/* PATCH {"role": "user"|"admin", "disabled": true|false}: either or both. */
void ims_route_admin_user_patch(struct ims_req *r)
{
	char canon[IMS_USERS_ADDR_MAX + 1];
	struct ims_users *u = NULL;
	struct ims_user_info info;
	json_t *j = ims_req_body_json(r), *role_j, *dis_j;
	int role = -1;
	size_t ended = 0;
	char n[24];

	if (!j)
		return;
	role_j = json_object_get(j, "role");
	dis_j = json_object_get(j, "disabled");
	if (role_j &&
	    (role = json_is_string(role_j) ? ims_role_parse(json_string_value(role_j)) : -1) < 0) {
		ims_req_error(r, 400, "role must be user or admin");
		goto out;
	}
	if ((dis_j && !json_is_boolean(dis_j)) || (!role_j && !dis_j)) {
		ims_req_error(r, 400, "give role (user or admin) and/or disabled (true or false)");
		goto out;
	}
	if (!account(r, canon, &u, &info))
		goto out;
	/* an admin cannot lock themselves out of the console */
	if (strcmp(canon, r->who.sub) == 0 &&
	    ((role_j && role != IMS_ROLE_ADMIN) || (dis_j && json_is_true(dis_j)))) {
		ims_req_error(r, 409, "you cannot demote or disable your own account");
		goto out;
	}
	if (role_j && (enum ims_role)role != info.role) {
		ims_status st = ims_users_set_role(u, canon, (enum ims_role)role);

		if (st != IMS_OK) {
			ims_req_store_failed(r, st);
			goto out;
		}
		if (ims_req_audit(r, "user.role", canon, "role", ims_role_name((enum ims_role)role),
		                  NULL) != IMS_OK)
			goto out;
		info.role = (enum ims_role)role;
	}
	if (dis_j && json_is_true(dis_j) != info.disabled) {
		bool dis = json_is_true(dis_j);

		ims_status st = ims_users_set_disabled(u, canon, dis);

		if (st == IMS_OK && dis)
			st = ims_sessions_end_all(ims_req_store(r), canon, &ended);
		if (st != IMS_OK) {
			ims_req_store_failed(r, st);
			goto out;
		}
		ims_authcache_clear();
		snprintf(n, sizeof n, "%zu", ended);
		if (ims_req_audit(r, dis ? "user.disable" : "user.enable", canon, "sessions_ended",
		                  n, NULL) != IMS_OK)
			goto out;
		info.disabled = dis;
	}
	ims_req_json(r, 200, info_json(&info));
out:
	ims_users_free(u);
	json_decref(j);
}

/* A generated password: 18 random bytes, URL-safe base64 (24 characters). */
static void generate_password(char out[32])
{
	unsigned char raw[18];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, 32, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

/* POST {"password": "..."} sets it; {} (or no password) generates one,
 * shown once in the reply.  Either way the user's sessions end. */
void ims_route_admin_user_password(struct ims_req *r)
{
	char canon[IMS_USERS_ADDR_MAX + 1], gen[32], n[24];
	struct ims_users *u = NULL;
	struct ims_user_info info;
	json_t *j = ims_req_body_json(r), *pw_j;
	const char *pw;
	size_t ended = 0;
	ims_status st;

	if (!j)
		return;
	pw_j = json_object_get(j, "password");
	if (pw_j && !json_is_string(pw_j)) {
		ims_req_error(r, 400, "password must be a string");
		goto out;
	}
	if (!account(r, canon, &u, &info))
		goto out;
	if (pw_j) {
		pw = json_string_value(pw_j);
	} else {
		generate_password(gen);
		pw = gen;
	}
	st = ims_users_set_password(u, canon, pw);
	if (st == IMS_EINVAL) {
		ims_req_error(r, 400, "the password must be %d to %d bytes", IMS_USERS_PASSWORD_MIN,
		              IMS_USERS_PASSWORD_MAX);
		goto out;
	}
	if (st == IMS_OK)
		st = ims_sessions_end_all(ims_req_store(r), canon, &ended);
	if (st != IMS_OK) {
		ims_req_store_failed(r, st);
		goto out;
	}
	ims_authcache_clear();
	snprintf(n, sizeof n, "%zu", ended);
	if (ims_req_audit(r, "user.password", canon, "generated", pw_j ? "0" : "1",
	                  "sessions_ended", n, NULL) != IMS_OK)
		goto out;
	{
		json_t *o =
		    json_pack("{s:s, s:I}", "address", canon, "sessions_ended", (json_int_t)ended);

		if (o && !pw_j) /* generated: shown this once */
			json_object_set_new(o, "password", json_string(gen));
		ims_req_json(r, 200, o);
	}
out:
	sodium_memzero(gen, sizeof gen);
	ims_users_free(u);
	json_decref(j);
}
