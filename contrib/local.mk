# contrib/: scripts and files for operators.
EXTRA_DIST += contrib/install-deps.sh contrib/run-tests.sh \
	contrib/quickstart.sh contrib/ims-stack.py contrib/fetch-corpus.sh

# systemd units, with the paths configure chose.
SYSTEMD_UNITS_IN = contrib/systemd/ims-milter.service.in contrib/systemd/ims-webapi.service.in
EXTRA_DIST += $(SYSTEMD_UNITS_IN)
systemdsystemunit_DATA = $(SYSTEMD_UNITS_IN:.in=)
CLEANFILES += $(SYSTEMD_UNITS_IN:.in=)
SUBST_PATHS = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@modeldir[@]|$(modeldir)|g'
contrib/systemd/ims-milter.service: contrib/systemd/ims-milter.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && $(SUBST_PATHS) $(srcdir)/$@.in > $@
contrib/systemd/ims-webapi.service: contrib/systemd/ims-webapi.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && $(SUBST_PATHS) $(srcdir)/$@.in > $@

# The MTA and Dovecot fragments operators copy from (docs/operations.md):
# every file under mta-config/ except the build fragment, so a new fragment
# is installed as soon as it is in the tree (and in EXTRA_DIST).
mtaconfigdir = $(pkgdatadir)/mta-config
install-data-local: install-mta-config
install-mta-config:
	cd $(srcdir) && for f in $$(find mta-config -type f ! -name local.mk | LC_ALL=C sort); do \
		$(MKDIR_P) "$(DESTDIR)$(pkgdatadir)/$$(dirname $$f)" && \
		if test -x "$$f"; then $(INSTALL_SCRIPT) "$$f" "$(DESTDIR)$(pkgdatadir)/$$f"; \
		else $(INSTALL_DATA) "$$f" "$(DESTDIR)$(pkgdatadir)/$$f"; fi || exit 1; \
	done
uninstall-local: uninstall-mta-config
uninstall-mta-config:
	rm -rf "$(DESTDIR)$(mtaconfigdir)"
.PHONY: install-mta-config uninstall-mta-config

# Debian packaging (contrib/build-deb.sh builds ims, ims-milter, ims-webapi)
EXTRA_DIST += contrib/build-deb.sh tests/debian-package.sh debian/changelog debian/control \
	debian/copyright debian/rules debian/source/format debian/ims.install \
	debian/ims-milter.install debian/ims-webapi.install debian/ims.postinst debian/ims.postrm \
	debian/ims.lintian-overrides

# systemd: the scheduled retrain (ims retrain)
EXTRA_DIST += contrib/systemd/ims-retrain.service contrib/systemd/ims-retrain.timer

# systemd: the quarantine digest (ims quarantine digest)
EXTRA_DIST += contrib/systemd/ims-quarantine-digest.service contrib/systemd/ims-quarantine-digest.timer

# systemd: post-delivery rescan (ims rescan) and the SIEM forwarder (ims events forward)
EXTRA_DIST += contrib/systemd/ims-rescan.service contrib/systemd/ims-rescan.timer \
	contrib/systemd/ims-events-forward.service

# monitoring: Prometheus alert rules and a Grafana dashboard for ims-milter
EXTRA_DIST += contrib/monitoring/ims-alerts.yml contrib/monitoring/ims-grafana-dashboard.json
