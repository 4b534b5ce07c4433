#!/bin/sh
# Load time, memory and lookup cost of the [intel] lists (bench/intel.c),
# against a build configured WITHOUT sanitizers:
#   top_builddir=/tmp/build-opt sh bench/intel.sh [ENTRIES]   (default 1000000)
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
: "${top_builddir:=$PWD}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ims-bench-intel.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# shellcheck disable=SC2046
cc -O2 -I"$top_builddir" -I"$HERE/lib" $(pkg-config --cflags glib-2.0) -o "$TMP/intel" \
	"$HERE/bench/intel.c" "$top_builddir/lib/libims.a" \
	$(pkg-config --libs gmime-3.0 libunbound libpsl inih libsodium jansson hiredis libcurl) -lm
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$TMP/intel" "${1:-1000000}" 2>/dev/null
