# Redis Cluster: the harness's 3-master + 3-replica cluster (tests/harness/rediscluster.py)
# and the integration tests that run on it as well (see tests/local.mk)
TESTS += tests/cluster/test_rediscluster.py
EXTRA_DIST += tests/cluster/test_rediscluster.py tests/harness/rediscluster.py
