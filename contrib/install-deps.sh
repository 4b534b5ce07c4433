#!/bin/sh
# Installs every Debian 12 package ims needs to build, test and run.
# Idempotent: safe to run again. Needs root and access to Debian's mirrors.
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
 libmilter-dev libspf2-dev libopendkim-dev libopendmarc-dev
 libsvm-dev liblinear-dev libhiredis-dev libgmime-3.0-dev
 libunbound-dev libevent-dev libjansson-dev libsodium-dev
 libmicrohttpd-dev libjwt-dev libinih-dev libcurl4-openssl-dev libxml2-dev
 publicsuffix"
RUN="redis-server postfix dovecot-imapd dovecot-lmtpd dovecot-core
 dovecot-sieve opendkim-tools miltertest swaks nsd dnsutils python3
 chromium ca-certificates procps"
BENCH="wrk rspamd hyperfine"

export DEBIAN_FRONTEND=noninteractive
# Postfix must not ask questions nor configure the machine's own instance.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

missing=""
for p in $BUILD $RUN ${IMS_WITH_BENCH:+$BENCH}; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' \
		|| missing="$missing $p"
done
# Node.js (for the browser tests) may come from elsewhere; install Debian's only when absent.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
# playwright-core for the browser tests (tests/browser, git-ignored node_modules)
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$here/tests/browser/package-lock.json" ] && [ ! -d "$here/tests/browser/node_modules" ]; then
	(cd "$here/tests/browser" && npm ci --no-audit --no-fund -q) || true
fi
# The packages must not leave system mail daemons running on the standard ports.
for s in postfix dovecot redis-server nsd opendkim rspamd; do
	if command -v systemctl >/dev/null 2>&1; then systemctl stop "$s" >/dev/null 2>&1 || true; fi
done
exit 0
