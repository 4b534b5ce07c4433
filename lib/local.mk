# lib/: code the daemons and the ims command share.
noinst_LIBRARIES += lib/libims.a
lib_libims_a_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS)
lib_libims_a_SOURCES = \
	lib/status.c lib/status.h \
	lib/log.c lib/log.h \
	lib/symbols.c lib/symbols.h \
	lib/conf.c lib/conf.h
