/* The store's transaction builder and its two backends (memory recorder;
 * Redis unreachable gives IMS_ETEMP). */
#include "config.h"

#include <string.h>

#include <hiredis/hiredis.h>

#include "check.h"
#include "conf.h"
#include "keyslot.h"
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

/* [redis] wait_replicas: WAIT after the blocks, fewer replicas -> 451 */
static void test_wait(void)
{
	struct ims_store *st;
	struct ims_store_txn *a = ims_store_txn_new(), *b = ims_store_txn_new();
	const struct ims_store_txn *all[2] = {a, b};
	char err[256];

	CHECK(ims_store_open_memory(&st) == IMS_OK);
	ims_store_txn_cmd(a, "INCR");
	ims_store_txn_str(a, "ims:{a@example.test}:n");
	ims_store_txn_cmd(b, "INCR");
	ims_store_txn_str(b, "ims:{global}:n");
	ims_store_set_wait(st, 1, 100);
	CHECK(ims_store_exec_all(st, all, 2, err, sizeof err) == IMS_OK);
	CHECK(strcmp(ims_store_memory_log(st),
	             "MULTI\nINCR ims:{a@example.test}:n\nEXEC\n"
	             "MULTI\nINCR ims:{global}:n\nEXEC\nWAIT 1 100\n") == 0);
	ims_store_memory_set_replicas(st, 0);
	CHECK(ims_store_exec(st, b, err, sizeof err) == IMS_ETEMP);
	CHECK_STR_CONTAINS(err, "0 of 1 replicas acknowledged the write within 100 ms");
	ims_store_set_wait(st, 0, 100); /* the default: no WAIT */
	CHECK(ims_store_exec(st, b, err, sizeof err) == IMS_OK);
	CHECK(strcmp(strstr(ims_store_memory_log(st), "WAIT 1 100\nMULTI"),
	             "WAIT 1 100\nMULTI\nINCR ims:{global}:n\nEXEC\nWAIT 1 100\n"
	             "MULTI\nINCR ims:{global}:n\nEXEC\n") == 0);
	ims_store_txn_free(a);
	ims_store_txn_free(b);
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

#define KS(s) ims_keyslot(s, sizeof s - 1)

/* The vectors of the Redis Cluster specification ("Keys distribution
 * model", "Hash tags"); the slots of foo and bar are CLUSTER KEYSLOT's. */
static void test_keyslot(void)
{
	CHECK(ims_crc16("123456789", 9) == 0x31C3);
	CHECK(KS("123456789") == (0x31C3 & 16383));
	CHECK(KS("foo") == 12182);
	CHECK(KS("bar") == 5061);
	CHECK(KS("{user1000}.following") == KS("{user1000}.followers"));
	CHECK(KS("{user1000}.following") == KS("user1000"));
	CHECK(KS("foo{}{bar}") == (ims_crc16("foo{}{bar}", 10) & 16383)); /* empty tag: whole key */
	CHECK(KS("foo{{bar}}zap") == KS("{bar"));            /* the first { to the first } */
	CHECK(KS("foo{bar}{zap}") == KS("bar"));             /* the first tag only */
	CHECK(KS("{bar") == (ims_crc16("{bar", 4) & 16383)); /* no }: whole key */
	CHECK(KS("ims:{a@example.test}:quarantine") == KS("ims:{a@example.test}:user"));
	CHECK(KS("ims:{global}:scans") == KS("global"));
	CHECK(ims_keyslot("a\0{x}", 5) == KS("x")); /* binary keys */
	CHECK(ims_keyslot("", 0) == 0);
}

#define CMDSLOT(...)                                                                               \
	ims_keyslot_cmd((int)(sizeof(const char *[]){__VA_ARGS__} / sizeof(const char *)),         \
	                (const char *const[]){__VA_ARGS__}, NULL)

static void test_cmd_slot(void)
{
	int g = KS("global"), a = KS("a@x");

	CHECK(CMDSLOT("PING") == IMS_KEYSLOT_NONE);
	CHECK(CMDSLOT("multi") == IMS_KEYSLOT_NONE);
	CHECK(CMDSLOT("SCAN", "0", "MATCH", "ims:*") == IMS_KEYSLOT_NONE);
	CHECK(CMDSLOT("GET", "ims:{global}:x") == g);
	CHECK(CMDSLOT("hset", "ims:{a@x}:user", "role", "user") == a);
	CHECK(CMDSLOT("DEL", "ims:{global}:a", "ims:{global}:b") == g);
	CHECK(CMDSLOT("DEL", "ims:{global}:a", "ims:{a@x}:b") == IMS_KEYSLOT_CROSS);
	CHECK(CMDSLOT("MSET", "ims:{global}:a", "ims:{a@x}:v", "ims:{global}:b", "v") == g);
	CHECK(CMDSLOT("EVAL", "return 1", "0") == IMS_KEYSLOT_NONE);
	CHECK(CMDSLOT("EVAL", "s", "2", "ims:{a@x}:k", "ims:{a@x}:l", "ims:{global}:arg") == a);
	CHECK(CMDSLOT("EVALSHA", "f00", "2", "ims:{a@x}:k", "ims:{global}:l") == IMS_KEYSLOT_CROSS);
	CHECK(CMDSLOT("FCALL", "f", "1", "ims:{global}:k", "ims:{a@x}:arg") == g);
	CHECK(CMDSLOT("EVAL", "s", "3", "k") == IMS_KEYSLOT_NONE); /* Redis refuses it */
	CHECK(CMDSLOT("XREAD", "COUNT", "5", "STREAMS", "ims:{global}:events", "0-0") == g);
	CHECK(CMDSLOT("XREADGROUP", "GROUP", "g", "c", "STREAMS", "ims:{global}:e", "ims:{a@x}:e",
	              ">", ">") == IMS_KEYSLOT_CROSS);
	CHECK(CMDSLOT("BLPOP", "ims:{global}:q", "5") == g);
	CHECK(CMDSLOT("ZUNIONSTORE", "ims:{a@x}:d", "1", "ims:{global}:s") == IMS_KEYSLOT_CROSS);
	CHECK(CMDSLOT("RENAME", "ims:{a@x}:d", "ims:{a@x}:e") == a);
	CHECK(CMDSLOT("OBJECT", "ENCODING", "ims:{global}:x") == g);
	CHECK(CMDSLOT("EVALSHA_RO", "f", "1", "ims:{global}:k") == g);
	CHECK(CMDSLOT("EVAL_RO", "f", "1", "ims:{global}:k") == g);
	CHECK(CMDSLOT("SOMEFUTURECMD", "ims:{global}:k") == g); /* default: argv[1] */
}

/* A transaction whose keys are in two slots is refused before anything is
 * sent, by every backend (the memory one here, as a cluster would). */
static void test_cross_slot(void)
{
	struct ims_store *st;
	struct ims_store_txn *t = ims_store_txn_new();
	const struct ims_store_txn *one[1] = {t};
	struct redisReply *rs[2];
	char err[256];
	int slot;

	CHECK(ims_store_open_memory(&st) == IMS_OK);
	ims_store_txn_cmd(t, "INCR");
	ims_store_txn_str(t, "ims:{a@example.test}:n");
	ims_store_txn_cmd(t, "INCR");
	ims_store_txn_str(t, "ims:{global}:n");
	CHECK(ims_store_txn_slot(t, &slot, err, sizeof err) == IMS_EINVAL);
	CHECK(ims_store_exec(st, t, err, sizeof err) == IMS_EINVAL);
	CHECK_STR_CONTAINS(err, "two hash slots");
	CHECK_STR_CONTAINS(err, "ims:{global}:n");
	CHECK(ims_store_exec_all(st, one, 1, err, sizeof err) == IMS_EINVAL);
	CHECK(ims_store_run(st, t, IMS_STORE_ATOMIC, rs, err, sizeof err) == IMS_EINVAL);
	CHECK(rs[0] == NULL && rs[1] == NULL);
	CHECK(strcmp(ims_store_memory_log(st), "") == 0); /* nothing sent */
	/* a plain pipeline may span slots (a cluster sends each to its node) */
	CHECK(ims_store_run(st, t, 0, rs, err, sizeof err) == IMS_OK);
	CHECK(rs[0] && rs[0]->type == REDIS_REPLY_NIL && rs[1]);
	ims_store_replies_free(rs, 2);
	/* one command naming keys in two slots */
	{
		const char *argv[] = {"DEL", "ims:{global}:n", "ims:{a@example.test}:n"};
		struct redisReply *r = (void *)1;
		CHECK(ims_store_cmdv(st, &r, 3, argv, NULL, err, sizeof err) == IMS_EINVAL);
		CHECK(r == NULL);
		CHECK_STR_CONTAINS(err, "several hash slots");
	}
	CHECK(strcmp(ims_store_memory_log(st),
	             "INCR ims:{a@example.test}:n\nINCR ims:{global}:n\n") == 0);
	ims_store_txn_free(t);
	ims_store_free(st);
}

static void test_cmdv_memory(void)
{
	struct ims_store *st;
	struct ims_store_txn *t = ims_store_txn_new();
	struct redisReply *r = NULL, *rs[2];
	const char *get[] = {"GET", "ims:{global}:k"};
	char err[256];

	CHECK(ims_store_open_memory(&st) == IMS_OK);
	CHECK(ims_store_masters(st) == 1);
	ims_store_txn_cmd(t, "SET");
	ims_store_txn_str(t, "ims:{global}:k");
	ims_store_txn_str(t, "v1");
	ims_store_txn_cmd(t, "GET");
	ims_store_txn_str(t, "ims:{global}:k");
	CHECK(ims_store_run(st, t, IMS_STORE_ATOMIC, rs, err, sizeof err) == IMS_OK);
	CHECK(rs[1] && rs[1]->type == REDIS_REPLY_STRING && strcmp(rs[1]->str, "v1") == 0);
	ims_store_replies_free(rs, 2);
	CHECK(ims_store_cmdv(st, &r, 2, get, NULL, err, sizeof err) == IMS_OK);
	CHECK(r && r->type == REDIS_REPLY_STRING && r->len == 2);
	ims_store_reply_free(r);
	CHECK(ims_store_cmdv_at(st, 0, &r, 1, (const char *[]){"DBSIZE"}, NULL, err, sizeof err) ==
	      IMS_OK);
	ims_store_reply_free(r);
	CHECK(ims_store_cmdv_at(st, 1, &r, 1, (const char *[]){"DBSIZE"}, NULL, err, sizeof err) ==
	      IMS_EINVAL);
	ims_store_memory_set_down(st, true);
	CHECK(ims_store_cmdv(st, &r, 2, get, NULL, err, sizeof err) == IMS_ETEMP);
	CHECK(r == NULL);
	CHECK(ims_store_run(st, t, 0, rs, err, sizeof err) == IMS_ETEMP);
	CHECK(rs[0] == NULL && rs[1] == NULL);
	ims_store_txn_free(t);
	ims_store_free(st);
}

/* One mapping of Redis error replies to statuses. */
static void test_error_status(void)
{
	static const char *const temp[] = {
	    "LOADING Redis is loading the dataset in memory",
	    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN "
	    "NOSAVE.",
	    "TRYAGAIN Multiple keys request during rehashing of slot",
	    "CLUSTERDOWN The cluster is down",
	    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
	    "READONLY You can't write against a read only replica.",
	    "OOM command not allowed when used memory > 'maxmemory'.",
	    "MISCONF Redis is configured to save RDB snapshots",
	    "EXECABORT Transaction discarded because of previous errors.",
	    "MOVED 3999 127.0.0.1:6381",
	    "ASK 3999 127.0.0.1:6381",
	};
	for (size_t i = 0; i < sizeof temp / sizeof temp[0]; i++)
		CHECK(ims_store_error_status(temp[i]) == IMS_ETEMP);
	CHECK(ims_store_error_status(NULL) == IMS_ETEMP);
	CHECK(ims_store_error_status("NOAUTH Authentication required.") == IMS_EPERM);
	CHECK(ims_store_error_status(
	          "WRONGPASS invalid username-password pair or user is disabled.") == IMS_EPERM);
	CHECK(ims_store_error_status(
	          "NOPERM this user has no permissions to run the 'get' command") == IMS_EPERM);
	CHECK(ims_store_error_status("ERR wrong number of arguments for 'get' command") ==
	      IMS_EINVAL);
	CHECK(ims_store_error_status("WRONGTYPE Operation against a key holding the wrong kind of "
	                             "value") == IMS_EINVAL);
	CHECK(ims_store_error_status("BUSYGROUP Consumer Group name already exists") == IMS_EINVAL);
	CHECK(ims_store_error_status("CROSSSLOT Keys in request don't hash to the same slot") ==
	      IMS_EINVAL);
	CHECK(ims_store_error_status("OOMPH") == IMS_EINVAL);
}

int main(void)
{
	RUN(test_ulid);
	RUN(test_memory_txn);
	RUN(test_exec_all);
	RUN(test_wait);
	RUN(test_limits);
	RUN(test_redis_down);
	RUN(test_keyslot);
	RUN(test_cmd_slot);
	RUN(test_cross_slot);
	RUN(test_cmdv_memory);
	RUN(test_error_status);
	return CHECK_DONE();
}
