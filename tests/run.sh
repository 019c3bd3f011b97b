#!/bin/sh
# Runs every suite as TAP, for the normal and the sanitizer build, and ends
# with the line "N passed, N failed, N skipped".
# "run.sh quick" (make test): the unit tests and cli.bats on $BUILD only.
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
mode=${1:-all}
builds="build build-asan"
bats_files=$(echo tests/*.bats)
logs=$root/build/test-logs
if [ "$mode" = quick ]; then
        builds=${BUILD:-build}
        bats_files=tests/cli.bats
        case $builds in
        /*) logs=$builds/test-logs ;;
        *) logs=$root/$builds/test-logs ;;
        esac
fi
logdir=${TEST_LOGS:-$logs}
export TEST_LOGS="$logdir" # records.bash's figures.txt goes there too
mkdir -p "$logdir"
: >"$logdir/all.tap"

# suite NAME COMMAND...: runs COMMAND, keeps its TAP, shows failures.
suite() {
        name=$1
        shift
        printf '== %s\n' "$name"
        "$@" >"$logdir/$name.tap" 2>"$logdir/$name.err"
        rc=$?
        # cmocka 1.1.5 writes a skip as "not ok N # SKIP": TAP's "ok".
        sed -i 's/^not ok \([0-9]* # SKIP\)/ok \1/' "$logdir/$name.tap"
        ok=$(grep -c '^ok ' "$logdir/$name.tap")
        bad=$(grep -c '^not ok ' "$logdir/$name.tap")
        skip=$(grep -ci '^ok .*# skip' "$logdir/$name.tap")
        if [ "$rc" -eq 77 ] && [ "$bad" -eq 0 ]; then
                # Exit 77 (automake's convention): what the suite needs is
                # not installed; its "1..0 # SKIP why" line says what.
                why=$(sed -n 's/^1\.\.0 # SKIP //p' "$logdir/$name.tap")
                echo "ok 1 - $name # SKIP ${why:-exit 77}" \
                        >>"$logdir/$name.tap"
                ok=$((ok + 1))
                skip=$((skip + 1))
        elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
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

# Every mandoc message fails but those tests/manlint.sh says it cannot
# count (manuals of this machine), which it prints: shown as comments.
lint() {
        if out=$(sh tests/manlint.sh 2>&1); then
                echo "ok 1 - mandoc -Tlint -W all man/kafkatee-pipe.1"
        else
                echo "not ok 1 - mandoc -Tlint -W all man/kafkatee-pipe.1"
        fi
        [ -z "$out" ] || echo "$out" | sed 's/^/# /'
}

# The style's screenful: tests/funclen.sh names each longer function.
funclen() {
        if out=$(sh tests/funclen.sh 2>&1); then
                echo "ok 1 - no function over 60 lines"
        else
                echo "not ok 1 - no function over 60 lines"
                echo "$out" | sed 's/^/# /'
        fi
}

if [ "$mode" != quick ]; then
        suite lint lint
        suite funclen funclen
        # Hostile input: a bounded libFuzzer run, failing on any finding.
        suite fuzz sh tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"
        # The tests' Avro decoders (Java, Python) agree on known datums.
        suite avro-decoders bash tests/avro/selftest.sh
fi
for build in $builds; do
        case $build in
        /*) export BUILD="$build" ;;
        *) export BUILD="$root/$build" ;;
        esac
        build=$(basename "$build")
        # Every tests/test_*.c: a Makefile rule builds each into $BUILD.
        for src in tests/test_*.c; do
                t=$(basename "$src" .c)
                suite "$build-$t" unit "$BUILD/$t"
        done
        for f in $bats_files; do
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
