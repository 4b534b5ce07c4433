#!/bin/sh
# Obfuscated copies keep their verdict: a tiny model trained on the fixture
# training messages, bench/obfuscate.py makes copies of the same messages
# with every word of 4+ letters obfuscated (zero-width space, soft hyphen,
# Cyrillic/Greek look-alikes, full-width letters, a mix) and a copy
# forwarded as message/rfc822; each copy must get the original's verdict,
# and the word obfuscations a score within 0.15 of the original's (they
# normalise to the same words; the re-encoding to UTF-8 base64 changes a
# few header tokens).  Without normalisation the scores move by 0.3-0.7.
set -u
IMS="$top_builddir/cli/ims"
FIX="$top_srcdir/tests/data/mime/train"
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "SKIP: no python3"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/ims-obf-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$IMS" -c /dev/null train -q --folds 3 --hash-bits 16 --ham "$FIX/ham" --spam "$FIX/spam" \
	-o "$T/m.ims" >/dev/null || { echo "FAIL: train"; exit 1; }
"$PY" "$top_srcdir/bench/obfuscate.py" --rate 1 -o "$T/ob" "$FIX/ham" "$FIX/spam" >/dev/null ||
	{ echo "FAIL: obfuscate.py"; exit 1; }
(cd "$FIX" && "$IMS" -c /dev/null --model "$T/m.ims" classify --json ham/* spam/*) >"$T/plain.jsonl"
for m in zw shy lookalike fullwidth mixed forward; do
	(cd "$T/ob/$m" && "$IMS" -c /dev/null --model "$T/m.ims" classify --json *.eml) >"$T/$m.jsonl" ||
		{ echo "FAIL: classify $m"; exit 1; }
done
"$PY" - "$T" <<'PYEOF'
import json, os, sys
t = sys.argv[1]
plain = {os.path.basename(o['file']): o for o in map(json.loads, open(t + '/plain.jsonl'))}
bad = 0
for m in ('zw', 'shy', 'lookalike', 'fullwidth', 'mixed', 'forward'):
    got = [json.loads(l) for l in open('%s/%s.jsonl' % (t, m))]
    if len(got) != len(plain):
        print('FAIL %s: %d copies, %d originals' % (m, len(got), len(plain))); bad = 1
    for o in got:
        p = plain[o['file']]
        if o['verdict'] != p['verdict']:
            print('FAIL %s %s: %s, the original is %s' % (m, o['file'], o['verdict'], p['verdict'])); bad = 1
        elif m != 'forward' and abs(o['score'] - p['score']) > 0.15:
            print('FAIL %s %s: score %.4f, the original %.4f' % (m, o['file'], o['score'], p['score'])); bad = 1
    if not bad:
        print('ok   %s: %d copies keep their verdict' % (m, len(got)))
sys.exit(bad)
PYEOF
