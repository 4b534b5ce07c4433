# Links at click time ([links]): click tokens, the MIME rewriter, /click.
check_PROGRAMS += tests/unit/test_links
tests_unit_test_links_CFLAGS = $(TEST_CFLAGS) $(XML_CFLAGS)
tests_unit_test_links_LDADD = lib/libimsscan.a classifier/libimsclassifier.a lib/libims.a \
	$(IMS_DEP_LIBS) $(XML_LIBS)
TESTS += tests/unit/test_links

# Postfix + ims-milter + nsd + redis-server + ims-webapi: rewritten links, /click
TESTS += tests/e2e/test_links.py
EXTRA_DIST += tests/e2e/test_links.py

# fuzz targets: the click token parser (GET /click) and the rewriter
FUZZ_TARGETS += tests/fuzz/fuzz-clicktoken tests/fuzz/fuzz-linkrewrite
tests_fuzz_fuzz_clicktoken_SOURCES = tests/fuzz/fuzz_clicktoken.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_clicktoken_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_clicktoken_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_clicktoken_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_linkrewrite_SOURCES = tests/fuzz/fuzz_linkrewrite.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_linkrewrite_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_linkrewrite_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_linkrewrite_LDADD = $(FUZZ_SCAN_LIBS) $(XML_LIBS)
EXTRA_DIST += bench/click.sh bench/click.py
