# tools/: build-time helpers, not installed.
noinst_PROGRAMS += tools/ims-conf-doc
tools_ims_conf_doc_SOURCES = tools/ims-conf-doc.c
tools_ims_conf_doc_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS)
tools_ims_conf_doc_LDADD = lib/libims.a $(IMS_DEP_LIBS)
