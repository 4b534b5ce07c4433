#!/bin/sh
# Benchmark of GET /click (links at click time, docs/benchmarks.md): one
# ims-webapi with an [intel] block list of 100,000 domains and a URIBL zone
# at a private nsd, redis-server; 2,000 clicks on distinct links one after
# the other (every domain new to the resolver), the same again (cached), then
# wrk on one link.  Needs nsd, redis-server and wrk.
# Run from a build dir configured WITHOUT sanitizers (they cost 3-5x):
#   cd /tmp/build-opt && /path/to/src/configure && make
#   top_srcdir=/path/to/src top_builddir=$PWD sh /path/to/src/bench/click.sh
# Knobs: IMS_BENCH_CLICKS (2000), IMS_BENCH_INTEL_ENTRIES (100000),
#        IMS_BENCH_DURATION (10 s of wrk), IMS_BENCH_CONNECTIONS (16).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$here")}"
: "${top_builddir:=$PWD}"
export top_srcdir top_builddir
command -v wrk >/dev/null || { echo "bench: wrk missing (IMS_WITH_BENCH=1 contrib/install-deps.sh)" >&2; exit 1; }
exec /usr/bin/python3 "$here/click.py"
