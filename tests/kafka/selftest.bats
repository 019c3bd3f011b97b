#!/usr/bin/env bats
# Self-test of the real-Kafka harness (tests/kafka/kafka.sh + helpers.bash),
# with kcat as the client: no kafkatee-pipe involved. About 30 s on 2 cores
# once the jars are fetched; skipped when no broker can be had.

load helpers

setup_file() {
    kafka_start
}

setup() {
    kafka_require
}

teardown_file() {
    kafka_stop
}

@test "broker answers metadata on 127.0.0.1" {
    [[ $KAFKA_BROKERS == 127.0.0.1:* ]]
    run kcat -L -b "$KAFKA_BROKERS" -m 10
    [ "$status" -eq 0 ]
    [[ $output == *"1 brokers:"* ]]
}

@test "10000 lines produced idempotently with acks=all come back identical" {
    seq 1 10000 | sed 's/^/line-/' >"$BATS_TEST_TMPDIR/in"
    kcat -P -b "$KAFKA_BROKERS" -t st_lines -X enable.idempotence=true -X acks=all <"$BATS_TEST_TMPDIR/in"
    kafka_consume st_lines >"$BATS_TEST_TMPDIR/out"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "create-topic makes a 3-partition topic, idempotently" {
    kafka_create_topic st_three 3
    [ "$(kafka_partitions st_three)" = 3 ]
    kafka_create_topic st_three 3
    run kafka_create_topic st_three 4
    [ "$status" -ne 0 ]
    printf 'a\nb\nc\n' | kcat -P -b "$KAFKA_BROKERS" -t st_three -p 2
    [ "$(kafka_consume st_three -p 2 | wc -l)" = 3 ]
}

@test "SIGKILL mid-stream and restart: an idempotent producer loses and duplicates nothing" {
    # 20000 lines in batches of 100 every 50 ms (~10 s); kill -9 after ~3 s
    (
        i=1
        while [ $i -le 20000 ]; do
            seq $i $((i + 99))
            i=$((i + 100))
            sleep 0.05
        done | kcat -P -E -b "$KAFKA_BROKERS" -t st_kill \
            -X enable.idempotence=true -X acks=all 2>"$BATS_TEST_TMPDIR/kcat.err"
        echo $? >"$BATS_TEST_TMPDIR/kcat.rc"
    ) 3>&- &
    producer=$!
    sleep 3
    kafka_kill
    run "$KAFKA_SH" status
    [ "$status" -ne 0 ]
    sleep 1
    kafka_restart
    wait "$producer"
    [ "$(cat "$BATS_TEST_TMPDIR/kcat.rc")" = 0 ]
    kafka_consume st_kill >"$BATS_TEST_TMPDIR/got"
    seq 1 20000 | cmp - "$BATS_TEST_TMPDIR/got"
}
