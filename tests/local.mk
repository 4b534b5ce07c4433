# tests/: unit tests per module, then the integration tests with real servers.
# Each area keeps its tests in its own fragment.
TEST_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS) -I$(top_srcdir)/tests/unit
TEST_LIBS = lib/libims.a $(IMS_DEP_LIBS)

check_PROGRAMS += tests/unit/test_conf
tests_unit_test_conf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_conf_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_conf tests/conf-docs.sh
EXTRA_DIST += tests/unit/check.h tests/conf-docs.sh tests/lib.sh

include tests/fuzz.mk
include tests/classifier.mk
include tests/milter.mk
include tests/webapi.mk

# The whole stack as the quick start runs it (contrib/ims-stack.py).
TESTS += tests/e2e/test_stack.py
EXTRA_DIST += tests/e2e/test_stack.py tests/harness/__init__.py tests/harness/common.py \
	tests/harness/redis.py

# ims train --feedback against a real redis-server
TESTS += tests/cli/test_train_feedback.py tests/cli/test_migrate.py
EXTRA_DIST += tests/cli/test_train_feedback.py tests/cli/test_migrate.py
