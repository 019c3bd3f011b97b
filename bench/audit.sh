#!/usr/bin/env bash
# bench/audit.sh [N]: the loss audit's memory and speed.
#
# kafkatee-pipe --audit - reads N (default 10000000) webrequest-like
# events of one producer and run, generated on the fly into a pipe (no
# file of gigabytes), under /usr/bin/time -v:
#   in order     every number, in order: one interval
#   lost 1%      each event dropped with probability 1/100 (seeded), and
#                the rest reversed in blocks of 1000 (partitions
#                interleave): about N/100 gaps to keep, inserts anywhere
#   partitions   each event to one of 4 partitions at random (seeded),
#                read one partition after another (a worst case of a
#                topic's dump): about N/4 intervals open at the end of
#                the first, all filled by the end of the last
# Reports the peak RSS and the events per CPU second of the audit (user +
# sys: the generator, awk, is the slower end of the pipe, so the wall
# time measures it, not the audit; the wall rate is shown too).
# Writes bench/AUDIT.md (BENCH_OUT) and prints it.  Not part of make
# check: about 4 minutes for 10 million on 2 cores.
#
# Then the first min(N, 1000000) events in order through a topic of the
# mock cluster: audited from the topic (--audit -b -t) and from a kcat
# dump of it.
# Environment: BUILD (build), BENCH_SEED (1), BENCH_OUT (bench/AUDIT.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${1:-10000000}
SEED=${BENCH_SEED:-1}
OUT=${BENCH_OUT:-$ROOT/bench/AUDIT.md}
TOPIC_N=$((N < 1000000 ? N : 1000000))
KTP=$BUILD/kafkatee-pipe
WORK=$(mktemp -d)
MOCK= MOCK_HOLD=
trap 'kill $MOCK $MOCK_HOLD 2>/dev/null; rm -rf "$WORK"' EXIT

make -s BUILD="$BUILD" all testbin
[ -x /usr/bin/time ] || { echo "bench/audit.sh needs GNU time" >&2; exit 1; }

# gen LOSS: N events on stdout; LOSS > 0 drops that fraction at random and
# reverses the rest in blocks of 1000; LOSS "partitions": see above.
gen() {
        awk -v n="$N" -v loss="$1" -v seed="$SEED" '
        function ev(i) {
                return sprintf("{\"$schema\":\"/webrequest/1.0.0\",\"meta\":" \
                    "{\"stream\":\"webrequest\",\"domain\":\"cp3050.esams" \
                    ".wmnet\",\"id\":\"%08x-0000-4000-8000-%012x\",\"dt\":" \
                    "\"2026-11-30T16:44:23Z\"},\"sequence\":%d,\"sequen" \
                    "ce_run\":\"20261130T164423Z-3f9a1c2b\",\"uri_host\":" \
                    "\"en.wikipedia.org\",\"uri_path\":\"/wiki/Page_%d\"," \
                    "\"http_status\":\"200\",\"response_size\":%d}", i % 4294967296,
                    i, i, i, i % 90000)
        }
        function partitions(p, i) {
                for (p = 0; p < 4; p++) {
                        srand(seed) # the same draws for each pass
                        for (i = 1; i <= n; i++)
                                if (int(rand() * 4) == p)
                                        print ev(i)
                }
        }
        BEGIN {
                if (loss == "partitions") {
                        partitions()
                        exit
                }
                srand(seed)
                for (i = 1; i <= n; i++) {
                        if (loss == 0) { print ev(i); continue }
                        if (rand() >= loss)
                                buf[k++] = ev(i)
                        if (i % 1000 == 0 || i == n) {
                                while (k > 0)
                                        print buf[--k]
                        }
                }
        }'
}

# row NAME LOSS: one measured audit; a table row on stdout.
row() {
        local t0 t1
        t0=$(date +%s.%N)
        gen "$2" | /usr/bin/time -v -o "$WORK/time" "$KTP" --audit - --json \
                >"$WORK/report" || [ $? -eq 3 ]
        t1=$(date +%s.%N)
        measured "$1" "$t0" "$t1"
}

# topic_rows: the first TOPIC_N events in order produced by kcat into a
# topic of 128 partitions of the mock cluster (the mock keeps about 5 MB
# a partition), then audited from the topic (--audit -b -t, librdkafka's
# defaults) and from a kcat dump of it (--audit FILE); two table rows.
topic_rows() {
        local b n=$TOPIC_N t0 t1 r src

        mkfifo "$WORK/mock.in"
        sleep 3600 >"$WORK/mock.in" &
        MOCK_HOLD=$!
        "$BUILD/mockcluster" -t audit:128 <"$WORK/mock.in" \
                >"$WORK/mock.out" 2>/dev/null &
        MOCK=$!
        for r in $(seq 100); do
                [ -s "$WORK/mock.out" ] && break
                sleep 0.1
        done
        b=$(head -n 1 "$WORK/mock.out")
        N=$n gen 0 | kcat -P -b "$b" -t audit -X linger.ms=50 \
                -X sticky.partitioning.linger.ms=0
        timeout 120 kcat -C -b "$b" -t audit -e -q >"$WORK/dump"
        for src in topic file; do
                t0=$(date +%s.%N)
                if [ "$src" = topic ]; then
                        /usr/bin/time -v -o "$WORK/time" "$KTP" --audit \
                                -b "$b" -t audit --json >"$WORK/report"
                else
                        /usr/bin/time -v -o "$WORK/time" "$KTP" --audit \
                                "$WORK/dump" --json >"$WORK/report"
                fi
                t1=$(date +%s.%N)
                measured "$src" "$t0" "$t1"
        done
        kill "$MOCK" "$MOCK_HOLD" 2>/dev/null || true
}

# measured NAME T0 T1: the row of the audit GNU time measured into
# $WORK/time, its report in $WORK/report, the wall time T1 - T0.
measured() {
        local rss cpu wall events missing
        rss=$(awk -F': ' '/Maximum resident/ { print $2 }' "$WORK/time")
        cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' \
                "$WORK/time")
        events=$(jq .events "$WORK/report")
        missing=$(jq .missing "$WORK/report")
        wall=$(echo "$3 - $2" | bc -l)
        printf '| %s | %s | %s | %s | %.1f | %.2f | %.0f | %.0f |\n' "$1" \
                "$events" "$missing" "$(jq '.runs[0].gaps | length' \
                "$WORK/report")" "$(echo "$rss / 1024" | bc -l)" "$cpu" \
                "$(echo "$events / $cpu" | bc -l)" \
                "$(echo "$events / $wall" | bc -l)"
}

# The program's own peak RSS, auditing nothing: the libraries it links.
base() {
        /usr/bin/time -v -o "$WORK/time" "$KTP" --audit - </dev/null \
                >/dev/null
        echo "$(awk -F': ' '/Maximum resident/ { print $2 }' \
                "$WORK/time") / 1024" | bc -l
}

{
        echo "# kafkatee-pipe --audit: memory and speed"
        echo
        echo "Written by \`bench/audit.sh $N\` (never edit it) at commit" \
                "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)," \
                "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load" \
                "$(cut -d' ' -f1 /proc/loadavg) at the start."
        echo "One producer, one run, generated by awk into a pipe;" \
                "peak RSS and CPU of the audit alone (GNU time)."
        echo
        printf 'Peak RSS auditing an empty input (the program and its'
        printf ' libraries): %.1f MiB.\n\n' "$(base)"
        echo "| input | events | missing | gaps | peak RSS MiB | audit CPU s | events/CPU s | events/s wall (generator-bound) |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        row "in order" 0
        row "lost 1%, blocks of 1000 reversed" 0.01
        row "4 random partitions, read in turn" partitions
        echo
        echo "The first $TOPIC_N events, in order, produced by kcat into a" \
                "topic of 128 partitions of librdkafka's mock cluster," \
                "audited from the topic (\`--audit -b -t\`, librdkafka's" \
                "defaults: its prefetch, up to queued.max.messages.kbytes," \
                "is most of the RSS) and from a kcat dump of it in a file:"
        echo
        echo "| source | events | missing | gaps | peak RSS MiB | audit CPU s | events/CPU s | events/s wall |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        topic_rows
} >"$WORK/md"
cp "$WORK/md" "$OUT"
cat "$OUT"
