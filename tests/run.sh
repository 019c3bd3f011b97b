#!/bin/sh
# Runs every suite as TAP, for the normal and the sanitizer build, and ends
# with the line "N passed, N failed, N skipped".
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
logdir=${TEST_LOGS:-$root/build/test-logs}
mkdir -p "$logdir"
: >"$logdir/all.tap"

# suite NAME COMMAND...: runs COMMAND, keeps its TAP, shows failures.
suite() {
        name=$1
        shift
        printf '== %s\n' "$name"
        "$@" >"$logdir/$name.tap" 2>"$logdir/$name.err"
        rc=$?
        ok=$(grep -c '^ok ' "$logdir/$name.tap")
        bad=$(grep -c '^not ok ' "$logdir/$name.tap")
        skip=$(grep -ci '^ok .*# skip' "$logdir/$name.tap")
        if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
                # Died without saying which test: count it as one failure.
                echo "not ok - $name exited $rc" >>"$logdir/$name.tap"
                bad=1
        fi
        printf '   %s passed, %s failed, %s skipped\n' \
                "$((ok - skip))" "$bad" "$skip"
        if [ "$bad" -gt 0 ]; then
                grep -A15 '^not ok ' "$logdir/$name.tap" | head -60
                tail -n 20 "$logdir/$name.err"
        fi
        cat "$logdir/$name.tap" >>"$logdir/all.tap"
}

unit() {
        CMOCKA_MESSAGE_OUTPUT=TAP "$1"
}

lint() {
        if out=$(mandoc -Tlint -W warning man/kafkatee-pipe.1 2>&1) &&
           [ -z "$out" ]; then
                echo "ok 1 - mandoc -Tlint man/kafkatee-pipe.1"
        else
                echo "not ok 1 - mandoc -Tlint man/kafkatee-pipe.1"
                echo "$out" | sed 's/^/# /'
        fi
}

suite lint lint
# Hostile input: a bounded libFuzzer run, failing on any finding.
suite fuzz sh tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"
for build in build build-asan; do
        export BUILD="$root/$build"
        for t in test_transform test_reader test_config test_msgpool test_output; do
                suite "$build-$t" unit "$BUILD/$t"
        done
        for f in tests/*.bats; do
                [ "$build" = build-asan ] && grep -q '^# no-asan' "$f" &&
                        continue
                suite "$build-$(basename "$f" .bats)" bats --tap "$f"
        done
done

ok=$(grep -c '^ok ' "$logdir/all.tap")
bad=$(grep -c '^not ok ' "$logdir/all.tap")
skip=$(grep -ci '^ok .*# skip' "$logdir/all.tap")
echo "$((ok - skip)) passed, $bad failed, $skip skipped"
[ "$bad" -eq 0 ]
