# webui/: the web UI (Preact + Vite; docs/webui.md). `npm ci && npm run build`
# in webui/ (contrib/install-deps.sh runs both) writes webui/dist/, which
# ims-webapi serves from [webapi] ui_dir. make rebuilds it when its sources
# changed and webui/node_modules is there, installs it into $(uidir), and
# `make dist` carries the built files so that a tarball builds without npm.
uidir = $(modeldir)/ui
EXTRA_DIST += webui/package.json webui/package-lock.json webui/vite.config.js \
	webui/index.html webui/src webui/public

WEBUI_DIST = $(srcdir)/webui/dist
all-local: webui-build
webui-build:
	@w=$(srcdir)/webui; \
	if test -d $$w/node_modules && test -w $$w; then \
		if test ! -f $$w/dist/index.html || test -n "$$(find $$w/src $$w/public $$w/index.html \
			$$w/vite.config.js $$w/package-lock.json -newer $$w/dist/index.html -print 2>/dev/null | head -n1)"; then \
			echo "  NPM      webui/dist (npm run build)"; \
			(cd $$w && npm run --silent build >/dev/null) || exit 1; \
		fi; \
	elif test ! -f $$w/dist/index.html; then \
		echo "note: the web UI is not built (npm ci && npm run build in webui/; contrib/install-deps.sh does it)"; \
	fi

install-data-local: install-webui
install-webui:
	@if test -f $(WEBUI_DIST)/index.html; then \
		cd $(WEBUI_DIST) && for f in $$(find . -type f | LC_ALL=C sort); do \
			$(MKDIR_P) "$(DESTDIR)$(uidir)/$$(dirname $$f)" && \
			$(INSTALL_DATA) "$$f" "$(DESTDIR)$(uidir)/$$f" || exit 1; \
		done; \
	else echo "note: no web UI in $(WEBUI_DIST) (npm run build in webui/); none installed"; fi
uninstall-local: uninstall-webui
uninstall-webui:
	rm -rf "$(DESTDIR)$(uidir)"

dist-hook: dist-webui
dist-webui:
	@test -f $(WEBUI_DIST)/index.html || { \
		echo "make dist: the web UI is not built (npm ci && npm run build in webui/)" >&2; exit 1; }
	rm -rf $(distdir)/webui/dist && cp -pR $(WEBUI_DIST) $(distdir)/webui/dist
.PHONY: webui-build install-webui uninstall-webui dist-webui
