#!/bin/sh
# Fuzzes each target with libFuzzer (clang, ASan+UBSan) for SECONDS each
# (default 60), two targets at a time (IMS_FUZZ_JOBS), and prints one line
# per target: "PASS: fuzz-T (N runs, cov C ft F)" or "FAIL: fuzz-T ...".
# Exits non-zero on any crash, oracle failure, leak or timeout.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
# IMS_FUZZ_KEEP_GOING=1 (long runs): libFuzzer's fork mode goes on after a
# crash and the line counts the crashes found.  IMS_FUZZ_WORK=DIR keeps
# corpus/, artifacts/ and logs/ there instead of in build-fuzz/.
# Builds a clang tree in build-fuzz/ (configure --enable-fuzzers); the
# corpus grows in build-fuzz/corpus/T, crashes land in build-fuzz/artifacts/;
# copy a reproducer to tests/fuzz/seeds/T/ with its fix (`make check`
# replays the seeds).
#
# Reproducible by default: each target runs with a fixed libFuzzer -seed
# (the CRC of its name, `cksum`) from a fresh corpus of its seeds only, so
# every run tries the same inputs in the same order and a CI result is not
# a matter of luck; SECONDS only decides how far along that sequence it gets
# (IMS_FUZZ_RUNS=N stops after N inputs as well, for an exact repeat).  The
# result line prints the seed and the number of runs: the same binary with
# `-seed=S -runs=N` and the seeds folder reproduces it.
#   IMS_FUZZ_SEED=N       this seed for every target; IMS_FUZZ_SEED=random:
#                         libFuzzer picks one (long campaigns; still printed)
#   IMS_FUZZ_KEEP_CORPUS=1  keep and grow corpus/T between runs (campaigns)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
# every target has a seed folder (tests/fuzz/replay.sh replays it): that is the list
all=$(ls "$top/tests/fuzz/seeds")
targets=${*:-$all}
jobs=${IMS_FUZZ_JOBS:-2}
out="$top/build-fuzz"
mkdir -p "$out" && cd "$out"
if [ ! -f Makefile ]; then
	"$top/configure" -q CC=clang --enable-fuzzers \
		CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined"
fi
# shellcheck disable=SC2046
make -s -j2 $(for t in $targets; do printf 'tests/fuzz/fuzz-%s ' "$t"; done) >build.log 2>&1 ||
	{ tail -n 30 build.log; echo "FAIL: building the fuzz targets"; exit 1; }
work=${IMS_FUZZ_WORK:-$out}
mkdir -p "$work" && cd "$work"
mkdir -p artifacts logs

# Address-space randomisation off for the targets (setarch -R, util-linux):
# libFuzzer learns values from the comparisons the code makes, and a
# compared pointer would otherwise make two runs with one seed part ways.
norand=
if setarch "$(uname -m)" -R true 2>/dev/null; then
	norand="setarch $(uname -m) -R"
fi

# The seed of target $1: IMS_FUZZ_SEED, else the CRC of the name (never 0,
# which asks libFuzzer for a random one).
seed_of() {
	case "${IMS_FUZZ_SEED:-}" in
	random) echo 0 ;;
	'') s=$(printf '%s' "$1" | cksum | cut -d ' ' -f 1); echo $((s % 2147483646 + 1)) ;;
	*) echo "$IMS_FUZZ_SEED" ;;
	esac
}

# One target: runs it, writes logs/T.result with the PASS/FAIL line.
fuzz_one() {
	t=$1
	seed=$(seed_of "$t")
	[ -n "${IMS_FUZZ_KEEP_CORPUS:-}" ] || rm -rf "corpus/$t"
	mkdir -p "corpus/$t"
	runs_opt=
	[ -n "${IMS_FUZZ_RUNS:-}" ] && runs_opt="-runs=$IMS_FUZZ_RUNS"
	keep=
	[ -n "${IMS_FUZZ_KEEP_GOING:-}" ] && keep="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
	status=0
	# shellcheck disable=SC2086
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		top_srcdir="$top" $norand "$out/tests/fuzz/fuzz-$t" -seed="$seed" -max_total_time="$secs" \
		$runs_opt -timeout=20 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="artifacts/$t-" $keep "corpus/$t" "$top/tests/fuzz/seeds/$t" \
		>"logs/$t.log" 2>&1 || status=$?
	# the seed libFuzzer used (the one it picked for IMS_FUZZ_SEED=random)
	used=$(sed -n 's/^INFO: Seed: *\([0-9]*\).*/\1/p' "logs/$t.log" | head -n 1)
	seed=${used:-$seed}
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\):* .*/\1/p' "logs/$t.log" | tail -n 1)
	cov=$(grep -a -o 'cov: [0-9]* ft: [0-9]*' "logs/$t.log" | tail -n 1)
	if [ "$status" -eq 0 ]; then
		crashes=$(ls artifacts/"$t"-* 2>/dev/null | wc -l)
		if [ "$crashes" -gt 0 ]; then
			echo "FAIL: fuzz-$t (seed $seed, ${runs:-?} runs, ${cov:-cov ?}, $crashes crashes in artifacts/)" >"logs/$t.result"
		else
			echo "PASS: fuzz-$t (seed $seed, ${runs:-?} runs, ${cov:-cov ?})" >"logs/$t.result"
		fi
	else
		art=$(ls -t artifacts/"$t"-* 2>/dev/null | head -n 1)
		why=$(grep -a -m 1 -E 'fuzz oracle failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
			"logs/$t.log" | cut -c 1-200)
		echo "FAIL: fuzz-$t ($why; seed $seed, ${runs:-?} runs, ${cov:-cov ?}) ${art:+reproducer: $work/$art}" \
			>"logs/$t.result"
	fi
}

rm -f logs/*.result
running=0
for t in $targets; do
	echo "== fuzz-$t for ${secs}s${IMS_FUZZ_RUNS:+ or $IMS_FUZZ_RUNS runs}, seed $(seed_of "$t")"
	fuzz_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
rc=0
for t in $targets; do
	cat "logs/$t.result"
	grep -q '^PASS' "logs/$t.result" || {
		rc=1
		grep -v libunbound "logs/$t.log" | grep -A 15 -m 1 -E 'fuzz oracle failed|==ERROR|runtime error' || true
	}
done
exit $rc
