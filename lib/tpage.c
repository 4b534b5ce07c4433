#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "store.h"
#include "tpage.h"

#define TIES_SLACK 64

static int parse_cursor(const char *s, long long *t, char *id)
{
	const char *dash;
	char *end;
	size_t n;

	dash = strchr(s, '-');
	if (!dash)
		return -1;
	errno = 0;
	*t = strtoll(s, &end, 10);
	if (errno || end != dash || end == s)
		return -1;
	n = strlen(dash + 1);
	if (n == 0 || n > IMS_PAGE_ID_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = dash[1 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == '-' || c == '_' || c == '.' || c == '@' || c == '+'))
			return -1;
	}
	memcpy(id, dash + 1, n + 1);
	return 0;
}

static void bound(char *out, size_t len, long long v, int exclusive)
{
	if (v == LLONG_MIN)
		snprintf(out, len, "-inf");
	else if (v == LLONG_MAX)
		snprintf(out, len, "+inf");
	else
		snprintf(out, len, "%s%lld", exclusive ? "(" : "", v);
}

ims_status ims_page_read(struct ims_store *st, const char *key, const char *cursor, long long min,
                         long long max, size_t limit, struct ims_page *p)
{
	char cid[IMS_PAGE_ID_MAX + 1] = "", smax[32], smin[32], count[24];
	long long ct = 0;
	int have_cursor = cursor && *cursor;
	redisReply *rep = NULL;
	ims_status rc = IMS_ENOMEM;

	memset(p, 0, sizeof *p);
	if (have_cursor) {
		if (parse_cursor(cursor, &ct, cid) != 0)
			return IMS_EINVAL;
		if (ct < max)
			max = ct;
	}
	if (max < min)
		return IMS_OK;
	bound(smax, sizeof smax, max, 0);
	bound(smin, sizeof smin, min, 0);
	snprintf(count, sizeof count, "%zu", limit + 1 + (have_cursor ? TIES_SLACK : 0));
	{
		const char *argv[] = {"ZREVRANGEBYSCORE", key,     smax, smin,
		                      "WITHSCORES",       "LIMIT", "0",  count};
		char err[256];

		if ((rc = ims_store_cmdv(st, &rep, 8, argv, NULL, err, sizeof err)) != IMS_OK)
			return rc;
	}
	rc = IMS_ENOMEM;
	if (rep->type != REDIS_REPLY_ARRAY) {
		rc = IMS_EFORMAT;
		goto out;
	}
	p->ids = calloc(limit ? limit : 1, sizeof *p->ids);
	p->times = calloc(limit ? limit : 1, sizeof *p->times);
	if (!p->ids || !p->times)
		goto out;
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const char *m = rep->element[i]->str;
		long long t = strtoll(rep->element[i + 1]->str, NULL, 10);

		if (rep->element[i]->len > IMS_PAGE_ID_MAX)
			continue;
		if (have_cursor && t == ct && strcmp(m, cid) >= 0)
			continue;
		if (p->n == limit) {
			p->more = true;
			break;
		}
		memcpy(p->ids[p->n], m, rep->element[i]->len + 1);
		p->times[p->n] = t;
		p->n++;
	}
	rc = IMS_OK;
out:
	ims_store_reply_free(rep);
	if (rc != IMS_OK)
		ims_page_free(p);
	return rc;
}

void ims_page_free(struct ims_page *p)
{
	free(p->ids);
	free(p->times);
	memset(p, 0, sizeof *p);
}

void ims_page_cursor(const struct ims_page *p, size_t i, char *out)
{
	snprintf(out, IMS_CURSOR_MAX, "%lld-%s", p->times[i], p->ids[i]);
}
