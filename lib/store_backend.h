/* Private to lib/store*.c: the transaction layout and the backend vtable. */
#ifndef IMS_STORE_BACKEND_H
#define IMS_STORE_BACKEND_H

#include "store.h"

struct store_cmd {
	int argc;
	const char *argv[IMS_STORE_MAX_ARGS];
	size_t lens[IMS_STORE_MAX_ARGS];
	char *owned[IMS_STORE_MAX_ARGS]; /* copies to free; NULL for borrowed args */
};

struct ims_store_txn {
	struct store_cmd *cmds;
	size_t n, cap;
	ims_status broken; /* first failed add, IMS_OK otherwise */
};

struct store_ops {
	const char *name;
	/* runs n transactions, pipelined where the backend can */
	ims_status (*exec)(void *impl, const struct ims_store_txn *const *txns, size_t n, char *err,
	                   size_t errlen);
	ims_status (*query)(void *impl, const struct store_cmd *c, char **out, size_t *outlen);
	ims_status (*ping)(void *impl);
	void (*free)(void *impl);
};

struct ims_store {
	const struct store_ops *ops;
	void *impl;
};

/* Constructors of the backends; each returns the impl pointer or NULL. */
void *ims_store_redis_new(const struct ims_conf *conf);
extern const struct store_ops ims_store_redis_ops;
void *ims_store_memory_new(void);
extern const struct store_ops ims_store_memory_ops;
const char *ims_store_memory_text(void *impl);
void ims_store_memory_down(void *impl, bool down);

#endif
