# Fuzz targets, one per entry point that sees hostile input (docs/reliability.md).
# In `make check` each target replays its seeds and reproducers under
# ASan/UBSan (tests/fuzz/replay.c supplies main; tests/fuzz/replay.sh);
# `./configure --enable-fuzzers CC=clang` links libFuzzer instead:
# tests/fuzz/run.sh fuzzes each for a while.
FUZZ_TARGETS = tests/fuzz/fuzz-conf tests/fuzz/fuzz-rfc5322 tests/fuzz/fuzz-mime \
	tests/fuzz/fuzz-model tests/fuzz/fuzz-scan tests/fuzz/fuzz-auth tests/fuzz/fuzz-html \
	tests/fuzz/fuzz-features tests/fuzz/fuzz-sanitize tests/fuzz/fuzz-mailview \
	tests/fuzz/fuzz-compose tests/fuzz/fuzz-body tests/fuzz/fuzz-token tests/fuzz/fuzz-users \
	tests/fuzz/fuzz-release
check_PROGRAMS += $(FUZZ_TARGETS)
if ENABLE_FUZZERS
FUZZ_MAIN =
FUZZ_LINK = -fsanitize=fuzzer
else
FUZZ_MAIN = tests/fuzz/replay.c
FUZZ_LINK =
endif
FUZZ_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS) $(XML_CFLAGS) -I$(top_srcdir)/webapi \
	-DFUZZ_SRCDIR='"$(abs_top_srcdir)"'
FUZZ_LIBS = classifier/libimsclassifier.a lib/libims.a $(IMS_DEP_LIBS)
FUZZ_SCAN_LIBS = lib/libimsscan.a $(FUZZ_LIBS)
FUZZ_WEB_LIBS = $(IMS_WEB_LIBS)

tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_conf_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_conf_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_rfc5322_SOURCES = tests/fuzz/fuzz_rfc5322.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_rfc5322_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_rfc5322_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_rfc5322_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_mime_SOURCES = tests/fuzz/fuzz_mime.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_mime_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_mime_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_mime_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_model_SOURCES = tests/fuzz/fuzz_model.c $(FUZZ_MAIN)
tests_fuzz_fuzz_model_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_model_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_model_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_scan_SOURCES = tests/fuzz/fuzz_scan.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_scan_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_scan_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_scan_LDADD = $(FUZZ_SCAN_LIBS)
tests_fuzz_fuzz_auth_SOURCES = tests/fuzz/fuzz_auth.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_auth_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_auth_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_auth_LDADD = $(FUZZ_SCAN_LIBS)
tests_fuzz_fuzz_html_SOURCES = tests/fuzz/fuzz_html.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_html_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_html_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_html_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_features_SOURCES = tests/fuzz/fuzz_features.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_features_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_features_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_features_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_sanitize_SOURCES = tests/fuzz/fuzz_sanitize.c tests/fuzz/fuzz_common.h tests/fuzz/fuzz_html_check.h $(FUZZ_MAIN)
tests_fuzz_fuzz_sanitize_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_sanitize_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_sanitize_LDADD = $(FUZZ_WEB_LIBS)
tests_fuzz_fuzz_mailview_SOURCES = tests/fuzz/fuzz_mailview.c tests/fuzz/fuzz_common.h tests/fuzz/fuzz_html_check.h $(FUZZ_MAIN)
tests_fuzz_fuzz_mailview_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_mailview_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_mailview_LDADD = $(FUZZ_WEB_LIBS)
tests_fuzz_fuzz_compose_SOURCES = tests/fuzz/fuzz_compose.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_compose_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_compose_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_compose_LDADD = $(FUZZ_WEB_LIBS)
tests_fuzz_fuzz_body_SOURCES = tests/fuzz/fuzz_body.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_body_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_body_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_body_LDADD = $(FUZZ_WEB_LIBS)
tests_fuzz_fuzz_token_SOURCES = tests/fuzz/fuzz_token.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_token_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_token_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_token_LDADD = $(FUZZ_WEB_LIBS)
tests_fuzz_fuzz_users_SOURCES = tests/fuzz/fuzz_users.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_users_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_users_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_users_LDADD = $(FUZZ_LIBS)
# the copy a quarantine release delivers (lib/quarantine.c)
tests_fuzz_fuzz_release_SOURCES = tests/fuzz/fuzz_release.c $(FUZZ_MAIN)
tests_fuzz_fuzz_release_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_release_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_release_LDADD = $(FUZZ_LIBS)

if !ENABLE_FUZZERS
TESTS += tests/fuzz/replay.sh
endif
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/run.sh tests/fuzz/seeds

# the checkpassword input from Dovecot (lib/checkpw.c, ims-checkpassword)
FUZZ_TARGETS += tests/fuzz/fuzz-checkpw
tests_fuzz_fuzz_checkpw_SOURCES = tests/fuzz/fuzz_checkpw.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_checkpw_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_checkpw_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_checkpw_LDADD = $(FUZZ_LIBS)

# what `ims feedback learn` makes of a moved message (lib/feedback.c)
FUZZ_TARGETS += tests/fuzz/fuzz-feedback
tests_fuzz_fuzz_feedback_SOURCES = tests/fuzz/fuzz_feedback.c $(FUZZ_MAIN)
tests_fuzz_fuzz_feedback_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_feedback_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_feedback_LDADD = $(FUZZ_LIBS)

# the reputation checks' parsers: intel list lines, DNS list rules, sender entries
FUZZ_TARGETS += tests/fuzz/fuzz-reputation
tests_fuzz_fuzz_reputation_SOURCES = tests/fuzz/fuzz_reputation.c $(FUZZ_MAIN)
tests_fuzz_fuzz_reputation_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_reputation_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_reputation_LDADD = $(FUZZ_LIBS)

# the attachment walker: libmagic types, libarchive members (lib/attachments.c)
FUZZ_TARGETS += tests/fuzz/fuzz-attach
tests_fuzz_fuzz_attach_SOURCES = tests/fuzz/fuzz_attach.c $(FUZZ_MAIN)
tests_fuzz_fuzz_attach_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_attach_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_attach_LDADD = $(FUZZ_LIBS)

# URL hosts, URLs in text and HTML, look-alike skeletons (lib/urls.c,
# lib/htmldoc.c, lib/bec.c)
FUZZ_TARGETS += tests/fuzz/fuzz-urls
tests_fuzz_fuzz_urls_SOURCES = tests/fuzz/fuzz_urls.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_urls_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_urls_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_urls_LDADD = $(FUZZ_SCAN_LIBS)

# events for a SIEM (lib/siem.c: JSON, CEF, syslog frame) and log quoting
FUZZ_TARGETS += tests/fuzz/fuzz-siem
tests_fuzz_fuzz_siem_SOURCES = tests/fuzz/fuzz_siem.c $(FUZZ_MAIN)
tests_fuzz_fuzz_siem_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_siem_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_siem_LDADD = $(FUZZ_LIBS)

# a folder page over IMAP (webapi/imap.c, libetpan's parser) from any FETCH
# answer: the headers in it are the senders'
FUZZ_TARGETS += tests/fuzz/fuzz-imap
tests_fuzz_fuzz_imap_SOURCES = tests/fuzz/fuzz_imap.c tests/fuzz/fuzz_common.h $(FUZZ_MAIN)
tests_fuzz_fuzz_imap_CFLAGS = $(FUZZ_CFLAGS) -pthread
tests_fuzz_fuzz_imap_LDFLAGS = $(FUZZ_LINK) -pthread
tests_fuzz_fuzz_imap_LDADD = $(FUZZ_WEB_LIBS)
