#!/usr/bin/env bash
# bench/compare.sh REV [ROUNDS] — before/after in one run: builds commit REV
# (the "before") beside the working tree's build (the "after"), then runs the
# same measurements on both, alternating before/after ROUNDS times (default
# 3), each on its own throwaway cluster: tap-to-ACK at 1,000 events/s and
# saturation (bench/ingest.sh), headcount of 5,000 (bench/headcount.sh,
# function and whole `sacctl headcount`).  Prints each round and the
# medians.  `make bench BENCH_BASE=REV` runs it after the other benchmarks.
set -u
cd "$(dirname "$0")/.."
rev=${1:?usage: bench/compare.sh REV [ROUNDS]}
rounds=${2:-3}
after=$PWD/build
base_src=$(mktemp -d /tmp/sac-bench-base.XXXXXX)
trap 'rm -rf "$base_src"' EXIT
git archive --format=tar "$rev" | tar -x -C "$base_src" || { echo "cannot check out $rev"; exit 2; }
[ -e ../shared ] && ln -s "$PWD/../shared" "$base_src/../shared" 2>/dev/null
echo "# building $rev ($(git log -1 --format=%s "$rev" | cut -c1-70)) in $base_src"
make -C "$base_src" -j"$(nproc)" all >"$base_src/build.log" 2>&1 || { tail -20 "$base_src/build.log"; exit 2; }
[ -x "$after/bin/sac-controller" ] && [ -x "$after/bench/ingest" ] || { echo "build first: make all"; exit 2; }

out=$(mktemp -d /tmp/sac-bench-compare.XXXXXX)
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# measure WHICH BIN_DIR: one round; appends "name value" lines to $out/WHICH.
measure() {
    local which=$1 bin=$2 log="$out/$which.round"
    BENCH_RUNS=1 BENCH_PARTS="fixed sat" SAC_BIN=$bin SAC_BENCH_BIN=$after/bench/ingest \
        bash bench/ingest.sh >"$log" 2>&1
    echo "tap_p50 $(sed -n 's/.*tap-to-ACK p50 \([0-9.]*\) ms.*/\1/p' "$log")" >>"$out/$which"
    echo "tap_p99 $(sed -n 's/.*tap-to-ACK p50 [0-9.]* ms, p99 \([0-9.]*\) ms.*/\1/p' "$log")" >>"$out/$which"
    echo "sat $(sed -n 's/^saturation.*: \([0-9]*\) events\/s.*/\1/p' "$log")" >>"$out/$which"
    SAC_BIN=$bin SAC_BENCH_EVENTS=100000 BENCH_HEADCOUNT_BIG=0 bash bench/headcount.sh >"$log" 2>&1
    echo "hc_fn $(awk '/^SELECT \* FROM sac.headcount/ {print $(NF-1)}' "$log")" >>"$out/$which"
    echo "hc_cmd $(awk '/^sacctl headcount \(text\)/ {print $(NF-1)}' "$log")" >>"$out/$which"
}
: >"$out/before"; : >"$out/after"
for r in $(seq 1 "$rounds"); do
    for which in before after; do
        bin=$base_src/build/bin; [ "$which" = after ] && bin=$after/bin
        n0=$(wc -l <"$out/$which")
        measure "$which" "$bin"
        echo "round $r $which: $(tail -n +$((n0 + 1)) "$out/$which" | awk '{printf "%s=%s ", $1, $2}')(load $(cut -d' ' -f1 /proc/loadavg))"
    done
done
echo
printf '%-44s %12s %12s\n' "median of $rounds rounds" "before" "after"
for k in "tap_p50 tap-to-ACK p50 at 1,000/s (ms)" "tap_p99 tap-to-ACK p99 at 1,000/s (ms)" \
         "sat saturation (events/s)" "hc_fn sac.headcount, 5,000 present (ms)" \
         "hc_cmd sacctl headcount, 5,000 present (ms)"; do
    key=${k%% *}; label=${k#* }
    printf '%-44s %12s %12s\n' "$label" "$(grep "^$key " "$out/before" | field "$key" | median)" \
        "$(grep "^$key " "$out/after" | field "$key" | median)"
done
rm -rf "$out"
