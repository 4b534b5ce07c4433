#!/bin/sh
# Style of the C sources of the whole tree (every .c and .h under git, or
# under the source folder outside a git checkout):
#  1. clang-format --dry-run --Werror with the repository's .clang-format;
#  2. no banned function: each has a safer replacement, named below.  An
#     exception goes in ALLOW with its reason; nothing is allowed silently.
# Prints every offence and exits 1 when there is any.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1

# name: why, and what to use instead
BANNED='strcpy:unbounded copy, use snprintf or memcpy with a checked length
strcat:unbounded append, use snprintf or a length-tracked buffer
strncpy:does not always terminate, use snprintf or memcpy
strncat:length means what is left, easy to get wrong, use snprintf
sprintf:unbounded, use snprintf
vsprintf:unbounded, use vsnprintf
gets:unbounded, use fgets
atoi:no error detection, use strtol with end and errno checks
atol:no error detection, use strtol with end and errno checks
atoll:no error detection, use strtoll with end and errno checks
atof:no error detection, use strtod with end and errno checks
strtok:shared state, not thread-safe, use strtok_r or strsep
tmpnam:race between name and use, use mkstemp or mkdtemp
tempnam:race between name and use, use mkstemp or mkdtemp
mktemp:race between name and use, use mkstemp or mkdtemp
rand:predictable, use randombytes_buf (libsodium)
srand:predictable, use randombytes_buf (libsodium)
asctime:static buffer, not thread-safe, use strftime
ctime:static buffer, not thread-safe, use strftime with localtime_r/gmtime_r
gmtime:static buffer, not thread-safe, use gmtime_r
localtime:static buffer, not thread-safe, use localtime_r
alloca:unbounded stack use, use a fixed array or the heap
system:runs a shell on a string, use fork/exec or a library call
popen:runs a shell on a string, use fork/exec or a library call'

# file:function: reason.  Keep it short.
ALLOW='classifier/train.c:srand: seeds the rand() liblinear shuffles with, so training is repeatable
tests/unit/test_conf.c:system: test set-up, a fixed command on a mkdtemp folder
tests/unit/test_dkim.c:system: test set-up, fixed cp/chmod/rm commands on a mkdtemp folder'

if [ -d .git ] || [ -f .git ]; then
	files=$(git ls-files '*.c' '*.h')
else
	files=$(find . -path ./build -prune -o -path './build-*' -prune -o -path ./_build -prune -o \
		-path ./_inst -prune -o -path ./data -prune -o \
		\( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | grep -v -e '^config\.h$' -e '/config\.h$')
fi
[ -n "$files" ] || {
	echo "no C sources found under $top"
	exit 1
}
rc=0

# 1. formatting
if ! command -v clang-format >/dev/null 2>&1; then
	echo "FAIL: clang-format is not installed (contrib/install-deps.sh)"
	rc=1
else
	bad=0
	for f in $files; do
		if ! clang-format --dry-run --Werror --style=file "$f" >/dev/null 2>&1; then
			echo "format: $f differs from .clang-format (clang-format -i $f)"
			bad=$((bad + 1))
		fi
	done
	[ "$bad" -eq 0 ] || {
		echo "FAIL: $bad of $(echo "$files" | wc -l) files are not formatted"
		rc=1
	}
fi

# 2. banned functions: calls (name followed by "("), comments removed by
#    the preprocessor's -fpreprocessed mode (no includes or macros expanded)
names=$(echo "$BANNED" | cut -d: -f1 | paste -sd'|')
nban=0
for f in $files; do
	hits=$(cpp -fpreprocessed -dD -P "$f" 2>/dev/null |
		grep -oE "(^|[^A-Za-z0-9_.>])($names)[[:space:]]*\(" |
		sed -E 's/^[^A-Za-z_]*//; s/[[:space:]]*\($//' | sort -u)
	for fn in $hits; do
		if echo "$ALLOW" | grep -q "^$f:$fn:"; then
			continue
		fi
		why=$(echo "$BANNED" | grep "^$fn:" | cut -d: -f2-)
		echo "banned: $f calls $fn() ($why)"
		nban=$((nban + 1))
	done
done
[ "$nban" -eq 0 ] || {
	echo "FAIL: $nban banned function uses"
	rc=1
}
# an allow-list entry for a file that no longer needs it is stale
echo "$ALLOW" | while IFS=: read -r f fn _; do
	[ -n "$f" ] || continue
	if [ ! -f "$f" ] || ! cpp -fpreprocessed -dD -P "$f" 2>/dev/null |
		grep -qE "(^|[^A-Za-z0-9_.>])$fn[[:space:]]*\("; then
		echo "stale allow-list entry: $f:$fn"
		exit 1
	fi
done || rc=1
[ "$rc" -eq 0 ] && echo "style: $(echo "$files" | wc -l) files formatted, no banned functions"
exit $rc
