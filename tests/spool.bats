#!/usr/bin/env bats
# The disk spool (spool.dir) on librdkafka's mock cluster: an outage
# longer than message.timeout.ms loses nothing and does not block the
# writer; what Kafka cannot take by the end is kept for the next run; a
# crash mid-write is found; one process a directory.
# Every test checks read + carried = delivered + failed + invalid +
# skipped + kept.

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

tags() {
        consume_values "$1" | jq -r .tag | sort -n
}

# all_delivered N: ktp exited 0 having delivered N, none failed, none
# kept (and the summary's invariant holds: counters).
all_delivered() {
        [ "$PROC_STATUS" -eq 0 ]
        counters "$(proc_file ktp err)"
        [ "$delivered" -eq "$1" ]
        [ "$failed" -eq 0 ]
        [ "$kept" -eq 0 ]
}

# killed_then_sent N TOTAL: SIGKILL to ktp, the broker back, a new run
# on the spool: it carries and delivers N, and topic t holds 1..TOTAL,
# each once.
killed_then_sent() {
        proc_signal ktp KILL
        proc_wait ktp 10 || true
        mock_cmd "up -1"
        run "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" < /dev/null
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$carried" -eq "$1" ]
        [ "$delivered" -eq "$1" ]
        diff <(seq "$2") <(tags t)
}

@test "spool: the broker down past message.timeout.ms: nothing dead-lettered, all delivered once, exit 0" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -X message.timeout.ms=2000 --dead-letter "$T/dead" \
                -o stats.file="$T/stats.json"
        gen 500 | proc_send ktp
        wait_for_count t 500
        mock_cmd "down -1"
        gen 1500 501 | proc_send ktp
        sleep 6 # past message.timeout.ms: timed-out events go back to the spool
        mock_cmd "up -1"
        proc_finish ktp 60
        all_delivered 2000
        [ "$spooled" -gt 0 ]
        [ ! -s "$T/dead" ]
        diff <(seq 2000) <(tags t)
        # the spool is empty again: its segments are gone
        [ -z "$(ls "$T/spool" | grep -v '^lock$')" ]
        # stdin was never stopped: the writer never waited on us
        jq -e '.backpressure_s == 0 and .spooled > 0' "$T/stats.json"
}

@test "spool: Kafka still down at EOF: kept, exit 4; the next run sends them first" {
        mock_start -t t:1
        mock_cmd "down -1"
        gen 300 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -X message.timeout.ms=1000 -o flush.timeout.ms=2000 \
                -o stats.file="$T/stats.json" < "$T/in"
        [ "$status" -eq 4 ]
        counters <(echo "$output")
        [ "$kept" -eq 300 ]
        [ "$delivered" -eq 0 ]
        [ "$failed" -eq 0 ]
        [[ "$output" == *"300 events kept in $T/spool"* ]]
        jq -e '.kept == 300 and .spool.events == 300 and .spool.bytes > 0' \
                "$T/stats.json"
        mock_cmd "up -1"
        gen 100 301 > "$T/in2"
        run "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" < "$T/in2"
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$carried" -eq 300 ]
        [ "$delivered" -eq 400 ]
        [ "$kept" -eq 0 ]
        [[ "$output" == *"300 events from an earlier run"* ]]
        diff <(seq 400) <(tags t)
        # in the order they were read: the earlier run's first
        diff <(seq 400) <(consume_values t | jq -r .tag)
}

@test "spool: a torn last frame is said and counted; the rest is delivered" {
        mock_start -t t:1
        mock_cmd "down -1"
        gen 50 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -X message.timeout.ms=500 -o flush.timeout.ms=1000 < "$T/in"
        [ "$status" -eq 4 ]
        seg=$(ls "$T"/spool/*.seg | head -n 1)
        truncate -s -7 "$seg"
        mock_cmd "up -1"
        run "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" < /dev/null
        [ "$status" -eq 3 ]
        counters <(echo "$output")
        [ "$carried" -eq 49 ]
        [ "$spool_lost" -eq 1 ]
        [ "$delivered" -eq 49 ]
        [[ "$output" == *"1 frames cut short or spoilt"* ]]
        diff <(seq 49) <(tags t)
}

@test "spool: one process a directory" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool"
        wait_for test -s "$T/spool/lock"
        run "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"spool.dir: $T/spool: in use by another kafkatee-pipe (pid "* ]]
        proc_finish ktp 30
        [ "$PROC_STATUS" -eq 0 ]
}

@test "spool: not with --stdout" {
        run "$KTP" --stdout -o spool.dir="$T/spool" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"spool.dir: not with --stdout"* ]]
}

@test "spool.mode=always: every event written first; a normal run leaves the spool empty" {
        mock_start -t t:1
        gen 1000 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -o spool.mode=always -o spool.fsync=never < "$T/in"
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$delivered" -eq 1000 ]
        [ "$spooled" -eq 1000 ]
        [ "$kept" -eq 0 ]
        diff <(seq 1000) <(tags t)
        [ -z "$(ls "$T/spool" | grep -v '^lock$')" ]
}

@test "spool.mode=always: SIGKILL with the broker down loses nothing that was read" {
        mock_start -t t:1
        mock_cmd "down -1"
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -o spool.mode=always
        gen 300 | proc_send ktp
        # every line read is in the spool before it is produced
        wait_for sh -c "cat '$T'/spool/*.seg 2>/dev/null | grep -c '\"tag\": 300,' | grep -q 1"
        killed_then_sent 300 300
}

@test "spool: full (spool.max.bytes): stdin waits, says why, nothing dropped; it resumes as the spool drains" {
        mock_start -t t:1
        mock_cmd "down -1"
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -o spool.max.bytes=1048576 -o spool.segment.bytes=65536 \
                -o queue.high.messages=100 -o stats.file="$T/stats.json" \
                -o stats.interval.ms=200
        # the writer blocks once stdin waits: it writes in the background
        gen 4000 | proc_send ktp &
        sender=$!
        # about 2300 records fill 1 MiB: then stdin stops, said once
        wait_for_line "$(proc_file ktp err)" "spool: full \(spool.max.bytes\): stdin waits"
        wait_for jq -e '.backpressure == true' "$T/stats.json"
        mock_cmd "up -1"
        wait "$sender"
        proc_finish ktp 60
        all_delivered 4000
        diff <(seq 4000) <(tags t)
}

@test "spool: a disk that refuses writes (a file size limit): said, stdin waits, nothing lost" {
        command -v prlimit > /dev/null || skip "no prlimit"
        mock_start -t t:1
        mock_cmd "down -1"
        proc_start ktp prlimit --fsize=200000 "$KTP" -b "$BROKERS" -t t \
                -o spool.dir="$T/spool" -o spool.segment.bytes=1048576 \
                -o queue.high.messages=100
        gen 2000 | proc_send ktp &
        sender=$!
        wait_for_line "$(proc_file ktp err)" "spool: segment [0-9]+: File too large: stdin waits"
        mock_cmd "up -1"
        wait "$sender"
        proc_finish ktp 60
        all_delivered 2000
        diff <(seq 2000) <(tags t)
}

@test "spool.mode=always: a disk that refuses a loop turn's frames: said, those events go on without one, nothing lost" {
        command -v prlimit > /dev/null || skip "no prlimit"
        mock_start -t t:1
        proc_start ktp prlimit --fsize=200000 "$KTP" -b "$BROKERS" -t t \
                -o spool.dir="$T/spool" -o spool.mode=always \
                -o spool.segment.bytes=1048576
        gen 3000 | proc_send ktp
        proc_finish ktp 60
        all_delivered 3000
        grep -Eq "spool: segment [0-9]+: File too large: stdin waits" \
                "$(proc_file ktp err)"
        [ "$spooled" -lt 3000 ]
        diff <(seq 3000) <(tags t)
        # nothing left, nothing torn for the next run
        run "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" < /dev/null
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$carried" -eq 0 ]
        [ "$spool_lost" -eq 0 ]
}

@test "spool: no broker up: what librdkafka held goes to the spool; SIGKILL then loses nothing" {
        mock_start -t t:1
        # linger.ms holds the second batch in librdkafka's memory when
        # the broker goes: only the spool can save it from a SIGKILL
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -X linger.ms=3000 -o stats.file="$T/stats.json" \
                -o stats.interval.ms=100
        gen 500 | proc_send ktp
        wait_for_count t 500
        gen 2000 501 | proc_send ktp
        wait_for jq -e '.produced == 2500' "$T/stats.json"
        mock_cmd "down -1"
        # ALL_BROKERS_DOWN: purged from librdkafka into the spool
        wait_for jq -e '.spool.events == 2000' "$T/stats.json"
        wait_for_line "$(proc_file ktp err)" "kafka: no broker up: events wait in the spool"
        # each once: nothing was in flight at the kill
        killed_then_sent 2000 2500
}

@test "spool: no broker up: events are spooled at once, one probe in flight; all delivered in order when it is back" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -o stats.file="$T/stats.json" -o stats.interval.ms=100 \
                -X message.timeout.ms=1000 --dead-letter "$T/dead"
        gen 100 | proc_send ktp
        wait_for_count t 100
        mock_cmd "down -1"
        wait_for_line "$(proc_file ktp err)" "kafka: no broker up"
        gen 3000 101 | proc_send ktp
        wait_for jq -e '.spool.events == 3000' "$T/stats.json"
        # the probe: one event in flight, not queue.high.messages
        jq -e '.in_flight <= 1' "$T/stats.json"
        sleep 3 # the probe times out (message.timeout.ms) and goes again
        mock_cmd "up -1"
        proc_finish ktp 60
        all_delivered 3100
        # each spooled event counted once as sent from the spool, the
        # probe's retries too
        [ "$spooled" -eq 3000 ]
        [ "$replayed" -eq 3000 ]
        [ ! -s "$T/dead" ]
        grep -q "kafka: delivering again: sending the spool" "$(proc_file ktp err)"
        diff <(seq 3100) <(tags t)
}

@test "spool: a paced writer through an outage past message.timeout.ms: stdin never stops, every record arrives, nothing dead-lettered" {
        mock_start -t t:8
        # a partition per message: the sticky partitioner can put a
        # replay's burst (some 12000 events, 6 MB) in one partition,
        # beyond the mock's 5 MB of retention, which drops the oldest
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -X message.timeout.ms=2000 --dead-letter "$T/dead" \
                -X sticky.partitioning.linger.ms=0 \
                -o stats.file="$T/stats.json" -o stats.interval.ms=200
        # 2000 records/s for 10 s; every broker down from 2 s to 8 s
        "$BUILD/bench-gen" -n 20000 --short --rate 2000 --stalls 100 \
                2> "$T/gen.err" | proc_send ktp &
        sender=$!
        sleep 2
        mock_cmd "down -1"
        sleep 6
        mock_cmd "up -1"
        wait "$sender"
        proc_finish ktp 60
        # the writer's longest blocked write: said, not judged (a timing)
        echo "# $(grep 'paced' "$T/gen.err")" >&3
        all_delivered 20000
        [ "$spooled" -gt 0 ]
        [ "$replayed" -eq "$spooled" ]
        [ ! -s "$T/dead" ]
        # stdin was never stopped: the spool took the whole outage
        jq -e '.backpressure_s == 0' "$T/stats.json"
        # every event once, by meta.id (a copy would carry the same id)
        consume_values t | jq -r .meta.id | sort -u > "$T/ids"
        [ "$(wc -l < "$T/ids")" -eq 20000 ]
}
