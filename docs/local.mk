EXTRA_DIST += docs/configuration.md
dist_doc_DATA += docs/milter.md
EXTRA_DIST += docs/api.md
EXTRA_DIST += docs/reliability.md
dist_doc_DATA += docs/redis-schema.md
dist_doc_DATA += docs/operations.md
EXTRA_DIST += docs/console.md
