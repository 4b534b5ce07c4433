# tests of classifier/ and the ims command (see tests/local.mk)
CLASSIFIER_TEST_LIBS = classifier/libimsclassifier.a $(TEST_LIBS)

check_PROGRAMS += tests/unit/test_classifier_mime tests/unit/test_classifier_model
tests_unit_test_classifier_mime_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_classifier_mime_LDADD = $(CLASSIFIER_TEST_LIBS)
tests_unit_test_classifier_model_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_classifier_model_LDADD = $(CLASSIFIER_TEST_LIBS)
TESTS += tests/unit/test_classifier_mime tests/unit/test_classifier_model tests/classifier-cli.sh \
	tests/classifier-obfuscation.sh
EXTRA_DIST += tests/classifier-cli.sh tests/classifier-obfuscation.sh tests/data/mime
