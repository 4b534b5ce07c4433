EXTRA_DIST += docs/configuration.md
dist_doc_DATA += docs/milter.md
EXTRA_DIST += docs/api.md
EXTRA_DIST += docs/reliability.md
dist_doc_DATA += docs/redis-schema.md
dist_doc_DATA += docs/operations.md
EXTRA_DIST += docs/scaling.md
EXTRA_DIST += docs/webui.md docs/img/webui-desktop-inbox.png docs/img/webui-desktop-message.png \
	docs/img/webui-phone-inbox.png docs/img/webui-phone-message.png
EXTRA_DIST += docs/console.md
