#!/bin/sh
# The sample config and the reference must say what the table in lib/conf.c says.
# Regenerate both with: make update-conf-docs
set -u
rc=0
"$top_builddir/tools/ims-conf-doc" --sample | diff -u "$top_srcdir/etc/ims.conf.sample.in" - || rc=1
"$top_builddir/tools/ims-conf-doc" --reference | diff -u "$top_srcdir/docs/configuration.md" - || rc=1
[ $rc -eq 0 ] || echo "conf-docs: out of date; run 'make update-conf-docs'" >&2
exit $rc
