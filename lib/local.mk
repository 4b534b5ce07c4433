# lib/: code the daemons and the ims command share.
noinst_LIBRARIES += lib/libims.a
lib_libims_a_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS)
lib_libims_a_SOURCES = \
	lib/status.c lib/status.h \
	lib/log.c lib/log.h \
	lib/symbols.c lib/symbols.h \
	lib/conf.c lib/conf.h lib/netaddr.c lib/netaddr.h lib/notify.c lib/notify.h \
	lib/dnsbl.c lib/dnsbl.h lib/orgdomain.c lib/orgdomain.h lib/intel.c lib/intel.h \
	lib/urls.c lib/urls.h lib/htmldoc.c lib/htmldoc.h lib/correspondents.c lib/correspondents.h
# the checkpassword input ims-checkpassword reads (Dovecot's passdb/userdb)
lib_libims_a_SOURCES += lib/checkpw.c lib/checkpw.h
# click tokens (ims-milter signs, ims-webapi verifies)
lib_libims_a_SOURCES += lib/linktoken.c lib/linktoken.h
# malware and attachments: the clamd client, types by content, archive members
lib_libims_a_SOURCES += lib/clamd.c lib/clamd.h lib/attachments.c lib/attachments.h
# the scan pipeline and the store (milter owner)
lib_libims_a_SOURCES += lib/ulid.c lib/ulid.h \
	lib/store.c lib/store.h lib/store_backend.h lib/store_redis.c lib/store_memory.c \
	lib/store_conn.c lib/store_cluster.c lib/keyslot.c lib/keyslot.h \
	lib/heuristics.c lib/heuristics.h
# the user registry (webapi and `ims user`)
lib_libims_a_SOURCES += lib/users.c lib/users.h
lib_libims_a_SOURCES += lib/frametickets.c lib/frametickets.h
# the admins' dashboard counters (scans and clicks write, GET /admin/dashboard reads)
lib_libims_a_SOURCES += lib/dashboard.c lib/dashboard.h
# every Redis key name and hash tag (docs/redis-schema.md)
lib_libims_a_SOURCES += lib/rkeys.h
# domain modules over the store (what milter/, webapi/ and cli/ call):
# sessions, rate limits, scan log reads and pages, counters, a store check
lib_libims_a_SOURCES += lib/sessions.c lib/sessions.h lib/ratelimit.c lib/ratelimit.h \
	lib/scanlog.c lib/scanlog.h lib/tpage.c lib/tpage.h lib/stats.c lib/stats.h \
	lib/storecheck.c lib/storecheck.h lib/migrate.c lib/migrate.h
# secret files (JWT key, submission password, DKIM keys): 0600/0640 only
lib_libims_a_SOURCES += lib/secretfile.c lib/secretfile.h
lib_libims_a_SOURCES += lib/senders.c lib/senders.h
# users' spam/ham feedback (`ims feedback learn`, `ims train --feedback`, `ims retrain`)
lib_libims_a_SOURCES += lib/feedback.c lib/feedback.h lib/events.c lib/events.h
# events for a SIEM: JSON lines, CEF, RFC 5424 syslog (`ims events`)
lib_libims_a_SOURCES += lib/siem.c lib/siem.h
# the quarantine store (milter holds, webapi releases, `ims quarantine`)
lib_libims_a_SOURCES += lib/quarantine.c lib/quarantine.h lib/lmtp.c lib/lmtp.h
# authentication checks: DNS layer, RFC 5322 splitter, SPF, DKIM, DMARC
lib_libims_a_SOURCES += lib/dns.c lib/dns.h lib/rfc5322.c lib/rfc5322.h lib/spf.c lib/spf.h \
	lib/hdrvalue.c lib/hdrvalue.h \
	lib/dkim.c lib/dkim.h lib/dmarc.c lib/dmarc.h
# the scan pipeline: needs classifier/libimsclassifier.a; link order
# lib/libimsscan.a classifier/libimsclassifier.a lib/libims.a
noinst_LIBRARIES += lib/libimsscan.a
lib_libimsscan_a_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS) $(XML_CFLAGS)
lib_libimsscan_a_SOURCES = lib/engine.c lib/engine.h lib/auth.c lib/auth.h \
	lib/scan.c lib/scan.h lib/scan_internal.h lib/scan_output.c lib/scan_store.c \
	lib/scan_malware.c lib/reputation.c lib/reputation.h lib/msglinks.c lib/msglinks.h \
	lib/bec.c lib/bec.h lib/scan_bec.c
# links at click time: rewriting at delivery (libxml2: link in $(XML_LIBS))
lib_libimsscan_a_SOURCES += lib/linkrewrite.c lib/linkrewrite.h lib/links.c lib/links.h
# links at click time: the check and record of a click (ims-webapi)
lib_libimsscan_a_SOURCES += lib/clicks.c lib/clicks.h
# the intel lists' benchmark (docs/benchmarks.md)
EXTRA_DIST += bench/intel.sh bench/intel.c
