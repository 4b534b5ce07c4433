#!/bin/sh
# Replays every fuzz target's seeds and reproducers (tests/fuzz/seeds/TARGET/,
# and the test fixtures that fit it) under the sanitizers: a crash found by
# fuzzing, once its input is added to the seeds, stays fixed.
set -u
s="$top_srcdir/tests/fuzz/seeds"
f="$top_builddir/tests/fuzz"
d="$top_srcdir/tests/data"
rc=0
run() { # target dir...
	t=$1
	shift
	"$f/fuzz-$t" "$s/$t" "$@" || { echo "FAIL: fuzz-$t"; rc=1; }
}
run conf "$top_srcdir/etc"
run siem
run rfc5322 "$s/mime" "$d/mime"
run mime "$s/rfc5322" "$d/mime"
run model
run scan
run auth
run html
run features "$s/mime"
run sanitize "$s/html"
run mailview "$s/mime" "$d/mime"
run compose "$s/body"
run body
run token
run users
run checkpw "$s/users"
run feedback "$s/rfc5322" "$d/mime"
run release "$s/rfc5322" "$s/mime" "$d/mime"
run reputation
run attach
run urls "$s/html"
run clicktoken
run linkrewrite "$s/mime" "$d/mime"
run imap
exit $rc
