#!/bin/sh
# The Debian packages: built from this tree (contrib/build-deb.sh, lintian
# clean), holding what an operator needs where Debian puts it, with the
# configuration 0640, units that start nothing on install, and programs that
# run from the unpacked tree.  Run by contrib/run-tests.sh (needs the corpus).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/ims-debtest.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
no() { echo "FAIL $*" >&2; fail=1; }

"$top/contrib/build-deb.sh" "$T/deb" || { echo "FAIL build-deb" >&2; exit 1; }
for p in ims ims-milter ims-webapi; do
	ls "$T/deb/${p}_"*.deb >/dev/null 2>&1 || { echo "FAIL no $p package" >&2; exit 1; }
done
for p in ims ims-milter ims-webapi; do dpkg -c "$T/deb/${p}_"*.deb >"$T/$p.list"; done
has() { # package, mode pattern, path
	grep -Eq "^$2 .* \./$3\$" "$T/$1.list" || no "$1 lacks $3 ($2)"
}
has ims '-rw-r-----' 'etc/ims/ims.conf'
has ims '-rwxr-xr-x' 'usr/bin/ims'
has ims '-rw-r--r--' 'usr/share/ims/model.ims'
has ims '-rw-r--r--' 'usr/share/ims/mta-config/postfix-main.cf'
has ims '-rw-r--r--' 'usr/share/ims/mta-config/dovecot/10-ims.conf'
has ims '-rw-r--r--' 'usr/share/man/man5/ims.conf.5.gz'
has ims-milter '-rwxr-xr-x' 'usr/sbin/ims-milter'
has ims-milter '-rw-r--r--' 'lib/systemd/system/ims-milter.service'
has ims-webapi '-rwxr-xr-x' 'usr/sbin/ims-webapi'
has ims-webapi '-rw-r--r--' 'lib/systemd/system/ims-webapi.service'
has ims-webapi '-rw-r--r--' 'usr/share/ims/ui/index.html'
has ims-webapi '-rw-r--r--' 'usr/share/ims/ui/frame.css'
# the built web UI (webui/dist): its scripts and styles are there too
dpkg-deb -c "$T/deb/ims-webapi_"*.deb | grep 'usr/share/ims/ui/assets/index-.*\.js$' >/dev/null ||
	no "ims-webapi: no web UI script in usr/share/ims/ui/assets"
dpkg-deb -f "$T/deb/ims-milter_"*.deb Depends | grep -q 'ims (= ' || no "ims-milter does not depend on ims"
dpkg-deb -f "$T/deb/ims_"*.deb Depends | grep -q 'libmilter\|libgmime' || no "ims: no shlibs Depends"
# conffile, and maintainer scripts that create the user and start nothing
dpkg-deb -e "$T/deb/ims_"*.deb "$T/ctl-ims"
grep -qx '/etc/ims/ims.conf' "$T/ctl-ims/conffiles" || no "ims.conf is not a conffile"
grep -q 'adduser --system' "$T/ctl-ims/postinst" || no "postinst does not create the ims user"
dpkg-deb -e "$T/deb/ims-milter_"*.deb "$T/ctl-milter"
if grep -q 'deb-systemd-invoke start\|systemctl.*start' "$T/ctl-milter/postinst" 2>/dev/null; then
	no "ims-milter starts its service on install"
fi
# the programs run from the unpacked packages
for p in ims ims-milter ims-webapi; do dpkg-deb -x "$T/deb/${p}_"*.deb "$T/root"; done
grep -q '^ExecStart=/usr/sbin/ims-milter ' "$T/root/lib/systemd/system/ims-milter.service" ||
	no "unit ExecStart is not /usr/sbin/ims-milter"
"$T/root/usr/bin/ims" --version >/dev/null || no "ims --version"
"$T/root/usr/sbin/ims-webapi" -V >/dev/null || no "ims-webapi -V"
"$T/root/usr/bin/ims" -c "$T/root/etc/ims/ims.conf" --model "$T/root/usr/share/ims/model.ims" \
	model info >/dev/null || no "the packaged model does not load"
"$T/root/usr/bin/ims" -c "$T/root/etc/ims/ims.conf" config check --no-files >/dev/null ||
	no "the packaged ims.conf does not pass ims config check"
[ $fail -eq 0 ] && echo "ok   Debian packages build, lintian clean, contents checked"
exit $fail
