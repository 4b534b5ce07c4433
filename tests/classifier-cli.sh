#!/bin/sh
# The ims command end to end on the fixture messages: train a tiny model,
# classify (text and JSON, stdin), eval, model info, and the exit codes
# (0 ok, 1 error with one line on stderr, 2 usage).
set -u
IMS="$top_builddir/cli/ims"
FIX="$top_srcdir/tests/data/mime"
T=$(mktemp -d "${TMPDIR:-/tmp}/ims-cli-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
check() { # description, then the command's status must equal $1
	want=$1; shift; desc=$1; shift
	"$@" >"$T/out" 2>"$T/err"; got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL $desc: exit $got, want $want" >&2; cat "$T/out" "$T/err" >&2; fail=1
	else
		echo "ok   $desc"
	fi
}
contains() { # file, text
	if ! grep -q -- "$2" "$1"; then echo "FAIL: '$2' not in $1:" >&2; cat "$1" >&2; fail=1; fi
}

check 0 "train" "$IMS" -c /dev/null train -q --folds 3 --hash-bits 16 \
	--ham "$FIX/train/ham" --spam "$FIX/train/spam" -o "$T/m.ims"
contains "$T/out" "trained"
check 0 "classify" "$IMS" -c /dev/null --model "$T/m.ims" classify \
	"$FIX/train/ham/ham1.eml" "$FIX/train/spam/spam1.eml"
contains "$T/out" "ham1.eml: ham score="
contains "$T/out" "spam1.eml: spam score="
check 0 "classify --json" "$IMS" -c /dev/null classify --json --model "$T/m.ims" "$FIX/train/spam/spam2.eml"
contains "$T/out" '"verdict":"spam"'
contains "$T/out" '"probability":'
contains "$T/out" '"score":'
contains "$T/out" '"threshold":'
"$IMS" -c /dev/null --model "$T/m.ims" classify --json - <"$FIX/train/ham/ham2.eml" >"$T/out" 2>&1
contains "$T/out" '"file":"-"'
contains "$T/out" '"verdict":"ham"'
check 0 "eval" "$IMS" -c /dev/null --model "$T/m.ims" eval --ham "$FIX/train/ham" --spam "$FIX/train/spam"
for k in accuracy false_positive_rate false_negative_rate roc_auc messages_per_second \
	'"ham":6' '"spam":6' false_positives false_negatives; do contains "$T/out" "$k"; done
check 0 "model info" "$IMS" -c /dev/null --model "$T/m.ims" model info
contains "$T/out" "feature_version: "
contains "$T/out" "hash_bits: 16"
contains "$T/out" "threshold: "
contains "$T/out" "target_fpr: 0.005"
contains "$T/out" "platt_a: -"
# a quarantine threshold, shown by model info
check 0 "train --quarantine-fpr" "$IMS" -c /dev/null train -q --folds 3 --hash-bits 16 \
	--target-fpr 0.2 --quarantine-fpr 0.1 --ham "$FIX/train/ham" --spam "$FIX/train/spam" -o "$T/q.ims"
contains "$T/out" "threshold "
check 0 "model info (quarantine)" "$IMS" -c /dev/null --model "$T/q.ims" model info
contains "$T/out" "target_fpr: 0.2"
contains "$T/out" "threshold_quarantine: "
contains "$T/out" "quarantine_fpr: 0.1"

# errors: one line on stderr, exit 1
check 1 "missing file" "$IMS" -c /dev/null --model "$T/m.ims" classify "$T/nope.eml"
contains "$T/err" "nope.eml"
check 1 "missing model" "$IMS" -c /dev/null --model "$T/nope.ims" classify "$FIX/plain.eml"
head -c 100 "$T/m.ims" >"$T/trunc.ims"
check 1 "truncated model" "$IMS" -c /dev/null --model "$T/trunc.ims" model info
contains "$T/err" "corrupt or truncated"
[ "$(wc -l <"$T/err")" -eq 1 ] || { echo "FAIL: more than one error line" >&2; fail=1; }
printf '[nosuchsection]\nfoo = 1\n' >"$T/bad.conf"
check 1 "bad explicit config" "$IMS" -c "$T/bad.conf" classify "$FIX/plain.eml"
check 1 "explicit config missing" "$IMS" -c "$T/none.conf" classify "$FIX/plain.eml"
# usage: exit 2
check 2 "no command" "$IMS"
check 2 "unknown command" "$IMS" frobnicate
check 2 "train without args" "$IMS" train
check 2 "train bad --target-fpr" "$IMS" train --target-fpr 0.7 --ham "$FIX/train/ham" \
	--spam "$FIX/train/spam" -o "$T/x.ims"
check 2 "train --quarantine-fpr not below the target" "$IMS" train --target-fpr 0.01 \
	--quarantine-fpr 0.02 --ham "$FIX/train/ham" --spam "$FIX/train/spam" -o "$T/x.ims"
check 2 "classify bad option" "$IMS" classify --bogus
for c in train classify eval model; do check 0 "$c --help" "$IMS" "$c" --help; done
check 0 "--help" "$IMS" --help
contains "$T/out" "classify"
exit $fail
