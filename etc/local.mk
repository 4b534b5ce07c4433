# etc/: the sample configuration, generated from lib/conf.c's table.
EXTRA_DIST += etc/ims.conf.sample.in
sampledir = $(docdir)
sample_DATA = etc/ims.conf.sample
CLEANFILES += etc/ims.conf.sample
etc/ims.conf.sample: etc/ims.conf.sample.in
	$(AM_V_GEN)$(MKDIR_P) etc && sed -e 's|@modeldir[@]|$(modeldir)|g' $(srcdir)/etc/ims.conf.sample.in > $@

# Rewrites the committed sample and reference from the table (run after editing lib/conf.c).
update-conf-docs: tools/ims-conf-doc
	tools/ims-conf-doc --sample > $(srcdir)/etc/ims.conf.sample.in
	tools/ims-conf-doc --reference > $(srcdir)/docs/configuration.md
.PHONY: update-conf-docs
