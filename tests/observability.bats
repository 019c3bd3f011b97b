#!/usr/bin/env bats
# Stats and metrics files, SIGUSR1, stall detection, dead-letter replay.

load helpers
load records

setup() {
        export TZ=UTC
        T=$BATS_TEST_TMPDIR
}

teardown() {
        proc_stop_all
        mock_stop
}

@test "stats file: JSON counters, latency, written atomically, final at exit" {
        mock_start -t t:1
        { gen 1000; echo garbage; echo; } | "$KTP" -b "$BROKERS" -t t \
                --stats-file "$T/stats.json" -o stats.interval.ms=100 2> "$T/err" || true
        counters "$T/err"
        jq -e '.read == 1002 and .delivered == 1000 and .invalid == 1
               and .skipped == 1 and .failed == 0 and .in_flight == 0
               and .topic == "t" and .stream == "netflow"
               and .latency_ms.count == 1000
               and .latency_ms.p50 <= .latency_ms.p99
               and .latency_ms.p99 <= .latency_ms.max
               and (.last_delivery | test("Z$"))
               and .stalled == false' "$T/stats.json"
        [ ! -e "$T/stats.json.tmp" ]
}

@test "stats.rdkafka embeds librdkafka's statistics" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t -q --stats-file "$T/stats.json" \
                -o stats.rdkafka=true -o stats.interval.ms=100
        gen 10 | proc_send ktp
        WAIT_TIMEOUT=10 wait_for jq -e '.rdkafka.type == "producer"
                and (.rdkafka.brokers | length) >= 1' "$T/stats.json"
        proc_finish ktp
        [ "$PROC_STATUS" -eq 0 ]
}

@test "metrics file: Prometheus text format with the instance's labels" {
        gen 20 | "$KTP" --stdout -q --metrics-file "$T/m.prom" > /dev/null
        grep -qx 'kafkatee_pipe_read_total{stream="netflow",topic="netflow"} 20' "$T/m.prom"
        grep -qx 'kafkatee_pipe_delivered_total{stream="netflow",topic="netflow"} 20' "$T/m.prom"
        grep -qx '# TYPE kafkatee_pipe_in_flight gauge' "$T/m.prom"
        grep -q '^kafkatee_pipe_delivery_latency_seconds{.*quantile="0.99"} [0-9.]*$' "$T/m.prom"
        # Every sample line: a name, labels, a number.
        if grep -v '^#' "$T/m.prom" |
                grep -Ev '^kafkatee_pipe_[a-z_]+\{[^}]*\} [-0-9.e+]+$'; then
                false
        fi
}

@test "stats file no longer writable: reported, the records still delivered" {
        # Checked at start (config.bats): here its directory goes away after.
        mkdir "$T/d"
        proc_start ktp "$KTP" --stdout --stats-file "$T/d/s.json"
        proc_send ktp '{"tag": 1}'
        wait_for_line "$(proc_file ktp out)" '"tag": 1'
        rm -r "$T/d"
        proc_finish ktp
        [ "$PROC_STATUS" -eq 0 ]
        grep -q "cannot write stats file $T/d/s.json" "$(proc_file ktp err)"
        grep -q 'delivered=1' "$(proc_file ktp err)"
}

@test "SIGUSR1 prints the counters" {
        proc_start ktp "$KTP" --stdout
        gen 5 | proc_send ktp
        wait_for_line "$(proc_file ktp out)" '"tag": 5'
        kill -USR1 "$ktp_PID"
        wait_for_line "$(proc_file ktp err)" 'counters: read=5 .*delivered=5'
        proc_finish ktp
        [ "$PROC_STATUS" -eq 0 ]
}

@test "a stalled pipeline is reported, then its recovery" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o stall.timeout.ms=1000 \
                --stats-file "$T/stats.json" -o stats.interval.ms=200
        gen 10 | proc_send ktp
        wait_for_count t 10
        mock_cmd "down -1"
        gen 10 11 | proc_send ktp
        wait_for_line "$(proc_file ktp err)" 'stalled: 10 records in flight'
        WAIT_TIMEOUT=5 wait_for jq -e '.stalled' "$T/stats.json"
        mock_cmd "up -1"
        wait_for_line "$(proc_file ktp err)" 'delivering again' 30
        proc_finish ktp 60
        [ "$PROC_STATUS" -eq 0 ]
        jq -e '.stalled == false and .delivered == 20' "$T/stats.json"
}

@test "dead-letter replay: jq -r .raw dead.jsonl | kafkatee-pipe delivers what failed" {
        mock_start -t t:1
        mock_cmd "down -1"
        gen 50 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -X message.timeout.ms=1500 \
                --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        mock_cmd "up -1"
        jq -r .raw "$T/dead" | "$KTP" -b "$BROKERS" -t t 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 50 ]
        [ "$exit" -eq 0 ]
        diff <(seq 50) <(consume_values t | jq -r .tag | sort -n)
}

@test "metrics file: label values escaped (backslash, quote, newline)" {
        echo '{"tag": 1}' | "$KTP" --stdout -q --stream 'a"b\c' \
                -t $'t\nu' --metrics-file "$T/m.prom" > /dev/null
        grep -qxF 'kafkatee_pipe_read_total{stream="a\"b\\c",topic="t\nu"} 1' "$T/m.prom"
        # Every line is a comment or a whole sample: nothing was cut.
        if grep -v '^#' "$T/m.prom" |
                grep -Ev '^kafkatee_pipe_[a-z_]+\{([a-z]+="([^"\\]|\\.)*",?)+\} [-0-9.e+NaN]+$'; then
                false
        fi
}

@test "metrics file: latency summary has _sum; NaN quantiles before any delivery" {
        echo nope | "$KTP" --stdout -q --metrics-file "$T/empty.prom" \
                --stats-file "$T/empty.json" > /dev/null || true
        grep -qx 'kafkatee_pipe_delivery_latency_seconds{stream="netflow",topic="netflow",quantile="0.5"} NaN' "$T/empty.prom"
        grep -qx 'kafkatee_pipe_delivery_latency_seconds_sum{stream="netflow",topic="netflow"} 0' "$T/empty.prom"
        grep -qx 'kafkatee_pipe_delivery_latency_seconds_count{stream="netflow",topic="netflow"} 0' "$T/empty.prom"
        jq -e '.latency_ms == {"count": 0, "sum": 0, "p50": null, "p90": null,
               "p99": null, "max": null}' "$T/empty.json"
        gen 20 | "$KTP" --stdout -q --metrics-file "$T/m.prom" > /dev/null
        sum=$(sed -n 's/^kafkatee_pipe_delivery_latency_seconds_sum{.*} //p' "$T/m.prom")
        p50=$(sed -n 's/^kafkatee_pipe_delivery_latency_seconds{.*quantile="0.5"} //p' "$T/m.prom")
        # 20 latencies add up to more than their median.
        awk -v s="$sum" -v p="$p50" 'BEGIN { exit !(s > 0 && s >= p) }'
}

@test "dead-letter file fails at run time: fatal, reading stops, exit 2" {
        # stdin stays open: only the failed write may end the run.
        proc_start ktp "$KTP" --stdout --dead-letter /dev/full
        proc_send ktp bad1
        proc_wait ktp 30
        [ "$PROC_STATUS" -eq 2 ]
        err=$(proc_file ktp err)
        grep -q 'dead-letter file /dev/full: No space left on device' "$err"
        grep -q 'fatal: ' "$err"
        grep -q '^kafkatee-pipe: stdin:1: invalid: ' "$err"
        counters "$err"
        [ "$exit" -eq 2 ]
        [ "$dead_lettered" -eq 0 ]
}

@test "dead-letter file failed: every later loss is reported on stderr" {
        printf 'bad1\nbad2\nbad3\n' > "$T/in"
        run "$KTP" --stdout --dead-letter /dev/full < "$T/in"
        [ "$status" -eq 2 ]
        [[ "$output" == *"dead-letter file /dev/full: No space left on device"* ]]
        [[ "$output" == *"stdin:1: invalid: "* ]]
        # Lost as invalid, or as shutdown if held when reading stopped:
        # either way said on stderr.
        [[ "$output" == *"stdin:2: "* ]]
        [[ "$output" == *"stdin:3: "* ]]
        echo "$output" > "$T/err"
        counters "$T/err"
        [ "$exit" -eq 2 ]
        [ "$dead_lettered" -eq 0 ]
        [ $((invalid + failed)) -eq 3 ]
}

@test "SIGHUP: a dead-letter file that cannot be reopened is fatal, exit 2" {
        proc_start ktp "$KTP" --stdout --dead-letter "$T/dead"
        proc_send ktp bad1
        wait_for test -s "$T/dead"
        mv "$T/dead" "$T/dead.1"
        mkdir "$T/dead" # fopen(3) fails on a directory, even for root
        proc_signal ktp HUP
        proc_wait ktp 30
        [ "$PROC_STATUS" -eq 2 ]
        grep -q "fatal: cannot reopen dead-letter file $T/dead: Is a directory" \
                "$(proc_file ktp err)"
        [ "$(jq -r .raw "$T/dead.1")" = bad1 ]
}

@test "stdout and dead-letter file both full: nothing counted delivered, exit 2" {
        head -n 3 "$ROOT/examples/samples/pmacctd-lo-json.jsonl" > "$T/in"
        run bash -c "'$KTP' --stdout --dead-letter /dev/full < '$T/in' > /dev/full"
        [ "$status" -eq 2 ]
        [[ "$output" == *"delivered=0 invalid=0 failed=2 skipped=1"* ]]
}
