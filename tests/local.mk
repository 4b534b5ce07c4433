# tests/: unit tests per module, then the integration tests with real servers.
# Each area keeps its tests in its own fragment.
TEST_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS) -I$(top_srcdir)/tests/unit
TEST_LIBS = lib/libims.a $(IMS_DEP_LIBS)

check_PROGRAMS += tests/unit/test_conf
tests_unit_test_conf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_conf_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/unit/test_log
tests_unit_test_log_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_log_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_log
TESTS += tests/unit/test_conf tests/conf-docs.sh tests/config-check.sh tests/systemd-units.sh
EXTRA_DIST += tests/unit/check.h tests/conf-docs.sh tests/lib.sh tests/config-check.sh tests/systemd-units.sh

# clang-format and banned functions over every C source (tests/style.sh)
TESTS += tests/style.sh
EXTRA_DIST += tests/style.sh .clang-format
# Redis keys spelled only in lib/rkeys.h; no hiredis above the layer (tests/layering.sh)
TESTS += tests/layering.sh
EXTRA_DIST += tests/layering.sh

include tests/fuzz.mk
include tests/classifier.mk
include tests/milter.mk
include tests/webapi.mk
include tests/links.mk
include tests/cluster.mk

# The quarantine with Postfix, ims-milter, Dovecot (LMTP, IMAP, Sieve), Redis, ims-webapi.
TESTS += tests/e2e/test_quarantine.py
EXTRA_DIST += tests/e2e/test_quarantine.py

# The whole stack as the quick start runs it (contrib/ims-stack.py).
TESTS += tests/e2e/test_stack.py
EXTRA_DIST += tests/e2e/test_stack.py tests/harness/__init__.py tests/harness/common.py \
	tests/harness/redis.py

# ims train --feedback against a real redis-server
TESTS += tests/cli/test_train_feedback.py tests/cli/test_migrate.py tests/cli/test_events.py
EXTRA_DIST += tests/cli/test_train_feedback.py tests/cli/test_migrate.py tests/cli/test_events.py
TESTS += tests/cli/test_redis_auth.py
EXTRA_DIST += tests/cli/test_redis_auth.py

# IMAPSieve feedback: a private Dovecot + redis-server, moves over imaplib
TESTS += tests/cli/test_feedback_imap.py tests/cli/test_rescan.py
EXTRA_DIST += tests/cli/test_rescan.py
EXTRA_DIST += tests/cli/test_feedback_imap.py tests/harness/dovecot.py

# ims retrain: feedback in a real redis-server, the model a running ims-webapi uses
TESTS += tests/cli/test_retrain.py
EXTRA_DIST += tests/cli/test_retrain.py

# lib/feedback.c: message keys and bounds (no Redis)
check_PROGRAMS += tests/unit/test_feedback
tests_unit_test_feedback_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_feedback_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_feedback

# lib/dnsbl.c, lib/intel.c, lib/orgdomain.c: rules, query names, limits, list files, reload
check_PROGRAMS += tests/unit/test_reputation
tests_unit_test_reputation_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_reputation_LDADD = $(SCAN_TEST_LIBS)
TESTS += tests/unit/test_reputation

# DNS lists (nsd zones) and intel lists through real Postfix + ims-milter + Redis
TESTS += tests/e2e/test_reputation.py
EXTRA_DIST += tests/e2e/test_reputation.py
# impersonation and look-alikes ([bec]) through real Postfix + ims-milter + Redis
TESTS += tests/e2e/test_bec.py
EXTRA_DIST += tests/e2e/test_bec.py
# a retried message is recorded once (issue 10): real Postfix + ims-milter + Redis
TESTS += tests/e2e/test_idempotency.py
EXTRA_DIST += tests/e2e/test_idempotency.py
# [redis] wait_replicas (issue 10): 451 while the replica is stopped, one scan after
TESTS += tests/e2e/test_replica_wait.py
EXTRA_DIST += tests/e2e/test_replica_wait.py
# failover under load on a 3+3 Redis Cluster (issue 10): two milters, four Postfix
TESTS += tests/e2e/test_failover.py
EXTRA_DIST += tests/e2e/test_failover.py
