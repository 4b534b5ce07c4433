# Links at click time ([links]): click tokens, the MIME rewriter, /click.
check_PROGRAMS += tests/unit/test_links
tests_unit_test_links_CFLAGS = $(TEST_CFLAGS) $(XML_CFLAGS)
tests_unit_test_links_LDADD = lib/libimsscan.a classifier/libimsclassifier.a lib/libims.a \
	$(IMS_DEP_LIBS) $(XML_LIBS)
TESTS += tests/unit/test_links

# Postfix + ims-milter + nsd + redis-server + ims-webapi: rewritten links, /click
TESTS += tests/e2e/test_links.py
EXTRA_DIST += tests/e2e/test_links.py
