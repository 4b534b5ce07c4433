# Fuzz targets.  In `make check` each target replays its seed corpus under
# ASan/UBSan (tests/fuzz/replay.c supplies main); `./configure
# --enable-fuzzers CC=clang` links libFuzzer instead: tests/fuzz/run.sh.
FUZZ_TARGETS = tests/fuzz/fuzz-conf tests/fuzz/fuzz-rfc5322 tests/fuzz/fuzz-mime tests/fuzz/fuzz-model \
	tests/fuzz/fuzz-release
check_PROGRAMS += $(FUZZ_TARGETS)
if ENABLE_FUZZERS
FUZZ_MAIN =
FUZZ_LINK = -fsanitize=fuzzer
else
FUZZ_MAIN = tests/fuzz/replay.c
FUZZ_LINK =
endif
FUZZ_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS)
FUZZ_LIBS = classifier/libimsclassifier.a lib/libims.a $(IMS_DEP_LIBS)

tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c $(FUZZ_MAIN)
tests_fuzz_fuzz_conf_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_conf_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_rfc5322_SOURCES = tests/fuzz/fuzz_rfc5322.c $(FUZZ_MAIN)
tests_fuzz_fuzz_rfc5322_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_rfc5322_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_rfc5322_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_mime_SOURCES = tests/fuzz/fuzz_mime.c $(FUZZ_MAIN)
tests_fuzz_fuzz_mime_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_mime_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_mime_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_model_SOURCES = tests/fuzz/fuzz_model.c $(FUZZ_MAIN)
tests_fuzz_fuzz_model_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_model_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_model_LDADD = $(FUZZ_LIBS)
# the copy a quarantine release delivers (lib/quarantine.c)
tests_fuzz_fuzz_release_SOURCES = tests/fuzz/fuzz_release.c $(FUZZ_MAIN)
tests_fuzz_fuzz_release_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_release_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_release_LDADD = $(FUZZ_LIBS)

if !ENABLE_FUZZERS
TESTS += tests/fuzz/replay.sh
endif
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/run.sh tests/fuzz/seeds
