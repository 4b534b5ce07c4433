#!/bin/sh
# Fuzzes each target with libFuzzer for SECONDS (default 60) each.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
# Builds a clang tree in build-fuzz/ with --enable-fuzzers; new crashes are
# written to build-fuzz/crash-*; copy them to tests/fuzz/seeds/TARGET/ with the fix.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}; [ $# -gt 0 ] && shift
targets=${*:-conf rfc5322 mime model}
mkdir -p "$top/build-fuzz" && cd "$top/build-fuzz"
[ -f Makefile ] || "$top/configure" -q CC=clang --enable-fuzzers \
	CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined" LDFLAGS="-fsanitize=address,undefined"
make -s -j2 $(for t in $targets; do printf 'tests/fuzz/fuzz-%s ' "$t"; done)
for t in $targets; do
	mkdir -p "corpus/$t"
	echo "== fuzz-$t for ${secs}s"
	"tests/fuzz/fuzz-$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=1048576 \
		"corpus/$t" "$top/tests/fuzz/seeds/$t"
done
