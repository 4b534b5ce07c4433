# tests of webapi/ and lib/users (see tests/local.mk)
WEBAPI_TEST_LIBS = $(IMS_WEB_LIBS)

check_PROGRAMS += tests/unit/test_users tests/unit/test_jwt
tests_unit_test_users_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_users_LDADD = $(TEST_LIBS)
tests_unit_test_jwt_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/webapi
tests_unit_test_jwt_LDADD = $(WEBAPI_TEST_LIBS)
TESTS += tests/unit/test_users tests/unit/test_jwt

check_PROGRAMS += tests/unit/test_webapi_parts
tests_unit_test_webapi_parts_CFLAGS = $(TEST_CFLAGS) $(XML_CFLAGS) -I$(top_srcdir)/webapi
tests_unit_test_webapi_parts_LDADD = $(WEBAPI_TEST_LIBS)
TESTS += tests/unit/test_webapi_parts

# the request-head deadline (slowloris) on socket pairs
check_PROGRAMS += tests/unit/test_connguard
tests_unit_test_connguard_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/webapi
tests_unit_test_connguard_LDADD = $(WEBAPI_TEST_LIBS)
TESTS += tests/unit/test_connguard

# deeply nested MIME: the scan's parse and the mail view stay cheap
check_PROGRAMS += tests/unit/test_mime_nesting
tests_unit_test_mime_nesting_CFLAGS = $(TEST_CFLAGS) $(XML_CFLAGS) -I$(top_srcdir)/webapi
tests_unit_test_mime_nesting_LDADD = $(WEBAPI_TEST_LIBS)
TESTS += tests/unit/test_mime_nesting

# integration tests: real redis-server + real ims-webapi (tests/harness/webapi.py)
WEBAPI_PY_TESTS = tests/webapi/test_security.py tests/webapi/test_mail.py \
	tests/webapi/test_admin.py tests/webapi/test_dovecot.py tests/webapi/test_postfix.py \
	tests/webapi/test_limits.py tests/webapi/test_fuzz.py \
	tests/webapi/test_http.py tests/webapi/test_senders.py tests/webapi/test_console.py
TESTS += $(WEBAPI_PY_TESTS)
EXTRA_DIST += $(WEBAPI_PY_TESTS) tests/webapi/fixtures.py tests/harness/webapi.py \
	tests/harness/smtpsink.py tests/harness/dovecot.py

# browser test of the web UI: playwright-core (npm ci in tests/browser) + Debian's chromium
TESTS += tests/browser/test_ui.py
EXTRA_DIST += tests/browser/test_ui.py tests/browser/ui.test.js tests/browser/package.json \
	tests/browser/package-lock.json
# submission over STARTTLS to a real Postfix with a test CA
TESTS += tests/webapi/test_submission_tls.py
EXTRA_DIST += tests/webapi/test_submission_tls.py

# lib/urls.c, lib/htmldoc.c: URL hosts, URLs in text and HTML; the judged
# link is the link the sanitiser renders
check_PROGRAMS += tests/unit/test_urls
tests_unit_test_urls_CFLAGS = $(TEST_CFLAGS) $(XML_CFLAGS) -I$(top_srcdir)/webapi -I$(top_srcdir)/classifier
tests_unit_test_urls_LDADD = $(WEBAPI_TEST_LIBS)
TESTS += tests/unit/test_urls

# browser test of the security console: playwright-core + axe-core (npm ci in
# tests/browser), Debian's chromium, the built web UI (webui/dist)
TESTS += tests/browser/test_console_ui.py
EXTRA_DIST += tests/browser/test_console_ui.py tests/browser/console.test.js
