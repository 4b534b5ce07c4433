#!/bin/sh
# Installs the Debian 12 packages ims needs, for one of three purposes:
#
#   contrib/install-deps.sh --runtime  a production server running a build made
#                                      elsewhere: the shared libraries only
#   contrib/install-deps.sh --build    a build host: compiler, autotools, -dev
#                                      packages, Debian packaging tools
#   contrib/install-deps.sh [--test]   the test suite and the quick start (the
#                                      README's two commands): --build plus the
#                                      real servers and clients the tests start
#                                      (Postfix, Dovecot, Redis, nsd, Chromium...)
#
# None of them stops, restarts or reconfigures a service of the machine. Server
# packages that are newly installed for --test are not started either (a
# temporary policy-rc.d): the tests start private instances on free ports.
# Idempotent; needs root and Debian's mirrors.  IMS_WITH_BENCH=1 adds the
# benchmark tools to --test.
set -eu

RUNTIME="libmilter1.0.1 libspf2-2 libopendkim11 libopendmarc2 libsvm3 liblinear4
 libhiredis0.14 libgmime-3.0-0 libunbound8 libjansson4 libsodium23 libmicrohttpd12
 libjwt0 libinih1 libcurl3-gnutls libetpan20 libxml2 libsystemd0 publicsuffix libpsl5 libmagic1 libarchive13"
# libcurl in its GnuTLS flavour (same API): libetpan-dev, the IMAP client of
# ims-webapi, depends on libcurl4-gnutls-dev, which replaces libcurl4-openssl-dev
BUILD="build-essential autoconf automake libtool pkg-config
 libmilter-dev libspf2-dev libopendkim-dev libopendmarc-dev
 libsvm-dev liblinear-dev libhiredis-dev libgmime-3.0-dev
 libunbound-dev libevent-dev libjansson-dev libsodium-dev
 libmicrohttpd-dev libjwt-dev libinih-dev libcurl4-gnutls-dev libetpan-dev libxml2-dev
 libsystemd-dev libpsl-dev publicsuffix libmagic-dev libarchive-dev
 debhelper dpkg-dev lintian fakeroot"
# the servers and clients the tests start privately; clang + libFuzzer for the
# fuzz step and clang-format for the style check
TEST="redis-server postfix dovecot-imapd dovecot-lmtpd dovecot-core
 dovecot-sieve opendkim-tools miltertest swaks nsd dnsutils python3 openssl
 chromium ca-certificates procps systemd clang libclang-rt-14-dev clang-format
 m4 sasl2-bin libsasl2-modules libsasl2-modules-db
 clamav-daemon clamav"
# Sendmail for its end-to-end test: Debian's sendmail conflicts with postfix,
# so these are downloaded and unpacked into build-deps/sendmail/root, never
# installed (tests/harness/sendmail.py)
SENDMAIL_DEBS="sendmail-bin sendmail-base sendmail-cf"
BENCH="wrk rspamd hyperfine"

mode=${1:---test}
case "$mode" in
--runtime) want=$RUNTIME ;;
--build) want=$BUILD ;;
--test) want="$BUILD $TEST ${IMS_WITH_BENCH:+$BENCH}" ;;
-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
*) echo "usage: $0 [--runtime | --build | --test]" >&2; exit 2 ;;
esac

export DEBIAN_FRONTEND=noninteractive
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' \
		|| missing="$missing $p"
done
# Node.js (the web UI's build, the browser tests) may come from elsewhere;
# install Debian's only when absent.
if [ "$mode" != --runtime ] && ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
	policy=""
	if [ "$mode" = --test ] && [ ! -e /usr/sbin/policy-rc.d ]; then
		# Servers installed only for the tests stay stopped; those already
		# on the machine are not touched at all.
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT INT TERM
	fi
	# Postfix must not ask questions nor write a configuration of its own.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
here=$(cd "$(dirname "$0")/.." && pwd)
sm="$here/build-deps/sendmail"
if [ "$mode" = --test ] && [ ! -x "$sm/root/usr/libexec/sendmail/sendmail" ]; then
	rm -rf "$sm" && mkdir -p "$sm/debs" && chmod 755 "$here/build-deps" "$sm" "$sm/debs"
	# shellcheck disable=SC2086
	(cd "$sm/debs" && apt-get download -q $SENDMAIL_DEBS 2>&1 | grep -v '^W: Download is performed unsandboxed') || true
	for d in "$sm"/debs/*.deb; do dpkg-deb -x "$d" "$sm/root"; done
	[ -x "$sm/root/usr/libexec/sendmail/sendmail" ] || { echo "install-deps: Sendmail not unpacked" >&2; exit 1; }
fi
# the web UI (webui/, Preact + Vite from the npm registry, lock file committed):
# npm ci when its packages are missing or older than the lock, then the build
# into webui/dist, which make installs (webui/local.mk)
if [ "$mode" != --runtime ] && [ -f "$here/webui/package-lock.json" ]; then
	if [ ! -f "$here/webui/node_modules/.package-lock.json" ] || [ -n "$(find "$here/webui/package-lock.json" \
		-newer "$here/webui/node_modules/.package-lock.json")" ]; then
		(cd "$here/webui" && npm ci --no-audit --no-fund -q)
	fi
	(cd "$here/webui" && npm run --silent build >/dev/null)
fi
# playwright-core for the browser tests (tests/browser, git-ignored node_modules)
if [ "$mode" = --test ] && [ -f "$here/tests/browser/package-lock.json" ] &&
	[ ! -d "$here/tests/browser/node_modules" ]; then
	(cd "$here/tests/browser" && npm ci --no-audit --no-fund -q) || true
fi
exit 0
