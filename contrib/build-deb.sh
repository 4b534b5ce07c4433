#!/bin/sh
# Builds the Debian packages (ims, ims-milter, ims-webapi) from this tree and
# checks them with lintian.  The build runs in a copy of the tree, so the
# tree's own builds are left alone.
#
#   contrib/build-deb.sh [OUTDIR]      (default: ./deb)
#
# Needs the build dependencies (contrib/install-deps.sh --build) and the corpus
# for the default model (contrib/fetch-corpus.sh; IMS_CORPUS_DIR to point
# elsewhere).  Prints the lintian tags it found; exits non-zero on a build
# failure or a lintian error or warning.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$top/deb}" && cd "${1:-$top/deb}" && pwd)
corpus=${IMS_CORPUS_DIR:-$top/data/corpus}
[ -d "$corpus/train" ] || { echo "build-deb: no corpus in $corpus (contrib/fetch-corpus.sh)" >&2; exit 1; }
corpus=$(cd "$corpus" && pwd -P)
T=$(mktemp -d "${TMPDIR:-/tmp}/ims-deb.XXXXXX")
trap 'rm -rf "$T"' EXIT
src="$T/ims-$(sed -n 's/^ims (\([^)]*\)).*/\1/p;q' "$top/debian/changelog")"
mkdir -p "$src"
# The tracked files as they are in the work tree (uncommitted edits included).
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 tar -cf - --no-recursion 2>/dev/null) | tar -xf - -C "$src"
# The built web UI (git-ignored; npm run build in webui/) goes in as a
# tarball carries it: the package build needs no npm.
[ -f "$top/webui/dist/index.html" ] || {
	echo "build-deb: the web UI is not built (npm ci && npm run build in webui/)" >&2; exit 1; }
cp -pR "$top/webui/dist" "$src/webui/dist"
(cd "$src" && IMS_CORPUS_DIR="$corpus" dpkg-buildpackage -us -uc -b -j2 >"$T/build.log" 2>&1) || {
	tail -n 60 "$T/build.log" >&2; echo "build-deb: dpkg-buildpackage failed" >&2; exit 1; }
cp "$T"/*.deb "$T"/*.changes "$T"/*.buildinfo "$out"/
echo "build-deb: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"
# lintian: errors and warnings fail; each accepted tag has an override with its reason.
if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error,warning --suppress-tags-from-file /dev/null "$out"/*.changes
fi
