#!/bin/sh
# Benchmark: bare Postfix vs Postfix + ims-milter vs Postfix + rspamd
# (milter mode), one run, smtp-source on loopback, discard transport.
# Run from a build dir configured WITHOUT sanitizers (they cost 3-5x):
#   cd /tmp/build-opt && /path/to/src/configure && make && make model   # model optional
#   sudo top_srcdir=/path/to/src top_builddir=$PWD sh /path/to/src/bench/milter.sh
# Knobs: IMS_BENCH_MESSAGES (2000), IMS_BENCH_SESSIONS (20), IMS_BENCH_SIZE (2048),
#        IMS_BENCH_ROUNDS (3), IMS_BENCH_MODEL (default: $top_builddir/model.ims,
#        else a fixed-verdict model).
#        IMS_BENCH_NOOP=/path/noop-milter (bench/noop-milter.c; the floor), IMS_BENCH_NOOP_HEADERS=0 (they add none),
#        IMS_BENCH_UNIX=1 (milters on unix sockets), IMS_BENCH_SMTP_OPTS="-d" (sessions
#        carry several messages), IMS_BENCH_SKIP_RSPAMD=1, IMS_BENCH_ONLY=ims,noop,...
#        Side by side: IMS_BENCH_ALSO_INET=1 (the same ims-milter on TCP too),
#        IMS_BENCH_CLUSTER=1 (the same ims-milter on a private 3+3 Redis Cluster, "ims_cluster",
#        with the cluster's CPU per message and the cluster/single throughput ratio),
#        IMS_BENCH_CLUSTER_WAIT=1 (and the same on the cluster with [redis] wait_replicas = 1,
#        "ims_cluster_wait"),
#        IMS_BENCH_REPUTATION=1 (the same ims-milter with [dnsbl] and [intel] on, "ims_rep";
#        IMS_BENCH_INTEL_ENTRIES, default 10000),
#        IMS_BENCH_IMS_BEFORE=/path/ims-milter (another build, e.g. the previous
#        commit's) on IMS_BENCH_BEFORE_SOCKET (inet, the default, or unix).
#        IMS_BENCH_LATENCY_MESSAGES (200; 0 skips): one SMTP session, ms per message.
#        IMS_BENCH_REAL_MESSAGES (400; 0 skips), IMS_BENCH_REAL_SESSIONS (8),
#        IMS_BENCH_REAL_DIR (data/corpus/train): corpus mail (training part only),
#        one message per SMTP session through smtplib.
#        Profiling: IMS_BENCH_PERF=FILE (perf record), IMS_BENCH_ATTACH="strace -f -c -o
#        /tmp/s-{name} -p {pid}" with IMS_BENCH_ATTACH_TO=ims,noop.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$here")}"
: "${top_builddir:=$PWD}"
export top_srcdir top_builddir
exec /usr/bin/python3 "$here/milter.py"
