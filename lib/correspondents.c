/* Correspondents and learned display names in Redis: see correspondents.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correspondents.h"
#include "orgdomain.h"
#include "rkeys.h"
#include "store.h"

/* The user's two keys: 0 addresses, 1 domains. */
static void key_of(int which, const char *u, char *out, size_t outlen)
{
	if (which == 0)
		snprintf(out, outlen, IMS_KEY_CORRESPONDENTS_FMT, u);
	else
		snprintf(out, outlen, IMS_KEY_CORRESPONDENT_DOMAINS_FMT, u);
}

static int lower_copy(const char *in, char *out, size_t outlen)
{
	size_t n = in ? strlen(in) : 0;

	if (n == 0 || n >= outlen)
		return -1;
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
	return 0;
}

struct ims_store_txn *ims_correspondents_txn(const char *user, const char *const *peers, size_t n,
                                             uint64_t now_ms, int max, int days)
{
	char u[IMS_CORRESPONDENTS_ADDR_MAX + 1], p[IMS_CORRESPONDENTS_ADDR_MAX + 1];
	char org[256];
	char key[IMS_CORRESPONDENTS_ADDR_MAX + 32];
	struct ims_store_txn *t;
	ims_status rc = IMS_OK;
	size_t added = 0;

	if (lower_copy(user, u, sizeof u) != 0 || !(t = ims_store_txn_new()))
		return NULL;
	for (size_t i = 0; i < n && rc == IMS_OK; i++) {
		const char *at;

		if (lower_copy(peers[i], p, sizeof p) != 0 || !(at = strrchr(p, '@')) || !at[1])
			continue;
		if (ims_orgdomain(at + 1, org, sizeof org) != IMS_OK)
			snprintf(org, sizeof org, "%s", at + 1);
		rc = ims_store_txn_cmd(t, "ZADD");
		if (rc == IMS_OK)
			rc = ims_store_txn_fmt(t, IMS_KEY_CORRESPONDENTS_FMT, u);
		if (rc == IMS_OK)
			rc = ims_store_txn_fmt(t, "%llu", (unsigned long long)now_ms);
		if (rc == IMS_OK)
			rc = ims_store_txn_str(t, p);
		if (rc == IMS_OK)
			rc = ims_store_txn_cmd(t, "ZADD");
		if (rc == IMS_OK)
			rc = ims_store_txn_fmt(t, IMS_KEY_CORRESPONDENT_DOMAINS_FMT, u);
		if (rc == IMS_OK)
			rc = ims_store_txn_fmt(t, "%llu", (unsigned long long)now_ms);
		if (rc == IMS_OK)
			rc = ims_store_txn_str(t, org);
		added++;
	}
	for (int k = 0; k < 2 && added && rc == IMS_OK; k++) {
		/* keep the newest max; expire the set after days without mail */
		rc = ims_store_txn_cmd(t, "ZREMRANGEBYRANK");
		key_of(k, u, key, sizeof key);
		if (rc == IMS_OK)
			rc = ims_store_txn_str(t, key);
		if (rc == IMS_OK)
			rc = ims_store_txn_str(t, "0");
		if (rc == IMS_OK)
			rc = ims_store_txn_fmt(t, "%d", -(max + 1));
		if (rc == IMS_OK)
			rc = ims_store_txn_cmd(t, "PEXPIRE");
		if (rc == IMS_OK)
			rc = ims_store_txn_str(t, key);
		if (rc == IMS_OK)
			rc = ims_store_txn_fmt(t, "%llu", (unsigned long long)days * 86400000ull);
	}
	if (rc != IMS_OK || !added) {
		ims_store_txn_free(t);
		return NULL;
	}
	return t;
}

struct ims_store_txn *ims_bec_name_txn(const char *key, const char *addr)
{
	char a[IMS_CORRESPONDENTS_ADDR_MAX + 1];
	struct ims_store_txn *t;

	if (!key || !*key || lower_copy(addr, a, sizeof a) != 0 || !(t = ims_store_txn_new()))
		return NULL;
	if (ims_store_txn_cmd(t, "HSET") != IMS_OK ||
	    ims_store_txn_str(t, IMS_KEY_BEC_NAMES) != IMS_OK ||
	    ims_store_txn_str(t, key) != IMS_OK || ims_store_txn_str(t, a) != IMS_OK) {
		ims_store_txn_free(t);
		return NULL;
	}
	return t;
}

/* One command on the user's key (0 addresses, 1 domains), with up to two
 * arguments. */
static ims_status query(struct ims_store *st, const char *cmd, int which, const char *user,
                        const char *a1, const char *a2, char **out, size_t *outlen)
{
	struct ims_store_txn *t = ims_store_txn_new();
	char key[IMS_CORRESPONDENTS_ADDR_MAX + 32];
	ims_status rc;

	*out = NULL;
	if (!t)
		return IMS_ENOMEM;
	key_of(which, user, key, sizeof key);
	rc = ims_store_txn_cmd(t, cmd);
	if (rc == IMS_OK)
		rc = ims_store_txn_str(t, key);
	if (rc == IMS_OK && a1)
		rc = ims_store_txn_str(t, a1);
	if (rc == IMS_OK && a2)
		rc = ims_store_txn_str(t, a2);
	if (rc == IMS_OK)
		rc = ims_store_query(st, t, out, outlen);
	ims_store_txn_free(t);
	return rc;
}

ims_status ims_correspondents_seen(struct ims_store *st, const char *user, const char *peer,
                                   int *seen)
{
	char u[IMS_CORRESPONDENTS_ADDR_MAX + 1], p[IMS_CORRESPONDENTS_ADDR_MAX + 1];
	char *out = NULL;
	size_t outlen = 0;
	ims_status rc;

	*seen = 0;
	if (lower_copy(user, u, sizeof u) != 0 || lower_copy(peer, p, sizeof p) != 0)
		return IMS_EINVAL;
	rc = query(st, "ZSCORE", 0, u, p, NULL, &out, &outlen);
	free(out);
	if (rc == IMS_OK)
		*seen = 1;
	return rc == IMS_ENOTFOUND ? IMS_OK : rc;
}

void ims_correspondents_free_list(char **list)
{
	for (char **p = list; p && *p; p++)
		free(*p);
	free(list);
}

ims_status ims_correspondents_domains(struct ims_store *st, const char *user, size_t max,
                                      char ***out)
{
	char u[IMS_CORRESPONDENTS_ADDR_MAX + 1], last[32];
	char *reply = NULL, *save = NULL;
	size_t outlen = 0, n = 0;
	ims_status rc;

	*out = NULL;
	if (lower_copy(user, u, sizeof u) != 0 || max == 0)
		return IMS_EINVAL;
	snprintf(last, sizeof last, "%zu", max - 1);
	rc = query(st, "ZREVRANGE", 1, u, "0", last, &reply, &outlen);
	if (rc == IMS_ENOTFOUND)
		rc = IMS_OK;
	if (rc != IMS_OK) {
		free(reply);
		return rc;
	}
	*out = calloc(max + 1, sizeof **out);
	if (!*out) {
		free(reply);
		return IMS_ENOMEM;
	}
	for (char *tok = reply ? strtok_r(reply, "\n", &save) : NULL; tok && n < max;
	     tok = strtok_r(NULL, "\n", &save)) {
		if (!((*out)[n] = strdup(tok))) {
			ims_correspondents_free_list(*out);
			*out = NULL;
			free(reply);
			return IMS_ENOMEM;
		}
		n++;
	}
	free(reply);
	return IMS_OK;
}

ims_status ims_bec_name_owner(struct ims_store *st, const char *key, char *out, size_t outlen)
{
	struct ims_store_txn *t = ims_store_txn_new();
	char *reply = NULL;
	size_t rlen = 0;
	ims_status rc;

	if (outlen)
		out[0] = '\0';
	if (!t)
		return IMS_ENOMEM;
	rc = ims_store_txn_cmd(t, "HGET");
	if (rc == IMS_OK)
		rc = ims_store_txn_str(t, IMS_KEY_BEC_NAMES);
	if (rc == IMS_OK)
		rc = ims_store_txn_str(t, key);
	if (rc == IMS_OK)
		rc = ims_store_query(st, t, &reply, &rlen);
	ims_store_txn_free(t);
	if (rc == IMS_OK && reply)
		snprintf(out, outlen, "%.*s", (int)rlen, reply);
	free(reply);
	return rc == IMS_ENOTFOUND ? IMS_OK : rc;
}
