/* POST /auth/register, /auth/login, /auth/refresh, /auth/logout;
 * GET /auth/me. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "routes.h"
#include "session.h"
#include "users.h"

/* Reads {"address": ..., "password": ...}; sets a 400 and returns 0 when
 * either is missing. */
static int credentials(struct ims_req *r, json_t *j, const char **addr, const char **pw)
{
	*addr = json_string_value(json_object_get(j, "address"));
	*pw = json_string_value(json_object_get(j, "password"));
	if (!*addr || !*pw) {
		ims_req_error(r, 400, "address and password (strings) are required");
		return 0;
	}
	return 1;
}

static json_t *token_response(struct ims_req *r, const char *addr, enum ims_role role,
                              const char *fam, const char *refresh)
{
	const struct ims_conf *conf = r->app->conf;
	struct ims_token_claims c = {.role = role};
	char *access = NULL;
	json_t *j;

	snprintf(c.sub, sizeof c.sub, "%s", addr);
	snprintf(c.fam, sizeof c.fam, "%s", fam);
	c.iat = (int64_t)time(NULL);
	c.exp = c.iat + conf->webapi_access_ttl_s;
	if (ims_token_issue(r->app->key, &c, &access) != IMS_OK)
		return NULL;
	j = json_pack("{s:s, s:s, s:i, s:s, s:i, s:{s:s, s:s}}", "access_token", access,
	              "token_type", "Bearer", "expires_in", conf->webapi_access_ttl_s,
	              "refresh_token", refresh, "refresh_expires_in", conf->webapi_refresh_ttl_s,
	              "user", "address", addr, "role", ims_role_name(role));
	free(access);
	return j;
}

void ims_route_register(struct ims_req *r)
{
	struct ims_users *u = NULL;
	const char *addr, *pw;
	char canon[IMS_USERS_ADDR_MAX + 1];
	json_t *j = NULL;
	int retry, over;
	ims_status st;

	if (!r->app->conf->webapi_registration) {
		ims_req_error(r, 403, "registration is turned off");
		return;
	}
	j = ims_req_body_json(r);
	if (!j || !credentials(r, j, &addr, &pw))
		goto out;
	/* sign-ups per client IP: the login budget, counted apart */
	over = ims_req_ratelimit(r, "register:ip", r->ip, r->app->conf->webapi_login_rate, &retry);
	if (over < 0)
		goto out;
	if (over) {
		r->retry_after = retry;
		ims_req_error(r, 429, "too many attempts; retry later");
		goto out;
	}
	st = ims_users_canon_address(addr, r->app->conf->milter_local_domains, canon);
	if (st == IMS_EINVAL) {
		ims_req_error(r, 400, "not a valid address");
		goto out;
	}
	if (st == IMS_EPERM) {
		ims_req_error(r, 403, "the domain of this address is not served here");
		goto out;
	}
	if (ims_users_new(ims_req_store(r), r->app->conf, &u) != IMS_OK)
		goto out;
	st = ims_users_create(u, canon, pw, IMS_ROLE_USER);
	switch (st) {
	case IMS_OK:
		ims_log_info(r->id, "event=register user=%s", canon);
		ims_req_json(r, 201, json_pack("{s:s, s:s}", "address", canon, "role", "user"));
		break;
	case IMS_EEXIST: ims_req_error(r, 409, "this address is taken"); break;
	case IMS_EINVAL:
		ims_req_error(r, 400, "the password must be %d to %d bytes", IMS_USERS_PASSWORD_MIN,
		              IMS_USERS_PASSWORD_MAX);
		break;
	default: ims_req_store_failed(r, st);
	}
out:
	ims_users_free(u);
	json_decref(j);
}

void ims_route_login(struct ims_req *r)
{
	struct ims_users *u = NULL;
	struct ims_user_info info;
	const char *addr, *pw;
	char canon[IMS_USERS_ADDR_MAX + 1], fam[IMS_TOKEN_FAMILY_LEN + 1];
	char *refresh = NULL;
	json_t *j;
	int limit = r->app->conf->webapi_login_rate, retry = 0, over;
	ims_status st;

	j = ims_req_body_json(r);
	if (!j || !credentials(r, j, &addr, &pw))
		goto out;
	/* an address outside the registry still counts against its key */
	if (ims_users_canon_address(addr, r->app->conf->milter_local_domains, canon) != IMS_OK) {
		snprintf(canon, sizeof canon, "%.*s", IMS_USERS_ADDR_MAX, addr);
		for (char *p = canon; *p; p++)
			if (*p == '{' || *p == '}' || *p < 0x21 || *p == 0x7f)
				*p = '_';
	}
	/* counted before the password is checked, so that guesses sent at
	 * once cannot all pass; a right password gives its attempt back */
	over = ims_req_ratelimit(r, "login:ip", r->ip, limit, &retry);
	if (over == 0)
		over = ims_req_ratelimit(r, "login:addr", canon, limit, &retry);
	if (over < 0)
		goto out;
	if (over) {
		r->retry_after = retry;
		ims_log_notice(r->id, "event=login_limited user=%s ip=%s", canon, r->ip);
		ims_req_error(r, 429, "too many login attempts; retry later");
		goto out;
	}
	if (ims_users_new(ims_req_store(r), r->app->conf, &u) != IMS_OK)
		goto out;
	st = ims_users_verify(u, canon, pw, &info);
	if (st == IMS_ETEMP) {
		ims_req_store_failed(r, st);
		goto out;
	}
	if (st != IMS_OK) {
		ims_log_notice(r->id, "event=login_failed user=%s ip=%s", canon, r->ip);
		ims_req_error(r, 401, "wrong address or password");
		goto out;
	}
	ims_req_ratelimit_refund(r, "login:ip", r->ip);
	ims_req_ratelimit_refund(r, "login:addr", canon);
	if (ims_session_start(r, info.address, &refresh, fam) != IMS_OK)
		goto out;
	ims_log_info(r->id, "event=login user=%s", info.address);
	ims_req_json(r, 200, token_response(r, info.address, info.role, fam, refresh));
out:
	free(refresh);
	ims_users_free(u);
	json_decref(j);
}

void ims_route_refresh(struct ims_req *r)
{
	char addr[IMS_USERS_ADDR_MAX + 1], fam[IMS_TOKEN_FAMILY_LEN + 1];
	char *refresh = NULL;
	struct ims_users *u = NULL;
	struct ims_user_info info;
	json_t *j = ims_req_body_json(r);
	ims_status st;

	if (!j)
		return;
	st = ims_session_rotate(r, json_string_value(json_object_get(j, "refresh_token")), &refresh,
	                        addr, fam);
	if (st == IMS_ETEMP)
		goto out;
	if (st != IMS_OK) {
		if (addr[0])
			ims_log_notice(r->id, "event=refresh_rejected user=%s family=%s", addr,
			               fam);
		ims_req_error(r, 401, "invalid refresh token");
		goto out;
	}
	if (ims_users_new(ims_req_store(r), r->app->conf, &u) != IMS_OK)
		goto out;
	st = ims_users_get(u, addr, &info);
	if (st == IMS_ETEMP) {
		ims_req_store_failed(r, st);
		goto out;
	}
	if (st != IMS_OK || info.disabled) {
		ims_session_end(r, addr, fam);
		ims_req_error(r, 401, "the account is gone or disabled");
		goto out;
	}
	ims_req_json(r, 200, token_response(r, info.address, info.role, fam, refresh));
out:
	free(refresh);
	ims_users_free(u);
	json_decref(j);
}

void ims_route_logout(struct ims_req *r)
{
	if (ims_session_end(r, r->who.sub, r->who.fam) != IMS_OK)
		return;
	ims_log_info(r->id, "event=logout user=%s", r->who.sub);
	ims_req_empty(r, 204);
}

void ims_route_me(struct ims_req *r)
{
	ims_req_json(r, 200,
	             json_pack("{s:s, s:s, s:I}", "address", r->who.sub, "role",
	                       ims_role_name(r->who.role), "expires", (json_int_t)r->who.exp));
}
