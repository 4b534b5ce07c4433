#!/bin/sh
# The Redis layering of the C sources (docs/redis-schema.md, DESIGN "One
# Redis layer"):
#  1. every Redis key name is spelled in lib/rkeys.h: no other C file has a
#     key literal ("ims:{...", a "{global}" hash tag) outside comments;
#  2. milter/, webapi/ and cli/ reach Redis through the lib/ domain modules
#     only: none of their files includes hiredis or names its types
#     (redisContext, redisReply, redis*Command*), nor a key name of
#     lib/rkeys.h (the modules know the keys).
# Prints every offence and exits 1 when there is any.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1

if [ -d .git ] || [ -f .git ]; then
	files=$(git ls-files 'lib/*.[ch]' 'milter/*.[ch]' 'webapi/*.[ch]' 'cli/*.[ch]' \
		'classifier/*.[ch]')
else
	files=$(find lib milter webapi cli classifier -name '*.[ch]' | sort)
fi
[ -n "$files" ] || {
	echo "no C sources found under $top"
	exit 1
}
rc=0

# 1. key names: comments removed by the preprocessor's -fpreprocessed mode
#    (no includes or macros expanded), then any "ims:{" or "{global}" left
#    is a key spelled in code
nkey=0
for f in $files; do
	[ "$f" = lib/rkeys.h ] && continue
	hits=$(cpp -fpreprocessed -dD -P "$f" 2>/dev/null | grep -nE 'ims:\{|\{global\}')
	if [ -n "$hits" ]; then
		echo "$hits" | sed "s|^|key literal outside lib/rkeys.h: $f: |"
		nkey=$((nkey + 1))
	fi
done
[ "$nkey" -eq 0 ] || {
	echo "FAIL: $nkey files spell Redis keys (use the names of lib/rkeys.h)"
	rc=1
}

# 2. no hiredis above the layer
nhi=0
for f in $files; do
	case $f in milter/* | webapi/* | cli/*) ;; *) continue ;; esac
	hits=$(cpp -fpreprocessed -dD -P "$f" 2>/dev/null |
		grep -nE 'hiredis|redisContext|redisReply|redis[A-Za-z]*Command|freeReplyObject|rkeys\.h|IMS_KEY_')
	if [ -n "$hits" ]; then
		echo "$hits" | sed "s|^|hiredis above the layer: $f: |"
		nhi=$((nhi + 1))
	fi
done
[ "$nhi" -eq 0 ] || {
	echo "FAIL: $nhi files of milter/, webapi/, cli/ use hiredis (call a lib/ domain module)"
	rc=1
}

[ "$rc" -eq 0 ] &&
	echo "layering: $(echo "$files" | wc -l) files, keys only in lib/rkeys.h, no hiredis above lib/"
exit $rc
