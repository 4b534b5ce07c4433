# webapi: ims-webapi, the HTTP API and the web UI's server (see ../Makefile.am).
# Everything but main() is in a static library, so unit tests link it too.
noinst_LIBRARIES += webapi/libimsweb.a
webapi_libimsweb_a_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS) $(XML_CFLAGS) $(ETPAN_CFLAGS)
webapi_libimsweb_a_SOURCES = \
	webapi/app.h \
	webapi/auth_token.c webapi/auth_token.h \
	webapi/authcache.c webapi/authcache.h \
	webapi/compose.c webapi/compose.h \
	webapi/connguard.c webapi/connguard.h \
	webapi/dovecot.c webapi/dovecot.h \
	webapi/html_sanitize.c webapi/html_sanitize.h \
	webapi/imap.c webapi/imap.h \
	webapi/jsonw.c webapi/jsonw.h \
	webapi/mailbox.c webapi/mailbox.h \
	webapi/mailview.c webapi/mailview.h \
	webapi/metrics.c webapi/metrics.h \
	webapi/page.c webapi/page.h \
	webapi/reqid.c webapi/reqid.h \
	webapi/request.c webapi/request.h \
	webapi/router.c webapi/router.h webapi/routes.h \
	webapi/routes_admin.c webapi/routes_users.c webapi/routes_auth.c webapi/routes_mail.c \
	webapi/routes_misc.c webapi/routes_scan.c webapi/routes_send.c webapi/routes_click.c \
	webapi/routes_quarantine.c webapi/routes_senders.c \
	webapi/server.c webapi/server.h \
	webapi/session.c webapi/session.h \
	webapi/smtp.c webapi/smtp.h

IMS_WEB_LIBS = webapi/libimsweb.a lib/libimsscan.a classifier/libimsclassifier.a lib/libims.a \
	$(IMS_DEP_LIBS) $(MHD_LIBS) $(JWT_LIBS) $(CURL_LIBS) $(XML_LIBS) $(ETPAN_LIBS)

sbin_PROGRAMS += webapi/ims-webapi
webapi_ims_webapi_SOURCES = webapi/main.c
webapi_ims_webapi_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS) $(XML_CFLAGS) -pthread
webapi_ims_webapi_LDADD = $(IMS_WEB_LIBS)
webapi_ims_webapi_LDFLAGS = -pthread

