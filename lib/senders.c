#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "rkeys.h"
#include "senders.h"
#include "store.h"

#define MAX_CANDS 24 /* names looked up per message and list */

int ims_sender_action_parse(const char *s)
{
	if (s && strcmp(s, "allow") == 0)
		return IMS_SENDER_ALLOW;
	if (s && strcmp(s, "block") == 0)
		return IMS_SENDER_BLOCK;
	return -1;
}

const char *ims_sender_action_name(enum ims_sender_action a)
{
	return a == IMS_SENDER_ALLOW ? "allow" : a == IMS_SENDER_BLOCK ? "block" : "none";
}

static int domain_ok(const char *d)
{
	size_t label = 0, n = strlen(d);

	if (n == 0 || n > 253)
		return 0;
	for (const char *p = d; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		           (*p == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0 && strchr(d, '.') != NULL;
}

ims_status ims_senders_entry_norm(const char *in, char *out)
{
	size_t n = in ? strlen(in) : 0;
	const char *at;

	out[0] = '\0';
	if (n == 0 || n > IMS_SENDERS_ENTRY_MAX)
		return IMS_EINVAL;
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
	if (out[n - 1] == '.')
		out[--n] = '\0';
	at = strchr(out, '@');
	if (at) {
		if (at == out || at - out > 64 || strchr(at + 1, '@') || !domain_ok(at + 1))
			goto bad;
		for (const char *p = out; p < at; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("\"(),:;<>[\\]", *p))
				goto bad;
		return IMS_OK;
	}
	if (domain_ok(out))
		return IMS_OK;
bad:
	out[0] = '\0';
	return IMS_EINVAL;
}

void ims_senders_user_key(const char *addr, char *out)
{
	snprintf(out, IMS_SENDERS_KEY_MAX, IMS_KEY_SENDERS_USER_FMT, addr);
}

void ims_senders_domain_key(const char *domain, char *out)
{
	snprintf(out, IMS_SENDERS_KEY_MAX, IMS_KEY_SENDERS_DOMAIN_FMT, domain);
}

ims_status ims_senders_list(struct ims_store *st, const char *key,
                            void (*fn)(void *arg, const char *entry, const char *action), void *arg)
{
	const char *argv[] = {"HGETALL", key};
	redisReply *rep = NULL;
	char err[256];
	ims_status rc = ims_store_cmdv(st, &rep, 2, argv, NULL, err, sizeof err);

	if (rc != IMS_OK)
		return rc;
	if (rep->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i + 1 < rep->elements; i += 2)
			if (rep->element[i]->str && rep->element[i + 1]->str)
				fn(arg, rep->element[i]->str, rep->element[i + 1]->str);
	ims_store_reply_free(rep);
	return IMS_OK;
}

/* HSET unless the list is full (an entry already there may change). */
static const char put_script[] =
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and "
    "redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1";

ims_status ims_senders_put(struct ims_store *st, const char *key, const char *entry,
                           enum ims_sender_action a, int max)
{
	char maxs[16];
	const char *argv[] = {"EVAL", put_script, "1", key, entry, ims_sender_action_name(a), maxs};
	redisReply *rep = NULL;
	char err[256];
	ims_status rc;

	if (a != IMS_SENDER_ALLOW && a != IMS_SENDER_BLOCK)
		return IMS_EINVAL;
	snprintf(maxs, sizeof maxs, "%d", max);
	if ((rc = ims_store_cmdv(st, &rep, 7, argv, NULL, err, sizeof err)) != IMS_OK)
		return rc;
	rc = rep->type != REDIS_REPLY_INTEGER ? IMS_ETEMP : rep->integer < 0 ? IMS_ELIMIT : IMS_OK;
	ims_store_reply_free(rep);
	return rc;
}

ims_status ims_senders_delete(struct ims_store *st, const char *key, const char *entry)
{
	const char *argv[] = {"HDEL", key, entry};
	redisReply *rep = NULL;
	char err[256];
	ims_status rc = ims_store_cmdv(st, &rep, 3, argv, NULL, err, sizeof err);

	if (rc != IMS_OK)
		return rc;
	rc = rep->type != REDIS_REPLY_INTEGER ? IMS_ETEMP
	     : rep->integer == 0              ? IMS_ENOTFOUND
	                                      : IMS_OK;
	ims_store_reply_free(rep);
	return rc;
}

struct cand {
	char name[IMS_SENDERS_ENTRY_MAX + 1];
	bool from; /* comes from the From address (may be allowed) */
};

/* addr and its domain and the domain's parents, deduplicated. */
static void add_cands(struct cand *c, size_t *n, const char *addr, bool from)
{
	char norm[IMS_SENDERS_ENTRY_MAX + 1];
	const char *at, *d;

	if (!addr || !*addr || ims_senders_entry_norm(addr, norm) != IMS_OK ||
	    !(at = strchr(norm, '@')))
		return;
	for (d = norm; d && *n < MAX_CANDS; d = d == norm        ? at + 1
	                                        : strchr(d, '.') ? strchr(d, '.') + 1
	                                                         : NULL) {
		size_t i;

		if (d != norm && !strchr(d, '.'))
			break; /* a top-level domain alone is no entry */
		for (i = 0; i < *n; i++)
			if (strcmp(c[i].name, d) == 0)
				break;
		if (i < *n) {
			c[i].from = c[i].from || from;
			continue;
		}
		snprintf(c[*n].name, sizeof c[*n].name, "%s", d);
		c[(*n)++].from = from;
	}
}

/* HMGET of the candidates in one list: the first block, else the first
 * allowed From candidate. */
static ims_status look(struct ims_store *st, const char *key, const struct cand *c, size_t n,
                       bool dmarc_pass, enum ims_sender_action *action, char *why, size_t whylen,
                       const char *list)
{
	struct ims_store_txn *t = ims_store_txn_new();
	char *out = NULL, *line;
	size_t outlen = 0, i = 0;
	ims_status rc;
	int allow = -1;

	if (!t)
		return IMS_ENOMEM;
	rc = ims_store_txn_cmd(t, "HMGET");
	if (rc == IMS_OK)
		rc = ims_store_txn_str(t, key);
	for (size_t k = 0; k < n && rc == IMS_OK; k++)
		rc = ims_store_txn_str(t, c[k].name);
	if (rc == IMS_OK)
		rc = ims_store_query(st, t, &out, &outlen);
	ims_store_txn_free(t);
	if (rc == IMS_ENOTFOUND)
		return IMS_OK;
	if (rc != IMS_OK)
		return rc;
	/* one line per candidate, empty when absent */
	for (line = out; line && i < n; i++) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strcmp(line, "block") == 0) {
			*action = IMS_SENDER_BLOCK;
			snprintf(why, whylen, "list=%s entry=%s", list, c[i].name);
			free(out);
			return IMS_OK;
		}
		if (strcmp(line, "allow") == 0 && c[i].from && dmarc_pass && allow < 0)
			allow = (int)i;
		line = nl ? nl + 1 : NULL;
	}
	if (allow >= 0 && *action == IMS_SENDER_NONE) {
		*action = IMS_SENDER_ALLOW;
		snprintf(why, whylen, "list=%s entry=%s", list, c[allow].name);
	}
	free(out);
	return IMS_OK;
}

ims_status ims_senders_verdict(struct ims_store *st, const char *rcpt, const char *mail_from,
                               const char *from, bool dmarc_pass, enum ims_sender_action *action,
                               char *why, size_t whylen)
{
	struct cand c[MAX_CANDS];
	char key[IMS_SENDERS_KEY_MAX], list[IMS_SENDERS_KEY_MAX], allow_why[400] = "";
	const char *at = rcpt ? strrchr(rcpt, '@') : NULL;
	enum ims_sender_action a = IMS_SENDER_NONE;
	size_t n = 0;
	ims_status rc;

	*action = IMS_SENDER_NONE;
	if (whylen)
		why[0] = '\0';
	if (!at)
		return IMS_OK;
	add_cands(c, &n, from, true);
	add_cands(c, &n, mail_from, false);
	if (n == 0)
		return IMS_OK;
	ims_senders_user_key(rcpt, key);
	snprintf(list, sizeof list, "user:%s", rcpt);
	rc = look(st, key, c, n, dmarc_pass, &a, allow_why, sizeof allow_why, list);
	if (rc != IMS_OK || a == IMS_SENDER_BLOCK)
		goto out;
	{
		enum ims_sender_action d = IMS_SENDER_NONE;
		char dwhy[400] = "";

		ims_senders_domain_key(at + 1, key);
		snprintf(list, sizeof list, "domain:%s", at + 1);
		rc = look(st, key, c, n, dmarc_pass, &d, dwhy, sizeof dwhy, list);
		if (rc != IMS_OK)
			goto out;
		if (d == IMS_SENDER_BLOCK || a == IMS_SENDER_NONE) {
			a = d;
			snprintf(allow_why, sizeof allow_why, "%s", dwhy);
		}
	}
out:
	if (rc != IMS_OK)
		return rc;
	*action = a;
	snprintf(why, whylen, "%s", allow_why);
	return IMS_OK;
}
