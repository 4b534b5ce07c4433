# milter: ims-milter, the libmilter adapter over lib/scan.
sbin_PROGRAMS += milter/ims-milter
milter_ims_milter_SOURCES = milter/ims-milter.c milter/callbacks.c milter/callbacks.h \
	milter/readable.c milter/readable.h milter/metrics.c milter/metrics.h
milter_ims_milter_CFLAGS = $(AM_CFLAGS) $(IMS_DEP_CFLAGS) $(MILTER_CFLAGS) -pthread
milter_ims_milter_LDADD = lib/libimsscan.a classifier/libimsclassifier.a lib/libims.a \
	$(IMS_DEP_LIBS) $(MILTER_LIBS) $(MHD_LIBS) $(XML_LIBS)
milter_ims_milter_LDFLAGS = -pthread
EXTRA_DIST += bench/milter.sh bench/milter.py bench/noop-milter.c bench/redis-bytes.py bench/malware.sh \
	bench/malware.py bench/attachments.sh bench/attachments.c
