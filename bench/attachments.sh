#!/bin/sh
# CPU time of the attachment walker per kind of attachment: writes the
# attachments of bench/malware.py's message set (and a few more) to a
# temp dir, compiles bench/attachments.c with lib/attachments.c at -O2 (no
# sanitizers) and prints a markdown table for docs/benchmarks.md.
#
# usage: bench/attachments.sh
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ims-bench-attach.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
printf '#define PACKAGE_VERSION "bench"\n#define _GNU_SOURCE 1\n' >"$TMP/config.h"
# shellcheck disable=SC2046
cc -O2 -I"$TMP" -I"$HERE/lib" -I"$HERE/classifier" $(pkg-config --cflags gmime-3.0) \
	-o "$TMP/attachments" "$HERE/bench/attachments.c" "$HERE/lib/attachments.c" \
	"$HERE/lib/heuristics.c" $(pkg-config --libs libmagic libarchive gmime-3.0)
mkdir "$TMP/kinds"
python3 - "$HERE" "$TMP/kinds" <<'PY'
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("mw", os.path.join(sys.argv[1], "bench/malware.py"))
mw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mw)
out = sys.argv[2]
t = mw.text_kb
files = {
    "report.pdf": b"%PDF-1.4\n" + os.urandom(40 * 1024),
    "invoice.pdf.exe": mw.pe_bytes(8192),
    "notes.txt": t(20),
    "docs.zip": mw.zip_of([(f"notes{i}.txt", t(20)) for i in range(3)]),
    "letter.docx": mw.zip_of([("[Content_Types].xml", b"<Types/>"),
                              ("word/document.xml", b"<w:document>" + t(30) + b"</w:document>")]),
    "outer.zip": mw.zip_of([("inner.zip", mw.zip_of([("a.txt", t(10)), ("b.txt", t(10))]))]),
    "photos.zip": mw.zip_of([(f"p{i}.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(30000))
                             for i in range(5)]),
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
PY
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
"$TMP/attachments" "$TMP"/kinds/*
