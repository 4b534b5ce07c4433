#!/bin/sh
# CPU time of parsing deeply nested multiparts with and without ims's bound
# (classifier/mimeparse.h): compiles bench/mime-nesting.c with -O2 (no
# sanitizers) and prints a markdown table for docs/benchmarks.md.
#
# usage: bench/mime-nesting.sh
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ims-bench-mime.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
printf '#define PACKAGE_VERSION "bench"\n' >"$TMP/config.h"
# shellcheck disable=SC2046
cc -O2 -I"$TMP" -I"$HERE/lib" -I"$HERE/classifier" $(pkg-config --cflags gmime-3.0) \
	-o "$TMP/mime-nesting" "$HERE/bench/mime-nesting.c" "$HERE/classifier/mimeparse.c" \
	$(pkg-config --libs gmime-3.0)
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
"$TMP/mime-nesting"
