EXTRA_DIST += docs/configuration.md
