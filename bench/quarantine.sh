#!/bin/sh
# Benchmark of the quarantine (docs/benchmarks.md): Redis memory per held
# message, and release (claim in Redis, LMTP into a real Dovecot's INBOX,
# record) through ims-webapi, by one client and by several at once.
# Run from a build dir configured WITHOUT sanitizers (they cost 3-5x), as root
# (a private Dovecot):
#   cd /tmp/build-opt && /path/to/src/configure && make
#   top_srcdir=/path/to/src top_builddir=$PWD sh /path/to/src/bench/quarantine.sh
# Knobs: IMS_BENCH_HELD (400 held messages, half released by one client, half
#        by IMS_BENCH_CONCURRENCY clients, default 4).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$here")}"
: "${top_builddir:=$PWD}"
export top_srcdir top_builddir
exec /usr/bin/python3 "$here/quarantine.py"
