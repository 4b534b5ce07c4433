#!/bin/sh
# ims config check: a good file passes; each kind of bad value is refused with
# FILE:LINE and the key; files the configuration names are checked (exist,
# readable, secrets not world-readable) and the model must load.
set -u
IMS="$top_builddir/cli/ims"
FIX="$top_srcdir/tests/data/mime"
T=$(mktemp -d "${TMPDIR:-/tmp}/ims-config-check.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
expect() { # status, description, config text, text the output must hold
	printf '%b' "$3" >"$T/c.conf"
	"$IMS" -c "$T/c.conf" config check >"$T/out" 2>&1; got=$?
	if [ "$got" -ne "$1" ] || ! grep -qF -- "$4" "$T/out"; then
		echo "FAIL $2: exit $got (want $1), output:" >&2; cat "$T/out" >&2; fail=1
	else
		echo "ok   $2"
	fi
}

"$IMS" -c /dev/null train -q --folds 3 --hash-bits 16 \
	--ham "$FIX/train/ham" --spam "$FIX/train/spam" -o "$T/m.ims" >/dev/null || fail=1
umask 077
head -c 48 /dev/urandom >"$T/jwt"
openssl genrsa -out "$T/dkim.pem" 1024 2>/dev/null || fail=1
good="[classifier]\nmodel = $T/m.ims\n[webapi]\njwt_secret_file = $T/jwt\n"
good="$good[dkim]\nkeys = example.test:s1:$T/dkim.pem\n"
expect 0 "good file" "$good" "$T/c.conf: ok"

expect 1 "bad network" "[milter]\n\ntrusted_networks = 10.0.0.0/8, 10.0.0/8\n" \
	"c.conf:3: [milter] trusted_networks: '10.0.0/8' is not an IP address"
expect 1 "bad socket" "[milter]\nsocket = tcp:foo\n" "c.conf:2: [milter] socket: 'tcp:foo'"
expect 1 "unknown user" "[milter]\nuser = no-such-ims-user\n" "no such system user"
expect 1 "thresholds out of order" "[actions]\ntag = 12\n" \
	"c.conf:2: [actions] quarantine (10) must be above tag (12)"
expect 1 "bad nameserver" "[dns]\nnameservers = ns.example:53\n" "[dns] nameservers"
expect 1 "bad listen" "[webapi]\nlisten = localhost:8080\n" "[webapi] listen"
expect 1 "bad DNS list rule" "[dnsbl]\nclient = zen.test:127.0.0.2=ZEN:1\nclient = zen.test=SPF_FAIL:1\n" \
	"c.conf:3: [dnsbl] client: 'zen.test=SPF_FAIL:1': SPF_FAIL is a built-in symbol"
expect 1 "relative intel dir" "[intel]\ndir = intel.d\n" "c.conf:2: [intel] dir: 'intel.d' is not an absolute path"
expect 1 "bad clamd address" "[antivirus]\nsocket = clamd.example:3310\n" \
	"c.conf:2: [antivirus] socket"
# clamd not answering is a warning: the milter must start anyway (on_error)
expect 0 "clamd down: warning only" "$good[antivirus]\nsocket = unix:$T/no-clamd.sock\n" \
	"warning: [antivirus] socket unix:$T/no-clamd.sock: clamd: connect"

chmod 0644 "$T/jwt"
expect 1 "world-readable secret" "$good" "readable by everyone (mode 0644"
chmod 0600 "$T/jwt"
expect 1 "missing key file" "$good[dkim]\nkeys = b.test:s:$T/nokey.pem\n" "nokey.pem: No such file"
expect 1 "missing model" "[classifier]\nmodel = $T/none.ims\n" "none.ims"
head -c 32 /dev/urandom >"$T/links.key"
chmod 0644 "$T/links.key"
expect 1 "link key others may read" "$good[links]\nkey_file = $T/links.key\n" \
	"[links] key_file $T/links.key: mode 0644 lets other users at a secret"
chmod 0600 "$T/links.key"
expect 0 "link key" "$good[links]\nkey_file = $T/links.key\nclick_url = https://m.example/click\n" \
	"$T/c.conf: ok"
expect 1 "click_url without key" "$good[links]\nclick_url = https://m.example/click\n" \
	"click_url is set but key_file is not"
expect 1 "click_url not http" "[links]\nclick_url = ftp://m.example/click\n" \
	"[links] click_url: 'ftp://m.example/click': want https://HOST/click"
expect 1 "missing intel dir" "$good[intel]\ndir = $T/no-intel\n" "[intel] dir $T/no-intel: No such file"
mkdir "$T/intel.d" && printf '192.0.2.1\nnot an entry!\n' >"$T/intel.d/x.block"
expect 0 "intel dir (a bad line is logged, not fatal)" "$good[intel]\ndir = $T/intel.d\n" \
	"event=intel_bad_line"
printf '[milter]\n' >"$T/c.conf"
"$IMS" -c "$T/c.conf" config check --no-files >/dev/null 2>&1 || {
	echo "FAIL --no-files" >&2; fail=1; }
# the sample is what the Debian package installs as /etc/ims/ims.conf: it loads
"$IMS" -c "$top_builddir/etc/ims.conf.sample" config check --no-files >"$T/out" 2>&1 || {
	echo "FAIL the sample config does not load:" >&2; cat "$T/out" >&2; fail=1; }
"$IMS" config >/dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL usage exit" >&2; fail=1; }
exit $fail
