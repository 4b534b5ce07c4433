#!/bin/sh
# Classifier figures on the SpamAssassin corpus with the fixed split
# (docs/classifier.md): trains on the training part, measures on the test
# part (overall and per group), throughput of `ims eval` and `ims classify`
# on one core, training time and peak memory (/usr/bin/time -v); then the
# time-ordered validation built from the training part alone
# (bench/time-split.py: trained on the older messages, measured on the newer)
# and obfuscated copies of that newer half (bench/obfuscate.py).
#
# usage: bench/classifier.sh [-b BUILDDIR] [-o OUTDIR] [-B BEFORE] [--libsvm]
#   BUILDDIR  a build tree with cli/ims (default: .)
#   OUTDIR    where the model, logs and results.json go (default: a temp dir)
#   BEFORE    another ims binary (e.g. built from an older commit): it trains
#             its own models (feature versions may differ), and its figures,
#             throughput and callgrind instruction count are measured in the
#             same run, interleaved with this build's, for before/after ratios
#   --libsvm  also train with libsvm for the side-by-side (takes minutes)
# Prints a markdown summary for docs/benchmarks.md and keeps every raw JSON
# object in OUTDIR/results.json.  Never tunes anything: the model is trained
# on the training part only, the test part is only measured.
set -eu
BUILD=.
OUT=""
LIBSVM=0
BEFORE=""
while [ $# -gt 0 ]; do
	case "$1" in
	-b) BUILD=$2; shift 2 ;;
	-o) OUT=$2; shift 2 ;;
	-B) BEFORE=$2; shift 2 ;;
	--libsvm) LIBSVM=1; shift ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "usage: $0 [-b BUILDDIR] [-o OUTDIR] [-B BEFORE] [--libsvm]" >&2; exit 2 ;;
	esac
done
[ -z "$BEFORE" ] || [ -x "$BEFORE" ] || { echo "bench: $BEFORE is not executable" >&2; exit 1; }
HERE=$(cd "$(dirname "$0")/.." && pwd)
IMS="$(cd "$BUILD" && pwd)/cli/ims"
[ -x "$IMS" ] || { echo "bench: $IMS not built" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
[ -n "$OUT" ] || OUT=$(mktemp -d "${TMPDIR:-/tmp}/ims-bench.XXXXXX")
mkdir -p "$OUT"
CORPUS="${IMS_CORPUS_DIR:-$HERE/data/corpus}"
"$HERE/contrib/fetch-corpus.sh" -o "$CORPUS" >&2
TR="$CORPUS/train"; TE="$CORPUS/test"
RES="$OUT/results.json"
: >"$RES"

peak_kb() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
elapsed() { sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1"; }
jget() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/{print $2}') GB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/machine.txt"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$OUT/machine.txt"

# 1. training (default trainer), with peak memory
/usr/bin/time -v "$IMS" -c /dev/null train -q --ham "$TR/ham" --spam "$TR/spam" -o "$OUT/model.ims" \
	>"$OUT/train.out" 2>"$OUT/train.time"
cat "$OUT/train.out"
echo "{\"what\":\"train\",\"peak_rss_kb\":$(peak_kb "$OUT/train.time"),\"wall\":\"$(elapsed "$OUT/train.time")\"}" >>"$RES"
"$IMS" -c /dev/null --model "$OUT/model.ims" model info >"$OUT/model-info.txt"

# 2. accuracy on the test part, overall and per group
ev() { "$IMS" -c /dev/null --model "$OUT/model.ims" eval "$@"; }
cat "$TE/ham"/* "$TE/spam"/* >/dev/null # warm the page cache
ev --ham "$TE/ham" --spam "$TE/spam" >"$OUT/test.json"
ev --ham "$TE/easy-ham" >"$OUT/easy-ham.json"
ev --ham "$TE/hard-ham" >"$OUT/hard-ham.json"
ev --spam "$TE/spam" >"$OUT/spam.json"
ev --ham "$TE/hard-ham" --spam "$TE/spam" >"$OUT/hard-ham-vs-spam.json"
ev --ham "$TE/easy-ham" --spam "$TE/spam" >"$OUT/easy-ham-vs-spam.json"
for f in test easy-ham hard-ham spam hard-ham-vs-spam easy-ham-vs-spam; do
	sed "s/^{/{\"what\":\"eval-$f\",/" "$OUT/$f.json" >>"$RES"
done

# 2b. time-ordered validation (training part only) and obfuscated copies of
#     its newer half, for this build and the BEFORE one
/usr/bin/python3 "$HERE/bench/time-split.py" -c "$CORPUS" -o "$OUT/ts" >>"$RES"
/usr/bin/python3 "$HERE/bench/obfuscate.py" -o "$OUT/obf/spam" "$OUT/ts/validate/spam" >/dev/null
/usr/bin/python3 "$HERE/bench/obfuscate.py" -o "$OUT/obf/ham" "$OUT/ts/validate/ham" >/dev/null
for who in after before; do
	bin=$IMS; [ $who = before ] && bin=$BEFORE
	[ -n "$bin" ] || continue
	"$bin" -c /dev/null train -q --ham "$OUT/ts/fit/ham" --spam "$OUT/ts/fit/spam" \
		-o "$OUT/ts-$who.ims" >"$OUT/ts-train-$who.out"
	sed 's/^/time-split fit: /' "$OUT/ts-train-$who.out"
	"$bin" -c /dev/null --model "$OUT/ts-$who.ims" eval --ham "$OUT/ts/validate/ham" \
		--spam "$OUT/ts/validate/spam" | sed "s/^{/{\"what\":\"timesplit-validate-$who\",/" >>"$RES"
	for m in zw shy lookalike fullwidth mixed forward; do
		"$bin" -c /dev/null --model "$OUT/ts-$who.ims" eval --ham "$OUT/obf/ham/$m" \
			--spam "$OUT/obf/spam/$m" | sed "s/^{/{\"what\":\"obfuscated-$m-$who\",/" >>"$RES"
	done
done

# 3. throughput, one core (taskset), best of 5 eval runs; classify as a
#    whole process (start, model load, every file) with peak memory
ONE="taskset -c 0"
command -v taskset >/dev/null 2>&1 || ONE=""
best=0; bestcpu=0
for i in 1 2 3 4 5; do
	$ONE "$IMS" -c /dev/null --model "$OUT/model.ims" eval --ham "$TE/ham" --spam "$TE/spam" >"$OUT/tp.json"
	r=$(jget messages_per_second <"$OUT/tp.json"); c=$(jget messages_per_cpu_second <"$OUT/tp.json")
	best=$(/usr/bin/python3 -c "print(max($best, $r))"); bestcpu=$(/usr/bin/python3 -c "print(max($bestcpu, $c))")
done
echo "{\"what\":\"eval-throughput\",\"best_messages_per_second\":$best,\"best_messages_per_cpu_second\":$bestcpu}" >>"$RES"
n=$(ls "$TE/ham" "$TE/spam" | grep -c '\.txt$')
/usr/bin/time -v $ONE "$IMS" -c /dev/null --model "$OUT/model.ims" eval --ham "$TE/ham" --spam "$TE/spam" \
	>/dev/null 2>"$OUT/eval.time"
(cd "$TE" && /usr/bin/time -v $ONE "$IMS" -c /dev/null --model "$OUT/model.ims" classify --json ham/* spam/* \
	>"$OUT/classify.jsonl" 2>"$OUT/classify.time")
cls_s=$(/usr/bin/python3 -c "
t='$(elapsed "$OUT/classify.time")'.split(':'); s=float(t[-1])+60*float(t[-2])+(3600*float(t[-3]) if len(t)>2 else 0); print(s)")
cls_rate=$(/usr/bin/python3 -c "print(round($n/$cls_s))")
echo "{\"what\":\"classify-process\",\"messages\":$n,\"seconds\":$cls_s,\"messages_per_second\":$cls_rate,\"peak_rss_kb\":$(peak_kb "$OUT/classify.time")}" >>"$RES"
echo "{\"what\":\"eval-process\",\"peak_rss_kb\":$(peak_kb "$OUT/eval.time")}" >>"$RES"

# 3b. before/after in the same run: the two binaries alternate (best of 5
#     each), whole classify processes alternate (best of 3 each), and
#     callgrind counts instructions of `ims eval` on every 8th test message
#     (noise-free; start-up and model load included)
if [ -n "$BEFORE" ]; then
	"$BEFORE" -c /dev/null train -q --ham "$TR/ham" --spam "$TR/spam" -o "$OUT/model-before.ims" >/dev/null
	"$BEFORE" -c /dev/null --model "$OUT/model-before.ims" eval --ham "$TE/ham" --spam "$TE/spam" |
		sed 's/^{/{"what":"eval-test-before",/' >>"$RES"
	bb=0; ba=0; cb=0; ca=0; pb=0; pa=0
	for i in 1 2 3 4 5; do
		for who in after before; do
			bin=$IMS; mod=$OUT/model.ims; [ $who = before ] && bin=$BEFORE && mod=$OUT/model-before.ims
			$ONE "$bin" -c /dev/null --model "$mod" eval --ham "$TE/ham" --spam "$TE/spam" >"$OUT/tp-$who.json"
			r=$(jget messages_per_second <"$OUT/tp-$who.json"); p=$(jget messages_per_cpu_second <"$OUT/tp-$who.json")
			if [ $who = before ]; then bb=$(/usr/bin/python3 -c "print(max($bb, $r))"); pb=$(/usr/bin/python3 -c "print(max($pb, $p))")
			else ba=$(/usr/bin/python3 -c "print(max($ba, $r))"); pa=$(/usr/bin/python3 -c "print(max($pa, $p))"); fi
		done
	done
	for i in 1 2 3; do
		for who in after before; do
			bin=$IMS; mod=$OUT/model.ims; [ $who = before ] && bin=$BEFORE && mod=$OUT/model-before.ims
			t0=$(date +%s.%N)
			(cd "$TE" && $ONE "$bin" -c /dev/null --model "$mod" classify --json ham/* spam/* >"$OUT/classify-$who.jsonl")
			r=$(/usr/bin/python3 -c "print(round($n / ($(date +%s.%N) - $t0)))")
			if [ $who = before ]; then cb=$(/usr/bin/python3 -c "print(max($cb, $r))"); else ca=$(/usr/bin/python3 -c "print(max($ca, $r))"); fi
		done
	done
	same=$(/usr/bin/python3 -c "
import json
a=[json.loads(l) for l in open('$OUT/classify-after.jsonl')]; b=[json.loads(l) for l in open('$OUT/classify-before.jsonl')]
print(max(abs(x['score']-y['score']) for x,y in zip(a,b)) if len(a)==len(b) and all(x['file']==y['file'] for x,y in zip(a,b)) else 'mismatch')")
	echo "{\"what\":\"before-after\",\"eval_best_messages_per_cpu_second_before\":$pb,\"eval_best_messages_per_cpu_second_after\":$pa,\"eval_best_messages_per_second_before\":$bb,\"eval_best_messages_per_second_after\":$ba,\"classify_best_messages_per_second_before\":$cb,\"classify_best_messages_per_second_after\":$ca,\"max_score_difference\":\"$same\"}" >>"$RES"
	if command -v valgrind >/dev/null 2>&1; then
		sub="$OUT/every8"
		rm -rf "$sub"; mkdir -p "$sub/ham" "$sub/spam"
		for g in ham spam; do
			ls "$TE/$g" | awk 'NR % 8 == 1' | while read -r f; do ln -s "$TE/$g/$f" "$sub/$g/$f"; done
		done
		m=$(ls "$sub/ham" "$sub/spam" | grep -c '\.txt$')
		for who in before after; do
			bin=$IMS; mod=$OUT/model.ims; [ $who = before ] && bin=$BEFORE && mod=$OUT/model-before.ims
			valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind-$who.out" \
				"$bin" -c /dev/null --model "$mod" eval --ham "$sub/ham" --spam "$sub/spam" \
				>/dev/null 2>"$OUT/callgrind-$who.log"
			ir=$(sed -n 's/.*Collected : *//p' "$OUT/callgrind-$who.log")
			echo "{\"what\":\"callgrind-$who\",\"messages\":$m,\"instructions\":$ir}" >>"$RES"
		done
	fi
fi

# 4. optional: libsvm side by side
if [ $LIBSVM -eq 1 ]; then
	/usr/bin/time -v "$IMS" -c /dev/null train -q --trainer libsvm --ham "$TR/ham" --spam "$TR/spam" \
		-o "$OUT/model-libsvm.ims" >"$OUT/train-libsvm.out" 2>"$OUT/train-libsvm.time"
	cat "$OUT/train-libsvm.out"
	echo "{\"what\":\"train-libsvm\",\"peak_rss_kb\":$(peak_kb "$OUT/train-libsvm.time"),\"wall\":\"$(elapsed "$OUT/train-libsvm.time")\"}" >>"$RES"
	"$IMS" -c /dev/null --model "$OUT/model-libsvm.ims" eval --ham "$TE/ham" --spam "$TE/spam" |
		sed 's/^{/{"what":"eval-test-libsvm",/' >>"$RES"
fi

# 5. the HTML-to-text comparison behind docs/classifier.md "HTML"
if pkg-config --exists libxml-2.0 2>/dev/null; then
	cc -O2 -I"$BUILD" -I"$HERE/lib" -I"$HERE/classifier" $(pkg-config --cflags glib-2.0 libxml-2.0) \
		"$HERE/bench/classifier-html.c" "$HERE/classifier/html.c" \
		$(pkg-config --libs glib-2.0 libxml-2.0) -o "$OUT/html-bench" &&
		"$OUT/html-bench" "$TR/ham" "$TR/spam" | tail -1 | sed 's/^{/{"what":"html-to-text",/' >>"$RES"
fi

cat "$OUT/machine.txt"
cat "$RES"
echo "results in $OUT" >&2
