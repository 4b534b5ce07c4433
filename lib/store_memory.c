/* The in-memory backend of lib/store, for unit tests: records every command
 * as one text line and can pretend that Redis is down.  GET answers from
 * the SETs recorded, every other command with nil.  It applies the same
 * slot rule as Redis Cluster (store.c checks it before any backend). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_backend.h"

struct memory_impl {
	pthread_mutex_t lock;
	char *text;
	size_t len, cap;
	bool down;
	int replicas; /* WAIT's answer; negative: as many as asked */
};

void *ims_store_memory_new(void)
{
	struct memory_impl *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->text = calloc(1, 1);
	if (!m->text) {
		free(m);
		return NULL;
	}
	m->cap = 1;
	m->replicas = -1;
	return m;
}

static void memory_free(void *impl)
{
	struct memory_impl *m = impl;

	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m);
}

static int put(struct memory_impl *m, const char *s, size_t n)
{
	if (m->len + n + 1 > m->cap) {
		size_t cap = (m->len + n + 1) * 2;
		char *t = realloc(m->text, cap);
		if (!t)
			return -1;
		m->text = t;
		m->cap = cap;
	}
	memcpy(m->text + m->len, s, n);
	m->len += n;
	m->text[m->len] = '\0';
	return 0;
}

static int put_cmd(struct memory_impl *m, const struct store_cmd *c)
{
	char tmp[8];

	for (int a = 0; a < c->argc; a++) {
		const unsigned char *p = (const unsigned char *)c->argv[a];
		if (a && put(m, " ", 1))
			return -1;
		if (c->lens[a] > 200) {
			char num[40];
			int n = snprintf(num, sizeof num, "<%zu bytes>", c->lens[a]);
			if (put(m, num, (size_t)n))
				return -1;
			continue;
		}
		for (size_t i = 0; i < c->lens[a]; i++) {
			if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\') {
				int n = snprintf(tmp, sizeof tmp, "\\x%02x", p[i]);
				if (put(m, tmp, (size_t)n))
					return -1;
			} else if (put(m, (const char *)&p[i], 1)) {
				return -1;
			}
		}
	}
	return put(m, "\n", 1);
}

static ims_status memory_exec(void *impl, const struct ims_store_txn *const *txns, const int *slots,
                              size_t n, int wait_n, int wait_ms, char *err, size_t errlen)
{
	struct memory_impl *m = impl;
	ims_status rc = IMS_OK;

	(void)slots;
	pthread_mutex_lock(&m->lock);
	if (m->down) {
		snprintf(err, errlen, "memory store is down");
		rc = IMS_ETEMP;
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		const struct ims_store_txn *t = txns[k];
		if (put(m, "MULTI\n", 6)) {
			rc = IMS_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < t->n; i++)
			if (put_cmd(m, &t->cmds[i])) {
				rc = IMS_ENOMEM;
				goto out;
			}
		if (put(m, "EXEC\n", 5)) {
			rc = IMS_ENOMEM;
			goto out;
		}
	}
	if (wait_n > 0) {
		char line[64];
		int k = snprintf(line, sizeof line, "WAIT %d %d\n", wait_n, wait_ms);
		redisReply r = {.type = REDIS_REPLY_INTEGER,
		                .integer = m->replicas < 0 ? wait_n : m->replicas};

		if (put(m, line, (size_t)k)) {
			rc = IMS_ENOMEM;
			goto out;
		}
		rc = ims_store_wait_result(&r, wait_n, wait_ms, err, errlen);
	}
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* GET KEY: the value of the last "SET KEY VALUE" recorded (as text, up
 * to its first space), enough for the scan store's idempotency key; NULL
 * when there is none. */
static char *memory_get(struct memory_impl *m, const struct store_cmd *c)
{
	char pat[300];
	const char *p = m->text, *last = NULL;
	size_t n;

	if (c->lens[1] > 256)
		return NULL;
	n = (size_t)snprintf(pat, sizeof pat, "SET %.*s ", (int)c->lens[1], c->argv[1]);
	while ((p = strstr(p, pat)) != NULL) {
		if (p == m->text || p[-1] == '\n')
			last = p + n;
		p += n;
	}
	if (!last)
		return NULL;
	return strndup(last, strcspn(last, " \n"));
}

/* A reply made by hiredis's own reader from its wire form (RESP), so the
 * recorder hands out the same objects as a real server. */
static redisReply *make_reply(const char *value)
{
	redisReader *rd = redisReaderCreate();
	void *rep = NULL;
	char head[32];
	int ok;

	if (!rd)
		return NULL;
	if (value) {
		snprintf(head, sizeof head, "$%zu\r\n", strlen(value));
		ok = redisReaderFeed(rd, head, strlen(head)) == REDIS_OK &&
		     redisReaderFeed(rd, value, strlen(value)) == REDIS_OK &&
		     redisReaderFeed(rd, "\r\n", 2) == REDIS_OK;
	} else {
		ok = redisReaderFeed(rd, "$-1\r\n", 5) == REDIS_OK;
	}
	if (!ok || redisReaderGetReply(rd, &rep) != REDIS_OK)
		rep = NULL;
	redisReaderFree(rd);
	return rep;
}

static ims_status memory_run(void *impl, const struct store_cmd *cmds, size_t n, int atomic,
                             int slot, redisReply **replies, char *err, size_t errlen)
{
	struct memory_impl *m = impl;
	ims_status rc = IMS_OK;

	(void)slot;
	pthread_mutex_lock(&m->lock);
	if (m->down) {
		snprintf(err, errlen, "memory store is down");
		rc = IMS_ETEMP;
		goto out;
	}
	if (atomic && put(m, "MULTI\n", 6))
		rc = IMS_ENOMEM;
	for (size_t i = 0; i < n && rc == IMS_OK; i++) {
		const struct store_cmd *c = &cmds[i];
		char *value = NULL;

		if (c->argc == 2 && c->lens[0] == 3 && strncasecmp(c->argv[0], "GET", 3) == 0)
			value = memory_get(m, c);
		if (put_cmd(m, c) || !(replies[i] = make_reply(value)))
			rc = IMS_ENOMEM;
		free(value);
	}
	if (rc == IMS_OK && atomic && put(m, "EXEC\n", 5))
		rc = IMS_ENOMEM;
out:
	pthread_mutex_unlock(&m->lock);
	if (rc != IMS_OK)
		ims_store_replies_free(replies, n);
	return rc;
}

static ims_status memory_run_at(void *impl, size_t master, const struct store_cmd *c,
                                redisReply **reply, char *err, size_t errlen)
{
	if (master != 0) {
		snprintf(err, errlen, "memory store: one master");
		return IMS_EINVAL;
	}
	return memory_run(impl, c, 1, 0, -1, reply, err, errlen);
}

static size_t memory_masters(void *impl)
{
	(void)impl;
	return 1;
}

static ims_status memory_ping(void *impl)
{
	struct memory_impl *m = impl;
	ims_status rc;

	pthread_mutex_lock(&m->lock);
	rc = m->down ? IMS_ETEMP : IMS_OK;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

const char *ims_store_memory_text(void *impl)
{
	return ((struct memory_impl *)impl)->text;
}

void ims_store_memory_down(void *impl, bool down)
{
	struct memory_impl *m = impl;

	pthread_mutex_lock(&m->lock);
	m->down = down;
	pthread_mutex_unlock(&m->lock);
}

void ims_store_memory_replicas(void *impl, int n)
{
	struct memory_impl *m = impl;

	pthread_mutex_lock(&m->lock);
	m->replicas = n;
	pthread_mutex_unlock(&m->lock);
}

const struct store_ops ims_store_memory_ops = {
    .name = "memory",
    .slots = 1,
    .exec = memory_exec,
    .run = memory_run,
    .run_at = memory_run_at,
    .masters = memory_masters,
    .ping = memory_ping,
    .free = memory_free,
};
