# tests of milter/ (see tests/local.mk)
MILTER_TEST_LIBS = lib/libims.a $(IMS_DEP_LIBS)

check_PROGRAMS += tests/unit/test_store tests/unit/test_heuristics
tests_unit_test_store_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_store_LDADD = $(MILTER_TEST_LIBS)
tests_unit_test_heuristics_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_heuristics_LDADD = $(MILTER_TEST_LIBS)
TESTS += tests/unit/test_store tests/unit/test_heuristics
# the quarantine store's pure parts (lib/quarantine.c)
check_PROGRAMS += tests/unit/test_quarantine
tests_unit_test_quarantine_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_quarantine_LDADD = $(MILTER_TEST_LIBS)
TESTS += tests/unit/test_quarantine

# authentication checks (lib/dns, rfc5322, spf, dkim, dmarc); the DNS tests
# answer from in-process zone data (tests/unit/test_dns_local.h)
AUTH_TESTS = tests/unit/test_rfc5322 tests/unit/test_dns tests/unit/test_spf \
	tests/unit/test_dkim tests/unit/test_dmarc
check_PROGRAMS += $(AUTH_TESTS)
tests_unit_test_rfc5322_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rfc5322_LDADD = $(MILTER_TEST_LIBS)
tests_unit_test_dns_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_dns_LDADD = $(MILTER_TEST_LIBS)
tests_unit_test_spf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_spf_LDADD = $(MILTER_TEST_LIBS)
tests_unit_test_dkim_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_dkim_LDADD = $(MILTER_TEST_LIBS)
tests_unit_test_dmarc_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_dmarc_LDADD = $(MILTER_TEST_LIBS)
TESTS += $(AUTH_TESTS)
EXTRA_DIST += tests/unit/test_dns_local.h tests/harness/dns.py tests/data/dkim
check_PROGRAMS += tests/conformance/spf_driver
tests_conformance_spf_driver_CFLAGS = $(TEST_CFLAGS)
tests_conformance_spf_driver_LDADD = $(MILTER_TEST_LIBS)
TESTS += tests/conformance/spf-suite.sh
EXTRA_DIST += tests/conformance/spf-suite.sh tests/conformance/spf-suite.py

SCAN_TEST_LIBS = lib/libimsscan.a classifier/libimsclassifier.a lib/libims.a $(IMS_DEP_LIBS)
check_PROGRAMS += tests/unit/test_scan
tests_unit_test_scan_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_scan_LDADD = $(SCAN_TEST_LIBS)
TESTS += tests/unit/test_scan

# miltertest scripts against a real ims-milter and redis-server
check_PROGRAMS += tests/milter/mkmodel
tests_milter_mkmodel_CFLAGS = $(TEST_CFLAGS)
tests_milter_mkmodel_LDADD = $(SCAN_TEST_LIBS)
TESTS += tests/milter/run-miltertest.py tests/milter/run-daemon.py
EXTRA_DIST += tests/milter/run-miltertest.py tests/milter/common.lua tests/milter/accept.lua \
	tests/milter/tag.lua tests/milter/quarantine.lua tests/milter/reject.lua \
	tests/milter/tempfail.lua tests/milter/malformed.lua tests/harness/milter.py \
	tests/milter/run-daemon.py tests/milter/inflight.lua tests/milter/authres.lua \
	tests/milter/held_tempfail.lua tests/milter/retry.lua

# end to end: real Postfix + ims-milter + redis-server + nsd (root; else skipped)
TESTS += tests/e2e/test_e2e.py
EXTRA_DIST += tests/e2e/test_e2e.py tests/harness/postfix.py
# dropping root: files a reload needs must stay readable (refused at start)
TESTS += tests/milter/test_privdrop.py
EXTRA_DIST += tests/milter/test_privdrop.py
# Sendmail (unpacked from Debian's packages by install-deps.sh --test) end to end
TESTS += tests/e2e/test_sendmail.py
EXTRA_DIST += tests/e2e/test_sendmail.py tests/harness/sendmail.py

# malware and attachments: lib/attachments.c on archives the test writes
# (libarchive), lib/clamd.c against a fake clamd (tests/unit/test_clamd.c)
check_PROGRAMS += tests/unit/test_attachments tests/unit/test_clamd
tests_unit_test_attachments_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/classifier
tests_unit_test_attachments_LDADD = classifier/libimsclassifier.a $(MILTER_TEST_LIBS)
tests_unit_test_clamd_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_clamd_LDADD = $(MILTER_TEST_LIBS)
TESTS += tests/unit/test_attachments tests/unit/test_clamd
# malware end to end: real Postfix + ims-milter + redis-server + a private clamd
TESTS += tests/e2e/test_malware.py
EXTRA_DIST += tests/e2e/test_malware.py tests/harness/clamd.py
# the malware stage inside the scan, with a fake clamd
check_PROGRAMS += tests/unit/test_scan_malware
tests_unit_test_scan_malware_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_scan_malware_LDADD = $(SCAN_TEST_LIBS)
TESTS += tests/unit/test_scan_malware
# one organisational domain (lib/orgdomain.c) in DMARC, heuristics, features
check_PROGRAMS += tests/unit/test_orgdomain
tests_unit_test_orgdomain_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_orgdomain_LDADD = $(SCAN_TEST_LIBS)
TESTS += tests/unit/test_orgdomain

# impersonation and look-alikes (lib/bec.c, lib/correspondents.c)
check_PROGRAMS += tests/unit/test_bec
tests_unit_test_bec_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_bec_LDADD = $(SCAN_TEST_LIBS)
TESTS += tests/unit/test_bec

# lib/store over a real Redis Cluster (and one Redis): routing, MOVED/ASK,
# failover, the slot rule (tests/store/test_cluster.py drives store-driver)
check_PROGRAMS += tests/store/store-driver
tests_store_store_driver_CFLAGS = $(TEST_CFLAGS)
tests_store_store_driver_LDADD = $(MILTER_TEST_LIBS)
TESTS += tests/store/test_cluster.py
EXTRA_DIST += tests/store/test_cluster.py
