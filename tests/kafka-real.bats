#!/usr/bin/env bats
# no-asan: a real Apache Kafka broker (KRaft) takes a minute; once is enough.
# End to end against a real broker from tests/kafka/kafka.sh; skipped, with
# the reason, when Java or Maven Central cannot be had.

load helpers
load records
load kafka/helpers
load avro/helpers

setup_file() {
        avro_fetch
        kafka_start
}

setup() {
        kafka_require
        export TZ=UTC
        T=$BATS_TEST_TMPDIR
}

teardown() {
        proc_stop_all
}

teardown_file() {
        kafka_stop
}

@test "real Kafka: shared samples consumed back exactly" {
        kafka_create_topic eqiad.netflow 1
        for s in pmacctd-lo-json nfacctd-ipfix-epoch; do
                "$KTP" -c "$ROOT/examples/netflow.conf" -b "$KAFKA_BROKERS" \
                        -o domain=test.example \
                        < "$ROOT/examples/samples/$s.jsonl" 2> "$T/err"
                counters "$T/err"
                [ "$exit" -eq 0 ]
        done
        kafka_consume eqiad.netflow > "$T/msgs"
        jq -c -f "$ROOT/tests/mask.jq" "$T/msgs" > "$T/got"
        for s in pmacctd-lo-json nfacctd-ipfix-epoch; do # a run each
                jq -n -c --arg domain test.example \
                        -f "$ROOT/tests/envelope.jq" \
                        "$ROOT/examples/samples/$s.jsonl"
        done > "$T/want"
        diff "$T/want" "$T/got"
        jq -r .sequence_run "$T/msgs" | uniq > "$T/runs"
        [ "$(wc -l < "$T/runs")" -eq 2 ]
        [ "$(sort -u "$T/runs" | wc -l)" -eq 2 ]
}

@test "real Kafka: pnda-avro (examples/netflow-pnda.conf): every message decodes with Java's and Python's Avro, rawdata is the json event" {
        /usr/bin/python3 -c 'import avro.io' 2>/dev/null ||
                skip "no python3-avro (make deps)"
        kafka_create_topic avro.netflow.pmacct 2
        s=$ROOT/examples/samples/nfacctd-ipfix-epoch.jsonl
        "$KTP" -c "$ROOT/examples/netflow-pnda.conf" -b "$KAFKA_BROKERS" \
                -o domain=test.example < "$s" 2> "$T/err"
        counters "$T/err"
        [ "$exit" -eq 0 ]
        kafka_consume avro.netflow.pmacct -f '%R%s' |
                avro_decode "$ROOT/examples/schemas/pnda/netflow.avsc" > "$T/dec"
        [ "$(wc -l < "$T/dec")" -eq "$delivered" ]
        jq -r .rawdata "$T/dec" | jq -c -f "$ROOT/tests/mask.jq" | sort > "$T/got"
        jq -n -c --arg domain test.example -f "$ROOT/tests/envelope.jq" "$s" |
                jq -c -f "$ROOT/tests/mask.jq" | sort > "$T/want"
        diff "$T/want" "$T/got"
        [ "$(jq -r '[.source, .collector] | @tsv' "$T/dec" | sort -u)" = "$(printf 'pmacct\tnfacctd')" ]
        [ "$(jq -c 'select(.host_ip != "127.0.0.1")' "$T/dec" | wc -l)" -eq 0 ]
}

@test "real Kafka: 3 partitions, keyed: per-partition order, one partition per key" {
        kafka_create_topic flows 3
        gen 5000 | "$KTP" -b "$KAFKA_BROKERS" -t flows -o key=ip_src 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 5000 ]
        [ "$exit" -eq 0 ]
        kafka_consume flows -f '%p\t%k\t%s\n' > "$T/msgs"
        [ "$(wc -l < "$T/msgs")" -eq 5000 ]
        [ "$(cut -f1 "$T/msgs" | sort -u | wc -l)" -eq 3 ]
        [ "$(cut -f1,2 "$T/msgs" | sort -u | cut -f2 | sort | uniq -d | wc -l)" -eq 0 ]
        for p in 0 1 2; do
                awk -F'\t' -v p=$p '$1 == p { print $3 }' "$T/msgs" | jq -r .tag > "$T/p$p"
                sort -n "$T/p$p" | diff - "$T/p$p"
        done
}

@test "real Kafka: broker killed (SIGKILL) and restarted mid-stream: none lost, none duplicated" {
        kafka_create_topic killed 1
        proc_start ktp "$KTP" -b "$KAFKA_BROKERS" -t killed -X message.timeout.ms=120000
        for i in $(seq 0 19); do
                gen 100 $((i * 100 + 1)) | proc_send ktp
                sleep 0.05
        done
        kafka_kill
        for i in $(seq 20 39); do
                gen 100 $((i * 100 + 1)) | proc_send ktp
        done
        sleep 2
        kafka_restart
        proc_finish ktp 120
        [ "$PROC_STATUS" -eq 0 ]
        counters "$(proc_file ktp err)"
        [ "$delivered" -eq 4000 ]
        kafka_consume killed | jq -r .tag > "$T/tags"
        diff <(seq 4000) "$T/tags"
}

@test "real Kafka: the broker SIGKILLed for 30 s under 100k records, with the spool: all delivered, none dead-lettered" {
        kafka_create_topic spooled 1
        proc_start ktp "$KTP" -b "$KAFKA_BROKERS" -t spooled \
                -o spool.dir="$T/spool" -X message.timeout.ms=5000 \
                --dead-letter "$T/dead"
        # The second half is written after the kill: all 100k can take
        # less than a second, and a kill after them would spool nothing.
        gen 50000 | proc_send ktp
        kafka_kill
        gen 50000 50001 | proc_send ktp &
        sender=$!
        sleep 30
        kafka_restart
        wait "$sender"
        proc_finish ktp 300
        [ "$PROC_STATUS" -eq 0 ]
        counters "$(proc_file ktp err)"
        [ "$delivered" -eq 100000 ]
        [ "$failed" -eq 0 ]
        [ "$kept" -eq 0 ]
        [ "$spooled" -gt 0 ]
        [ "$replayed" -eq "$spooled" ]
        [ ! -s "$T/dead" ]
        # librdkafka said so: what it held went to the spool
        grep -q "kafka: no broker up: events wait in the spool" \
                "$(proc_file ktp err)"
        # every record; a copy only of one whose timed-out send had in
        # fact reached the broker (at least once, same meta.id)
        kafka_consume spooled | jq -r .tag | sort -n > "$T/tags"
        diff <(seq 100000) <(uniq "$T/tags")
}

@test "real Kafka: refused events reach error.topic as error events; the valid ones their topic" {
        kafka_create_topic eqiad.netflow.v 1
        kafka_create_topic eqiad.netflow.error 1
        broken_records "$ROOT/examples/samples/nfacctd-ipfix-epoch.jsonl" > "$T/in"
        "$KTP" -c "$ROOT/examples/netflow.conf" -b "$KAFKA_BROKERS" \
                -t eqiad.netflow.v -o 'error.topic=%{datacenter}.%{stream}.error' \
                --dead-letter "$T/dead" < "$T/in" 2> "$T/err" || :
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$delivered" -eq 2 ]
        [ "$invalid" -eq 4 ]
        [ "$(kafka_consume eqiad.netflow.v | wc -l)" -eq 2 ]
        kafka_consume eqiad.netflow.error > "$T/errors"
        [ "$(jq -r .message "$T/errors")" = "$BROKEN_MESSAGES" ]
        "$ROOT/tests/schema_oracle.py" "$ROOT/examples/schemas" /error/1.0.0 \
                "$T/errors"
        [ "$(jq -r .reason "$T/dead" | sort -u)" = schema ]
}

@test "real Kafka: --audit -t: a produced topic, 0 missing; --since by the time index; an unknown topic" {
        kafka_create_topic audited 3
        # one run, numbers 1-2500 on the 23rd, 2501-5000 on the 24th
        { gen 2500; gen 2500 2501 | sed 's/2026-11-23/2026-11-24/'; } |
                "$KTP" -b "$KAFKA_BROKERS" -t audited -o key=ip_src 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 5000 ]
        run "$KTP" --audit -b "$KAFKA_BROKERS" -t audited
        [ "$status" -eq 0 ]
        [[ "$output" == *"  events 5000"$'\n'"  numbers 1-5000 "* ]]
        [[ "$output" == *"total: 1 producers, 1 runs, 5000 events, 0 missing, 0 duplicates, 0 unreadable lines" ]]
        kafka_consume audited > "$T/dump"
        "$KTP" --audit "$T/dump" --json > "$T/file.json"
        "$KTP" --audit -b "$KAFKA_BROKERS" -t audited --json > "$T/topic.json"
        cmp "$T/file.json" "$T/topic.json"
        run "$KTP" --audit -b "$KAFKA_BROKERS" -t audited --since 2026-11-24T00:00:00Z
        [ "$status" -eq 0 ]
        [[ "$output" == *"  events 2500"$'\n'"  numbers 2501-5000 "* ]]
        [[ "$output" == *"  missing 0"$'\n'* ]]
        run "$KTP" --audit -b "$KAFKA_BROKERS" -t no.such.topic
        [ "$status" -eq 1 ]
        [[ "$output" == *"no.such.topic: Broker: Unknown topic or partition"* ]]
}
