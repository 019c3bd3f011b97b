#!/usr/bin/env bats
# --replay on the mock cluster: the dead-letter file carries each event
# as it was built, and a replay produces it unchanged, closing the gap
# the audit saw; lines that never became events go through the
# transform again.  Every run checks read = delivered + failed + invalid
# + skipped.

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

# audit FILE: the audit of the events of FILE into $output and $status.
audit() {
        run "$KTP" --audit "$1"
}

# The values of TOPIC (one partition), in offset order.
values() {
        consume "$1" | cut -f5
}

# replayed_whole N DEAD: the replay run just made exited 0 having
# delivered N; topic t holds DEAD's values byte for byte, and the audit
# of it finds one run of N events, nothing missing, no duplicate.
replayed_whole() {
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$delivered" -eq "$1" ]
        diff <(jq -r .value "$2") <(values t)
        audit <(values t)
        [ "$status" -eq 0 ]
        [[ "$output" == *"total: 1 producers, 1 runs, $1 events, 0 missing, 0 duplicates"* ]]
}

@test "replay: delivery failures dead-lettered as built; the audit finds them missing, and none after --replay" {
        mock_start -t t:1
        mock_cmd "errors 2 MSG_SIZE_TOO_LARGE"
        gen 300 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -o domain=flow1001 \
                -X batch.num.messages=10 --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        counters <(echo "$output")
        n=$failed
        [ "$n" -ge 1 ]
        [ "$n" -lt 300 ]
        [ "$(wc -l < "$T/dead")" -eq "$n" ]
        # each record carries its event: topic, no key, timestamp, value
        [ "$(jq -r '[.reason, .topic, (.key | tostring),
                (.timestamp | type), (.value | fromjson | .meta.domain)]
                | @tsv' "$T/dead" | sort -u)" = \
                "$(printf 'delivery\tt\tnull\tnumber\tflow1001')" ]
        values t > "$T/before"
        audit "$T/before"
        [ "$status" -eq 3 ]
        [[ "$output" == *"total: 1 producers, 1 runs, $((300 - n)) events, $n missing, 0 duplicates"* ]]
        # -t and domain differ: the record's topic and value win
        run "$KTP" -b "$BROKERS" -t elsewhere -o domain=other \
                --replay "$T/dead" --dead-letter "$T/dead2"
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$read" -eq "$n" ]
        [ "$delivered" -eq "$n" ]
        [ ! -s "$T/dead2" ]
        consume t > "$T/msgs"
        cut -f5 "$T/msgs" > "$T/after"
        audit "$T/after"
        [ "$status" -eq 0 ]
        [[ "$output" == *"total: 1 producers, 1 runs, 300 events, 0 missing, 0 duplicates"* ]]
        # the replayed messages are the dead-lettered events, byte for
        # byte, with their Kafka timestamps
        diff <(jq -r '[.timestamp, .value] | @tsv' "$T/dead") \
                <(tail -n "$n" "$T/msgs" | cut -f4,5)
        [ "$(grep -c elsewhere "$T/after")" -eq 0 ]
}

@test "replay: a file mixing lines and events: lines through the transform again, events unchanged, truncated and non-records lost again" {
        mock_start -t netflow:1
        # a: 5 events never delivered, a line not JSON, one too long
        mock_cmd "down -1"
        { gen 5; echo 'not json'; gen 1 | sed 's/"tag"/"tag_padded_well_beyond_line_max"/'; } |
                "$KTP" -b "$BROKERS" -t netflow -o flush.timeout.ms=500 \
                -o line.max=240 --dead-letter "$T/dead" 2> "$T/err" || :
        counters "$T/err"
        [ "$failed" -eq 5 ]
        [ "$invalid" -eq 2 ]
        mock_cmd "up -1"
        # b: 4 events the schema refuses (dead-lettered as lines), 2 go
        broken_records "$SAMPLES/pmacctd-lo-json.jsonl" > "$T/in.b"
        "$KTP" -b "$BROKERS" -t netflow -o schema.dir="$ROOT/examples/schemas" \
                --dead-letter "$T/dead" < "$T/in.b" 2> "$T/err" || :
        counters "$T/err"
        [ "$invalid" -eq 4 ]
        [ "$delivered" -eq 2 ]
        cp "$T/dead" "$T/records"
        echo 'not a record' >> "$T/dead"
        [ "$(jq -r .reason "$T/records" | sort | uniq -c |
                awk '{ printf "%s=%s ", $2, $1 }')" = \
                "invalid=1 schema=4 shutdown=5 too_long=1 " ]
        # no schema now: the four refused become events of this run
        run "$KTP" -b "$BROKERS" -t netflow --replay "$T/dead" \
                --dead-letter "$T/dead2"
        [ "$status" -eq 3 ]
        counters <(echo "$output")
        [ "$read" -eq 12 ]
        [ "$delivered" -eq 9 ]
        [ "$invalid" -eq 3 ]
        [ "$(jq -r .reason "$T/dead2" | sort | tr '\n' ' ')" = \
                "invalid invalid too_long " ]
        [ "$(jq -r 'select(.reason == "too_long") | .message' "$T/dead2")" = \
                "truncated in the dead-letter file (too_long): cannot be replayed" ]
        [ "$(jq -r 'select(.reason == "too_long") | .truncated' "$T/dead2")" = true ]
        [ "$(jq -r 'select(.reason == "invalid") | .raw' "$T/dead2" |
                sort | tr '\n' '|')" = "not a record|not json|" ]
        [[ "$(jq -r 'select(.raw == "not a record") | "\(.line) \(.message)"' \
                "$T/dead2")" == "12 not a dead-letter record: "* ]]
        consume_values netflow > "$T/got"
        [ "$(wc -l < "$T/got")" -eq 11 ]
        # the five events unchanged, then the four lines numbered 1-4 by
        # the replay's run: the events before them took no number
        diff <(jq -r 'select(.reason == "shutdown") | .value' "$T/records") \
                <(sed -n 3,7p "$T/got")
        tail -n 4 "$T/got" > "$T/new"
        [ "$(jq -r .sequence "$T/new" | tr '\n' ' ')" = "1 2 3 4 " ]
        [ "$(jq -r .sequence_run "$T/new" | sort -u | wc -l)" -eq 1 ]
        [ "$(jq -r .bytesytes "$T/new" | head -1)" = 60 ] # refused before
        audit "$T/got"
        [ "$status" -eq 0 ]
        [[ "$output" == *"total: 1 producers, 3 runs, 11 events, 0 missing, 0 duplicates"* ]]
}

@test "replay: raw_base64, value_base64 and key_base64 give back their bytes" {
        mock_start -t t:1
        # a line that is not UTF-8: invalid, and invalid again, the same bytes
        printf '{"a": "\xff\xfe"}\n' > "$T/in"
        "$KTP" -b "$BROKERS" -t t --dead-letter "$T/dead" < "$T/in" 2> /dev/null || :
        [ "$(jq -r .raw_base64 "$T/dead")" = "$(head -c -1 "$T/in" | base64)" ]
        run "$KTP" -b "$BROKERS" -t t --replay "$T/dead" --dead-letter "$T/dead2"
        [ "$status" -eq 3 ]
        counters <(echo "$output")
        [ "$invalid" -eq 1 ]
        [ "$(jq -r .raw_base64 "$T/dead2")" = "$(jq -r .raw_base64 "$T/dead")" ]
        [ "$(jq -r .message "$T/dead2")" = "$(jq -r .message "$T/dead")" ]
        # an event of bytes that are not UTF-8 (as a binary encoding
        # would make), its key too: produced byte for byte
        printf 'v\x00\xff\x80z' > "$T/value"
        printf 'k\xfe' > "$T/key"
        jq -n -c --arg v "$(base64 < "$T/value")" --arg k "$(base64 < "$T/key")" \
                '{reason: "delivery", line: 1, truncated: false, raw: "",
                  topic: "t", key: "k?", key_base64: $k, timestamp: 1795000000123,
                  value: "v?", value_base64: $v}' > "$T/rec"
        run "$KTP" -b "$BROKERS" -t t --replay "$T/rec"
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$delivered" -eq 1 ]
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t t -o beginning -e -q \
                -f '%s' > "$T/got.value"
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t t -o beginning -e -q \
                -f '%k' > "$T/got.key"
        cmp "$T/value" "$T/got.value"
        cmp "$T/key" "$T/got.key"
        [ "$(consume t | cut -f4)" = 1795000000123 ]
}

@test "replay: --dead-letter naming the file replayed is refused, exit 1" {
        mock_start -t t:1
        echo '{"reason":"invalid","line":1,"truncated":false,"raw":"{}"}' > "$T/dead"
        cp "$T/dead" "$T/copy"
        run "$KTP" -b "$BROKERS" -t t --replay "$T/dead" --dead-letter "$T/dead"
        [ "$status" -eq 1 ]
        [[ "$output" == *"--replay $T/dead: it is this run's dead-letter file"* ]]
        ln "$T/dead" "$T/link"
        run "$KTP" -b "$BROKERS" -t t --replay - --dead-letter "$T/link" < "$T/dead"
        [ "$status" -eq 1 ]
        cmp "$T/dead" "$T/copy" # not written
        run "$KTP" -b "$BROKERS" -t t --replay "$T/none"
        [ "$status" -eq 1 ]
        [[ "$output" == *"--replay $T/none: No such file or directory"* ]]
}

@test "replay: events given up at the flush (shutdown) carry their event and replay" {
        mock_start -t t:1
        mock_cmd "down -1"
        gen 20 | "$KTP" -b "$BROKERS" -t t -o flush.timeout.ms=500 \
                --dead-letter "$T/dead" 2> "$T/err" || :
        counters "$T/err"
        [ "$failed" -eq 20 ]
        [ "$(jq -r .reason "$T/dead" | sort -u)" = shutdown ]
        [ "$(jq -r .value "$T/dead" | jq -r .sequence | tr '\n' ' ')" = \
                "$(seq 20 | tr '\n' ' ')" ]
        mock_cmd "up -1"
        # from standard input, as - says
        run "$KTP" -b "$BROKERS" -t t --replay - --dead-letter "$T/dead2" < "$T/dead"
        replayed_whole 20 "$T/dead"
}

@test "replay: an event the spool cannot send (its topic beyond topic.max) is dead-lettered as built, and replays" {
        mock_start -t t:1 -t u:1
        mock_cmd "down -1"
        gen 10 > "$T/in"
        run "$KTP" -b "$BROKERS" -t t -o spool.dir="$T/spool" \
                -X message.timeout.ms=1000 -o flush.timeout.ms=1000 \
                --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 4 ]
        counters <(echo "$output")
        [ "$kept" -eq 10 ]
        mock_cmd "up -1"
        # topic u takes the one topic: t's events cannot be sent
        run "$KTP" -b "$BROKERS" -t u -o topic.max=1 -o spool.dir="$T/spool" \
                --dead-letter "$T/dead2" < /dev/null
        [ "$status" -eq 3 ]
        counters <(echo "$output")
        [ "$carried" -eq 10 ]
        [ "$failed" -eq 10 ]
        [ "$(jq -r '[.reason, .topic] | @tsv' "$T/dead2" | sort -u)" = \
                "$(printf 'route\tt')" ]
        diff <(jq -r .raw "$T/dead2") "$T/in"
        run "$KTP" -b "$BROKERS" -t u --replay "$T/dead2" \
                --dead-letter "$T/dead3"
        replayed_whole 10 "$T/dead2"
}
