#!/bin/sh
# Benchmark of ims-webapi with wrk on loopback (docs/benchmarks.md):
#   GET /emails/inbox on a 10,000-message Dovecot mailbox (through the doveadm
#   HTTP API or ims-webapi's pooled IMAP connections, each in every round;
#   scan summaries joined from Redis) at 1, 16 and 64 connections, and
#   GET /admin/scans over 100,000 scans (seeded with redis-cli --pipe) at 64:
#   requests per second, latency percentiles and CPU per request of
#   ims-webapi, redis-server and Dovecot; the cost of one login (argon2id).
#   Needs root (a private Dovecot).
# Run from a build dir configured WITHOUT sanitizers (they cost 3-5x):
#   cd /tmp/build-opt && /path/to/src/configure && make
#   top_srcdir=/path/to/src top_builddir=$PWD sh /path/to/src/bench/webapi.sh
# Knobs: IMS_BENCH_DURATION (15 s per run), IMS_BENCH_CONNECTIONS (64),
#        IMS_BENCH_INBOX_CONNECTIONS (16,64),
#        IMS_BENCH_THREADS (ims-webapi worker threads, 4), IMS_BENCH_ROUNDS (3),
#        IMS_BENCH_CLUSTER=1 (the admin routes also on a private 3+3 Redis Cluster, same rounds),
#        IMS_BENCH_PATHS (doveadm,imap: how ims-webapi reads folder pages; each
#        round measures each, with the load average of every run).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$here")}"
: "${top_builddir:=$PWD}"
export top_srcdir top_builddir
command -v wrk >/dev/null || { echo "bench: wrk missing (IMS_WITH_BENCH=1 contrib/install-deps.sh)" >&2; exit 1; }
exec /usr/bin/python3 "$here/webapi.py"
