/* The store's transaction builder and its two backends (memory recorder;
 * Redis unreachable gives IMS_ETEMP). */
#include "config.h"

#include <string.h>

#include "check.h"
#include "conf.h"
#include "store.h"
#include "ulid.h"

static void test_memory_txn(void)
{
	struct ims_store *st;
	struct ims_store_txn *t = ims_store_txn_new();
	char big[300], err[256];

	memset(big, 'x', sizeof big);
	CHECK(ims_store_open_memory(&st) == IMS_OK);
	CHECK(ims_store_txn_cmd(t, "HSET") == IMS_OK);
	ims_store_txn_str(t, "ims:{a@example.test}:msg:1");
	ims_store_txn_str(t, "raw");
	ims_store_txn_ref(t, big, sizeof big);
	ims_store_txn_cmd(t, "ZADD");
	ims_store_txn_fmt(t, "ims:{%s}:inbox", "a@example.test");
	ims_store_txn_fmt(t, "%d", 42);
	ims_store_txn_arg(t, "a\0b", 3);
	CHECK(ims_store_txn_count(t) == 2);
	CHECK(ims_store_exec(st, t, err, sizeof err) == IMS_OK);
	CHECK_STR_CONTAINS(ims_store_memory_log(st),
	                   "MULTI\nHSET ims:{a@example.test}:msg:1 raw <300 bytes>\n"
	                   "ZADD ims:{a@example.test}:inbox 42 a\\x00b\nEXEC\n");
	ims_store_memory_set_down(st, true);
	CHECK(ims_store_exec(st, t, err, sizeof err) == IMS_ETEMP);
	CHECK(ims_store_ping(st) == IMS_ETEMP);
	ims_store_memory_set_down(st, false);
	CHECK(ims_store_ping(st) == IMS_OK);
	ims_store_txn_free(t);
	ims_store_free(st);
}

static void test_exec_all(void)
{
	struct ims_store *st;
	struct ims_store_txn *a = ims_store_txn_new(), *b = ims_store_txn_new(),
	                     *empty = ims_store_txn_new();
	const struct ims_store_txn *all[3] = {a, empty, b};
	char err[256];

	CHECK(ims_store_open_memory(&st) == IMS_OK);
	ims_store_txn_cmd(a, "INCR");
	ims_store_txn_str(a, "ims:{a@example.test}:n");
	ims_store_txn_cmd(b, "INCR");
	ims_store_txn_str(b, "ims:{global}:n");
	CHECK(ims_store_exec_all(st, all, 3, err, sizeof err) == IMS_OK);
	CHECK(strcmp(ims_store_memory_log(st), "MULTI\nINCR ims:{a@example.test}:n\nEXEC\n"
	                                       "MULTI\nINCR ims:{global}:n\nEXEC\n") == 0);
	ims_store_txn_free(a);
	ims_store_txn_free(b);
	ims_store_txn_free(empty);
	ims_store_free(st);
}

static void test_limits(void)
{
	struct ims_store_txn *t = ims_store_txn_new();
	struct ims_store *st;
	char err[256];

	ims_store_open_memory(&st);
	/* an argument before any command breaks the transaction */
	CHECK(ims_store_txn_str(t, "x") == IMS_EINVAL);
	CHECK(ims_store_txn_cmd(t, "PING") == IMS_EINVAL);
	CHECK(ims_store_exec(st, t, err, sizeof err) == IMS_EINVAL);
	ims_store_txn_free(t);

	t = ims_store_txn_new();
	ims_store_txn_cmd(t, "DEL");
	for (int i = 0; i < IMS_STORE_MAX_ARGS; i++)
		ims_store_txn_str(t, "k");
	CHECK(ims_store_exec(st, t, err, sizeof err) == IMS_ELIMIT);
	ims_store_txn_free(t);
	ims_store_free(st);
}

static void test_redis_down(void)
{
	struct ims_conf *c;
	struct ims_store *st;
	struct ims_store_txn *t = ims_store_txn_new();
	char err[256];

	CHECK(ims_conf_defaults(&c) == IMS_OK);
	c->redis_port = 1; /* nothing listens on tcpmux */
	c->redis_timeout_ms = 200;
	CHECK(ims_store_open(c, &st) == IMS_OK);
	ims_store_txn_cmd(t, "PING");
	CHECK(ims_store_exec(st, t, err, sizeof err) == IMS_ETEMP);
	CHECK(err[0] != '\0');
	CHECK(ims_store_ping(st) == IMS_ETEMP);
	ims_store_txn_free(t);
	ims_store_free(st);
	ims_conf_unref(c);
}

static void test_ulid(void)
{
	char a[IMS_ULID_LEN + 1], b[IMS_ULID_LEN + 1];

	ims_ulid_make(a, 1795420800123ull);
	ims_ulid_make(b, 1795420800124ull);
	CHECK(ims_ulid_valid(a) && ims_ulid_valid(b));
	CHECK(strncmp(a, "01M83", 5) == 0); /* the time part, Crockford base32 */
	CHECK(strcmp(a, b) < 0);            /* ids sort by time */
	CHECK(strncmp(a, b, 9) == 0);
	ims_ulid_make(b, 1795420800123ull);
	CHECK(strcmp(a + 10, b + 10) != 0);                   /* 80 random bits */
	CHECK(!ims_ulid_valid("01M83HK684MVN0YXCDTWM7C5S"));  /* 25 characters */
	CHECK(!ims_ulid_valid("01M83HK684MVN0YXCDTWM7C5SI")); /* I is not Crockford */
	CHECK(!ims_ulid_valid("81M83HK684MVN0YXCDTWM7C5SA")); /* over 48 bits */
}

int main(void)
{
	RUN(test_ulid);
	RUN(test_memory_txn);
	RUN(test_exec_all);
	RUN(test_limits);
	RUN(test_redis_down);
	return CHECK_DONE();
}
