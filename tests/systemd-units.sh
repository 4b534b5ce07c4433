#!/bin/sh
# The systemd units as `make install` writes them: they pass
# `systemd-analyze verify` (with the built programs in ExecStart) and the
# hardening keeps `systemd-analyze security` at 2.0 ("OK") or lower.
set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/ims-units.XXXXXX")
trap 'rm -rf "$T"' EXIT
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "systemd-analyze not installed (package systemd)" >&2
	exit 1
fi
fail=0
for u in milter webapi; do
	unit="$top_builddir/contrib/systemd/ims-$u.service"
	[ -f "$unit" ] || { echo "FAIL $unit not built" >&2; fail=1; continue; }
	grep -q '^Type=notify$' "$unit" || { echo "FAIL ims-$u: not Type=notify" >&2; fail=1; }
	if [ "$u" = milter ]; then
		grep -q '^ExecReload=/bin/kill -USR1 ' "$unit" || { echo "FAIL ims-milter: no ExecReload" >&2; fail=1; }
	fi
	sed -e "s|^ExecStart=[^ ]*/ims-$u |ExecStart=$top_builddir/$u/ims-$u |" \
		-e "s|^ExecStartPre=[^ ]*/ims |ExecStartPre=$top_builddir/cli/ims |" \
		"$unit" >"$T/ims-$u.service"
	if systemd-analyze verify --man=no "$T/ims-$u.service" >"$T/out" 2>&1; then
		echo "ok   ims-$u.service verifies"
	else
		echo "FAIL ims-$u.service: systemd-analyze verify" >&2; cat "$T/out" >&2; fail=1
	fi
	systemd-analyze security --offline=yes "$T/ims-$u.service" >"$T/sec" 2>&1
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/sec")
	if [ -n "$score" ] && awk "BEGIN { exit !($score <= 2.0) }"; then
		echo "ok   ims-$u.service exposure $score"
	else
		echo "FAIL ims-$u.service exposure '${score}' (want <= 2.0):" >&2
		grep '✗' "$T/sec" >&2; fail=1
	fi
done
# the static units of the ims command (contrib/systemd, ExecStart with ims)
for u in ims-rescan.service ims-events-forward.service; do
	sed -e "s|^ExecStart=[^ ]*/ims |ExecStart=$top_builddir/cli/ims |" \
		"$top_srcdir/contrib/systemd/$u" >"$T/$u"
	if systemd-analyze verify --man=no "$T/$u" >"$T/out" 2>&1; then
		echo "ok   $u verifies"
	else
		echo "FAIL $u: systemd-analyze verify" >&2; cat "$T/out" >&2; fail=1
	fi
	systemd-analyze security --offline=yes "$T/$u" >"$T/sec" 2>&1
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/sec")
	if [ -n "$score" ] && awk "BEGIN { exit !($score <= 2.0) }"; then
		echo "ok   $u exposure $score"
	else
		echo "FAIL $u exposure '${score}' (want <= 2.0):" >&2
		grep '✗' "$T/sec" >&2; fail=1
	fi
done
exit $fail
