/* A test driver of lib/store over a real Redis or Redis Cluster: reads one
 * request per line on stdin, runs it through ONE store handle (so its pool
 * and slot map live across requests) and prints one answer line.
 *
 *   cmd ARG...                 ims_store_cmdv
 *   txn CMD ARG... ; CMD ...   ims_store_exec (one MULTI/EXEC block)
 *   all CMD ARG... ; CMD ...   ims_store_exec_all, each command its own block
 *   pipe CMD ARG... ; CMD ...  ims_store_run without IMS_STORE_ATOMIC
 *   masters                    ims_store_masters
 *   at I CMD ARG...            ims_store_cmdv_at
 *   threads T N PREFIX         T threads share the handle, each runs N
 *                              rounds of INCR, a MULTI/EXEC block and GET
 *                              on its own key (PREFIX{tT}:n): "OK" when
 *                              every answer was right, else the first error
 *
 * Answers: "OK" and the replies as text (nil as "(nil)", arrays as
 * "[a,b]"), or "ERR <status> <message>" (status as ims_strstatus).
 * Usage: store-driver CONFIG.  Arguments have no spaces. */
#include "config.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "store.h"

#define MAX_WORDS 256

static void put_reply(const redisReply *r)
{
	switch (r->type) {
	case REDIS_REPLY_NIL: fputs("(nil)", stdout); break;
	case REDIS_REPLY_INTEGER: printf("%lld", r->integer); break;
	case REDIS_REPLY_ARRAY:
		putchar('[');
		for (size_t i = 0; i < r->elements; i++) {
			if (i)
				putchar(',');
			put_reply(r->element[i]);
		}
		putchar(']');
		break;
	default: fwrite(r->str, 1, r->len, stdout);
	}
}

static void put_status(ims_status rc, const char *err)
{
	if (rc == IMS_OK)
		fputs("OK", stdout);
	else
		printf("ERR %s %s", ims_strstatus(rc), err);
}

/* Builds a txn of the commands in words[from..n) separated by ";". */
static struct ims_store_txn *build(char **w, int from, int n)
{
	struct ims_store_txn *t = ims_store_txn_new();
	int start = 1;

	for (int i = from; t && i < n; i++) {
		if (strcmp(w[i], ";") == 0) {
			start = 1;
			continue;
		}
		if (start)
			ims_store_txn_cmd(t, w[i]);
		else
			ims_store_txn_str(t, w[i]);
		start = 0;
	}
	return t;
}

struct worker {
	struct ims_store *st;
	int id, rounds;
	const char *prefix;
	char err[512];
};

/* One thread of "threads": its counter must end at 2 * rounds. */
static void *work(void *arg)
{
	struct worker *w = arg;
	char key[256];
	struct redisReply *r = NULL;

	snprintf(key, sizeof key, "%s{t%d}:n", w->prefix, w->id);
	for (int i = 0; i < w->rounds && !w->err[0]; i++) {
		const char *incr[] = {"INCR", key}, *get[] = {"GET", key};
		struct ims_store_txn *t = ims_store_txn_new();
		ims_status rc;

		rc = ims_store_cmdv(w->st, &r, 2, incr, NULL, w->err, sizeof w->err);
		ims_store_reply_free(r);
		if (rc != IMS_OK)
			break;
		ims_store_txn_cmd(t, "INCR");
		ims_store_txn_str(t, key);
		ims_store_txn_cmd(t, "EXPIRE");
		ims_store_txn_str(t, key);
		ims_store_txn_str(t, "600");
		rc = ims_store_exec(w->st, t, w->err, sizeof w->err);
		ims_store_txn_free(t);
		if (rc != IMS_OK)
			break;
		rc = ims_store_cmdv(w->st, &r, 2, get, NULL, w->err, sizeof w->err);
		if (rc == IMS_OK &&
		    (r->type != REDIS_REPLY_STRING || strtol(r->str, NULL, 10) != 2 * (i + 1)))
			snprintf(w->err, sizeof w->err, "%s is %s after %d rounds", key,
			         r->type == REDIS_REPLY_STRING ? r->str : "not a string", i + 1);
		ims_store_reply_free(r);
	}
	return NULL;
}

static void threads(struct ims_store *st, int nt, int rounds, const char *prefix)
{
	struct worker w[64];
	pthread_t tid[64];
	const char *first = NULL;

	if (nt < 1 || nt > 64) {
		fputs("ERR usage", stdout);
		return;
	}
	for (int i = 0; i < nt; i++) {
		w[i] = (struct worker){.st = st, .id = i, .rounds = rounds, .prefix = prefix};
		pthread_create(&tid[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < nt; i++) {
		pthread_join(tid[i], NULL);
		if (w[i].err[0] && !first)
			first = w[i].err;
	}
	if (first)
		printf("ERR %s", first);
	else
		fputs("OK", stdout);
}

static void one_line(struct ims_store *st, char *line)
{
	char *w[MAX_WORDS], *save = NULL, err[512] = "";
	int n = 0;
	ims_status rc;

	for (char *p = strtok_r(line, " \t\r\n", &save); p && n < MAX_WORDS;
	     p = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = p;
	if (n == 0)
		return;
	if (strcmp(w[0], "cmd") == 0 && n > 1) {
		struct redisReply *r = NULL;
		rc = ims_store_cmdv(st, &r, n - 1, (const char *const *)w + 1, NULL, err,
		                    sizeof err);
		put_status(rc, err);
		if (r) {
			putchar(' ');
			put_reply(r);
		}
		ims_store_reply_free(r);
	} else if (strcmp(w[0], "at") == 0 && n > 2) {
		struct redisReply *r = NULL;
		rc = ims_store_cmdv_at(st, strtoul(w[1], NULL, 10), &r, n - 2,
		                       (const char *const *)w + 2, NULL, err, sizeof err);
		put_status(rc, err);
		if (r) {
			putchar(' ');
			put_reply(r);
		}
		ims_store_reply_free(r);
	} else if (strcmp(w[0], "threads") == 0 && n == 4) {
		threads(st, (int)strtol(w[1], NULL, 10), (int)strtol(w[2], NULL, 10), w[3]);
	} else if (strcmp(w[0], "masters") == 0) {
		printf("OK %zu", ims_store_masters(st));
	} else if (strcmp(w[0], "txn") == 0) {
		struct ims_store_txn *t = build(w, 1, n);
		put_status(t ? ims_store_exec(st, t, err, sizeof err) : IMS_ENOMEM, err);
		ims_store_txn_free(t);
	} else if (strcmp(w[0], "all") == 0) {
		struct ims_store_txn *ts[64];
		size_t k = 0;
		int from = 1;
		for (int i = 1; i <= n && k < 64; i++)
			if (i == n || strcmp(w[i], ";") == 0) {
				ts[k++] = build(w, from, i);
				from = i + 1;
			}
		put_status(ims_store_exec_all(st, (const struct ims_store_txn *const *)ts, k, err,
		                              sizeof err),
		           err);
		for (size_t i = 0; i < k; i++)
			ims_store_txn_free(ts[i]);
	} else if (strcmp(w[0], "pipe") == 0) {
		struct ims_store_txn *t = build(w, 1, n);
		size_t nc = t ? ims_store_txn_count(t) : 0;
		struct redisReply **rs = calloc(nc ? nc : 1, sizeof *rs);
		rc = t && rs ? ims_store_run(st, t, 0, rs, err, sizeof err) : IMS_ENOMEM;
		put_status(rc, err);
		for (size_t i = 0; rc == IMS_OK && i < nc; i++) {
			putchar(' ');
			put_reply(rs[i]);
		}
		ims_store_replies_free(rs, nc);
		free(rs);
		ims_store_txn_free(t);
	} else {
		fputs("ERR usage", stdout);
	}
	putchar('\n');
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct ims_conf *conf = NULL;
	struct ims_store *st = NULL;
	char err[512], *line = NULL;
	size_t cap = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: store-driver CONFIG < requests\n");
		return 2;
	}
	if (ims_conf_load(argv[1], &conf, err, sizeof err) != IMS_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (ims_store_open(conf, &st) != IMS_OK) {
		fprintf(stderr, "cannot open the store\n");
		ims_conf_unref(conf);
		return 1;
	}
	while (getline(&line, &cap, stdin) > 0)
		one_line(st, line);
	free(line);
	ims_store_free(st);
	ims_conf_unref(conf);
	return 0;
}
