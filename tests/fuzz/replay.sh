#!/bin/sh
# Replays every fuzz target's seeds (and the test fixtures that fit it) under
# the sanitizers: a crash found by fuzzing, once its input is added to
# tests/fuzz/seeds/TARGET/, stays fixed.
set -u
s="$top_srcdir/tests/fuzz/seeds"
f="$top_builddir/tests/fuzz"
rc=0
"$f/fuzz-conf" "$s/conf" "$top_srcdir/etc" || rc=1
"$f/fuzz-rfc5322" "$s/rfc5322" "$s/mime" "$top_srcdir/tests/data" || rc=1
"$f/fuzz-mime" "$s/mime" "$s/rfc5322" "$top_srcdir/tests/data" || rc=1
"$f/fuzz-model" "$s/model" || rc=1
"$f/fuzz-release" "$s/release" "$s/rfc5322" "$s/mime" "$top_srcdir/tests/data" || rc=1
exit $rc
