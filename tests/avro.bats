#!/usr/bin/env bats
# encoding = pnda-avro end to end (AVRO in the man page): every message
# decoded by Apache Avro's own libraries, Java (tests/avro/avro.sh, from
# Maven Central) and Python (Debian's python3-avro), which must print the
# same; rawdata against what encoding = json gives; the extension fields
# of examples/netflow-pnda.conf; Confluent's framing; a value that does
# not fit; the mistakes refused at start; avro-tools' fragtojson, PNDA's
# own check.  Every run checks read = delivered + failed + invalid +
# skipped.

load helpers
load records
load avro/helpers

setup_file() {
        avro_fetch
}

setup() {
        export TZ=UTC
        T=$BATS_TEST_TMPDIR
        SAMPLES=$ROOT/examples/samples
        PNDA=$ROOT/examples/schemas/pnda
        /usr/bin/python3 -c 'import avro.io' 2>/dev/null ||
                skip "no python3-avro (make deps)"
}

teardown() {
        proc_stop_all
        mock_stop
}

@test "--stdout: the samples decode with Java's and Python's Avro; rawdata is the event encoding = json gives" {
        for s in pmacctd-lo-json nfacctd-ipfix-epoch; do
                "$KTP" --stdout -o encoding=pnda-avro -o domain=t.example \
                        < "$SAMPLES/$s.jsonl" > "$T/frames" 2> "$T/err"
                counters "$T/err"
                [ "$exit" -eq 0 ]
                avro_decode "$PNDA/entity.avsc" < "$T/frames" > "$T/dec"
                [ "$(wc -l < "$T/dec")" -eq "$delivered" ]
                jq -r .rawdata "$T/dec" | jq -c -f "$ROOT/tests/mask.jq" > "$T/got"
                "$KTP" --stdout -o domain=t.example < "$SAMPLES/$s.jsonl" \
                        2> /dev/null | jq -c -f "$ROOT/tests/mask.jq" > "$T/want"
                [ -s "$T/want" ]
                diff "$T/want" "$T/got"
                # timestamp: the event time, as the event's dt says
                jq -r '[.timestamp, (.rawdata | fromjson | .dt)] | @tsv' "$T/dec" |
                        while IFS=$'\t' read -r ms dt; do
                                [ "$(date -u -d "@$((ms / 1000))" +%FT%T)" = "${dt%.*}" ]
                        done
                [ "$(jq -r .source "$T/dec" | sort -u)" = netflow ]
        done
}

@test "examples/netflow-pnda.conf on the mock cluster: topic avro.netflow.pmacct, extension fields as configured" {
        mock_start -t avro.netflow.pmacct:2
        s=$SAMPLES/nfacctd-ipfix-epoch.jsonl
        "$KTP" -c "$ROOT/examples/netflow-pnda.conf" -b "$BROKERS" < "$s" 2> "$T/err"
        counters "$T/err"
        [ "$exit" -eq 0 ]
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t avro.netflow.pmacct \
                -o beginning -e -q -f '%R%s' > "$T/frames"
        avro_decode "$PNDA/netflow.avsc" < "$T/frames" > "$T/dec"
        [ "$(wc -l < "$T/dec")" -eq "$delivered" ]
        [ "$(jq -r .source "$T/dec" | sort -u)" = pmacct ]
        [ "$(jq -r .collector "$T/dec" | sort -u)" = nfacctd ]
        # each record's own values, by its sequence number
        jq -c '(.rawdata | fromjson) as $e | [$e.sequence, .host_ip,
                .bytes, .packets, .tcp_flags]' "$T/dec" | sort -n -t, -k1.2 > "$T/got"
        grep '"purge"' "$s" | jq -c '[input_line_number, .peer_ip_src,
                .bytes, .packets, (.tcp_flags | tonumber)]' | jq -c '.[0] = null' > "$T/want0"
        jq -c '.[0] = null' "$T/got" | sort > "$T/got0"
        sort "$T/want0" | diff - "$T/got0"
}

@test "null unions: an absent or null field is null, a present one its value" {
        printf '%s\n' \
                '{"event_type": "purge", "peer_ip_src": "192.0.2.9", "bytes": 10, "packets": 1, "tcp_flags": "2"}' \
                '{"event_type": "purge", "peer_ip_src": null, "bytes": 20, "packets": 2}' \
                '{"event_type": "purge", "bytes": 30}' |
                "$KTP" --stdout -c "$ROOT/examples/netflow-pnda.conf" \
                -o dt.fallback=ingest > "$T/frames" 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 3 ]
        avro_decode "$PNDA/netflow.avsc" < "$T/frames" | jq -c '[.host_ip, .bytes, .packets, .tcp_flags]' > "$T/got"
        printf '%s\n' '["192.0.2.9",10,1,2]' '[null,20,2,null]' '[null,30,null,null]' | diff - "$T/got"
}

@test "Confluent framing: a 0 byte and the id before each datum; both decoders check it" {
        "$KTP" --stdout -o encoding=pnda-avro -o avro.registry.id=258 \
                < "$SAMPLES/pmacctd-lo-json.jsonl" > "$T/frames" 2> "$T/err"
        counters "$T/err"
        [ "$exit" -eq 0 ]
        # the first frame: length, then 00 00 00 01 02
        [ "$(head -c 9 "$T/frames" | tail -c 5 | od -An -tx1 | tr -d ' \n')" = 0000000102 ]
        avro_decode "$PNDA/entity.avsc" --confluent 258 < "$T/frames" > "$T/dec"
        [ "$(wc -l < "$T/dec")" -eq "$delivered" ]
        run /usr/bin/python3 "$ROOT/tests/avro/decode.py" "$PNDA/entity.avsc" --confluent 259 < "$T/frames"
        [ "$status" -eq 1 ]
        run /usr/bin/python3 "$ROOT/tests/avro/decode.py" "$PNDA/entity.avsc" < "$T/frames"
        [ "$status" -eq 1 ]
}

@test "a value that does not fit its field: invalid, reason encode, dead-lettered with the line; the rest delivered, exit 3" {
        printf '%s\n' \
                '{"event_type": "purge", "peer_ip_src": "192.0.2.9", "bytes": 10}' \
                '{"event_type": "purge", "peer_ip_src": "192.0.2.9", "bytes": "ten"}' \
                '{"event_type": "purge", "peer_ip_src": "192.0.2.9", "bytes": 1.5}' \
                '{"event_type": "purge", "peer_ip_src": 7, "bytes": 40}' \
                '{"event_type": "purge", "peer_ip_src": "192.0.2.9", "tcp_flags": "99999999999"}' |
                "$KTP" --stdout -c "$ROOT/examples/netflow-pnda.conf" \
                -o deadletter.file="$T/dl" -o dt.fallback=ingest \
                > "$T/frames" 2> "$T/err" || true
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$delivered" -eq 1 ]
        [ "$invalid" -eq 4 ]
        [ "$(jq -r .reason "$T/dl" | sort -u)" = encode ]
        [ "$(jq -r .line "$T/dl" | tr '\n' ' ')" = "2 3 4 5 " ]
        jq -r .message "$T/dl" > "$T/msgs"
        grep -q '^avro.field.bytes: field bytes does not fit type null or long$' "$T/msgs"
        grep -q '^avro.field.host_ip: field peer_ip_src does not fit type null or string$' "$T/msgs"
        grep -q '^avro.field.tcp_flags: field tcp_flags does not fit type null or int$' "$T/msgs"
        [ "$(jq -r .raw "$T/dl" | sed -n 2p)" = '{"event_type": "purge", "peer_ip_src": "192.0.2.9", "bytes": 1.5}' ]
        avro_decode "$PNDA/netflow.avsc" < "$T/frames" > "$T/dec"
        [ "$(jq -r .bytes "$T/dec")" = 10 ]
}

# refused ARGS... -- WANT: a start-up error, exit 1, before any input.
refused() {
        local args=() want
        while [ "$1" != -- ]; do args+=("$1"); shift; done
        want=$2
        run "$KTP" --stdout -o encoding=pnda-avro "${args[@]}" < /dev/null
        [ "$status" -eq 1 ] || { echo "status $status: $output"; return 1; }
        [[ "$output" == *"$want"* ]] || { echo "got: $output"; return 1; }
}

@test "mistakes refused at start, exit 1, with the key and the reason" {
        printf '%s' '{"type": "record", "name": "e", "fields": [{"name": "rawdata", "type": "bytes"}]}' > "$T/order.avsc"
        printf '%s' '{"type": "record", "name": "e", "fields": [{"name": "timestamp", "type": "long"}, {"name": "source", "type": "string"}, {"name": "rawdata", "type": "bytes"}, {"name": "x", "type": "long"}]}' > "$T/nodef.avsc"
        refused -o avro.schema="$T/none.avsc" -- "avro.schema $T/none.avsc: "
        refused -o avro.schema="$T/order.avsc" -- 'field 1 must be {"name": "timestamp", "type": "long"}'
        refused -o avro.schema="$T/nodef.avsc" -- "field x has no default: set avro.field.x"
        refused -o avro.schema="$T/nodef.avsc" -o avro.field.x=many -- "avro.field.x: many does not fit type long"
        refused -o avro.field.host_ip=1 -- "avro.field.host_ip: the schema has no extension field host_ip"
        refused -o avro.rawdata=raw -o anonymize.ip_src=truncate -- "avro.rawdata = raw: the input line would reach Kafka"
        refused -c "$ROOT/examples/netflow-pnda.conf" -o anonymize.peer_ip_src=hash -- "avro.field.host_ip: %{field:peer_ip_src} reads an anonymized field"
        refused -o avro.rawdata=json -- "avro.rawdata"
        refused -o encoding=avro -- "encoding"
}

@test "avro.rawdata = raw: the input line byte for byte; avro.timestamp = ingest: when it was read" {
        before=$(($(date +%s%3N) - 1))
        "$KTP" --stdout -o encoding=pnda-avro -o avro.rawdata=raw \
                -o avro.timestamp=ingest < "$SAMPLES/pmacctd-lo-json.jsonl" \
                > "$T/frames" 2> "$T/err"
        after=$(($(date +%s%3N) + 1))
        counters "$T/err"
        avro_decode "$PNDA/entity.avsc" < "$T/frames" > "$T/dec"
        jq -r .rawdata "$T/dec" > "$T/got"
        grep '"event_type": "purge"' "$SAMPLES/pmacctd-lo-json.jsonl" | diff - "$T/got"
        jq -r .timestamp "$T/dec" | while read -r ms; do
                [ "$ms" -ge "$before" ] && [ "$ms" -le "$after" ]
        done
}

@test "avro-tools fragtojson (PNDA's check) reads a message consumed with kcat -f '%s'" {
        mock_start -t avro.netflow.pmacct:1
        "$KTP" -c "$ROOT/examples/netflow-pnda.conf" -b "$BROKERS" \
                < "$SAMPLES/pmacctd-lo-json.jsonl" 2> "$T/err"
        counters "$T/err"
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t avro.netflow.pmacct \
                -o beginning -c 1 -e -q -f '%s' > "$T/one.avro"
        run env BUILD="$BUILD" "$ROOT/tests/avro/avro.sh" fragtojson "$PNDA/netflow.avsc" "$T/one.avro"
        [ "$status" -ne 77 ] || skip "no avro-tools: $output"
        [ "$status" -eq 0 ]
        echo "$output" | grep -v WARN | jq -e '.source == "pmacct" and .collector == "nfacctd" and (.timestamp | type) == "number"'
}

# lossy_run TOPIC: 300 records (in $T/in) to TOPIC as Avro, two produce
# requests failed by the mock: n records dead-lettered in $T/dead.
lossy_run() {
        mock_cmd "errors 2 MSG_SIZE_TOO_LARGE"
        gen 300 > "$T/in"
        run "$KTP" -b "$BROKERS" -t avro -o encoding=pnda-avro \
                -X batch.num.messages=10 --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        counters <(echo "$output")
        n=$failed
        [ "$n" -ge 1 ]
}

@test "delivery failures: the Avro value dead-lettered as value_base64; --replay produces the same bytes, all decode" {
        mock_start -t avro:1
        lossy_run avro
        # binary: "value" is text with U+FFFD for bad bytes, the bytes
        # are in "value_base64"
        [ "$(jq -r '[.reason, (.value_base64 | type)] | @tsv' "$T/dead" | sort -u)" = \
                "$(printf 'delivery\tstring')" ]
        jq -r .value_base64 "$T/dead" | while read -r b; do
                printf '%s' "$b" | base64 -d | wc -c | awk '{ printf "%c%c%c%c", int($1 / 16777216) % 256, int($1 / 65536) % 256, int($1 / 256) % 256, $1 % 256 }'
                printf '%s' "$b" | base64 -d
        done > "$T/dead.frames"
        run "$KTP" -b "$BROKERS" -t elsewhere --replay "$T/dead" --dead-letter "$T/dead2"
        [ "$status" -eq 0 ]
        [ ! -s "$T/dead2" ]
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t avro -o beginning -e -q -f '%R%s' > "$T/frames"
        avro_decode "$PNDA/entity.avsc" < "$T/frames" > "$T/dec"
        [ "$(wc -l < "$T/dec")" -eq 300 ]
        # the replayed are the dead-lettered bytes: the last n messages
        avro_decode "$PNDA/entity.avsc" < "$T/dead.frames" > "$T/dead.dec"
        [ "$(wc -l < "$T/dead.dec")" -eq "$n" ]
        tail -n "$n" "$T/dec" | diff "$T/dead.dec" -
        # every sequence number once
        [ "$(jq -r '.rawdata | fromjson | .sequence' "$T/dec" | sort -n | uniq | wc -l)" -eq 300 ]
}

@test "--audit --avro: the loss audit of an Avro topic reads rawdata; Confluent framing too" {
        mock_start -t avro:2 -t framed:1
        lossy_run avro
        run "$KTP" --audit -b "$BROKERS" -t avro --avro
        [ "$status" -eq 3 ]
        [[ "$output" == *"total: 1 producers, 1 runs, $((300 - n)) events, $n missing, 0 duplicates"* ]]
        # without --avro, no message is an event
        run "$KTP" --audit -b "$BROKERS" -t avro
        [ "$status" -eq 1 ]
        run "$KTP" -b "$BROKERS" --replay "$T/dead"
        [ "$status" -eq 0 ]
        run "$KTP" --audit -b "$BROKERS" -t avro --avro --json
        [ "$status" -eq 0 ]
        gen 50 | "$KTP" -b "$BROKERS" -t framed -o encoding=pnda-avro \
                -o avro.registry.id=0 2> "$T/err"
        run "$KTP" --audit -b "$BROKERS" -t framed --avro
        [ "$status" -eq 0 ]
        [[ "$output" == *"50 events, 0 missing"* ]]
        run "$KTP" --audit "$T/in" --avro
        [ "$status" -eq 1 ]
        [[ "$output" == *"--avro reads topics"* ]]
}

@test "spool.mode = always: Avro values through the spool's frames, all delivered and decoded" {
        mock_start -t avro:2
        gen 2000 | "$KTP" -b "$BROKERS" -t avro -o encoding=pnda-avro \
                -o avro.registry.id=9 -o spool.dir="$T/spool" \
                -o spool.mode=always 2> "$T/err"
        counters "$T/err"
        [ "$exit" -eq 0 ]
        [ "$delivered" -eq 2000 ]
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t avro -o beginning -e -q -f '%R%s' > "$T/frames"
        avro_decode "$PNDA/entity.avsc" --confluent 9 < "$T/frames" > "$T/dec"
        [ "$(jq -r '.rawdata | fromjson | .sequence' "$T/dec" | sort -n | uniq | wc -l)" -eq 2000 ]
}

@test "validation with Avro: the valid as Avro, the refused as JSON error events on error.topic" {
        mock_start -t avro:1 -t errors:1
        { gen 3; echo '{"event_type": "purge", "tag": 1, "bytes": -5}'; } |
                "$KTP" -b "$BROKERS" -t avro -c "$ROOT/examples/netflow.conf" \
                -o encoding=pnda-avro -o error.topic=errors 2> "$T/err" || true
        counters "$T/err"
        [ "$delivered" -eq 3 ]
        [ "$invalid" -eq 1 ]
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t avro -o beginning -e -q -f '%R%s' > "$T/frames"
        [ "$(avro_decode "$PNDA/entity.avsc" < "$T/frames" | wc -l)" -eq 3 ]
        consume_values errors | jq -e -s 'length == 1 and (.[0].raw_event | fromjson | .bytes) == -5'
}
