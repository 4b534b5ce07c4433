EXTRA_DIST += docs/configuration.md
EXTRA_DIST += docs/api.md
