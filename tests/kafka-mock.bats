#!/usr/bin/env bats
# End to end against librdkafka's mock cluster: what reaches Kafka, in
# what order, with backpressure, signals and a broker that never answers.
# Every test checks read = delivered + failed + invalid + skipped.

load helpers
load records

setup() {
        export TZ=UTC
        T=$BATS_TEST_TMPDIR
        SAMPLES=$ROOT/examples/samples
}

teardown() {
        proc_stop_all
        mock_stop
}

# timestamps_are FIELD < consumed: every message's Kafka timestamp (ms)
# is the ISO time in FIELD of its value (.dt or .meta.dt).
timestamps_are() {
        cut -f4,5 | jq -R --arg f "$1" 'split("\t") as [$ts, $v]
                | ($v | fromjson | getpath($f | ltrimstr(".") | split("."))) as $dt
                | ($dt[0:19] + "Z" | fromdateiso8601) * 1000
                  + ($dt[20:23] | tonumber) == ($ts | tonumber)' |
                sort -u > "$T/same"
        [ "$(cat "$T/same")" = true ]
}

# keys_are_ip_src < consumed: every message's key is its value's ip_src.
keys_are_ip_src() {
        cut -f3,5 | jq -R 'split("\t") as [$k, $v] | $k == ($v | fromjson | .ip_src)' |
                sort -u > "$T/same"
        [ "$(cat "$T/same")" = true ]
}

# tags TOPIC: the tags consumed, sorted, one per line.
tags() {
        consume_values "$1" | jq -r .tag | sort -n
}

@test "shared samples: consumed back exactly, in order, Kafka timestamp = dt" {
        mock_start -t eqiad.netflow:1
        for s in pmacctd-lo-json nfacctd-ipfix-epoch; do
                "$KTP" -c "$ROOT/examples/netflow.conf" -b "$BROKERS" \
                        -o domain=test.example < "$SAMPLES/$s.jsonl" 2> "$T/err"
                counters "$T/err"
                [ "$exit" -eq 0 ]
        done
        consume eqiad.netflow > "$T/msgs"
        [ "$(wc -l < "$T/msgs")" -eq 180 ]
        cut -f5 "$T/msgs" | jq -c -f "$ROOT/tests/mask.jq" > "$T/got"
        for s in pmacctd-lo-json nfacctd-ipfix-epoch; do # a run each
                jq -n -c --arg domain test.example \
                        -f "$ROOT/tests/envelope.jq" "$SAMPLES/$s.jsonl"
        done > "$T/want"
        diff "$T/want" "$T/got"
        # One run's name a run: two, in the order of the runs.
        cut -f5 "$T/msgs" | jq -r .sequence_run | uniq > "$T/runs"
        [ "$(wc -l < "$T/runs")" -eq 2 ]
        [ "$(sort -u "$T/runs" | wc -l)" -eq 2 ]
        # The message timestamp is the event time.
        timestamps_are .dt < "$T/msgs"
}

@test "timestamp = ingest: the Kafka timestamp is meta.dt" {
        mock_start -t t:1
        gen 20 | "$KTP" -b "$BROKERS" -t t -o timestamp=ingest 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 20 ]
        consume t > "$T/msgs"
        timestamps_are .meta.dt < "$T/msgs"
}

@test "key = %{domain}: one host's events on one partition, numbered in order" {
        mock_start -t hosts:3
        gen 200 | "$KTP" -b "$BROKERS" -t hosts -o domain=flow1001 \
                -o 'key=%{domain}' 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 200 ]
        consume hosts > "$T/msgs"
        [ "$(cut -f3 "$T/msgs" | sort -u)" = flow1001 ]
        [ "$(cut -f1 "$T/msgs" | sort -u | wc -l)" -eq 1 ]
        cut -f5 "$T/msgs" | jq -r .sequence > "$T/seq"
        diff "$T/seq" <(seq 1 200)
        [ "$(cut -f5 "$T/msgs" | jq -r .sequence_run | sort -u | wc -l)" -eq 1 ]
}

@test "keyed records on 3 partitions: per-partition input order, same key same partition" {
        mock_start -t flows:3
        gen 3000 | "$KTP" -b "$BROKERS" -t flows -o key=ip_src 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 3000 ]
        [ "$exit" -eq 0 ]
        consume flows > "$T/msgs"
        [ "$(wc -l < "$T/msgs")" -eq 3000 ]
        [ "$(cut -f1 "$T/msgs" | sort -u | wc -l)" -gt 1 ]
        # Every key on exactly one partition, and key = ip_src.
        [ "$(cut -f1,3 "$T/msgs" | sort -u | cut -f2 | sort | uniq -d | wc -l)" -eq 0 ]
        keys_are_ip_src < "$T/msgs"
        for p in 0 1 2; do
                awk -F'\t' -v p=$p '$1 == p { print $5 }' "$T/msgs" | jq -r .tag > "$T/p$p"
                sort -n "$T/p$p" | diff - "$T/p$p"
        done
        diff <(seq 3000) <(tags flows)
}

@test "EOF: everything is flushed and delivered before exit" {
        mock_start -t t:1
        gen 20000 | "$KTP" -b "$BROKERS" -t t 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 20000 ]
        [ "$exit" -eq 0 ]
        [ "$(high_watermarks t)" -eq 20000 ]
}

@test "backpressure: a slow broker stops stdin, nothing is dropped" {
        mock_start -t t:1
        mock_cmd "rtt -1 200"
        gen 5000 | "$KTP" -b "$BROKERS" -t t -vv -o queue.high.messages=200 \
                -X linger.ms=5 -X batch.num.messages=50 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 5000 ]
        [ "$exit" -eq 0 ]
        grep -q 'backpressure: 200 messages in flight' "$T/err"
        diff <(seq 5000) <(tags t)
}

@test "librdkafka's queue full: the record is held and retried, keyed, none lost or repeated" {
        mock_start -t flows:3
        mock_cmd "rtt -1 50"
        gen 3000 | "$KTP" -b "$BROKERS" -t flows -vv -o key=ip_src \
                -X queue.buffering.max.messages=100 --dead-letter "$T/dead" 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 3000 ]
        [ "$exit" -eq 0 ]
        grep -q "backpressure: librdkafka's queue is full" "$T/err"
        [ ! -s "$T/dead" ]
        consume flows > "$T/msgs"
        keys_are_ip_src < "$T/msgs"
        diff <(seq 3000) <(tags flows)
}

@test "1M lines to a slow broker (100 ms RTT): backpressure holds, peak RSS < 64 MiB" {
        mock_start -t t:1
        mock_cmd "rtt -1 100"
        gen 1000000 > "$T/in"
        timed_rss "$T/rss" "$KTP" -b "$BROKERS" -t t --stats-file "$T/stats.json" \
                < "$T/in" 2> "$T/err"
        RSS_KB=$(tail -n 1 "$T/rss")
        counters "$T/err"
        [ "$delivered" -eq 1000000 ]
        [ "$exit" -eq 0 ]
        [ "$(high_watermarks t)" -eq 1000000 ]
        jq -e '.backpressure_s > 0' "$T/stats.json"
        if [[ "$BUILD" != *asan* ]]; then
                [ "$RSS_KB" -lt $((64 * 1024)) ]
        fi
}

@test "a broker that never answers: every record dead-lettered, exit 3" {
        mock_start -t t:1
        mock_cmd "down -1"
        gen 300 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -X message.timeout.ms=3000 \
                --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        [[ "$output" == *"read=300 produced=300 delivered=0 invalid=0 failed=300 skipped=0 dead_lettered=300"* ]]
        counters <(echo "$output")
        [ "$(jq -r .reason "$T/dead" | sort -u)" = delivery ]
        [[ "$(jq -r .error "$T/dead" | sort -u)" == *"timed out"* ]]
        diff <(jq -r .raw "$T/dead") "$T/in"
}

@test "flush.timeout.ms bounds the wait at EOF; the rest is purged and dead-lettered" {
        mock_start -t t:1
        mock_cmd "down -1"
        gen 50 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -o flush.timeout.ms=1000 \
                --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        [[ "$output" == *"flush timed out with 50 messages undelivered"* ]]
        [[ "$output" == *"read=50 produced=50 delivered=0 invalid=0 failed=50"* ]]
        counters <(echo "$output")
        [[ "$(jq -r .error "$T/dead" | sort -u)" == *"Purged"* ]]
        diff <(jq -r .raw "$T/dead" | sort) <(sort "$T/in")
}

@test "the broker goes down for 10 s mid-stream and comes back: all delivered once" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t
        gen 500 | proc_send ktp
        wait_for_count t 500
        mock_cmd "down -1"
        gen 500 501 | proc_send ktp
        sleep 10
        mock_cmd "up -1"
        proc_finish ktp 60
        [ "$PROC_STATUS" -eq 0 ]
        counters "$(proc_file ktp err)"
        [ "$delivered" -eq 1000 ]
        diff <(seq 1000) <(tags t)
}

@test "retriable Produce errors: retried, delivered exactly once" {
        mock_start -t t:1
        mock_cmd "errors 5 NOT_LEADER_FOR_PARTITION"
        gen 1000 | "$KTP" -b "$BROKERS" -t t 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 1000 ]
        [ "$exit" -eq 0 ]
        diff <(seq 1000) <(tags t)
}

@test "a non-retriable Produce error: those records dead-lettered, the rest delivered" {
        mock_start -t t:1
        mock_cmd "errors 1 MSG_SIZE_TOO_LARGE"
        gen 200 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        counters <(echo "$output")
        [ "$failed" -ge 1 ]
        [ "$failed" -eq "$(wc -l < "$T/dead")" ]
        [ "$(high_watermarks t)" -eq "$delivered" ]
        [[ "$(jq -r .error "$T/dead" | sort -u)" == *"too large"* ]]
        # Delivered plus dead-lettered is the whole input, once.
        diff <(seq 200) <({ tags t; jq -r .raw "$T/dead" | jq -r .tag; } | sort -n)
}

@test "SIGINT mid-stream: keeps draining stdin while the writer writes" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t
        gen 100 | proc_send ktp
        wait_for_count t 100
        kill -INT "$ktp_PID"
        wait_for_line "$(proc_file ktp err)" 'draining stdin'
        gen 100 101 | proc_send ktp
        proc_finish ktp
        [ "$PROC_STATUS" -eq 0 ]
        counters "$(proc_file ktp err)"
        [ "$delivered" -eq 200 ]
        diff <(seq 200) <(tags t)
}

@test "SIGTERM mid-stream while the writer still writes: drained, all delivered" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t
        gen 1000 | proc_send ktp
        kill -TERM "$ktp_PID"
        for i in 1 2 3 4 5; do
                gen 200 $((1000 + (i - 1) * 200 + 1)) | proc_send ktp
                sleep 0.1
        done
        proc_finish ktp
        [ "$PROC_STATUS" -eq 0 ]
        counters "$(proc_file ktp err)"
        [ "$delivered" -eq 2000 ]
        diff <(seq 2000) <(tags t)
}

@test "stdin closed early, mid-line: the cut line is dead-lettered, the rest delivered" {
        mock_start -t t:1
        { gen 100; gen 1 101 | head -c 50; } > "$T/in"
        run "$KTP" -b "$BROKERS" -t t --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        [[ "$output" == *"read=101 produced=100 delivered=100 invalid=1"* ]]
        [ "$(jq -r .line "$T/dead")" -eq 101 ]
        [ "$(jq -r .raw "$T/dead")" = "$(gen 1 101 | head -c 50)" ]
        diff <(seq 100) <(tags t)
}

@test "SIGINT with a writer that never closes: stops after drain.timeout.ms" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o drain.timeout.ms=500
        gen 100 | proc_send ktp
        wait_for_count t 100
        kill -INT "$ktp_PID"
        proc_wait ktp 20
        [ "$PROC_STATUS" -eq 0 ]
        grep -q 'not closed within drain.timeout.ms' "$(proc_file ktp err)"
        counters "$(proc_file ktp err)"
        [ "$delivered" -eq 100 ]
}

@test "two signals with input left in the pipe: stop, count, exit 3" {
        mock_start -t t:1
        mock_cmd "rtt -1 500"
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o queue.high.messages=10 \
                --dead-letter "$T/dead"
        gen 2000 | proc_send ktp
        sleep 1
        kill -TERM "$ktp_PID"
        sleep 0.2
        kill -TERM "$ktp_PID"
        proc_wait ktp 30
        [ "$PROC_STATUS" -eq 3 ]
        grep -q 'left unread on stdin' "$(proc_file ktp err)"
        counters "$(proc_file ktp err)"
        [ "$read" -lt 2000 ]
        [ "$(high_watermarks t)" -ge "$delivered" ]
        [ "$((failed + invalid))" -eq "$(_nlines "$T/dead")" ]
}

@test "an unresolvable broker: a clear error, all dead-lettered, exit 3" {
        gen 10 > "$T/in"
        run "$KTP" -b no-such-host.invalid:9092 -t t -X message.timeout.ms=2000 \
                --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        [[ "$output" == *"no-such-host.invalid"* ]]
        [[ "$output" == *"failed=10"* ]]
        [ "$(wc -l < "$T/dead")" -eq 10 ]
        counters <(echo "$output")
}

@test "a topic that errors: records dead-lettered with the broker's error" {
        mock_start -t t:1
        mock_cmd "topic_error t TOPIC_AUTHORIZATION_FAILED"
        gen 20 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -X message.timeout.ms=3000 \
                --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        [[ "$output" == *"failed=20"* ]]
        [ "$(wc -l < "$T/dead")" -eq 20 ]
        counters <(echo "$output")
}

@test "valgrind: no error, no leak on a normal run" {
        [[ "$BUILD" == *asan* ]] && skip "valgrind does not run ASan binaries"
        mock_start -t t:1
        run valgrind -q --error-exitcode=99 --leak-check=full \
                --errors-for-leak-kinds=definite,indirect,possible \
                --show-leak-kinds=definite,indirect,possible \
                "$KTP" -b "$BROKERS" -t t --dead-letter "$T/dead" \
                < <(gen 500; echo garbage)
        [ "$status" -eq 3 ]
        [[ "$output" == *"delivered=500 invalid=1"* ]]
        [[ "$output" != *"=="* ]]
}

@test "a fatal error from librdkafka: the loop stops the run, not librdkafka's callback" {
        mock_start -t t:1
        # With idempotence, a sequence desync is fatal for the producer.
        mock_cmd "errors 3 OUT_OF_ORDER_SEQUENCE_NUMBER"
        # Still reading when it comes: stopping then means a flush.
        proc_start ktp "$KTP" -b "$BROKERS" -t t --dead-letter "$T/dead"
        gen 50 | proc_send ktp
        wait_for_line "$(proc_file ktp err)" 'fatal: '
        proc_finish ktp 20
        # output_serve() aborts (134) if called from inside rd_kafka_poll().
        [ "$PROC_STATUS" -eq 2 ]
        grep -q 'fatal: .*sequence' "$(proc_file ktp err)"
        if grep 'bug:' "$(proc_file ktp err)"; then false; fi
        counters "$(proc_file ktp err)"
        [ "$((failed + delivered))" -eq 50 ]
        [ "$failed" -eq "$(wc -l < "$T/dead")" ]
}

@test "a broker error during the flush after a signal stays a delivery failure" {
        mock_start -t t:1
        mock_cmd "down -1"
        proc_start ktp "$KTP" -b "$BROKERS" -t t -X message.timeout.ms=1500 \
                --dead-letter "$T/dead"
        gen 20 | proc_send ktp
        sleep 0.3
        kill -TERM "$ktp_PID"
        wait_for_line "$(proc_file ktp err)" 'draining stdin'
        proc_finish ktp 30
        [ "$PROC_STATUS" -eq 3 ]
        counters "$(proc_file ktp err)"
        [ "$failed" -eq 20 ]
        [ "$(jq -r .reason "$T/dead" | sort -u)" = delivery ]
        [[ "$(jq -r .error "$T/dead" | sort -u)" == *"timed out"* ]]
}

@test "what the flush timeout purges is a shutdown loss, signal or not" {
        mock_start -t t:1
        mock_cmd "down -1"
        gen 20 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -o flush.timeout.ms=500 \
                --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        counters <(echo "$output")
        [ "$failed" -eq 20 ]
        [ "$(jq -r .reason "$T/dead" | sort -u)" = shutdown ]
        [[ "$(jq -r .error "$T/dead" | sort -u)" == *"Purged"* ]]
}

@test "two signals during the flush at EOF: the second gives up (man page, SIGNALS)" {
        mock_start -t t:1
        mock_cmd "down -1"
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o flush.timeout.ms=30000 \
                --dead-letter "$T/dead"
        gen 10 | proc_send ktp
        proc_eof ktp
        sleep 0.5
        kill -TERM "$ktp_PID"
        wait_for_line "$(proc_file ktp err)" 'stopping, flushing for up to 5000 ms'
        sleep 0.5
        kill -TERM "$ktp_PID"
        wait_for_line "$(proc_file ktp err)" 'giving up on the flush'
        proc_wait ktp 10
        [ "$PROC_STATUS" -eq 3 ]
        [ "$(grep -c 'stopping, flushing' "$(proc_file ktp err)")" -eq 1 ]
        counters "$(proc_file ktp err)"
        [ "$failed" -eq 10 ]
        [ "$(jq -r .reason "$T/dead" | sort -u)" = shutdown ]
}

@test "routing: records go to the topic their field names; absent field and topic.max dead-lettered" {
        mock_start -t nf.10.0.0.1:1 -t nf.10.0.0.2:1
        # gen's ip_src is 10.0.<i%7>.<...>: route by a field of our own.
        gen 40 | jq -c '.peer_ip_src = (if .tag % 2 == 0 then "10.0.0.1"
                        else "10.0.0.2" end)
                | if .tag % 10 == 3 then del(.peer_ip_src) else . end' > "$T/in"
        echo '{"tag": 41, "peer_ip_src": "10.0.0.3"}' >> "$T/in"
        "$KTP" -b "$BROKERS" -t 'nf.%{field:peer_ip_src}' -o topic.max=2 \
                --dead-letter "$T/dead" < "$T/in" 2> "$T/err" || :
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$delivered" -eq 36 ]
        [ "$invalid" -eq 5 ]
        for ip in 10.0.0.1 10.0.0.2; do
                consume_values "nf.$ip" > "$T/$ip"
                [ "$(jq -r .peer_ip_src "$T/$ip" | sort -u)" = "$ip" ]
        done
        [ "$(wc -l < "$T/10.0.0.1")" -eq 20 ]
        [ "$(wc -l < "$T/10.0.0.2")" -eq 16 ]
        diff <(jq .tag "$T/in" | awk '$1 % 10 != 3 && $1 != 41' | sort -n) \
                <(cat "$T/10.0.0.1" "$T/10.0.0.2" | jq .tag | sort -n)
        [ "$(jq -r .reason "$T/dead" | sort -u)" = route ]
        [ "$(jq -r 'select(.message == "topic field peer_ip_src is absent") | .raw' \
                "$T/dead" | jq .tag | paste -sd,)" = 3,13,23,33 ]
        jq -r .message "$T/dead" | grep -qx 'topic "nf.10.0.0.3" would be topic 3: more than topic.max'
}

@test "a key of two fields and a literal; headers seen by the consumer" {
        mock_start -t flows:3
        gen 300 | "$KTP" -b "$BROKERS" -t flows -o 'key=%{field:ip_src}:%{field:port_src}/x' \
                -o 'header.content-type=application/json' -o 'header.schema=%{schema}' \
                -o 'header.stream=%{stream}' 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 300 ]
        [ "$exit" -eq 0 ]
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t flows -o beginning -e -q \
                -f '%k\t%h\t%s\n' > "$T/msgs"
        [ "$(wc -l < "$T/msgs")" -eq 300 ]
        cut -f1,3 "$T/msgs" | jq -R 'split("\t") as [$k, $v] | ($v | fromjson) as $e
                | $k == "\($e.ip_src):\($e.port_src)/x"' | sort -u > "$T/same"
        [ "$(cat "$T/same")" = true ]
        [ "$(cut -f2 "$T/msgs" | sort -u)" = \
                'content-type=application/json,schema=/netflow/flow/1.1.0,stream=netflow' ]
}

@test "validation: refused events become error events on error.topic, valid against the shipped error schema" {
        mock_start -t netflow:1 -t netflow.error:1
        broken_records "$SAMPLES/pmacctd-lo-json.jsonl" > "$T/in"
        "$KTP" -b "$BROKERS" -t netflow -o schema.dir="$ROOT/examples/schemas" \
                -o error.topic=netflow.error --dead-letter "$T/dead" \
                -o stats.file="$T/stats.json" < "$T/in" 2> "$T/err" || :
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$delivered" -eq 2 ]
        [ "$invalid" -eq 4 ]
        [ "$(consume_values netflow | wc -l)" -eq 2 ]
        consume_values netflow.error > "$T/errors"
        [ "$(jq -r .message "$T/errors")" = "$BROKEN_MESSAGES" ]
        [ "$(jq -r .message "$T/dead")" = "$BROKEN_MESSAGES" ]
        [ "$(jq -r .reason "$T/dead" | sort -u)" = schema ]
        "$ROOT/tests/schema_oracle.py" "$ROOT/examples/schemas" /error/1.0.0 \
                "$T/errors"
        # raw_event is the refused event, as it would have been produced
        jq -r .raw_event "$T/errors" > "$T/raw"
        [ "$(jq -r '.bytesytes' "$T/raw" | head -1)" = 60 ]
        [ "$(jq -c '[.errored_schema_uri, .errored_stream_name, .error_type,
                .meta.stream]' "$T/errors" | sort -u)" = \
                '["/netflow/flow/1.1.0","netflow","validation","netflow.error"]' ]
        [ "$(jq -c '[.schema_invalid, .error_events_produced,
                .error_events_delivered, .error_events_failed]' \
                "$T/stats.json")" = '[4,4,4,0]' ]
}

@test "validation: an error topic that fails says so per record; the lines stay dead-lettered" {
        mock_start -t netflow:1 -t netflow.error:1
        mock_cmd "topic_error netflow.error TOPIC_AUTHORIZATION_FAILED"
        broken_records "$SAMPLES/pmacctd-lo-json.jsonl" > "$T/in"
        "$KTP" -b "$BROKERS" -t netflow -o schema.dir="$ROOT/examples/schemas" \
                -o error.topic=netflow.error -X message.timeout.ms=3000 \
                --dead-letter "$T/dead" < "$T/in" 2> "$T/err" || :
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$delivered" -eq 2 ]
        [ "$invalid" -eq 4 ]
        [ "$(grep -c 'error_event: its error event was not delivered' "$T/err")" -eq 4 ]
        [ "$(jq -r .reason "$T/dead" | sort -u)" = schema ]
}
