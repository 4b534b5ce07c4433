/* The Redis Cluster backend of lib/store ([redis] cluster), written on
 * hiredis 0.14 (which has no cluster client): hiredis connects and parses
 * every reply; this file keeps the slot map and routes.
 *
 * - The slot map comes from CLUSTER SLOTS, asked of any node that answers
 *   (the known masters first, then the configured seeds).  It is read
 *   again lazily ("stale") after a MOVED, a CLUSTERDOWN or a connection
 *   error, before the next command is routed.
 * - Each node has its own pool of blocking connections (authenticated like
 *   a standalone Redis, store_conn.c), shared by threads; one mutex guards
 *   the nodes, pools and map, and is never held during I/O.
 * - A call is a list of "units": one command, or one MULTI/EXEC block (all
 *   keys in one slot, checked by store.c).  Each round sends the pending
 *   units, grouped by node (one write and one read per node), and looks at
 *   their replies: MOVED updates the map and resends the unit; ASK resends
 *   it once to the named node after ASKING; TRYAGAIN and CLUSTERDOWN resend
 *   it after a short backoff (10, 20, 40, 80 ms); a node that cannot be
 *   connected to has the map read again and is tried once more.  After
 *   IMS_CLUSTER_ROUNDS rounds what is still pending fails with IMS_ETEMP.
 *   A redirected unit was not executed (Redis refuses before it runs), so
 *   sending it again cannot apply it twice; a connection lost after the
 *   unit was sent is IMS_ETEMP (it may have run: the stores are idempotent).
 * - A write that must follow others (ims_store_exec_all: the global record
 *   after the users' indexes) is sent only after every earlier unit
 *   succeeded; when they all go to its node, in one pipeline after them
 *   (one connection keeps the order, as on one Redis). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyslot.h"
#include "log.h"
#include "store_backend.h"

#define NODES_MAX          128
#define NODE_POOL          32 /* idle connections kept per node, as store_redis.c */
#define IMS_CLUSTER_ROUNDS 6  /* 1 send + 5 redirects or retries */
#define HOST_MAX           256
#define MAP_MIN_MS         50 /* between two reads of the map by one process */

struct cnode {
	char host[HOST_MAX];
	int port;
	redisContext *idle[NODE_POOL];
	int nidle;
};

struct cluster_impl {
	char *user, *password;
	int timeout_ms;
	pthread_mutex_t lock;    /* nodes, their pools, the map */
	pthread_mutex_t refresh; /* one CLUSTER SLOTS at a time */
	struct cnode *nodes[NODES_MAX];
	size_t nnodes, nseeds;                /* nodes[0..nseeds) are [redis] cluster's */
	int16_t slot_node[IMS_KEYSLOT_COUNT]; /* index into nodes, -1 unknown */
	int stale;                            /* read the map before the next use */
	unsigned long map_gen;                /* bumped by each new map */
	int good;                             /* the node that last gave a map, or -1 */
	uint64_t map_ms;                      /* when (CLOCK_MONOTONIC) */
	bool quiet;                           /* ims_store_set_quiet */
};

/* One command or one MULTI/EXEC block, and what became of it. */
struct unit {
	const struct store_cmd *cmds;
	size_t n;
	int atomic, slot;
	redisReply **replies; /* n */
	int node;             /* this round's */
	int ask_node;         /* -1, or the node of an ASK */
	int asked;            /* ASK followed once already */
	int conn_fails;
	int wait_n, wait_ms; /* > 0: WAIT after the node's blocks (ims_store_set_wait) */
	int sent_now;        /* sent in this round's write to its node */
	int done;
	ims_status rc; /* when done: the transport's result */
	char err[256];
};

/* Adds host:port to the nodes (lock held); its index, or -1 when full. */
static int node_add(struct cluster_impl *cl, const char *host, size_t hlen, int port)
{
	struct cnode *n;

	if (hlen == 0 || hlen >= HOST_MAX || port <= 0 || port > 65535)
		return -1;
	for (size_t i = 0; i < cl->nnodes; i++)
		if (cl->nodes[i]->port == port && strlen(cl->nodes[i]->host) == hlen &&
		    memcmp(cl->nodes[i]->host, host, hlen) == 0)
			return (int)i;
	if (cl->nnodes >= NODES_MAX || !(n = calloc(1, sizeof *n)))
		return -1;
	memcpy(n->host, host, hlen);
	n->host[hlen] = '\0';
	n->port = port;
	cl->nodes[cl->nnodes] = n;
	return (int)cl->nnodes++;
}

/* Splits "HOST:PORT" (HOST maybe [IPv6]); 0 when it is one. */
static int split_addr(const char *a, size_t len, const char **host, size_t *hlen, int *port)
{
	const char *colon = NULL;
	long p = 0;

	for (size_t i = 0; i < len; i++)
		if (a[i] == ':')
			colon = a + i;
	if (!colon || colon + 1 == a + len)
		return -1;
	for (const char *d = colon + 1; d < a + len; d++) {
		if (*d < '0' || *d > '9' || p > 65535)
			return -1;
		p = p * 10 + (*d - '0');
	}
	*host = a;
	*hlen = (size_t)(colon - a);
	if (*hlen >= 2 && a[0] == '[' && colon[-1] == ']') {
		(*host)++;
		*hlen -= 2;
	}
	*port = (int)p;
	return 0;
}

void *ims_store_cluster_new(const struct ims_conf *conf)
{
	struct cluster_impl *cl = calloc(1, sizeof *cl);

	if (!cl)
		return NULL;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_mutex_init(&cl->refresh, NULL);
	cl->user = conf->redis_user && *conf->redis_user ? strdup(conf->redis_user) : NULL;
	cl->password =
	    conf->redis_password && *conf->redis_password ? strdup(conf->redis_password) : NULL;
	cl->timeout_ms = conf->redis_timeout_ms;
	for (size_t i = 0; i < IMS_KEYSLOT_COUNT; i++)
		cl->slot_node[i] = -1;
	for (char **s = conf->redis_cluster; s && *s; s++) {
		const char *h;
		size_t hl;
		int port;
		if (split_addr(*s, strlen(*s), &h, &hl, &port) == 0)
			node_add(cl, h, hl, port);
	}
	cl->nseeds = cl->nnodes;
	cl->good = -1;
	cl->stale = 1;
	return cl;
}

static void cluster_free(void *impl)
{
	struct cluster_impl *cl = impl;

	if (!cl)
		return;
	for (size_t i = 0; i < cl->nnodes; i++) {
		for (int k = 0; k < cl->nodes[i]->nidle; k++)
			redisFree(cl->nodes[i]->idle[k]);
		free(cl->nodes[i]);
	}
	pthread_mutex_destroy(&cl->lock);
	pthread_mutex_destroy(&cl->refresh);
	free(cl->user);
	free(cl->password);
	free(cl);
}

/* A pooled connection to node, or a new one; NULL with err (and *why:
 * IMS_ETEMP, or IMS_EPERM when the credentials were refused) when none. */
static redisContext *conn_get(struct cluster_impl *cl, int node, ims_status *why, char *err,
                              size_t errlen)
{
	struct store_node_conf nc = {
	    .user = cl->user, .password = cl->password, .timeout_ms = cl->timeout_ms};
	redisContext *c = NULL;
	char host[HOST_MAX];

	pthread_mutex_lock(&cl->lock);
	if (cl->nodes[node]->nidle > 0)
		c = cl->nodes[node]->idle[--cl->nodes[node]->nidle];
	memcpy(host, cl->nodes[node]->host, HOST_MAX);
	nc.port = cl->nodes[node]->port;
	pthread_mutex_unlock(&cl->lock);
	if (c)
		return c;
	nc.host = host;
	if ((*why = ims_store_connect(&nc, &c, err, errlen)) != IMS_OK) {
		if (!cl->quiet)
			ims_log_warn(NULL, "event=%s node=%s:%d error=\"%s\"",
			             *why == IMS_EPERM ? "redis_setup" : "redis_connect", host,
			             nc.port, err);
		return NULL;
	}
	return c;
}

/* Returns c to node's pool; a broken one is freed with the node's idle
 * connections (they saw the same failure) and the map marked stale. */
static void conn_put(struct cluster_impl *cl, int node, redisContext *c, int broken)
{
	redisContext *drop[NODE_POOL + 1];
	int ndrop = 0;

	pthread_mutex_lock(&cl->lock);
	if (broken) {
		struct cnode *n = cl->nodes[node];
		while (n->nidle > 0)
			drop[ndrop++] = n->idle[--n->nidle];
		cl->stale = 1;
	} else if (cl->nodes[node]->nidle < NODE_POOL) {
		cl->nodes[node]->idle[cl->nodes[node]->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&cl->lock);
	if (c)
		redisFree(c);
	while (ndrop > 0)
		redisFree(drop[--ndrop]);
}

/* Reads a CLUSTER SLOTS reply into map (node indexes); 0 when it covered
 * anything.  from_host: the node asked, for entries without a host. */
static int parse_slots(struct cluster_impl *cl, const redisReply *r, const char *from_host,
                       int16_t *map)
{
	int any = 0;

	if (r->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i], *m;
		const char *host;
		size_t hl;
		long long lo, hi;
		int node;

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
		    e->element[0]->type != REDIS_REPLY_INTEGER ||
		    e->element[1]->type != REDIS_REPLY_INTEGER)
			continue;
		lo = e->element[0]->integer;
		hi = e->element[1]->integer;
		m = e->element[2];
		if (lo < 0 || hi >= IMS_KEYSLOT_COUNT || lo > hi || m->type != REDIS_REPLY_ARRAY ||
		    m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING ||
		    m->element[1]->type != REDIS_REPLY_INTEGER)
			continue;
		host = m->element[0]->str;
		hl = m->element[0]->len;
		if (hl == 0) { /* "": the node that answered */
			host = from_host;
			hl = strlen(from_host);
		} else if (hl == 1 && host[0] == '?') { /* unknown endpoint */
			continue;
		}
		pthread_mutex_lock(&cl->lock);
		node = node_add(cl, host, hl, (int)m->element[1]->integer);
		pthread_mutex_unlock(&cl->lock);
		if (node < 0)
			continue;
		for (long long s = lo; s <= hi; s++)
			map[s] = (int16_t)node;
		any = 1;
	}
	return any ? 0 : -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads the slot map again from any node that answers (the masters of the
 * current map first, then every other known node).  IMS_ETEMP when none
 * did; the old map stays then. */
static ims_status refresh_map(struct cluster_impl *cl, char *err, size_t errlen)
{
	int16_t *map = NULL;
	int order[NODES_MAX], norder = 0, seen[NODES_MAX] = {0};
	unsigned long gen;
	ims_status rc = IMS_ETEMP, denied = IMS_OK;

	pthread_mutex_lock(&cl->lock);
	gen = cl->map_gen;
	pthread_mutex_unlock(&cl->lock);
	pthread_mutex_lock(&cl->refresh);
	pthread_mutex_lock(&cl->lock);
	/* another thread just did it, or did less than MAP_MIN_MS ago: while a
	 * master is down every command asks for a new map, and the cluster
	 * need not answer them all */
	if ((cl->map_gen != gen && !cl->stale) ||
	    (cl->good >= 0 && now_ms() - cl->map_ms < MAP_MIN_MS)) {
		pthread_mutex_unlock(&cl->lock);
		pthread_mutex_unlock(&cl->refresh);
		return IMS_OK;
	}
	/* the node that answered last time first (a hung node costs a whole
	 * timeout), then the masters, then everyone else */
	if (cl->good >= 0) {
		seen[cl->good] = 1;
		order[norder++] = cl->good;
	}
	for (size_t s = 0; s < IMS_KEYSLOT_COUNT; s++) {
		int n = cl->slot_node[s];
		if (n >= 0 && !seen[n]) {
			seen[n] = 1;
			order[norder++] = n;
		}
	}
	for (size_t n = 0; n < cl->nnodes; n++)
		if (!seen[n])
			order[norder++] = (int)n;
	pthread_mutex_unlock(&cl->lock);

	if (!(map = malloc(IMS_KEYSLOT_COUNT * sizeof *map))) {
		snprintf(err, errlen, "out of memory");
		pthread_mutex_unlock(&cl->refresh);
		return IMS_ENOMEM;
	}
	if (norder == 0)
		snprintf(err, errlen, "redis cluster: no node known ([redis] cluster)");
	for (int i = 0; i < norder && rc != IMS_OK && denied == IMS_OK; i++) {
		char e[256] = "", host[HOST_MAX];
		ims_status why = IMS_ETEMP;
		redisContext *c = conn_get(cl, order[i], &why, e, sizeof e);
		redisReply *r;

		if (!c) {
			snprintf(err, errlen, "%s", e);
			if (why == IMS_EPERM) /* every node has the same users */
				rc = denied = IMS_EPERM;
			continue;
		}
		pthread_mutex_lock(&cl->lock);
		memcpy(host, cl->nodes[order[i]]->host, HOST_MAX);
		pthread_mutex_unlock(&cl->lock);
		r = redisCommand(c, "CLUSTER SLOTS");
		for (size_t s = 0; s < IMS_KEYSLOT_COUNT; s++)
			map[s] = -1;
		if (r && parse_slots(cl, r, host, map) == 0) {
			pthread_mutex_lock(&cl->lock);
			memcpy(cl->slot_node, map, IMS_KEYSLOT_COUNT * sizeof *map);
			cl->good = order[i];
			cl->map_ms = now_ms();
			cl->stale = 0;
			cl->map_gen++;
			pthread_mutex_unlock(&cl->lock);
			rc = IMS_OK;
		} else {
			snprintf(err, errlen, "redis cluster: CLUSTER SLOTS on %s: %s", host,
			         !r                             ? c->errstr
			         : r->type == REDIS_REPLY_ERROR ? r->str
			                                        : "no slots served");
		}
		if (r)
			freeReplyObject(r);
		conn_put(cl, order[i], c, !r);
	}
	free(map);
	pthread_mutex_unlock(&cl->refresh);
	if (rc != IMS_OK && !cl->quiet)
		ims_log_warn(NULL, "event=redis_cluster_map error=\"%s\"", err);
	return rc;
}

/* The node of a slot (-1: any master), or -1 when the map has none. */
static int node_of(struct cluster_impl *cl, int slot)
{
	int n;

	pthread_mutex_lock(&cl->lock);
	n = slot >= 0 ? cl->slot_node[slot] : cl->slot_node[0];
	if (slot < 0 && n < 0)
		for (size_t s = 1; s < IMS_KEYSLOT_COUNT && n < 0; s++)
			n = cl->slot_node[s];
	pthread_mutex_unlock(&cl->lock);
	return n;
}

static void unit_fail(struct unit *u, ims_status rc, const char *err)
{
	ims_store_replies_free(u->replies, u->n);
	u->done = 1;
	u->rc = rc;
	if (err != u->err) /* callers pass u->err itself too */
		snprintf(u->err, sizeof u->err, "%s", err);
}

/* The redirect or retry a unit's replies ask for: the first error reply
 * that is MOVED, ASK, TRYAGAIN or CLUSTERDOWN (NULL: none). */
static const redisReply *redirect_of(const struct unit *u)
{
	for (size_t i = 0; i < u->n; i++) {
		const redisReply *r = u->replies[i];
		if (!r || r->type != REDIS_REPLY_ERROR)
			continue;
		if (strncmp(r->str, "MOVED ", 6) == 0 || strncmp(r->str, "ASK ", 4) == 0 ||
		    strncmp(r->str, "TRYAGAIN", 8) == 0 || strncmp(r->str, "CLUSTERDOWN", 11) == 0)
			return r;
	}
	return NULL;
}

/* Acts on a unit's replies; returns 1 when it must wait before the next
 * round (TRYAGAIN, CLUSTERDOWN). */
static int settle(struct cluster_impl *cl, struct unit *u, int node)
{
	const redisReply *r = redirect_of(u);
	const char *sp, *host;
	size_t hl;
	int port, slot, to, wait = 0;
	char msg[256];

	if (!r) {
		u->done = 1;
		u->rc = IMS_OK;
		return 0;
	}
	snprintf(msg, sizeof msg, "redis cluster: %s", r->str);
	if (r->str[0] == 'M' || r->str[0] == 'A') { /* MOVED/ASK SLOT HOST:PORT */
		int ask = r->str[0] == 'A';
		char *end;
		long v = strtol(strchr(r->str, ' ') + 1, &end, 10);
		slot = (int)v;
		sp = *end == ' ' ? end : NULL;
		if (!sp || v < 0 || v >= IMS_KEYSLOT_COUNT ||
		    split_addr(sp + 1, strlen(sp + 1), &host, &hl, &port) != 0) {
			unit_fail(u, IMS_ETEMP, msg);
			return 0;
		}
		pthread_mutex_lock(&cl->lock);
		if (hl == 0) { /* ":PORT": the host of the node that answered */
			char h[HOST_MAX];
			memcpy(h, cl->nodes[node]->host, HOST_MAX);
			to = node_add(cl, h, strlen(h), port);
		} else {
			to = node_add(cl, host, hl, port);
		}
		if (to >= 0 && !ask) {
			cl->slot_node[slot] = (int16_t)to;
			cl->stale = 1; /* the rest of the map moved too, maybe */
		}
		pthread_mutex_unlock(&cl->lock);
		if (to < 0 || (ask && u->asked)) {
			unit_fail(u, IMS_ETEMP, msg);
			return 0;
		}
		u->ask_node = ask ? to : -1;
		u->asked |= ask;
	} else {
		if (r->str[0] == 'C') {
			pthread_mutex_lock(&cl->lock);
			cl->stale = 1;
			pthread_mutex_unlock(&cl->lock);
		}
		wait = 1;
	}
	snprintf(u->err, sizeof u->err, "%s", msg);
	ims_store_replies_free(u->replies, u->n);
	return wait;
}

/* Appends one unit (ASKING first after an ASK). */
static int append_unit(redisContext *c, const struct unit *u)
{
	if (u->ask_node >= 0 && redisAppendCommand(c, "ASKING") != REDIS_OK)
		return -1;
	if (u->atomic && redisAppendCommand(c, "MULTI") != REDIS_OK)
		return -1;
	for (size_t i = 0; i < u->n; i++)
		if (redisAppendCommandArgv(c, u->cmds[i].argc, (const char **)u->cmds[i].argv,
		                           u->cmds[i].lens) != REDIS_OK)
			return -1;
	return u->atomic && redisAppendCommand(c, "EXEC") != REDIS_OK ? -1 : 0;
}

/* Reads one unit's replies; -1 when the connection failed. */
static int read_unit(redisContext *c, struct unit *u, char *err, size_t errlen)
{
	void *r = NULL;
	int aborted;

	if (u->ask_node >= 0) {
		if (redisGetReply(c, &r) != REDIS_OK || !r)
			goto fail;
		freeReplyObject(r);
	}
	if (u->atomic) {
		return ims_store_read_block(c, u->n, u->replies, &aborted, err, errlen);
	}
	for (size_t i = 0; i < u->n; i++)
		if (redisGetReply(c, (void **)&u->replies[i]) != REDIS_OK || !u->replies[i])
			goto fail;
	return 0;
fail:
	snprintf(err, errlen, "redis: %s", c->errstr[0] ? c->errstr : "no reply");
	ims_store_replies_free(u->replies, u->n);
	return -1;
}

/* One node's connection during a round. */
struct sending {
	int node;
	redisContext *c;     /* NULL: could not connect */
	int broken;          /* a write failed: nothing is read */
	int wait_n, wait_ms; /* WAIT sent after the units (0: none) */
	char err[256];
};

/* Sends the pending units routed to s->node (one write); a node that
 * cannot be connected to fails them or leaves them for one more round. */
static void node_send(struct cluster_impl *cl, struct unit *units, size_t n, struct sending *s,
                      int last_round)
{
	ims_status why = IMS_ETEMP;
	int done = 0;

	s->broken = 0;
	s->err[0] = '\0';
	s->c = conn_get(cl, s->node, &why, s->err, sizeof s->err);
	if (!s->c) {
		pthread_mutex_lock(&cl->lock);
		cl->stale = 1;
		pthread_mutex_unlock(&cl->lock);
		for (size_t i = 0; i < n; i++)
			if (!units[i].done && units[i].node == s->node) {
				snprintf(units[i].err, sizeof units[i].err, "%s", s->err);
				/* the map is read again; one more try, then give up */
				if (++units[i].conn_fails > 1 || last_round || why == IMS_EPERM)
					unit_fail(&units[i], why, s->err);
				units[i].ask_node = -1;
				units[i].node = -1;
			}
		return;
	}
	s->wait_n = 0;
	for (size_t i = 0; i < n && !s->broken; i++) {
		if (units[i].done || units[i].node != s->node)
			continue;
		units[i].sent_now = 1;
		if (append_unit(s->c, &units[i]) != 0)
			s->broken = 1;
		if (units[i].wait_n > 0) {
			s->wait_n = units[i].wait_n;
			s->wait_ms = units[i].wait_ms;
		}
	}
	/* once per node, on the connection that ran the blocks: WAIT counts
	 * the replicas that have everything this connection wrote (a
	 * redirected block ran nothing; the others are covered) */
	if (!s->broken && s->wait_n > 0 &&
	    redisAppendCommand(s->c, "WAIT %d %d", s->wait_n, s->wait_ms) != REDIS_OK)
		s->broken = 1;
	/* out now, so that every node works while the replies are read */
	while (!s->broken && !done)
		if (redisBufferWrite(s->c, &done) != REDIS_OK)
			s->broken = 1;
	if (s->broken)
		snprintf(s->err, sizeof s->err, "redis: %s",
		         s->c->errstr[0] ? s->c->errstr : "write failed");
}

/* Reads the replies of what node_send sent; returns 1 when a unit asks to
 * wait before the next round. */
static int node_recv(struct cluster_impl *cl, struct unit *units, size_t n, struct sending *s)
{
	int wait = 0;

	if (!s->c)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (units[i].done || units[i].node != s->node)
			continue;
		if (s->broken || read_unit(s->c, &units[i], s->err, sizeof s->err) != 0) {
			/* sent, maybe run: not sent again */
			s->broken = 1;
			unit_fail(&units[i], IMS_ETEMP, s->err[0] ? s->err : "redis: write failed");
			continue;
		}
		wait |= settle(cl, &units[i], s->node);
	}
	if (s->wait_n > 0) {
		redisReply *w = NULL;
		char e[256] = "";
		ims_status rc;

		if (s->broken || redisGetReply(s->c, (void **)&w) != REDIS_OK || !w) {
			s->broken = 1;
			snprintf(e, sizeof e, "redis: WAIT: %s",
			         s->c->errstr[0] ? s->c->errstr : "no reply");
			rc = IMS_ETEMP;
		} else {
			rc = ims_store_wait_result(w, s->wait_n, s->wait_ms, e, sizeof e);
		}
		ims_store_reply_free(w);
		/* the blocks that ran here are not acknowledged until the
		 * replicas have them */
		for (size_t i = 0; rc != IMS_OK && i < n; i++)
			if (units[i].sent_now && units[i].node == s->node && units[i].done &&
			    units[i].rc == IMS_OK)
				unit_fail(&units[i], IMS_ETEMP, e);
	}
	for (size_t i = 0; i < n; i++)
		if (units[i].node == s->node)
			units[i].sent_now = 0;
	conn_put(cl, s->node, s->c, s->broken);
	s->c = NULL;
	return wait;
}

/* Sends the pending units to their nodes, all before reading any reply
 * (one round trip for all nodes); returns 1 when one asks to wait. */
static int run_nodes(struct cluster_impl *cl, struct unit *units, size_t n, const int *nodes,
                     int nnodes, int last_round)
{
	struct sending *s = calloc((size_t)nnodes, sizeof *s);
	int wait = 0;

	if (!s) {
		for (size_t i = 0; i < n; i++)
			if (!units[i].done && units[i].node >= 0)
				unit_fail(&units[i], IMS_ENOMEM, "out of memory");
		return 0;
	}
	for (int k = 0; k < nnodes; k++) {
		s[k].node = nodes[k];
		node_send(cl, units, n, &s[k], last_round);
	}
	for (int k = 0; k < nnodes; k++)
		wait |= node_recv(cl, units, n, &s[k]);
	free(s);
	return wait;
}

/* Runs the units (see the top of this file).  ordered: the last unit is
 * sent only once every other one succeeded. */
static void run_units(struct cluster_impl *cl, struct unit *units, size_t n, int ordered)
{
	for (int round = 0; round < IMS_CLUSTER_ROUNDS; round++) {
		int nodes[NODES_MAX], nnodes = 0, wait = 0, pending = 0, last_node = -1, stale;
		int last_round = round == IMS_CLUSTER_ROUNDS - 1;
		char err[256] = "";
		ims_status rc;

		pthread_mutex_lock(&cl->lock);
		stale = cl->stale;
		pthread_mutex_unlock(&cl->lock);
		if (stale && (rc = refresh_map(cl, err, sizeof err)) != IMS_OK)
			for (size_t i = 0; i < n; i++) {
				if (units[i].done)
					continue;
				snprintf(units[i].err, sizeof units[i].err, "%s", err);
				if (rc == IMS_EPERM) /* no retry mends credentials */
					unit_fail(&units[i], rc, err);
			}
		for (size_t i = 0; i < n; i++) {
			struct unit *u = &units[i];
			if (u->done)
				continue;
			u->node = u->ask_node >= 0 ? u->ask_node : node_of(cl, u->slot);
			if (u->node < 0) {
				pthread_mutex_lock(&cl->lock);
				cl->stale = 1;
				pthread_mutex_unlock(&cl->lock);
				wait = 1;
				if (!u->err[0])
					snprintf(u->err, sizeof u->err,
					         "redis cluster: no node serves slot %d", u->slot);
				if (last_round)
					unit_fail(u, IMS_ETEMP, u->err);
				pending = 1;
				continue;
			}
			if (ordered && i == n - 1) {
				last_node = u->node;
				continue;
			}
			int seen = 0;
			for (int k = 0; k < nnodes; k++)
				seen |= nodes[k] == u->node;
			if (!seen)
				nodes[nnodes++] = u->node;
		}
		if (last_node >= 0 && nnodes == 1 && nodes[0] == last_node) {
			/* everything on one node: one pipeline in order, as on one
			 * Redis (the last block follows the others on one connection) */
			wait |= run_nodes(cl, units, n, nodes, 1, last_round);
			last_node = -1;
		} else {
			wait |=
			    run_nodes(cl, units, ordered ? n - 1 : n, nodes, nnodes, last_round);
		}
		if (last_node >= 0) {
			int all_done = 1, all_ok = 1;
			for (size_t i = 0; i + 1 < n; i++) {
				all_done &= units[i].done;
				all_ok &= units[i].done && units[i].rc == IMS_OK &&
				          ims_store_check_replies(units[i].replies, units[i].n, "",
				                                  NULL, 0) == IMS_OK;
			}
			if (all_ok)
				wait |= run_nodes(cl, &units[n - 1], 1, &last_node, 1, last_round);
			else if (all_done || last_round)
				unit_fail(&units[n - 1], IMS_ETEMP,
				          "redis: not sent: an earlier transaction failed");
		}
		pending = 0;
		for (size_t i = 0; i < n; i++)
			pending |= !units[i].done;
		if (!pending)
			return;
		if (wait && !last_round) {
			struct timespec ts = {0, (10L << round) * 1000000L};
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!units[i].done)
			unit_fail(&units[i], IMS_ETEMP,
			          units[i].err[0] ? units[i].err
			                          : "redis cluster: too many redirects");
}

/* Sets up n units over cmds; 0, or -1 when out of memory. */
static struct unit *units_new(size_t n)
{
	struct unit *u = calloc(n ? n : 1, sizeof *u);

	for (size_t i = 0; u && i < n; i++) {
		u[i].ask_node = -1;
		u[i].node = -1;
	}
	return u;
}

static ims_status cluster_exec(void *impl, const struct ims_store_txn *const *txns,
                               const int *slots, size_t n, int wait_n, int wait_ms, char *err,
                               size_t errlen)
{
	struct cluster_impl *cl = impl;
	struct unit *u = units_new(n);
	redisReply ***rs = calloc(n, sizeof *rs);
	ims_status rc = IMS_ENOMEM;

	if (!u || !rs)
		goto out;
	for (size_t k = 0; k < n; k++) {
		if (!(rs[k] = calloc(txns[k]->n, sizeof **rs)))
			goto out;
		u[k].cmds = txns[k]->cmds;
		u[k].n = txns[k]->n;
		u[k].atomic = 1;
		u[k].slot = slots[k];
		u[k].replies = rs[k];
		u[k].wait_n = wait_n;
		u[k].wait_ms = wait_ms;
	}
	run_units(cl, u, n, n > 1);
	rc = IMS_OK;
	for (size_t k = 0; k < n && rc == IMS_OK; k++) {
		if (u[k].rc != IMS_OK) {
			rc = u[k].rc;
			snprintf(err, errlen, "%s", u[k].err);
		} else {
			rc = ims_store_check_replies(u[k].replies, u[k].n, "transaction", err,
			                             errlen);
		}
	}
out:
	for (size_t k = 0; rs && k < n; k++) {
		if (rs[k])
			ims_store_replies_free(rs[k], txns[k]->n);
		free(rs[k]);
	}
	free(rs);
	free(u);
	if (rc == IMS_ENOMEM && !err[0])
		snprintf(err, errlen, "out of memory");
	return rc;
}

static ims_status cluster_run(void *impl, const struct store_cmd *cmds, size_t n, int atomic,
                              int slot, redisReply **replies, char *err, size_t errlen)
{
	struct cluster_impl *cl = impl;
	size_t nu = atomic ? 1 : n;
	struct unit *u = units_new(nu);
	ims_status rc = IMS_OK;

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return IMS_ENOMEM;
	}
	if (atomic) {
		u[0] = (struct unit){.cmds = cmds,
		                     .n = n,
		                     .atomic = 1,
		                     .slot = slot,
		                     .replies = replies,
		                     .ask_node = -1,
		                     .node = -1};
	} else {
		for (size_t i = 0; i < n; i++) {
			u[i].cmds = &cmds[i];
			u[i].n = 1;
			u[i].slot = ims_keyslot_cmd(cmds[i].argc, cmds[i].argv, cmds[i].lens);
			u[i].replies = &replies[i];
		}
	}
	run_units(cl, u, nu, 0);
	for (size_t i = 0; i < nu && rc == IMS_OK; i++)
		if (u[i].rc != IMS_OK) {
			rc = u[i].rc;
			snprintf(err, errlen, "%s", u[i].err);
		}
	if (rc != IMS_OK)
		ims_store_replies_free(replies, n);
	free(u);
	return rc;
}

/* The masters, in the order of their first slot (lock held); their count. */
static size_t masters_of(struct cluster_impl *cl, int *out)
{
	int seen[NODES_MAX] = {0};
	size_t k = 0;

	for (size_t s = 0; s < IMS_KEYSLOT_COUNT; s++) {
		int n = cl->slot_node[s];
		if (n >= 0 && !seen[n]) {
			seen[n] = 1;
			out[k++] = n;
		}
	}
	return k;
}

static size_t cluster_masters(void *impl)
{
	struct cluster_impl *cl = impl;
	int m[NODES_MAX], stale;
	char err[256];
	size_t k;

	pthread_mutex_lock(&cl->lock);
	stale = cl->stale;
	pthread_mutex_unlock(&cl->lock);
	if (stale)
		refresh_map(cl, err, sizeof err);
	pthread_mutex_lock(&cl->lock);
	k = masters_of(cl, m);
	pthread_mutex_unlock(&cl->lock);
	return k;
}

static ims_status cluster_run_at(void *impl, size_t master, const struct store_cmd *c,
                                 redisReply **reply, char *err, size_t errlen)
{
	struct cluster_impl *cl = impl;
	int m[NODES_MAX];
	size_t k = cluster_masters(cl);
	struct unit u = {.cmds = c, .n = 1, .slot = -1, .replies = reply, .ask_node = -1};

	pthread_mutex_lock(&cl->lock);
	k = masters_of(cl, m);
	pthread_mutex_unlock(&cl->lock);
	if (master >= k) {
		snprintf(err, errlen, "redis cluster: no master %zu (%zu known)", master, k);
		return k ? IMS_EINVAL : IMS_ETEMP;
	}
	u.node = m[master];
	run_nodes(cl, &u, 1, &m[master], 1, 1);
	if (!u.done) /* redirected: a per-node command is not */
		unit_fail(&u, IMS_ETEMP, u.err);
	if (u.rc != IMS_OK)
		snprintf(err, errlen, "%s", u.err);
	return u.rc;
}

static ims_status cluster_ping(void *impl)
{
	struct store_cmd c = {.argc = 1, .argv = {"PING"}, .lens = {4}};
	redisReply *r = NULL;
	char err[256];
	ims_status rc = cluster_run(impl, &c, 1, 0, -1, &r, err, sizeof err);

	if (rc == IMS_OK && (!r || r->type != REDIS_REPLY_STATUS))
		rc = IMS_ETEMP;
	ims_store_reply_free(r);
	return rc;
}

static void cluster_set_quiet(void *impl, bool quiet)
{
	((struct cluster_impl *)impl)->quiet = quiet;
}

const struct store_ops ims_store_cluster_ops = {
    .name = "cluster",
    .slots = 1,
    .exec = cluster_exec,
    .run = cluster_run,
    .run_at = cluster_run_at,
    .masters = cluster_masters,
    .ping = cluster_ping,
    .free = cluster_free,
    .set_quiet = cluster_set_quiet,
};
