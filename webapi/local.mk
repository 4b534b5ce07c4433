# webapi: ims-webapi, the HTTP API and the web UI's server (see ../Makefile.am).
# Everything but main() is in a static library, so unit tests link it too.
noinst_LIBRARIES += webapi/libimsweb.a
webapi_libimsweb_a_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS)
webapi_libimsweb_a_SOURCES = \
	webapi/auth_token.c webapi/auth_token.h

sbin_PROGRAMS += webapi/ims-webapi
webapi_ims_webapi_SOURCES = webapi/main.c
webapi_ims_webapi_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS)
webapi_ims_webapi_LDADD = webapi/libimsweb.a lib/libims.a $(IMS_DEP_LIBS) $(MHD_LIBS) \
	$(JWT_LIBS) $(CURL_LIBS) -lpthread
