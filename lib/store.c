#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	return store_wrap(&ims_store_redis_ops, ims_store_redis_new(conf), out);
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
	size_t k = 0;

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
		if (txns[i]->n > 0)
			nonempty[k++] = txns[i];
	}
	if (k == 0)
		return IMS_OK;
	return st->ops->exec(st->impl, nonempty, k, err, errlen);
}

ims_status ims_store_query(struct ims_store *st, const struct ims_store_txn *one_cmd, char **out,
                           size_t *outlen)
{
	*out = NULL;
	if (outlen)
		*outlen = 0;
	if (one_cmd->broken != IMS_OK)
		return one_cmd->broken;
	if (one_cmd->n != 1)
		return IMS_EINVAL;
	return st->ops->query(st->impl, &one_cmd->cmds[0], out, outlen);
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
