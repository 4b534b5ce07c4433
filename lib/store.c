#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyslot.h"
#include "store_backend.h"

static ims_status store_wrap(const struct store_ops *ops, void *impl, struct ims_store **out)
{
	struct ims_store *st;

	if (!impl)
		return IMS_ENOMEM;
	st = calloc(1, sizeof *st);
	if (!st) {
		ops->free(impl);
		return IMS_ENOMEM;
	}
	st->ops = ops;
	st->impl = impl;
	*out = st;
	return IMS_OK;
}

ims_status ims_store_open(const struct ims_conf *conf, struct ims_store **out)
{
	*out = NULL;
	if (!conf)
		return IMS_EINVAL;
	if (conf->redis_cluster && conf->redis_cluster[0])
		return store_wrap(&ims_store_cluster_ops, ims_store_cluster_new(conf), out);
	return store_wrap(&ims_store_redis_ops, ims_store_redis_new(conf), out);
}

void ims_store_set_wait(struct ims_store *st, int replicas, int timeout_ms)
{
	st->wait_n = replicas > 0 ? replicas : 0;
	st->wait_ms = timeout_ms > 0 ? timeout_ms : 1;
}

ims_status ims_store_wait_result(const redisReply *r, int want, int ms, char *err, size_t errlen)
{
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= want)
		return IMS_OK;
	if (r && r->type == REDIS_REPLY_INTEGER)
		snprintf(err, errlen,
		         "redis: %lld of %d replicas acknowledged the write within %d ms "
		         "([redis] wait_replicas)",
		         r->integer, want, ms);
	else
		snprintf(err, errlen, "redis: WAIT: %s",
		         r && r->type == REDIS_REPLY_ERROR ? r->str : "no answer");
	return IMS_ETEMP;
}

ims_status ims_store_open_memory(struct ims_store **out)
{
	*out = NULL;
	return store_wrap(&ims_store_memory_ops, ims_store_memory_new(), out);
}

void ims_store_free(struct ims_store *st)
{
	if (!st)
		return;
	st->ops->free(st->impl);
	free(st);
}

void ims_store_set_quiet(struct ims_store *st, bool quiet)
{
	if (st->ops->set_quiet)
		st->ops->set_quiet(st->impl, quiet);
}

ims_status ims_store_ping(struct ims_store *st)
{
	return st->ops->ping(st->impl);
}

struct ims_store_txn *ims_store_txn_new(void)
{
	return calloc(1, sizeof(struct ims_store_txn));
}

void ims_store_txn_free(struct ims_store_txn *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		for (int a = 0; a < t->cmds[i].argc; a++)
			free(t->cmds[i].owned[a]);
	free(t->cmds);
	free(t);
}

size_t ims_store_txn_count(const struct ims_store_txn *t)
{
	return t->n;
}

static ims_status txn_fail(struct ims_store_txn *t, ims_status st)
{
	if (t->broken == IMS_OK)
		t->broken = st;
	return st;
}

static ims_status add_arg(struct ims_store_txn *t, const void *p, size_t len, int copy)
{
	struct store_cmd *c;
	char *dup = NULL;

	if (t->broken != IMS_OK)
		return t->broken;
	if (t->n == 0)
		return txn_fail(t, IMS_EINVAL);
	c = &t->cmds[t->n - 1];
	if (c->argc >= IMS_STORE_MAX_ARGS)
		return txn_fail(t, IMS_ELIMIT);
	if (copy) {
		dup = malloc(len + 1);
		if (!dup)
			return txn_fail(t, IMS_ENOMEM);
		if (len)
			memcpy(dup, p, len);
		dup[len] = '\0';
		p = dup;
	}
	c->argv[c->argc] = p;
	c->lens[c->argc] = len;
	c->owned[c->argc] = dup;
	c->argc++;
	return IMS_OK;
}

ims_status ims_store_txn_cmd(struct ims_store_txn *t, const char *name)
{
	if (t->broken != IMS_OK)
		return t->broken;
	if (t->n >= IMS_STORE_MAX_CMDS)
		return txn_fail(t, IMS_ELIMIT);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct store_cmd *c = realloc(t->cmds, cap * sizeof *c);
		if (!c)
			return txn_fail(t, IMS_ENOMEM);
		t->cmds = c;
		t->cap = cap;
	}
	t->cmds[t->n].argc = 0;
	t->n++;
	return add_arg(t, name, strlen(name), 1);
}

ims_status ims_store_txn_arg(struct ims_store_txn *t, const void *p, size_t len)
{
	return add_arg(t, p, len, 1);
}

ims_status ims_store_txn_str(struct ims_store_txn *t, const char *s)
{
	return add_arg(t, s ? s : "", s ? strlen(s) : 0, 1);
}

ims_status ims_store_txn_ref(struct ims_store_txn *t, const void *p, size_t len)
{
	return add_arg(t, p, len, 0);
}

ims_status ims_store_txn_fmt(struct ims_store_txn *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		return txn_fail(t, IMS_ELIMIT);
	return add_arg(t, buf, (size_t)n, 1);
}

ims_status ims_store_exec(struct ims_store *st, const struct ims_store_txn *t, char *err,
                          size_t errlen)
{
	return ims_store_exec_all(st, &t, 1, err, errlen);
}

ims_status ims_store_exec_all(struct ims_store *st, const struct ims_store_txn *const *txns,
                              size_t n, char *err, size_t errlen)
{
	const struct ims_store_txn *nonempty[64];
	int slots[64];
	size_t k = 0;
	ims_status rc;

	if (err && errlen)
		err[0] = '\0';
	if (n > sizeof nonempty / sizeof nonempty[0])
		return IMS_ELIMIT;
	for (size_t i = 0; i < n; i++) {
		if (txns[i]->broken != IMS_OK) {
			if (err)
				snprintf(err, errlen, "transaction could not be built: %s",
				         ims_strstatus(txns[i]->broken));
			return txns[i]->broken;
		}
		if (txns[i]->n == 0)
			continue;
		slots[k] = IMS_KEYSLOT_NONE;
		if (st->ops->slots &&
		    (rc = ims_store_txn_slot(txns[i], &slots[k], err, errlen)) != IMS_OK)
			return rc;
		nonempty[k++] = txns[i];
	}
	if (k == 0)
		return IMS_OK;
	return st->ops->exec(st->impl, nonempty, slots, k, st->wait_n, st->wait_ms, err, errlen);
}

/* The hash slot of one built command (keyslot.h). */
static int cmd_slot(const struct store_cmd *c)
{
	return ims_keyslot_cmd(c->argc, c->argv, c->lens);
}

ims_status ims_store_txn_slot(const struct ims_store_txn *t, int *slot, char *err, size_t errlen)
{
	const char *ref = NULL; /* the hashed bytes of the first key */
	size_t first = 0, reflen = 0;

	*slot = IMS_KEYSLOT_NONE;
	for (size_t i = 0; i < t->n; i++) {
		const struct store_cmd *c = &t->cmds[i];
		int s;

		if (c->argc >= 2 && ims_keyslot_first_only(c->argv[0], c->lens[0])) {
			/* most commands: one key; the same hash tag is the same slot
			 * (a compare instead of a CRC) */
			size_t hl;
			const char *h = ims_keyslot_hashed(c->argv[1], c->lens[1], &hl);
			if (ref && hl == reflen && memcmp(h, ref, hl) == 0)
				continue;
			s = ims_crc16(h, hl) & (IMS_KEYSLOT_COUNT - 1);
			if (!ref) {
				ref = h;
				reflen = hl;
			}
		} else {
			s = cmd_slot(c);
		}
		if (s == IMS_KEYSLOT_NONE)
			continue;
		if (s != IMS_KEYSLOT_CROSS && *slot == IMS_KEYSLOT_NONE) {
			*slot = s;
			first = i;
			continue;
		}
		if (s == *slot)
			continue;
		if (err) {
			const struct store_cmd *a = &t->cmds[first], *b = c;
			if (s == IMS_KEYSLOT_CROSS)
				snprintf(
				    err, errlen,
				    "redis: command %zu (%.*s %.*s) names keys in several hash "
				    "slots",
				    i, (int)b->lens[0], b->argv[0],
				    (int)(b->argc > 1 ? b->lens[1] : 0),
				    b->argc > 1 ? b->argv[1] : "");
			else
				snprintf(
				    err, errlen,
				    "redis: one transaction in two hash slots: command %zu (%.*s "
				    "%.*s) and command %zu (%.*s %.*s)",
				    first, (int)a->lens[0], a->argv[0],
				    (int)(a->argc > 1 ? a->lens[1] : 0),
				    a->argc > 1 ? a->argv[1] : "", i, (int)b->lens[0], b->argv[0],
				    (int)(b->argc > 1 ? b->lens[1] : 0),
				    b->argc > 1 ? b->argv[1] : "");
		}
		return IMS_EINVAL;
	}
	return IMS_OK;
}

/* Starts with ETEMP's and EPERM's words; a word ends at a space or the end
 * ("BUSY" is not "BUSYGROUP", which is permanent). */
static int has_word(const char *msg, const char *word)
{
	size_t n = strlen(word);

	return strncmp(msg, word, n) == 0 && (msg[n] == ' ' || msg[n] == '\0');
}

ims_status ims_store_error_status(const char *msg)
{
	static const char *const temporary[] = {
	    "LOADING", "BUSY",    "TRYAGAIN",  "CLUSTERDOWN", "MASTERDOWN", "READONLY",
	    "OOM",     "MISCONF", "EXECABORT", "NOREPLICAS",  "MOVED",      "ASK",
	};
	static const char *const denied[] = {"NOAUTH", "WRONGPASS", "NOPERM"};

	if (!msg)
		return IMS_ETEMP;
	for (size_t i = 0; i < sizeof temporary / sizeof temporary[0]; i++)
		if (has_word(msg, temporary[i]))
			return IMS_ETEMP;
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
		if (has_word(msg, denied[i]))
			return IMS_EPERM;
	return IMS_EINVAL;
}

ims_status ims_store_check_replies(redisReply *const *replies, size_t n, const char *what,
                                   char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const redisReply *r = replies[i];
		if (r && r->type != REDIS_REPLY_ERROR)
			continue;
		if (!r) {
			if (err && (!err[0]))
				snprintf(err, errlen, "redis: %s: no reply to command %zu", what,
				         i);
			return IMS_ETEMP;
		}
		if (err && n == 1)
			snprintf(err, errlen, "redis refused the command: %s", r->str);
		else if (err)
			snprintf(err, errlen, "redis refused %s command %zu: %s", what, i, r->str);
		return ims_store_error_status(r->str);
	}
	return IMS_OK;
}

void ims_store_reply_free(struct redisReply *r)
{
	if (r)
		freeReplyObject(r);
}

void ims_store_replies_free(struct redisReply **rs, size_t n)
{
	for (size_t i = 0; rs && i < n; i++) {
		ims_store_reply_free(rs[i]);
		rs[i] = NULL;
	}
}

/* Runs n commands through the backend and maps their replies. */
static ims_status run_cmds(struct ims_store *st, const struct store_cmd *cmds, size_t n,
                           unsigned flags, int slot, redisReply **replies, char *err, size_t errlen)
{
	int atomic = (flags & IMS_STORE_ATOMIC) != 0;
	ims_status rc;

	for (size_t i = 0; i < n; i++)
		replies[i] = NULL;
	rc = st->ops->run(st->impl, cmds, n, atomic, slot, replies, err, errlen);
	if (rc == IMS_OK)
		rc = ims_store_check_replies(replies, n, atomic ? "transaction" : "pipeline", err,
		                             errlen);
	if (rc != IMS_OK)
		ims_store_replies_free(replies, n);
	return rc;
}

ims_status ims_store_run(struct ims_store *st, const struct ims_store_txn *t, unsigned flags,
                         struct redisReply **replies, char *err, size_t errlen)
{
	int slot = IMS_KEYSLOT_NONE;
	ims_status rc;

	if (err && errlen)
		err[0] = '\0';
	for (size_t i = 0; i < t->n; i++)
		replies[i] = NULL;
	if (t->broken != IMS_OK) {
		if (err)
			snprintf(err, errlen, "transaction could not be built: %s",
			         ims_strstatus(t->broken));
		return t->broken;
	}
	if (t->n == 0)
		return IMS_OK;
	if ((flags & IMS_STORE_ATOMIC) && st->ops->slots &&
	    (rc = ims_store_txn_slot(t, &slot, err, errlen)) != IMS_OK)
		return rc;
	return run_cmds(st, t->cmds, t->n, flags, slot, replies, err, errlen);
}

/* A command in argv form as a store_cmd (borrowed arguments). */
static ims_status argv_cmd(struct store_cmd *c, int argc, const char *const *argv,
                           const size_t *lens, char *err, size_t errlen)
{
	if (argc < 1 || argc > IMS_STORE_MAX_ARGS) {
		if (err)
			snprintf(err, errlen, "redis: %d arguments (1 to %d)", argc,
			         IMS_STORE_MAX_ARGS);
		return argc < 1 ? IMS_EINVAL : IMS_ELIMIT;
	}
	c->argc = argc;
	for (int i = 0; i < argc; i++) {
		c->argv[i] = argv[i];
		c->lens[i] = lens ? lens[i] : strlen(argv[i]);
		c->owned[i] = NULL;
	}
	return IMS_OK;
}

ims_status ims_store_cmdv(struct ims_store *st, struct redisReply **reply, int argc,
                          const char *const *argv, const size_t *lens, char *err, size_t errlen)
{
	struct store_cmd c;
	ims_status rc;
	int slot;

	*reply = NULL;
	if (err && errlen)
		err[0] = '\0';
	if ((rc = argv_cmd(&c, argc, argv, lens, err, errlen)) != IMS_OK)
		return rc;
	slot = st->ops->slots ? cmd_slot(&c) : IMS_KEYSLOT_NONE;
	if (slot == IMS_KEYSLOT_CROSS) {
		if (err)
			snprintf(err, errlen, "redis: %.*s names keys in several hash slots",
			         (int)c.lens[0], c.argv[0]);
		return IMS_EINVAL;
	}
	return run_cmds(st, &c, 1, 0, slot, reply, err, errlen);
}

size_t ims_store_masters(struct ims_store *st)
{
	return st->ops->masters(st->impl);
}

ims_status ims_store_cmdv_at(struct ims_store *st, size_t master, struct redisReply **reply,
                             int argc, const char *const *argv, const size_t *lens, char *err,
                             size_t errlen)
{
	struct store_cmd c;
	ims_status rc;

	*reply = NULL;
	if (err && errlen)
		err[0] = '\0';
	if ((rc = argv_cmd(&c, argc, argv, lens, err, errlen)) != IMS_OK)
		return rc;
	rc = st->ops->run_at(st->impl, master, &c, reply, err, errlen);
	if (rc == IMS_OK)
		rc = ims_store_check_replies(reply, 1, "the", err, errlen);
	if (rc != IMS_OK) {
		ims_store_reply_free(*reply);
		*reply = NULL;
	}
	return rc;
}

/* A reply as text (ims_store_query). */
static ims_status reply_text(const redisReply *rep, char **out, size_t *outlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;

	switch (rep->type) {
	case REDIS_REPLY_NIL: return IMS_ENOTFOUND;
	case REDIS_REPLY_INTEGER: {
		char num[32];
		len = (size_t)snprintf(num, sizeof num, "%lld", rep->integer);
		buf = strdup(num);
		break;
	}
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
		buf = malloc(rep->len + 1);
		if (buf) {
			memcpy(buf, rep->str, rep->len);
			buf[rep->len] = '\0';
			len = rep->len;
		}
		break;
	case REDIS_REPLY_ARRAY:
		for (size_t i = 0; i < rep->elements; i++)
			cap += (rep->element[i]->str ? rep->element[i]->len : 24) + 1;
		buf = malloc(cap + 1);
		if (!buf)
			break;
		for (size_t i = 0; i < rep->elements; i++) {
			const redisReply *e = rep->element[i];
			if (i)
				buf[len++] = '\n';
			if (e->type == REDIS_REPLY_INTEGER)
				len +=
				    (size_t)snprintf(buf + len, cap + 1 - len, "%lld", e->integer);
			else if (e->str) {
				memcpy(buf + len, e->str, e->len);
				len += e->len;
			}
		}
		buf[len] = '\0';
		break;
	default: return IMS_EINVAL;
	}
	if (!buf)
		return IMS_ENOMEM;
	*out = buf;
	if (outlen)
		*outlen = len;
	return IMS_OK;
}

ims_status ims_store_query(struct ims_store *st, const struct ims_store_txn *one_cmd, char **out,
                           size_t *outlen)
{
	redisReply *rep = NULL;
	ims_status rc;

	*out = NULL;
	if (outlen)
		*outlen = 0;
	if (one_cmd->broken != IMS_OK)
		return one_cmd->broken;
	if (one_cmd->n != 1)
		return IMS_EINVAL;
	rc = ims_store_cmdv(st, &rep, one_cmd->cmds[0].argc, one_cmd->cmds[0].argv,
	                    one_cmd->cmds[0].lens, NULL, 0);
	if (rc != IMS_OK)
		return rc;
	rc = reply_text(rep, out, outlen);
	ims_store_reply_free(rep);
	return rc;
}

const char *ims_store_memory_log(struct ims_store *st)
{
	if (st->ops != &ims_store_memory_ops)
		return "";
	return ims_store_memory_text(st->impl);
}

void ims_store_memory_set_down(struct ims_store *st, bool down)
{
	if (st->ops == &ims_store_memory_ops)
		ims_store_memory_down(st->impl, down);
}

void ims_store_memory_set_replicas(struct ims_store *st, int n)
{
	if (st->ops == &ims_store_memory_ops)
		ims_store_memory_replicas(st->impl, n);
}
