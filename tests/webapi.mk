# tests of webapi/ and lib/users (see tests/local.mk)
WEBAPI_TEST_LIBS = webapi/libimsweb.a $(TEST_LIBS) $(MHD_LIBS) $(JWT_LIBS) $(CURL_LIBS)

check_PROGRAMS += tests/unit/test_users tests/unit/test_jwt
tests_unit_test_users_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_users_LDADD = $(TEST_LIBS)
tests_unit_test_jwt_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/webapi
tests_unit_test_jwt_LDADD = $(WEBAPI_TEST_LIBS)
TESTS += tests/unit/test_users tests/unit/test_jwt
